//! The comments function: every `comments` operation of `openapi.yaml`.

mod routes;
mod thread_cache;

use app::http::{finish, route_key, unknown_route};
use app::{ApiError, App};
use lambda_http::{Body, Request, Response};

/// Answers one request; every error has already become its `Error` response.
pub async fn handle(app: &App, req: Request) -> Response<Body> {
    let result = dispatch(app, &req).await;
    finish(&app.config, &req, result)
}

async fn dispatch(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    match route_key(req).unwrap_or_default() {
        "GET /posts/{slug}/comments" => routes::list(app, req).await,
        "POST /posts/{slug}/comments" => routes::create(app, req).await,
        "PUT /posts/{slug}/comments/{id}" => routes::edit(app, req).await,
        "DELETE /posts/{slug}/comments/{id}" => routes::delete(app, req).await,
        "GET /comments/counts" => routes::counts(app, req).await,
        "GET /posts/{slug}/comments.atom" => routes::feed(app, req).await,
        "GET /admin/comments" => routes::queue(app, req).await,
        "POST /admin/comments/{id}/approve" => routes::moderate(app, req, routes::Action::Approve).await,
        "POST /admin/comments/{id}/spam" => routes::moderate(app, req, routes::Action::Spam).await,
        "POST /admin/comments/{id}/delete" => routes::moderate(app, req, routes::Action::Delete).await,
        "POST /admin/commenters/erase" => routes::erase_commenter(app, req).await,
        "GET /notifications/{token}" => routes::notifications_page(app, req).await,
        "POST /notifications/{token}" => routes::confirm_notifications(app, req).await,
        "GET /unsubscribe/{token}" => routes::unsubscribe_page(app, req).await,
        "POST /unsubscribe/{token}" => routes::unsubscribe(app, req).await,
        _ => Err(unknown_route(req)),
    }
}
