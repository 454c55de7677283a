//! The admin routes the organiser's console is built on, over HTTP against DynamoDB
//! Local: the moderation queue and spam folder with why each comment was held, the
//! campaign list, editing and closing campaigns, signups per day, the Markdown preview,
//! and the console's own page.

use app::config::Moderation;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Answer, TestApp};

async fn app() -> TestApp {
    TestApp::spawn_with(|config| {
        config.writes_per_minute = 100_000;
        config.moderation = Moderation { max_links: Some(1), hold_first_time: true };
    })
    .await
}

async fn comment(app: &TestApp, slug: &str, body: Value) -> Answer {
    app.send(app.http.post(app.url(&format!("/posts/{slug}/comments"))).json(&body)).await
}

async fn queue(app: &TestApp, query: &str) -> Vec<Value> {
    let answer = app.send(app.admin(Method::GET, &format!("/admin/comments?{query}"))).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.body["items"].as_array().unwrap().clone()
}

fn authors(items: &[Value]) -> Vec<&str> {
    items.iter().map(|c| c["author"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn the_queue_says_why_each_comment_was_held_and_spam_has_its_own_folder() {
    let app = app().await;
    app.given_post("held-here", "2026-11-01T00:00:00Z", &[]).await;
    let key = "k".repeat(22);
    let first = json!({"author": "First", "body": "Hello", "email": "first@example.org", "commenter_key": key});
    assert_eq!(comment(&app, "held-here", first.clone()).await.status, StatusCode::ACCEPTED);
    let links = json!({"author": "Links", "body": "[a](https://a.example) [b](https://b.example)"});
    assert_eq!(comment(&app, "held-here", links).await.status, StatusCode::ACCEPTED);

    let oldest = queue(&app, "").await;
    assert_eq!(authors(&oldest), ["First", "Links"]);
    assert_eq!(oldest[0]["held_reason"], "first_time");
    assert_eq!(oldest[1]["held_reason"], "links");
    assert!(oldest.iter().all(|c| c.get("email").is_none() && c.get("email_hash").is_none()));
    let newest = queue(&app, "order=newest").await;
    assert_eq!(authors(&newest), ["Links", "First"]);

    // Approved, the first commenter is known: their next comment is published, and an
    // edit of it into links is held again, for the edit.
    let id = oldest[0]["id"].as_str().unwrap();
    assert_eq!(
        app.send(app.admin(Method::POST, &format!("/admin/comments/{id}/approve"))).await.status,
        StatusCode::OK
    );
    let again = comment(
        &app,
        "held-here",
        json!({"author": "First", "body": "Again", "email": "first@example.org", "commenter_key": key}),
    )
    .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
    let (again_id, token) = (again.body["comment"]["id"].as_str().unwrap(), again.body["edit_token"].as_str().unwrap());
    let edited = app
        .send(
            app.http
                .put(app.url(&format!("/posts/held-here/comments/{again_id}")))
                .header("x-edit-token", token)
                .json(&json!({"body": "[x](https://x.example) [y](https://y.example)"})),
        )
        .await;
    assert_eq!(edited.status, StatusCode::ACCEPTED, "{}", edited.body);
    let held = queue(&app, "").await;
    assert_eq!(held.iter().find(|c| c["id"] == again_id).unwrap()["held_reason"], "edit");

    // Spam leaves the queue for the spam folder, keeping why it was held; approving it
    // from there publishes it.
    let links_id = held.iter().find(|c| c["author"] == "Links").unwrap()["id"].as_str().unwrap().to_owned();
    let spam = app.send(app.admin(Method::POST, &format!("/admin/comments/{links_id}/spam"))).await;
    assert_eq!(spam.body["status"], "spam");
    assert!(queue(&app, "").await.iter().all(|c| c["id"] != links_id.as_str()));
    let folder = queue(&app, "status=spam").await;
    assert_eq!(authors(&folder), ["Links"]);
    assert_eq!(folder[0]["held_reason"], "links");
    app.send(app.admin(Method::POST, &format!("/admin/comments/{links_id}/approve"))).await;
    assert!(queue(&app, "status=spam").await.is_empty());
    let thread = app.get("/posts/held-here/comments").await.body;
    assert!(thread["items"].as_array().unwrap().iter().any(|c| c["id"] == links_id.as_str()));

    for bad in ["status=approved", "order=sideways"] {
        let answer = app.send(app.admin(Method::GET, &format!("/admin/comments?{bad}"))).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
}

async fn create(app: &TestApp, kind: &str, body: Value) -> Answer {
    app.send(app.admin(Method::POST, &format!("/{kind}")).json(&body)).await
}

fn petition(slug: &str) -> Value {
    json!({"slug": slug, "title": "Free them", "body": "Please.", "target": "The Ministry", "goal": 100,
           "organiser_email": "organiser@example.org", "milestones": [10]})
}

fn pledge(slug: &str, threshold: u64) -> Value {
    json!({"slug": slug, "title": "$3 if others will", "body": "For the fund.", "threshold": threshold,
           "deadline": "2099-01-01T00:00:00Z", "currency": "EUR", "suggested_amount": 3})
}

async fn signup(app: &TestApp, path: &str, email: &str, amount: Option<u64>) -> String {
    let mut body = json!({"name": "Signer", "email": email, "public": false, "consent": true});
    if let Some(amount) = amount {
        body["amount"] = json!(amount);
    }
    assert_eq!(app.send(app.http.post(app.url(path)).json(&body)).await.status, StatusCode::ACCEPTED);
    let mail = app.stack.mails().await.into_iter().find(|m| m.to == email).expect("a confirmation mail");
    let token = mail.links[0].rsplit('/').next().unwrap().to_owned();
    assert_eq!(app.send(app.http.post(app.url(&format!("/confirm/{token}")))).await.status, StatusCode::OK);
    token
}

#[tokio::test]
async fn campaigns_are_listed_newest_first_with_their_counts_edited_and_closed() {
    let app = app().await;
    assert_eq!(create(&app, "petitions", petition("older")).await.status, StatusCode::CREATED);
    app.stack.app.clock.advance(::time::Duration::seconds(5));
    assert_eq!(create(&app, "petitions", petition("newer")).await.status, StatusCode::CREATED);
    assert_eq!(create(&app, "pledges", pledge("euros", 2)).await.status, StatusCode::CREATED);
    signup(&app, "/petitions/older/signatures", "a@example.org", None).await;

    let list = app.send(app.admin(Method::GET, "/admin/petitions")).await;
    assert_eq!(list.status, StatusCode::OK);
    let items = list.body["items"].as_array().unwrap();
    let slugs: Vec<_> = items.iter().map(|c| c["slug"].as_str().unwrap()).collect();
    assert_eq!(slugs, ["newer", "older"], "petitions only, newest first");
    assert_eq!(items[1]["signature_count"], 1);
    assert_eq!(items[1]["updates"], json!([]));
    assert!(items.iter().all(|c| c.get("organiser_email").is_none()), "the organiser's address is never answered");
    let paged = app.send(app.admin(Method::GET, "/admin/petitions?limit=1")).await.body;
    let cursor = paged["next_cursor"].as_str().unwrap();
    let rest = app.send(app.admin(Method::GET, &format!("/admin/petitions?limit=1&cursor={cursor}"))).await.body;
    assert_eq!(rest["items"][0]["slug"], "older");
    let pledges = app.send(app.admin(Method::GET, "/admin/pledges")).await.body;
    assert_eq!(pledges["items"].as_array().unwrap().len(), 1);

    // An edit changes what was sent and keeps the count; a slug is not renamed.
    let edit = json!({"title": "Free them now", "body": "Please, now.", "target": "The Minister", "goal": 50, "milestones": [5, 20]});
    let edited = app.send(app.admin(Method::PUT, "/petitions/older").json(&edit)).await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);
    assert_eq!((edited.body["title"].as_str(), edited.body["goal"].as_u64()), (Some("Free them now"), Some(50)));
    assert_eq!(edited.body["signature_count"], 1);
    let read = app.get("/petitions/older").await.body;
    assert_eq!((read["target"].as_str(), read["milestones"].clone()), (Some("The Minister"), json!([5, 20])));
    let renamed = app
        .send(
            app.admin(Method::PUT, "/petitions/older")
                .json(&json!({"slug": "other", "title": "T", "body": "B", "target": "M", "goal": 1})),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::UNPROCESSABLE_ENTITY);
    let invalid = app
        .send(
            app.admin(Method::PUT, "/petitions/older")
                .json(&json!({"title": "", "body": "B", "target": "M", "goal": 0})),
        )
        .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(invalid.body["error"]["fields"]["goal"].is_array() && invalid.body["error"]["fields"]["title"].is_array());
    assert_eq!(app.get("/petitions/older").await.body["title"], "Free them now", "a refused edit writes nothing");
    let missing = app.send(app.admin(Method::PUT, "/petitions/nobody").json(&edit)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // Closing stops signups now; closing again changes nothing.
    let closed = app.send(app.admin(Method::POST, "/admin/petitions/older/close")).await;
    assert_eq!((closed.status, closed.body["open"].clone()), (StatusCode::OK, json!(false)));
    let closes_at = closed.body["closes_at"].clone();
    let again = app.send(app.admin(Method::POST, "/admin/petitions/older/close")).await;
    assert_eq!(again.body["closes_at"], closes_at);
    let refused = app
        .send(
            app.http
                .post(app.url("/petitions/older/signatures"))
                .json(&json!({"name": "Late", "email": "late@example.org", "public": false, "consent": true})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    // A pledge keeps its currency once anyone pledged, and its terms once settled.
    signup(&app, "/pledges/euros/signups", "p1@example.org", Some(3)).await;
    let dollars = app
        .send(app.admin(Method::PUT, "/pledges/euros").json(
            &json!({"title": "T", "body": "B", "threshold": 2, "deadline": "2099-01-01T00:00:00Z", "currency": "USD"}),
        ))
        .await;
    assert_eq!(dollars.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", dollars.body);
    let kept = app.send(app.admin(Method::PUT, "/pledges/euros").json(&json!({"title": "€3 if one other will", "body": "B", "threshold": 2, "deadline": "2099-01-01T00:00:00Z", "fulfilment_text": "Give at the fund."}))).await;
    assert_eq!(kept.status, StatusCode::OK, "{}", kept.body);
    assert_eq!(
        (kept.body["currency"].as_str(), kept.body["fulfilment_text"].as_str()),
        (Some("EUR"), Some("Give at the fund."))
    );
    signup(&app, "/pledges/euros/signups", "p2@example.org", Some(4)).await;
    app.stack.settle().await;
    assert_eq!(app.get("/pledges/euros").await.body["status"], "succeeded");
    let moved = app
        .send(
            app.admin(Method::PUT, "/pledges/euros")
                .json(&json!({"title": "T", "body": "B", "threshold": 5, "deadline": "2099-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(moved.status, StatusCode::CONFLICT);
    assert_eq!(app.get("/pledges/euros").await.body["threshold"], 2);
}

#[tokio::test]
async fn closing_a_pledge_early_lets_the_schedule_settle_it() {
    let app = app().await;
    create(&app, "pledges", pledge("short", 10)).await;
    signup(&app, "/pledges/short/signups", "one@example.org", Some(3)).await;
    let closed = app.send(app.admin(Method::POST, "/admin/pledges/short/close")).await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
    assert_eq!((closed.body["open"].clone(), closed.body["status"].clone()), (json!(false), json!("failed")));
    app.stack.app.clock.advance(::time::Duration::seconds(2));
    app.stack.fire_schedule().await.unwrap();
    app.stack.settle().await;
    let told = app.stack.mails().await.into_iter().filter(|m| m.to == "one@example.org").count();
    assert_eq!(told, 2, "the confirmation, then the pledge's failure");
}

#[tokio::test]
async fn signups_are_counted_per_day_and_an_erasure_takes_its_day_back() {
    let app = app().await;
    create(&app, "pledges", pledge("daily", 100)).await;
    let start = app.stack.app.clock.now();
    let day = |n: i64| app::time::format(start + ::time::Duration::days(n))[..10].to_owned();
    let mut tokens = Vec::new();
    for (i, (days, amount)) in [(0, 3), (0, 5), (2, 10)].into_iter().enumerate() {
        if days > 0 {
            app.stack.app.clock.advance(::time::Duration::days(days));
        }
        tokens.push(signup(&app, "/pledges/daily/signups", &format!("s{i}@example.org"), Some(amount)).await);
    }
    let daily = app.send(app.admin(Method::GET, "/admin/pledges/daily/daily")).await;
    assert_eq!(daily.status, StatusCode::OK);
    assert_eq!(
        daily.body,
        json!({"days": [{"date": day(0), "signups": 2, "amount": 8}, {"date": day(2), "signups": 1, "amount": 10}]})
    );
    // The last signer erases themselves: their day goes with them.
    let erased = app.send(app.http.delete(app.url(&format!("/signups/{}", tokens[2])))).await;
    assert_eq!(erased.status, StatusCode::NO_CONTENT);
    let after = app.send(app.admin(Method::GET, "/admin/pledges/daily/daily")).await.body;
    assert_eq!(after, json!({"days": [{"date": day(0), "signups": 2, "amount": 8}]}));

    create(&app, "petitions", petition("counted")).await;
    signup(&app, "/petitions/counted/signatures", "p@example.org", None).await;
    let petition_days = app.send(app.admin(Method::GET, "/admin/petitions/counted/daily")).await.body;
    assert_eq!(petition_days, json!({"days": [{"date": day(2), "signups": 1}]}), "a petition has no amounts");
    assert_eq!(app.send(app.admin(Method::GET, "/admin/petitions/nobody/daily")).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_preview_and_a_posts_body_html_render_markdown_as_comments_are_rendered() {
    let app = app().await;
    let markdown =
        "Sign **now**: [the petition](https://blog.example/p) <script>alert(1)</script> [bad](javascript:alert(1))";
    let preview = app.send(app.admin(Method::POST, "/admin/preview").json(&json!({"body": markdown}))).await;
    assert_eq!(preview.status, StatusCode::OK);
    let html = preview.body["body_html"].as_str().unwrap();
    assert_eq!(html, app::markdown::render(markdown));
    assert!(
        html.contains("<strong>now</strong>") && !html.contains("<script") && !html.contains("javascript:"),
        "{html}"
    );
    let refused = app.send(app.admin(Method::POST, "/admin/preview").json(&json!({"body": 3, "other": true}))).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.send(app.http.post(app.url("/admin/preview")).json(&json!({"body": "x"}))).await.status,
        StatusCode::UNAUTHORIZED
    );

    let post = json!({"slug": "rendered", "title": "T", "body": markdown, "author": "Min-jun"});
    assert_eq!(app.create_post(post).await.status, StatusCode::CREATED);
    let read = app.get("/posts/rendered").await.body;
    assert_eq!(read["body"], markdown);
    assert_eq!(read["body_html"], html);
}

#[tokio::test]
async fn the_console_is_served_with_a_strict_policy_and_admin_data_is_never_cached() {
    let app = app().await;
    let page = app.http.get(app.url("/admin")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let header = |name: &str| page.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
    let csp = header("content-security-policy").unwrap();
    assert!(
        csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe"),
        "{csp}"
    );
    assert_eq!(header("x-frame-options").as_deref(), Some("DENY"));
    assert!(header("etag").is_some());
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<script src="/admin/console.js" defer></script>"#));
    for asset in ["/admin/console.js", "/admin/console.css"] {
        let answer = app.http.get(app.url(asset)).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::OK, "{asset}");
        assert_eq!(answer.headers()["cache-control"], "no-cache", "{asset}");
    }
    for path in ["/admin/comments", "/admin/petitions", "/admin/pledges"] {
        let answer = app.admin(Method::GET, path).send().await.unwrap();
        assert_eq!(answer.headers()["cache-control"], "no-store", "{path}");
        let refused = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(refused.headers()["cache-control"], "no-store", "{path} refused");
    }
}
