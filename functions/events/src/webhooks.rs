//! The deployment's webhook: each event (`comment.created`, `comment.held`,
//! `signup.confirmed`, `pledge.succeeded`, `pledge.failed`, `petition.goal_reached`) is
//! queued in the outbox under its own cause and POSTed from there, so a receiver that is
//! down is retried by the stream and then by the schedule, and an event is delivered
//! once however often its record comes round (a receiver should still drop repeats by
//! `id`: a delivery whose answer was lost is sent again).
//!
//! Each call is signed as Stripe and GitHub sign theirs: `Rally-Signature:
//! t={unix seconds},v1={hex HMAC-SHA256 of "{t}.{body}" under the webhook secret}`.

use std::sync::Arc;
use std::time::Duration;

use app::store::{Claim, MailOutcome, OutboxItem, WebhookCall};
use app::time as t;
use hmac::{KeyInit, Mac};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

use crate::{Events, RecordError, Sent};

/// How long one call may take before it counts as failed.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// The client, built on the first call: the system's CA roots are read only by a
/// function that has a webhook to call, never at start-up.
pub(crate) fn client() -> Result<HttpClient, RecordError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| RecordError::Unavailable(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let https = hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls).https_or_http().enable_http1().build();
    Ok(Client::builder(TokioExecutor::new()).build(https))
}

/// The signature header's value for `body` sent at `at` (unix seconds).
pub fn signature(secret: &str, at: i64, body: &str) -> String {
    let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{at}.{body}").as_bytes());
    let tag: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={at},v1={tag}")
}

impl Events {
    /// Queues `event` about `data` for the webhook, once per `key`; nothing without one.
    pub(crate) async fn hook(&self, event: &str, key: &str, data: Value) -> Result<(), RecordError> {
        if self.app.config.webhook.is_none() {
            return Ok(());
        }
        let now = self.app.clock.now();
        let cause = app::store::keys::hook_cause(event, key);
        let id = format!("evt_{}", &app::config::sha256_hex(cause.as_bytes())[..32]);
        let body = json!({ "id": id, "type": event, "created": t::format(now), "data": data }).to_string();
        let call = WebhookCall { id, event: event.to_owned(), body };
        Ok(self.app.store.queue_once(&OutboxItem::webhook(&cause, call, now)).await?)
    }

    /// POSTs a queued call once for `cause` (see `send_once` for the claim). A receiver
    /// that fails or answers other than 2xx is tried again later.
    pub(crate) async fn post_once(&self, cause: &str, call: WebhookCall) -> Result<Sent, RecordError> {
        let store = &self.app.store;
        let Some(webhook) = self.app.config.webhook.clone() else {
            // The webhook was turned off since: nothing will ever send it.
            store.mail_done(cause, MailOutcome::Refused("no webhook configured"), self.app.clock.now()).await?;
            return Ok(Sent::Refused);
        };
        let claim = store.claim_mail(cause, self.app.clock.now()).await?;
        if claim != Claim::Claimed {
            return Ok(Sent::Already(claim));
        }
        match self.post(&webhook, &call).await {
            Ok(()) => {
                store.mail_done(cause, MailOutcome::Sent, self.app.clock.now()).await?;
                Ok(Sent::Delivered)
            }
            Err(why) => {
                store.release_mail(cause).await?;
                Err(RecordError::Unavailable(format!("webhook {}: {why}", call.event)))
            }
        }
    }

    async fn post(&self, webhook: &app::config::Webhook, call: &WebhookCall) -> Result<(), String> {
        let client = self.webhook_client().await.map_err(|e| e.to_string())?;
        let at = self.app.clock.now().unix_timestamp();
        let request = hyper::Request::post(&webhook.url)
            .header("content-type", "application/json")
            .header("user-agent", "Rally-Webhook/1")
            .header("rally-event-id", &call.id)
            .header("rally-event-type", &call.event)
            .header("rally-signature", signature(&webhook.secret, at, &call.body))
            .body(Full::new(Bytes::from(call.body.clone())))
            .map_err(|e| e.to_string())?;
        let answer = tokio::time::timeout(CALL_TIMEOUT, client.request(request))
            .await
            .map_err(|_| format!("no answer within {CALL_TIMEOUT:?}"))?
            .map_err(|e| e.to_string())?;
        if answer.status().is_success() { Ok(()) } else { Err(format!("answered {}", answer.status())) }
    }

    async fn webhook_client(&self) -> Result<HttpClient, RecordError> {
        if let Some(client) = self.webhook_client.get() {
            return Ok(client.clone());
        }
        let client = client()?;
        Ok(self.webhook_client.get_or_init(|| client).clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_an_hmac_of_the_time_and_the_body() {
        // As a receiver would check it, with the secret and the raw body.
        let header = signature("whsec", 1_700_000_000, "{\"a\":1}");
        let (t, v1) = header.split_once(',').unwrap();
        assert_eq!(t, "t=1700000000");
        let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(b"whsec").unwrap();
        mac.update(b"1700000000.{\"a\":1}");
        let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(v1, format!("v1={hex}"));
        assert_ne!(signature("other", 1_700_000_000, "{\"a\":1}"), header);
    }
}
