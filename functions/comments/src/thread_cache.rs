//! Thread pages this process has already read, kept under the thread version they were
//! read at.
//!
//! Every write that changes what a thread shows (a comment, an edit, a delete, a
//! moderation decision) changes the post's `thread_version` in the same transaction. A
//! thread read first reads the post consistently (one small `GetItem`, which it needs
//! anyway for the count and the window); when this process already holds the page at
//! that version it answers from memory, and only otherwise runs the thread `Query`. So a
//! warm function serves a busy thread for 1 read unit instead of ~23, and never serves a
//! page older than the last write it could have seen.
//!
//! The cache is bounded in bytes; the oldest entry goes first.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Which page: the table (tests and the local stack run several), the post, the order,
/// the page size and the cursor.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    pub table: String,
    pub slug: String,
    pub newest_first: bool,
    pub limit: u32,
    pub cursor: Option<String>,
}

/// A page as it is sent: the `items` array already serialised, and the next cursor.
#[derive(Debug)]
pub struct CachedPage {
    pub items: Box<serde_json::value::RawValue>,
    pub next_cursor: Option<String>,
}

struct Entry {
    version: String,
    page: Arc<CachedPage>,
    inserted: u64,
}

pub struct ThreadCache {
    entries: Mutex<(HashMap<PageKey, Entry>, u64, usize)>,
    budget: usize,
}

impl ThreadCache {
    pub fn new(budget: usize) -> Self {
        Self { entries: Mutex::new((HashMap::new(), 0, 0)), budget }
    }

    /// The page if it was read at `version`.
    pub fn get(&self, key: &PageKey, version: &str) -> Option<Arc<CachedPage>> {
        let entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.0.get(key).filter(|entry| entry.version == version).map(|entry| entry.page.clone())
    }

    pub fn put(&self, key: PageKey, version: String, page: Arc<CachedPage>) {
        let size = page.items.get().len();
        if size > self.budget {
            return;
        }
        let mut guard = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let (entries, clock, used) = &mut *guard;
        *clock += 1;
        if let Some(old) = entries.insert(key, Entry { version, page, inserted: *clock }) {
            *used -= old.page.items.get().len();
        }
        *used += size;
        while *used > self.budget {
            let Some(oldest) = entries.iter().min_by_key(|(_, e)| e.inserted).map(|(k, _)| k.clone()) else { break };
            if let Some(gone) = entries.remove(&oldest) {
                *used -= gone.page.items.get().len();
            }
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.lock().unwrap().0.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(slug: &str) -> PageKey {
        PageKey { table: "t".into(), slug: slug.into(), newest_first: false, limit: 50, cursor: None }
    }

    fn page(bytes: usize) -> Arc<CachedPage> {
        let items = serde_json::value::to_raw_value(&"x".repeat(bytes.saturating_sub(2))).unwrap();
        Arc::new(CachedPage { items, next_cursor: None })
    }

    #[test]
    fn a_page_is_only_reused_at_its_version() {
        let cache = ThreadCache::new(1_000);
        cache.put(key("a"), "v1".into(), page(10));
        assert!(cache.get(&key("a"), "v1").is_some());
        assert!(cache.get(&key("a"), "v2").is_none());
        assert!(cache.get(&key("b"), "v1").is_none());
        cache.put(key("a"), "v2".into(), page(10));
        assert!(cache.get(&key("a"), "v1").is_none() && cache.get(&key("a"), "v2").is_some());
    }

    #[test]
    fn the_oldest_pages_go_when_over_budget() {
        let cache = ThreadCache::new(100);
        cache.put(key("a"), "v".into(), page(40));
        cache.put(key("b"), "v".into(), page(40));
        cache.put(key("c"), "v".into(), page(40));
        assert!(cache.get(&key("a"), "v").is_none());
        assert!(cache.get(&key("b"), "v").is_some() && cache.get(&key("c"), "v").is_some());
        cache.put(key("huge"), "v".into(), page(101));
        assert_eq!(cache.len(), 2);
    }
}
