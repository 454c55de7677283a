//! The comments operations of `openapi.yaml` and the reader's and blogger's stories of the
//! scenario, over HTTP against DynamoDB Local.

use app::config::Moderation;
use app::store::keys;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Answer, TestApp};

const EMAIL: &str = "reader.private@example.com";

async fn app() -> TestApp {
    TestApp::spawn_with(|config| config.writes_per_minute = 10_000).await
}

async fn open_post(app: &TestApp, slug: &str) {
    let answer = app.create_post(json!({"slug": slug, "title": "Open", "body": "B", "author": "Min-jun"})).await;
    assert_eq!(answer.status, StatusCode::CREATED);
}

async fn comment(app: &TestApp, slug: &str, body: Value) -> Answer {
    app.send(app.http.post(app.url(&format!("/posts/{slug}/comments"))).json(&body)).await
}

async fn given_comment(app: &TestApp, slug: &str, author: &str, text: &str, parent: Option<&str>) -> (String, String) {
    let answer = comment(app, slug, json!({"author": author, "body": text, "parent_id": parent, "email": EMAIL})).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    (answer.body["comment"]["id"].as_str().unwrap().to_owned(), answer.body["edit_token"].as_str().unwrap().to_owned())
}

async fn thread(app: &TestApp, slug: &str, query: &str) -> Value {
    let answer = app.get(&format!("/posts/{slug}/comments{query}")).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.body
}

fn authors(thread: &Value) -> Vec<String> {
    thread["items"].as_array().unwrap().iter().map(|c| c["author"].as_str().unwrap().to_owned()).collect()
}

/// Moves a comment's posting time back, as if the reader came back later.
async fn age_comment(app: &TestApp, slug: &str, id: &str, minutes: i64) {
    let store = &app.stack.app.store;
    let pointer = store
        .client()
        .get_item()
        .table_name(store.table())
        .key("PK", aws_sdk_dynamodb::types::AttributeValue::S(keys::comment_pointer(id)))
        .key("SK", aws_sdk_dynamodb::types::AttributeValue::S(keys::META.into()))
        .send()
        .await
        .unwrap();
    let path = pointer.item().unwrap()["path"].as_s().unwrap().clone();
    let earlier = app::time::format(app::time::now() - time_minutes(minutes));
    store
        .client()
        .update_item()
        .table_name(store.table())
        .key("PK", aws_sdk_dynamodb::types::AttributeValue::S(keys::post_named(slug)))
        .key("SK", aws_sdk_dynamodb::types::AttributeValue::S(path))
        .update_expression("SET created_at = :t")
        .expression_attribute_values(":t", aws_sdk_dynamodb::types::AttributeValue::S(earlier))
        .send()
        .await
        .unwrap();
}

fn time_minutes(minutes: i64) -> std::time::Duration {
    std::time::Duration::from_secs(minutes as u64 * 60)
}

#[tokio::test]
async fn a_reader_replies_sees_it_nested_and_edits_a_typo_only_in_time() {
    let app = app().await;
    open_post(&app, "recent").await;
    let (first, _) = given_comment(&app, "recent", "Ji-woo", "Is there a petition?", None).await;
    given_comment(&app, "recent", "Hyun", "Second", None).await;
    let (reply, token) = given_comment(&app, "recent", "Sam", "Yes, see teh link below", Some(&first)).await;

    let t = thread(&app, "recent", "").await;
    assert_eq!(authors(&t), ["Ji-woo", "Sam", "Hyun"], "the reply sits under its parent");
    assert_eq!(t["items"][0]["number"], 1);
    assert_eq!(t["items"][1]["depth"], 1);
    assert_eq!(t["items"][1]["parent_id"], first.as_str());
    assert_eq!(t["items"][1]["number"], Value::Null);
    assert_eq!(t["items"][2]["number"], 2);
    assert_eq!(t["count"], 3);
    assert_eq!(t["open"], true);

    let path = format!("/posts/recent/comments/{reply}");
    let wrong = app.send(app.http.put(app.url(&path)).header("x-edit-token", "nope").json(&json!({"body": "x"}))).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let edited = app
        .send(
            app.http
                .put(app.url(&path))
                .header("x-edit-token", &token)
                .json(&json!({"body": "Yes, see the link below"})),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);
    assert_eq!(edited.body["body_html"], "<p>Yes, see the link below</p>\n");
    assert!(edited.body["edited_at"].is_string());

    age_comment(&app, "recent", &reply, 16).await;
    let late =
        app.send(app.http.put(app.url(&path)).header("x-edit-token", &token).json(&json!({"body": "too late"}))).await;
    assert_eq!(late.status, StatusCode::CONFLICT);
    assert_eq!(late.code(), "conflict");
    assert!(late.body["error"]["message"].as_str().unwrap().contains("15 minutes"));
    let late_delete = app.send(app.http.delete(app.url(&path)).header("x-edit-token", &token)).await;
    assert_eq!(late_delete.status, StatusCode::CONFLICT);
    assert_eq!(thread(&app, "recent", "").await["items"][1]["body_html"], "<p>Yes, see the link below</p>\n");
}

