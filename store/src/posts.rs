//! Posts in the table: a `#META` item (the summary, on `GSI1` for the newest-first
//! list), a `#BODY` item, and one `#TAG#` item per tag (on `GSI1` for the tag lists).
//! Every write that touches more than one of them is one transaction.

use std::collections::{BTreeMap, HashMap, HashSet};

use aws_sdk_dynamodb::types::{AttributeValue, Delete, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use super::Page;
use super::{Check, GSI1, Missing, Store, StoreError, Tx, build, corrupt, from_item, key, s, sdk_error, to_item};
use domain::post::{Post, PostFields, PostSummary, Slug, Tag};
use domain::time::{self as t, Timestamp};

use super::keys::{self, ALL_POSTS, META, POST_BODY as BODY};
/// How many of each tag's newest posts are weighed when looking for related posts.
const RELATED_CANDIDATES_PER_TAG: i32 = 100;

pub(crate) use keys::post as pk;

/// Posts list newest first; the slug breaks ties between posts published the same second.
fn by_date(published_at: Timestamp, slug: &Slug) -> String {
    keys::by_date(&t::format(published_at), slug)
}

#[derive(Serialize, Deserialize)]
struct MetaItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    #[serde(rename = "GSI1PK", default, skip_serializing_if = "Option::is_none")]
    gsi1pk: Option<String>,
    #[serde(rename = "GSI1SK", default, skip_serializing_if = "Option::is_none")]
    gsi1sk: Option<String>,
    slug: String,
    title: String,
    author: String,
    tags: Vec<String>,
    published_at: String,
    comments_close_after_days: Option<u32>,
    comment_count: u64,
    petition: Option<String>,
    pledge: Option<String>,
    created_at: String,
    updated_at: String,
    version: u64,
    /// Changed by every write that changes what the post's public thread shows (kept by
    /// the comments store), so a reader may reuse a thread page it read at this version.
    #[serde(default, skip_serializing)]
    thread_version: Option<String>,
    /// Set by a delete that has not finished purging the post's comments.
    #[serde(default)]
    deleted: bool,
}

impl MetaItem {
    fn new(post: &PostSummary) -> Self {
        let f = post;
        Self {
            pk: pk(&post.slug),
            sk: META.into(),
            gsi1pk: Some(ALL_POSTS.into()),
            gsi1sk: Some(by_date(post.published_at, &post.slug)),
            slug: post.slug.to_string(),
            title: f.title.clone(),
            author: f.author.clone(),
            tags: f.tags.iter().map(|t| t.as_ref().to_owned()).collect(),
            published_at: t::format(post.published_at),
            comments_close_after_days: f.comments_close_after_days,
            comment_count: post.comment_count,
            petition: f.petition.as_ref().map(ToString::to_string),
            pledge: f.pledge.as_ref().map(ToString::to_string),
            created_at: t::format(post.created_at),
            updated_at: t::format(post.updated_at),
            version: post.version,
            thread_version: None,
            deleted: false,
        }
    }

    fn into_summary(self) -> Result<PostSummary, StoreError> {
        let parse_slug = |raw: Option<String>| raw.map(|r| Slug::parse(&r).map_err(corrupt)).transpose();
        Ok(PostSummary {
            slug: Slug::parse(&self.slug).map_err(corrupt)?,
            title: self.title,
            author: self.author,
            tags: self.tags.iter().map(|t| Tag::parse(t).map_err(corrupt)).collect::<Result<_, _>>()?,
            published_at: t::parse(&self.published_at).map_err(corrupt)?,
            comments_close_after_days: self.comments_close_after_days,
            petition: parse_slug(self.petition)?,
            pledge: parse_slug(self.pledge)?,
            comment_count: self.comment_count,
            created_at: t::parse(&self.created_at).map_err(corrupt)?,
            updated_at: t::parse(&self.updated_at).map_err(corrupt)?,
            version: self.version,
        })
    }
}

#[derive(Serialize, Deserialize)]
struct BodyItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    body: String,
}

#[derive(Serialize, Deserialize)]
struct TagItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    #[serde(rename = "GSI1PK")]
    gsi1pk: String,
    #[serde(rename = "GSI1SK")]
    gsi1sk: String,
    slug: String,
}

