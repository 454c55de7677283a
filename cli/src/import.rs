//! `rally import`: an export read into the spool, then each of its threads mapped to a
//! post (found, or made from the thread) and its comments written through
//! [`Store::import_thread`], which makes a second import of the same file add nothing.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use app::markdown;
use app::post::{DEFAULT_COMMENT_WINDOW_DAYS, PostFields, Slug};
use app::store::imports::{ImportComment, ImportCounts, Skip};
use app::store::{CommentStatus, Store, StoreError};
use indicatif::{ProgressBar, ProgressStyle};

use crate::sources::{self, Reader, SourceComment, Spool, Status, Thread};
use crate::text;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Disqus,
    Wordpress,
    Isso,
}

impl Format {
    fn key(self) -> &'static str {
        match self {
            Self::Disqus => "disqus",
            Self::Wordpress => "wordpress",
            Self::Isso => "isso",
        }
    }
}

pub struct Options {
    pub format: Format,
    pub file: PathBuf,
    pub map: Option<PathBuf>,
    pub existing_posts_only: bool,
    pub dry_run: bool,
    /// The author of the posts made for threads that have none.
    pub author: String,
    pub quiet: bool,
}

/// What an import did, for the summary and the exit code.
#[derive(Debug, Default)]
pub struct Summary {
    pub threads: usize,
    pub posts_found: usize,
    pub posts_created: usize,
    /// Every thread's counts, summed.
    pub comments: ImportCounts,
    /// Skipped comments by reason, with a few of the messages.
    pub skipped: BTreeMap<&'static str, (usize, Vec<String>)>,
    /// Problems with the export itself (the XML, a thread's mapping), with where.
    pub problems: Vec<String>,
    pub left_out: BTreeMap<String, usize>,
    pub ip_addresses_dropped: usize,
    pub emails_hashed: usize,
}

impl Summary {
    fn skip(&mut self, why: &'static str, count: usize, message: String) {
        let entry = self.skipped.entry(why).or_default();
        entry.0 += count;
        if entry.1.len() < 5 {
            entry.1.push(message);
        }
    }

    pub fn skipped_any(&self) -> bool {
        !self.skipped.is_empty() || !self.problems.is_empty()
    }

    pub fn print(&self, dry_run: bool) {
        let would = if dry_run { "would be " } else { "" };
        println!("{} threads: {} posts found, {} {}created", self.threads, self.posts_found, self.posts_created, would);
        println!(
            "comments {would}imported: {} approved, {} held for moderation, {} spam, {} placeholders of deleted comments with replies",
            self.comments.approved, self.comments.held, self.comments.spam, self.comments.placeholders
        );
        if self.comments.already > 0 {
            println!("already there from an earlier import: {}", self.comments.already);
        }
        if self.comments.flattened > 0 {
            println!(
                "replies deeper than Rally nests (30), hung under their deepest ancestor: {}",
                self.comments.flattened
            );
        }
        for (kind, count) in &self.left_out {
            println!("left out by design: {count} {kind}");
        }
        println!(
            "privacy: {} email addresses stored as salted hashes (as Rally stores them); {} IP addresses dropped",
            self.emails_hashed, self.ip_addresses_dropped
        );
        for problem in &self.problems {
            println!("problem: {problem}");
        }
        for (why, (count, examples)) in &self.skipped {
            println!("skipped {count}: {why}");
            for example in examples {
                println!("  {example}");
            }
        }
    }
}

/// A `--map` file: one thread a line, its URL (or path) and the slug, separated by
/// white space; blank lines and lines starting with `#` are ignored.
fn read_map(path: &Path) -> Result<HashMap<String, String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read the map {}: {e}", path.display()))?;
    let mut map = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.split_whitespace();
        match (parts.next(), parts.next(), parts.next()) {
            (Some(from), Some(slug), None) => {
                map.insert(from.to_owned(), slug.to_owned());
            }
            _ => return Err(format!("{} line {}: expected a URL and a slug, got {line:?}", path.display(), n + 1)),
        }
    }
    Ok(map)
}

