//! Request and response plumbing common to every function: the JSON body rules of
//! `openapi.yaml` (content type, size, object shape), paging parameters, response headers
//! and CORS.

use lambda_http::http::{HeaderValue, Response, StatusCode, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt};
use serde_json::{Map, Value};

use crate::config::Config;
use crate::error::ApiError;

/// Public request bodies are capped at 64 KiB (413 `too_large`).
pub const MAX_BODY: usize = 64 * 1024;

/// A slug from a URL path: an invalid one names nothing, so it is a 404.
pub fn slug_from_path(raw: &str, what: &str) -> Result<crate::post::Slug, ApiError> {
    crate::post::Slug::parse(raw).map_err(|_| ApiError::NotFound(format!("no {what} named '{raw}'")))
}

/// The route API Gateway matched, e.g. `GET /posts/{slug}`. Functions dispatch on it, so
/// a route answers only where the template declares it.
pub fn route_key(req: &Request) -> Option<&str> {
    match req.request_context_ref()? {
        RequestContext::ApiGatewayV2(ctx) => ctx.route_key.as_deref(),
        _ => None,
    }
}

/// A path parameter that the route declares; API Gateway always fills it.
pub fn path_param(req: &Request, name: &str) -> String {
    req.path_parameters_ref().and_then(|p| p.first(name)).unwrap_or_default().to_owned()
}

pub fn query_param<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.query_string_parameters_ref().and_then(|q| q.first(name))
}

/// The body as a JSON object, or the error that says why not.
pub fn json_object(req: &Request, limit: usize) -> Result<Map<String, Value>, ApiError> {
    let bytes: &[u8] = match req.body() {
        Body::Empty => b"",
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => b"",
    };
    if bytes.len() > limit {
        return Err(ApiError::TooLarge { limit });
    }
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return Err(ApiError::BadRequest("the body must be JSON with Content-Type: application/json".into()));
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::BadRequest("the body must be a JSON object".into())),
        Err(err) => Err(ApiError::BadRequest(format!("the body is not valid JSON: {err}"))),
    }
}

/// `?limit=` and `?cursor=` of a list route, read into the store's page request.
pub use crate::store::Page;

/// The page a list route's query asks for: `limit` 1 to 200 (default 50) and `cursor`.
pub fn page(req: &Request) -> Result<Page, ApiError> {
    Ok(Page::parse(query_param(req, "limit"), query_param(req, "cursor"), Page::DEFAULT_LIMIT, Page::MAX_LIMIT)?)
}

pub fn json(status: StatusCode, value: &impl serde::Serialize) -> Response<Body> {
    let body = serde_json::to_string(value).expect("response values serialise");
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        .body(Body::Text(body))
        .expect("static headers are valid")
}

pub fn no_content() -> Response<Body> {
    Response::builder().status(StatusCode::NO_CONTENT).body(Body::Empty).expect("valid response")
}

/// Turns a handler's result into the response sent: errors become the `Error` body,
/// and every response gets the headers the API promises (CORS, nosniff).
pub fn finish(config: &Config, req: &Request, result: Result<Response<Body>, ApiError>) -> Response<Body> {
    finish_for(&config.allowed_origins, req, result)
}

/// [`finish`] for a function that knows only which origins it answers.
pub fn finish_for(
    origins: &crate::config::AllowedOrigins,
    req: &Request,
    result: Result<Response<Body>, ApiError>,
) -> Response<Body> {
    let mut response = result.unwrap_or_else(|err| {
        err.log();
        let mut response = json(err.status(), &err.body());
        if let ApiError::RateLimited { retry_after_secs } = err {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    });
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // What the organiser reads is never kept by a browser or a proxy.
    let admin = req.uri().path().starts_with("/admin/") || req.headers().contains_key(header::AUTHORIZATION);
    if admin && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if let Some(origin) = req.headers().get(header::ORIGIN).and_then(|o| o.to_str().ok())
        && origins.allows(origin)
        && let Ok(value) = HeaderValue::from_str(origin)
    {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    response
}

/// The error for a route key the function does not serve: the template and the function
/// disagree, which is a deployment bug rather than a client error.
pub fn unknown_route(req: &Request) -> ApiError {
    tracing::error!(
        route = route_key(req).unwrap_or_default(),
        method = %req.method(),
        path = req.uri().path(),
        "API Gateway sent a route this function does not serve: the template and the function disagree"
    );
    ApiError::NotFound(format!("no route for {} {}", req.method(), req.uri().path()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_defaults_and_bounds() {
        assert_eq!(Page::parse(None, None, 50, 200).unwrap().limit, 50);
        assert_eq!(Page::parse(Some("200"), None, 50, 200).unwrap().limit, 200);
        for bad in ["0", "201", "-1", "ten", ""] {
            let err = Page::parse(Some(bad), None, 50, 200).unwrap_err();
            assert!(err.get("limit").is_some(), "limit={bad}");
        }
    }

    #[test]
    fn empty_cursor_is_no_cursor() {
        assert_eq!(Page::parse(None, Some(""), 50, 200).unwrap().cursor, None);
    }
}
