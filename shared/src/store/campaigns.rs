//! Petitions, pledges and their signups. A signup lives in one of [`SHARDS`] partitions
//! of its campaign, picked by its email hash, beside that shard's counter, so a viral
//! day spreads its writes over many partitions; the count is the sum of the shards.
//! Confirming moves a signup from pending to confirmed and bumps its shard's counter in
//! one transaction conditioned on the signup still being pending: a retried or doubled
//! confirmation counts once.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use super::posts::META;
use super::{Store, Transaction, build, from_item, key, n, s, sdk_error, to_item};
use crate::campaign::{CONSENT_TEXT, CONSENT_VERSION, Kind, NewSignup};
use crate::error::ApiError;
use crate::http::Page;
use crate::post::Slug;
use crate::time::{self as t, Timestamp};

/// Partitions a campaign's signups and counter are spread over. DynamoDB takes about
/// 1,000 writes/s per partition; a signup costs two writes and its confirmation four
/// (transactions write twice) on one shard, so 16 shards carry about 16,000 / 6 ≈ 2,600
/// signups confirmed per second, over 80 times the rate that took the UK site down.
pub const SHARDS: u32 = 16;
/// Unconfirmed signups expire after a week.
pub const PENDING_SECS: i64 = 7 * 24 * 3600;
/// A repeat signup re-sends its mail at most this often.
pub const RESEND_SECS: i64 = 3600;
const COUNTER: &str = "#COUNT";

/// A petition or pledge as stored; the fields of the other kind are `None`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Campaign {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    pub kind: String,
    pub slug: String,
    pub title: String,
    pub body: String,
    pub target: Option<String>,
    pub goal: Option<u64>,
    pub closes_at: Option<String>,
    pub threshold: Option<u64>,
    pub deadline: Option<String>,
    pub currency: Option<String>,
    pub suggested_amount: Option<u64>,
    pub petition: Option<String>,
    pub post: Option<String>,
    pub created_at: String,
}

impl Campaign {
    pub fn new(kind: Kind, slug: &Slug, title: String, body: String, now: Timestamp) -> Self {
        Self {
            pk: campaign_pk(kind, slug),
            sk: META.into(),
            kind: kind.as_str().into(),
            slug: slug.to_string(),
            title,
            body,
            target: None,
            goal: None,
            closes_at: None,
            threshold: None,
            deadline: None,
            currency: None,
            suggested_amount: None,
            petition: None,
            post: None,
            created_at: t::format(now),
        }
    }

    /// When signups stop: a petition's `closes_at`, a pledge's `deadline`.
    pub fn ends_at(&self) -> Option<Timestamp> {
        self.closes_at.as_deref().or(self.deadline.as_deref()).and_then(|at| t::parse(at).ok())
    }

    pub fn open_at(&self, now: Timestamp) -> bool {
        self.ends_at().is_none_or(|end| now < end)
    }
}

/// Confirmed signups and the sum of their amounts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub count: u64,
    pub amount: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Signup {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    #[serde(rename = "GSI1PK", default, skip_serializing_if = "Option::is_none")]
    gsi1pk: Option<String>,
    #[serde(rename = "GSI1SK", default, skip_serializing_if = "Option::is_none")]
    gsi1sk: Option<String>,
    pub name: String,
    pub email: String,
    pub country: Option<String>,
    pub postcode: Option<String>,
    pub comment: Option<String>,
    pub amount: Option<u64>,
    pub public: bool,
    pub status: String,
    pub consent_text: String,
    pub consent_version: String,
    pub consented_at: String,
    pub created_at: String,
    pub confirmed_at: Option<String>,
    pub last_mail_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TokenItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    kind: String,
    slug: String,
    signup_pk: String,
    signup_sk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
}

/// What a signup request did: in every case the client hears the same answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignupOutcome {
    /// Stored as pending; send the confirmation mail.
    New,
    /// Already there; send the mail again (at most hourly).
    Resend,
    /// Already there and mailed within the hour.
    Quiet,
}

fn campaign_pk(kind: Kind, slug: &Slug) -> String {
    format!("{}#{slug}", kind.key_prefix())
}

