//! The few HTML pages the API serves itself, for people who follow a link in a mail:
//! no other site may frame them, they leave no referrer, and nothing caches them.

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, Response};

/// Whether the client asked for a page (a browser's form post) rather than JSON.
pub fn wants_html(req: &Request) -> bool {
    req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.starts_with("text/html"))
}

pub fn html_response(status: StatusCode, html: String) -> Response<Body> {
    let mut response = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::REFERRER_POLICY, "no-referrer")
        .header(header::X_FRAME_OPTIONS, "DENY")
        .body(Body::Text(html))
        .expect("valid response");
    // No other site may frame these pages (and trick a click on their buttons).
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    );
    response
}

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// A page that says one thing.
pub fn message_page(title: &str, message: &str) -> String {
    PAGE.replace("{title}", &escape(title)).replace("{content}", &format!("<p role=\"status\">{}</p>", escape(message)))
}

/// A page that asks before it acts: a link's GET shows this (mail scanners follow GETs
/// and must change nothing), its button POSTs to the same address.
pub fn question_page(title: &str, question: &str, button: &str) -> String {
    let content = format!(
        "<p>{}</p><form method=\"post\"><button type=\"submit\">{}</button></form>",
        escape(question),
        escape(button)
    );
    PAGE.replace("{title}", &escape(title)).replace("{content}", &content)
}

const PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}
button{font:inherit;padding:.5rem 1rem}</style>
</head><body><h1>{title}</h1>{content}</body></html>
"#;
