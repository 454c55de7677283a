//! What every export format is read into: threads and their comments, spooled to a
//! SQLite file on disk as the export streams past, so memory stays bounded whatever the
//! export's size; the import then reads it back one thread at a time, oldest first.
//!
//! Addresses are hashed as they are read (the spool never holds one), and IP addresses
//! are never read into it at all: the readers only count them.

pub mod disqus;
pub mod isso;
pub mod wordpress;
mod xml;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, params};

/// A comment's standing in its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Approved,
    Pending,
    Spam,
    Deleted,
}

impl Status {
    fn code(self) -> i64 {
        match self {
            Self::Approved => 0,
            Self::Pending => 1,
            Self::Spam => 2,
            Self::Deleted => 3,
        }
    }

    fn from_code(code: i64) -> Self {
        match code {
            1 => Self::Pending,
            2 => Self::Spam,
            3 => Self::Deleted,
            _ => Self::Approved,
        }
    }
}

/// A thread (a post, in Rally's words) as the source names it.
#[derive(Debug, Clone, Default)]
pub struct Thread {
    /// Its key in the source (Disqus's thread id, WordPress's post id, Isso's thread id).
    pub key: String,
    /// Where it is on the old site (or its path, for Isso).
    pub link: String,
    pub title: String,
    /// The source's own slug for it, where it has one (WordPress's `post_name`).
    pub slug: Option<String>,
    /// Where it starts in the export, for messages: a line, or a row id.
    pub at: String,
}

/// A comment as the source has it, its text already Markdown and its address already
/// hashed.
#[derive(Debug, Clone)]
pub struct SourceComment {
    /// `{format}#{its id}`.
    pub source: String,
    pub thread: String,
    pub parent: Option<String>,
    pub author: String,
    pub website: Option<String>,
    pub email_hash: Option<String>,
    /// Milliseconds since the epoch.
    pub created_ms: i64,
    pub body: String,
    pub status: Status,
    pub at: String,
}

/// A problem with part of the export: what and where. The rest goes on.
#[derive(Debug, Clone)]
pub struct Problem {
    pub at: String,
    pub what: String,
}

/// What reading an export found besides its threads and comments.
#[derive(Debug, Default)]
pub struct Read {
    pub problems: Vec<Problem>,
    /// Comments not brought over by design (pingbacks and trackbacks), by kind.
    pub left_out: std::collections::BTreeMap<String, usize>,
    pub ip_addresses_dropped: usize,
    pub emails_hashed: usize,
}

/// The spool: a SQLite file in the system's temporary folder, removed when dropped.
pub struct Spool {
    db: Connection,
    path: PathBuf,
}

impl Spool {
    pub fn create() -> Result<Self, String> {
        let path = std::env::temp_dir().join(format!("rally-import-{}-{}.db", std::process::id(), rand_suffix()));
        let db = Connection::open(&path).map_err(|e| format!("cannot make the spool {}: {e}", path.display()))?;
        db.execute_batch(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
             CREATE TABLE threads (key TEXT PRIMARY KEY, link TEXT NOT NULL, title TEXT NOT NULL, slug TEXT, at TEXT NOT NULL);
             CREATE TABLE comments (source TEXT PRIMARY KEY, thread TEXT NOT NULL, parent TEXT, author TEXT NOT NULL,
               website TEXT, email_hash TEXT, created_ms INTEGER NOT NULL, body TEXT NOT NULL, status INTEGER NOT NULL,
               at TEXT NOT NULL);
             CREATE INDEX comments_by_thread ON comments (thread, created_ms, source);
             BEGIN;",
        )
        .map_err(|e| format!("cannot make the spool: {e}"))?;
        Ok(Self { db, path })
    }

    pub fn thread(&self, thread: &Thread) -> Result<(), String> {
        self.db
            .execute(
                "INSERT OR REPLACE INTO threads (key, link, title, slug, at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![thread.key, thread.link, thread.title, thread.slug, thread.at],
            )
            .map(drop)
            .map_err(|e| format!("spool: {e}"))
    }

