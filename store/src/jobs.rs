//! Settling pledges, and the fan-out jobs that mail every confirmed signer of one.
//!
//! A pledge is settled once, by a conditional write: `succeeded` when its confirmed
//! signups reach the threshold, `failed` when its deadline passes short of it. The same
//! transaction starts a job item. The job is worked a page at a time by the events
//! function: each page's signers get an outbox item each (so each mail is sent, retried
//! and swept like any other), and the job's position moves on with a write conditioned
//! on the step it was read at, whose stream record brings the next page. A page read
//! twice (a redelivered record) queues the same mails under the same causes, which are
//! sent once.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use domain::campaign::Kind;
use domain::post::Slug;
use domain::time::{self as t, Timestamp};
use serde::{Deserialize, Serialize};

use super::campaigns::{Campaign, Outcome, SHARDS, Signup};
use super::keys::{self, META};
use super::outbox::OutboxItem;
use super::{Check, Store, StoreError, Tx, TxError, build, from_item, key, n, s, to_item};

/// Signers mailed per page of a job: a page's reads and writes fit one invocation easily.
pub const JOB_PAGE: i32 = 100;
/// A job's item stays this long after it is done, as the record of what was sent.
const JOB_KEPT_SECS: i64 = 30 * 24 * 3600;

/// A fan-out job as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    pub name: String,
    pub kind: String,
    pub slug: String,
    /// What the job mails: a pledge's outcome to every signer, or an organiser's
    /// update to those who asked for updates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<String>,
    /// The shard to read next, and the last signup read in it.
    pub shard: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// Pages worked so far: a page is worked only by whoever read the job at this step.
    pub step: u64,
    pub queued: u64,
    pub done: bool,
    pub started_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

impl Job {
    fn new(kind: Kind, slug: &Slug, outcome: Outcome, now: Timestamp) -> Self {
        Self::named(job_name(outcome, slug), kind, slug, Some(outcome), None, now)
    }

    fn for_update(kind: Kind, slug: &Slug, update: &str, now: Timestamp) -> Self {
        Self::named(format!("update#{update}"), kind, slug, None, Some(update.to_owned()), now)
    }

    fn named(
        name: String,
        kind: Kind,
        slug: &Slug,
        outcome: Option<Outcome>,
        update: Option<String>,
        now: Timestamp,
    ) -> Self {
        Self {
            pk: keys::job(&name),
            sk: META.into(),
            name,
            kind: kind.as_str().into(),
            slug: slug.to_string(),
            outcome,
            update,
            shard: 0,
            after: None,
            step: 0,
            queued: 0,
            done: false,
            started_at: t::format(now),
            expires_at: None,
        }
    }

    /// Reads a job from its attributes (a stream record's new image).
    pub fn from_image(image: HashMap<String, AttributeValue>) -> Result<Self, StoreError> {
        let job: Self = from_item(&image)?;
        if job.pk != keys::job(&job.name) || job.sk != META {
            return Err(super::corrupt("a job's key does not match its name"));
        }
        Ok(job)
    }

    pub fn campaign(&self) -> Result<(Kind, Slug), StoreError> {
        let kind = Kind::parse(&self.kind).ok_or_else(|| super::corrupt("job kind"))?;
        Ok((kind, Slug::parse(&self.slug).map_err(super::corrupt)?))
    }
}

fn job_name(outcome: Outcome, slug: &Slug) -> String {
    format!("pledge-{}#{slug}", outcome.as_str())
}

/// Where a job goes after a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    At { shard: u32, after: Option<String> },
    Done,
}

/// An organiser's update to a campaign's signers who asked for updates, and how its
/// sending goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignUpdate {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    pub id: String,
    pub kind: String,
    pub slug: String,
    pub subject: String,
    pub body: String,
    pub created_at: String,
    /// Mails that went out, and that will not (a suppressed address, a refusal).
    #[serde(default)]
    pub sent: u64,
    #[serde(default)]
    pub failed: u64,
}

