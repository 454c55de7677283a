//! The widget function: `GET /embed.js` and `GET /embed.css`, compiled into the binary,
//! long-cached and revalidated by an ETag of their content; and the organiser's console,
//! `GET /admin` with its script and stylesheet, which talks to the admin API from the
//! browser with the token the organiser types in. It reads no data: no table, no
//! secret, only which origins it answers.

use app::ApiError;
use app::config::AllowedOrigins;
use app::http::{finish_for, route_key, unknown_route};
use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Request, Response};

pub const EMBED_JS: &str = include_str!("../assets/embed.js");
pub const EMBED_CSS: &str = include_str!("../assets/embed.css");
pub const CONSOLE_HTML: &str = include_str!("../assets/console.html");
pub const CONSOLE_JS: &str = include_str!("../assets/console.js");
pub const CONSOLE_CSS: &str = include_str!("../assets/console.css");

/// The console's policy: its own script and styles only, no inline script, calls to its
/// own origin only, and never inside another page's frame.
pub const CONSOLE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// A day fresh, a week stale while it revalidates: a new release reaches blogs within a day.
const EMBED_CACHE: &str = "public, max-age=86400, stale-while-revalidate=604800";
/// The console is revalidated on every load, so a release reaches the organiser at once.
const CONSOLE_CACHE: &str = "no-cache";

pub async fn handle(origins: &AllowedOrigins, req: Request) -> Response<Body> {
    let result = match route_key(&req).unwrap_or_default() {
        "GET /embed.js" => Ok(asset(&req, EMBED_JS, "text/javascript; charset=utf-8", EMBED_CACHE)),
        "GET /embed.css" => Ok(asset(&req, EMBED_CSS, "text/css; charset=utf-8", EMBED_CACHE)),
        "GET /admin" => Ok(console(asset(&req, CONSOLE_HTML, "text/html; charset=utf-8", CONSOLE_CACHE))),
        "GET /admin/console.js" => {
            Ok(console(asset(&req, CONSOLE_JS, "text/javascript; charset=utf-8", CONSOLE_CACHE)))
        }
        "GET /admin/console.css" => Ok(console(asset(&req, CONSOLE_CSS, "text/css; charset=utf-8", CONSOLE_CACHE))),
        _ => Err::<_, ApiError>(unknown_route(&req)),
    };
    finish_for(origins, &req, result)
}

/// The headers every console answer carries.
fn console(mut response: Response<Body>) -> Response<Body> {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, header::HeaderValue::from_static(CONSOLE_CSP));
    headers.insert(header::X_FRAME_OPTIONS, header::HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, header::HeaderValue::from_static("no-referrer"));
    headers.insert("cross-origin-opener-policy", header::HeaderValue::from_static("same-origin"));
    response
}

fn asset(req: &Request, content: &'static str, content_type: &str, cache: &'static str) -> Response<Body> {
    let etag = format!("\"{}\"", &app::config::sha256_hex(content.as_bytes())[..16]);
    let fresh = req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v == etag);
    let builder = Response::builder()
        .header(header::ETAG, &etag)
        .header(header::CACHE_CONTROL, cache)
        .header(header::CONTENT_TYPE, content_type);
    if fresh {
        builder.status(StatusCode::NOT_MODIFIED).body(Body::Empty)
    } else {
        builder.status(StatusCode::OK).body(Body::Text(content.to_owned()))
    }
    .expect("valid response")
}
