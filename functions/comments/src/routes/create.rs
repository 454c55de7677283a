//! `POST /posts/{slug}/comments`: 201 with the comment and its edit token, or 202 when
//! moderation holds it.

use app::auth::{client_hash, is_admin, random_token};
use app::campaign::address_key;
use app::comment::{CommentId, NewComment, commenter_email_hash, commenter_key_hash};
use app::config::sha256_hex;
use app::http::{MAX_BODY, json, json_object};
use app::store::{ClientLimits, CommentStatus, NewCommentContext, ReplyNotify};
use app::{ApiError, App, markdown};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

pub async fn create(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    let slug = super::slug(req)?;
    let new = NewComment::from_json(json_object(req, MAX_BODY)?)?;
    let now = app.clock.now();
    let post = app
        .store
        .post_for_comment(&slug)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no post named '{slug}'")))?;
    let window = post.comment_window(now);
    if !window.open {
        return Err(ApiError::CommentsClosed { days: window.days.unwrap_or_default() });
    }
    let is_post_author = is_admin(&app.config, req);
    let salt = &app.config.ip_hash_salt;
    let email_hash = new.email.as_ref().map(|email| commenter_email_hash(email, salt));
    let key_hash = new.commenter_key.as_ref().map(|key| commenter_key_hash(key, salt));
    let held_reason = match is_post_author {
        true => None,
        false => super::held(app, &new.body, email_hash.as_deref(), key_hash.as_deref()).await?,
    };
    let status = if held_reason.is_some() { CommentStatus::Pending } else { CommentStatus::Approved };

    // A reply notification goes to the address a person will confirm they hold: kept
    // by its address key, the one every mail Rally sends is checked against.
    let notify = new
        .notify_replies
        .then_some(new.email.as_ref())
        .flatten()
        .map(|email| ReplyNotify { address: address_key(email, salt), email: email.as_ref().to_owned() });
    let edit_token = random_token();
    let limits = (!is_post_author).then(|| ClientLimits {
        client: client_hash(&app.config, req, now),
        body_hash: sha256_hex(new.body.as_bytes()),
        writes_per_minute: app.config.writes_per_minute,
    });
    let comment = app
        .store
        .add_comment(
            &slug,
            NewCommentContext {
                id: CommentId::new(),
                author: new.author,
                website: new.website.map(|w| w.as_ref().to_owned()),
                body_html: markdown::render(&new.body),
                body: new.body,
                parent_id: new.parent_id,
                is_post_author,
                status,
                held_reason,
                email_hash,
                commenter_key_hash: key_hash,
                edit_token_hash: sha256_hex(edit_token.as_bytes()),
                notify,
                limits,
                now,
            },
        )
        .await?;
    let code = if status == CommentStatus::Pending { StatusCode::ACCEPTED } else { StatusCode::CREATED };
    Ok(json(code, &json!({ "comment": comment.view(), "edit_token": edit_token })))
}
