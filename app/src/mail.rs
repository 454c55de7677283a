//! Mail goes through one [`Mailer`]: an outbox in the local stack (shown at
//! `GET /_dev/outbox`), Amazon SES when deployed.

use std::sync::{Arc, Mutex};

pub use domain::mail::Mail;

/// Why a mail did not go out.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// It may go out later (throttling, an outage, a paused account): try again.
    #[error("the mailer is unavailable: {0}")]
    Unavailable(String),
    /// It never will (a rejected or suppressed address, a sender that is not allowed).
    #[error("the mailer refused the mail: {0}")]
    Refused(String),
}

/// Sends one mail. Only the events function sends mail; requests queue it.
pub trait Mailer: Send + Sync {
    fn send(&self, mail: Mail) -> futures::future::BoxFuture<'_, Result<(), MailError>>;
}

/// The local stack's mailer: keeps every mail, newest first. It can be told to fail,
/// as SES does when it throttles or is away, to show that no mail is lost for it.
#[derive(Default, Clone)]
pub struct Outbox {
    mails: Arc<Mutex<Vec<Mail>>>,
    failing: Arc<std::sync::atomic::AtomicUsize>,
}

impl Outbox {
    pub fn mails(&self) -> Vec<Mail> {
        let mails = self.mails.lock().expect("outbox lock");
        mails.iter().rev().cloned().collect()
    }

    /// The next `sends` sends fail as unavailable (0 ends a failure now).
    pub fn fail_next(&self, sends: usize) {
        self.failing.store(sends, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Mailer for Outbox {
    fn send(&self, mail: Mail) -> futures::future::BoxFuture<'_, Result<(), MailError>> {
        use std::sync::atomic::Ordering;
        let failed = self.failing.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
        if failed {
            return Box::pin(async { Err(MailError::Unavailable("the local outbox was told to fail".into())) });
        }
        // When it went, as a mail server would stamp it.
        let mail = Mail { sent_at: crate::time::format(crate::time::now()), ..mail };
        self.mails.lock().expect("outbox lock").push(mail);
        Box::pin(async { Ok(()) })
    }
}

/// For functions that send no mail.
pub struct NoMail;

impl Mailer for NoMail {
    fn send(&self, _mail: Mail) -> futures::future::BoxFuture<'_, Result<(), MailError>> {
        Box::pin(async { Err(MailError::Unavailable("this function is not configured to send mail".into())) })
    }
}

/// Amazon SES (v2), from the sender the stack is configured with (`MAIL_SENDER`).
#[cfg(feature = "ses")]
pub struct Ses {
    client: aws_sdk_sesv2::Client,
    from: String,
    /// The configuration set whose event destination reports bounces and complaints
    /// (`SES_CONFIGURATION_SET`).
    configuration_set: Option<String>,
}

#[cfg(feature = "ses")]
impl Ses {
    pub async fn from_env() -> Result<Self, crate::config::ConfigError> {
        let from = std::env::var("MAIL_SENDER")
            .ok()
            .filter(|s| !s.trim().is_empty())
            .ok_or(crate::config::ConfigError::Missing("MAIL_SENDER"))?;
        let config = aws_sdk_sesv2::Config::builder()
            .behavior_version(aws_sdk_sesv2::config::BehaviorVersion::latest())
            .region(crate::store::aws::region())
            .credentials_provider(crate::store::aws::credentials())
            .http_client(crate::store::aws::http_client())
            .build();
        let configuration_set = std::env::var("SES_CONFIGURATION_SET").ok().filter(|s| !s.trim().is_empty());
        Ok(Self { client: aws_sdk_sesv2::Client::from_conf(config), from, configuration_set })
    }
}

#[cfg(feature = "ses")]
impl Mailer for Ses {
    fn send(&self, mail: Mail) -> futures::future::BoxFuture<'_, Result<(), MailError>> {
        use aws_sdk_sesv2::error::ProvideErrorMetadata;
        use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message, MessageHeader};
        Box::pin(async move {
            let bug = |e: aws_sdk_sesv2::error::BuildError| MailError::Refused(e.to_string());
            let content = |text: &str| Content::builder().data(text).charset("UTF-8").build();
            let headers = mail
                .headers
                .iter()
                .map(|(name, value)| MessageHeader::builder().name(name).value(value).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(bug)?;
            let message = Message::builder()
                .subject(content(&mail.subject).map_err(bug)?)
                .body(Body::builder().text(content(&mail.text).map_err(bug)?).build())
                .set_headers(Some(headers))
                .build();
            let sent = self
                .client
                .send_email()
                .from_email_address(&self.from)
                .set_configuration_set_name(self.configuration_set.clone())
                .destination(Destination::builder().to_addresses(&mail.to).build())
                .content(EmailContent::builder().simple(message).build())
                .send()
                .await;
            match sent {
                Ok(_) => Ok(()),
                // SES's answers that no retry changes: the address or the message is refused.
                Err(err)
                    if matches!(err.code(), Some("MessageRejected" | "BadRequestException" | "NotFoundException")) =>
                {
                    Err(MailError::Refused(err.code().unwrap_or_default().to_owned()))
                }
                Err(err) => Err(MailError::Unavailable(err.to_string())),
            }
        })
    }
}
