//! The blogger's moderation: `GET /admin/comments?status=pending` (oldest first) and
//! `POST /admin/comments/{id}/approve`, `/spam`, `/delete`.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::auth::require_admin;
use shared::http::{Page, json, query_param};
use shared::store::CommentStatus;
use shared::{ApiError, App};

pub enum Action {
    Approve,
    Spam,
    Delete,
}

pub async fn queue(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    require_admin(&app.config, req)?;
    if !matches!(query_param(req, "status"), None | Some("pending")) {
        return Err(ApiError::validation("status", "only the pending queue is listed"));
    }
    let page = Page::from_request(req)?;
    let (comments, next_cursor) = app.store.pending_comments(&page).await?;
    let items: Vec<_> = comments.iter().map(|c| c.to_json()).collect();
    Ok(json(StatusCode::OK, &json!({ "items": items, "next_cursor": next_cursor })))
}

pub async fn moderate(app: &App, req: &Request, action: Action) -> Result<Response<Body>, ApiError> {
    require_admin(&app.config, req)?;
    let comment = super::comment(app, req, None).await?;
    match action {
        Action::Approve => app.store.moderate(&comment, CommentStatus::Approved).await?,
        Action::Spam => app.store.moderate(&comment, CommentStatus::Spam).await?,
        Action::Delete => {
            app.store.delete_comment(&comment).await?;
            return Ok(shared::http::no_content());
        }
    }
    let comment = super::comment(app, req, None).await?;
    Ok(json(StatusCode::OK, &comment.to_json()))
}
