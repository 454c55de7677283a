//! Comments brought over from another system by `rally import`, written as Rally writes
//! its own (the comment under its thread path, its id pointer, the post's count and
//! thread version, the sequence of top-level numbers), each with a marker under its
//! source id, so an import run twice, or again after an interruption, adds nothing twice.
//!
//! A thread is written in chunks, in the order the caller gives (oldest first). A chunk's
//! transaction puts the chunk's markers (each only if absent), moves the post's count and
//! thread version, and takes the chunk's top-level numbers from the post's sequence
//! (conditioned on the sequence as it was read, so a reader's comment racing for a number
//! makes the chunk try again); then the comments and their pointers are put with
//! `BatchWriteItem`, and the thread version moves again (a reader between the two may have
//! kept a page without them). A run interrupted between the two finds the markers and puts
//! the items they name: the same items, since an imported comment's id derives from its
//! source id and date, and its number and path are in its marker.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::comments::{NUMBER_WIDTH, Pointer, pointer_pk, queue_of, thread_version};
use super::keys::{self, HIDDEN_COMMENT as HIDDEN, META, POST_SEQUENCE, PUBLIC_COMMENT as PUBLIC, post as pk};
use super::{
    Check, Comment, CommentStatus, Missing, Store, StoreError, Tx, TxError, build, from_item, key, n, s, to_item,
};
use domain::comment::MAX_DEPTH;
use domain::post::Slug;
use domain::time::{self as t, Timestamp};

/// Comments a transaction marks: with the post and the sequence, well under DynamoDB's
/// 100 items.
const CHUNK: usize = 25;
/// How often a chunk is tried when a reader's comment took a number meanwhile.
const ATTEMPTS: u32 = 8;

/// One comment of the source, mapped to what Rally stores.
#[derive(Debug, Clone)]
pub struct ImportComment {
    /// `{format}#{its id in the source}`: what makes a second import skip it.
    pub source: String,
    /// The source key of the comment it answers.
    pub parent: Option<String>,
    pub author: String,
    pub website: Option<String>,
    /// Markdown, rendered as a new comment's body is.
    pub body: String,
    pub body_html: String,
    pub created_at: Timestamp,
    pub status: CommentStatus,
    /// Deleted in the source: kept as a placeholder (no author, no text) where it has
    /// replies, so they keep their place; left out otherwise.
    pub deleted: bool,
    pub email_hash: Option<String>,
}

/// Why a comment of the source was not brought over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// Deleted, and nothing answers it.
    DeletedWithoutReplies,
    /// It answers a comment the source does not have.
    ParentMissing(String),
    /// It answers a comment that was not brought over.
    ParentSkipped(String),
}

/// What an import of one thread did (or, in a dry run, would do).
#[derive(Debug, Default, Clone)]
pub struct ThreadImport {
    pub counts: ImportCounts,
    pub skipped: Vec<(String, Skip)>,
}

/// An import's comments by what became of them: one thread's, or a whole run's summed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ImportCounts {
    /// Newly written (or to be), by status, placeholders apart.
    pub approved: usize,
    pub held: usize,
    pub spam: usize,
    pub placeholders: usize,
    /// Already there from an earlier import.
    pub already: usize,
    /// Replies deeper than Rally nests, hung under their deepest allowed ancestor.
    pub flattened: usize,
}

impl std::ops::AddAssign for ImportCounts {
    fn add_assign(&mut self, other: Self) {
        self.approved += other.approved;
        self.held += other.held;
        self.spam += other.spam;
        self.placeholders += other.placeholders;
        self.already += other.already;
        self.flattened += other.flattened;
    }
}

/// The marker of an imported comment, under its source key.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Marker {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    id: String,
    post: String,
    /// The comment's sort key and top-level number in the post.
    path: String,
    number: Option<u64>,
}

/// A comment's id: a ULID whose time is the comment's and whose randomness comes from
/// its source key, so every import of it makes the same one.
pub fn imported_id(source: &str, created_at: Timestamp) -> String {
    let digest = Sha256::digest(source.as_bytes());
    let mut random = [0u8; 16];
    random[6..].copy_from_slice(&digest[..10]);
    let millis = u64::try_from(t::millis(created_at)).unwrap_or(0);
    ulid::Ulid::from_parts(millis, u128::from_be_bytes(random)).to_string()
}

