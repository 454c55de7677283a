//! The blog's posts: validated fields, and the comment window computed from them.

use serde::Serialize;
use serde_json::{Map, Value};
use time::Duration;

use validator::Validate;

use crate::FieldErrors;
use crate::input::Fields;
use crate::rules::{self, valid};
use crate::time::{self as t, Timestamp};

/// Comments close this many days after publication unless the post says otherwise.
pub const DEFAULT_COMMENT_WINDOW_DAYS: u32 = 60;
/// Post bodies may be long articles (Markdown, ≤ 100 KB; `PostFields` in `openapi.yaml`).
pub const MAX_BODY_BYTES: usize = 100 * 1024;
/// A request creating or replacing a post carries a body of up to 100 KB, so the admin
/// post routes accept requests of up to 128 KiB rather than the public 64 KiB.
pub const MAX_POST_REQUEST: usize = 128 * 1024;
pub const MAX_TAGS: u64 = 20;
/// A window longer than a century is a typo, not a policy.
pub const MAX_COMMENT_WINDOW_DAYS: u64 = 36_500;

/// A URL-safe identifier: lowercase `a-z0-9-`, 1–100 characters. Posts, petitions and
/// pledges are all named by slugs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Slug(String);

impl Slug {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.is_empty() || raw.len() > 100 {
            return Err("must be 1 to 100 characters".into());
        }
        if !raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            return Err("may contain only lowercase letters a-z, digits and hyphens".into());
        }
        Ok(Self(raw.to_owned()))
    }
}

impl AsRef<str> for Slug {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Slug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A tag: trimmed and lowercased, 1–40 characters, any script (a Korean blog tags in
/// Korean), no commas or control characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Tag(String);

impl Tag {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let tag = raw.trim().to_lowercase();
        let chars = tag.chars().count();
        if chars == 0 || chars > 40 {
            return Err("each tag must be 1 to 40 characters".into());
        }
        if tag.chars().any(|c| c.is_control() || c == ',') {
            return Err("tags may not contain commas or control characters".into());
        }
        Ok(Self(tag))
    }
}

impl AsRef<str> for Tag {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// The editable fields of a post, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct PostFields {
    pub title: String,
    pub body: String,
    pub author: String,
    pub tags: Vec<Tag>,
    /// `None` when the request left it out: now for a new post, unchanged for an edit.
    pub published_at: Option<Timestamp>,
    /// `None` = comments never close.
    pub comments_close_after_days: Option<u32>,
    pub petition: Option<Slug>,
    pub pledge: Option<Slug>,
}

/// `POST /posts` and `PUT /posts/{slug}` as JSON carries them, with each field's rules.
#[derive(Debug, Validate)]
struct PostForm {
    #[validate(custom(function = rules::slug))]
    slug: Option<String>,
    #[validate(custom(function = rules::text::<200>))]
    title: String,
    #[validate(custom(function = rules::markdown_body))]
    body: String,
    #[validate(custom(function = rules::text::<80>))]
    author: String,
    #[validate(length(max = MAX_TAGS, message = "at most 20 items"), custom(function = rules::tags))]
    tags: Vec<String>,
    #[validate(custom(function = rules::timestamp))]
    published_at: Option<String>,
    /// Absent: the default window; `null`: never closes.
    #[validate(range(max = MAX_COMMENT_WINDOW_DAYS, message = "must be a whole number of days from 0 to 36500, or null for never"))]
    comments_close_after_days: Option<Option<u64>>,
    #[validate(custom(function = rules::slug))]
    petition: Option<String>,
    #[validate(custom(function = rules::slug))]
    pledge: Option<String>,
}

impl PostFields {
    /// Reads a create (`POST /posts`, which names its slug) or a replace
    /// (`PUT /posts/{slug}`, whose body may repeat the slug but not change it).
    pub fn from_json(map: Map<String, Value>, path_slug: Option<&Slug>) -> Result<(Slug, Self), FieldErrors> {
        let mut f = Fields::new(map);
        let slug = match path_slug {
            None => Some(f.required_string("slug")),
            Some(_) => f.string("slug"),
        };
        let form = PostForm {
            slug,
            title: f.required_string("title"),
            body: f.required_string("body"),
            author: f.required_string("author"),
            tags: f.strings("tags"),
            published_at: f.string("published_at"),
            comments_close_after_days: f.nullable_whole("comments_close_after_days"),
            petition: f.string("petition"),
            pledge: f.string("pledge"),
        };
        if let (Some(path), Some(sent)) = (path_slug, &form.slug)
            && sent != path.as_ref()
            && Slug::parse(sent).is_ok()
        {
            f.error("slug", "cannot be changed; create a new post instead");
        }
        f.finish(form.validate())?;
        let mut tags: Vec<Tag> = form.tags.iter().map(|tag| valid(Tag::parse(tag))).collect();
        tags.sort();
        tags.dedup();
        let slug = match path_slug {
            Some(path) => path.clone(),
            None => valid(Slug::parse(form.slug.as_deref().unwrap_or_default())),
        };
        let fields = Self {
            title: form.title.trim().to_owned(),
            body: form.body,
            author: form.author.trim().to_owned(),
            tags,
            published_at: form.published_at.map(|at| valid(t::parse(&at))),
            comments_close_after_days: match form.comments_close_after_days {
                None => Some(DEFAULT_COMMENT_WINDOW_DAYS),
                Some(days) => days.map(|days| days as u32),
            },
            petition: form.petition.map(|p| valid(Slug::parse(&p))),
            pledge: form.pledge.map(|p| valid(Slug::parse(&p))),
        };
        Ok((slug, fields))
    }
}

pub(crate) fn markdown_body(raw: &str) -> Result<String, String> {
    if raw.trim().is_empty() {
        Err("must not be empty".into())
    } else if raw.len() > MAX_BODY_BYTES {
        Err(format!("must be at most {MAX_BODY_BYTES} bytes"))
    } else {
        Ok(raw.to_owned())
    }
}

/// A post without its body: what lists, comment windows and threads need, and all that
/// the list items of the table hold (the body is an item of its own).
#[derive(Debug, Clone, PartialEq)]
pub struct PostSummary {
    pub slug: Slug,
    pub title: String,
    pub author: String,
    pub tags: Vec<Tag>,
    pub published_at: Timestamp,
    /// `None` = comments never close.
    pub comments_close_after_days: Option<u32>,
    pub petition: Option<Slug>,
    pub pledge: Option<Slug>,
    pub comment_count: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Bumped by every edit, so two concurrent edits cannot interleave.
    pub version: u64,
}

/// A whole post: its summary and its body.
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    pub summary: PostSummary,
    pub body: String,
}

