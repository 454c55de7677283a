//! The one DynamoDB table, designed from the access patterns of the whole API.
//!
//! | item | PK | SK | GSI1PK | GSI1SK |
//! |---|---|---|---|---|
//! | post | `POST#{slug}` | `#META` | `POSTS` | `{published_at}#{slug}` |
//! | post body | `POST#{slug}` | `#BODY` | | |
//! | post tag | `POST#{slug}` | `#TAG#{tag}` | `TAG#{tag}` | `{published_at}#{slug}` |
//! | post's comment number sequence | `POST#{slug}` | `#SEQ` | | |
//! | comment the thread shows | `POST#{slug}` | `C#{thread path}` | | |
//! | held or spam comment (with why it was held) | `POST#{slug}` | `X#{thread path}` | `PENDING` while held, `SPAM` once spam | `{created_at}#{id}` |
//! | comment by id | `COMMENT#{id}` | `#META` | | |
//! | a comment brought over by `rally import`, by its source id (`disqus#…`) | `IMPORT#{source}` | `#META` | | |
//! | commenter approved before (with the keys they were approved with) | `COMMENTER#{address hash}` | `#META` | | |
//! | petition, pledge | `PETITION#{slug}`, `PLEDGE#{slug}` | `#META` | `PLEDGES#UNSETTLED` while a pledge is unsettled | `{deadline}#{slug}` |
//! | confirmed signup (sharded) | `{kind}#{slug}#S{shard}` | `SIGNUP#{signer key}` | `SIGNERS#{kind}#{slug}` if public | `{confirmed_at}#SIGNUP#{signer key}` |
//! | signup counter (sharded) | `{kind}#{slug}#S{shard}` | `#COUNT` | | |
//! | signups confirmed on a day (sharded, for the organiser's chart) | `{kind}#{slug}#S{shard}` | `DAY#{date}` | | |
//! | the organiser's list of campaigns | `CAMPAIGNS` | `{kind}#{created_at}#{slug}` | | |
//! | a link's token (what its request asked) | `TOKEN#{token hash}` | `#META` | | |
//! | the token's reference, for erasure | `{kind}#{slug}#S{shard}` | `TOKEN#{signer key}#{token hash}` | | |
//! | when an address was last mailed about a campaign | `{kind}#{slug}#S{shard}` | `MAILED#{signer key}` | | |
//! | mails to an address today | `MAILTO#{address key}#{day}` | `#META` | | |
//! | mails from the deployment today (sharded) | `MAILDAY#{day}#S{shard}` | `#META` | | |
//! | a signup client's rate-limit window | `RATE#{ip hash}#{minute}` | `#META` | | |
//! | a commenter's rate-limit window and last comment body | `WRITER#{ip hash}` | `#META` | | |
//! | a mail waiting to be sent (the events function sends it) | `OUTBOX#{cause}` | `#META` | `OUTBOXQ#S{shard}` | `{queued_at}#{cause}` |
//! | the claim of a mail's cause: sending, sent or refused | `SENT#{cause}` | `#META` | | |
//! | a fan-out job: a mail to each signer, a page at a time | `JOB#{job}` | `#META` | | |
//! | an address's standing: wants replies (pending, confirmed) or suppressed | `MAILBOX#{address key}` | `#META` | | |
//! | an organiser's update to a campaign's signers, with its counts | `UPDATE#{id}` | `#META` | | |
//! | mails sent in one second, for the deployment's mail rate | `SENDRATE#{second}` | `#META` | | |
//!
//! A mail's cause names what made it due and nothing else can: a signup request's
//! confirmation is `confirm#{token hash}`, a signer's mail about a pledge's outcome
//! `pledge-{outcome}#{slug}#{signer key}`, an address's opt-in to reply notifications
//! `optin#{address key}`, a reply's notification `reply#{reply id}`, a held comment's
//! notice to the moderator `held#{comment id}`, a petition's milestone
//! `milestone#{slug}#{count}`, a webhook call `hook#{event}#{about}`, an update's mail
//! to a signer `update#{id}#{signer key}`.
//!
//! Signer keys are salted hashes of the normalised address and the campaign, so a key
//! seen in one campaign's list cursor says nothing of another; address keys are salted
//! hashes of the address alone, for the per-address mail cap.
//! A post's body lives beside it rather than on it, so lists of posts never read bodies
//! of up to 100 KB; `GET /posts/{slug}` reads both in one `Query`. `GSI1` holds keys
//! only (no address, name or text is copied into it): a list reads a page of it, then
//! the items behind that page with one `BatchGetItem`. Every list is a `Query` with a cursor; nothing on a request path scans.
//! Expiring items (unconfirmed tokens, mail and rate windows, last bodies) carry
//! `expires_at` (epoch seconds), the table's TTL attribute, and readers ignore expired
//! ones since TTL deletes late.

