//! Petitions, pledges and their signups (the Petitions, Pledges and Signups sections of
//! `openapi.yaml`), over HTTP against DynamoDB Local.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Answer, TestApp};

async fn app() -> TestApp {
    TestApp::spawn_with(|config| config.writes_per_minute = 100_000).await
}

async fn petition(app: &TestApp, slug: &str, extra: Value) -> Answer {
    let mut body = json!({"slug": slug, "title": "Do not send them back", "body": "Please.", "target": "The Ministry", "goal": 10_000});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    app.send(app.admin(Method::POST, "/petitions").json(&body)).await
}

async fn sign(app: &TestApp, slug: &str, name: &str, email: &str, public: bool) -> Answer {
    let body = json!({"name": name, "email": email, "country": "Korea", "comment": "Free them", "public": public, "consent": true});
    app.send(app.http.post(app.url(&format!("/petitions/{slug}/signatures"))).json(&body)).await
}

/// The confirm link of the newest mail to `to`.
async fn link_for(app: &TestApp, to: &str) -> String {
    let mail = app.stack.mails().await.into_iter().find(|m| m.to == to).expect("a mail was sent");
    mail.links[0].clone()
}

fn token_of(link: &str) -> String {
    link.rsplit('/').next().unwrap().to_owned()
}

async fn count(app: &TestApp, slug: &str) -> u64 {
    let answer = app.get(&format!("/petitions/{slug}/count")).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.body["signature_count"].as_u64().unwrap()
}

/// Presses the button with nothing changed: what the signup asked for, but private.
async fn confirm(app: &TestApp, token: &str) -> Answer {
    app.send(app.http.post(app.url(&format!("/confirm/{token}")))).await
}

/// Confirms with what the person chose on the page.
async fn confirm_with(app: &TestApp, token: &str, chosen: Value) -> Answer {
    app.send(app.http.post(app.url(&format!("/confirm/{token}"))).json(&chosen)).await
}

#[tokio::test]
async fn a_reader_signs_confirms_and_counts_exactly_once() {
    let app = app().await;
    assert_eq!(petition(&app, "free-them", json!({})).await.status, StatusCode::CREATED);
    let signed = sign(&app, "free-them", "Ji-woo", "Ji.Woo@gmail.com", true).await;
    assert_eq!(signed.status, StatusCode::ACCEPTED);
    assert_eq!(signed.body, json!({"status": "pending_confirmation"}));
    assert_eq!(count(&app, "free-them").await, 0, "unconfirmed signatures do not count");

    let link = link_for(&app, "ji.woo@gmail.com").await;
    let outbox = app.get("/_dev/outbox").await;
    assert_eq!(outbox.body["items"][0]["links"][0], link.as_str());
    assert!(link.starts_with(&app.stack.base_url), "{link}");

    // Following the link (as a mail scanner would) confirms nothing.
    let page = app.http.get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("<form method=\"post\">"));
    assert_eq!(count(&app, "free-them").await, 0);

    let token = token_of(&link);
    let confirmed = confirm_with(&app, &token, json!({"public": true})).await;
    assert_eq!(confirmed.status, StatusCode::OK);
    assert_eq!(confirmed.body, json!({"status": "confirmed", "campaign": "free-them", "kind": "petition"}));
    assert_eq!(count(&app, "free-them").await, 1);
    assert_eq!(confirm(&app, &token).await.status, StatusCode::OK, "confirming twice is harmless");
    assert_eq!(count(&app, "free-them").await, 1);

    // Signing again, in another case or with a +tag, changes nothing and reveals nothing.
    for again in ["JI.WOO@GMAIL.COM", "jiwoo+petition@gmail.com"] {
        let repeat = sign(&app, "free-them", "Ji-woo", again, true).await;
        assert_eq!(repeat.status, signed.status);
        assert_eq!(repeat.body, signed.body);
    }
    assert_eq!(app.stack.mails().await.len(), 1, "no second mail within the hour");
    assert_eq!(count(&app, "free-them").await, 1);

    let petition = app.get("/petitions/free-them").await.body;
    assert_eq!(petition["signature_count"], 1);
    assert_eq!(petition["open"], true);
    let signers = app.get("/petitions/free-them/signatures").await.body;
    assert_eq!(signers["items"][0]["name"], "Ji-woo");
    assert_eq!(signers["items"][0]["country"], "Korea");
    assert!(!signers.to_string().contains('@'), "no email in public lists");
    let unsalted = app::config::sha256_hex(b"email:jiwoo@gmail.com");
    let cursor =
        app.get("/petitions/free-them/signatures?limit=1").await.body["next_cursor"].as_str().unwrap().to_owned();
    use base64::Engine;
    let payload = cursor.split('.').next().unwrap();
    let decoded = String::from_utf8(base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert!(decoded.contains("SIGNUP#"), "{decoded}");
    assert!(!decoded.contains(&unsalted), "cursors carry no guessable email hash: {decoded}");
}

