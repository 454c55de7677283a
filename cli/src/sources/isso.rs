//! Isso's SQLite database, which is its export: `threads (id, uri, title)` and
//! `comments (tid, id, parent, created, mode, remote_addr, text, author, email, website)`.
//! `text` is the Markdown the commenter wrote; `mode` is 1 accepted, 2 waiting for
//! moderation, 4 deleted (Isso has no spam state). `remote_addr` is counted and dropped.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use super::{Reader, SourceComment, Status, Thread};
use crate::text;

pub fn read(path: &Path, reader: &mut Reader<'_>) -> Result<(), String> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let db = Connection::open_with_flags(path, flags).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let not_isso = |e: rusqlite::Error| format!("{} is not an Isso database ({e})", path.display());
    let mut threads = db.prepare("SELECT id, uri, title FROM threads").map_err(not_isso)?;
    let rows = threads
        .query_map([], |row| {
            let id: i64 = row.get(0)?;
            let uri: String = row.get(1)?;
            let title: Option<String> = row.get(2)?;
            Ok(Thread {
                key: id.to_string(),
                link: uri,
                title: title.unwrap_or_default(),
                slug: None,
                at: format!("thread {id}"),
            })
        })
        .map_err(not_isso)?;
    for thread in rows {
        reader.spool.thread(&thread.map_err(not_isso)?)?;
    }
    let mut comments = db
        .prepare("SELECT tid, id, parent, created, mode, remote_addr, text, author, email, website FROM comments ORDER BY id")
        .map_err(not_isso)?;
    let mut rows = comments.query([]).map_err(not_isso)?;
    while let Some(row) = rows.next().map_err(not_isso)? {
        let tid: i64 = row.get(0).map_err(not_isso)?;
        let id: i64 = row.get(1).map_err(not_isso)?;
        let parent: Option<i64> = row.get(2).map_err(not_isso)?;
        let created: f64 = row.get(3).map_err(not_isso)?;
        let mode: i64 = row.get(4).map_err(not_isso)?;
        let remote: Option<String> = row.get(5).map_err(not_isso)?;
        let body: Option<String> = row.get(6).map_err(not_isso)?;
        let author: Option<String> = row.get(7).map_err(not_isso)?;
        let email: Option<String> = row.get(8).map_err(not_isso)?;
        let website: Option<String> = row.get(9).map_err(not_isso)?;
        reader.progress.inc(1);
        let at = format!("comment {id}");
        if remote.is_some_and(|r| !r.trim().is_empty()) {
            reader.read.ip_addresses_dropped += 1;
        }
        let status = match mode {
            1 => Status::Approved,
            2 => Status::Pending,
            4 => Status::Deleted,
            other => {
                reader.problem(at, format!("its mode {other} is not one Isso writes; skipped"));
                continue;
            }
        };
        if !created.is_finite() || !(0.0..32_503_680_000.0).contains(&created) {
            reader.problem(at, format!("its date {created} is not a date; skipped"));
            continue;
        }
        let comment = SourceComment {
            source: reader.key(&id.to_string()),
            thread: tid.to_string(),
            parent: parent.map(|p| reader.key(&p.to_string())),
            author: text::author(author.as_deref().unwrap_or_default()),
            website: website.as_deref().and_then(text::website),
            email_hash: email.as_deref().and_then(|e| reader.email_hash(e)),
            created_ms: (created * 1000.0) as i64,
            body: body.unwrap_or_default().trim().to_owned(),
            status,
            at,
        };
        reader.add(comment)?;
    }
    Ok(())
}