/// A comment in the order it is written, with what the thread decided about it.
struct Planned<'a> {
    comment: &'a ImportComment,
    id: String,
    /// The source key it hangs under in Rally (its parent, or the deepest ancestor
    /// Rally nests to), and that comment's Rally id.
    parent: Option<String>,
    parent_id: Option<String>,
    depth: u32,
    replies: u64,
}

impl Store {
    /// Imports one thread's comments into post `slug` (which must exist); `comments` are
    /// the thread's, oldest first. With `dry_run`, only reads: what would be written.
    pub async fn import_thread(
        &self,
        slug: &Slug,
        comments: &[ImportComment],
        dry_run: bool,
    ) -> Result<ThreadImport, StoreError> {
        let mut outcome = ThreadImport::default();
        let planned = plan(comments, &mut outcome);
        let markers = self.markers(planned.iter().map(|p| p.comment.source.as_str())).await?;
        let (mut known, mut fresh): (Vec<&Planned>, Vec<&Planned>) =
            planned.iter().partition(|p| markers.contains_key(&p.comment.source));
        let counts = &mut outcome.counts;
        counts.already = known.len();
        for p in &fresh {
            match (p.comment.deleted, p.comment.status) {
                (true, _) => counts.placeholders += 1,
                (false, CommentStatus::Approved) => counts.approved += 1,
                (false, CommentStatus::Pending) => counts.held += 1,
                (false, CommentStatus::Spam) => counts.spam += 1,
            }
        }
        if dry_run {
            return Ok(outcome);
        }
        let mut paths: HashMap<String, (String, Option<u64>)> =
            markers.iter().map(|(source, m)| (source.clone(), (m.path.clone(), m.number))).collect();
        // Items an interrupted run marked but did not write.
        self.write_missing(slug, &mut known, &paths).await?;
        while !fresh.is_empty() {
            let take = fresh.len().min(CHUNK);
            let chunk: Vec<&Planned> = fresh.drain(..take).collect();
            self.write_chunk(slug, &chunk, &mut paths).await?;
        }
        Ok(outcome)
    }

    /// The markers of these source keys that exist, by source key.
    async fn markers(&self, sources: impl Iterator<Item = &str>) -> Result<HashMap<String, Marker>, StoreError> {
        let wanted: Vec<(String, String)> = sources.map(|s| (keys::imported(s), META.to_owned())).collect();
        let mut found = HashMap::new();
        for item in self.batch_get_in_order(wanted).await? {
            let marker: Marker = from_item(&item)?;
            let source = marker.pk.strip_prefix(keys::IMPORTED_PREFIX).unwrap_or(&marker.pk).to_owned();
            found.insert(source, marker);
        }
        Ok(found)
    }

