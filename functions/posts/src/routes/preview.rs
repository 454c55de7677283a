//! `POST /admin/preview` (admin): Markdown rendered exactly as a post's or a comment's
//! body is, so the console's preview is what readers will see.

use app::auth::require_admin;
use app::http::{json, json_object};
use app::post::MAX_POST_REQUEST;
use app::{ApiError, App, markdown};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};

pub async fn preview(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    require_admin(&app.config, req)?;
    let mut map = json_object(req, MAX_POST_REQUEST)?;
    let body = match map.remove("body") {
        Some(Value::String(body)) if body.chars().count() <= 100_000 => body,
        Some(Value::String(_)) => return Err(ApiError::validation("body", "must be at most 100000 characters")),
        None | Some(Value::Null) => return Err(ApiError::validation("body", "is required")),
        Some(_) => return Err(ApiError::validation("body", "must be a string")),
    };
    if let Some(unknown) = map.keys().next() {
        return Err(ApiError::validation(unknown, "unknown field"));
    }
    Ok(json(StatusCode::OK, &json!({ "body_html": markdown::render(&body) })))
}