pub mod aws;
pub mod campaigns;
mod comments;
mod cursor;
mod error;
pub mod imports;
pub mod jobs;
pub mod keys;
pub mod mailbox;
pub mod outbox;
mod posts;

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials};
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use serde::{Deserialize, Serialize};

pub use campaigns::{Campaign, MailCaps, Outcome, SHARDS, Signup, SignupRequest, SignupToken, Tally, shard_of};
pub use comments::{
    ClientLimits, Comment, CommentEdit, CommentStatus, HeldCommentView, HeldReason, NewCommentContext, ReplyNotify,
    ThreadSort, window_slots,
};
pub use cursor::{Cursor, CursorKey};
pub use error::{Check, Missing, StoreError};
pub use jobs::{CampaignUpdate, Job, Next};
pub use outbox::{Claim, MailOutcome, OutboxItem, WebhookCall};

/// How often a transaction that collided with another is tried before answering 503.
const TRANSACTION_ATTEMPTS: u32 = 8;

/// The name of the table's one global secondary index.
pub const GSI1: &str = "GSI1";

/// A counter taken one more at a time up to a cap (`:cap`), gone with its window
/// (`:expires`): the daily mail caps and the mail rate's second.
pub(crate) const COUNT_ONE_MORE: &str = "SET #count = if_not_exists(#count, :zero) + :one, expires_at = :expires";
pub(crate) const COUNT_UNDER_CAP: &str = "attribute_not_exists(#count) OR #count < :cap";

/// Where the table is, the secret cursors are signed with, and how long calls may take.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub table_name: String,
    /// DynamoDB Local's address; unset on AWS.
    pub dynamodb_endpoint: Option<String>,
    /// The deployment's secret (`IP_HASH_SALT`).
    pub secret: String,
    /// Deadline of one attempt of a call; calls retry up to three attempts within
    /// `call_deadline`.
    pub attempt_deadline: Duration,
    pub call_deadline: Duration,
}

#[derive(Clone, Debug)]
pub struct Store {
    client: Client,
    table: String,
    /// How long a write whose outcome was lost may keep asking the store what became of
    /// it (see [`Store::transact_resolving`]).
    resolve_budget: Duration,
    /// Signs list cursors, so only the list that made one accepts it back.
    cursor_key: CursorKey,
}

impl Store {
    /// Builds the DynamoDB client once per process. Every call has a deadline, so a
    /// stalled store answers 503 instead of holding a Lambda to its time limit.
    pub async fn connect(config: &StoreConfig) -> Self {
        Self::new(Client::from_conf(Self::client_config(config).build()), &config.table_name, &config.secret)
            .with_resolve_budget(config.call_deadline)
    }

    pub fn with_resolve_budget(self, resolve_budget: Duration) -> Self {
        Self { resolve_budget, ..self }
    }

    /// The same store through a client that also runs `interceptor` on every call (the
    /// local stack holds each function to its template policy this way).
    pub fn with_interceptor(&self, interceptor: impl aws_sdk_dynamodb::config::Intercept + 'static) -> Self {
        let config = self.client.config().to_builder().interceptor(interceptor).build();
        Self { client: Client::from_conf(config), ..self.clone() }
    }

