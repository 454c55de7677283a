//! Petitions, pledges and their signups. A signup lives in one of [`SHARDS`] partitions
//! of its campaign, picked by its signer key, beside that shard's counter, so a viral
//! day spreads its writes over many partitions; the count is the sum of the shards.
//!
//! A signup request writes no signup. It writes a token item holding what the request
//! asked for, and mails the token's link; the signup exists only once the person who
//! holds the mailbox confirms on the page behind that link, with the details they see
//! and choose there. So a stranger who signs someone else's address first decides
//! nothing: at most they cause one mail. Confirming writes the signup and bumps its
//! shard's counter in one transaction conditioned on the signup not existing yet: a
//! retried or doubled confirmation counts once.
//!
//! Every token also has a reference in its shard, beside the signup, so erasing a
//! signup finds and erases every token the person was ever sent.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use super::Page;
use super::keys::{self, CAMPAIGNS, COUNTER, DAY_PREFIX, META};
use super::outbox::OutboxItem;
use super::{
    Check, Cursor, Missing, Store, StoreError, Stored, Tx, TxError, build, from_item, key, n, s, sdk_error, to_item,
};
pub use domain::campaign::Terms;
use domain::campaign::{CONSENT_TEXT, CONSENT_VERSION, Kind, SignupDetails};
use domain::post::Slug;
use domain::time::{self as t, Timestamp};

/// Partitions a campaign's signups and counter are spread over. DynamoDB takes about
/// 1,000 writes/s per partition; a signup costs two writes on one shard and its
/// confirmation four (the signup, the counter, the day's count, the token's reference;
/// transactions write twice), so 16 shards carry about 16,000 / 12 ≈ 1,330 signups
/// confirmed per second, 40 times the rate that took the UK site down.
pub const SHARDS: u32 = 16;
/// Unconfirmed signups expire after a week.
pub const PENDING_SECS: i64 = 7 * 24 * 3600;
/// One address is mailed about one campaign at most this often.
pub const RESEND_SECS: i64 = 3600;
const DAY_SECS: i64 = 24 * 3600;

/// A petition or pledge as stored: what both have, and the terms of its kind.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Campaign {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    pub slug: String,
    pub title: String,
    pub body: String,
    pub post: Option<String>,
    pub created_at: String,
    /// A pledge's outcome once it is settled: `succeeded` the moment its confirmed
    /// signups reach the threshold, `failed` when its deadline passes short of it. Set
    /// once; the mails it causes depend on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// A petition's highest milestone (or goal) its organiser has been told of.
    #[serde(default)]
    pub announced: u64,
    /// The organiser's updates sent to the campaign's signers.
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub update_ids: std::collections::BTreeSet<String>,
    /// An unsettled pledge is listed in `GSI1` by deadline, for the schedule to settle.
    #[serde(rename = "GSI1PK", default, skip_serializing_if = "Option::is_none")]
    gsi1pk: Option<String>,
    #[serde(rename = "GSI1SK", default, skip_serializing_if = "Option::is_none")]
    gsi1sk: Option<String>,
    /// Stored flat beside the rest, with `kind` naming the variant.
    #[serde(flatten)]
    pub terms: Terms,
}

/// How a pledge ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Succeeded,
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }
}

impl Campaign {
    pub fn new(slug: &Slug, title: String, body: String, post: Option<&Slug>, terms: Terms, now: Timestamp) -> Self {
        let due = match &terms {
            Terms::Pledge { deadline, .. } => Some(keys::by_deadline(deadline, slug.as_ref())),
            Terms::Petition { .. } => None,
        };
        Self {
            pk: campaign_pk(terms.kind(), slug),
            sk: META.into(),
            slug: slug.to_string(),
            title,
            body,
            post: post.map(ToString::to_string),
            created_at: t::format(now),
            outcome: None,
            announced: 0,
            update_ids: Default::default(),
            gsi1pk: due.is_some().then(|| keys::UNSETTLED_PLEDGES.to_owned()),
            gsi1sk: due,
            terms,
        }
    }

    pub fn kind(&self) -> Kind {
        self.terms.kind()
    }

    /// The campaign as its organiser changed it: new texts, post and terms, the rest
    /// (what was counted, told and sent) as it was. Written by [`Store::update_campaign`].
    pub fn edited(&self, title: String, body: String, post: Option<String>, terms: Terms) -> Self {
        Self { title, body, post, terms, ..self.clone() }
    }