#[tokio::test]
async fn concurrent_signups_of_the_same_people_count_once_each() {
    let app = app().await;
    petition(&app, "viral", json!({})).await;
    let variants = |i: usize| {
        [
            format!("person{i}@example.org"),
            format!("Person{i}@Example.org"),
            format!("person{i}+x@example.org"),
            format!(" PERSON{i}@example.org "),
        ]
    };
    let requests = (0..100).flat_map(|i| variants(i).into_iter().map(move |email| (i, email)));
    let answers = futures::future::join_all(requests.map(|(i, email)| {
        let app = &app;
        async move { sign(app, "viral", &format!("Person {i}"), &email, false).await }
    }))
    .await;
    assert_eq!(answers.len(), 400);
    for answer in &answers {
        assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
        assert_eq!(answer.body, json!({"status": "pending_confirmation"}));
    }
    let tokens: Vec<String> = app.stack.mails().await.iter().map(|m| token_of(&m.links[0])).collect();
    assert_eq!(tokens.len(), 100, "one signup, one mail per person");
    let confirmations = futures::future::join_all(tokens.iter().chain(tokens.iter()).map(|t| confirm(&app, t))).await;
    assert!(confirmations.iter().all(|a| a.status == StatusCode::OK));
    assert_eq!(count(&app, "viral").await, 100);
}

#[tokio::test]
async fn erasing_a_signup_lowers_the_count() {
    let app = app().await;
    petition(&app, "forget-me", json!({})).await;
    sign(&app, "forget-me", "Stays", "stays@example.org", true).await;
    sign(&app, "forget-me", "Leaves", "leaves@example.org", true).await;
    let stays = token_of(&link_for(&app, "stays@example.org").await);
    let leaves = token_of(&link_for(&app, "leaves@example.org").await);
    confirm_with(&app, &stays, json!({"public": true})).await;
    confirm_with(&app, &leaves, json!({"public": true})).await;
    assert_eq!(count(&app, "forget-me").await, 2);

    let erased = app.send(app.http.delete(app.url(&format!("/signups/{leaves}")))).await;
    assert_eq!(erased.status, StatusCode::NO_CONTENT);
    assert_eq!(count(&app, "forget-me").await, 1);
    let names: Vec<Value> = app.get("/petitions/forget-me/signatures").await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].clone())
        .collect();
    assert_eq!(names, [json!("Stays")]);
    let csv = app.send(app.admin(Method::GET, "/admin/petitions/forget-me/signatures.csv")).await;
    assert!(!csv.body.as_str().unwrap().contains("leaves@example.org"));
    let again = app.send(app.http.delete(app.url(&format!("/signups/{leaves}")))).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "a used link is unknown");
    assert_eq!(confirm(&app, &leaves).await.status, StatusCode::NOT_FOUND);
    assert_eq!(count(&app, "forget-me").await, 1);
}

#[tokio::test]
async fn the_export_is_admin_only_and_safe_for_spreadsheets() {
    let app = app().await;
    petition(&app, "deliver", json!({})).await;
    sign(&app, "deliver", "=SUM(A1:A9)", "formula@example.org", false).await;
    sign(&app, "deliver", "Unconfirmed", "later@example.org", false).await;
    confirm(&app, &token_of(&link_for(&app, "formula@example.org").await)).await;
    assert_eq!(app.get("/admin/petitions/deliver/signatures.csv").await.status, StatusCode::UNAUTHORIZED);
    let response = app.admin(Method::GET, "/admin/petitions/deliver/signatures.csv").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = response.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "the header and the one confirmed signature: {csv}");
    assert!(lines[1].starts_with("\"'=SUM"), "{csv}");
    assert!(lines[1].contains("formula@example.org"));
    assert!(lines[0].starts_with("name,email,"), "{csv}");
}

