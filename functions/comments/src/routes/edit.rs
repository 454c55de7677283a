//! `PUT` and `DELETE /posts/{slug}/comments/{id}`: the commenter, with the edit token
//! they got on posting and within the edit window; the blogger, any time, to delete.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::auth::{edit_token_matches, is_admin};
use shared::comment::edited_body;
use shared::http::{MAX_BODY, json, json_object, no_content};
use shared::store::edit_window_passed;
use shared::{ApiError, App, markdown, time};

pub async fn edit(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    let slug = super::slug(req)?;
    let comment = super::comment(app, req, Some(&slug)).await?;
    if comment.deleted || !edit_token_matches(req, comment.edit_token_hash.as_deref()) {
        return Err(ApiError::Unauthorized);
    }
    let now = time::now();
    if !comment.editable_at(now) {
        return Err(edit_window_passed());
    }
    let body = edited_body(json_object(req, MAX_BODY)?)?;
    let edited = app.store.edit_comment(&comment, &body, &markdown::render(&body), now).await?;
    Ok(json(StatusCode::OK, &edited.to_json()))
}

pub async fn delete(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    let slug = super::slug(req)?;
    let comment = super::comment(app, req, Some(&slug)).await?;
    if !is_admin(&app.config, req) {
        if comment.deleted || !edit_token_matches(req, comment.edit_token_hash.as_deref()) {
            return Err(ApiError::Unauthorized);
        }
        if !comment.editable_at(time::now()) {
            return Err(edit_window_passed());
        }
    }
    app.store.delete_comment(&comment).await?;
    Ok(no_content())
}
