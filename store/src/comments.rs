//! Comments in their post's partition. A comment's sort key is its thread path:
//! `C#00000004` for the fourth top-level comment, `C#00000004#{id}` for a reply to it,
//! and so on down. Ids are ULIDs and `#` sorts before every ULID character, so one
//! `Query` in key order returns a thread parents-first, replies in posting order.
//!
//! Only what the public thread shows lives under `C#`: approved comments and the
//! placeholders of deleted ones. A held or spam comment lives under `X#` with the same
//! path, so however many of them a stranger posts, they never take a place in a page of
//! the public thread; approving one moves it to `C#` (and marking an approved one as
//! spam moves it back) in one transaction. The one exception is a comment that already
//! has replies: it stays in place so its thread holds together, and the thread read
//! skips it (see [`Store::thread`]).
//!
//! A `COMMENT#{id}` item points from an id to its post and sort key, for the routes
//! that name only the id.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, Delete, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use super::Page;
use super::keys::{
    self, HIDDEN_COMMENT as HIDDEN, META, PENDING, POST_SEQUENCE as SEQUENCE, PUBLIC_COMMENT as PUBLIC, post as pk,
};
use super::{
    Check, Cursor, Missing, Store, StoreError, Tx, TxError, build, from_item, key, n, rate_limited, s, sdk_error,
    to_item,
};
use domain::comment::{CommentId, EDIT_WINDOW_SECS, MAX_DEPTH};
use domain::post::Slug;
use domain::time::{self as t, Timestamp};

const THREAD_KEYS: [&str; 2] = ["PK", "SK"];
/// Top-level numbers are padded so they sort as strings: room for 99,999,999 comments.
pub(crate) const NUMBER_WIDTH: usize = 8;
/// How long a commenter's last body is remembered (and their writer item kept).
const LAST_BODY_TTL_SECS: i64 = 24 * 3600;
/// Tries of a write whose writer item was in another state than its first try assumed
/// (see [`Store::writer_item`]).
const WRITER_ATTEMPTS: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CommentStatus {
    Approved,
    Pending,
    Spam,
}

/// Why a comment waits for the blogger: too many links, a first-time commenter while
/// first comments are held, or an approved comment edited into too many links.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeldReason {
    Links,
    FirstTime,
    Edit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadSort {
    Oldest,
    Newest,
}

/// A stored comment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Comment {
    #[serde(rename = "PK")]
    pub(crate) pk: String,
    #[serde(rename = "SK")]
    pub(crate) sk: String,
    #[serde(rename = "GSI1PK", default, skip_serializing_if = "Option::is_none")]
    pub(crate) gsi1pk: Option<String>,
    #[serde(rename = "GSI1SK", default, skip_serializing_if = "Option::is_none")]
    pub(crate) gsi1sk: Option<String>,
    pub id: String,
    pub post: String,
    pub parent_id: Option<String>,
    pub depth: u32,
    pub number: Option<u64>,
    pub author: String,
    pub website: Option<String>,
    /// The Markdown as written, kept so an edit starts from it.
    pub body: String,
    pub body_html: String,
    pub created_at: String,
    pub edited_at: Option<String>,
    pub deleted: bool,
    pub is_post_author: bool,
    pub status: CommentStatus,
    pub email_hash: Option<String>,
    /// The commenter key's hash: with the address, who was approved before.
    #[serde(default)]
    pub commenter_key_hash: Option<String>,
    pub edit_token_hash: Option<String>,
    #[serde(default)]
    pub reply_count: u64,
    /// The address key of a commenter who asked to be mailed replies (their address is
    /// kept once, in their mailbox item).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_address: Option<String>,
    /// When the thread began to show it (milliseconds since the epoch): posted
    /// approved, or approved later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shown_ms: Option<i64>,
    /// Why it was held, while it is held or spam.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_reason: Option<HeldReason>,
    /// Brought over from another system by `rally import`: nobody is mailed about it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub imported: bool,
}

impl Comment {
    /// Reads a comment from its attributes (a stream record's new image).
    pub fn from_image(image: HashMap<String, AttributeValue>) -> Result<Self, StoreError> {
        from_item(&image)
    }