    /// The client configuration [`Store::connect`] uses, for callers that add to it (the
    /// benchmark adds an interceptor that reads consumed capacity).
    pub fn client_config(config: &StoreConfig) -> aws_sdk_dynamodb::config::Builder {
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(1))
            .operation_attempt_timeout(config.attempt_deadline)
            .operation_timeout(config.call_deadline)
            .build();
        let builder = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(crate::aws::region())
            .http_client(crate::aws::http_client())
            .timeout_config(timeouts)
            .retry_config(RetryConfig::standard().with_max_attempts(3));
        match &config.dynamodb_endpoint {
            // DynamoDB Local accepts any credentials.
            Some(endpoint) => builder
                .endpoint_url(endpoint)
                .credentials_provider(Credentials::new("local", "local", None, None, "local")),
            None => builder.credentials_provider(crate::aws::credentials()),
        }
    }

    /// `secret` is the deployment's secret (`IP_HASH_SALT`), which signs cursors.
    pub fn new(client: Client, table: &str, secret: &str) -> Self {
        Self {
            client,
            table: table.to_owned(),
            resolve_budget: Duration::from_secs(5),
            cursor_key: CursorKey::derive(secret),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub(crate) fn put(&self, item: HashMap<String, AttributeValue>) -> TransactWriteItem {
        let put = build(Put::builder().table_name(&self.table).set_item(Some(item)).build());
        TransactWriteItem::builder().put(put).build()
    }

    /// A put of an item that must not exist yet (a new slug, id, token or signup).
    pub(crate) fn put_new(&self, item: HashMap<String, AttributeValue>) -> TransactWriteItem {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)");
        TransactWriteItem::builder().put(build(put.build())).build()
    }

    /// Runs a transaction; a cancelled one answers which of its named checks failed,
    /// with the item as it was where a write asked for it. Transactions that collide
    /// on an item (`TransactionConflict`) are tried again a few times after a short,
    /// growing pause.
    ///
    /// A transaction with an [`Tx::own`] item must not answer "failed" when it may have
    /// happened: that item is one only this call can have written (a put of a fresh id
    /// or token, conditioned on not existing). When an attempt's answer is lost (the
    /// store went away after receiving it, a timeout), the call is repeated with the
    /// same client token until the store answers or the budget runs out: DynamoDB
    /// answers a repeat of a transaction that landed with success, and a store that
    /// re-ran it would find the own item already there, which also means it landed.
    /// Either way the client is told what happened rather than a failure that left a
    /// trace.
    pub(crate) async fn run(&self, tx: Tx) -> Result<(), TxError> {
        let Tx { items, checks, own } = tx;
        // One token for the call: the SDK's own retries and ours are idempotent.
        let token = ulid::Ulid::new().to_string();
        let mut pause = Duration::from_millis(10);
        let mut lost: Option<std::time::Instant> = None;
        let mut conflicts = 0;
        loop {
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .client_request_token(&token)
                .send()
                .await;
            let err = match result {
                Ok(_) => return Ok(()),
                Err(err) => err,
            };
            if let Some(TransactWriteItemsError::TransactionCanceledException(cancel)) = err.as_service_error() {
                let reasons = cancel.cancellation_reasons();
                let failed =
                    |r: &aws_sdk_dynamodb::types::CancellationReason| r.code() == Some("ConditionalCheckFailed");
                if reasons.iter().any(failed) {
                    if lost.is_some() && own.is_some_and(|i| reasons.get(i).is_some_and(failed)) {
                        // Our own item is there: the attempt whose answer was lost landed.
                        return Ok(());
                    }
                    let failed = reasons
                        .iter()
                        .zip(&checks)
                        .filter(|(reason, _)| failed(reason))
                        .map(|(reason, check)| (check.unwrap_or(Check::Fresh), reason.item().cloned()))
                        .collect();
                    return Err(TxError::Checks(Failed(failed)));
                }
                let conflict = reasons.iter().any(|r| r.code() == Some("TransactionConflict"));
                conflicts += 1;
                if conflict && conflicts < TRANSACTION_ATTEMPTS {
                    let jitter = Duration::from_millis(u64::from(ulid::Ulid::new().random() as u8 % 20));
                    tokio::time::sleep(pause + jitter).await;
                    pause *= 2;
                    continue;
                }
                if reasons.iter().any(|r| matches!(r.code(), Some("ThrottlingError" | "ProvisionedThroughputExceeded")))
                {
                    return Err(TxError::Store(StoreError::Unavailable("the table is throttling".into())));
                }
                return Err(TxError::Store(sdk_error(err)));
            }
            // No answer from the store: the attempt may or may not have landed.
            let since = *lost.get_or_insert_with(std::time::Instant::now);
            if err.as_service_error().is_none() && own.is_some() && since.elapsed() < self.resolve_budget {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            return Err(TxError::Store(sdk_error(err)));
        }
    }

    /// [`Store::run`] for callers with nothing to decide on a failed check: it is the
    /// error, named.
    pub(crate) async fn transact(&self, tx: Tx) -> Result<(), StoreError> {
        self.run(tx).await.map_err(StoreError::from)
    }
}

/// Which page of a list to read: at most `limit` items, after `cursor` (one this list
/// made) or from the start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub limit: u32,
    pub cursor: Option<String>,
}

