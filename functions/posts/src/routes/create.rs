//! `POST /posts` (admin): 201 with the post, 409 when the slug is taken.

use app::auth::require_admin;
use app::http::{json, json_object};
use app::post::{MAX_POST_REQUEST, PostFields};
use app::{ApiError, App};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

pub async fn create(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    require_admin(&app.config, req)?;
    let (slug, fields) = PostFields::from_json(json_object(req, MAX_POST_REQUEST)?, None)?;
    let now = app.clock.now();
    let post = app.store.create_post(slug, fields, now).await?;
    Ok(json(StatusCode::CREATED, &post.view(now)))
}
