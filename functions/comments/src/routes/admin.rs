//! The blogger's moderation: `GET /admin/comments` (the queue or the spam folder) and
//! `POST /admin/comments/{id}/approve`, `/spam`, `/delete`.

use app::auth::require_admin;
use app::comment::{commenter_email_hash, commenter_to_forget};
use app::http::{MAX_BODY, json, json_object, query_param};
use app::store::{Comment, CommentStatus};
use app::{ApiError, App};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

pub enum Action {
    Approve,
    Spam,
    Delete,
}

/// `GET /admin/comments?status=pending|spam&order=oldest|newest`: the held comments
/// (or the spam) of every post, each with why it was held.
pub async fn queue(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    require_admin(&app.config, req)?;
    let status = match query_param(req, "status") {
        None | Some("pending") => CommentStatus::Pending,
        Some("spam") => CommentStatus::Spam,
        Some(_) => return Err(ApiError::validation("status", "must be pending or spam")),
    };
    let newest_first = match query_param(req, "order") {
        None | Some("oldest") => false,
        Some("newest") => true,
        Some(_) => return Err(ApiError::validation("order", "must be oldest or newest")),
    };
    let page = app::http::page(req)?;
    let (comments, next_cursor) = app.store.held_comments(status, &page, newest_first).await?;
    let items: Vec<_> = comments.iter().map(Comment::held_view).collect();
    Ok(json(StatusCode::OK, &json!({ "items": items, "next_cursor": next_cursor })))
}

/// `POST /admin/commenters/erase`: forgets that a commenter (by address) was approved.
pub async fn erase_commenter(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    require_admin(&app.config, req)?;
    let email = commenter_to_forget(json_object(req, MAX_BODY)?)?;
    let salt = &app.config.ip_hash_salt;
    app.store.forget_commenter(&commenter_email_hash(&email, salt)).await?;
    // And the address kept for reply notifications (a suppression stays, addressless).
    app.store.forget_mailbox(&app::campaign::address_key(&email, salt)).await?;
    Ok(app::http::no_content())
}

pub async fn moderate(app: &App, req: &Request, action: Action) -> Result<Response<Body>, ApiError> {
    require_admin(&app.config, req)?;
    let comment = super::comment(app, req, None).await?;
    match action {
        Action::Approve => app.store.moderate(&comment, CommentStatus::Approved, app.clock.now()).await?,
        Action::Spam => app.store.moderate(&comment, CommentStatus::Spam, app.clock.now()).await?,
        Action::Delete => {
            app.store.delete_comment(&comment).await?;
            return Ok(app::http::no_content());
        }
    }
    let comment = super::comment(app, req, None).await?;
    Ok(json(StatusCode::OK, &comment.view()))
}
