//! The posts function: every `posts` operation of `openapi.yaml`. Handlers are plain
//! async functions of a `lambda_http::Request`, dispatched on the route key API Gateway
//! matched, so they run unchanged on Lambda, in the local stack and in tests.

mod routes;

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
        "GET /posts" => routes::list(app, req).await,
        "GET /posts/{slug}" => routes::get(app, req).await,
        "GET /posts/{slug}/related" => routes::related(app, req).await,
        "POST /posts" => routes::create(app, req).await,
        "PUT /posts/{slug}" => routes::update(app, req).await,
        "DELETE /posts/{slug}" => routes::delete(app, req).await,
        "POST /admin/preview" => routes::preview(app, req).await,
        _ => Err(unknown_route(req)),
    }
}