impl Page {
    pub const DEFAULT_LIMIT: u32 = 50;
    pub const MAX_LIMIT: u32 = 200;

    /// A page from a request's `limit` (1 to `max`, else `default`) and `cursor` (empty
    /// is none).
    pub fn parse(
        limit: Option<&str>,
        cursor: Option<&str>,
        default: u32,
        max: u32,
    ) -> Result<Self, domain::FieldErrors> {
        let limit = match limit {
            None => default,
            Some(raw) => match raw.parse::<u32>() {
                Ok(n) if (1..=max).contains(&n) => n,
                _ => return Err(domain::FieldErrors::one("limit", format!("must be a whole number from 1 to {max}"))),
            },
        };
        let cursor = cursor.filter(|c| !c.is_empty()).map(str::to_owned);
        Ok(Self { limit, cursor })
    }
}

/// A transaction's writes, each with the name of the condition it carries.
#[derive(Default, Clone)]
pub(crate) struct Tx {
    items: Vec<TransactWriteItem>,
    checks: Vec<Option<Check>>,
    own: Option<usize>,
}

impl Tx {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// A write whose condition, if it fails, means `check`.
    pub(crate) fn check(&mut self, check: Check, item: TransactWriteItem) -> &mut Self {
        self.items.push(item);
        self.checks.push(Some(check));
        self
    }

    /// Writes of which only the first carries a condition, meaning `check`.
    pub(crate) fn first_checked(check: Check, items: Vec<TransactWriteItem>) -> Self {
        let mut tx = Self::new();
        for (i, item) in items.into_iter().enumerate() {
            if i == 0 {
                tx.check(check, item);
            } else {
                tx.write(item);
            }
        }
        tx
    }

    /// A write without a condition.
    pub(crate) fn write(&mut self, item: TransactWriteItem) -> &mut Self {
        self.items.push(item);
        self.checks.push(None);
        self
    }

    pub(crate) fn write_all(&mut self, items: impl IntoIterator<Item = TransactWriteItem>) -> &mut Self {
        for item in items {
            self.write(item);
        }
        self
    }

    /// The put of a fresh id or token that only this call can have written: it tells a
    /// repeat of a lost attempt that the attempt landed (see [`Store::run`]).
    pub(crate) fn own(&mut self, item: TransactWriteItem) -> &mut Self {
        self.own = Some(self.items.len());
        self.check(Check::Fresh, item)
    }
}

