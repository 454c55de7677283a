//! The functions accept what API Gateway sends: events made by
//! `sam local generate-event apigateway http-api-proxy` (kept in `infra/local/events/`,
//! and checked against a fresh `sam` run by `make test`), given the route key, path
//! parameters and headers that API Gateway fills in for a matched route.

use lambda_http::request::LambdaRequest;
use lambda_http::{Body, Request};
use serde_json::{Value, json};

use crate::helpers::{ADMIN_TOKEN, TestApp};

fn sam_event(file: &str, route_key: &str, path_parameters: Value) -> Request {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/local/events").join(file);
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    event["routeKey"] = json!(route_key);
    event["requestContext"]["routeKey"] = json!(route_key);
    event["pathParameters"] = path_parameters;
    event["headers"]["content-type"] = json!("application/json");
    event["headers"]["authorization"] = json!(format!("Bearer {ADMIN_TOKEN}"));
    Request::from(serde_json::from_value::<LambdaRequest>(event).expect("a sam event is an API Gateway v2 event"))
}

fn body_json(body: &Body) -> Value {
    match body {
        Body::Text(text) => serde_json::from_str(text).unwrap(),
        Body::Empty => Value::Null,
        other => panic!("unexpected body {other:?}"),
    }
}

#[tokio::test]
async fn the_posts_function_handles_sam_generated_events() {
    let app = TestApp::spawn().await;
    let app = &app.stack.app;

    // The generated POST carries its JSON body base64-encoded, as API Gateway may.
    let created = posts::handle(app, sam_event("create-post.json", "POST /posts", Value::Null)).await;
    assert_eq!(created.status(), 201, "{:?}", created.body());
    assert_eq!(body_json(created.body())["title"], "Sent through API Gateway");

    let slug = json!({"slug": "from-api-gateway"});
    let fetched = posts::handle(app, sam_event("get-post.json", "GET /posts/{slug}", slug.clone())).await;
    assert_eq!(fetched.status(), 200);
    assert_eq!(body_json(fetched.body())["tags"], json!(["lambda"]));

    // The generated list event carries query parameters the route does not know; they are ignored.
    let listed = posts::handle(app, sam_event("list-posts.json", "GET /posts", Value::Null)).await;
    assert_eq!(listed.status(), 200);
    assert_eq!(body_json(listed.body())["items"][0]["slug"], "from-api-gateway");

    let deleted = posts::handle(app, sam_event("delete-post.json", "DELETE /posts/{slug}", slug.clone())).await;
    assert_eq!(deleted.status(), 204);
    let gone = posts::handle(app, sam_event("get-post.json", "GET /posts/{slug}", slug)).await;
    assert_eq!(gone.status(), 404);
    assert_eq!(body_json(gone.body())["error"]["code"], "not_found");
}

#[tokio::test]
async fn a_route_the_function_does_not_serve_is_a_clean_404() {
    let app = TestApp::spawn().await;
    let stray = posts::handle(&app.stack.app, sam_event("get-post.json", "$default", Value::Null)).await;
    assert_eq!(stray.status(), 404);
    assert_eq!(body_json(stray.body())["error"]["code"], "not_found");
}