    /// What anyone may read of the comment: the `Comment` schema of `openapi.yaml`.
    pub fn view(&self) -> CommentView<'_> {
        CommentView {
            id: &self.id,
            post: &self.post,
            parent_id: self.parent_id.as_deref(),
            depth: self.depth,
            number: self.number,
            author: &self.author,
            website: self.website.as_deref(),
            body_html: &self.body_html,
            created_at: &self.created_at,
            edited_at: self.edited_at.as_deref(),
            deleted: self.deleted,
            is_post_author: self.is_post_author,
            status: self.status,
        }
    }

    /// Whether the commenter may still edit or delete it.
    pub fn editable_at(&self, now: Timestamp) -> bool {
        t::parse(&self.created_at).is_ok_and(|at| (now - at).whole_seconds() < EDIT_WINDOW_SECS)
    }

    /// The sort key of the thread's top-level comment (a stored key too short to have
    /// one is its own thread rather than a panic).
    fn top_level(&self) -> &str {
        self.sk.get(..PUBLIC.len() + NUMBER_WIDTH).unwrap_or(&self.sk)
    }

    fn is_public(&self) -> bool {
        self.sk.starts_with(PUBLIC)
    }

    /// The sort key of the parent's item (parents are always public), for a reply.
    fn parent_sk(&self) -> Result<Option<String>, StoreError> {
        if self.depth == 0 {
            return Ok(None);
        }
        let path = self.sk.get(PUBLIC.len()..).unwrap_or_default();
        match path.rfind('#') {
            Some(end) => Ok(Some(format!("{PUBLIC}{}", &path[..end]))),
            None => Err(super::corrupt(format!("reply {} has no parent in its path", self.id))),
        }
    }

    /// The sort key this comment belongs under once its status is `status`: a comment
    /// with replies stays where it is, so its thread holds together.
    fn sk_for(&self, status: CommentStatus) -> String {
        let prefix = if status == CommentStatus::Approved { PUBLIC } else { HIDDEN };
        if self.reply_count > 0 || self.sk.starts_with(prefix) {
            return self.sk.clone();
        }
        format!("{prefix}{}", self.sk.get(PUBLIC.len()..).unwrap_or_default())
    }
}

/// A held or spam comment as the moderation queue shows it: the public view and why
/// it was held (the `HeldComment` schema of `openapi.yaml`).
#[derive(Debug, Serialize)]
pub struct HeldCommentView<'a> {
    #[serde(flatten)]
    pub comment: CommentView<'a>,
    pub held_reason: Option<HeldReason>,
}

impl Comment {
    pub fn held_view(&self) -> HeldCommentView<'_> {
        HeldCommentView { comment: self.view(), held_reason: self.held_reason }
    }
}

/// A comment as the public reads it. It has no field for an address, a hash or a
/// token, so no answer built from it can show one.
#[derive(Debug, Serialize)]
pub struct CommentView<'a> {
    pub id: &'a str,
    pub post: &'a str,
    pub parent_id: Option<&'a str>,
    pub depth: u32,
    pub number: Option<u64>,
    pub author: &'a str,
    pub website: Option<&'a str>,
    pub body_html: &'a str,
    pub created_at: &'a str,
    pub edited_at: Option<&'a str>,
    pub deleted: bool,
    pub is_post_author: bool,
    pub status: CommentStatus,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct Pointer {
    #[serde(rename = "PK")]
    pub(crate) pk: String,
    #[serde(rename = "SK")]
    pub(crate) sk: String,
    pub(crate) post: String,
    pub(crate) path: String,
    pub(crate) depth: u32,
}

pub(crate) use keys::comment_pointer as pointer_pk;

/// The `GSI1` partition a comment of this status is listed in for the blogger.
pub(crate) fn queue_of(status: CommentStatus) -> Option<&'static str> {
    match status {
        CommentStatus::Approved => None,
        CommentStatus::Pending => Some(PENDING),
        CommentStatus::Spam => Some(keys::SPAM),
    }
}

/// The checks a stranger's write passes with it, in its transaction: one more write in
/// the client's rate window (by hashed IP), and not the same body as the client's last.
/// Both live in one item, the client's writer item.
pub struct ClientLimits {
    pub client: String,
    pub body_hash: String,
    pub writes_per_minute: u32,
}

/// What the handler decided about an edit before it is written.
pub struct CommentEdit {
    pub body: String,
    pub body_html: String,
    /// `Pending` when the new body is held for moderation (as a new one would be).
    pub status: CommentStatus,
    /// Why, when the edit is what holds it.
    pub held_reason: Option<HeldReason>,
    pub limits: ClientLimits,
    pub now: Timestamp,
}

/// What the handler decided about a new comment before it is written.
pub struct NewCommentContext {
    pub id: CommentId,
    pub author: String,
    pub website: Option<String>,
    pub body: String,
    pub body_html: String,
    pub parent_id: Option<CommentId>,
    pub is_post_author: bool,
    pub status: CommentStatus,
    /// Why a held comment is held.
    pub held_reason: Option<HeldReason>,
    /// Who the commenter is for the first-time rule: the salted hashes of their address
    /// and of the commenter key their browser keeps.
    pub email_hash: Option<String>,
    pub commenter_key_hash: Option<String>,
    pub edit_token_hash: String,
    /// A commenter who asked to be mailed replies: their address key and address.
    pub notify: Option<ReplyNotify>,
    /// `None` for the blogger, who is limited by nothing.
    pub limits: Option<ClientLimits>,
    pub now: Timestamp,
}

/// This minute's window slot in a writer item and the other one, each as the names of
/// its count and its minute.
pub fn window_slots(minute: i64) -> ((&'static str, &'static str), (&'static str, &'static str)) {
    const EVEN: (&str, &str) = ("w0", "m0");
    const ODD: (&str, &str) = ("w1", "m1");
    if minute.rem_euclid(2) == 0 { (EVEN, ODD) } else { (ODD, EVEN) }
}