    /// Keeps a comment; a second one with the same source id is a problem, not a row.
    pub fn comment(&self, c: &SourceComment) -> Result<bool, String> {
        let inserted = self
            .db
            .execute(
                "INSERT OR IGNORE INTO comments (source, thread, parent, author, website, email_hash, created_ms, body, status, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    c.source,
                    c.thread,
                    c.parent,
                    c.author,
                    c.website,
                    c.email_hash,
                    c.created_ms,
                    c.body,
                    c.status.code(),
                    c.at
                ],
            )
            .map_err(|e| format!("spool: {e}"))?;
        Ok(inserted == 1)
    }

    /// Ends the writing; from here the spool is read.
    pub fn finish(&self) -> Result<(), String> {
        self.db.execute_batch("COMMIT;").map_err(|e| format!("spool: {e}"))
    }

    /// Every thread that has comments, in the order of their first comment; and the
    /// number of comments.
    pub fn threads(&self) -> Result<(Vec<Thread>, u64), String> {
        let fail = |e: rusqlite::Error| format!("spool: {e}");
        let mut statement = self
            .db
            .prepare(
                "SELECT t.key, t.link, t.title, t.slug, t.at FROM threads t
                 JOIN (SELECT thread, MIN(created_ms) AS first FROM comments GROUP BY thread) c ON c.thread = t.key
                 ORDER BY c.first, t.key",
            )
            .map_err(fail)?;
        let threads = statement
            .query_map([], |row| {
                Ok(Thread {
                    key: row.get(0)?,
                    link: row.get(1)?,
                    title: row.get(2)?,
                    slug: row.get(3)?,
                    at: row.get(4)?,
                })
            })
            .map_err(fail)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(fail)?;
        let total: i64 = self.db.query_row("SELECT COUNT(*) FROM comments", [], |row| row.get(0)).map_err(fail)?;
        Ok((threads, u64::try_from(total).unwrap_or(0)))
    }

    /// Comments whose thread the export never described.
    pub fn orphans(&self) -> Result<Vec<(String, String, String)>, String> {
        let fail = |e: rusqlite::Error| format!("spool: {e}");
        let mut statement = self
            .db
            .prepare("SELECT source, thread, at FROM comments WHERE thread NOT IN (SELECT key FROM threads) ORDER BY created_ms")
            .map_err(fail)?;
        statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .map_err(fail)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(fail)
    }

    /// A thread's comments, oldest first.
    pub fn comments(&self, thread: &str) -> Result<Vec<SourceComment>, String> {
        let fail = |e: rusqlite::Error| format!("spool: {e}");
        let mut statement = self
            .db
            .prepare(
                "SELECT source, thread, parent, author, website, email_hash, created_ms, body, status, at FROM comments
                 WHERE thread = ?1 ORDER BY created_ms, source",
            )
            .map_err(fail)?;
        statement
            .query_map([thread], |row| {
                Ok(SourceComment {
                    source: row.get(0)?,
                    thread: row.get(1)?,
                    parent: row.get(2)?,
                    author: row.get(3)?,
                    website: row.get(4)?,
                    email_hash: row.get(5)?,
                    created_ms: row.get(6)?,
                    body: row.get(7)?,
                    status: Status::from_code(row.get(8)?),
                    at: row.get(9)?,
                })
            })
            .map_err(fail)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(fail)
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn rand_suffix() -> String {
    app::auth::random_token()[..12].to_owned()
}

/// How an export's readers turn what they read into spool rows: the deployment's secret
/// hashes addresses; the format names the source keys.
pub struct Reader<'a> {
    pub spool: &'a Spool,
    pub salt: &'a str,
    pub format: &'static str,
    pub read: Read,
    pub comments: u64,
    pub progress: &'a indicatif::ProgressBar,
}

impl Reader<'_> {
    pub fn key(&self, id: &str) -> String {
        format!("{}#{}", self.format, id.trim())
    }

    pub fn problem(&mut self, at: impl Into<String>, what: impl Into<String>) {
        self.read.problems.push(Problem { at: at.into(), what: what.into() });
    }

    /// The salted hash Rally keeps of a commenter's address (none for an invalid one).
    pub fn email_hash(&mut self, raw: &str) -> Option<String> {
        let email = app::comment::Email::parse(raw.trim()).ok()?;
        self.read.emails_hashed += 1;
        Some(app::comment::commenter_email_hash(&email, self.salt))
    }

    pub fn add(&mut self, comment: SourceComment) -> Result<(), String> {
        let at = comment.at.clone();
        let source = comment.source.clone();
        if self.spool.comment(&comment)? {
            self.comments += 1;
            self.progress.set_message(format!("{} comments read", self.comments));
        } else {
            self.problem(at, format!("comment {source} appears twice; the first is kept"));
        }
        Ok(())
    }
}

/// The line of byte `offset` in `path`, counted from 1 (for messages about XML).
pub fn line_of(path: &Path, offset: u64) -> u64 {
    use std::io::Read as _;
    let Ok(file) = std::fs::File::open(path) else { return 0 };
    let mut line = 1;
    for byte in std::io::BufReader::new(file).take(offset).bytes() {
        if byte.is_ok_and(|b| b == b'\n') {
            line += 1;
        }
    }
    line
}
