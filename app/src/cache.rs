//! A small per-process cache of answers that may be a few seconds old: the counts whose
//! `Cache-Control` already says so. A warm Lambda answers a viral post's count requests
//! from memory instead of reading DynamoDB for each.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct TtlCache<K, V> {
    entries: Mutex<HashMap<K, (Instant, V)>>,
    capacity: usize,
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    pub fn new(capacity: usize) -> Self {
        Self { entries: Mutex::new(HashMap::new()), capacity }
    }

    /// The value stored under `key` less than `ttl` ago.
    pub fn get(&self, key: &K, ttl: Duration) -> Option<V> {
        if ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.get(key).filter(|(at, _)| at.elapsed() < ttl).map(|(_, value)| value.clone())
    }

    pub fn put(&self, key: K, value: V, ttl: Duration) {
        if ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            // Expired entries go first; if none has, the cache starts over.
            entries.retain(|_, (at, _)| at.elapsed() < ttl);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, (Instant::now(), value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_expire_and_zero_means_no_cache() {
        let cache = TtlCache::new(10);
        cache.put("a", 1, Duration::from_millis(50));
        assert_eq!(cache.get(&"a", Duration::from_millis(50)), Some(1));
        assert_eq!(cache.get(&"a", Duration::ZERO), None);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get(&"a", Duration::from_millis(50)), None);
        cache.put("b", 2, Duration::ZERO);
        assert_eq!(cache.get(&"b", Duration::from_secs(1)), None);
    }

    #[test]
    fn it_stays_within_its_capacity() {
        let cache = TtlCache::new(2);
        let ttl = Duration::from_secs(60);
        cache.put(1, 1, ttl);
        cache.put(2, 2, ttl);
        cache.put(3, 3, ttl);
        assert!(cache.entries.lock().unwrap().len() <= 2);
        assert_eq!(cache.get(&3, ttl), Some(3));
    }
}
