//! Mail on its way out. A request never sends mail: it writes the mail into the table
//! as an outbox item, in the same transaction as the write that makes the mail due, so
//! a mail is queued exactly when its cause happened. The table's stream carries the
//! new item to the events function, which sends it once:
//!
//! 1. it claims the mail's cause with a conditional put of a `SENT#` record (a second
//!    delivery of the same stream record finds the claim and sends nothing);
//! 2. it sends;
//! 3. it marks the claim sent, then deletes the outbox item.
//!
//! A send that fails releases the claim, so the stream's retry sends again. A claim left
//! `sending` by a function that died mid-send is taken over once it is older than
//! [`CLAIM_STALE_SECS`] (longer than the function may run), so a crash loses no mail;
//! the price is that a crash in the instant between the mailer accepting a mail and the
//! claim being marked can send that one mail twice.
//!
//! The stream gives up on a record after its retries (the store or the mailer was away
//! for longer than they last). So every outbox item is also listed in `GSI1`, over
//! [`OUTBOX_SHARDS`] partitions by queueing time, and the events function's schedule
//! sends whatever is still there [`SWEEP_AFTER_SECS`] after it was queued: an item
//! leaves the outbox only once it is sent or refused for good.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use domain::mail::Mail;
use domain::time::{self as t, Timestamp};
use serde::{Deserialize, Serialize};

use super::keys::{self, META};
use super::{Store, StoreError, key, n, s, to_item};

/// An unsent outbox item leaves the table after a day (the stream keeps records for one).
pub const OUTBOX_SECS: i64 = 24 * 3600;
/// Claims are kept longer than the stream keeps a record, so no redelivery outlives them.
pub const CLAIM_SECS: i64 = 7 * 24 * 3600;
/// A claim still `sending` after this long belongs to an invocation that died: longer
/// than the events function's timeout.
pub const CLAIM_STALE_SECS: i64 = 5 * 60;

/// An outbox item still there this long after it was queued missed its stream delivery.
pub const SWEEP_AFTER_SECS: i64 = 2 * 60;
/// The `GSI1` partitions outbox items are listed in, so a viral day's mails do not all
/// land on one index partition.
pub const OUTBOX_SHARDS: u32 = 16;
/// How many stale items one sweep takes from each partition.
const SWEEP_PAGE: i32 = 50;

/// A mail waiting in the outbox, as stored (and as the stream's new image shows it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    #[serde(rename = "GSI1PK")]
    gsi1pk: String,
    #[serde(rename = "GSI1SK")]
    gsi1sk: String,
    /// What made the message due, unique to it: the key of its claim.
    pub cause: String,
    /// A mail, or else a webhook call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail: Option<Mail>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookCall>,
    /// The organiser's update this mail is a copy of, whose counts it adds to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<String>,
    pub queued_at: String,
    pub expires_at: i64,
}

/// An event for the deployment's webhook: what it POSTs, signed when it is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookCall {
    /// The event's id, the same on every retry, for the receiver to drop repeats.
    pub id: String,
    /// `comment.created`, `signup.confirmed`, …
    pub event: String,
    /// The JSON body.
    pub body: String,
}

impl OutboxItem {
    pub fn new(cause: &str, mail: Mail, now: Timestamp) -> Self {
        Self::queued(cause, Some(mail), None, now)
    }

    pub fn webhook(cause: &str, call: WebhookCall, now: Timestamp) -> Self {
        Self::queued(cause, None, Some(call), now)
    }

    fn queued(cause: &str, mail: Option<Mail>, webhook: Option<WebhookCall>, now: Timestamp) -> Self {
        let shard = u32::from(domain::sha256(cause.as_bytes())[0]) % OUTBOX_SHARDS;
        let queued_at = t::format(now);
        Self {
            pk: keys::outbox(cause),
            sk: META.into(),
            gsi1pk: keys::outbox_queue(shard),
            gsi1sk: keys::queued(&queued_at, cause),
            cause: cause.to_owned(),
            mail,
            webhook,
            update: None,
            queued_at,
            expires_at: now.unix_timestamp() + OUTBOX_SECS,
        }
    }

    /// The mail as a copy of update `id`: its sending is counted on the update.
    pub fn of_update(self, id: &str) -> Self {
        Self { update: Some(id.to_owned()), ..self }
    }

    /// Reads an outbox item from its attributes (a stream record's new image).
    pub fn from_image(image: HashMap<String, AttributeValue>) -> Result<Self, StoreError> {
        let item: Self = super::from_item(&image)?;
        if item.pk != keys::outbox(&item.cause) || item.sk != META {
            return Err(super::corrupt("an outbox item's key does not match its cause"));
        }
        if item.mail.is_some() == item.webhook.is_some() {
            return Err(super::corrupt("an outbox item holds neither or both of a mail and a webhook call"));
        }
        Ok(item)
    }
}

/// What a claim found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Ours: send the mail.
    Claimed,
    /// Being sent right now by someone else: nothing to do.
    InFlight,
    /// Sent (or refused for good) already: nothing to send, and a copy queued again
    /// (a fan-out page worked twice) can leave the outbox.
    Finished,
}

impl Store {
    /// The write that queues `item`, for the transaction of the write that makes it due.
    pub(crate) fn queue_mail(&self, item: &OutboxItem) -> TransactWriteItem {
        self.put_new(to_item(item))
    }