pub(crate) fn bar(quiet: bool, len: u64, template: &str) -> ProgressBar {
    let bar = if quiet { ProgressBar::hidden() } else { ProgressBar::new(len) };
    bar.set_style(ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()));
    bar
}

pub async fn run(store: &Store, salt: &str, options: &Options) -> Result<Summary, String> {
    let map = options.map.as_deref().map(read_map).transpose()?.unwrap_or_default();
    let spool = Spool::create()?;
    let size =
        std::fs::metadata(&options.file).map_err(|e| format!("cannot read {}: {e}", options.file.display()))?.len();
    let reading = bar(options.quiet, size, "reading  {bar:30} {bytes}/{total_bytes} {msg} ({elapsed})");
    let mut reader = Reader {
        spool: &spool,
        salt,
        format: options.format.key(),
        read: Default::default(),
        comments: 0,
        progress: &reading,
    };
    let mut summary = Summary::default();
    let stopped = match options.format {
        Format::Disqus => sources::disqus::read(&options.file, &mut reader).err().map(|s| (s.offset, s.why)),
        Format::Wordpress => sources::wordpress::read(&options.file, &mut reader).err().map(|s| (s.offset, s.why)),
        Format::Isso => sources::isso::read(&options.file, &mut reader).err().map(|why| (0, why)),
    };
    reading.finish_and_clear();
    if let Some((offset, why)) = stopped {
        let line = sources::line_of(&options.file, offset);
        let message = match options.format {
            Format::Isso => why,
            _ => format!("{} line {line}: {why}", options.file.display()),
        };
        // Stopped before a single comment: nothing can be done.
        if reader.comments == 0 {
            return Err(message);
        }
        summary.problems.push(message);
    }
    spool.finish()?;
    let read = std::mem::take(&mut reader.read);
    summary.problems.extend(read.problems.iter().map(|p| format!("{}: {}", p.at, p.what)));
    summary.left_out = read.left_out;
    summary.ip_addresses_dropped = read.ip_addresses_dropped;
    summary.emails_hashed = read.emails_hashed;
    for (source, thread, at) in spool.orphans()? {
        summary.skip("its thread is not in the export", 1, format!("{at} ({source}) names thread {thread}"));
    }

    let (threads, total) = spool.threads()?;
    summary.threads = threads.len();
    let writing = bar(options.quiet, total, "writing  {bar:30} {pos}/{len} comments, {per_sec} ({elapsed})");
    for thread in &threads {
        let comments = spool.comments(&thread.key)?;
        let count = comments.len();
        match slug_for(thread, &map) {
            Ok(slug) => import_thread(store, options, thread, &slug, comments, &mut summary).await?,
            Err(why) => {
                summary.skip("its thread maps to no valid slug", count, format!("{}: {why}", thread.at));
            }
        }
        writing.inc(count as u64);
    }
    writing.finish_and_clear();
    Ok(summary)
}

/// The post a thread goes to: `--map` by link or path, the source's own slug, or the
/// link's last path segment.
fn slug_for(thread: &Thread, map: &HashMap<String, String>) -> Result<Slug, String> {
    let raw = map
        .get(&thread.link)
        .or_else(|| map.get(text::path_of(&thread.link)))
        .cloned()
        .or_else(|| thread.slug.clone())
        .unwrap_or_else(|| text::slug_of_link(&thread.link));
    Slug::parse(&raw).map_err(|_| {
        format!(
            "{:?} maps to {raw:?}, which is not a slug (1 to 100 lowercase letters, digits and hyphens); \
             name its slug in a --map file",
            thread.link
        )
    })
}

