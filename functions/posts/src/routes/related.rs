//! `GET /posts/{slug}/related?limit=3`: the posts sharing the most tags, newest first.

use app::http::{Page, json, query_param};
use app::{ApiError, App};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

const DEFAULT_LIMIT: u32 = 3;
const MAX_LIMIT: u32 = 20;

pub async fn related(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    let slug = super::slug(req)?;
    let limit = Page::parse(query_param(req, "limit"), None, DEFAULT_LIMIT, MAX_LIMIT)?.limit;
    let post = app
        .store
        .get_post_summary(&slug)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no post named '{slug}'")))?;
    let related = app.store.related_posts(&post, limit as usize).await?;
    let now = app.clock.now();
    let items: Vec<_> = related.iter().map(|post| post.view(now)).collect();
    Ok(json(StatusCode::OK, &json!({ "items": items })))
}