    /// The causes of outbox items queued more than [`SWEEP_AFTER_SECS`] ago and still
    /// there: their stream delivery failed. Oldest first in each partition, a page of
    /// each, from the index's keys alone (whoever sends one reads it as it is then).
    pub async fn stale_outbox(&self, now: Timestamp) -> Result<Vec<String>, StoreError> {
        let cutoff = t::format(now - time::Duration::seconds(SWEEP_AFTER_SECS));
        let mut stale = Vec::new();
        for shard in 0..OUTBOX_SHARDS {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(super::GSI1)
                .key_condition_expression("GSI1PK = :pk AND GSI1SK < :cutoff")
                .expression_attribute_values(":pk", s(keys::outbox_queue(shard)))
                .expression_attribute_values(":cutoff", s(cutoff.as_str()))
                .limit(SWEEP_PAGE)
                .send()
                .await
                .map_err(super::sdk_error)?;
            for entry in output.items() {
                let pk = entry.get(keys::PK).and_then(|v| v.as_s().ok()).map(String::as_str).unwrap_or_default();
                let cause = pk
                    .strip_prefix(keys::OUTBOX_PREFIX)
                    .ok_or_else(|| StoreError::Corrupt(format!("an outbox queue entry outside the outbox: {pk:?}")))?;
                stale.push(cause.to_owned());
            }
        }
        Ok(stale)
    }

    /// The outbox item of `cause` as it is now: gone once sent, or erased.
    pub async fn outbox_item(&self, cause: &str) -> Result<Option<OutboxItem>, StoreError> {
        let output = self.get_by_key(&keys::outbox(cause), META, true).await?;
        output.item().map(|item| OutboxItem::from_image(item.clone())).transpose()
    }

    /// Claims the right to send the mail of `cause` (step 1 above).
    pub async fn claim_mail(&self, cause: &str, now: Timestamp) -> Result<Claim, StoreError> {
        // One conditional put, not a transaction: a retry after a lost answer finds its
        // own claim `sending`, which the sweep takes over once stale; nothing is lost.
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(HashMap::from([
                (keys::PK.to_owned(), s(keys::sent(cause))),
                (keys::SK.to_owned(), s(META)),
                ("state".to_owned(), s("sending")),
                ("claimed_at".to_owned(), n(now.unix_timestamp())),
                (keys::EXPIRES_AT.to_owned(), n(now.unix_timestamp() + CLAIM_SECS)),
            ])))
            .condition_expression("attribute_not_exists(PK) OR (#state = :sending AND claimed_at < :stale)")
            .return_values_on_condition_check_failure(
                aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":sending", s("sending"))
            .expression_attribute_values(":stale", n(now.unix_timestamp() - CLAIM_STALE_SECS))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Claim::Claimed),
            Err(err) => match err.as_service_error() {
                Some(aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(failed)) => {
                    let state = failed.item().and_then(|old| old.get("state")).and_then(|v| v.as_s().ok());
                    Ok(if state.is_some_and(|state| state == "sending") { Claim::InFlight } else { Claim::Finished })
                }
                _ => Err(super::sdk_error(err)),
            },
        }
    }

    /// Takes one of the sends of second `second` (unix seconds), of which there are
    /// `rate`: the deployment's mail rate, shared by every invocation. `false` when
    /// this second's are all taken.
    pub async fn take_send_slot(&self, rate: u32, second: i64) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(&keys::send_second(second), META)))
            .update_expression(super::COUNT_ONE_MORE)
            .condition_expression(super::COUNT_UNDER_CAP)
            .expression_attribute_names("#count", "count")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":cap", n(rate))
            .expression_attribute_values(":expires", n(second + 120))
            .send()
            .await;
        super::conditional(result)
    }

    /// Removes an outbox item whose mail went out already.
    pub async fn drop_queued(&self, cause: &str) -> Result<(), StoreError> {
        self.batch_delete(vec![key(&keys::outbox(cause), META)]).await
    }

    /// Step 3: the mail of `cause` went out (`state` `sent`), or was refused for good
    /// (`refused`, with the mailer's reason); either way it is never sent again and
    /// leaves the outbox. A claim that is gone meanwhile was erased with the person's
    /// signup, and is not written back.
    pub async fn mail_done(&self, cause: &str, outcome: MailOutcome<'_>, now: Timestamp) -> Result<(), StoreError> {
        let (state, reason) = match outcome {
            MailOutcome::Sent => ("sent", None),
            MailOutcome::Refused(why) => ("refused", Some(why)),
        };
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(&keys::sent(cause), META)))
            .update_expression(match reason {
                Some(_) => "SET #state = :state, done_at = :now, reason = :reason",
                None => "SET #state = :state, done_at = :now",
            })
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":state", s(state))
            .expression_attribute_values(":now", n(now.unix_timestamp()));
        if let Some(reason) = reason {
            update = update.expression_attribute_values(":reason", s(reason));
        }
        // The claim first, then the outbox item, as two writes rather than a transaction:
        // once the claim says done nothing sends again, and an outbox item a failure
        // leaves between the two is dropped by the next delivery or sweep.
        super::conditional(update.send().await)?;
        self.drop_queued(cause).await
    }

    /// A send failed but may succeed later: gives the claim back so a retry sends.
    pub async fn release_mail(&self, cause: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(&keys::sent(cause), META)))
            .condition_expression("#state = :sending")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":sending", s("sending"))
            .send()
            .await;
        super::conditional(result).map(drop)
    }
}

/// How a claimed mail ended.
#[derive(Debug, Clone, Copy)]
pub enum MailOutcome<'a> {
    Sent,
    /// The mailer will never take it (a rejected or suppressed address).
    Refused(&'a str),
}
