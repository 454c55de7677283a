//! The posts operations of `openapi.yaml`, end to end over HTTP.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, post_body};

#[tokio::test]
async fn the_blogger_publishes_a_post_and_readers_read_it() {
    let app = TestApp::spawn().await;
    let created = app
        .create_post(json!({
            "slug": "china-returns-31-refugees",
            "title": "China sends 31 refugees back",
            "body": "About **300** more are still held.",
            "author": "Min-jun",
            "tags": ["North-Korea", "refugees", "china"],
            "published_at": "2012-03-08T18:00:00+09:00",
        }))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);

    let post = app.get("/posts/china-returns-31-refugees").await;
    assert_eq!(post.status, StatusCode::OK);
    let post = post.body;
    assert_eq!(post, created.body, "the create answers the post as stored");
    assert_eq!(post["title"], "China sends 31 refugees back");
    assert_eq!(post["body"], "About **300** more are still held.");
    assert_eq!(post["tags"], json!(["china", "north-korea", "refugees"]));
    assert_eq!(post["published_at"], "2012-03-08T09:00:00Z");
    assert_eq!(post["comments_close_after_days"], 60);
    assert_eq!(post["comments_close_at"], "2012-05-07T09:00:00Z");
    assert_eq!(post["comments_open"], false);
    assert_eq!(post["comment_count"], 0);
    assert_eq!(post["petition"], json!(null));
    assert_eq!(post["pledge"], json!(null));
}

#[tokio::test]
async fn a_new_post_is_open_for_comments_and_a_null_window_never_closes() {
    let app = TestApp::spawn().await;
    let fresh = app.create_post(json!({"slug": "fresh", "title": "T", "body": "B", "author": "M"})).await.body;
    assert_eq!(fresh["comments_open"], true);
    assert_eq!(fresh["comments_close_after_days"], 60);
    assert!(fresh["comments_close_at"].as_str().unwrap() > fresh["published_at"].as_str().unwrap());

    let forever = app
        .create_post(json!({"slug": "forever", "title": "T", "body": "B", "author": "M",
            "published_at": "2001-01-01T00:00:00Z", "comments_close_after_days": null, "petition": "free-them"}))
        .await
        .body;
    assert_eq!(forever["comments_open"], true);
    assert_eq!(forever["comments_close_at"], json!(null));
    assert_eq!(forever["comments_close_after_days"], json!(null));
    assert_eq!(forever["petition"], "free-them");
}

#[tokio::test]
async fn a_slug_is_taken_once() {
    let app = TestApp::spawn().await;
    app.given_post("taken", "2020-01-01T00:00:00Z", &["a"]).await;
    let again = app.create_post(post_body("taken", "2021-01-01T00:00:00Z", &["b"])).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "conflict");
    let post = app.get("/posts/taken").await.body;
    assert_eq!(post["published_at"], "2020-01-01T00:00:00Z", "the first post is untouched");
    assert_eq!(app.all_slugs("/posts?tag=b", 50).await, Vec::<String>::new());
}

#[tokio::test]
async fn posts_list_newest_first_across_pages() {
    let app = TestApp::spawn().await;
    for (i, slug) in ["p-a", "p-b", "p-c", "p-d", "p-e"].iter().enumerate() {
        app.given_post(slug, &format!("2020-01-0{}T00:00:00Z", i + 1), &[]).await;
    }
    // Two posts in the same second still list in a stable order.
    app.given_post("p-f", "2020-01-05T00:00:00Z", &[]).await;
    let expected = ["p-f", "p-e", "p-d", "p-c", "p-b", "p-a"];
    assert_eq!(app.all_slugs("/posts", 2).await, expected);
    assert_eq!(app.all_slugs("/posts", 200).await, expected);

    let first = app.get("/posts?limit=2").await.body;
    assert!(first["items"][0].get("body").is_none(), "summaries carry no body");
    assert_eq!(first["items"][0]["comment_count"], 0);
    let last = app.get("/posts?limit=50").await.body;
    assert_eq!(last["next_cursor"], json!(null));
}