    /// Puts the comments (and pointers) of markers whose comment is not there.
    async fn write_missing(
        &self,
        slug: &Slug,
        known: &mut [&Planned<'_>],
        paths: &HashMap<String, (String, Option<u64>)>,
    ) -> Result<(), StoreError> {
        let pointers: Vec<(String, String)> = known.iter().map(|p| (pointer_pk(&p.id), META.to_owned())).collect();
        let there: std::collections::HashSet<String> = self
            .batch_get_in_order(pointers)
            .await?
            .iter()
            .filter_map(|item| item.get("PK")?.as_s().ok().cloned())
            .collect();
        let missing: Vec<&&Planned> = known.iter().filter(|p| !there.contains(&pointer_pk(&p.id))).collect();
        if missing.is_empty() {
            return Ok(());
        }
        let mut items = Vec::new();
        for p in missing {
            let (path, number) = paths.get(&p.comment.source).cloned().unwrap_or_default();
            items.extend(items_of(slug, p, path, number));
        }
        self.batch_put(items).await?;
        self.thread_changed(slug).await
    }

    /// A new thread version for the post, so no reader reuses a page read before.
    async fn thread_changed(&self, slug: &Slug) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(&pk(slug), META)))
            .update_expression("SET thread_version = :version")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":version", s(thread_version()))
            .send()
            .await
            .map_err(super::sdk_error)
            .map(drop)
    }

    /// Marks, counts and numbers one chunk in a transaction, then writes its items.
    async fn write_chunk(
        &self,
        slug: &Slug,
        chunk: &[&Planned<'_>],
        paths: &mut HashMap<String, (String, Option<u64>)>,
    ) -> Result<(), StoreError> {
        let partition = pk(slug);
        let top_level = chunk.iter().filter(|p| p.parent.is_none()).count() as u64;
        let counted =
            chunk.iter().filter(|p| p.comment.status == CommentStatus::Approved && !p.comment.deleted).count();
        for attempt in 1..=ATTEMPTS {
            let sequence = self.sequence(slug).await?;
            let mut next = sequence;
            let mut chunk_paths: Vec<(String, String, Option<u64>)> = Vec::new();
            let mut tx = Tx::new();
            for p in chunk {
                let (path, number) = match &p.parent {
                    None => {
                        next += 1;
                        (format!("{next:0width$}", width = NUMBER_WIDTH), Some(next))
                    }
                    Some(parent) => {
                        let parent_path = chunk_paths
                            .iter()
                            .find(|(source, ..)| source == parent)
                            .map(|(_, path, _)| path.clone())
                            .or_else(|| paths.get(parent).map(|(path, _)| path.clone()))
                            .ok_or_else(|| super::corrupt(format!("imported reply {} before its parent", p.id)))?;
                        (format!("{parent_path}#{}", p.id), None)
                    }
                };
                let marker = Marker {
                    pk: keys::imported(&p.comment.source),
                    sk: META.into(),
                    id: p.id.clone(),
                    post: slug.to_string(),
                    path: path.clone(),
                    number,
                };
                tx.check(Check::Fresh, self.put_new(to_item(&marker)));
                chunk_paths.push((p.comment.source.clone(), path, number));
            }
            let meta = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(&partition, META)))
                .update_expression("SET comment_count = comment_count + :count, thread_version = :version")
                .condition_expression("attribute_exists(PK) AND deleted = :false")
                .expression_attribute_values(":count", n(counted))
                .expression_attribute_values(":version", s(thread_version()))
                .expression_attribute_values(":false", AttributeValue::Bool(false))
                .build();
            tx.check(Check::PostLive, TransactWriteItem::builder().update(build(meta)).build());
            if top_level > 0 {
                let mut numbers = Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(key(&partition, POST_SEQUENCE)))
                    .update_expression("SET next_number = :next")
                    .expression_attribute_values(":next", n(next));
                numbers = if sequence == 0 {
                    numbers.condition_expression("attribute_not_exists(next_number)")
                } else {
                    numbers
                        .condition_expression("next_number = :read")
                        .expression_attribute_values(":read", n(sequence))
                };
                tx.check(Check::NumberUnchanged, TransactWriteItem::builder().update(build(numbers.build())).build());
            }
            match self.run(tx).await {
                Ok(()) => {
                    let mut items = Vec::new();
                    for (p, (source, path, number)) in chunk.iter().zip(chunk_paths) {
                        items.extend(items_of(slug, p, path.clone(), number));
                        paths.insert(source, (path, number));
                    }
                    self.batch_put(items).await?;
                    // A reader between the two writes may have kept a page without them.
                    return self.thread_changed(slug).await;
                }
                Err(TxError::Checks(failed)) if failed.has(Check::PostLive) => {
                    return Err(StoreError::NotFound(Missing::Post(slug.to_string())));
                }
                // A reader's comment took a number, or another import marked one of these.
                Err(TxError::Checks(_)) if attempt < ATTEMPTS => continue,
                Err(err) => return Err(err.into()),
            }
        }
        Err(StoreError::Conflict(Check::NumberUnchanged))
    }

    /// The post's last top-level number (0 before the first), read consistently.
    async fn sequence(&self, slug: &Slug) -> Result<u64, StoreError> {
        let output = self.get_by_key(&pk(slug), POST_SEQUENCE, true).await?;
        Ok(output
            .item()
            .and_then(|item| item.get("next_number"))
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }
}

