//! The events function: what follows from a write. It is fed by the table's stream
//! (the `DynamoDB` event of `infra/template.yaml`, whose filter passes only the items
//! it acts on) and sends every mail Rally sends, so a request never waits on the mailer
//! and a mailer's hiccup is retried by the stream instead of lost.
//!
//! A batch answers which record failed first (`batchItemFailures`, with
//! `ReportBatchItemFailures` on): Lambda retries from that record, so the records before
//! it are never seen again, and one that keeps failing is bisected down to itself and,
//! past the retry limit, sent to the failure queue, never blocking its shard.
//!
//! Its schedule (the `Schedule` event) sends what the stream gave up on: every outbox
//! item still there a while after it was queued (see `store::outbox`).

mod comments;
mod feedback;
mod petitions;
mod pledges;
pub mod webhooks;

use std::collections::HashMap;
use std::sync::Arc;

use app::App;
use app::campaign::address_key;
use app::comment::Email;
use app::mail::{Mail, MailError, Mailer};
use app::store::keys;
use app::store::mailbox::Mailbox;
use app::store::{Claim, Comment, Job, MailOutcome, OutboxItem, Signup, StoreError};
use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use aws_sdk_dynamodb::types::AttributeValue;

/// Everything the function needs, built once per process.
#[derive(Clone)]
pub struct Events {
    pub app: App,
    pub mailer: Arc<dyn Mailer>,
    webhook_client: Arc<std::sync::OnceLock<webhooks::HttpClient>>,
}

/// Why a record could not be handled now; it is retried.
#[derive(Debug)]
pub enum RecordError {
    /// The record does not read as what the filter let through: a bug or corruption.
    Unreadable(String),
    /// The store or the mailer failed; a retry may succeed.
    Unavailable(String),
}

impl std::error::Error for RecordError {}

/// What became of a message given to `send_once` or `post_once`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sent {
    /// It went out now.
    Delivered,
    /// It never will (a suppressed address, the mailer's refusal), and is recorded so.
    Refused,
    /// Its cause was claimed before: sent or refused already, or being sent.
    Already(Claim),
}

/// What a sweep of the outbox found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Swept {
    /// Pledges settled because their deadline passed.
    pub settled: usize,
    /// Outbox items the stream had not delivered, and how many of them failed again.
    pub found: usize,
    pub failed: usize,
}

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unreadable(why) => write!(f, "unreadable record: {why}"),
            Self::Unavailable(why) => write!(f, "unavailable: {why}"),
        }
    }
}

impl From<StoreError> for RecordError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Corrupt(why) => Self::Unreadable(why),
            other => Self::Unavailable(other.to_string()),
        }
    }
}

impl Events {
    pub fn new(app: App, mailer: Arc<dyn Mailer>) -> Self {
        Self { app, mailer, webhook_client: Arc::default() }
    }

    /// From the environment, with Amazon SES as the mailer.
    pub async fn from_env() -> Result<Self, app::config::ConfigError> {
        let app = App::from_env().await?;
        let mailer = Arc::new(app::mail::Ses::from_env().await?);
        Ok(Self::new(app, mailer))
    }

    /// One invocation, whatever invoked it: SES's feedback through SNS suppresses
    /// addresses; a stream batch (`Records`) is answered with its first failure; the schedule (an EventBridge `Scheduled Event`) sweeps the
    /// outbox; anything else is refused, so a misrouted event fails loudly.
    pub async fn handle(&self, payload: serde_json::Value) -> Result<serde_json::Value, lambda_http::Error> {
        let first_source = payload.pointer("/Records/0/EventSource").and_then(|s| s.as_str());
        if first_source == Some("aws:sns") {
            // SES's feedback; a failure fails the invocation, and SNS delivers it again.
            for record in payload["Records"].as_array().into_iter().flatten() {
                let message = record.pointer("/Sns/Message").and_then(|m| m.as_str()).unwrap_or_default();
                self.on_ses_feedback(message).await?;
            }
            return Ok(serde_json::json!({}));
        }
        if payload.get("Records").is_some() {
            let batch: Event = serde_json::from_value(payload)?;
            return Ok(serde_json::to_value(self.on_stream(batch).await)?);
        }
        if payload.get("source").and_then(|s| s.as_str()) == Some("aws.events")
            && payload.get("detail-type").and_then(|s| s.as_str()) == Some("Scheduled Event")
        {
            let swept = self.on_schedule().await?;
            return Ok(serde_json::to_value(swept)?);
        }
        Err(format!("the events function does not handle this event: {}", preview(&payload)).into())
    }