/// What a refused writer item held, as it bears on the write.
#[derive(Debug, PartialEq, Eq)]
enum WriterState {
    /// This minute's window is full.
    Full,
    /// The body is the client's last, within the day.
    Repeat,
    /// The slot holds an earlier minute's count: start it again.
    EarlierMinute,
    /// The slot is this minute's after all (another write got in first): count in it.
    ThisMinute,
}

impl WriterState {
    fn of(old: Option<&HashMap<String, AttributeValue>>, limits: &ClientLimits, now: Timestamp) -> Self {
        let minute = now.unix_timestamp().div_euclid(60);
        let ((count, at), _) = window_slots(minute);
        let number =
            |name: &str| old.and_then(|o| o.get(name)).and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<i64>().ok());
        let this_minute = number(at) == Some(minute);
        if this_minute && number(count).unwrap_or(0) >= i64::from(limits.writes_per_minute) {
            return Self::Full;
        }
        let last_body = old.and_then(|o| o.get("body_hash")).and_then(|v| v.as_s().ok());
        if last_body == Some(&limits.body_hash) && number("expires_at").is_some_and(|e| e >= now.unix_timestamp()) {
            return Self::Repeat;
        }
        if this_minute { Self::ThisMinute } else { Self::EarlierMinute }
    }
}

/// Who to mail a comment's replies to, once they confirm.
#[derive(Debug, Clone)]
pub struct ReplyNotify {
    pub address: String,
    pub email: String,
}