#[tokio::test]
async fn a_pledge_succeeds_at_its_threshold() {
    let app = app().await;
    let created = app
        .send(app.admin(Method::POST, "/pledges").json(&json!({
            "slug": "three-dollars", "title": "$3 if 2 others will", "body": "For the fund.", "threshold": 2,
            "deadline": "2099-01-01T00:00:00Z", "suggested_amount": 3, "petition": "free-them"
        })))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["status"], "open");
    assert_eq!(created.body["currency"], "USD");
    for (name, email, amount) in [("A", "a@example.org", 3), ("B", "b@example.org", 5)] {
        let answer = app
            .send(
                app.http
                    .post(app.url("/pledges/three-dollars/signups"))
                    .json(&json!({"name": name, "email": email, "amount": amount, "public": true, "consent": true})),
            )
            .await;
        assert_eq!(answer.status, StatusCode::ACCEPTED);
        assert_eq!(app.get("/pledges/three-dollars").await.body["status"], "open");
        // A listed publicly; B presses the button as it is, which keeps B private.
        let token = token_of(&link_for(&app, email).await);
        let confirmed = if name == "A" {
            confirm_with(&app, &token, json!({"public": true})).await
        } else {
            confirm(&app, &token).await
        };
        assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
    }
    let pledge = app.get("/pledges/three-dollars").await.body;
    assert_eq!(pledge["signup_count"], 2);
    assert_eq!(pledge["amount_total"], 8);
    assert_eq!(pledge["status"], "succeeded");
    let signers = app.get("/pledges/three-dollars/signups").await.body;
    assert_eq!(signers["items"].as_array().unwrap().len(), 1, "{signers}");
    assert_eq!(signers["items"][0]["name"], "A");
    assert_eq!(signers["items"][0]["amount"], 3);
    let csv =
        app.admin(Method::GET, "/admin/pledges/three-dollars/signups.csv").send().await.unwrap().text().await.unwrap();
    assert_eq!(csv.lines().count(), 3);
}

#[tokio::test]
async fn closed_campaigns_refuse_signups_and_failed_pledges_say_so() {
    let app = app().await;
    petition(&app, "closed", json!({"closes_at": "2020-01-01T00:00:00Z"})).await;
    let refused = sign(&app, "closed", "Late", "late@example.org", false).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.code(), "campaign_closed");
    assert_eq!(app.get("/petitions/closed/count").await.body["open"], false);
    app.send(app.admin(Method::POST, "/pledges").json(
        &json!({"slug": "missed", "title": "T", "body": "B", "threshold": 5, "deadline": "2020-01-01T00:00:00Z"}),
    ))
    .await;
    assert_eq!(app.get("/pledges/missed").await.body["status"], "failed");
    assert!(app.stack.mails().await.is_empty());
}

#[tokio::test]
async fn bad_signups_write_nothing() {
    let app = app().await;
    petition(&app, "strict", json!({})).await;
    let cases = [
        ("consent", json!({"name": "A", "email": "a@example.org"})),
        ("consent", json!({"name": "A", "email": "a@example.org", "consent": false})),
        ("email", json!({"name": "A", "email": "not an email", "consent": true})),
        ("name", json!({"name": "n".repeat(101), "email": "a@example.org", "consent": true})),
        ("comment", json!({"name": "A", "email": "a@example.org", "consent": true, "comment": "c".repeat(1_001)})),
        ("homepage", json!({"name": "A", "email": "a@example.org", "consent": true, "homepage": "x"})),
        ("amount", json!({"name": "A", "email": "a@example.org", "consent": true, "amount": 3})),
    ];
    for (field, body) in cases {
        let answer = app.send(app.http.post(app.url("/petitions/strict/signatures")).json(&body)).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {}", answer.body);
        assert!(answer.body["error"]["fields"][field].is_array(), "{field}: {}", answer.body);
    }
    app.send(
        app.admin(Method::POST, "/pledges")
            .json(&json!({"slug": "p", "title": "T", "body": "B", "threshold": 5, "deadline": "2099-01-01T00:00:00Z"})),
    )
    .await;
    for amount in [json!(-3), json!(0), json!(10_000_000_000u64), json!("3")] {
        let answer = app
            .send(
                app.http
                    .post(app.url("/pledges/p/signups"))
                    .json(&json!({"name": "A", "email": "a@example.org", "consent": true, "amount": amount})),
            )
            .await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "amount {amount}");
    }
    assert_eq!(sign(&app, "no-such-petition", "A", "a@example.org", false).await.status, StatusCode::NOT_FOUND);
    for token in ["nope", &"0".repeat(64)] {
        assert_eq!(confirm(&app, token).await.status, StatusCode::NOT_FOUND);
        assert_eq!(app.get(&format!("/confirm/{token}")).await.status, StatusCode::NOT_FOUND);
    }
    let duplicate = petition(&app, "strict", json!({})).await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    let bad_petition = app
        .send(
            app.admin(Method::POST, "/petitions")
                .json(&json!({"slug": "x", "title": "T", "body": "B", "target": "M", "goal": 0})),
        )
        .await;
    assert!(bad_petition.body["error"]["fields"]["goal"].is_array());
    assert_eq!(count(&app, "strict").await, 0);
    assert!(app.stack.mails().await.is_empty(), "no mail for refused signups");
}