    /// Settles the pledges whose deadline has passed, then sends every outbox item the
    /// stream gave up on. A mail that fails again stays for the next run; the answer
    /// says how many there were.
    pub async fn on_schedule(&self) -> Result<Swept, RecordError> {
        let settled = self.settle_past_deadlines().await?;
        let stale = self.app.store.stale_outbox(self.app.clock.now()).await?;
        let mut swept = Swept { settled, found: stale.len(), failed: 0 };
        for cause in stale {
            if let Err(err) = self.deliver(&cause).await {
                tracing::error!(cause, error = %err, "a mail the stream missed failed again; the next sweep tries it");
                swept.failed += 1;
            }
        }
        if swept.found > 0 {
            tracing::warn!(found = swept.found, failed = swept.failed, "swept mails the stream had not delivered");
        }
        Ok(swept)
    }

    /// A stream batch, in order, stopping at the first record that fails.
    pub async fn on_stream(&self, batch: Event) -> DynamoDbEventResponse {
        let mut response = DynamoDbEventResponse::default();
        for record in &batch.records {
            if let Err(err) = self.on_record(record).await {
                let sequence = record.change.sequence_number.clone();
                tracing::error!(
                    event_id = %record.event_id,
                    sequence_number = sequence.as_deref().unwrap_or_default(),
                    keys = %keys_of(record),
                    error = %err,
                    "stream record failed; it is retried, and sent to the failure queue past the retry limit",
                );
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = sequence;
                response.batch_item_failures.push(failure);
                break;
            }
        }
        response
    }

    async fn on_record(&self, record: &EventRecord) -> Result<(), RecordError> {
        let pk = string_key(record, keys::PK).unwrap_or_default();
        let sk = string_key(record, keys::SK).unwrap_or_default();
        let image = || -> HashMap<String, AttributeValue> { record.change.new_image.clone().into() };
        // Written by `rally restore`: what it holds happened on the stack it came from.
        if record.change.new_image.get(keys::RESTORED).is_some() {
            tracing::debug!(event = %record.event_name, pk, "a restored item: nothing to do");
            return Ok(());
        }
        match record.event_name.as_str() {
            "INSERT" if pk.starts_with(keys::OUTBOX_PREFIX) => {
                self.deliver(&OutboxItem::from_image(image())?.cause).await
            }
            "INSERT" if sk.starts_with(keys::SIGNUP_PREFIX) => {
                let signup = Signup::from_image(image())?;
                self.hook_signup(&signup).await?;
                match signup.campaign() {
                    Some((app::campaign::Kind::Pledge, _)) => self.on_pledge_signup(signup).await,
                    Some((app::campaign::Kind::Petition, _)) => self.on_petition_signup(signup).await,
                    None => Err(RecordError::Unreadable("a signup outside any campaign's shard".into())),
                }
            }
            "INSERT" | "MODIFY" if pk.starts_with(keys::JOB_PREFIX) => self.on_job(Job::from_image(image())?).await,
            "INSERT" if pk.starts_with(keys::MAILBOX_PREFIX) => self.on_mailbox(Mailbox::from_image(image())?).await,
            "INSERT" if pk.starts_with("POST#") && sk.starts_with(keys::PUBLIC_COMMENT) => {
                self.on_shown_comment(Comment::from_image(image())?).await
            }
            "INSERT" if pk.starts_with("POST#") && sk.starts_with(keys::HIDDEN_COMMENT) => {
                self.on_held_comment(Comment::from_image(image())?).await
            }
            // The template's filter passes nothing else; a record that gets here anyway
            // is no work, not a failure.
            _ => {
                tracing::debug!(event = %record.event_name, pk, "stream record with nothing to do");
                Ok(())
            }
        }
    }

    /// Sends a queued mail once (see `store::outbox`): the outbox item must still be
    /// there (an erasure removes it).
    async fn deliver(&self, cause: &str) -> Result<(), RecordError> {
        let store = &self.app.store;
        let Some(current) = store.outbox_item(cause).await? else {
            return Ok(());
        };
        let sent = match (current.mail, current.webhook) {
            (Some(mail), _) => self.send_once(&current.cause, mail).await?,
            (None, Some(call)) => self.post_once(&current.cause, call).await?,
            (None, None) => return Err(RecordError::Unreadable("an outbox item with nothing to send".into())),
        };
        match (sent, &current.update) {
            (Sent::Delivered, Some(update)) => store.count_update_mail(update, true).await?,
            (Sent::Refused, Some(update)) => store.count_update_mail(update, false).await?,
            (Sent::Already(Claim::Finished), _) => store.drop_queued(&current.cause).await?,
            _ => {}
        }
        Ok(())
    }