fn shard_pk(kind: Kind, slug: &Slug, shard: u32) -> String {
    format!("{}#{slug}#S{shard}", kind.key_prefix())
}

fn signers_pk(kind: Kind, slug: &Slug) -> String {
    format!("SIGNERS#{}#{slug}", kind.key_prefix())
}

fn token_pk(token_hash: &str) -> String {
    format!("TOKEN#{token_hash}")
}

/// The shard of an email hash (hex): its first byte, modulo the shard count.
pub fn shard_of(email_hash: &str) -> u32 {
    u32::from_str_radix(&email_hash[..2], 16).unwrap_or(0) % SHARDS
}

impl Store {
    pub async fn create_campaign(&self, campaign: &Campaign) -> Result<(), ApiError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(campaign)))
            .condition_expression("attribute_not_exists(PK)")
            .build();
        let taken = ApiError::Conflict(format!("a {} with the slug '{}' already exists", campaign.kind, campaign.slug));
        self.transact(vec![TransactWriteItem::builder().put(build(put)).build()], taken).await
    }

    /// A campaign without its tally: one `GetItem`, for the writes that need no count.
    pub async fn campaign_only(&self, kind: Kind, slug: &Slug) -> Result<Option<Campaign>, ApiError> {
        let output = self.get_by_key(&campaign_pk(kind, slug), META, false).await?;
        output.item().map(from_item).transpose()
    }

    /// A campaign with its tally: the campaign and every shard counter in one `BatchGetItem`.
    pub async fn campaign(&self, kind: Kind, slug: &Slug) -> Result<Option<(Campaign, Tally)>, ApiError> {
        let mut keys = vec![key(&campaign_pk(kind, slug), META)];
        keys.extend((0..SHARDS).map(|shard| key(&shard_pk(kind, slug, shard), COUNTER)));
        let mut campaign = None;
        let mut tally = Tally::default();
        for item in self.batch_get(keys, None).await? {
            if item.get("SK").and_then(|v| v.as_s().ok()).is_some_and(|sk| sk == META) {
                campaign = Some(from_item::<Campaign>(&item)?);
            } else {
                let number =
                    |name: &str| item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<u64>().ok());
                tally.count += number("count").unwrap_or(0);
                tally.amount += number("amount").unwrap_or(0);
            }
        }
        Ok(campaign.map(|c| (c, tally)))
    }

    /// Stores a pending signup with its token, unless this person (by normalised email
    /// hash) has signed already; a pending signup whose week ran out is replaced.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_signup(
        &self,
        kind: Kind,
        slug: &Slug,
        email_hash: &str,
        signup: &NewSignup,
        token_hash: &str,
        client: &str,
        writes_per_minute: u32,
        now: Timestamp,
    ) -> Result<SignupOutcome, ApiError> {
        let shard = shard_of(email_hash);
        let signup_pk = shard_pk(kind, slug, shard);
        let signup_sk = format!("SIGNUP#{email_hash}");
        let expires_at = now.unix_timestamp() + PENDING_SECS;
        let item = Signup {
            pk: signup_pk.clone(),
            sk: signup_sk.clone(),
            gsi1pk: None,
            gsi1sk: None,
            name: signup.name.clone(),
            email: signup.email.as_ref().to_owned(),
            country: signup.country.clone(),
            postcode: signup.postcode.clone(),
            comment: signup.comment.clone(),
            amount: signup.amount,
            public: signup.public,
            status: "pending".into(),
            consent_text: CONSENT_TEXT.into(),
            consent_version: CONSENT_VERSION.into(),
            consented_at: t::format(now),
            created_at: t::format(now),
            confirmed_at: None,
            last_mail_at: t::format(now),
            expires_at: Some(expires_at),
        };
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(&item)))
            .condition_expression("attribute_not_exists(PK) OR (#status = :pending AND expires_at < :now)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":now", n(now.unix_timestamp()))
            .build();
        let token = self.token_put(kind, slug, token_hash, &signup_pk, &signup_sk, Some(expires_at));
        let items = vec![
            TransactWriteItem::builder().put(build(put)).build(),
            token,
            self.rate_window(client, writes_per_minute, now),
        ];
        // Item 1 is the new token, a put of a fresh random hash.
        match self.transact_resolving(items, Some(1)).await {
            Ok(()) => return Ok(SignupOutcome::New),
            Err(Transaction::Failed(err)) => return Err(err),
            Err(Transaction::ConditionFailed(reasons)) => {
                if reasons.get(2).is_some_and(|(failed, _)| *failed) {
                    return Err(rate_limited(now));
                }
            }
        }
        // A repeat: re-send at most hourly, with a fresh token beside the old ones.
        let hour_ago = t::format(now - time::Duration::seconds(RESEND_SECS));
        let touch = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(&signup_pk, &signup_sk)))
            .update_expression("SET last_mail_at = :now")
            .condition_expression("attribute_exists(PK) AND last_mail_at < :hour_ago")
            .expression_attribute_values(":now", s(t::format(now)))
            .expression_attribute_values(":hour_ago", s(hour_ago))
            .build();
        let items = vec![
            TransactWriteItem::builder().update(build(touch)).build(),
            self.token_put(kind, slug, token_hash, &signup_pk, &signup_sk, Some(expires_at)),
        ];
        match self.transact_raw(items).await {
            Ok(()) => Ok(SignupOutcome::Resend),
            Err(Transaction::ConditionFailed(_)) => Ok(SignupOutcome::Quiet),
            Err(Transaction::Failed(err)) => Err(err),
        }
    }

    fn token_put(
        &self,
        kind: Kind,
        slug: &Slug,
        token_hash: &str,
        signup_pk: &str,
        signup_sk: &str,
        expires_at: Option<i64>,
    ) -> TransactWriteItem {
        let item = to_item(&TokenItem {
            pk: token_pk(token_hash),
            sk: META.into(),
            kind: kind.as_str().into(),
            slug: slug.to_string(),
            signup_pk: signup_pk.into(),
            signup_sk: signup_sk.into(),
            expires_at,
        });
        // A fresh random token is never there already; if it is, a lost attempt put it.
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)");
        TransactWriteItem::builder().put(build(put.build())).build()
    }

    /// The signup a token names, unless either is gone or expired (TTL deletes late).
    async fn by_token(&self, token_hash: &str, now: Timestamp) -> Result<(Kind, Slug, Signup), ApiError> {
        let unknown = || ApiError::NotFound("this link is unknown or has expired".into());
        let output = self.get_by_key(&token_pk(token_hash), META, true).await?;
        let token: TokenItem = output.item().map(from_item).transpose()?.ok_or_else(unknown)?;
        let output = self.get_by_key(&token.signup_pk, &token.signup_sk, true).await?;
        let signup: Signup = output.item().map(from_item).transpose()?.ok_or_else(unknown)?;
        if signup.status == "pending" && signup.expires_at.is_some_and(|at| at < now.unix_timestamp()) {
            return Err(unknown());
        }
        let kind = Kind::parse(&token.kind).ok_or_else(|| super::corrupt("token kind"))?;
        let slug = Slug::parse(&token.slug).map_err(super::corrupt)?;
        Ok((kind, slug, signup))
    }

    /// Whether a confirm or erase link still names a signup (404 otherwise).
    pub async fn check_signup_token(&self, token_hash: &str, now: Timestamp) -> Result<(), ApiError> {
        self.by_token(token_hash, now).await.map(|_| ())
    }

    /// Confirms the signup behind a token; confirming twice is harmless.
    pub async fn confirm_signup(&self, token_hash: &str, now: Timestamp) -> Result<(Kind, Slug), ApiError> {
        let (kind, slug, signup) = self.by_token(token_hash, now).await?;
        if signup.status == "confirmed" {
            return Ok((kind, slug));
        }
        let mut confirm = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(&signup.pk, &signup.sk)))
            .condition_expression("#status = :pending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":confirmed", s("confirmed"))
            .expression_attribute_values(":now", s(t::format(now)));
        confirm = if signup.public {
            confirm
                .update_expression("SET #status = :confirmed, confirmed_at = :now, GSI1PK = :signers, GSI1SK = :order REMOVE expires_at")
                .expression_attribute_values(":signers", s(signers_pk(kind, &slug)))
                .expression_attribute_values(":order", s(format!("{}#{}", t::format(now), signup.sk)))
        } else {
            confirm.update_expression("SET #status = :confirmed, confirmed_at = :now REMOVE expires_at")
        };
        let counter = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(&signup.pk, COUNTER)))
            .update_expression("ADD #count :one, amount :amount")
            .expression_attribute_names("#count", "count")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":amount", n(signup.amount.unwrap_or(0)))
            .build();
        let token = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(&token_pk(token_hash), META)))
            .update_expression("REMOVE expires_at")
            .build();
        let items = vec![
            TransactWriteItem::builder().update(build(confirm.build())).build(),
            TransactWriteItem::builder().update(build(counter)).build(),
            TransactWriteItem::builder().update(build(token)).build(),
        ];
        match self.transact_raw(items).await {
            // A condition failure means another request confirmed it first: counted once.
            Ok(()) | Err(Transaction::ConditionFailed(_)) => Ok((kind, slug)),
            Err(Transaction::Failed(err)) => Err(err),
        }
    }

    /// Erases the signup behind a token, lowering the count if it was counted.
    pub async fn erase_signup(&self, token_hash: &str, now: Timestamp) -> Result<(), ApiError> {
        let (_, _, signup) = self.by_token(token_hash, now).await?;
        let confirmed = signup.status == "confirmed";
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(&signup.pk, &signup.sk)))
            .condition_expression("#status = :status")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", s(&signup.status))
            .build();
        let token = Delete::builder().table_name(&self.table).set_key(Some(key(&token_pk(token_hash), META))).build();
        let mut items = vec![
            TransactWriteItem::builder().delete(build(delete)).build(),
            TransactWriteItem::builder().delete(build(token)).build(),
        ];
        if confirmed {
            let counter = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(&signup.pk, COUNTER)))
                .update_expression("ADD #count :minus_one, amount :minus_amount")
                .expression_attribute_names("#count", "count")
                .expression_attribute_values(":minus_one", n(-1))
                .expression_attribute_values(":minus_amount", n(-(signup.amount.unwrap_or(0) as i64)))
                .build();
            items.push(TransactWriteItem::builder().update(build(counter)).build());
        }
        let raced = ApiError::Conflict("the signup changed meanwhile; try the link again".into());
        self.transact(items, raced).await
    }

    /// Confirmed signers who chose to be shown, newest first.
    pub async fn public_signers(
        &self,
        kind: Kind,
        slug: &Slug,
        page: &Page,
    ) -> Result<(Vec<Signup>, Option<String>), ApiError> {
        let partition = signers_pk(kind, slug);
        let (items, next) = self.gsi1_page(&partition, page, true).await?;
        let signers = items.iter().map(from_item).collect::<Result<_, _>>()?;
        Ok((signers, next))
    }

    /// Every confirmed signup, for the admin export: each shard, every page.
    pub async fn confirmed_signups(&self, kind: Kind, slug: &Slug) -> Result<Vec<Signup>, ApiError> {
        let mut all = Vec::new();
        for shard in 0..SHARDS {
            let mut start: Option<HashMap<String, AttributeValue>> = None;
            loop {
                let output = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .key_condition_expression("PK = :pk AND begins_with(SK, :signup)")
                    .filter_expression("#status = :confirmed")
                    .expression_attribute_names("#status", "status")
                    .expression_attribute_values(":pk", s(shard_pk(kind, slug, shard)))
                    .expression_attribute_values(":signup", s("SIGNUP#"))
                    .expression_attribute_values(":confirmed", s("confirmed"))
                    .set_exclusive_start_key(start.take())
                    .send()
                    .await
                    .map_err(sdk_error)?;
                for item in output.items() {
                    all.push(from_item::<Signup>(item)?);
                }
                match output.last_evaluated_key() {
                    Some(next) => start = Some(next.clone()),
                    None => break,
                }
            }
        }
        all.sort_by(|a, b| a.confirmed_at.cmp(&b.confirmed_at));
        Ok(all)
    }
}

fn rate_limited(now: Timestamp) -> ApiError {
    ApiError::RateLimited { retry_after_secs: 60 - now.unix_timestamp().rem_euclid(60) as u64 }
}
