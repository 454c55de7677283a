//! Mail goes through one [`Mailer`]: an outbox in the local stack (shown at
//! `GET /_dev/outbox`), Amazon SES when deployed.

use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::error::ApiError;

#[derive(Debug, Clone, Serialize)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub links: Vec<String>,
    pub sent_at: String,
}

pub trait Mailer: Send + Sync {
    fn send(&self, mail: Mail) -> futures::future::BoxFuture<'_, Result<(), ApiError>>;
}

/// The local stack's mailer: keeps every mail, newest first.
#[derive(Default, Clone)]
pub struct Outbox {
    mails: Arc<Mutex<Vec<Mail>>>,
}

impl Outbox {
    pub fn mails(&self) -> Vec<Mail> {
        let mails = self.mails.lock().expect("outbox lock");
        mails.iter().rev().cloned().collect()
    }
}

impl Mailer for Outbox {
    fn send(&self, mail: Mail) -> futures::future::BoxFuture<'_, Result<(), ApiError>> {
        self.mails.lock().expect("outbox lock").push(mail);
        Box::pin(async { Ok(()) })
    }
}

/// For functions that send no mail.
pub struct NoMail;

impl Mailer for NoMail {
    fn send(&self, _mail: Mail) -> futures::future::BoxFuture<'_, Result<(), ApiError>> {
        Box::pin(async { Err(ApiError::Internal("this function is not configured to send mail".into())) })
    }
}

/// Amazon SES (v2), from the sender the stack is configured with (`MAIL_SENDER`).
#[cfg(feature = "ses")]
pub struct Ses {
    client: aws_sdk_sesv2::Client,
    from: String,
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
        Ok(Self { client: aws_sdk_sesv2::Client::from_conf(config), from })
    }
}

#[cfg(feature = "ses")]
impl Mailer for Ses {
    fn send(&self, mail: Mail) -> futures::future::BoxFuture<'_, Result<(), ApiError>> {
        use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
        Box::pin(async move {
            let content = |text: &str| Content::builder().data(text).charset("UTF-8").build();
            let message = Message::builder()
                .subject(content(&mail.subject).map_err(|e| ApiError::Internal(e.into()))?)
                .body(Body::builder().text(content(&mail.text).map_err(|e| ApiError::Internal(e.into()))?).build())
                .build();
            self.client
                .send_email()
                .from_email_address(&self.from)
                .destination(Destination::builder().to_addresses(&mail.to).build())
                .content(EmailContent::builder().simple(message).build())
                .send()
                .await
                .map_err(|err| ApiError::Unavailable(Box::new(err)))?;
            Ok(())
        })
    }
}