#[tokio::test]
async fn the_2012_post_refuses_comments_but_shows_its_thread() {
    let app = app().await;
    local_stack::seed::seed(&app.stack.app).await.unwrap();
    let refused = comment(&app, "china-returns-31-refugees", json!({"author": "Late", "body": "Hello"})).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.code(), "comments_closed");
    assert_eq!(refused.body["error"]["message"], "Comments are not available on posts older than 60 days.");
    let t = thread(&app, "china-returns-31-refugees", "").await;
    assert_eq!(t["open"], false);
    assert_eq!(t["close_at"], "2012-05-07T09:00:00Z");
    let numbers: Vec<Value> =
        t["items"].as_array().unwrap().iter().filter(|c| c["depth"] == 0).map(|c| c["number"].clone()).collect();
    assert_eq!(numbers, [json!(1), json!(2), json!(3), json!(4), json!(5)]);
    let reply = t["items"].as_array().unwrap().iter().find(|c| c["depth"] == 1).expect("the author's reply");
    assert_eq!(reply["is_post_author"], true);
    let fourth = t["items"].as_array().unwrap().iter().find(|c| c["number"] == 4).unwrap();
    assert_eq!(reply["parent_id"], fourth["id"]);
    assert_eq!(t["count"], 6);
}

#[tokio::test]
async fn simultaneous_comments_all_land_with_distinct_numbers() {
    let app = app().await;
    open_post(&app, "busy").await;
    let (parent, _) = given_comment(&app, "busy", "First", "first", None).await;
    let top = (0..8).map(|i| comment(&app, "busy", json!({"author": format!("top{i}"), "body": format!("top {i}")})));
    let replies = (0..8).map(|i| {
        comment(&app, "busy", json!({"author": format!("reply{i}"), "body": format!("reply {i}"), "parent_id": parent}))
    });
    let (top, replies) = tokio::join!(futures::future::join_all(top), futures::future::join_all(replies));
    for answer in top.iter().chain(replies.iter()) {
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    }
    let mut numbers: Vec<u64> = top.iter().map(|a| a.body["comment"]["number"].as_u64().unwrap()).collect();
    numbers.sort();
    assert_eq!(numbers, (2..=9).collect::<Vec<_>>());
    let t = thread(&app, "busy", "").await;
    assert_eq!(t["items"].as_array().unwrap().len(), 17);
    assert_eq!(t["count"], 17);
    assert_eq!(app.get("/posts/busy").await.body["comment_count"], 17);
}

