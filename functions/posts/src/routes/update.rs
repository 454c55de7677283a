//! `PUT /posts/{slug}` (admin): replaces the editable fields.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::auth::require_admin;
use shared::http::{json, json_object};
use shared::post::{MAX_POST_REQUEST, PostFields};
use shared::{ApiError, App};

pub async fn update(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    require_admin(&app.config, req)?;
    let slug = super::slug(req)?;
    let (slug, fields) = PostFields::from_json(json_object(req, MAX_POST_REQUEST)?, Some(&slug))?;
    let now = app.clock.now();
    let post = app.store.update_post(&slug, fields, now).await?;
    Ok(json(StatusCode::OK, &post.view(now, true)))
}
