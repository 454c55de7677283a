//! What SES says about mail after sending it, from the configuration set's SNS topic:
//! an address that bounced for good or whose holder reported the mail as spam is
//! suppressed, and Rally never mails it again (the export shows why).

use app::campaign::address_key;
use app::comment::Email;
use serde_json::Value;

use crate::{Events, RecordError};

impl Events {
    /// One SNS message from the SES configuration set (event publishing, `eventType`,
    /// or identity notifications, `notificationType`).
    pub(crate) async fn on_ses_feedback(&self, message: &str) -> Result<(), RecordError> {
        let event: Value = serde_json::from_str(message).map_err(|e| RecordError::Unreadable(e.to_string()))?;
        let kind = event.get("eventType").or_else(|| event.get("notificationType")).and_then(Value::as_str);
        let (reason, recipients) = match kind {
            // A transient bounce (a full mailbox) says nothing lasting about the address.
            Some("Bounce") if event["bounce"]["bounceType"] == "Permanent" => {
                ("bounced", &event["bounce"]["bouncedRecipients"])
            }
            Some("Complaint") => ("complained", &event["complaint"]["complainedRecipients"]),
            _ => return Ok(()),
        };
        let now = self.app.clock.now();
        for recipient in recipients.as_array().into_iter().flatten() {
            let Some(raw) = recipient["emailAddress"].as_str() else { continue };
            // SES may write `Name <address>`.
            let raw = raw.rsplit_once('<').map_or(raw, |(_, rest)| rest.trim_end_matches('>'));
            let Ok(email) = Email::parse(raw) else { continue };
            self.app.store.suppress(&address_key(&email, &self.app.config.ip_hash_salt), reason, now).await?;
            tracing::info!(reason, "an address was suppressed on SES's word");
        }
        Ok(())
    }
}