impl CampaignUpdate {
    pub fn new(kind: Kind, slug: &Slug, subject: String, body: String, now: Timestamp) -> Self {
        let id = ulid::Ulid::new().to_string();
        Self {
            pk: keys::update(&id),
            sk: META.into(),
            id,
            kind: kind.as_str().into(),
            slug: slug.to_string(),
            subject,
            body,
            created_at: t::format(now),
            sent: 0,
            failed: 0,
        }
    }
}

impl Store {
    /// Records an update and starts the job that mails it, in one transaction.
    pub async fn create_update(&self, update: &CampaignUpdate, now: Timestamp) -> Result<(), StoreError> {
        let kind = Kind::parse(&update.kind).ok_or_else(|| super::corrupt("update kind"))?;
        let slug = Slug::parse(&update.slug).map_err(super::corrupt)?;
        // The campaign lists its updates, so that erasing a signup finds their mails.
        let listed = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(&keys::campaign(kind, &slug), META)))
            .update_expression("ADD update_ids :id")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":id", AttributeValue::Ss(vec![update.id.clone()]))
            .build();
        let mut tx = Tx::new();
        tx.own(self.put_new(to_item(update)))
            .check(Check::Fresh, self.put_new(to_item(&Job::for_update(kind, &slug, &update.id, now))))
            .check(Check::CampaignThere, TransactWriteItem::builder().update(build(listed)).build());
        self.transact(tx).await
    }

    /// An update with its counts, and its job (how many mails it has queued, and
    /// whether every signer has been read).
    pub async fn update_progress(&self, id: &str) -> Result<Option<(CampaignUpdate, Option<Job>)>, StoreError> {
        let Some(update) = self.update(id).await? else { return Ok(None) };
        Ok(Some((update, self.job(&format!("update#{id}")).await?)))
    }

    pub async fn update(&self, id: &str) -> Result<Option<CampaignUpdate>, StoreError> {
        let output = self.get_by_key(&keys::update(id), META, true).await?;
        output.item().map(from_item).transpose()
    }

    /// Counts one mail of update `id` as sent, or as failed.
    pub async fn count_update_mail(&self, id: &str, sent: bool) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(&keys::update(id), META)))
            .update_expression("ADD #counter :one")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#counter", if sent { "sent" } else { "failed" })
            .expression_attribute_values(":one", n(1))
            .send()
            .await
            .map(drop)
            .map_err(super::sdk_error)
    }

    /// Settles a pledge as `outcome` and starts the job that mails its signers, in one
    /// transaction; `false` (and nothing written) when it was settled already.
    pub async fn settle_pledge(&self, slug: &Slug, outcome: Outcome, now: Timestamp) -> Result<bool, StoreError> {
        let settle = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(&keys::campaign(Kind::Pledge, slug), META)))
            .update_expression("SET outcome = :outcome, outcome_at = :now REMOVE GSI1PK, GSI1SK")
            .condition_expression("attribute_exists(PK) AND attribute_not_exists(outcome)")
            .expression_attribute_values(":outcome", s(outcome.as_str()))
            .expression_attribute_values(":now", s(t::format(now)))
            .build();
        let mut tx = Tx::new();
        tx.check(Check::Unsettled, TransactWriteItem::builder().update(build(settle)).build())
            .own(self.put_new(to_item(&Job::new(Kind::Pledge, slug, outcome, now))));
        match self.run(tx).await {
            Ok(()) => Ok(true),
            Err(TxError::Checks(_)) => Ok(false),
            Err(TxError::Store(err)) => Err(err),
        }
    }

    /// Unsettled pledges whose deadline has passed, oldest deadline first (a page).
    pub async fn pledges_past_deadline(&self, now: Timestamp) -> Result<Vec<Campaign>, StoreError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(super::GSI1)
            .key_condition_expression("GSI1PK = :pk AND GSI1SK < :now")
            .expression_attribute_values(":pk", s(keys::UNSETTLED_PLEDGES))
            .expression_attribute_values(":now", s(t::format(now)))
            .limit(100)
            .send()
            .await
            .map_err(super::sdk_error)?;
        self.behind_index(output.items()).await?.iter().map(from_item).collect()
    }

    /// The job named `name` as it is now.
    pub async fn job(&self, name: &str) -> Result<Option<Job>, StoreError> {
        let output = self.get_by_key(&keys::job(name), META, true).await?;
        output.item().map(|item| Job::from_image(item.clone())).transpose()
    }

    /// The job's next page of at most `limit` confirmed signups ([`JOB_PAGE`] for the
    /// events function), and where the job goes after it.
    pub async fn job_page(&self, job: &Job, limit: i32) -> Result<(Vec<Signup>, Next), StoreError> {
        let (kind, slug) = job.campaign()?;
        let partition = keys::shard(kind, &slug, job.shard);
        let start = job.after.as_ref().map(|sk| key(&partition, sk));
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :signup)")
            .expression_attribute_values(":pk", s(&partition))
            .expression_attribute_values(":signup", s(keys::SIGNUP_PREFIX))
            .set_exclusive_start_key(start)
            .limit(limit)
            .consistent_read(true)
            .send()
            .await
            .map_err(super::sdk_error)?;
        let signups = output.items().iter().map(from_item).collect::<Result<Vec<Signup>, _>>()?;
        let last = output.last_evaluated_key().and_then(|k| k.get(keys::SK)).and_then(|v| v.as_s().ok()).cloned();
        let next = match last {
            Some(after) => Next::At { shard: job.shard, after: Some(after) },
            None if job.shard + 1 < SHARDS => Next::At { shard: job.shard + 1, after: None },
            None => Next::Done,
        };
        Ok((signups, next))
    }

    /// Queues mails with `BatchWriteItem`. A mail queued again under the same cause (a
    /// page worked twice) is sent once all the same: its claim says it went.
    pub async fn queue_mails(&self, items: &[OutboxItem]) -> Result<(), StoreError> {
        self.batch_put(items.iter().map(to_item).collect()).await
    }

    /// Queues one message, unless one with its cause is already queued.
    pub async fn queue_once(&self, item: &OutboxItem) -> Result<(), StoreError> {
        let mut tx = Tx::new();
        tx.check(Check::Fresh, self.queue_mail(item));
        match self.run(tx).await {
            Ok(()) | Err(TxError::Checks(_)) => Ok(()),
            Err(TxError::Store(err)) => Err(err),
        }
    }

    /// Moves `job` past the page just worked, if it is still at the step it was read at;
    /// `false` when someone else moved it first.
    pub async fn advance_job(&self, job: &Job, next: Next, queued: u64, now: Timestamp) -> Result<bool, StoreError> {
        // Every attribute by placeholder: `after`, among others, is a reserved word.
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(&keys::job(&job.name), META)))
            .condition_expression("#step = :step")
            .expression_attribute_names("#step", "step")
            .expression_attribute_names("#queued", "queued")
            .expression_attribute_values(":step", n(job.step))
            .expression_attribute_values(":next", n(job.step + 1))
            .expression_attribute_values(":queued", n(job.queued + queued));
        update = match next {
            Next::At { shard, after } => {
                let update = update
                    .expression_attribute_names("#shard", "shard")
                    .expression_attribute_names("#after", "after")
                    .expression_attribute_values(":shard", n(shard));
                match after {
                    Some(after) => update
                        .update_expression("SET #step = :next, #queued = :queued, #shard = :shard, #after = :after")
                        .expression_attribute_values(":after", s(after)),
                    None => {
                        update.update_expression("SET #step = :next, #queued = :queued, #shard = :shard REMOVE #after")
                    }
                }
            }
            Next::Done => update
                .update_expression(
                    "SET #step = :next, #queued = :queued, #done = :done, expires_at = :expires REMOVE #after",
                )
                .expression_attribute_names("#done", "done")
                .expression_attribute_names("#after", "after")
                .expression_attribute_values(":done", AttributeValue::Bool(true))
                .expression_attribute_values(":expires", n(now.unix_timestamp() + JOB_KEPT_SECS)),
        };
        let mut tx = Tx::new();
        tx.check(Check::JobAtStep, TransactWriteItem::builder().update(build(update.build())).build());
        match self.run(tx).await {
            Ok(()) => Ok(true),
            Err(TxError::Checks(_)) => Ok(false),
            Err(TxError::Store(err)) => Err(err),
        }
    }
}