/// The checks that failed in a cancelled transaction, in the order of its writes, with
/// the item as it was where a write asked for it.
pub(crate) struct Failed(Vec<(Check, Option<HashMap<String, AttributeValue>>)>);

impl Failed {
    pub(crate) fn has(&self, check: Check) -> bool {
        self.0.iter().any(|(c, _)| *c == check)
    }

    /// The item as it was, where the write that carried `check` asked for it.
    pub(crate) fn old(&self, check: Check) -> Option<&HashMap<String, AttributeValue>> {
        self.0.iter().find(|(c, _)| *c == check).and_then(|(_, old)| old.as_ref())
    }

    fn first(&self) -> Option<Check> {
        self.0.first().map(|(c, _)| *c)
    }
}

pub(crate) enum TxError {
    Checks(Failed),
    Store(StoreError),
}

impl From<TxError> for StoreError {
    fn from(err: TxError) -> Self {
        match err {
            TxError::Checks(failed) => StoreError::Conflict(failed.first().unwrap_or(Check::Fresh)),
            TxError::Store(err) => err,
        }
    }
}

impl Store {
    /// One `GetItem` by key; `consistent` where a write that just happened must be seen.
    pub(crate) async fn get_by_key(
        &self,
        pk: &str,
        sk: &str,
        consistent: bool,
    ) -> Result<aws_sdk_dynamodb::operation::get_item::GetItemOutput, StoreError> {
        self.client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .consistent_read(consistent)
            .send()
            .await
            .map_err(sdk_error)
    }