    /// When signups stop: a petition's `closes_at`, a pledge's `deadline`.
    pub fn ends_at(&self) -> Option<Timestamp> {
        let at = match &self.terms {
            Terms::Petition { closes_at, .. } => closes_at.as_deref(),
            Terms::Pledge { deadline, .. } => Some(deadline.as_str()),
        };
        at.and_then(|at| t::parse(at).ok())
    }

    pub fn open_at(&self, now: Timestamp) -> bool {
        self.ends_at().is_none_or(|end| now < end)
    }
}

fn counter_keys(kind: Kind, slug: &Slug) -> impl Iterator<Item = HashMap<String, AttributeValue>> + '_ {
    (0..SHARDS).map(move |shard| key(&shard_pk(kind, slug, shard), COUNTER))
}

/// The sum of shard counters. Saturating: a stored counter is never trusted to keep a
/// sum in range.
fn sum_counters(items: &[HashMap<String, AttributeValue>]) -> Tally {
    items.iter().fold(Tally::default(), |tally, item| {
        let number = |name: &str| item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<u64>().ok());
        Tally {
            count: tally.count.saturating_add(number("count").unwrap_or(0)),
            amount: tally.amount.saturating_add(number("amount").unwrap_or(0)),
        }
    })
}

/// Confirmed signups and the sum of their amounts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub count: u64,
    pub amount: u64,
}

/// A confirmed signup, with the details its person chose when confirming.
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
    #[serde(flatten)]
    pub details: SignupDetails,
    pub email: String,
    /// The token the signup was confirmed with: its link erases the signup at any time.
    token_hash: String,
    pub consent_text: String,
    pub consent_version: String,
    pub consented_at: String,
    pub confirmed_at: String,
}

impl Signup {
    /// The signer key: which person this is in this campaign (a salted hash).
    pub fn signer(&self) -> &str {
        self.sk.strip_prefix(keys::SIGNUP_PREFIX).unwrap_or(&self.sk)
    }

    /// The campaign this signup belongs to, from its shard's key.
    pub fn campaign(&self) -> Option<(Kind, Slug)> {
        let (prefix, rest) = self.pk.split_once('#')?;
        let kind = [Kind::Petition, Kind::Pledge].into_iter().find(|k| k.key_prefix() == prefix)?;
        let (slug, _shard) = rest.rsplit_once("#S")?;
        Some((kind, Slug::parse(slug).ok()?))
    }

    /// Reads a signup from its attributes (a stream record's new image).
    pub fn from_image(image: HashMap<String, AttributeValue>) -> Result<Self, StoreError> {
        from_item(&image)
    }
}

/// A link's token: what the signup request asked for, until the person confirms.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct TokenItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    kind: String,
    slug: String,
    /// The signer key in this campaign, and the address key across campaigns.
    signer: String,
    address: String,
    /// What the request asked for, and where to mail it; both are removed once the
    /// token has confirmed its signup (which then holds what was chosen).
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    requested: Option<SignupDetails>,
    consent_text: String,
    consent_version: String,
    consented_at: String,
    created_at: String,
    /// Removed once the token confirms its signup, so its link erases it ever after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
}

/// A signup request, as the handler has checked it.
pub struct SignupRequest<'a> {
    pub kind: Kind,
    pub slug: &'a Slug,
    /// [`domain::campaign::signer_key`] and [`domain::campaign::address_key`].
    pub signer: &'a str,
    pub address: &'a str,
    pub email: &'a str,
    pub requested: &'a SignupDetails,
    pub token_hash: &'a str,
    /// The confirmation mail with the token's link, queued in the same transaction
    /// (`None` queues none: the demo seed, whose signers confirm at once).
    pub mail: Option<domain::mail::Mail>,
    pub caps: MailCaps,
    pub now: Timestamp,
}

/// How much mail strangers can make the deployment send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailCaps {
    /// Mails to one address a day, over every campaign.
    pub per_address: u32,
    /// Mails a day from the whole deployment.
    pub per_day: u32,
}

/// The signup behind a link, as its page and its buttons need it.
#[derive(Debug, Clone)]
pub struct SignupToken {
    pub kind: Kind,
    pub slug: Slug,
    /// What the signup request asked for (shown on the page, to be confirmed or changed).
    pub requested: SignupDetails,
    /// Whether the person has confirmed (by this link or another).
    pub confirmed: bool,
    token: TokenItem,
    token_hash: String,
}

