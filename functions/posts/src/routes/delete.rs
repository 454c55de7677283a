//! `DELETE /posts/{slug}` (admin): 204; its comments go with it.

use app::auth::require_admin;
use app::http::no_content;
use app::{ApiError, App};
use lambda_http::{Body, Request, Response};

pub async fn delete(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    require_admin(&app.config, req)?;
    let slug = super::slug(req)?;
    app.store.delete_post(&slug).await?;
    Ok(no_content())
}