    /// One page of a `GSI1` partition, resuming from `page.cursor` (which must belong to
    /// that partition), with the cursor of the next page.
    pub(crate) async fn gsi1_keys_page(
        &self,
        partition: &str,
        page: &Page,
        newest_first: bool,
    ) -> Result<(Vec<HashMap<String, AttributeValue>>, Option<String>), StoreError> {
        const KEYS: [&str; 4] = ["PK", "SK", "GSI1PK", "GSI1SK"];
        let list = format!("gsi1|{partition}|{newest_first}");
        let start = page
            .cursor
            .as_deref()
            .map(|raw| Cursor::decode(raw, &KEYS, Some(("GSI1PK", partition)), &list, &self.cursor_key))
            .transpose()?;
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI1)
            .key_condition_expression("GSI1PK = :pk")
            .expression_attribute_values(":pk", s(partition))
            .scan_index_forward(!newest_first)
            .limit(page.limit as i32)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(sdk_error)?;
        Ok((output.items().to_vec(), Cursor::encode(output.last_evaluated_key(), &list, &self.cursor_key)))
    }

    /// A page of `GSI1` as [`Store::gsi1_keys_page`] reads it, with the items behind it.
    pub(crate) async fn gsi1_page(
        &self,
        partition: &str,
        page: &Page,
        newest_first: bool,
    ) -> Result<(Vec<HashMap<String, AttributeValue>>, Option<String>), StoreError> {
        let (entries, next) = self.gsi1_keys_page(partition, page, newest_first).await?;
        Ok((self.behind_index(&entries).await?, next))
    }

    /// The table's items behind index entries, in the index's order. The index holds
    /// keys only (nothing a person wrote or gave, no address, is copied into it), so
    /// every reader of it reads the items themselves; one deleted meanwhile is absent.
    pub(crate) async fn behind_index(
        &self,
        entries: &[HashMap<String, AttributeValue>],
    ) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
        self.batch_get_in_order(entries.iter().filter_map(key_of).collect()).await
    }

    /// [`Store::batch_get`] of `wanted` (PK, SK) pairs, answered in their order; items
    /// not there are absent.
    pub(crate) async fn batch_get_in_order(
        &self,
        wanted: Vec<(String, String)>,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let requests = wanted.iter().map(|(pk, sk)| key(pk, sk)).collect();
        let mut found: HashMap<(String, String), HashMap<String, AttributeValue>> =
            self.batch_get(requests, None).await?.into_iter().filter_map(|item| Some((key_of(&item)?, item))).collect();
        Ok(wanted.iter().filter_map(|k| found.remove(k)).collect())
    }

    /// Reads items by key with `BatchGetItem`, a hundred keys a call, following the
    /// keys DynamoDB leaves unprocessed; missing items are simply absent.
    pub(crate) async fn batch_get(
        &self,
        keys: Vec<HashMap<String, AttributeValue>>,
        projection: Option<&str>,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
        let mut items = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(100) {
            let request = aws_sdk_dynamodb::types::KeysAndAttributes::builder()
                .set_keys(Some(chunk.to_vec()))
                .set_projection_expression(projection.map(str::to_owned))
                .build();
            let mut request = Some(build(request));
            while let Some(keys) = request.take() {
                let output =
                    self.client.batch_get_item().request_items(&self.table, keys).send().await.map_err(sdk_error)?;
                items.extend(output.responses().and_then(|r| r.get(&self.table)).into_iter().flatten().cloned());
                request = output.unprocessed_keys().and_then(|u| u.get(&self.table)).cloned();
            }
        }
        Ok(items)
    }

    /// Deletes items by key with `BatchWriteItem`, 25 keys a call, following the
    /// requests DynamoDB leaves unprocessed; keys of missing items are no error.
    pub(crate) async fn batch_delete(&self, keys: Vec<HashMap<String, AttributeValue>>) -> Result<(), StoreError> {
        use aws_sdk_dynamodb::types::{DeleteRequest, WriteRequest};
        let requests = keys.into_iter().map(|k| {
            WriteRequest::builder().delete_request(build(DeleteRequest::builder().set_key(Some(k)).build())).build()
        });
        self.batch_write(requests.collect()).await
    }

    /// Puts whole items as they are (a restore of an export), 25 a call.
    pub async fn put_items(&self, items: Vec<HashMap<String, AttributeValue>>) -> Result<(), StoreError> {
        self.batch_put(items).await
    }

    /// Puts items with `BatchWriteItem` (unconditionally), as [`Store::batch_write`] does.
    pub(crate) async fn batch_put(&self, items: Vec<HashMap<String, AttributeValue>>) -> Result<(), StoreError> {
        use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
        let requests = items.into_iter().map(|item| {
            WriteRequest::builder().put_request(build(PutRequest::builder().set_item(Some(item)).build())).build()
        });
        self.batch_write(requests.collect()).await
    }

    /// Sends write requests 25 a call, following the requests DynamoDB leaves
    /// unprocessed (a throttled partition) after a growing pause, until none is left.
    async fn batch_write(&self, requests: Vec<aws_sdk_dynamodb::types::WriteRequest>) -> Result<(), StoreError> {
        for chunk in requests.chunks(25) {
            let mut requests = chunk.to_vec();
            let mut pause = Duration::from_millis(25);
            while !requests.is_empty() {
                let output = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, requests)
                    .send()
                    .await
                    .map_err(sdk_error)?;
                requests = output.unprocessed_items().and_then(|u| u.get(&self.table)).cloned().unwrap_or_default();
                if !requests.is_empty() {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(2));
                }
            }
        }
        Ok(())
    }

    /// Charges one write to the client's rate window for this minute, refused once the
    /// client has made `max` writes this minute.
    pub async fn charge_client(&self, client: &str, max: u32, now: domain::time::Timestamp) -> Result<(), StoreError> {
        let mut tx = Tx::new();
        tx.check(Check::RateWindow, self.rate_window(client, max, now));
        match self.run(tx).await {
            Err(TxError::Checks(_)) => Err(rate_limited(now)),
            other => other.map_err(StoreError::from),
        }
    }

    /// One write in the client's rate window for this minute (by hashed IP, expiring):
    /// its condition fails once the client has made `max` writes this minute.
    pub(crate) fn rate_window(&self, client: &str, max: u32, now: domain::time::Timestamp) -> TransactWriteItem {
        let minute = now.unix_timestamp().div_euclid(60);
        let window = aws_sdk_dynamodb::types::Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(&keys::rate(client, minute), keys::META)))
            .update_expression("SET writes = if_not_exists(writes, :zero) + :one, expires_at = :expires")
            .condition_expression("attribute_not_exists(writes) OR writes < :max")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(max))
            .expression_attribute_values(":expires", n((minute + 2) * 60))
            .build();
        TransactWriteItem::builder().update(build(window)).build()
    }
}

