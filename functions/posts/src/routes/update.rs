//! `PUT /posts/{slug}` (admin): replaces the editable fields.

use app::auth::require_admin;
use app::http::{json, json_object};
use app::post::{MAX_POST_REQUEST, PostFields};
use app::{ApiError, App};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

pub async fn update(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    require_admin(&app.config, req)?;
    let slug = super::slug(req)?;
    let (slug, fields) = PostFields::from_json(json_object(req, MAX_POST_REQUEST)?, Some(&slug))?;
    let now = app.clock.now();
    let post = app.store.update_post(&slug, fields, now).await?;
    Ok(json(StatusCode::OK, &post.view(now)))
}
