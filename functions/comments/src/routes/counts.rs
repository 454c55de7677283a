//! `GET /comments/counts?posts=a,b,c`: cacheable counts for post lists.

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::http::{json, query_param};
use shared::post::Slug;
use shared::{ApiError, App};

const MAX_POSTS: usize = 200;

pub async fn counts(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    let names: Vec<&str> =
        query_param(req, "posts").unwrap_or("").split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    if names.len() > MAX_POSTS {
        return Err(ApiError::validation("posts", format!("at most {MAX_POSTS} posts at a time")));
    }
    // A name that cannot be a slug names no post: it counts 0 without a lookup.
    let slugs: Vec<Slug> = names.iter().filter_map(|name| Slug::parse(name).ok()).collect();
    let mut counts = app.store.comment_counts(&slugs).await?;
    for name in names {
        counts.entry(name.to_owned()).or_insert(0);
    }
    let mut response = json(StatusCode::OK, &json!({ "counts": counts }));
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=30, stale-while-revalidate=120"));
    Ok(response)
}