use keys::{
    campaign as campaign_pk, mailed as mailed_sk, shard as shard_pk, signers as signers_pk, signup as signup_sk,
    token as token_pk, token_ref as token_ref_sk,
};

/// The sort keys a signup confirmed at `confirmed_at` (RFC 3339 text) counts under in its
/// shard: the counter, and its UTC day's count (`YYYY-MM-DD`, the head of the text).
pub fn tally_keys(confirmed_at: &str) -> [String; 2] {
    [COUNTER.to_owned(), keys::signup_day(confirmed_at.get(..10).unwrap_or_default())]
}

/// A tally item as the counters are stored (a restore writes them whole).
pub fn tally_item(pk: &str, sk: &str, tally: Tally) -> HashMap<String, AttributeValue> {
    let mut item = key(pk, sk);
    item.insert("count".into(), n(tally.count));
    item.insert("amount".into(), n(tally.amount));
    item
}

fn day_of(now: Timestamp) -> i64 {
    now.unix_timestamp().div_euclid(DAY_SECS)
}

/// The shard of a signer key (hex): its first byte, modulo the shard count.
pub fn shard_of(signer: &str) -> u32 {
    signer.get(..2).and_then(|byte| u32::from_str_radix(byte, 16).ok()).unwrap_or(0) % SHARDS
}

impl Store {
    /// Writes a new campaign with its entry in the organiser's list.
    pub async fn create_campaign(&self, campaign: &Campaign) -> Result<(), StoreError> {
        let entry = HashMap::from([
            ("PK".to_owned(), s(CAMPAIGNS)),
            ("SK".to_owned(), s(keys::campaign_entry(campaign.kind(), &campaign.created_at, &campaign.slug))),
        ]);
        let mut tx = Tx::new();
        tx.check(Check::SlugFree, self.put_new(to_item(campaign))).write(self.put(entry));
        self.transact(tx).await
    }

