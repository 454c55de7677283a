//! Disqus's XML export (`<disqus>`): `<thread dsq:id>` elements with their link and
//! title, then `<post dsq:id>` elements, each naming its thread and parent by `dsq:id`,
//! with its HTML `message`, `createdAt`, author, `isDeleted`, `isSpam` (and `isApproved`
//! where the export has it). `ipAddress` is counted and dropped.

use std::collections::HashMap;
use std::path::Path;

use super::xml::{self, Handler};
use super::{Reader, SourceComment, Status, Thread};
use crate::text;

#[derive(Default)]
struct Post {
    id: String,
    thread: Option<String>,
    parent: Option<String>,
    message: String,
    created_at: String,
    deleted: bool,
    spam: bool,
    approved: bool,
    email: String,
    name: String,
    username: String,
}

struct Disqus<'a, 'b> {
    reader: &'a mut Reader<'b>,
    thread: Option<Thread>,
    post: Option<Post>,
}

pub fn read(path: &Path, reader: &mut Reader<'_>) -> Result<(), xml::Stopped> {
    let progress = reader.progress.clone();
    let mut handler = Disqus { reader, thread: None, post: None };
    xml::walk(path, &["disqus"], &mut handler, &progress)
}

fn truthy(text: &str) -> bool {
    text.trim().eq_ignore_ascii_case("true")
}

impl Handler for Disqus<'_, '_> {
    fn start(&mut self, path: &[String], name: &str, attributes: &HashMap<String, String>) -> Result<(), String> {
        let id = attributes.get("dsq:id").cloned().unwrap_or_default();
        match (path.len(), name) {
            (1, "thread") => {
                self.thread = Some(Thread { key: id.clone(), at: format!("thread {id}"), ..Thread::default() })
            }
            (1, "post") => self.post = Some(Post { id, approved: true, ..Post::default() }),
            (2, "thread") if self.post.is_some() => {
                if let Some(post) = &mut self.post {
                    post.thread = Some(id);
                }
            }
            (2, "parent") if self.post.is_some() => {
                if let Some(post) = &mut self.post {
                    post.parent = (!id.is_empty()).then_some(id);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn end(&mut self, path: &[String], name: &str, text: String) -> Result<(), String> {
        let inside = path.last().map(String::as_str);
        if let (Some("thread"), 2, Some(thread)) = (inside, path.len(), &mut self.thread) {
            match name {
                "link" => thread.link = text.trim().to_owned(),
                "title" => thread.title = text.trim().to_owned(),
                _ => {}
            }
            return Ok(());
        }
        if let Some(post) = &mut self.post {
            match (inside, name) {
                (Some("post"), "message") => post.message = text,
                (Some("post"), "createdAt") => post.created_at = text.trim().to_owned(),
                (Some("post"), "isDeleted") => post.deleted = truthy(&text),
                (Some("post"), "isSpam") => post.spam = truthy(&text),
                (Some("post"), "isApproved") => post.approved = truthy(&text),
                (Some("post"), "ipAddress") if !text.trim().is_empty() => self.reader.read.ip_addresses_dropped += 1,
                (Some("author"), "email") => post.email = text,
                (Some("author"), "name") => post.name = text,
                (Some("author"), "username") => post.username = text,
                _ => {}
            }
        }
        match (path.len(), name) {
            (1, "thread") => {
                if let Some(thread) = self.thread.take() {
                    self.reader.spool.thread(&thread)?;
                }
            }
            (1, "post") => {
                if let Some(post) = self.post.take() {
                    self.post(post)?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

impl Disqus<'_, '_> {
    fn post(&mut self, post: Post) -> Result<(), String> {
        let at = format!("post {}", post.id);
        if post.id.is_empty() {
            self.reader.problem("a post", "a post without a dsq:id is skipped");
            return Ok(());
        }
        let Some(thread) = post.thread.filter(|t| !t.is_empty()) else {
            self.reader.problem(at, "names no thread; skipped");
            return Ok(());
        };
        let Ok(created) = app::time::parse(&post.created_at) else {
            self.reader.problem(at, format!("its date {:?} is not a date; skipped", post.created_at));
            return Ok(());
        };
        let status = match (post.deleted, post.spam, post.approved) {
            (true, ..) => Status::Deleted,
            (false, true, _) => Status::Spam,
            (false, false, false) => Status::Pending,
            (false, false, true) => Status::Approved,
        };
        let name = if post.name.trim().is_empty() { post.username.as_str() } else { post.name.as_str() };
        let comment = SourceComment {
            source: self.reader.key(&post.id),
            thread,
            parent: post.parent.map(|p| self.reader.key(&p)),
            author: text::author(name),
            website: None,
            email_hash: self.reader.email_hash(&post.email),
            created_ms: app::time::millis(created),
            body: text::markdown_of_html(&post.message),
            status,
            at,
        };
        self.reader.add(comment)
    }
}
