//! The widget function: `GET /embed.js` and `GET /embed.css`, compiled into the binary,
//! long-cached and revalidated by an ETag of their content. It reads no data: no table,
//! no secret, only which origins it answers.

use app::ApiError;
use app::config::AllowedOrigins;
use app::http::{finish_for, route_key, unknown_route};
use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Request, Response};

pub const EMBED_JS: &str = include_str!("../assets/embed.js");
pub const EMBED_CSS: &str = include_str!("../assets/embed.css");

pub async fn handle(origins: &AllowedOrigins, req: Request) -> Response<Body> {
    let result = match route_key(&req).unwrap_or_default() {
        "GET /embed.js" => Ok(asset(&req, EMBED_JS, "text/javascript; charset=utf-8")),
        "GET /embed.css" => Ok(asset(&req, EMBED_CSS, "text/css; charset=utf-8")),
        _ => Err::<_, ApiError>(unknown_route(&req)),
    };
    finish_for(origins, &req, result)
}

fn asset(req: &Request, content: &'static str, content_type: &str) -> Response<Body> {
    let etag = format!("\"{}\"", &app::config::sha256_hex(content.as_bytes())[..16]);
    let fresh = req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v == etag);
    let builder = Response::builder()
        .header(header::ETAG, &etag)
        // A day fresh, a week stale while it revalidates: a new release reaches blogs within a day.
        .header(header::CACHE_CONTROL, "public, max-age=86400, stale-while-revalidate=604800")
        .header(header::CONTENT_TYPE, content_type);
    if fresh {
        builder.status(StatusCode::NOT_MODIFIED).body(Body::Empty)
    } else {
        builder.status(StatusCode::OK).body(Body::Text(content.to_owned()))
    }
    .expect("valid response")
}