    /// The organiser's list of one kind of campaign, newest first, each with its tally:
    /// a page of the list's entries, then the campaigns and their counters in one
    /// `BatchGetItem` per hundred keys.
    pub async fn campaigns(
        &self,
        kind: Kind,
        page: &Page,
    ) -> Result<(Vec<(Campaign, Tally)>, Option<String>), StoreError> {
        let list = format!("campaigns|{}", kind.as_str());
        let start = page
            .cursor
            .as_deref()
            .map(|raw| Cursor::decode(raw, &["PK", "SK"], Some(("PK", CAMPAIGNS)), &list, &self.cursor_key))
            .transpose()?;
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :kind)")
            .expression_attribute_values(":pk", s(CAMPAIGNS))
            .expression_attribute_values(":kind", s(format!("{}#", kind.key_prefix())))
            .scan_index_forward(false)
            .limit(page.limit as i32)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(sdk_error)?;
        let slugs: Vec<Slug> = output
            .items()
            .iter()
            .filter_map(|item| item.get("SK")?.as_s().ok()?.rsplit('#').next().and_then(|raw| Slug::parse(raw).ok()))
            .collect();
        let mut wanted = Vec::new();
        for slug in &slugs {
            wanted.push(key(&campaign_pk(kind, slug), META));
            wanted.extend(counter_keys(kind, slug));
        }
        let mut by_partition: HashMap<String, Vec<HashMap<String, AttributeValue>>> = HashMap::new();
        for item in self.batch_get(wanted, None).await? {
            let pk = item.get("PK").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            by_partition.entry(pk).or_default().push(item);
        }
        let mut campaigns = Vec::new();
        for slug in &slugs {
            let Some(meta) = by_partition.get(&campaign_pk(kind, slug)).and_then(|items| items.first()) else {
                continue;
            };
            let counters: Vec<_> = (0..SHARDS)
                .filter_map(|shard| by_partition.get(&shard_pk(kind, slug, shard)))
                .flatten()
                .cloned()
                .collect();
            campaigns.push((from_item::<Campaign>(meta)?, sum_counters(&counters)));
        }
        Ok((campaigns, Cursor::encode(output.last_evaluated_key(), &list, &self.cursor_key)))
    }

    /// Writes what an organiser changed (`updated`, read as `old`): the texts, the
    /// terms, and a pledge's place in the schedule's list when its deadline moved. The
    /// counters, milestones told and updates sent are not touched, and the write holds
    /// only while the campaign has the outcome it was read with.
    pub async fn update_campaign(&self, old: &Campaign, updated: &Campaign) -> Result<(), StoreError> {
        let mut item = to_item(updated);
        for fixed in
            ["PK", "SK", "kind", "slug", "created_at", "outcome", "announced", "update_ids", "GSI1PK", "GSI1SK"]
        {
            item.remove(fixed);
        }
        if let (Some(_), Terms::Pledge { deadline, .. }) = (&old.gsi1pk, &updated.terms) {
            item.insert("GSI1SK".into(), s(keys::by_deadline(deadline, &updated.slug)));
        }
        let mut names = HashMap::new();
        let mut values = HashMap::new();
        let mut sets = Vec::new();
        for (i, (name, value)) in item.into_iter().enumerate() {
            names.insert(format!("#a{i}"), name);
            values.insert(format!(":a{i}"), value);
            sets.push(format!("#a{i} = :a{i}"));
        }
        let condition = match old.outcome {
            None => "attribute_exists(PK) AND attribute_not_exists(outcome)".to_owned(),
            Some(outcome) => {
                values.insert(":outcome".into(), s(outcome.as_str()));
                "attribute_exists(PK) AND outcome = :outcome".to_owned()
            }
        };
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(&old.pk, META)))
            .update_expression(format!("SET {}", sets.join(", ")))
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .build();
        let mut tx = Tx::new();
        tx.check(Check::CampaignUnchanged, TransactWriteItem::builder().update(build(update)).build());
        self.transact(tx).await
    }

    /// Confirmed signups (and amounts) per UTC day, oldest first, from every shard's day
    /// counters; days whose signups were all erased are left out.
    pub async fn signups_by_day(&self, kind: Kind, slug: &Slug) -> Result<Vec<(String, Tally)>, StoreError> {
        let shards = (0..SHARDS).map(|shard| self.shard_days(shard_pk(kind, slug, shard)));
        let mut days: std::collections::BTreeMap<String, Tally> = Default::default();
        for items in futures::future::try_join_all(shards).await? {
            for item in items {
                let Some(day) = item.get("SK").and_then(|v| v.as_s().ok()).and_then(|sk| sk.strip_prefix(DAY_PREFIX))
                else {
                    continue;
                };
                let tally = sum_counters(std::slice::from_ref(&item));
                let total = days.entry(day.to_owned()).or_default();
                total.count = total.count.saturating_add(tally.count);
                total.amount = total.amount.saturating_add(tally.amount);
            }
        }
        Ok(days.into_iter().filter(|(_, tally)| tally.count > 0).collect())
    }

    async fn shard_days(&self, partition: String) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
        self.items_under(&partition, DAY_PREFIX, None).await
    }

    /// Records that a petition's organiser has been told of every milestone up to
    /// `count`, so later signatures skip them (a lower or equal one changes nothing).
    pub async fn mark_announced(&self, slug: &Slug, count: u64) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(&campaign_pk(Kind::Petition, slug), META)))
            .update_expression("SET announced = :count")
            .condition_expression("attribute_exists(PK) AND (attribute_not_exists(announced) OR announced < :count)")
            .expression_attribute_values(":count", n(count))
            .send()
            .await;
        super::conditional(result).map(drop)
    }

    /// A campaign without its tally: one `GetItem`, for the writes that need no count.
    pub async fn campaign_only(&self, kind: Kind, slug: &Slug) -> Result<Option<Campaign>, StoreError> {
        let output = self.get_by_key(&campaign_pk(kind, slug), META, false).await?;
        output.item().map(from_item).transpose()
    }

    /// A campaign with its tally: the campaign and every shard counter in one `BatchGetItem`.
    pub async fn campaign(&self, kind: Kind, slug: &Slug) -> Result<Option<(Campaign, Tally)>, StoreError> {
        let mut keys = vec![key(&campaign_pk(kind, slug), META)];
        keys.extend(counter_keys(kind, slug));
        let items = self.batch_get(keys, None).await?;
        let (meta, counters): (Vec<_>, Vec<_>) =
            items.into_iter().partition(|item| item.get("SK").and_then(|v| v.as_s().ok()).is_some_and(|sk| sk == META));
        let campaign = meta.first().map(from_item::<Campaign>).transpose()?;
        Ok(campaign.map(|c| (c, sum_counters(&counters))))
    }

    /// A campaign's tally alone, for a caller that has read the campaign already.
    pub async fn tally(&self, kind: Kind, slug: &Slug) -> Result<Tally, StoreError> {
        Ok(sum_counters(&self.batch_get(counter_keys(kind, slug).collect(), None).await?))
    }

    /// Records a signup request and queues its confirmation mail (see [`crate::outbox`]),
    /// and says whether it did: only when this address was not mailed about this
    /// campaign in the last hour, and neither the address's daily cap (over every
    /// campaign) nor the deployment's is reached. The same one transaction runs whatever
    /// the address's standing, and a refused one writes nothing, not even the mail: the
    /// caller answers alike either way.
    pub async fn request_signup(&self, request: SignupRequest<'_>) -> Result<bool, StoreError> {
        let SignupRequest { kind, slug, signer, address, email, requested, token_hash, mail, caps, now } = request;
        let shard = shard_of(signer);
        let partition = shard_pk(kind, slug, shard);
        let day = day_of(now);
        let expires_at = now.unix_timestamp() + PENDING_SECS;
        let gate = Put::builder()
            .table_name(&self.table)
            .set_item(Some(HashMap::from([
                ("PK".to_owned(), s(&partition)),
                ("SK".to_owned(), s(mailed_sk(signer))),
                ("last_mail_at".to_owned(), n(now.unix_timestamp())),
                ("expires_at".to_owned(), n(now.unix_timestamp() + RESEND_SECS)),
            ])))
            .condition_expression("attribute_not_exists(PK) OR last_mail_at <= :hour_ago")
            .expression_attribute_values(":hour_ago", n(now.unix_timestamp() - RESEND_SECS))
            .build();
        let per_shard = caps.per_day.div_ceil(SHARDS);
        let token = TokenItem {
            pk: token_pk(token_hash),
            sk: META.into(),
            kind: kind.as_str().into(),
            slug: slug.to_string(),
            signer: signer.into(),
            address: address.into(),
            email: Some(email.into()),
            requested: Some(requested.clone()),
            consent_text: CONSENT_TEXT.into(),
            consent_version: CONSENT_VERSION.into(),
            consented_at: t::format(now),
            created_at: t::format(now),
            expires_at: Some(expires_at),
        };
        let token_ref = HashMap::from([
            ("PK".to_owned(), s(&partition)),
            ("SK".to_owned(), s(token_ref_sk(signer, token_hash))),
            ("expires_at".to_owned(), n(expires_at)),
        ]);
        let mut tx = Tx::new();
        tx.check(Check::MailGate, TransactWriteItem::builder().put(build(gate)).build())
            .check(Check::AddressCap, self.daily_count(&keys::mail_to(address, day), caps.per_address, day))
            .check(Check::DayCap, self.daily_count(&keys::mail_day(day, shard), per_shard, day))
            .own(self.put_new(to_item(&token)))
            .check(Check::Fresh, self.put_new(token_ref));
        if let Some(mail) = mail {
            tx.check(Check::Fresh, self.queue_mail(&OutboxItem::new(&keys::confirmation_cause(token_hash), mail, now)));
        }
        match self.run(tx).await {
            Ok(()) => Ok(true),
            // Mailed within the hour, or over a cap: nothing written, and no mail.
            Err(TxError::Checks(_)) => Ok(false),
            Err(TxError::Store(err)) => Err(err),
        }
    }

    /// One more in a counter of the day, refused at `cap`; it expires with the next day.
    fn daily_count(&self, pk: &str, cap: u32, day: i64) -> TransactWriteItem {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk, META)))
            .update_expression(super::COUNT_ONE_MORE)
            .condition_expression(super::COUNT_UNDER_CAP)
            .expression_attribute_names("#count", "count")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":cap", n(cap))
            .expression_attribute_values(":expires", n((day + 2) * DAY_SECS))
            .build();
        TransactWriteItem::builder().update(build(update)).build()
    }

    /// The signup request behind a link, unless the link is unknown, or expired without
    /// having confirmed anything (TTL deletes late).
    pub async fn signup_token(&self, token_hash: &str, now: Timestamp) -> Result<SignupToken, StoreError> {
        let unknown = || StoreError::NotFound(Missing::Link);
        let output = self.get_by_key(&token_pk(token_hash), META, true).await?;
        let token: TokenItem = output.item().map(from_item).transpose()?.ok_or_else(unknown)?;
        if token.expires_at.is_some_and(|at| at < now.unix_timestamp()) {
            return Err(unknown());
        }
        let kind = Kind::parse(&token.kind).ok_or_else(|| super::corrupt("token kind"))?;
        let slug = Slug::parse(&token.slug).map_err(super::corrupt)?;
        let signup =
            self.get_by_key(&shard_pk(kind, &slug, shard_of(&token.signer)), &signup_sk(&token.signer), true).await?;
        Ok(SignupToken {
            kind,
            slug,
            requested: token.requested.clone().unwrap_or_default(),
            confirmed: signup.item().is_some(),
            token,
            token_hash: token_hash.to_owned(),
        })
    }

    /// Confirms the signup behind a token with the details its person chose; confirming
    /// a signup that is already confirmed (by this link or another) changes nothing.
    pub async fn confirm_signup(
        &self,
        token: &SignupToken,
        details: SignupDetails,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        if token.confirmed {
            return Ok(());
        }
        let (kind, slug, signer) = (token.kind, &token.slug, &token.token.signer);
        let email = token.token.email.clone().ok_or(StoreError::NotFound(Missing::Link))?;
        let partition = shard_pk(kind, slug, shard_of(signer));
        let sk = signup_sk(signer);
        let public = details.public;
        let amount = details.amount.unwrap_or(0);
        let signup = Signup {
            gsi1pk: public.then(|| signers_pk(kind, slug)),
            gsi1sk: public.then(|| keys::signer_order(&t::format(now), &sk)),
            pk: partition.clone(),
            sk: sk.clone(),
            details,
            email,
            token_hash: token.token_hash.clone(),
            consent_text: token.token.consent_text.clone(),
            consent_version: token.token.consent_version.clone(),
            consented_at: token.token.consented_at.clone(),
            confirmed_at: t::format(now),
        };
        // The link that confirmed keeps working (to erase), and forgets the address and
        // what was asked: the signup now holds what was chosen. The token must still be
        // there, or an erase got in first.
        let keep_token = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(&token_pk(&token.token_hash), META)))
            .update_expression("REMOVE expires_at, email, requested")
            .condition_expression("attribute_exists(PK)")
            .build();
        let keep_ref = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(&partition, &token_ref_sk(signer, &token.token_hash))))
            .update_expression("REMOVE expires_at")
            .build();
        let mut tx = Tx::new();
        tx.check(Check::SignupAbsent, self.put_new(to_item(&signup)))
            .write_all(self.count_signup(&partition, &signup.confirmed_at, 1, amount))
            .check(Check::TokenThere, TransactWriteItem::builder().update(build(keep_token)).build())
            .write(TransactWriteItem::builder().update(build(keep_ref)).build());
        match self.run(tx).await {
            Ok(()) => Ok(()),
            // Confirmed meanwhile by another request: counted once.
            Err(TxError::Checks(failed)) if failed.has(Check::SignupAbsent) => Ok(()),
            Err(TxError::Checks(_)) => Err(StoreError::NotFound(Missing::Link)),
            Err(TxError::Store(err)) => Err(err),
        }
    }

    /// Erases everything the person behind a token has here in this campaign: the
    /// signup (lowering the count if it was counted), every token they were ever sent
    /// with its reference, when they were last mailed, and their address's mail counts.
    pub async fn erase_signup(&self, token: &SignupToken, now: Timestamp) -> Result<(), StoreError> {
        let (kind, slug, signer) = (token.kind, &token.slug, &token.token.signer);
        let partition = shard_pk(kind, slug, shard_of(signer));
        let own_ref = token_ref_sk(signer, &token.token_hash);
        // A link's mail may still be waiting in the outbox, and its claim says it was
        // sent: both go too (the events function sends nothing whose outbox item is gone).
        let mail_items = |hash: &str| {
            let cause = keys::confirmation_cause(hash);
            [key(&keys::outbox(&cause), META), key(&keys::sent(&cause), META)]
        };
        let mut rest = vec![key(&partition, &mailed_sk(signer))];
        rest.extend(mail_items(&token.token_hash));
        let hook = keys::hook_cause("signup.confirmed", &format!("{}#{slug}#{signer}", kind.as_str()));
        let outcomes =
            [Outcome::Succeeded, Outcome::Failed].map(|o| keys::outcome_cause(o.as_str(), slug.as_ref(), signer));
        let updates = match self.campaign_only(kind, slug).await? {
            Some(campaign) => campaign.update_ids.iter().map(|id| keys::update_cause(id, signer)).collect(),
            None => Vec::new(),
        };
        for cause in outcomes.iter().chain([&hook]).chain(&updates) {
            rest.extend([key(&keys::outbox(cause), META), key(&keys::sent(cause), META)]);
        }
        let day = day_of(now);
        for day in [day - 1, day] {
            rest.push(key(&keys::mail_to(&token.token.address, day), META));
        }
        for sk in self.token_refs(&partition, signer).await? {
            if sk != own_ref {
                let hash = sk.rsplit('#').next().unwrap_or_default();
                rest.push(key(&token_pk(hash), META));
                rest.extend(mail_items(hash));
                rest.push(key(&partition, &sk));
            }
        }
        // Everything else first: if this fails, the link still works to try again.
        self.batch_delete(rest).await?;

        let signup = self.get_by_key(&partition, &signup_sk(signer), true).await?;
        let signup: Option<Signup> = signup.item().map(from_item).transpose()?;
        let mut tx = Tx::new();
        tx.write(self.delete(&token_pk(&token.token_hash), META)).write(self.delete(&partition, &own_ref));
        match &signup {
            Some(signup) => {
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key(&partition, &signup.sk)))
                    .condition_expression("attribute_exists(PK)")
                    .build();
                tx.check(Check::SignupThere, TransactWriteItem::builder().delete(build(delete)).build());
                tx.write_all(self.count_signup(
                    &partition,
                    &signup.confirmed_at,
                    -1,
                    signup.details.amount.unwrap_or(0),
                ));
            }
            None => {
                // Not confirmed: it must not become confirmed while this runs.
                let check = aws_sdk_dynamodb::types::ConditionCheck::builder()
                    .table_name(&self.table)
                    .set_key(Some(key(&partition, &signup_sk(signer))))
                    .condition_expression("attribute_not_exists(PK)")
                    .build();
                tx.check(Check::SignupAbsent, TransactWriteItem::builder().condition_check(build(check)).build());
            }
        }
        self.transact(tx).await
    }

    /// The sort keys of every token reference of a signer in its shard.
    async fn token_refs(&self, partition: &str, signer: &str) -> Result<Vec<String>, StoreError> {
        let items = self.items_under(partition, &keys::token_refs(signer), Some("SK")).await?;
        Ok(items.iter().filter_map(|item| item.get("SK")?.as_s().ok().cloned()).collect())
    }

    /// The writes that add `sign` (1 or -1) signups of `amount` to the tallies of a signup
    /// confirmed at `confirmed_at` in `partition`: its shard's counter and its day's count.
    fn count_signup(&self, partition: &str, confirmed_at: &str, sign: i64, amount: u64) -> Vec<TransactWriteItem> {
        let amount = sign * i64::try_from(amount).unwrap_or(i64::MAX);
        tally_keys(confirmed_at)
            .iter()
            .map(|sk| {
                let update = Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(key(partition, sk)))
                    .update_expression("ADD #count :sign, amount :amount")
                    .expression_attribute_names("#count", "count")
                    .expression_attribute_values(":sign", n(sign))
                    .expression_attribute_values(":amount", n(amount))
                    .build();
                TransactWriteItem::builder().update(build(update)).build()
            })
            .collect()
    }

    /// Every item of `partition` whose sort key starts with `prefix`, all pages of them,
    /// read consistently (with only `projection`'s attributes, if named).
    async fn items_under(
        &self,
        partition: &str,
        prefix: &str,
        projection: Option<&str>,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
                .expression_attribute_values(":pk", s(partition))
                .expression_attribute_values(":prefix", s(prefix))
                .set_projection_expression(projection.map(str::to_owned))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(sdk_error)?;
            items.extend(output.items().iter().cloned());
            match output.last_evaluated_key() {
                Some(next) => start = Some(next.clone()),
                None => return Ok(items),
            }
        }
    }

    fn delete(&self, pk: &str, sk: &str) -> TransactWriteItem {
        let delete = Delete::builder().table_name(&self.table).set_key(Some(key(pk, sk))).build();
        TransactWriteItem::builder().delete(build(delete)).build()
    }

    /// Confirmed signers who chose to be shown, newest first.
    pub async fn public_signers(
        &self,
        kind: Kind,
        slug: &Slug,
        page: &Page,
    ) -> Result<(Vec<Signup>, Option<String>), StoreError> {
        let partition = signers_pk(kind, slug);
        let (items, next) = self.gsi1_page(&partition, page, true).await?;
        let signers = items.iter().map(from_item).collect::<Result<_, _>>()?;
        Ok((signers, next))
    }

    /// A page of every confirmed signup, for the admin export: shard after shard, at
    /// most `limit` of them, with the cursor of the rest. [`Store::export_cursor`] makes
    /// the cursor after any signup of a page, for a caller that stops early.
    pub async fn export_page(
        &self,
        kind: Kind,
        slug: &Slug,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<(Vec<Signup>, Option<String>), StoreError> {
        let list = export_list(kind, slug);
        let (mut shard, mut start) = match cursor {
            None => (0, None),
            Some(raw) => {
                let key = Cursor::decode(raw, &["PK", "SK"], None, &list, &self.cursor_key)?;
                let pk = key.get("PK").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
                let shard =
                    (0..SHARDS).find(|shard| shard_pk(kind, slug, *shard) == pk).ok_or(StoreError::BadCursor)?;
                let at_start = key.get("SK").and_then(|v| v.as_s().ok()).is_some_and(|sk| sk == SHARD_START);
                (shard, (!at_start).then_some(key))
            }
        };
        let mut signups = Vec::new();
        while shard < SHARDS && signups.len() < limit as usize {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk AND begins_with(SK, :signup)")
                .expression_attribute_values(":pk", s(shard_pk(kind, slug, shard)))
                .expression_attribute_values(":signup", s(keys::SIGNUP_PREFIX))
                .limit(i32::try_from(limit as usize - signups.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(sdk_error)?;
            for item in output.items() {
                signups.push(from_item::<Signup>(item)?);
            }
            match output.last_evaluated_key() {
                Some(next) => start = Some(next.clone()),
                None => shard += 1,
            }
        }
        let next = match (&start, shard < SHARDS) {
            (Some(key), _) => Cursor::encode(Some(key), &list, &self.cursor_key),
            (None, true) => Cursor::encode(Some(&shard_start(kind, slug, shard)), &list, &self.cursor_key),
            (None, false) => None,
        };
        Ok((signups, next))
    }

    /// The export cursor that resumes right after `signup`.
    pub fn export_cursor(&self, kind: Kind, slug: &Slug, signup: &Signup) -> String {
        let key = key(&signup.pk, &signup.sk);
        Cursor::encode(Some(&key), &export_list(kind, slug), &self.cursor_key).expect("a key makes a cursor")
    }
}

/// The sort key an export cursor carries to mean "from the start of this shard".
const SHARD_START: &str = "#";

fn shard_start(kind: Kind, slug: &Slug, shard: u32) -> HashMap<String, AttributeValue> {
    key(&shard_pk(kind, slug, shard), SHARD_START)
}

fn export_list(kind: Kind, slug: &Slug) -> String {
    format!("export|{}|{slug}", kind.as_str())
}

/// A stored campaign, signup or token, decoded as a reader would (see
/// [`super::decode_stored`]).
pub(super) fn decode_stored(item: &HashMap<String, AttributeValue>, now: Timestamp) -> Vec<Result<Stored, StoreError>> {
    let campaign = from_item::<Campaign>(item).map(|campaign| {
        let _ = (campaign.ends_at(), campaign.open_at(now));
        Stored::Campaign(Box::new(campaign))
    });
    let signup = from_item::<Signup>(item).map(|signup| {
        let _ = shard_of(&signup.sk);
        Stored::Signup(Box::new(signup))
    });
    let token = from_item::<TokenItem>(item).and_then(|token| {
        let kind = Kind::parse(&token.kind).ok_or_else(|| super::corrupt("token kind"))?;
        let slug = Slug::parse(&token.slug).map_err(super::corrupt)?;
        let requested = token.requested.clone().unwrap_or_default();
        let token = SignupToken { kind, slug, requested, confirmed: false, token, token_hash: String::new() };
        Ok(Stored::Token(Box::new(token)))
    });
    vec![campaign, signup, token]
}