impl Post {
    /// A post made of the fields a create or replace sent, published now where they
    /// leave the date out.
    pub fn new(slug: Slug, fields: PostFields, published_at: Timestamp, now: Timestamp) -> Self {
        let PostFields { title, body, author, tags, published_at: _, comments_close_after_days, petition, pledge } =
            fields;
        let summary = PostSummary {
            slug,
            title,
            author,
            tags,
            published_at,
            comments_close_after_days,
            petition,
            pledge,
            comment_count: 0,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        Self { summary, body }
    }

    /// The `Post` schema of `openapi.yaml`.
    pub fn view(&self, now: Timestamp) -> PostView<'_> {
        PostView {
            body: Some(&self.body),
            body_html: Some(crate::markdown::render(&self.body)),
            ..self.summary.view(now)
        }
    }
}

/// When comments close, computed from the publication time and the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommentWindow {
    pub close_at: Option<Timestamp>,
    pub open: bool,
    pub days: Option<u32>,
}

impl PostSummary {
    pub fn comment_window(&self, now: Timestamp) -> CommentWindow {
        let days = self.comments_close_after_days;
        // Checked: a stored date beyond any the API accepts today must not panic here.
        let close_at = days.and_then(|d| self.published_at.checked_add(Duration::days(i64::from(d))));
        CommentWindow { close_at, open: close_at.is_none_or(|at| now < at), days }
    }

