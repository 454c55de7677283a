//! The local API Gateway: matches each request against the template's `HttpApi` routes,
//! turns it into the API Gateway HTTP API (v2) event Lambda would receive, and calls the
//! function in process. CORS preflights are answered here, as API Gateway answers them
//! in front of the functions when the `HttpApi` has a CORS configuration.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use app::App;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::TokioIo;
use lambda_http::http::{self, HeaderMap, HeaderValue, Method, StatusCode, header};
use lambda_http::request::LambdaRequest;
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::template::{Cors, Route, Template};

pub type Handler = fn(App, Request) -> Pin<Box<dyn Future<Output = Response<Body>> + Send>>;

/// The function behind each cargo binary named in the template.
pub fn handler_for(binary: &str) -> Option<Handler> {
    match binary {
        "posts" => Some(|app, req| Box::pin(async move { posts::handle(&app, req).await })),
        "comments" => Some(|app, req| Box::pin(async move { comments::handle(&app, req).await })),
        "petitions" => Some(|app, req| Box::pin(async move { campaigns::petitions::handle(&app, req).await })),
        "pledges" => Some(|app, req| Box::pin(async move { campaigns::pledges::handle(&app, req).await })),
        "widget" => Some(|app, req| Box::pin(async move { widget::handle(&app.config.allowed_origins, req).await })),
        _ => None,
    }
}

/// Routes the local stack answers itself; never deployed.
pub type DevRoutes =
    Arc<dyn Fn(&Method, &str) -> Option<Pin<Box<dyn Future<Output = Response<Body>> + Send>>> + Send + Sync>;

pub struct Router {
    routes: Vec<(Route, Handler)>,
    cors: Cors,
    app: App,
    dev_routes: Option<DevRoutes>,
    /// See [`crate::Options::trust_forwarded_for`].
    pub trust_forwarded_for: bool,
    /// Each function's own app (by binary), held to its template policy; `app` otherwise.
    pub function_apps: HashMap<String, App>,
}

