//! `GET /posts/{slug}/comments?limit&cursor&sort=oldest|newest`.

use std::sync::{Arc, LazyLock};

use app::http::query_param;
use app::store::{Comment, ThreadSort};
use app::{ApiError, App, time};
use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::thread_cache::{CachedPage, PageKey, ThreadCache};

/// Pages this process has read, by thread version; at most 16 MB of a Lambda's 128.
static THREADS: LazyLock<ThreadCache> = LazyLock::new(|| ThreadCache::new(16 << 20));

/// The answer: the cached items go in as the JSON text they were kept as.
#[derive(Serialize)]
struct ThreadPage<'a> {
    items: &'a RawValue,
    count: u64,
    open: bool,
    close_at: Option<String>,
    next_cursor: Option<&'a str>,
}

pub async fn list(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    let slug = super::slug(req)?;
    let page = app::http::page(req)?;
    let sort = match query_param(req, "sort") {
        None | Some("oldest") => ThreadSort::Oldest,
        Some("newest") => ThreadSort::Newest,
        Some(_) => return Err(ApiError::validation("sort", "must be oldest or newest")),
    };
    let (post, version) =
        app.store.post_for_thread(&slug).await?.ok_or_else(|| ApiError::NotFound(format!("no post named '{slug}'")))?;
    let key = PageKey {
        table: app.store.table().to_owned(),
        slug: slug.to_string(),
        newest_first: sort == ThreadSort::Newest,
        limit: page.limit,
        cursor: page.cursor.clone(),
    };
    let cached = version.as_deref().and_then(|version| THREADS.get(&key, version));
    let thread = match cached {
        Some(thread) => thread,
        None => {
            // Read consistently, so the page is at least as new as the version above.
            let (comments, next_cursor) = app.store.thread(&slug, &page, sort, true).await?;
            let items: Vec<_> = comments.iter().map(Comment::view).collect();
            let items = serde_json::value::to_raw_value(&items).expect("comments serialise");
            let thread = Arc::new(CachedPage { items, next_cursor });
            if let Some(version) = version {
                THREADS.put(key, version, thread.clone());
            }
            thread
        }
    };
    let window = post.comment_window(app.clock.now());
    let page = ThreadPage {
        items: &thread.items,
        count: post.comment_count,
        open: window.open,
        close_at: window.close_at.map(time::format),
        next_cursor: thread.next_cursor.as_deref(),
    };
    let body = serde_json::to_string(&page).expect("a thread page serialises");
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        .body(Body::Text(body))
        .expect("static headers are valid"))
}
