//! `GET /posts?limit&cursor&tag`: newest first.

use app::http::{json, query_param};
use app::post::Tag;
use app::{ApiError, App};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

pub async fn list(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    let page = app::http::page(req)?;
    let tag = query_param(req, "tag").map(Tag::parse).transpose().map_err(|why| ApiError::validation("tag", why))?;
    let (posts, next_cursor) = app.store.list_posts(&page, tag.as_ref()).await?;
    let now = app.clock.now();
    let items: Vec<_> = posts.iter().map(|post| post.view(now)).collect();
    Ok(json(StatusCode::OK, &json!({ "items": items, "next_cursor": next_cursor })))
}
