//! `GET /posts/{slug}`.

use app::http::json;
use app::{ApiError, App};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

pub async fn get(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    let slug = super::slug(req)?;
    let post = app.store.get_post(&slug).await?.ok_or_else(|| ApiError::NotFound(format!("no post named '{slug}'")))?;
    Ok(json(StatusCode::OK, &post.view(app.clock.now())))
}