impl Store {
    /// Writes a comment in one transaction with everything that must change with it:
    /// the post's comment count and thread version, the id pointer, the parent's reply
    /// count, and the client's rate window and last body. A top-level comment's number
    /// comes from the post's sequence first ([`Store::next_number`]), so comments racing
    /// on one post never retry for it. A held comment goes under `X#`.
    pub async fn add_comment(&self, slug: &Slug, new: NewCommentContext) -> Result<Comment, StoreError> {
        let partition = pk(slug);
        let prefix = if new.status == CommentStatus::Approved { PUBLIC } else { HIDDEN };
        let mut tx = Tx::new();
        let no_parent = || StoreError::Conflict(Check::ParentShown);
        let (sk, depth, number, parent_sk) = match &new.parent_id {
            Some(parent_id) => {
                let parent = self.pointer(parent_id.as_ref()).await?;
                // Only what the thread shows can be replied to.
                let parent =
                    parent.filter(|p| p.post == slug.as_ref() && p.path.starts_with(PUBLIC)).ok_or_else(no_parent)?;
                if parent.depth.saturating_add(1) > MAX_DEPTH {
                    return Err(StoreError::TooDeep { max: MAX_DEPTH });
                }
                let path = &parent.path[PUBLIC.len()..];
                (format!("{prefix}{path}#{}", new.id), parent.depth + 1, None, Some(parent.path))
            }
            None => {
                let number = self.next_number(slug).await?;
                (format!("{prefix}{number:0width$}", width = NUMBER_WIDTH), 0, Some(number), None)
            }
        };
        let counted = new.status == CommentStatus::Approved;
        let mut meta = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(&partition, META)))
            .condition_expression("deleted = :false")
            .expression_attribute_values(":false", AttributeValue::Bool(false));
        // A held comment changes nothing the thread shows: cached pages stay good.
        meta = if counted {
            meta.update_expression("SET comment_count = comment_count + :one, thread_version = :version")
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":version", s(thread_version()))
        } else {
            meta.update_expression("SET comment_count = comment_count + :zero")
                .expression_attribute_values(":zero", n(0))
        };
        tx.check(Check::PostLive, TransactWriteItem::builder().update(build(meta.build())).build());

        let comment = Comment {
            pk: partition.clone(),
            sk: sk.clone(),
            gsi1pk: queue_of(new.status).map(str::to_owned),
            gsi1sk: queue_of(new.status).map(|_| format!("{}#{}", t::format(new.now), new.id)),
            id: new.id.to_string(),
            post: slug.to_string(),
            parent_id: new.parent_id.as_ref().map(ToString::to_string),
            depth,
            number,
            author: new.author.clone(),
            website: new.website.clone(),
            body: new.body.clone(),
            body_html: new.body_html.clone(),
            created_at: t::format(new.now),
            edited_at: None,
            deleted: false,
            is_post_author: new.is_post_author,
            status: new.status,
            email_hash: new.email_hash.clone(),
            commenter_key_hash: new.commenter_key_hash.clone(),
            edit_token_hash: Some(new.edit_token_hash.clone()),
            reply_count: 0,
            notify_address: new.notify.as_ref().map(|n| n.address.clone()),
            shown_ms: counted.then(|| t::millis(new.now)),
            held_reason: (!counted).then_some(new.held_reason).flatten(),
            imported: false,
        };
        tx.own(self.put_new(to_item(&comment)));
        if let Some(notify) = &new.notify {
            tx.write(self.want_replies(&notify.address, &notify.email, new.now));
        }
        tx.check(
            Check::Fresh,
            self.put_new(to_item(&Pointer {
                pk: pointer_pk(new.id.as_ref()),
                sk: META.into(),
                post: slug.to_string(),
                path: sk.clone(),
                depth,
            })),
        );
        if let Some(path) = &parent_sk {
            let parent = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(&partition, path)))
                .update_expression("SET reply_count = if_not_exists(reply_count, :zero) + :one")
                .condition_expression("attribute_exists(PK)")
                .expression_attribute_values(":zero", n(0))
                .expression_attribute_values(":one", n(1))
                .build();
            tx.check(Check::ParentShown, TransactWriteItem::builder().update(build(parent)).build());
        }
        let written = match &new.limits {
            Some(limits) => self.run_as_writer(tx, limits, new.now).await,
            None => self.run(tx).await,
        };
        match written {
            Ok(()) => Ok(comment),
            Err(TxError::Checks(failed)) if failed.has(Check::PostLive) => {
                Err(StoreError::NotFound(Missing::Post(slug.to_string())))
            }
            Err(err) => Err(err.into()),
        }
    }

    /// The next number for a top-level comment of the post, from the post's sequence
    /// item: one atomic update that no other write ever joins in a transaction, so any
    /// number of people commenting at once each get the next number without retrying.
    /// A comment whose write then fails leaves a gap in the numbers, as a deleted one
    /// does.
    async fn next_number(&self, slug: &Slug) -> Result<u64, StoreError> {
        let output = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(&pk(slug), SEQUENCE)))
            .update_expression("SET next_number = if_not_exists(next_number, :zero) + :one")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(sdk_error)?;
        output
            .attributes()
            .and_then(|a| a.get("next_number"))
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| StoreError::Internal("the sequence answered no number".into()))
    }

    /// The client's writer item, written with their comment or edit: one more write in
    /// this minute's window, refused once `writes_per_minute` are made, and their body
    /// as their last, refused if it is the last one again (within a day). One item for
    /// both keeps a comment's transaction to four writes.
    ///
    /// The window has two slots, `w0`/`m0` for even minutes and `w1`/`m1` for odd ones
    /// (a count and its minute). A write counts in its minute's slot and clears the
    /// other, so the slot it counts in is empty or already this minute's, unless the
    /// client's last write was an even number of minutes ago: then the slot still holds
    /// that minute's count, the condition refuses it, and `restart` is the write that
    /// starts the slot again at one ([`Store::run_as_writer`] picks it).
    fn writer_item(&self, limits: &ClientLimits, now: Timestamp, restart: bool) -> TransactWriteItem {
        let minute = now.unix_timestamp().div_euclid(60);
        let ((count, at), (other_count, other_at)) = window_slots(minute);
        let (counted, window) = match restart {
            false => (
                "if_not_exists(#count, :zero) + :one",
                "(attribute_not_exists(#at) OR #at = :minute) AND (attribute_not_exists(#count) OR #count < :max)",
            ),
            true => (":one", "(attribute_not_exists(#at) OR #at <> :minute)"),
        };
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(&keys::writer(&limits.client), META)))
            .update_expression(format!(
                "SET #count = {counted}, #at = :minute, body_hash = :hash, expires_at = :expires \
                 REMOVE #other_count, #other_at"
            ))
            .condition_expression(format!(
                "{window} AND (attribute_not_exists(body_hash) OR body_hash <> :hash OR expires_at < :now)"
            ))
            .expression_attribute_names("#count", count)
            .expression_attribute_names("#at", at)
            .expression_attribute_names("#other_count", other_count)
            .expression_attribute_names("#other_at", other_at)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":minute", n(minute))
            .expression_attribute_values(":hash", s(&limits.body_hash))
            .expression_attribute_values(":now", n(now.unix_timestamp()))
            .expression_attribute_values(":expires", n(now.unix_timestamp() + LAST_BODY_TTL_SECS))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        if !restart {
            update = update
                .expression_attribute_values(":zero", n(0))
                .expression_attribute_values(":max", n(limits.writes_per_minute));
        }
        TransactWriteItem::builder().update(build(update.build())).build()
    }

    /// Runs `tx` with the client's writer item as its last write. A refusal of it is a
    /// 429 when this minute's window is full and a 409 when the body is the client's
    /// last again; a slot left by an earlier minute (or another write taking this
    /// minute's first place meanwhile) is tried again with the write that fits.
    async fn run_as_writer(&self, tx: Tx, limits: &ClientLimits, now: Timestamp) -> Result<(), TxError> {
        let mut restart = false;
        for _ in 0..WRITER_ATTEMPTS {
            let mut attempt = tx.clone();
            attempt.check(Check::RateWindow, self.writer_item(limits, now, restart));
            let failed = match self.run(attempt).await {
                Err(TxError::Checks(failed)) if failed.has(Check::RateWindow) => failed,
                other => return other,
            };
            match WriterState::of(failed.old(Check::RateWindow), limits, now) {
                WriterState::Full => return Err(TxError::Store(rate_limited(now))),
                WriterState::Repeat => return Err(TxError::Store(StoreError::Conflict(Check::NotARepeat))),
                WriterState::EarlierMinute => restart = true,
                WriterState::ThisMinute => restart = false,
            }
        }
        Err(TxError::Store(StoreError::Unavailable("the client's rate window kept changing".into())))
    }

    async fn pointer(&self, id: &str) -> Result<Option<Pointer>, StoreError> {
        let output = self.get_by_key(&pointer_pk(id), META, true).await?;
        output.item().map(from_item).transpose()
    }

    /// A comment by id, wherever it is. The item found must carry that id: a pointer
    /// left behind by anything must never lead to someone else's comment.
    pub async fn comment(&self, id: &CommentId) -> Result<Option<Comment>, StoreError> {
        let Some(pointer) = self.pointer(id.as_ref()).await? else { return Ok(None) };
        let output = self.get_by_key(&keys::post_named(&pointer.post), &pointer.path, true).await?;
        let comment: Option<Comment> = output.item().map(from_item).transpose()?;
        Ok(comment.filter(|c| c.id == id.as_ref()))
    }

    /// A page of a post's public comments, threads kept together: oldest threads
    /// first, or newest threads first with each thread still parent-first.
    /// `consistent` where the page is kept under the thread version read just before.
    /// A page holds `page.limit` comments unless the thread ends first: the few hidden
    /// comments kept in place for their replies are skipped, and reading goes on.
    pub async fn thread(
        &self,
        slug: &Slug,
        page: &Page,
        sort: ThreadSort,
        consistent: bool,
    ) -> Result<(Vec<Comment>, Option<String>), StoreError> {
        let partition = pk(slug);
        let list = format!("thread|{partition}|{}", sort == ThreadSort::Newest);
        let mut start = page
            .cursor
            .as_deref()
            .map(|raw| Cursor::decode(raw, &THREAD_KEYS, Some(("PK", &partition)), &list, &self.cursor_key))
            .transpose()?;
        let limit = page.limit as usize;
        let mut comments: Vec<Comment> = Vec::new();
        let mut next;
        loop {
            let want = if comments.len() < limit { limit - comments.len() } else { limit };
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk AND SK BETWEEN :first AND :last")
                .filter_expression("#status = :approved")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":pk", s(&partition))
                .expression_attribute_values(":first", s(PUBLIC))
                // `$` follows `#`: the range holds every `C#…` key and nothing else.
                .expression_attribute_values(":last", s("C$"))
                .expression_attribute_values(":approved", s("approved"))
                .scan_index_forward(sort == ThreadSort::Oldest)
                .consistent_read(consistent)
                .limit(i32::try_from(want).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(sdk_error)?;
            for item in output.items() {
                comments.push(from_item(item)?);
            }
            next = output.last_evaluated_key().cloned();
            // Newest first reads threads backwards, replies before parents: a page must
            // end on a top-level comment, or its last thread would be cut in two.
            let thread_cut = sort == ThreadSort::Newest && comments.last().is_some_and(|c| c.depth > 0);
            if next.is_none() || (comments.len() >= limit && !thread_cut) {
                break;
            }
            start = next.clone();
        }
        if sort == ThreadSort::Newest {
            let mut threads: Vec<Vec<Comment>> = Vec::new();
            for comment in comments {
                match threads.last_mut() {
                    Some(thread) if thread[0].top_level() == comment.top_level() => thread.push(comment),
                    _ => threads.push(vec![comment]),
                }
            }
            comments = threads.into_iter().flat_map(|thread| thread.into_iter().rev()).collect();
        }
        Ok((comments, Cursor::encode(next.as_ref(), &list, &self.cursor_key)))
    }

    /// Replaces a comment's body, if the window is still open, under the same checks as
    /// a new comment: the client's rate window and repeat rule, and the moderation
    /// status the handler decided (an edit that adds links is held like a new comment,
    /// and leaves the public thread).
    pub async fn edit_comment(&self, comment: &Comment, edit: CommentEdit) -> Result<Comment, StoreError> {
        let cutoff = t::format(edit.now - time::Duration::seconds(EDIT_WINDOW_SECS));
        let edited = Comment {
            body: edit.body.clone(),
            body_html: edit.body_html.clone(),
            edited_at: Some(t::format(edit.now)),
            held_reason: edit.held_reason.or(comment.held_reason),
            ..comment.clone()
        };
        let tx = self.change_status(&edited, comment, edit.status, edit.now, Some(&cutoff));
        let sk = comment.sk_for(edit.status);
        match self.run_as_writer(tx, &edit.limits, edit.now).await {
            Ok(()) => Ok(Comment { sk, status: edit.status, ..edited }),
            Err(err) => Err(err.into()),
        }
    }

    /// The writes that give `comment` (as it was stored: `old`) the status `status`:
    /// in place, or moved between the public and hidden ranges with its pointer; the
    /// post's count and thread version follow what the thread shows. The first item is
    /// the write of the comment itself, conditioned on it being as `old` was (and, for
    /// an edit, on it being undeleted and younger than `edit_cutoff`).
    fn change_status(
        &self,
        comment: &Comment,
        old: &Comment,
        status: CommentStatus,
        now: Timestamp,
        edit_cutoff: Option<&str>,
    ) -> Tx {
        let mut condition = String::from("#status = :old AND reply_count = :replies");
        let mut values =
            HashMap::from([(":old".to_owned(), to_value(old.status)), (":replies".to_owned(), n(old.reply_count))]);
        if let Some(cutoff) = edit_cutoff {
            condition.push_str(" AND deleted = :false AND created_at > :cutoff");
            values.insert(":false".into(), AttributeValue::Bool(false));
            values.insert(":cutoff".into(), s(cutoff));
        }
        let sk = old.sk_for(status);
        let moved = Comment {
            sk: sk.clone(),
            status,
            gsi1pk: queue_of(status).map(str::to_owned),
            gsi1sk: queue_of(status).map(|_| format!("{}#{}", t::format(now), comment.id)),
            held_reason: if status == CommentStatus::Approved { None } else { comment.held_reason },
            shown_ms: match (status, old.status) {
                (CommentStatus::Approved, CommentStatus::Approved) => comment.shown_ms,
                (CommentStatus::Approved, _) => Some(t::millis(now)),
                _ => None,
            },
            ..comment.clone()
        };
        let mut tx = Tx::new();
        let own = if edit_cutoff.is_some() { Check::CommentEditable } else { Check::CommentUnchanged };
        if sk == old.sk {
            let put = aws_sdk_dynamodb::types::Put::builder()
                .table_name(&self.table)
                .set_item(Some(to_item(&moved)))
                .condition_expression(condition)
                .expression_attribute_names("#status", "status")
                .set_expression_attribute_values(Some(values))
                .build();
            tx.check(own, TransactWriteItem::builder().put(build(put)).build());
        } else {
            // A reply landing meanwhile raises reply_count and fails this condition.
            let delete = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(&old.pk, &old.sk)))
                .condition_expression(condition)
                .expression_attribute_names("#status", "status")
                .set_expression_attribute_values(Some(values))
                .build();
            tx.check(own, TransactWriteItem::builder().delete(build(delete)).build());
            tx.check(Check::Fresh, self.put_new(to_item(&moved)));
            let pointer = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(&pointer_pk(&comment.id), META)))
                .update_expression("SET #path = :path")
                .condition_expression("attribute_exists(PK)")
                .expression_attribute_names("#path", "path")
                .expression_attribute_values(":path", s(&sk))
                .build();
            tx.check(own, TransactWriteItem::builder().update(build(pointer)).build());
            if let (true, Ok(Some(parent))) = (sk.starts_with(PUBLIC), old.parent_sk()) {
                // Shown again only under a parent that is still there.
                let check = aws_sdk_dynamodb::types::ConditionCheck::builder()
                    .table_name(&self.table)
                    .set_key(Some(key(&old.pk, &parent)))
                    .condition_expression("attribute_exists(PK)")
                    .build();
                tx.check(Check::ParentShown, TransactWriteItem::builder().condition_check(build(check)).build());
            }
        }
        let was_counted = old.status == CommentStatus::Approved && !old.deleted;
        let counted = status == CommentStatus::Approved && !old.deleted;
        let delta = i64::from(counted) - i64::from(was_counted);
        let shows_change = old.is_public() || sk.starts_with(PUBLIC);
        if delta != 0 || (shows_change && status == CommentStatus::Approved) {
            let meta = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(&old.pk, META)))
                .update_expression("SET comment_count = comment_count + :delta, thread_version = :version")
                .expression_attribute_values(":delta", n(delta))
                .expression_attribute_values(":version", s(thread_version()))
                .build();
            tx.write(TransactWriteItem::builder().update(build(meta)).build());
        }
        tx
    }

    /// Removes a comment. One with replies stays as a `deleted` placeholder so its
    /// thread holds together; one without goes entirely, with its pointer. The post's
    /// count drops by one if the comment was counted.
    pub async fn delete_comment(&self, comment: &Comment) -> Result<(), StoreError> {
        let counted = comment.status == CommentStatus::Approved && !comment.deleted;
        let mut tx = Tx::new();
        let meta = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(&comment.pk, META)))
            .update_expression("SET comment_count = comment_count - :dec, thread_version = :version")
            .expression_attribute_values(":version", s(thread_version()))
            .expression_attribute_values(":dec", n(u64::from(counted)))
            .build();
        if comment.reply_count > 0 {
            let placeholder = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(&comment.pk, &comment.sk)))
                .update_expression("SET deleted = :true, body = :empty, body_html = :empty, author = :empty, website = :null REMOVE GSI1PK, GSI1SK")
                .expression_attribute_values(":true", AttributeValue::Bool(true))
                .expression_attribute_values(":false", AttributeValue::Bool(false))
                .expression_attribute_values(":empty", s(""))
                .expression_attribute_values(":null", AttributeValue::Null(true))
                .condition_expression("attribute_exists(PK) AND deleted = :false")
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .build();
            tx.check(Check::CommentThere, TransactWriteItem::builder().update(build(placeholder)).build());
        } else {
            // A reply that lands meanwhile raises reply_count and fails this condition; so
            // does a delete that got there first (the comment is gone).
            let delete = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(&comment.pk, &comment.sk)))
                .condition_expression(
                    "attribute_exists(PK) AND (attribute_not_exists(reply_count) OR reply_count = :zero)",
                )
                .expression_attribute_values(":zero", n(0))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .build();
            tx.check(Check::CommentThere, TransactWriteItem::builder().delete(build(delete)).build());
            let pointer =
                Delete::builder().table_name(&self.table).set_key(Some(key(&pointer_pk(&comment.id), META))).build();
            tx.write(TransactWriteItem::builder().delete(build(pointer)).build());
            if let Some(parent_sk) = comment.parent_sk()? {
                let parent = Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(key(&comment.pk, &parent_sk)))
                    .update_expression("SET reply_count = reply_count - :one")
                    .condition_expression("attribute_exists(PK)")
                    .expression_attribute_values(":one", n(1))
                    .build();
                tx.check(Check::RepliesUnchanged, TransactWriteItem::builder().update(build(parent)).build());
            }
        }
        if counted || comment.is_public() {
            tx.write(TransactWriteItem::builder().update(build(meta)).build());
        }
        match self.run(tx).await {
            Ok(()) => Ok(()),
            // Deleted meanwhile by someone else (a second click, the moderator): gone.
            Err(TxError::Checks(failed)) if failed.has(Check::CommentThere) => match failed.old(Check::CommentThere) {
                None => Err(StoreError::NotFound(Missing::Comment(comment.id.clone()))),
                // Still there, so it changed: a reply landed, or it was deleted to a placeholder.
                Some(_) => Err(StoreError::Conflict(Check::RepliesUnchanged)),
            },
            Err(err) => Err(err.into()),
        }
    }

    /// The moderation queue (`Pending`) or the spam folder (`Spam`), across every post.
    pub async fn held_comments(
        &self,
        status: CommentStatus,
        page: &Page,
        newest_first: bool,
    ) -> Result<(Vec<Comment>, Option<String>), StoreError> {
        let queue = queue_of(status).ok_or_else(|| super::corrupt("approved comments have no queue"))?;
        let (items, next) = self.gsi1_page(queue, page, newest_first).await?;
        let comments = items.iter().map(from_item).collect::<Result<_, _>>()?;
        Ok((comments, next))
    }

    /// How many comments each post has held and in spam (by slug), from the index's keys.
    pub async fn held_counts(&self) -> Result<HashMap<String, (u64, u64)>, StoreError> {
        let mut counts: HashMap<String, (u64, u64)> = HashMap::new();
        for (queue, spam) in [(PENDING, false), (keys::SPAM, true)] {
            let mut page = Page { limit: Page::MAX_LIMIT, cursor: None };
            loop {
                let (entries, next) = self.gsi1_keys_page(queue, &page, false).await?;
                for entry in &entries {
                    let Some(slug) =
                        entry.get("PK").and_then(|v| v.as_s().ok()).and_then(|pk| pk.strip_prefix("POST#"))
                    else {
                        continue;
                    };
                    let count = counts.entry(slug.to_owned()).or_default();
                    if spam { count.1 += 1 } else { count.0 += 1 }
                }
                match next {
                    Some(cursor) => page.cursor = Some(cursor),
                    None => break,
                }
            }
        }
        Ok(counts)
    }

    /// Moves a comment to `status` (approve or spam), keeping the post's count exact and
    /// remembering an approved commenter so the first-time rule lets them through.
    pub async fn moderate(&self, comment: &Comment, status: CommentStatus, now: Timestamp) -> Result<(), StoreError> {
        if comment.status == status {
            return Ok(());
        }
        let mut tx = self.change_status(comment, comment, status, now, None);
        if let (CommentStatus::Approved, Some(email), Some(key_hash)) =
            (status, &comment.email_hash, &comment.commenter_key_hash)
        {
            // One record per address, with every browser key it was approved with.
            let known = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(&keys::commenter(email), META)))
                .update_expression("ADD #keys :key")
                .expression_attribute_names("#keys", "keys")
                .expression_attribute_values(":key", AttributeValue::Ss(vec![key_hash.clone()]))
                .build();
            tx.write(TransactWriteItem::builder().update(build(known)).build());
        }
        self.transact(tx).await
    }

    /// Forgets that a commenter (by address hash) has had a comment approved.
    pub async fn forget_commenter(&self, email_hash: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(&keys::commenter(email_hash), META)))
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(())
    }

    /// Whether a commenter has had a comment approved that they sent with this address
    /// and this commenter key (both hashed).
    pub async fn known_commenter(&self, email_hash: &str, key_hash: &str) -> Result<bool, StoreError> {
        let output = self.get_by_key(&keys::commenter(email_hash), META, false).await?;
        let keys = output.item().and_then(|item| item.get("keys")).and_then(|keys| keys.as_ss().ok());
        Ok(keys.is_some_and(|keys| keys.iter().any(|k| k == key_hash)))
    }

    /// Comment counts of many posts in one `BatchGetItem` per hundred; unknown posts count 0.
    pub async fn comment_counts(&self, slugs: &[Slug]) -> Result<HashMap<String, u64>, StoreError> {
        let mut counts: HashMap<String, u64> = slugs.iter().map(|slug| (slug.to_string(), 0)).collect();
        let mut unique: Vec<&Slug> = slugs.iter().collect();
        unique.sort();
        unique.dedup();
        let keys = unique.iter().map(|slug| key(&pk(slug), META)).collect();
        for item in self.batch_get(keys, Some("slug, comment_count, deleted")).await? {
            let deleted = item.get("deleted").and_then(|d| d.as_bool().ok()).copied().unwrap_or(false);
            let slug = item.get("slug").and_then(|v| v.as_s().ok());
            let count = item.get("comment_count").and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok());
            if let (false, Some(slug), Some(count)) = (deleted, slug, count) {
                counts.insert(slug.clone(), count);
            }
        }
        Ok(counts)
    }
}