#[tokio::test]
async fn posts_filter_by_tag() {
    let app = TestApp::spawn().await;
    app.given_post("seoul", "2020-01-01T00:00:00Z", &["korea", "cities"]).await;
    app.given_post("busan", "2020-02-01T00:00:00Z", &["korea", "cities"]).await;
    app.given_post("kimchi", "2020-03-01T00:00:00Z", &["food"]).await;
    assert_eq!(app.all_slugs("/posts?tag=cities", 1).await, ["busan", "seoul"]);
    assert_eq!(app.all_slugs("/posts?tag=Food", 50).await, ["kimchi"]);
    assert_eq!(app.all_slugs("/posts?tag=none", 50).await, Vec::<String>::new());
    let korean = app.given_post("hangul", "2020-04-01T00:00:00Z", &["한글"]).await;
    assert_eq!(korean["tags"], json!(["한글"]));
    assert_eq!(app.all_slugs("/posts?tag=%ED%95%9C%EA%B8%80", 50).await, ["hangul"]);
}

#[tokio::test]
async fn related_posts_share_the_most_tags_then_the_newest() {
    let app = TestApp::spawn().await;
    app.given_post("news-2012", "2012-03-08T00:00:00Z", &["north-korea", "refugees", "china"]).await;
    app.given_post("follow-up", "2025-01-01T00:00:00Z", &["north-korea", "refugees", "china"]).await;
    app.given_post("old-two-tags", "2010-01-01T00:00:00Z", &["north-korea", "refugees"]).await;
    app.given_post("new-one-tag", "2024-01-01T00:00:00Z", &["china", "food"]).await;
    app.given_post("newer-one-tag", "2024-06-01T00:00:00Z", &["refugees"]).await;
    app.given_post("unrelated", "2025-06-01T00:00:00Z", &["food"]).await;

    let related = app.get("/posts/news-2012/related").await;
    assert_eq!(related.status, StatusCode::OK);
    let slugs: Vec<&str> =
        related.body["items"].as_array().unwrap().iter().map(|p| p["slug"].as_str().unwrap()).collect();
    assert_eq!(slugs, ["follow-up", "old-two-tags", "newer-one-tag"], "three by default, never itself");

    let five = app.get("/posts/news-2012/related?limit=5").await.body;
    let slugs: Vec<&str> = five["items"].as_array().unwrap().iter().map(|p| p["slug"].as_str().unwrap()).collect();
    assert_eq!(slugs, ["follow-up", "old-two-tags", "newer-one-tag", "new-one-tag"]);

    let untagged = app.given_post("untagged", "2020-01-01T00:00:00Z", &[]).await;
    assert_eq!(untagged["tags"], json!([]));
    assert_eq!(app.get("/posts/untagged/related").await.body["items"], json!([]));
    assert_eq!(app.get("/posts/missing/related").await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/posts/news-2012/related?limit=0").await.code(), "validation_failed");
}

#[tokio::test]
async fn replacing_a_post_moves_its_tags_and_keeps_what_is_not_editable() {
    let app = TestApp::spawn().await;
    let original = app.given_post("draft", "2020-01-01T00:00:00Z", &["old", "kept"]).await;
    let replaced = app
        .send(app.admin(Method::PUT, "/posts/draft").json(&json!({
            "slug": "draft", "title": "Final title", "body": "Final body", "author": "Min-jun",
            "tags": ["kept", "new"], "comments_close_after_days": 7, "pledge": "three-dollars",
        })))
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    assert_eq!(replaced.body["title"], "Final title");
    assert_eq!(replaced.body["published_at"], original["published_at"], "left out, so unchanged");
    assert_eq!(replaced.body["comments_close_at"], "2020-01-08T00:00:00Z");
    assert_eq!(replaced.body["pledge"], "three-dollars");
    assert_eq!(app.get("/posts/draft").await.body, replaced.body);
    assert_eq!(app.all_slugs("/posts?tag=old", 50).await, Vec::<String>::new());
    assert_eq!(app.all_slugs("/posts?tag=new", 50).await, ["draft"]);
    assert_eq!(app.all_slugs("/posts?tag=kept", 50).await, ["draft"]);

    let moved = app
        .send(
            app.admin(Method::PUT, "/posts/draft")
                .json(&json!({"slug": "renamed", "title": "T", "body": "B", "author": "M"})),
        )
        .await;
    assert_eq!(moved.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(moved.body["error"]["fields"]["slug"].is_array());
    let missing = app
        .send(app.admin(Method::PUT, "/posts/missing").json(&json!({"title": "T", "body": "B", "author": "M"})))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.code(), "not_found");
}

#[tokio::test]
async fn deleting_a_post_removes_it_everywhere_and_frees_its_slug() {
    let app = TestApp::spawn().await;
    app.given_post("gone", "2020-01-01T00:00:00Z", &["shared-tag"]).await;
    app.given_post("stays", "2021-01-01T00:00:00Z", &["shared-tag"]).await;

    let deleted = app.send(app.admin(Method::DELETE, "/posts/gone")).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(deleted.body, serde_json::Value::Null);
    assert_eq!(app.get("/posts/gone").await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.all_slugs("/posts", 50).await, ["stays"]);
    assert_eq!(app.all_slugs("/posts?tag=shared-tag", 50).await, ["stays"]);
    assert_eq!(app.get("/posts/stays/related").await.body["items"], json!([]));
    assert_eq!(app.send(app.admin(Method::DELETE, "/posts/gone")).await.status, StatusCode::NOT_FOUND);

    // Nothing of the post is left in the table: its partition is empty.
    let left = app
        .stack
        .app
        .store
        .client()
        .query()
        .table_name(app.stack.app.store.table())
        .key_condition_expression("PK = :pk")
        .expression_attribute_values(":pk", aws_sdk_dynamodb::types::AttributeValue::S("POST#gone".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(left.count(), 0);

    let again = app.create_post(post_body("gone", "2022-01-01T00:00:00Z", &[])).await;
    assert_eq!(again.status, StatusCode::CREATED);
}

#[tokio::test]
async fn admin_routes_need_the_right_token_and_write_nothing_without_it() {
    let app = TestApp::spawn().await;
    app.given_post("kept", "2020-01-01T00:00:00Z", &[]).await;
    let body = post_body("intruder", "2020-01-01T00:00:00Z", &[]);
    for authorization in
        [None, Some("Bearer wrong"), Some("Bearer"), Some("Basic test-admin-token"), Some("test-admin-token")]
    {
        for (method, path) in [(Method::POST, "/posts"), (Method::PUT, "/posts/kept"), (Method::DELETE, "/posts/kept")]
        {
            let mut request = app.http.request(method.clone(), app.url(path)).json(&body);
            if let Some(value) = authorization {
                request = request.header("authorization", value);
            }
            let answer = app.send(request).await;
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{method} {path} with {authorization:?}");
            assert_eq!(answer.code(), "unauthorized");
        }
    }
    assert_eq!(app.all_slugs("/posts", 50).await, ["kept"]);
    assert_eq!(app.get("/posts/kept").await.body["title"], "Post kept");
}

#[tokio::test]
async fn the_demo_seed_matches_the_scenario_and_can_run_twice() {
    let app = TestApp::spawn().await;
    assert_eq!(local_stack::seed::seed(&app.stack.app).await.unwrap(), 4);
    assert_eq!(local_stack::seed::seed(&app.stack.app).await.unwrap(), 0, "a second seed changes nothing");

    let old = app.get("/posts/china-returns-31-refugees").await.body;
    assert_eq!(old["published_at"], "2012-03-08T09:00:00Z");
    assert_eq!(old["comments_open"], false);
    for tag in ["north-korea", "refugees", "china"] {
        assert!(old["tags"].as_array().unwrap().contains(&json!(tag)), "{tag}");
    }
    let recent = app.get("/posts/families-still-held-at-the-border").await.body;
    assert_eq!(recent["comments_open"], true);

    let related: Vec<String> = app.get("/posts/families-still-held-at-the-border/related").await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["slug"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(related[0], "china-returns-31-refugees", "the recent post links the 2012 one");
    assert!(!related.contains(&"chuseok-for-beginners".to_owned()));
    let back = app.get("/posts/china-returns-31-refugees/related").await.body;
    assert_eq!(back["items"][0]["slug"], "families-still-held-at-the-border", "and the 2012 post links back");
}
