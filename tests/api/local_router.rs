//! The local router stands in for API Gateway: it routes exactly the template's routes,
//! answers what API Gateway answers for the rest, and applies CORS as configured.

use app::config::AllowedOrigins;
use app::store::mailbox::LinkPurpose;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, template};

#[tokio::test]
async fn every_template_route_reaches_its_function() {
    let app = TestApp::spawn().await;
    let post = json!({"slug": "a-post", "title": "T", "body": "B", "author": "M", "tags": ["t"]});
    assert_eq!(app.create_post(post).await.status, StatusCode::CREATED);
    let comment =
        app.send(app.http.post(app.url("/posts/a-post/comments")).json(&json!({"author": "A", "body": "B"}))).await;
    let id = comment.body["comment"]["id"].as_str().unwrap().to_owned();
    let petition = json!({"slug": "a-post", "title": "T", "body": "B", "target": "M", "goal": 10});
    assert_eq!(app.send(app.admin(Method::POST, "/petitions").json(&petition)).await.status, StatusCode::CREATED);
    let pledge =
        json!({"slug": "a-post", "title": "T", "body": "B", "threshold": 10, "deadline": "2099-01-01T00:00:00Z"});
    assert_eq!(app.send(app.admin(Method::POST, "/pledges").json(&pledge)).await.status, StatusCode::CREATED);
    let signer = json!({"name": "S", "email": "s@example.org", "consent": true});
    app.send(app.http.post(app.url("/petitions/a-post/signatures")).json(&signer)).await;
    let token = app.stack.mails().await[0].links[0].rsplit('/').next().unwrap().to_owned();
    let routes = template().routes;
    assert!(routes.len() >= 30);
    for route in routes {
        // The links of mail about an address carry a token made for the address.
        let store = &app.stack.app.store;
        let token = match route.path.as_str() {
            "/notifications/{token}" => store.mailbox_token(&"ab".repeat(32), LinkPurpose::ConfirmReplies),
            "/unsubscribe/{token}" => store.mailbox_token(&"ab".repeat(32), LinkPurpose::Unsubscribe),
            _ => token.clone(),
        };
        let path = route.path.replace("{slug}", "a-post").replace("{id}", &id).replace("{token}", &token);
        let method = Method::from_bytes(route.method.as_bytes()).unwrap();
        let body = if route.method == "PUT" && path.contains("comments") {
            json!({"body": "routed again"})
        } else if path.contains("comments") {
            json!({"author": "R", "body": "routed"})
        } else if path.starts_with("/confirm/") {
            json!({"name": "N"})
        } else {
            json!({"name": "N", "email": "n@example.org", "consent": true})
        };
        let request = app.http.request(method, app.url(&path)).json(&body);
        let answer = app.send(request).await;
        // Without a token, admin and edit routes answer 401 from the function; the rest succeed.
        assert!(
            answer.status.is_success() || answer.code() == "unauthorized",
            "{} {} answered {} {}",
            route.method,
            route.path,
            answer.status,
            answer.body
        );
    }
}

#[tokio::test]
async fn unknown_routes_answer_as_api_gateway_does() {
    let app = TestApp::spawn().await;
    for (method, path) in [
        (Method::GET, "/nothing"),
        (Method::PATCH, "/posts/a"),
        (Method::GET, "/posts/a/b/c"),
        (Method::POST, "/posts/a"),
    ] {
        let answer = app.send(app.http.request(method.clone(), app.url(path))).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{method} {path}");
        assert_eq!(answer.body, json!({"message": "Not Found"}));
    }
}

#[tokio::test]
async fn cors_answers_only_the_allowed_origins() {
    let app =
        TestApp::spawn_with(|config| config.allowed_origins = AllowedOrigins::parse("https://blog.example")).await;
    let allowed = app.send(app.http.get(app.url("/posts")).header("origin", "https://blog.example")).await;
    assert_eq!(allowed.headers["access-control-allow-origin"], "https://blog.example");
    assert_eq!(allowed.headers["x-content-type-options"], "nosniff");
    let other = app.send(app.http.get(app.url("/posts")).header("origin", "https://evil.example")).await;
    assert_eq!(other.status, StatusCode::OK);
    assert!(other.headers.get("access-control-allow-origin").is_none());

    let preflight = app
        .send(
            app.http
                .request(Method::OPTIONS, app.url("/posts"))
                .header("origin", "https://blog.example")
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "authorization,content-type"),
        )
        .await;
    assert_eq!(preflight.status, StatusCode::NO_CONTENT);
    assert_eq!(preflight.headers["access-control-allow-origin"], "https://blog.example");
    let allowed_headers = preflight.headers["access-control-allow-headers"].to_str().unwrap();
    assert!(allowed_headers.contains("authorization") && allowed_headers.contains("content-type"));
    assert!(preflight.headers["access-control-allow-methods"].to_str().unwrap().contains("POST"));

    let refused = app
        .send(
            app.http
                .request(Method::OPTIONS, app.url("/posts"))
                .header("origin", "https://evil.example")
                .header("access-control-request-method", "POST"),
        )
        .await;
    assert!(refused.headers.get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn the_demo_blog_page_is_served_locally() {
    let app = TestApp::spawn().await;
    let page = app.http.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(page.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'self'"));
    let html = page.text().await.unwrap();
    assert!(html.contains("'/embed.js'") && html.contains("embed('comments', slug)"), "the page embeds the widget");
}

#[tokio::test]
async fn the_widget_assets_are_long_cached_with_an_etag() {
    let app = TestApp::spawn().await;
    for (path, kind) in [("/embed.js", "text/javascript"), ("/embed.css", "text/css")] {
        let first = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(first.status(), StatusCode::OK);
        assert!(first.headers()["content-type"].to_str().unwrap().starts_with(kind));
        assert!(first.headers()["cache-control"].to_str().unwrap().contains("max-age=86400"));
        let etag = first.headers()["etag"].to_str().unwrap().to_owned();
        assert!(!first.text().await.unwrap().is_empty());
        let again = app.http.get(app.url(path)).header("if-none-match", &etag).send().await.unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert!(again.text().await.unwrap().is_empty());
    }
}