#[tokio::test]
async fn paging_and_newest_first_keep_threads_together() {
    let app = app().await;
    open_post(&app, "long").await;
    let (a, _) = given_comment(&app, "long", "A", "a", None).await;
    given_comment(&app, "long", "A1", "a1", Some(&a)).await;
    let (b, _) = given_comment(&app, "long", "B", "b", None).await;
    let (b1, _) = given_comment(&app, "long", "B1", "b1", Some(&b)).await;
    given_comment(&app, "long", "B1x", "b1x", Some(&b1)).await;
    given_comment(&app, "long", "B2", "b2", Some(&b)).await;
    given_comment(&app, "long", "C", "c", None).await;

    assert_eq!(authors(&thread(&app, "long", "").await), ["A", "A1", "B", "B1", "B1x", "B2", "C"]);
    assert_eq!(authors(&thread(&app, "long", "?sort=newest").await), ["C", "B", "B1", "B1x", "B2", "A", "A1"]);

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(c) => format!("?limit=2&cursor={c}"),
            None => "?limit=2".into(),
        };
        let page = thread(&app, "long", &query).await;
        seen.extend(authors(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ["A", "A1", "B", "B1", "B1x", "B2", "C"]);

    let mut newest = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(c) => format!("?sort=newest&limit=2&cursor={c}"),
            None => "?sort=newest&limit=2".into(),
        };
        let page = thread(&app, "long", &query).await;
        let items = page["items"].as_array().unwrap();
        assert!(items.is_empty() || items[0]["depth"] == 0, "every page starts a thread: {page}");
        newest.extend(authors(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(newest, ["C", "B", "B1", "B1x", "B2", "A", "A1"]);
    assert_eq!(app.get("/posts/long/comments?sort=sideways").await.code(), "validation_failed");
}

#[tokio::test]
async fn the_blogger_replies_with_the_author_badge() {
    let app = app().await;
    open_post(&app, "badge").await;
    let (question, _) = given_comment(&app, "badge", "Reader", "A question for the author", None).await;
    let answer = app
        .send(app.admin(Method::POST, "/posts/badge/comments").json(&json!({"author": "Min-jun", "body": "Here is https://a.example and https://b.example and https://c.example", "parent_id": question})))
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "the author is never held: {}", answer.body);
    assert_eq!(answer.body["comment"]["is_post_author"], true);
    let t = thread(&app, "badge", "").await;
    assert_eq!(t["items"][0]["is_post_author"], false);
    assert_eq!(t["items"][1]["is_post_author"], true);
}

