//! An address's standing with Rally, by its address key (a salted hash of the
//! normalised address): whether its holder confirmed they want reply notifications,
//! and whether it must never be mailed again (they unsubscribed, or mail to it bounced
//! or was reported as spam). Every mail the events function sends asks this first.
//!
//! The links in mail that act on an address carry `{address key}.{tag}`, the tag an
//! HMAC of the key and the link's purpose under the deployment's secret: nothing is
//! stored for them, a retried mail carries the same link, and no one can make one for
//! another address.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use domain::time::{self as t, Timestamp};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::keys::{self, META};
use super::{Store, StoreError, build, from_item, key, s};

/// An address's standing, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mailbox {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    /// Where to mail reply notifications; dropped once the address is suppressed.
    #[serde(default)]
    pub email: Option<String>,
    pub state: MailboxState,
    /// Why it is suppressed: `unsubscribed`, `bounced`, `complained`.
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    /// When its holder confirmed reply notifications (milliseconds since the epoch):
    /// replies shown before are not mailed.
    #[serde(default)]
    pub confirmed_ms: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailboxState {
    /// Asked for reply notifications; not confirmed yet.
    Pending,
    /// Its holder confirmed they want reply notifications.
    Confirmed,
    /// Never mailed again.
    Suppressed,
}

impl Mailbox {
    pub fn address(&self) -> &str {
        self.pk.strip_prefix("MAILBOX#").unwrap_or(&self.pk)
    }

    /// Reads a mailbox from its attributes (a stream record's new image).
    pub fn from_image(image: HashMap<String, AttributeValue>) -> Result<Self, StoreError> {
        from_item(&image)
    }
}

/// What a link in mail does to its address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    /// "Yes, mail me replies to my comments."
    ConfirmReplies,
    /// "Never mail me again."
    Unsubscribe,
}

impl LinkPurpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::ConfirmReplies => "confirm-replies",
            Self::Unsubscribe => "unsubscribe",
        }
    }
}

impl Store {
    /// The token of a link that does `purpose` to `address`.
    pub fn mailbox_token(&self, address: &str, purpose: LinkPurpose) -> String {
        let tag = self.cursor_key.tag_hex(&format!("mailbox|{}", purpose.as_str()), address.as_bytes());
        format!("{address}.{tag}")
    }

    /// The address a link's token was made for, if it was made by this deployment for
    /// `purpose`.
    pub fn mailbox_from_token(&self, token: &str, purpose: LinkPurpose) -> Option<String> {
        let (address, _) = token.split_once('.')?;
        let ok = address.len() == 64 && address.bytes().all(|b| b.is_ascii_hexdigit());
        let expected = self.mailbox_token(address, purpose);
        (ok && bool::from(expected.as_bytes().ct_eq(token.as_bytes()))).then(|| address.to_owned())
    }

    /// The write that records an address asking for reply notifications, for the
    /// transaction of the comment that asks: new addresses start `pending` (the events
    /// function mails them once to confirm); a known address keeps its standing.
    pub(crate) fn want_replies(&self, address: &str, email: &str, now: Timestamp) -> TransactWriteItem {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(&keys::mailbox(address), META)))
            .update_expression(
                "SET #state = if_not_exists(#state, :pending), email = if_not_exists(email, :email), \
                 updated_at = if_not_exists(updated_at, :now)",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":email", s(email))
            .expression_attribute_values(":now", s(t::format(now)))
            .build();
        TransactWriteItem::builder().update(build(update)).build()
    }

    pub async fn mailbox(&self, address: &str) -> Result<Option<Mailbox>, StoreError> {
        let output = self.get_by_key(&keys::mailbox(address), META, true).await?;
        output.item().map(from_item).transpose()
    }

    /// Its holder confirms reply notifications: `false` when the address never asked
    /// (or was forgotten) or is suppressed, which a confirmation does not undo.
    pub async fn confirm_mailbox(&self, address: &str, now: Timestamp) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(&keys::mailbox(address), META)))
            .update_expression(
                "SET #state = :confirmed, updated_at = :now, confirmed_ms = if_not_exists(confirmed_ms, :now_ms)",
            )
            .expression_attribute_values(":now_ms", super::n(t::millis(now)))
            .condition_expression("attribute_exists(PK) AND #state <> :suppressed")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":confirmed", s("confirmed"))
            .expression_attribute_values(":suppressed", s("suppressed"))
            .expression_attribute_values(":now", s(t::format(now)))
            .send()
            .await;
        super::conditional(result)
    }

    /// Never mail `address` again (`reason`: unsubscribed, bounced, complained). The
    /// address itself is dropped: the key is all a suppression needs. Idempotent.
    pub async fn suppress(&self, address: &str, reason: &str, now: Timestamp) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(&keys::mailbox(address), META)))
            .update_expression(
                "SET #state = :suppressed, reason = if_not_exists(reason, :reason), updated_at = :now REMOVE email",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":suppressed", s("suppressed"))
            .expression_attribute_values(":reason", s(reason))
            .expression_attribute_values(":now", s(t::format(now)))
            .send()
            .await
            .map(drop)
            .map_err(super::sdk_error)
    }

    /// Why each of `addresses` that is suppressed is (`bounced`, `complained`,
    /// `unsubscribed`), by address key, in `BatchGetItem`s of a hundred.
    pub async fn suppressions(&self, addresses: &[String]) -> Result<HashMap<String, String>, StoreError> {
        let keys = addresses.iter().map(|a| key(&keys::mailbox(a), META)).collect();
        let mut found = HashMap::new();
        for item in self.batch_get(keys, None).await? {
            let mailbox: Mailbox = from_item(&item)?;
            if mailbox.state == MailboxState::Suppressed {
                found.insert(mailbox.address().to_owned(), mailbox.reason.unwrap_or_default());
            }
        }
        Ok(found)
    }

    /// Whether mail to `address` must not go out.
    pub async fn suppressed(&self, address: &str) -> Result<bool, StoreError> {
        Ok(self.mailbox(address).await?.is_some_and(|m| m.state == MailboxState::Suppressed))
    }

    /// Forgets an address that is not suppressed (a commenter erased on request); a
    /// suppression stays, holding no address, so the person is still never mailed.
    pub async fn forget_mailbox(&self, address: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(&keys::mailbox(address), META)))
            .condition_expression("#state <> :suppressed")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":suppressed", s("suppressed"))
            .send()
            .await;
        super::conditional(result).map(drop)
    }
}