/// The post a tag's index entry points at, from its keys alone (the index holds no
/// other attribute): the entry lives in the post's partition.
fn tagged_post(entry: &HashMap<String, AttributeValue>) -> Result<(String, String), StoreError> {
    let text = |name: &str| entry.get(name).and_then(|v| v.as_s().ok());
    let slug = text(keys::PK).and_then(|pk| pk.strip_prefix("POST#"));
    match (slug, text(keys::GSI1SK)) {
        (Some(slug), Some(order)) => Ok((slug.to_owned(), order.clone())),
        _ => Err(StoreError::Corrupt("a tag's index entry outside a post's partition".into())),
    }
}

use keys::tag_posts as tag_pk;

impl Store {
    fn tag_put(&self, post: &PostSummary, tag: &Tag) -> TransactWriteItem {
        self.put(to_item(&TagItem {
            pk: pk(&post.slug),
            sk: keys::post_tag(tag),
            gsi1pk: tag_pk(tag),
            gsi1sk: by_date(post.published_at, &post.slug),
            slug: post.slug.to_string(),
        }))
    }

    fn tag_delete(&self, slug: &Slug, tag: &Tag) -> TransactWriteItem {
        let delete = build(
            Delete::builder().table_name(&self.table).set_key(Some(key(&pk(slug), &keys::post_tag(tag)))).build(),
        );
        TransactWriteItem::builder().delete(delete).build()
    }

    /// Creates a post, its body and its tags at once; 409 when the slug is taken.
    pub async fn create_post(&self, slug: Slug, fields: PostFields, now: Timestamp) -> Result<Post, StoreError> {
        let published_at = fields.published_at.unwrap_or(now);
        let post = Post::new(slug, fields, published_at, now);
        let mut items = vec![
            self.put_new(to_item(&MetaItem::new(&post.summary))),
            self.put(to_item(&BodyItem { pk: pk(&post.summary.slug), sk: BODY.into(), body: post.body.clone() })),
        ];
        items.extend(post.summary.tags.iter().map(|tag| self.tag_put(&post.summary, tag)));
        self.transact(Tx::first_checked(Check::SlugFree, items)).await?;
        Ok(post)
    }

