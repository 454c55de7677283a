//! Every error path of the posts routes answers its documented status and body, and
//! writes nothing.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{ADMIN_TOKEN, TestApp, post_body};

fn valid() -> Value {
    post_body("valid-slug", "2020-01-01T00:00:00Z", &["tag"])
}

fn with(field: &str, value: Value) -> Value {
    let mut body = valid();
    body[field] = value;
    body
}

#[tokio::test]
async fn malformed_bodies_are_bad_requests() {
    let app = TestApp::spawn().await;
    let cases: Vec<(&str, Option<&str>, String)> = vec![
        ("not JSON", Some("application/json"), "{not json".into()),
        ("no content type", None, valid().to_string()),
        ("form content type", Some("application/x-www-form-urlencoded"), valid().to_string()),
        ("a JSON array", Some("application/json"), "[1,2]".into()),
        ("a JSON string", Some("application/json"), "\"post\"".into()),
        ("empty", Some("application/json"), String::new()),
    ];
    for (what, content_type, body) in cases {
        let mut request = app.admin(Method::POST, "/posts").body(body);
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        let answer = app.send(request).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{what}: {}", answer.body);
        assert_eq!(answer.code(), "bad_request", "{what}");
        assert!(answer.body["error"]["message"].as_str().unwrap().len() > 5, "{what} says why");
    }
    let charset = app
        .send(
            app.admin(Method::POST, "/posts")
                .header("content-type", "application/json; charset=utf-8")
                .body(valid().to_string()),
        )
        .await;
    assert_eq!(charset.status, StatusCode::CREATED, "a charset parameter is fine");
}

#[tokio::test]
async fn each_invalid_field_is_named() {
    let app = TestApp::spawn().await;
    let cases = [
        ("slug", with("slug", json!("Has Capitals"))),
        ("slug", with("slug", json!("has spaces"))),
        ("slug", with("slug", json!("a".repeat(101)))),
        ("slug", with("slug", json!(42))),
        ("title", with("title", json!("t".repeat(201)))),
        ("title", with("title", json!("   "))),
        ("title", with("title", json!(null))),
        ("body", with("body", json!("b".repeat(100 * 1024 + 1)))),
        ("author", with("author", json!("a".repeat(81)))),
        ("tags", with("tags", json!("not-a-list"))),
        ("tags", with("tags", json!((0..21).map(|i| format!("t{i}")).collect::<Vec<_>>()))),
        ("tags", with("tags", json!(["t".repeat(41)]))),
        ("tags", with("tags", json!(["a,b"]))),
        ("tags", with("tags", json!([1]))),
        ("published_at", with("published_at", json!("8 March 2012"))),
        ("comments_close_after_days", with("comments_close_after_days", json!(-1))),
        ("comments_close_after_days", with("comments_close_after_days", json!(1.5))),
        ("comments_close_after_days", with("comments_close_after_days", json!("60"))),
        ("petition", with("petition", json!("Not A Slug"))),
        ("pledge", with("pledge", json!(["x"]))),
        ("colour", with("colour", json!("red"))),
    ];
    for (field, body) in cases {
        let answer = app.create_post(body).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {}", answer.body);
        assert_eq!(answer.code(), "validation_failed");
        assert!(answer.body["error"]["fields"][field].is_array(), "{field} not named in {}", answer.body);
        assert!(answer.body["error"]["message"].as_str().unwrap().contains(field), "the message names {field}");
    }
    assert_eq!(app.all_slugs("/posts", 50).await, Vec::<String>::new(), "nothing was written");
}

#[tokio::test]
async fn oversized_requests_are_too_large() {
    let app = TestApp::spawn().await;
    // A post body may be 100 KB, so post requests may be 128 KiB; beyond that is 413.
    let answer = app.create_post(with("body", json!("b".repeat(130 * 1024)))).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer.code(), "too_large");
    let replace =
        app.send(app.admin(Method::PUT, "/posts/valid-slug").json(&with("body", json!("b".repeat(130 * 1024))))).await;
    assert_eq!(replace.status, StatusCode::PAYLOAD_TOO_LARGE);
    let fits = app.create_post(with("body", json!("b".repeat(100 * 1024)))).await;
    assert_eq!(fits.status, StatusCode::CREATED, "a 100 KB body fits");
}

#[tokio::test]
async fn bad_list_parameters() {
    let app = TestApp::spawn().await;
    for slug in ["a", "b", "c"] {
        app.given_post(slug, "2020-01-01T00:00:00Z", &["t"]).await;
    }
    for cursor in ["garbage", "e30", "%00"] {
        let answer = app.get(&format!("/posts?cursor={cursor}")).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "cursor={cursor}");
        assert_eq!(answer.code(), "bad_request");
    }
    // A cursor is bound to its list: one from a tag list is unknown to the full list.
    let tag_cursor = app.get("/posts?tag=t&limit=1").await.body["next_cursor"].as_str().unwrap().to_owned();
    assert_eq!(app.get(&format!("/posts?cursor={tag_cursor}")).await.code(), "bad_request");
    assert_eq!(app.get(&format!("/posts?tag=t&cursor={tag_cursor}")).await.status, StatusCode::OK);
    for limit in ["0", "201", "-3", "many"] {
        let answer = app.get(&format!("/posts?limit={limit}")).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "limit={limit}");
        assert!(answer.body["error"]["fields"]["limit"].is_array());
    }
    let bad_tag = app.get(&format!("/posts?tag={}", "x".repeat(41))).await;
    assert_eq!(bad_tag.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn unknown_posts_are_not_found() {
    let app = TestApp::spawn().await;
    for path in ["/posts/nothing-here", "/posts/Bad%20Slug", "/posts/nothing-here/related"] {
        let answer = app.get(path).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(answer.code(), "not_found");
    }
    let delete = app.send(app.admin(Method::DELETE, "/posts/nothing-here")).await;
    assert_eq!(delete.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_unreachable_store_is_unavailable_not_an_error_page() {
    // A running stack whose DynamoDB goes away: every route answers 503 with the
    // `Error` body, promptly, and says nothing about the SDK.
    let app = TestApp::spawn().await;
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let config = app::Config::local(app.stack.app.store.table(), &dead, ADMIN_TOKEN);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let store = app::Store::connect(&config.store()).await;
    let broken = app::App { config: std::sync::Arc::new(config), store, clock: Default::default() };
    let router = std::sync::Arc::new(local_stack::Router::new(&crate::helpers::template(), broken, None).unwrap());
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(local_stack::router::serve(listener, router));

    for (method, path) in
        [(Method::GET, "/posts"), (Method::GET, "/posts/a"), (Method::POST, "/posts"), (Method::DELETE, "/posts/a")]
    {
        let request = app
            .http
            .request(method.clone(), format!("{base}{path}"))
            .bearer_auth(ADMIN_TOKEN)
            .json(&valid())
            // The store's own deadlines answer long before this; it only stops a hang.
            .timeout(std::time::Duration::from_secs(60));
        let answer = app.send(request).await;
        assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{method} {path}: {}", answer.body);
        assert_eq!(answer.code(), "unavailable");
        let text = answer.body.to_string();
        assert!(!text.contains("dispatch") && !text.contains("127.0.0.1"), "no SDK detail leaks: {text}");
    }
    assert_eq!(app.all_slugs("/posts", 50).await, Vec::<String>::new(), "the real table was not touched");
}