/// A stored comment, decoded, with every path computation a write makes from it (see
/// [`super::decode_stored`]).
pub(super) fn decode_stored(item: &HashMap<String, AttributeValue>, now: Timestamp) -> Result<Comment, StoreError> {
    let comment: Comment = from_item(item)?;
    let _ = (comment.top_level(), comment.is_public(), comment.editable_at(now));
    for status in [CommentStatus::Approved, CommentStatus::Pending, CommentStatus::Spam] {
        let _ = comment.sk_for(status);
    }
    comment.parent_sk()?;
    Ok(comment)
}

fn to_value(status: CommentStatus) -> AttributeValue {
    serde_dynamo::to_attribute_value(status).expect("a status serialises")
}

/// A fresh thread version: any value that differs from every earlier one.
pub(crate) fn thread_version() -> String {
    ulid::Ulid::new().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ClientLimits {
        ClientLimits { client: "c".into(), body_hash: "new".into(), writes_per_minute: 3 }
    }

    fn item(pairs: &[(&str, AttributeValue)]) -> HashMap<String, AttributeValue> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
    }

    #[test]
    fn a_minute_counts_in_its_parity_slot_and_clears_the_other() {
        assert_eq!(window_slots(10), (("w0", "m0"), ("w1", "m1")));
        assert_eq!(window_slots(11), (("w1", "m1"), ("w0", "m0")));
        assert_eq!(window_slots(-1), (("w1", "m1"), ("w0", "m0")));
    }

    #[test]
    fn a_refused_writer_item_tells_why() {
        let now = t::parse("2026-12-02T10:00:30Z").unwrap();
        let minute = now.unix_timestamp().div_euclid(60);
        let ((count, at), _) = window_slots(minute);
        let later = n(now.unix_timestamp() + 60);
        let full = item(&[(count, n(3)), (at, n(minute)), ("body_hash", s("old")), ("expires_at", later.clone())]);
        assert_eq!(WriterState::of(Some(&full), &limits(), now), WriterState::Full);
        // A full window is a 429 even for the same body again.
        let full_repeat =
            item(&[(count, n(3)), (at, n(minute)), ("body_hash", s("new")), ("expires_at", later.clone())]);
        assert_eq!(WriterState::of(Some(&full_repeat), &limits(), now), WriterState::Full);
        let repeat = item(&[(count, n(1)), (at, n(minute)), ("body_hash", s("new")), ("expires_at", later.clone())]);
        assert_eq!(WriterState::of(Some(&repeat), &limits(), now), WriterState::Repeat);
        // The same body after its day is not a repeat, nor is it one from an earlier minute's count.
        let stale_body = item(&[(count, n(3)), (at, n(minute - 2)), ("body_hash", s("new")), ("expires_at", n(1))]);
        assert_eq!(WriterState::of(Some(&stale_body), &limits(), now), WriterState::EarlierMinute);
        let earlier =
            item(&[(count, n(3)), (at, n(minute - 2)), ("body_hash", s("old")), ("expires_at", later.clone())]);
        assert_eq!(WriterState::of(Some(&earlier), &limits(), now), WriterState::EarlierMinute);
        let raced = item(&[(count, n(1)), (at, n(minute)), ("body_hash", s("old")), ("expires_at", later)]);
        assert_eq!(WriterState::of(Some(&raced), &limits(), now), WriterState::ThisMinute);
        assert_eq!(WriterState::of(None, &limits(), now), WriterState::EarlierMinute);
    }
}