    /// The post with its body, in one `Query` of its partition.
    pub async fn get_post(&self, slug: &Slug) -> Result<Option<Post>, StoreError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND SK BETWEEN :body AND :meta")
            .expression_attribute_values(":pk", s(pk(slug)))
            .expression_attribute_values(":body", s(BODY))
            .expression_attribute_values(":meta", s(META))
            .send()
            .await
            .map_err(sdk_error)?;
        let mut meta = None;
        let mut body = String::new();
        for item in output.items() {
            match item.get("SK").and_then(|v| v.as_s().ok()).map(String::as_str) {
                Some(META) => meta = Some(from_item::<MetaItem>(item)?),
                Some(BODY) => body = from_item::<BodyItem>(item)?.body,
                _ => {}
            }
        }
        match meta {
            Some(meta) if !meta.deleted => Ok(Some(Post { summary: meta.into_summary()?, body })),
            _ => Ok(None),
        }
    }

    /// The post without its body: one `GetItem` of its `#META`.
    pub async fn get_post_summary(&self, slug: &Slug) -> Result<Option<PostSummary>, StoreError> {
        let output = self.get_by_key(&pk(slug), META, false).await?;
        match output.item().map(from_item::<MetaItem>).transpose()? {
            Some(meta) if !meta.deleted => Ok(Some(meta.into_summary()?)),
            _ => Ok(None),
        }
    }

    /// The post and its thread's version, read consistently: what a thread read needs to
    /// know whether a page it has already read is still current.
    pub async fn post_for_thread(&self, slug: &Slug) -> Result<Option<(PostSummary, Option<String>)>, StoreError> {
        let output = self.get_by_key(&pk(slug), META, true).await?;
        match output.item().map(from_item::<MetaItem>).transpose()? {
            Some(meta) if !meta.deleted => {
                let version = meta.thread_version.clone();
                Ok(Some((meta.into_summary()?, version)))
            }
            _ => Ok(None),
        }
    }

    /// The post, read consistently: what a new comment checks its window against.
    pub async fn post_for_comment(&self, slug: &Slug) -> Result<Option<PostSummary>, StoreError> {
        let output = self.get_by_key(&pk(slug), META, true).await?;
        match output.item().map(from_item::<MetaItem>).transpose()? {
            Some(meta) if !meta.deleted => Ok(Some(meta.into_summary()?)),
            _ => Ok(None),
        }
    }

    /// Replaces a post's editable fields. The comment count is left to the comments
    /// that keep it, and the version condition turns a concurrent edit into a 409
    /// rather than tags that match neither edit.
    pub async fn update_post(&self, slug: &Slug, fields: PostFields, now: Timestamp) -> Result<Post, StoreError> {
        let old = self.get_post(slug).await?.ok_or_else(|| not_found(slug))?;
        let old = old.summary;
        let published_at = fields.published_at.unwrap_or(old.published_at);
        let mut post = Post::new(slug.clone(), fields, published_at, now);
        post.summary.comment_count = old.comment_count;
        post.summary.created_at = old.created_at;
        post.summary.version = old.version.saturating_add(1);
        let meta = MetaItem::new(&post.summary);
        let update = build(
            Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(&meta.pk, META)))
                .update_expression(
                    "SET title = :title, author = :author, tags = :tags, published_at = :published_at, \
                     comments_close_after_days = :window, petition = :petition, pledge = :pledge, \
                     updated_at = :updated_at, version = :version, GSI1SK = :gsi1sk",
                )
                .condition_expression("version = :old_version AND deleted = :false")
                .set_expression_attribute_values(Some(HashMap::from([
                    (":title".into(), s(&meta.title)),
                    (":author".into(), s(&meta.author)),
                    (":tags".into(), AttributeValue::L(meta.tags.iter().map(s).collect())),
                    (":published_at".into(), s(&meta.published_at)),
                    (
                        ":window".into(),
                        serde_dynamo::to_attribute_value(meta.comments_close_after_days).expect("serialises"),
                    ),
                    (":petition".into(), serde_dynamo::to_attribute_value(&meta.petition).expect("serialises")),
                    (":pledge".into(), serde_dynamo::to_attribute_value(&meta.pledge).expect("serialises")),
                    (":updated_at".into(), s(&meta.updated_at)),
                    (":version".into(), AttributeValue::N(post.summary.version.to_string())),
                    (":gsi1sk".into(), s(meta.gsi1sk.clone().unwrap_or_default())),
                    (":old_version".into(), AttributeValue::N(old.version.to_string())),
                    (":false".into(), AttributeValue::Bool(false)),
                ])))
                .build(),
        );
        let mut items = vec![
            TransactWriteItem::builder().update(update).build(),
            self.put(to_item(&BodyItem { pk: meta.pk.clone(), sk: BODY.into(), body: post.body.clone() })),
        ];
        let kept: HashSet<&Tag> = post.summary.tags.iter().collect();
        items.extend(old.tags.iter().filter(|tag| !kept.contains(tag)).map(|tag| self.tag_delete(slug, tag)));
        items.extend(post.summary.tags.iter().map(|tag| self.tag_put(&post.summary, tag)));
        self.transact(Tx::first_checked(Check::PostUnchanged, items)).await?;
        Ok(post)
    }

    /// Deletes a post and everything in its partition (body, tags, comments). It first
    /// hides the post from every read and list in one transaction, then purges the rest;
    /// a delete interrupted during the purge is finished by the next one.
    pub async fn delete_post(&self, slug: &Slug) -> Result<(), StoreError> {
        let partition = pk(slug);
        let meta = self.get_by_key(&partition, META, true).await?;
        let meta: MetaItem = match meta.item() {
            Some(item) => from_item(item)?,
            None => return Err(not_found(slug)),
        };
        if !meta.deleted {
            let hide = build(
                Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(key(&partition, META)))
                    .update_expression("SET deleted = :true REMOVE GSI1PK, GSI1SK")
                    .condition_expression("version = :version")
                    .expression_attribute_values(":true", AttributeValue::Bool(true))
                    .expression_attribute_values(":version", AttributeValue::N(meta.version.to_string()))
                    .build(),
            );
            let mut items = vec![TransactWriteItem::builder().update(hide).build()];
            for tag in &meta.tags {
                items.push(self.tag_delete(slug, &Tag::parse(tag).map_err(corrupt)?));
            }
            self.transact(Tx::first_checked(Check::PostUnchanged, items)).await?;
        }
        self.purge_partition(&partition).await?;
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(&partition, META)))
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(())
    }

    /// Deletes every item of a partition but its `#META`, a page at a time, and the id
    /// pointer of every comment in it: a pointer that outlived its post would name the
    /// comment at the same place of a new post with the same slug.
    async fn purge_partition(&self, partition: &str) -> Result<(), StoreError> {
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk")
                .expression_attribute_values(":pk", s(partition))
                .projection_expression("PK, SK, id")
                .consistent_read(true)
                .send()
                .await
                .map_err(sdk_error)?;
            let mut doomed = Vec::new();
            for item in page.items() {
                let sk = item.get("SK").and_then(|v| v.as_s().ok()).map(String::as_str).unwrap_or(META);
                if sk == META {
                    continue;
                }
                if let (true, Some(id)) = (keys::is_comment(sk), item.get("id").and_then(|v| v.as_s().ok())) {
                    doomed.push(key(&keys::comment_pointer(id), META));
                }
                doomed.push(key(partition, sk));
            }
            if doomed.is_empty() {
                return Ok(());
            }
            self.batch_delete(doomed).await?;
        }
    }

    /// Posts newest first, optionally only those with `tag`: one `Query` of `GSI1`
    /// (plus one `BatchGetItem` for a tag, whose items point at the posts).
    pub async fn list_posts(
        &self,
        page: &Page,
        tag: Option<&Tag>,
    ) -> Result<(Vec<PostSummary>, Option<String>), StoreError> {
        let partition = tag.map_or_else(|| ALL_POSTS.to_owned(), tag_pk);
        let (entries, next) = self.gsi1_keys_page(&partition, page, true).await?;
        let posts = match tag {
            None => self
                .behind_index(&entries)
                .await?
                .iter()
                .map(|item| from_item::<MetaItem>(item)?.into_summary())
                .collect::<Result<_, _>>()?,
            Some(_) => {
                let slugs =
                    entries.iter().map(|entry| Ok(tagged_post(entry)?.0)).collect::<Result<Vec<_>, StoreError>>()?;
                self.posts_by_slug(&slugs).await?
            }
        };
        Ok((posts, next))
    }

    /// Posts sharing the most tags with `post`, then the newest; never `post` itself.
    pub async fn related_posts(&self, post: &PostSummary, limit: usize) -> Result<Vec<PostSummary>, StoreError> {
        let lookups = post.tags.iter().map(|tag| {
            self.client
                .query()
                .table_name(&self.table)
                .index_name(GSI1)
                .key_condition_expression("GSI1PK = :pk")
                .expression_attribute_values(":pk", s(tag_pk(tag)))
                .scan_index_forward(false)
                .limit(RELATED_CANDIDATES_PER_TAG)
                .send()
        });
        let mut shared_tags: BTreeMap<String, (usize, String)> = BTreeMap::new();
        for output in futures::future::join_all(lookups).await {
            for entry in output.map_err(sdk_error)?.items() {
                let (slug, order) = tagged_post(entry)?;
                if slug != post.slug.as_ref() {
                    shared_tags.entry(slug).or_insert((0, order)).0 += 1;
                }
            }
        }
        let mut ranked: Vec<(String, (usize, String))> = shared_tags.into_iter().collect();
        ranked.sort_by(|(_, (a_count, a_date)), (_, (b_count, b_date))| b_count.cmp(a_count).then(b_date.cmp(a_date)));
        let slugs: Vec<String> = ranked.into_iter().take(limit).map(|(slug, _)| slug).collect();
        self.posts_by_slug(&slugs).await
    }

    /// Post summaries for `slugs`, in that order, skipping any deleted meanwhile.
    async fn posts_by_slug(&self, slugs: &[String]) -> Result<Vec<PostSummary>, StoreError> {
        let wanted = slugs.iter().map(|slug| (keys::post_named(slug), META.to_owned())).collect();
        let mut posts = Vec::with_capacity(slugs.len());
        for item in self.batch_get_in_order(wanted).await? {
            let meta: MetaItem = from_item(&item)?;
            if !meta.deleted {
                posts.push(meta.into_summary()?);
            }
        }
        Ok(posts)
    }
}

/// A stored post, decoded as a reader would (see [`super::decode_stored`]).
pub(super) fn decode_stored(item: &HashMap<String, AttributeValue>) -> Result<PostSummary, StoreError> {
    from_item::<MetaItem>(item)?.into_summary()
}

fn not_found(slug: &Slug) -> StoreError {
    StoreError::NotFound(Missing::Post(slug.to_string()))
}