    /// Sends `mail` once for `cause`: not if the cause was claimed before, not to an
    /// address that stopped all mail or bounced. A send that may succeed later gives
    /// the claim back and fails, so the stream (or the sweep) tries again; one the
    /// mailer will never take is recorded and not retried.
    pub(crate) async fn send_once(&self, cause: &str, mail: Mail) -> Result<Sent, RecordError> {
        let store = &self.app.store;
        let claim = store.claim_mail(cause, self.app.clock.now()).await?;
        if claim != Claim::Claimed {
            return Ok(Sent::Already(claim));
        }
        let refused = match Email::parse(&mail.to) {
            Err(_) => Some("not an address".to_owned()),
            Ok(to) if store.suppressed(&address_key(&to, &self.app.config.ip_hash_salt)).await? => {
                Some("suppressed".to_owned())
            }
            Ok(_) => match self.pace().await {
                Err(err) => {
                    store.release_mail(cause).await?;
                    return Err(err);
                }
                Ok(()) => match self.mailer.send(mail).await {
                    Ok(()) => None,
                    Err(MailError::Refused(why)) => Some(why),
                    Err(MailError::Unavailable(why)) => {
                        store.release_mail(cause).await?;
                        return Err(RecordError::Unavailable(why));
                    }
                },
            },
        };
        let outcome = match &refused {
            None => {
                tracing::info!(cause, "mail sent");
                MailOutcome::Sent
            }
            Some(why) => {
                tracing::warn!(cause, reason = %why, "a mail was not sent and is not retried");
                MailOutcome::Refused(why)
            }
        };
        store.mail_done(cause, outcome, self.app.clock.now()).await?;
        Ok(if refused.is_none() { Sent::Delivered } else { Sent::Refused })
    }

    /// The API's own address for links: `PUBLIC_URL` (the template gives the events
    /// function the API's address when no other is configured).
    pub(crate) fn base_url(&self) -> &str {
        self.app.config.public_url.as_deref().unwrap_or_default()
    }

    /// The link that stops all mail to `address` (an address key), and the headers
    /// that offer it in one click (RFC 8058), for every mail it did not ask for itself.
    pub(crate) fn unsubscribe(&self, address: &str) -> (String, std::collections::BTreeMap<String, String>) {
        let token = self.app.store.mailbox_token(address, app::store::mailbox::LinkPurpose::Unsubscribe);
        let link = format!("{}/unsubscribe/{token}", self.base_url());
        let headers = std::collections::BTreeMap::from([
            ("List-Unsubscribe".to_owned(), format!("<{link}>")),
            ("List-Unsubscribe-Post".to_owned(), "List-Unsubscribe=One-Click".to_owned()),
        ]);
        (link, headers)
    }

    /// Waits for one of the deployment's sends (`MAIL_RATE` a second, shared by every
    /// invocation); after half a minute without one, the record is retried later.
    async fn pace(&self) -> Result<(), RecordError> {
        for _ in 0..30 {
            let now = time::OffsetDateTime::now_utc();
            if self.app.store.take_send_slot(self.app.config.mail_rate, now.unix_timestamp()).await? {
                return Ok(());
            }
            let rest_of_second = 1_000 - u64::from(now.millisecond());
            tokio::time::sleep(std::time::Duration::from_millis(rest_of_second + 5)).await;
        }
        Err(RecordError::Unavailable("the mail rate is taken for the next half minute".into()))
    }
}

impl Events {
    /// `signup.confirmed`: what the organiser receives in the export, the address only
    /// if the deployment says so.
    async fn hook_signup(&self, signup: &Signup) -> Result<(), RecordError> {
        let Some((kind, slug)) = signup.campaign() else { return Ok(()) };
        let d = &signup.details;
        let mut data = serde_json::json!({
            "kind": kind.as_str(), "campaign": slug.as_ref(), "name": d.name, "country": d.country,
            "amount": d.amount, "public": d.public, "confirmed_at": signup.confirmed_at,
        });
        if self.app.config.webhook.as_ref().is_some_and(|w| w.include_email) {
            data["email"] = signup.email.clone().into();
        }
        let about = format!("{}#{slug}#{}", kind.as_str(), signup.signer());
        self.hook("signup.confirmed", &about, data).await
    }
}

fn string_key(record: &EventRecord, name: &str) -> Option<String> {
    match record.change.keys.get(name) {
        Some(serde_dynamo::AttributeValue::S(value)) => Some(value.clone()),
        _ => None,
    }
}

/// A record's keys for a log line: which item, never what it holds.
fn keys_of(record: &EventRecord) -> String {
    format!("{}|{}", string_key(record, keys::PK).unwrap_or_default(), string_key(record, keys::SK).unwrap_or_default())
}

fn preview(payload: &serde_json::Value) -> String {
    let text = payload.to_string();
    text.chars().take(200).collect()
}
