//! `GET /posts/{slug}/comments?limit&cursor&sort=oldest|newest`.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::http::{Page, json, query_param};
use shared::store::ThreadSort;
use shared::{ApiError, App, time};

pub async fn list(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    let slug = super::slug(req)?;
    let page = Page::from_request(req)?;
    let sort = match query_param(req, "sort") {
        None | Some("oldest") => ThreadSort::Oldest,
        Some("newest") => ThreadSort::Newest,
        Some(_) => return Err(ApiError::validation("sort", "must be oldest or newest")),
    };
    // The post (count, window) and the thread page are independent: read them together.
    let (post, thread) = futures::join!(super::post(app, &slug), app.store.thread(&slug, &page, sort));
    let post = post?;
    let (comments, next_cursor) = thread?;
    let window = post.comment_window(time::now());
    let items: Vec<_> = comments.iter().map(|c| c.to_json()).collect();
    Ok(json(
        StatusCode::OK,
        &json!({
            "items": items,
            "count": post.comment_count,
            "open": window.open,
            "close_at": window.close_at.map(time::format),
            "next_cursor": next_cursor,
        }),
    ))
}