#[tokio::test]
async fn an_unconfirmed_signup_expires_after_a_week() {
    let app = app().await;
    petition(&app, "week", json!({})).await;
    sign(&app, "week", "Slow", "slow@example.org", false).await;
    let token = token_of(&link_for(&app, "slow@example.org").await);
    // A week and a day pass.
    app.stack.app.clock.advance(::time::Duration::days(8));
    assert_eq!(confirm(&app, &token).await.status, StatusCode::NOT_FOUND, "an expired link confirms nothing");
    assert_eq!(count(&app, "week").await, 0);
    // The same person may sign again; the expired signup is replaced.
    assert_eq!(sign(&app, "week", "Slow", "slow@example.org", false).await.status, StatusCode::ACCEPTED);
    let fresh = app.stack.mails().await.into_iter().map(|m| token_of(&m.links[0])).find(|t| *t != token).unwrap();
    assert_eq!(confirm(&app, &fresh).await.status, StatusCode::OK);
    assert_eq!(count(&app, "week").await, 1);
}

#[tokio::test]
async fn the_demo_campaigns_are_seeded() {
    let app = app().await;
    local_stack::seed::seed(&app.stack.app).await.unwrap();
    let petition = app.get("/petitions/stop-the-repatriations").await.body;
    assert_eq!(petition["goal"], 10_000);
    assert_eq!(petition["signature_count"], 4);
    assert!(petition["target"].as_str().unwrap().contains("Ministry"));
    assert_eq!(
        app.get("/petitions/stop-the-repatriations/signatures").await.body["items"].as_array().unwrap().len(),
        3
    );
    let pledge = app.get("/pledges/three-dollars-for-the-fund").await.body;
    assert_eq!(pledge["threshold"], 1_000);
    assert_eq!(pledge["suggested_amount"], 3);
    assert_eq!(pledge["amount_total"], 12);
    assert_eq!(pledge["status"], "open");
    assert_eq!(pledge["petition"], "stop-the-repatriations");
    let post = app.get("/posts/families-still-held-at-the-border").await.body;
    assert_eq!(post["petition"], "stop-the-repatriations");
    assert_eq!(post["pledge"], "three-dollars-for-the-fund");
}

#[tokio::test]
async fn a_deployed_function_may_answer_counts_from_memory_for_a_few_seconds() {
    // The deployed default is 5 s; a minute here keeps the test free of timing.
    let app = TestApp::spawn_with(|config| {
        config.writes_per_minute = 100_000;
        config.count_cache = std::time::Duration::from_secs(60);
    })
    .await;
    assert_eq!(petition(&app, "cached-count", json!({})).await.status, StatusCode::CREATED);
    assert_eq!(count(&app, "cached-count").await, 0);
    assert_eq!(sign(&app, "cached-count", "Ji-woo", "jiwoo@example.org", false).await.status, StatusCode::ACCEPTED);
    assert_eq!(confirm(&app, &token_of(&link_for(&app, "jiwoo@example.org").await)).await.status, StatusCode::OK);
    // The petition itself is read fresh; its cacheable count is the one read before.
    assert_eq!(app.get("/petitions/cached-count").await.body["signature_count"], 1);
    assert_eq!(count(&app, "cached-count").await, 0);

    let post = json!({"slug": "counted", "title": "T", "body": "B", "author": "Min-jun"});
    assert_eq!(app.create_post(post).await.status, StatusCode::CREATED);
    assert_eq!(app.get("/comments/counts?posts=counted").await.body["counts"]["counted"], 0);
    let comment = json!({"author": "Ji-woo", "body": "Signed."});
    let posted = app.send(app.http.post(app.url("/posts/counted/comments")).json(&comment)).await;
    assert_eq!(posted.status, StatusCode::CREATED);
    // The count read before is reused; a post not read before is read now.
    let post = json!({"slug": "other", "title": "T", "body": "B", "author": "Min-jun"});
    assert_eq!(app.create_post(post).await.status, StatusCode::CREATED);
    let other = json!({"author": "Ji-woo", "body": "Shared."});
    assert_eq!(
        app.send(app.http.post(app.url("/posts/other/comments")).json(&other)).await.status,
        StatusCode::CREATED
    );
    let counts = app.get("/comments/counts?posts=counted,other").await.body;
    assert_eq!((counts["counts"]["counted"].as_u64(), counts["counts"]["other"].as_u64()), (Some(0), Some(1)));
}