/// Orders a thread parents first (each in date order), hangs replies deeper than Rally
/// nests under their deepest allowed ancestor, and leaves out what cannot come: replies
/// to a comment the source lacks (or that is left out), and deleted comments nothing
/// answers.
fn plan<'a>(comments: &'a [ImportComment], outcome: &mut ThreadImport) -> Vec<Planned<'a>> {
    let by_source: HashMap<&str, usize> = comments.iter().enumerate().map(|(i, c)| (c.source.as_str(), i)).collect();
    // Parents first: each comment after its whole chain of ancestors.
    let mut order = Vec::with_capacity(comments.len());
    let mut placed = vec![false; comments.len()];
    for start in 0..comments.len() {
        let mut chain = vec![start];
        let mut at = start;
        while let Some(parent) = comments[at].parent.as_deref().and_then(|p| by_source.get(p)).copied() {
            if placed[parent] || chain.contains(&parent) {
                break;
            }
            chain.push(parent);
            at = parent;
        }
        for &i in chain.iter().rev() {
            if !placed[i] {
                placed[i] = true;
                order.push(i);
            }
        }
    }
    // Who each hangs under, and how deep; a missing parent leaves its line out.
    let mut kept: Vec<Option<(Option<usize>, u32)>> = vec![None; comments.len()];
    for &i in &order {
        let c = &comments[i];
        kept[i] = match c.parent.as_deref() {
            None => Some((None, 0)),
            Some(parent) => match by_source.get(parent).copied() {
                None => {
                    outcome.skipped.push((c.source.clone(), Skip::ParentMissing(parent.to_owned())));
                    None
                }
                Some(p) => match kept[p] {
                    None => {
                        outcome.skipped.push((c.source.clone(), Skip::ParentSkipped(parent.to_owned())));
                        None
                    }
                    Some((_, depth)) if depth < MAX_DEPTH => Some((Some(p), depth + 1)),
                    Some((grandparent, depth)) => {
                        outcome.counts.flattened += 1;
                        Some((grandparent, depth))
                    }
                },
            },
        };
    }
    // Deleted comments stay only as the place of their replies: from the newest up.
    let mut replies = vec![0u64; comments.len()];
    for &i in order.iter().rev() {
        let Some((parent, _)) = kept[i] else { continue };
        if comments[i].deleted && replies[i] == 0 {
            kept[i] = None;
            outcome.skipped.push((comments[i].source.clone(), Skip::DeletedWithoutReplies));
            continue;
        }
        if let Some(p) = parent {
            replies[p] += 1;
        }
    }
    order
        .into_iter()
        .filter_map(|i| {
            let (parent, depth) = kept[i]?;
            let comment = &comments[i];
            Some(Planned {
                comment,
                id: imported_id(&comment.source, comment.created_at),
                parent: parent.map(|p| comments[p].source.clone()),
                parent_id: parent.map(|p| imported_id(&comments[p].source, comments[p].created_at)),
                depth,
                replies: replies[i],
            })
        })
        .collect()
}

/// The comment's item and its id pointer, at `path` (`00000004` or `00000004#{id}…`).
fn items_of(slug: &Slug, p: &Planned<'_>, path: String, number: Option<u64>) -> [HashMap<String, AttributeValue>; 2] {
    let c = p.comment;
    // What the thread shows, and what has replies, lives under `C#`; the rest under `X#`.
    let shown = c.deleted || c.status == CommentStatus::Approved || p.replies > 0;
    let sk = format!("{}{path}", if shown { PUBLIC } else { HIDDEN });
    let queued = (!c.deleted).then(|| queue_of(c.status)).flatten();
    let comment = Comment {
        pk: pk(slug),
        sk: sk.clone(),
        gsi1pk: queued.map(str::to_owned),
        gsi1sk: queued.map(|_| format!("{}#{}", t::format(c.created_at), p.id)),
        id: p.id.clone(),
        post: slug.to_string(),
        parent_id: p.parent_id.clone(),
        depth: p.depth,
        number,
        author: if c.deleted { String::new() } else { c.author.clone() },
        website: if c.deleted { None } else { c.website.clone() },
        body: if c.deleted { String::new() } else { c.body.clone() },
        body_html: if c.deleted { String::new() } else { c.body_html.clone() },
        created_at: t::format(c.created_at),
        edited_at: None,
        deleted: c.deleted,
        is_post_author: false,
        status: c.status,
        email_hash: c.email_hash.clone(),
        commenter_key_hash: None,
        edit_token_hash: None,
        reply_count: p.replies,
        notify_address: None,
        shown_ms: (c.status == CommentStatus::Approved).then(|| t::millis(c.created_at)),
        held_reason: None,
        imported: true,
    };
    let pointer = Pointer { pk: pointer_pk(&p.id), sk: META.into(), post: slug.to_string(), path: sk, depth: p.depth };
    [to_item(&comment), to_item(&pointer)]
}