    /// The `PostSummary` schema of `openapi.yaml`.
    pub fn view(&self, now: Timestamp) -> PostView<'_> {
        let window = self.comment_window(now);
        PostView {
            slug: &self.slug,
            title: &self.title,
            author: &self.author,
            tags: &self.tags,
            published_at: t::format(self.published_at),
            comments_close_after_days: self.comments_close_after_days,
            comments_open: window.open,
            comments_close_at: window.close_at.map(t::format),
            comment_count: self.comment_count,
            petition: self.petition.as_ref(),
            pledge: self.pledge.as_ref(),
            body: None,
            body_html: None,
        }
    }
}

/// A post as the public reads it.
#[derive(Debug, Serialize)]
pub struct PostView<'a> {
    pub slug: &'a Slug,
    pub title: &'a str,
    pub author: &'a str,
    pub tags: &'a [Tag],
    pub published_at: String,
    pub comments_close_after_days: Option<u32>,
    pub comments_open: bool,
    pub comments_close_at: Option<String>,
    pub comment_count: u64,
    pub petition: Option<&'a Slug>,
    pub pledge: Option<&'a Slug>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<&'a str>,
    /// The body as readers see it: Markdown rendered as comments are (see
    /// [`crate::markdown`]), so a blog can show it without a sanitiser of its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_html: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: Value) -> Result<(Slug, PostFields), FieldErrors> {
        PostFields::from_json(value.as_object().unwrap().clone(), None)
    }

    #[test]
    fn slugs_are_lowercase_words_and_hyphens() {
        assert!(Slug::parse("china-repatriates-31-refugees").is_ok());
        for bad in ["", "Capital", "with space", "ü", "under_score", &"a".repeat(101)] {
            assert!(Slug::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_minimal_post_gets_the_default_window() {
        let (slug, fields) = parse(json!({"slug": "a", "title": "T", "body": "B", "author": "Min"})).unwrap();
        assert_eq!(slug.as_ref(), "a");
        assert_eq!(fields.comments_close_after_days, Some(60));
        assert!(fields.tags.is_empty());
        assert_eq!(fields.published_at, None);
    }

    #[test]
    fn null_window_never_closes() {
        let (_, fields) =
            parse(json!({"slug": "a", "title": "T", "body": "B", "author": "M", "comments_close_after_days": null}))
                .unwrap();
        assert_eq!(fields.comments_close_after_days, None);
    }

    #[test]
    fn tags_are_normalised_and_deduplicated() {
        let (_, fields) =
            parse(json!({"slug": "a", "title": "T", "body": "B", "author": "M", "tags": ["China", "china ", "북한"]}))
                .unwrap();
        let tags: Vec<&str> = fields.tags.iter().map(AsRef::as_ref).collect();
        assert_eq!(tags, ["china", "북한"]);
    }

    #[test]
    fn every_bad_field_is_reported() {
        let tags: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        let err = parse(json!({
            "slug": "Bad Slug", "title": "", "body": 3, "tags": tags,
            "comments_close_after_days": -1, "published_at": "soon", "colour": "red"
        }))
        .unwrap_err();
        let fields = err;
        for name in ["slug", "title", "body", "author", "tags", "comments_close_after_days", "published_at", "colour"] {
            assert!(fields.get(name).is_some(), "{name} not reported");
        }
    }

    #[test]
    fn replace_may_repeat_but_not_change_the_slug() {
        let path = Slug::parse("a").unwrap();
        let body = json!({"slug": "b", "title": "T", "body": "B", "author": "M"});
        let err = PostFields::from_json(body.as_object().unwrap().clone(), Some(&path)).unwrap_err();
        assert!(err.get("slug").is_some());
        let body = json!({"title": "T", "body": "B", "author": "M"});
        let (slug, _) = PostFields::from_json(body.as_object().unwrap().clone(), Some(&path)).unwrap();
        assert_eq!(slug, path);
    }

    #[test]
    fn the_window_closes_after_its_days() {
        let (slug, fields) = parse(json!({"slug": "a", "title": "T", "body": "B", "author": "M"})).unwrap();
        let published_at = t::parse("2012-03-08T09:00:00Z").unwrap();
        let post = Post::new(slug, fields, published_at, published_at).summary;
        let window = post.comment_window(published_at + Duration::days(59));
        assert!(window.open);
        assert_eq!(window.close_at.map(t::format).as_deref(), Some("2012-05-07T09:00:00Z"));
        assert!(!post.comment_window(published_at + Duration::days(60)).open);
    }
}