#[tokio::test]
async fn deleting_keeps_threads_whole_and_counts_exact() {
    let app = app().await;
    open_post(&app, "del").await;
    let (parent, parent_token) = given_comment(&app, "del", "Parent", "parent", None).await;
    let (child, child_token) = given_comment(&app, "del", "Child", "child", Some(&parent)).await;
    let (lonely, _) = given_comment(&app, "del", "Lonely", "lonely", None).await;

    let gone = app
        .send(app.http.delete(app.url(&format!("/posts/del/comments/{parent}"))).header("x-edit-token", &parent_token))
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let t = thread(&app, "del", "").await;
    assert_eq!(t["items"][0]["deleted"], true);
    assert_eq!(t["items"][0]["body_html"], "");
    assert_eq!(t["items"][0]["author"], "");
    assert_eq!(authors(&t)[1], "Child");
    assert_eq!(t["count"], 2);

    let child_gone = app
        .send(app.http.delete(app.url(&format!("/posts/del/comments/{child}"))).header("x-edit-token", &child_token))
        .await;
    assert_eq!(child_gone.status, StatusCode::NO_CONTENT);
    let by_admin = app.send(app.admin(Method::POST, &format!("/admin/comments/{lonely}/delete"))).await;
    assert_eq!(by_admin.status, StatusCode::NO_CONTENT);
    let t = thread(&app, "del", "").await;
    assert_eq!(authors(&t), [""], "only the placeholder is left");
    assert_eq!(t["count"], 0);
    assert_eq!(app.get("/comments/counts?posts=del").await.body["counts"]["del"], 0);
    let again = app
        .send(app.http.delete(app.url(&format!("/posts/del/comments/{child}"))).header("x-edit-token", &child_token))
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_blogger_moderates_held_comments() {
    let app = TestApp::spawn_with(|config| {
        config.writes_per_minute = 10_000;
        config.moderation = Moderation { max_links: Some(0), hold_first_time: false };
    })
    .await;
    open_post(&app, "modded").await;
    let plain = comment(&app, "modded", json!({"author": "Plain", "body": "no links"})).await;
    assert_eq!(plain.status, StatusCode::CREATED);
    let linked = comment(&app, "modded", json!({"author": "Linker", "body": "see https://ngo.example"})).await;
    assert_eq!(linked.status, StatusCode::ACCEPTED);
    assert_eq!(linked.body["comment"]["status"], "pending");
    let spammy = comment(&app, "modded", json!({"author": "Spammer", "body": "buy www.pills.example"})).await;
    assert_eq!(spammy.status, StatusCode::ACCEPTED);

    assert_eq!(authors(&thread(&app, "modded", "").await), ["Plain"], "held comments are not public");
    let unauthorized = app.get("/admin/comments?status=pending").await;
    assert_eq!(unauthorized.status, StatusCode::UNAUTHORIZED);
    let queue = app.send(app.admin(Method::GET, "/admin/comments?status=pending")).await;
    assert_eq!(queue.status, StatusCode::OK);
    let queued: Vec<&str> =
        queue.body["items"].as_array().unwrap().iter().map(|c| c["author"].as_str().unwrap()).collect();
    assert_eq!(queued, ["Linker", "Spammer"], "oldest first");

    let linked_id = linked.body["comment"]["id"].as_str().unwrap();
    let spam_id = spammy.body["comment"]["id"].as_str().unwrap();
    let approved = app.send(app.admin(Method::POST, &format!("/admin/comments/{linked_id}/approve"))).await;
    assert_eq!(approved.status, StatusCode::OK);
    assert_eq!(approved.body["status"], "approved");
    let spammed = app.send(app.admin(Method::POST, &format!("/admin/comments/{spam_id}/spam"))).await;
    assert_eq!(spammed.status, StatusCode::OK);
    assert_eq!(spammed.body["status"], "spam");

    let t = thread(&app, "modded", "").await;
    assert_eq!(authors(&t), ["Plain", "Linker"]);
    assert_eq!(t["count"], 2);
    assert_eq!(app.send(app.admin(Method::GET, "/admin/comments")).await.body["items"], json!([]));
    let unknown = app.send(app.admin(Method::POST, "/admin/comments/01ARZ3NDEKTSV4RRFFQ69G5FAV/approve")).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn first_time_commenters_wait_until_one_comment_is_approved() {
    let app = TestApp::spawn_with(|config| {
        config.writes_per_minute = 10_000;
        config.moderation = Moderation { max_links: None, hold_first_time: true };
    })
    .await;
    open_post(&app, "first").await;
    let key = "the-readers-own-browser-key";
    let held = comment(
        &app,
        "first",
        json!({"author": "New", "body": "hello", "email": "New.Reader@Example.com", "commenter_key": key}),
    )
    .await;
    assert_eq!(held.status, StatusCode::ACCEPTED);
    let id = held.body["comment"]["id"].as_str().unwrap();
    app.send(app.admin(Method::POST, &format!("/admin/comments/{id}/approve"))).await;
    let known = comment(
        &app,
        "first",
        json!({"author": "New", "body": "hello again", "email": "new.reader@example.com", "commenter_key": key}),
    )
    .await;
    assert_eq!(known.status, StatusCode::CREATED, "a known commenter goes straight through");
    let anonymous = comment(&app, "first", json!({"author": "Anon", "body": "no email"})).await;
    assert_eq!(anonymous.status, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn one_client_is_rate_limited_and_cannot_repeat_itself() {
    let app = TestApp::spawn_with(|config| config.writes_per_minute = 3).await;
    open_post(&app, "limited").await;
    let first = comment(&app, "limited", json!({"author": "A", "body": "same words"})).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let repeat = comment(&app, "limited", json!({"author": "A", "body": "same words"})).await;
    assert_eq!(repeat.status, StatusCode::CONFLICT, "{}", repeat.body);
    let mut statuses = Vec::new();
    // Six tries: even if a minute boundary falls in the middle, one window overflows.
    for i in 0..6 {
        statuses.push(comment(&app, "limited", json!({"author": "A", "body": format!("words {i}")})).await);
    }
    let limited = statuses.iter().find(|a| a.status == StatusCode::TOO_MANY_REQUESTS).expect("the limit bites");
    assert_eq!(limited.code(), "rate_limited");
    let retry: u64 = limited.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    let created = statuses.iter().filter(|a| a.status == StatusCode::CREATED).count();
    let t = thread(&app, "limited", "").await;
    assert_eq!(t["items"].as_array().unwrap().len(), 1 + created, "refused comments left nothing behind");
    assert_eq!(t["count"], 1 + created as u64);
    // The blogger is never limited.
    let admin = app
        .send(
            app.admin(Method::POST, "/posts/limited/comments")
                .json(&json!({"author": "Min-jun", "body": "still here"})),
        )
        .await;
    assert_eq!(admin.status, StatusCode::CREATED);
}

#[tokio::test]
async fn the_rate_window_starts_again_each_minute_whenever_the_client_last_wrote() {
    let app = TestApp::spawn_with(|config| config.writes_per_minute = 2).await;
    open_post(&app, "windows").await;
    // Five seconds into a minute, so no burst below straddles two.
    let second = app.stack.app.clock.now().unix_timestamp().rem_euclid(60);
    app.stack.app.clock.advance(::time::Duration::seconds(65 - second));
    let n = std::cell::Cell::new(0);
    let burst = async |app: &TestApp| {
        let mut statuses = Vec::new();
        for _ in 0..3 {
            n.set(n.get() + 1);
            let body = format!("words {}", n.get());
            statuses.push(comment(app, "windows", json!({"author": "A", "body": body})).await.status);
        }
        statuses
    };
    let (ok, limited) = (StatusCode::CREATED, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(burst(&app).await, [ok, ok, limited], "minute m");
    // The next minute (the other slot), then one and three minutes later: the same
    // slot as the last write, still holding that minute's full count.
    for (minutes, when) in [(1, "m + 1"), (2, "m + 3"), (2, "m + 5"), (3, "m + 8"), (4, "m + 12")] {
        app.stack.app.clock.advance(::time::Duration::minutes(minutes));
        assert_eq!(burst(&app).await, [ok, ok, limited], "minute {when}");
    }
    // A body is a repeat across minutes too, and a refused one changes no window.
    let last = format!("words {}", n.get() - 1);
    app.stack.app.clock.advance(::time::Duration::minutes(2));
    let repeat = comment(&app, "windows", json!({"author": "A", "body": last})).await;
    assert_eq!(repeat.status, StatusCode::CONFLICT, "{}", repeat.body);
    assert_eq!(burst(&app).await, [ok, ok, limited], "minute m + 14");
    let t = thread(&app, "windows", "").await;
    assert_eq!(t["count"], 14, "two of every three went through");
    // One item per client, however long it writes: its two slots, its last body, its expiry.
    let store = &app.stack.app.store;
    let items = store.client().scan().table_name(store.table()).send().await.unwrap();
    let writers: Vec<_> = items.items().iter().filter(|i| i["PK"].as_s().unwrap().starts_with("WRITER#")).collect();
    assert_eq!(writers.len(), 1);
    let names: std::collections::BTreeSet<_> = writers[0].keys().map(String::as_str).collect();
    let slot = if names.contains("w0") { ["w0", "m0"] } else { ["w1", "m1"] };
    let expected = ["PK", "SK", "body_hash", "expires_at", slot[0], slot[1]].into_iter().collect();
    assert_eq!(names, expected);
}

/// Every tag in `html` with its attributes, read the way a browser would: escaped text
/// (`&lt;script&gt;`) is no tag at all.
fn tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        let end = rest[start..].find('>').map(|e| start + e).expect("tags close");
        let inside = rest[start + 1..end].trim_start_matches('/').trim_end_matches('/');
        let mut parts = inside.splitn(2, char::is_whitespace);
        let name = parts.next().unwrap_or_default().to_ascii_lowercase();
        let mut attributes = Vec::new();
        let mut attrs = parts.next().unwrap_or_default().trim();
        while !attrs.is_empty() {
            let (name, after) = attrs.split_once('=').unwrap_or((attrs, ""));
            let after = after.trim_start_matches('"');
            let (value, remaining) = after.split_once('"').unwrap_or((after, ""));
            attributes.push((name.trim().to_ascii_lowercase(), value.to_owned()));
            attrs = remaining.trim();
        }
        found.push((name, attributes));
        rest = &rest[end + 1..];
    }
    found
}

#[tokio::test]
async fn no_script_survives_the_xss_corpus() {
    let app = app().await;
    open_post(&app, "xss").await;
    let corpus = [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<svg/onload=alert(1)>",
        "[click](javascript:alert(1))",
        "[click](JAVASCRIPT:alert(1))",
        "[click](  javascript:alert(1))",
        "[click](vbscript:msgbox(1))",
        "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "![x](javascript:alert(1))",
        "<a href=\"javascript:alert(1)\">x</a>",
        "<iframe src=\"https://evil.example\"></iframe>",
        "<details open ontoggle=alert(1)>",
        "<body onload=alert(1)>",
        "<style>body{background:url(javascript:alert(1))}</style>",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        "\"><script>alert(1)</script>",
        "<a href=\"&#106;avascript:alert(1)\">x</a>",
        "[x](&#106;avascript:alert(1))",
        "<<script>script>alert(1)<</script>/script>",
        "<div style=\"background:url(javascript:alert(1))\">x</div>",
    ];
    for (i, payload) in corpus.iter().enumerate() {
        let answer = comment(&app, "xss", json!({"author": format!("x{i}"), "body": payload})).await;
        assert!(answer.status.is_success(), "{payload}: {}", answer.body);
        let html = answer.body["comment"]["body_html"].as_str().unwrap();
        for (tag, attributes) in tags(html) {
            assert!(app::markdown::TAGS.contains(&tag.as_str()), "{payload} rendered <{tag}>: {html}");
            for (name, value) in attributes {
                assert!(["href", "rel", "start"].contains(&name.as_str()), "{payload} rendered {name}=: {html}");
                if name == "href" {
                    assert!(
                        value.starts_with("https://") || value.starts_with("http://") || value.starts_with("mailto:"),
                        "{payload}: {html}"
                    );
                }
            }
        }
    }
    let linked = comment(&app, "xss", json!({"author": "ok", "body": "[NGO](https://ngo.example)"})).await;
    assert!(linked.body["comment"]["body_html"].as_str().unwrap().contains("rel=\"nofollow ugc noopener\""));
}

#[tokio::test]
async fn bad_comments_are_refused_and_leave_nothing() {
    let app = app().await;
    open_post(&app, "strict").await;
    open_post(&app, "other").await;
    let (elsewhere, _) = given_comment(&app, "other", "O", "on the other post", None).await;
    let cases = [
        ("author", json!({"body": "no author"})),
        ("author", json!({"author": "a".repeat(81), "body": "b"})),
        ("body", json!({"author": "a", "body": "b".repeat(10_001)})),
        ("body", json!({"author": "a", "body": "   "})),
        ("email", json!({"author": "a", "body": "b", "email": "not-an-email"})),
        ("website", json!({"author": "a", "body": "b", "website": "javascript:alert(1)"})),
        ("parent_id", json!({"author": "a", "body": "b", "parent_id": elsewhere})),
        ("parent_id", json!({"author": "a", "body": "b", "parent_id": "not-an-id"})),
        ("homepage", json!({"author": "bot", "body": "b", "homepage": "http://spam.example"})),
        ("colour", json!({"author": "a", "body": "b", "colour": "red"})),
    ];
    for (field, body) in cases {
        let answer = comment(&app, "strict", body).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {}", answer.body);
        assert!(answer.body["error"]["fields"][field].is_array(), "{field}: {}", answer.body);
    }
    let not_json = app
        .send(app.http.post(app.url("/posts/strict/comments")).header("content-type", "application/json").body("{"))
        .await;
    assert_eq!(not_json.status, StatusCode::BAD_REQUEST);
    let huge = comment(&app, "strict", json!({"author": "a", "body": "b".repeat(70 * 1024)})).await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    let unknown = comment(&app, "no-such-post", json!({"author": "a", "body": "b"})).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/posts/no-such-post/comments").await.status, StatusCode::NOT_FOUND);
    let t = thread(&app, "strict", "").await;
    assert_eq!(t["items"], json!([]));
    assert_eq!(t["count"], 0);
}

#[tokio::test]
async fn counts_and_the_feed() {
    let app = app().await;
    open_post(&app, "one").await;
    open_post(&app, "two").await;
    given_comment(&app, "one", "A", "first <b>one</b>", None).await;
    given_comment(&app, "one", "B & C", "second", None).await;
    let counts = app.get("/comments/counts?posts=one,two,missing,Not%20A%20Slug").await;
    assert_eq!(counts.status, StatusCode::OK);
    assert_eq!(counts.body["counts"], json!({"one": 2, "two": 0, "missing": 0, "Not A Slug": 0}));
    assert!(counts.headers["cache-control"].to_str().unwrap().contains("public"));

    let feed = app.http.get(app.url("/posts/one/comments.atom")).send().await.unwrap();
    assert_eq!(feed.status(), StatusCode::OK);
    assert!(feed.headers()["content-type"].to_str().unwrap().starts_with("application/atom+xml"));
    let xml = feed.text().await.unwrap();
    assert_eq!(xml.matches("<entry>").count(), 2);
    assert!(xml.contains("<name>B &amp; C</name>"));
    assert!(!xml.contains("<b>"), "comment HTML is escaped inside the feed");
    assert!(xml.find("B &amp; C").unwrap() < xml.find("<name>A</name>").unwrap(), "newest first");
    assert_eq!(app.get("/posts/missing/comments.atom").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn no_public_response_reveals_an_email() {
    let app = app().await;
    open_post(&app, "private").await;
    let (id, token) = given_comment(&app, "private", "Quiet", "hello", None).await;
    given_comment(&app, "private", "Quiet", "reply", Some(&id)).await;
    let mut bodies = Vec::new();
    for path in [
        "/posts/private/comments",
        "/posts/private/comments?sort=newest",
        "/comments/counts?posts=private",
        "/posts/private",
        "/posts",
    ] {
        bodies.push(app.get(path).await.body.to_string());
    }
    bodies.push(app.http.get(app.url("/posts/private/comments.atom")).send().await.unwrap().text().await.unwrap());
    let edit = app
        .send(
            app.http
                .put(app.url(&format!("/posts/private/comments/{id}")))
                .header("x-edit-token", &token)
                .json(&json!({"body": "edited"})),
        )
        .await;
    bodies.push(edit.body.to_string());
    let hash = app::config::sha256_hex(EMAIL.as_bytes());
    for body in bodies {
        assert!(!body.contains(EMAIL) && !body.contains("reader.private") && !body.contains(&hash), "{body}");
    }
}

/// Rewrites a comment's stored HTML behind the API's back (no thread version change).
async fn rewrite_html_directly(app: &TestApp, slug: &str, id: &str, html: &str) {
    let store = &app.stack.app.store;
    let s = |v: &str| aws_sdk_dynamodb::types::AttributeValue::S(v.to_owned());
    let pointer = store
        .client()
        .get_item()
        .table_name(store.table())
        .key("PK", s(&keys::comment_pointer(id)))
        .key("SK", s(keys::META))
        .send()
        .await
        .unwrap();
    let path = pointer.item().unwrap()["path"].as_s().unwrap().clone();
    store
        .client()
        .update_item()
        .table_name(store.table())
        .key("PK", s(&keys::post_named(slug)))
        .key("SK", s(&path))
        .update_expression("SET body_html = :h")
        .expression_attribute_values(":h", s(html))
        .send()
        .await
        .unwrap();
}

fn bodies(thread: &Value) -> Vec<String> {
    thread["items"].as_array().unwrap().iter().map(|c| c["body_html"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn a_thread_page_is_reused_until_a_write_changes_the_thread() {
    let app = TestApp::spawn_with(|config| {
        config.writes_per_minute = 10_000;
        config.moderation = Moderation { max_links: Some(0), hold_first_time: false };
    })
    .await;
    open_post(&app, "cached").await;
    let (first, token) = given_comment(&app, "cached", "Ji-woo", "first", None).await;
    assert_eq!(bodies(&thread(&app, "cached", "").await), ["<p>first</p>\n"]);

    // A change the thread's version does not know of is not seen: the page came from
    // the function's memory, not from a new Query.
    rewrite_html_directly(&app, "cached", &first, "<p>changed underneath</p>\n").await;
    assert_eq!(bodies(&thread(&app, "cached", "").await), ["<p>first</p>\n"]);
    // Another page of the same thread is its own entry, read fresh.
    assert_eq!(bodies(&thread(&app, "cached", "?limit=1").await), ["<p>changed underneath</p>\n"]);

    // Every write that changes the thread is seen by the very next read.
    given_comment(&app, "cached", "Min-jun", "second", None).await;
    assert_eq!(bodies(&thread(&app, "cached", "").await), ["<p>changed underneath</p>\n", "<p>second</p>\n"]);

    let path = format!("/posts/cached/comments/{first}");
    let edit = app.http.put(app.url(&path)).header("x-edit-token", &token).json(&json!({"body": "edited"}));
    assert_eq!(app.send(edit).await.status, StatusCode::OK);
    assert_eq!(bodies(&thread(&app, "cached", "").await), ["<p>edited</p>\n", "<p>second</p>\n"]);

    let held = comment(&app, "cached", json!({"author": "Spammer", "body": "see https://spam.example"})).await;
    assert_eq!(held.status, StatusCode::ACCEPTED);
    let held = held.body["comment"]["id"].as_str().unwrap().to_owned();
    assert_eq!(thread(&app, "cached", "").await["items"].as_array().unwrap().len(), 2);
    let approve = app.send(app.admin(Method::POST, &format!("/admin/comments/{held}/approve"))).await;
    assert_eq!(approve.status, StatusCode::OK);
    assert_eq!(authors(&thread(&app, "cached", "").await), ["Ji-woo", "Min-jun", "Spammer"]);

    let spam = app.send(app.admin(Method::POST, &format!("/admin/comments/{held}/spam"))).await;
    assert_eq!(spam.status, StatusCode::OK);
    assert_eq!(authors(&thread(&app, "cached", "").await), ["Ji-woo", "Min-jun"]);

    let delete = app.http.delete(app.url(&path)).header("x-edit-token", &token);
    assert_eq!(app.send(delete).await.status, StatusCode::NO_CONTENT);
    assert_eq!(authors(&thread(&app, "cached", "").await), ["Min-jun"]);
}

#[tokio::test]
async fn deleting_a_comment_twice_at_once_counts_it_once_and_never_fails_on_the_server() {
    let app = app().await;
    open_post(&app, "twice").await;
    let (parent, _) = given_comment(&app, "twice", "Ji-woo", "parent", None).await;
    let (reply, _) = given_comment(&app, "twice", "Min-jun", "reply", Some(&parent)).await;
    let (other, _) = given_comment(&app, "twice", "Seo-yeon", "other", None).await;
    // The moderator's two tabs delete the same comments at once, in both orders.
    let delete = |id: String| app.send(app.admin(Method::POST, &format!("/admin/comments/{id}/delete")));
    let answers = futures::future::join_all([
        delete(reply.clone()),
        delete(reply.clone()),
        delete(parent.clone()),
        delete(other.clone()),
        delete(other.clone()),
    ])
    .await;
    for answer in &answers {
        assert!(
            [StatusCode::NO_CONTENT, StatusCode::NOT_FOUND, StatusCode::CONFLICT].contains(&answer.status),
            "{} {}",
            answer.status,
            answer.body
        );
    }
    // Settle: whatever raced is deleted now, and the count is what is left.
    for id in [&reply, &parent, &other] {
        let again = delete(id.clone()).await;
        assert!([StatusCode::NO_CONTENT, StatusCode::NOT_FOUND].contains(&again.status), "{}", again.status);
    }
    let thread = thread(&app, "twice", "").await;
    let shown: Vec<_> = thread["items"].as_array().unwrap().iter().filter(|c| c["deleted"] == false).collect();
    assert!(shown.is_empty(), "{thread}");
    assert_eq!(thread["count"], 0, "{thread}");
    assert_eq!(app.get("/posts/twice").await.body["comment_count"], 0);
}
