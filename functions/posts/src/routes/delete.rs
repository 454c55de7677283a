//! `DELETE /posts/{slug}` (admin): 204; its comments go with it.

use lambda_http::{Body, Request, Response};
use shared::auth::require_admin;
use shared::http::no_content;
use shared::{ApiError, App};

pub async fn delete(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    require_admin(&app.config, req)?;
    let slug = super::slug(req)?;
    app.store.delete_post(&slug).await?;
    Ok(no_content())
}
