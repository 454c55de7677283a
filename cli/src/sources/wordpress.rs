//! WordPress's export (WXR 1.0, 1.1 and 1.2: `<rss><channel>` with `wp:wxr_version`):
//! each `<item>` is a post or page with its `link`, `title` and `wp:post_name`, and its
//! `wp:comment` elements: `wp:comment_id`, `wp:comment_parent` (0 for none), the author,
//! address, URL and IP (counted and dropped), `wp:comment_date_gmt`, the content, and
//! `wp:comment_approved` (`1`, `0` held, `spam`, `trash`). Pingbacks and trackbacks are
//! left out and counted.

use std::collections::HashMap;
use std::path::Path;

use super::xml::{self, Handler};
use super::{Reader, SourceComment, Status, Thread};
use crate::text;

pub const VERSIONS: [&str; 3] = ["1.0", "1.1", "1.2"];

#[derive(Default)]
struct Comment {
    fields: HashMap<String, String>,
}

struct Wxr<'a, 'b> {
    reader: &'a mut Reader<'b>,
    version: Option<String>,
    item: Option<(Thread, HashMap<String, String>)>,
    comment: Option<Comment>,
    /// Comments read inside the current item, kept until the item ends (its post id
    /// may come after them).
    pending: Vec<Comment>,
}

pub fn read(path: &Path, reader: &mut Reader<'_>) -> Result<(), xml::Stopped> {
    let progress = reader.progress.clone();
    let mut handler = Wxr { reader, version: None, item: None, comment: None, pending: Vec::new() };
    xml::walk(path, &["rss"], &mut handler, &progress)?;
    if handler.version.is_none() {
        return Err(xml::Stopped {
            offset: 0,
            why: "this is an RSS file without wp:wxr_version: not a WordPress export".into(),
        });
    }
    Ok(())
}

impl Handler for Wxr<'_, '_> {
    fn start(&mut self, path: &[String], name: &str, _: &HashMap<String, String>) -> Result<(), String> {
        match (path.last().map(String::as_str), name) {
            (Some("channel"), "item") => self.item = Some((Thread::default(), HashMap::new())),
            (Some("item"), "wp:comment") => self.comment = Some(Comment::default()),
            _ => {}
        }
        Ok(())
    }

    fn end(&mut self, path: &[String], name: &str, text: String) -> Result<(), String> {
        match (path.last().map(String::as_str), name) {
            (Some("channel"), "wp:wxr_version") => {
                let version = text.trim().to_owned();
                if !VERSIONS.contains(&version.as_str()) {
                    return Err(format!(
                        "WXR version {version:?} is not one this tool reads ({}); nothing is imported",
                        VERSIONS.join(", ")
                    ));
                }
                self.version = Some(version);
            }
            (Some("wp:comment"), field) => {
                if let Some(comment) = &mut self.comment {
                    comment.fields.insert(field.to_owned(), text);
                }
            }
            (Some("item"), "wp:comment") => {
                if let Some(comment) = self.comment.take() {
                    self.pending.push(comment);
                }
            }
            (Some("item"), field) => {
                if let Some((_, fields)) = &mut self.item {
                    fields.insert(field.to_owned(), text.trim().to_owned());
                }
            }
            (Some("channel"), "item") => {
                if let Some((_, fields)) = self.item.take() {
                    self.item(fields)?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

impl Wxr<'_, '_> {
    fn item(&mut self, fields: HashMap<String, String>) -> Result<(), String> {
        let comments = std::mem::take(&mut self.pending);
        if comments.is_empty() {
            return Ok(());
        }
        if self.version.is_none() {
            return Err("an item comes before wp:wxr_version: not a WordPress export".into());
        }
        let get = |name: &str| fields.get(name).cloned().unwrap_or_default();
        let key = get("wp:post_id");
        let thread = Thread {
            key: key.clone(),
            link: get("link"),
            title: get("title"),
            slug: Some(get("wp:post_name")).filter(|s| !s.is_empty()),
            at: format!("item {key} ({})", get("title")),
        };
        self.reader.spool.thread(&thread)?;
        for comment in comments {
            self.comment(&key, comment)?;
        }
        Ok(())
    }

    fn comment(&mut self, thread: &str, comment: Comment) -> Result<(), String> {
        let get = |name: &str| comment.fields.get(name).map(|v| v.trim().to_owned()).unwrap_or_default();
        let id = get("wp:comment_id");
        let at = format!("comment {id}");
        if id.is_empty() {
            self.reader.problem(format!("a comment of item {thread}"), "has no wp:comment_id; skipped");
            return Ok(());
        }
        let kind = get("wp:comment_type");
        if matches!(kind.as_str(), "pingback" | "trackback") {
            *self.reader.read.left_out.entry(format!("{kind}s")).or_default() += 1;
            return Ok(());
        }
        if !get("wp:comment_author_IP").is_empty() {
            self.reader.read.ip_addresses_dropped += 1;
        }
        // WordPress writes "0000-00-00 00:00:00" where it has no GMT date.
        let date = [get("wp:comment_date_gmt"), get("wp:comment_date")]
            .into_iter()
            .find_map(|d| app::time::parse(&format!("{}Z", d.replace(' ', "T"))).ok());
        let Some(created) = date else {
            self.reader.problem(at, format!("its date {:?} is not a date; skipped", get("wp:comment_date_gmt")));
            return Ok(());
        };
        let status = match get("wp:comment_approved").as_str() {
            "1" | "approve" | "approved" => Status::Approved,
            "0" | "hold" => Status::Pending,
            "spam" => Status::Spam,
            "trash" | "post-trashed" => Status::Deleted,
            other => {
                self.reader.problem(at, format!("its status {other:?} is not one WordPress writes; skipped"));
                return Ok(());
            }
        };
        let parent = get("wp:comment_parent");
        let comment = SourceComment {
            source: self.reader.key(&id),
            thread: thread.to_owned(),
            parent: (!parent.is_empty() && parent != "0").then(|| self.reader.key(&parent)),
            author: text::author(&get("wp:comment_author")),
            website: text::website(&get("wp:comment_author_url")),
            email_hash: self.reader.email_hash(&get("wp:comment_author_email")),
            created_ms: app::time::millis(created),
            body: text::markdown_of_wordpress(comment.fields.get("wp:comment_content").map_or("", String::as_str)),
            status,
            at,
        };
        self.reader.add(comment)
    }
}
