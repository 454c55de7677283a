//! `GET /comments/counts?posts=a,b,c`: cacheable counts for post lists.

use std::sync::LazyLock;

use app::cache::TtlCache;
use app::http::{json, query_param};
use app::post::Slug;
use app::{ApiError, App};
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde_json::json;

const MAX_POSTS: usize = 200;

/// Recently read counts by (table, slug), for `Config::count_cache`.
static COUNTS: LazyLock<TtlCache<(String, String), u64>> = LazyLock::new(|| TtlCache::new(10_000));

pub async fn counts(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    let names: Vec<&str> =
        query_param(req, "posts").unwrap_or("").split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    if names.len() > MAX_POSTS {
        return Err(ApiError::validation("posts", format!("at most {MAX_POSTS} posts at a time")));
    }
    // A name that cannot be a slug names no post: it counts 0 without a lookup. Counts
    // read in the last few seconds come from memory; only the others are read.
    let ttl = app.config.count_cache;
    let table = app.store.table();
    let mut counts = std::collections::HashMap::new();
    let mut missing: Vec<Slug> = Vec::new();
    for slug in names.iter().filter_map(|name| Slug::parse(name).ok()) {
        match COUNTS.get(&(table.to_owned(), slug.to_string()), ttl) {
            Some(count) => {
                counts.insert(slug.to_string(), count);
            }
            None => missing.push(slug),
        }
    }
    if !missing.is_empty() {
        let read = app.store.comment_counts(&missing).await?;
        for slug in &missing {
            let count = read.get(slug.as_ref()).copied().unwrap_or(0);
            COUNTS.put((table.to_owned(), slug.to_string()), count, ttl);
            counts.insert(slug.to_string(), count);
        }
    }
    for name in names {
        counts.entry(name.to_owned()).or_insert(0);
    }
    let mut response = json(StatusCode::OK, &json!({ "counts": counts }));
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=30, stale-while-revalidate=120"));
    Ok(response)
}
