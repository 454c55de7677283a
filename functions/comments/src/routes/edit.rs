//! `PUT` and `DELETE /posts/{slug}/comments/{id}`: the commenter, with the edit token
//! they got on posting and within the edit window; the blogger, any time, to delete.
//! An edit passes the same checks as a new comment: the rate limit, the repeat rule and
//! moderation, so a clean comment edited into a link farm is held like one posted so.

use app::auth::{client_hash, edit_token_matches, is_admin};
use app::comment::edited_body;
use app::config::sha256_hex;
use app::http::{MAX_BODY, json, json_object, no_content};
use app::store::{Check, ClientLimits, CommentEdit, CommentStatus, HeldReason};
use app::{ApiError, App, markdown};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

pub async fn edit(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    let slug = super::slug(req)?;
    let body = edited_body(json_object(req, MAX_BODY)?)?;
    let comment = super::comment(app, req, Some(&slug)).await?;
    if comment.deleted || !edit_token_matches(req, comment.edit_token_hash.as_deref()) {
        return Err(ApiError::Unauthorized);
    }
    let now = app.clock.now();
    if !comment.editable_at(now) {
        return Err(Check::CommentEditable.into());
    }
    // Held or spam stays so until the blogger decides; approved is held again when the
    // new body would be. Whether the commenter was approved before is already settled.
    let (status, held_reason) = match comment.status {
        CommentStatus::Approved if super::too_many_links(app, &body) => {
            (CommentStatus::Pending, Some(HeldReason::Edit))
        }
        other => (other, None),
    };
    let limits = ClientLimits {
        client: client_hash(&app.config, req, now),
        body_hash: sha256_hex(body.as_bytes()),
        writes_per_minute: app.config.writes_per_minute,
    };
    let edit = CommentEdit { body_html: markdown::render(&body), body, status, held_reason, limits, now };
    let edited = app.store.edit_comment(&comment, edit).await?;
    let code = if edited.status == CommentStatus::Approved { StatusCode::OK } else { StatusCode::ACCEPTED };
    Ok(json(code, &edited.view()))
}

pub async fn delete(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    let slug = super::slug(req)?;
    let comment = super::comment(app, req, Some(&slug)).await?;
    if !is_admin(&app.config, req) {
        if comment.deleted || !edit_token_matches(req, comment.edit_token_hash.as_deref()) {
            return Err(ApiError::Unauthorized);
        }
        if !comment.editable_at(app.clock.now()) {
            return Err(Check::CommentEditable.into());
        }
    }
    app.store.delete_comment(&comment).await?;
    Ok(no_content())
}