/// An item of a kind a reader reads, decoded.
#[derive(Debug)]
pub enum Stored {
    Post(Box<domain::post::PostSummary>),
    Comment(Box<Comment>),
    Campaign(Box<Campaign>),
    Signup(Box<Signup>),
    Token(Box<SignupToken>),
    Outbox(Box<OutboxItem>),
}

/// Decodes `item` as each kind of item a reader reads, with the computations readers
/// make on it: what `crate::render_stored`, the property tests and the fuzz target feed
/// arbitrary items to, since no stored item, however malformed, may panic a function
/// (one that does not parse is a logged 500 for the request that read it).
pub fn decode_stored(
    item: &HashMap<String, AttributeValue>,
    now: domain::time::Timestamp,
) -> Vec<Result<Stored, StoreError>> {
    let mut decoded = vec![
        posts::decode_stored(item).map(|p| Stored::Post(Box::new(p))),
        comments::decode_stored(item, now).map(|c| Stored::Comment(Box::new(c))),
    ];
    decoded.extend(campaigns::decode_stored(item, now));
    decoded.push(OutboxItem::from_image(item.clone()).map(|o| Stored::Outbox(Box::new(o))));
    decoded
}

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// An item's (PK, SK).
fn key_of(item: &HashMap<String, AttributeValue>) -> Option<(String, String)> {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    Some((text(keys::PK)?, text(keys::SK)?))
}

pub(crate) fn key(pk: &str, sk: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([(keys::PK.to_owned(), s(pk)), (keys::SK.to_owned(), s(sk))])
}

pub(crate) fn to_item(value: &impl Serialize) -> HashMap<String, AttributeValue> {
    serde_dynamo::to_item(value).expect("items serialise")
}

pub(crate) fn from_item<T: for<'de> Deserialize<'de>>(item: &HashMap<String, AttributeValue>) -> Result<T, StoreError> {
    serde_dynamo::from_item(item.clone()).map_err(corrupt)
}

pub(crate) fn build<T, E: std::error::Error + Send + Sync + 'static>(built: Result<T, E>) -> T {
    built.expect("every required field of a DynamoDB request is set")
}

/// The refusal of a write over the client's rate window, with the seconds until the
/// next window opens.
pub(crate) fn rate_limited(now: domain::time::Timestamp) -> StoreError {
    StoreError::RateLimited { retry_after_secs: 60 - now.unix_timestamp().rem_euclid(60) as u64 }
}

/// Maps an SDK failure: the store being unreachable, slow or throttling is unavailable
/// (the client may retry; nothing was written), anything else is our bug.
pub(crate) fn sdk_error<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let unavailable = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(service) => matches!(
            service.err().code(),
            Some(
                "ProvisionedThroughputExceededException"
                    | "RequestLimitExceeded"
                    | "ThrottlingException"
                    | "InternalServerError"
                    | "ServiceUnavailable"
            )
        ),
        _ => false,
    };
    if unavailable { StoreError::Unavailable(Box::new(err)) } else { StoreError::Internal(Box::new(err)) }
}

/// The answer of a single-item write with a condition: `true` when it happened, `false`
/// when its condition did not hold (which the callers here take as "already so").
pub(crate) fn conditional<O, E, R>(result: Result<O, SdkError<E, R>>) -> Result<bool, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(err) if err.as_service_error().and_then(|e| e.code()) == Some("ConditionalCheckFailedException") => {
            Ok(false)
        }
        Err(err) => Err(sdk_error(err)),
    }
}

/// A stored item that does not parse back is corruption or a bug, never the client's fault.
pub(crate) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}