impl Router {
    /// Fails if the template names a function this build does not contain.
    pub fn new(template: &Template, app: App, dev_routes: Option<DevRoutes>) -> Result<Self, String> {
        let routes = template
            .routes
            .iter()
            .map(|route| {
                handler_for(&route.binary).map(|handler| (route.clone(), handler)).ok_or_else(|| {
                    format!(
                        "the template routes {} to '{}', which the local stack does not know",
                        route.key(),
                        route.binary
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            routes,
            cors: template.cors.clone(),
            app,
            dev_routes,
            trust_forwarded_for: false,
            function_apps: HashMap::new(),
        })
    }

    pub fn app(&self) -> &App {
        &self.app
    }

    /// The route for `path`, with its path parameters. Like API Gateway, a literal
    /// segment beats a `{parameter}`, and a `{name+}` parameter takes the rest.
    fn find(&self, method: &Method, path: &str) -> Option<(&Route, Handler, HashMap<String, String>)> {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        self.routes
            .iter()
            .filter(|(route, _)| route.method == method.as_str() || route.method == "ANY")
            .filter_map(|(route, handler)| {
                let (params, literals) = match_path(&route.path, &segments)?;
                Some((literals, route, *handler, params))
            })
            .max_by_key(|(literals, ..)| *literals)
            .map(|(_, route, handler, params)| (route, handler, params))
    }

    fn path_exists(&self, path: &str) -> Vec<&str> {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        self.routes
            .iter()
            .filter(|(r, _)| match_path(&r.path, &segments).is_some())
            .map(|(r, _)| r.method.as_str())
            .collect()
    }

    /// Answers one HTTP request.
    pub async fn handle(&self, req: http::Request<Bytes>, peer: SocketAddr) -> Response<Body> {
        let (parts, body) = req.into_parts();
        let path = parts.uri.path().to_owned();
        if parts.method == Method::OPTIONS && parts.headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD) {
            return self.preflight(&parts.headers, &path);
        }
        let Some((route, handler, params)) = self.find(&parts.method, &path) else {
            if let Some(answer) = self.dev_routes.as_ref().and_then(|dev| dev(&parts.method, &path)) {
                return answer.await;
            }
            return api_gateway_not_found();
        };
        let client = match self.trust_forwarded_for {
            true => forwarded_for(&parts.headers).unwrap_or(peer.ip()),
            false => peer.ip(),
        };
        let event = v2_event(&route.key(), &parts, &body, &params, SocketAddr::new(client, peer.port()));
        match serde_json::from_value::<LambdaRequest>(event) {
            Ok(event) => {
                let app = self.function_apps.get(&route.binary).unwrap_or(&self.app).clone();
                handler(app, Request::from(event)).await
            }
            Err(err) => {
                tracing::error!(%err, "could not build the API Gateway event");
                plain(StatusCode::INTERNAL_SERVER_ERROR, r#"{"message":"Internal Server Error"}"#)
            }
        }
    }

    fn preflight(&self, headers: &HeaderMap, path: &str) -> Response<Body> {
        if self.path_exists(path).is_empty() {
            return api_gateway_not_found();
        }
        let mut response = Response::builder().status(StatusCode::NO_CONTENT);
        let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()).unwrap_or("");
        if self.app.config.allowed_origins.allows(origin) {
            response = response
                .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin)
                .header(header::ACCESS_CONTROL_ALLOW_METHODS, self.cors.allow_methods.join(","))
                .header(header::ACCESS_CONTROL_ALLOW_HEADERS, self.cors.allow_headers.join(","))
                .header(header::VARY, "Origin");
            if let Some(max_age) = self.cors.max_age {
                response = response.header(header::ACCESS_CONTROL_MAX_AGE, max_age);
            }
        }
        response.body(Body::Empty).expect("valid preflight")
    }
}

/// Matches `/a/{b}/c` against path segments: the parameters and how many literal
/// segments matched, or `None`.
fn match_path(template: &str, segments: &[&str]) -> Option<(HashMap<String, String>, usize)> {
    let parts: Vec<&str> = template.trim_start_matches('/').split('/').collect();
    let mut params = HashMap::new();
    let mut literals = 0;
    for (i, part) in parts.iter().enumerate() {
        if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix("+}")) {
            let rest = segments.get(i..).filter(|rest| !rest.is_empty())?.join("/");
            params.insert(name.to_owned(), percent_decode(&rest));
            return Some((params, literals));
        }
        let segment = segments.get(i)?;
        if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            if segment.is_empty() {
                return None;
            }
            params.insert(name.to_owned(), percent_decode(segment));
        } else if part != segment {
            return None;
        } else {
            literals += 1;
        }
    }
    (parts.len() == segments.len()).then_some((params, literals))
}

fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The event API Gateway's HTTP API sends a Lambda proxy integration (payload 2.0):
/// lowercased headers with repeats joined by commas, cookies apart, query parameters
/// joined by commas, and a body that is base64 unless it is text.
fn v2_event(
    route_key: &str,
    parts: &http::request::Parts,
    body: &Bytes,
    params: &HashMap<String, String>,
    peer: SocketAddr,
) -> Value {
    let mut headers: HashMap<String, String> = HashMap::new();
    let mut cookies = Vec::new();
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == header::COOKIE {
            cookies.extend(value.split(';').map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()));
            continue;
        }
        headers
            .entry(name.as_str().to_owned())
            .and_modify(|v| {
                v.push(',');
                v.push_str(&value);
            })
            .or_insert(value);
    }
    let raw_query = parts.uri.query().unwrap_or("").to_owned();
    let mut query: HashMap<String, String> = HashMap::new();
    for pair in raw_query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (percent_decode(&k.replace('+', " ")), percent_decode(&v.replace('+', " ")));
        query
            .entry(k)
            .and_modify(|existing| {
                existing.push(',');
                existing.push_str(&v);
            })
            .or_insert(v);
    }
    let (body, is_base64) = match std::str::from_utf8(body) {
        _ if body.is_empty() => (Value::Null, false),
        Ok(text) => (Value::String(text.to_owned()), false),
        Err(_) => (Value::String(STANDARD.encode(body)), true),
    };
    let now = time::OffsetDateTime::now_utc();
    // API Gateway tells the function how the client reached it.
    headers.insert("x-forwarded-proto".into(), "http".into());
    headers.insert("x-forwarded-for".into(), peer.ip().to_string());
    headers.insert("x-forwarded-port".into(), peer.port().to_string());
    let host = headers.get("host").cloned().unwrap_or_else(|| "localhost".into());
    let request_id = format!("local-{}", now.unix_timestamp_nanos());
    json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": parts.uri.path(),
        "rawQueryString": raw_query,
        "cookies": if cookies.is_empty() { Value::Null } else { json!(cookies) },
        "headers": headers,
        "queryStringParameters": if query.is_empty() { Value::Null } else { json!(query) },
        "pathParameters": if params.is_empty() { Value::Null } else { json!(params) },
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": host,
            "domainPrefix": "local",
            "http": {
                "method": parts.method.as_str(),
                "path": parts.uri.path(),
                "protocol": "HTTP/1.1",
                "sourceIp": peer.ip().to_string(),
                "userAgent": headers.get("user-agent").cloned().unwrap_or_default(),
            },
            "requestId": request_id,
            "routeKey": route_key,
            "stage": "$default",
            "time": now.format(&time::macros::format_description!("[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000")).unwrap_or_default(),
            "timeEpoch": now.unix_timestamp() * 1000,
        },
        "body": body,
        "isBase64Encoded": is_base64,
    })
}

fn forwarded_for(headers: &http::HeaderMap) -> Option<std::net::IpAddr> {
    headers.get("x-forwarded-for")?.to_str().ok()?.split(',').next()?.trim().parse().ok()
}

fn api_gateway_not_found() -> Response<Body> {
    plain(StatusCode::NOT_FOUND, r#"{"message":"Not Found"}"#)
}

fn plain(status: StatusCode, body: &str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .body(Body::Text(body.to_owned()))
        .expect("valid response")
}

/// Serves `router` on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, router: Arc<Router>) {
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            continue;
        };
        let router = router.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: http::Request<Incoming>| {
                let router = router.clone();
                async move {
                    let (parts, body) = req.into_parts();
                    let bytes = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                    let response = router.handle(http::Request::from_parts(parts, bytes), peer).await;
                    let (parts, body) = response.into_parts();
                    let bytes = match body {
                        Body::Text(text) => Bytes::from(text),
                        Body::Binary(bytes) => Bytes::from(bytes),
                        _ => Bytes::new(),
                    };
                    Ok::<_, std::convert::Infallible>(http::Response::from_parts(parts, Full::new(bytes)))
                }
            });
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segments(path: &str) -> Vec<&str> {
        path.trim_start_matches('/').split('/').collect()
    }

    #[test]
    fn literal_segments_and_parameters() {
        let (params, literals) = match_path("/posts/{slug}/related", &segments("/posts/a-b/related")).unwrap();
        assert_eq!(params["slug"], "a-b");
        assert_eq!(literals, 2);
        assert!(match_path("/posts/{slug}", &segments("/posts/a/related")).is_none());
        assert!(match_path("/posts/{slug}", &segments("/posts/")).is_none());
        assert!(match_path("/posts", &segments("/posts/a")).is_none());
    }

    #[test]
    fn greedy_parameters_take_the_rest() {
        let (params, _) = match_path("/files/{path+}", &segments("/files/a/b%20c")).unwrap();
        assert_eq!(params["path"], "a/b c");
    }

    #[test]
    fn percent_decoding_keeps_what_is_not_an_escape() {
        assert_eq!(percent_decode("a%2Fb%zz%"), "a/b%zz%");
        assert_eq!(percent_decode("%ED%95%9C"), "한");
    }
}