async fn import_thread(
    store: &Store,
    options: &Options,
    thread: &Thread,
    slug: &Slug,
    comments: Vec<SourceComment>,
    summary: &mut Summary,
) -> Result<(), String> {
    let fail = |e: StoreError| format!("{slug}: {e}");
    let at: HashMap<String, String> = comments.iter().map(|c| (c.source.clone(), c.at.clone())).collect();
    let mut mapped = Vec::with_capacity(comments.len());
    for c in comments {
        let deleted = c.status == Status::Deleted;
        if !deleted && c.body.trim().is_empty() {
            summary.skip("its text is empty", 1, format!("{} ({})", c.at, c.source));
            continue;
        }
        if !deleted && c.body.trim().chars().count() > 10_000 {
            summary.skip("its text is longer than Rally's 10,000 characters", 1, format!("{} ({})", c.at, c.source));
            continue;
        }
        let Ok(created_at) = app::time::from_millis(c.created_ms) else {
            summary.skip("its date is out of range", 1, format!("{} ({})", c.at, c.source));
            continue;
        };
        let body = c.body.trim().to_owned();
        mapped.push(ImportComment {
            source: c.source,
            parent: c.parent,
            author: c.author,
            website: c.website,
            body_html: markdown::render(&body),
            body,
            created_at,
            status: match c.status {
                Status::Pending => CommentStatus::Pending,
                Status::Spam => CommentStatus::Spam,
                Status::Approved | Status::Deleted => CommentStatus::Approved,
            },
            deleted,
            email_hash: c.email_hash,
        });
    }
    if mapped.is_empty() {
        return Ok(());
    }
    match store.get_post_summary(slug).await.map_err(fail)? {
        Some(_) => summary.posts_found += 1,
        None if options.existing_posts_only => {
            summary.skip(
                "its post does not exist (--existing-posts-only)",
                mapped.len(),
                format!("{} → {slug}", thread.at),
            );
            return Ok(());
        }
        None => {
            summary.posts_created += 1;
            if !options.dry_run {
                create_post(store, options, thread, slug, &mapped).await.map_err(fail)?;
            }
        }
    }
    let outcome = store.import_thread(slug, &mapped, options.dry_run).await.map_err(fail)?;
    summary.comments += outcome.counts;
    for (source, skip) in outcome.skipped {
        let place = at.get(&source).cloned().unwrap_or_else(|| source.clone());
        match skip {
            Skip::DeletedWithoutReplies => {
                summary.skip("deleted, with no replies to keep a place for", 1, format!("{place} ({source})"))
            }
            Skip::ParentMissing(parent) => summary.skip(
                "it answers a comment the export does not have",
                1,
                format!("{place} ({source}) answers {parent}"),
            ),
            Skip::ParentSkipped(parent) => {
                summary.skip("it answers a comment that was skipped", 1, format!("{place} ({source}) answers {parent}"))
            }
        }
    }
    Ok(())
}

/// A post for a thread the blog does not have: its title, a line saying where its
/// comments come from, published when its first comment was written (so its comment
/// window closes as it would have).
async fn create_post(
    store: &Store,
    options: &Options,
    thread: &Thread,
    slug: &Slug,
    comments: &[ImportComment],
) -> Result<(), StoreError> {
    let first = comments.iter().map(|c| c.created_at).min().unwrap_or_else(app::time::now);
    let title: String = if thread.title.trim().is_empty() { slug.to_string() } else { thread.title.trim().to_owned() };
    let fields = PostFields {
        title: title.chars().take(200).collect(),
        body: format!("Comments brought over from {}.", thread.link),
        author: options.author.clone(),
        tags: Vec::new(),
        published_at: Some(first),
        comments_close_after_days: Some(DEFAULT_COMMENT_WINDOW_DAYS),
        petition: None,
        pledge: None,
    };
    match store.create_post(slug.clone(), fields, app::time::now()).await {
        Ok(_) | Err(StoreError::Conflict(app::store::Check::SlugFree)) => Ok(()),
        Err(err) => Err(err),
    }
}
