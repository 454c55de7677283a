//! What a stranger with `curl` and no token tries against people who sign and comment,
//! each performed through the local stack, with the safe outcome asserted: what is
//! published, what a mail says, what a page of comments holds, what an answer reveals.

use app::config::Moderation;
use app::store::{MailCaps, keys};
use aws_sdk_dynamodb::types::AttributeValue;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Answer, TestApp};

async fn app() -> TestApp {
    TestApp::spawn_with(|config| config.writes_per_minute = 100_000).await
}

async fn petition(app: &TestApp, slug: &str) {
    let body = json!({"slug": slug, "title": "Do not send them back", "body": "Please.", "target": "The Ministry", "goal": 100});
    assert_eq!(app.send(app.admin(Method::POST, "/petitions").json(&body)).await.status, StatusCode::CREATED);
}

async fn pledge(app: &TestApp, slug: &str) {
    let body = json!({"slug": slug, "title": "$3 if 10 others will", "body": "B", "threshold": 10, "deadline": "2099-01-01T00:00:00Z"});
    assert_eq!(app.send(app.admin(Method::POST, "/pledges").json(&body)).await.status, StatusCode::CREATED);
}

async fn sign(app: &TestApp, slug: &str, body: Value) -> Answer {
    app.send(app.http.post(app.url(&format!("/petitions/{slug}/signatures"))).json(&body)).await
}

fn signature(name: &str, email: &str, public: bool) -> Value {
    json!({"name": name, "email": email, "country": "Elsewhere", "comment": "Not mine", "public": public, "consent": true})
}

async fn mails_to(app: &TestApp, to: &str) -> Vec<app::mail::Mail> {
    app.stack.mails().await.into_iter().filter(|m| m.to == to).collect()
}

fn token_of(mail: &app::mail::Mail) -> String {
    mail.links[0].rsplit('/').next().unwrap().to_owned()
}

async fn public_names(app: &TestApp, path: &str) -> Vec<String> {
    let list = app.get(path).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    list.body["items"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_owned()).collect()
}

async fn export(app: &TestApp, path: &str) -> String {
    let response = app.admin(Method::GET, path).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

/// Headers that differ between any two answers (the date) are left out.
fn comparable(answer: &Answer) -> (StatusCode, Value, Vec<(String, String)>) {
    let mut headers: Vec<(String, String)> = answer
        .headers
        .iter()
        .filter(|(name, _)| *name != "date")
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap_or_default().to_owned()))
        .collect();
    headers.sort();
    (answer.status, answer.body.clone(), headers)
}

#[tokio::test]
async fn a_stranger_who_signs_first_decides_nothing_that_is_published() {
    let app = app().await;
    petition(&app, "held-at-the-border").await;
    let victim = "victim@example.org";
    // The stranger signs the victim's address first, public, with words of their own.
    let first = sign(&app, "held-at-the-border", signature("Made Up", victim, true)).await;
    assert_eq!(first.status, StatusCode::ACCEPTED);
    for _ in 0..4 {
        sign(&app, "held-at-the-border", signature("Made Up Again", victim, true)).await;
    }
    // The real person signs privately a little later: the same answer, and no mail
    // beyond the one an hour the address may get about this petition.
    let own =
        sign(&app, "held-at-the-border", json!({"name": "Ji-woo", "email": victim, "public": false, "consent": true}))
            .await;
    assert_eq!(comparable(&own), comparable(&first));
    let mails = mails_to(&app, victim).await;
    assert_eq!(mails.len(), 1, "one mail per address per campaign per hour");

    // The page behind the link shows what the stranger asked for, to change, and the
    // public box unticked.
    let token = token_of(&mails[0]);
    let page = app.http.get(app.url(&format!("/confirm/{token}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("value=\"Made Up\""), "{page}");
    assert!(page.contains("name=\"public\" type=\"checkbox\">"), "not ticked in advance: {page}");
    assert!(!page.contains("checked"), "{page}");

    // The person presses the button as it is (the form posts without `public`).
    let pressed = app
        .http
        .post(app.url(&format!("/confirm/{token}")))
        .header("accept", "text/html")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=Ji-woo&country=&comment=")
        .send()
        .await
        .unwrap();
    assert_eq!(pressed.status(), StatusCode::OK);
    assert!(pressed.text().await.unwrap().contains("confirmed and counted"));
    assert_eq!(public_names(&app, "/petitions/held-at-the-border/signatures").await, Vec::<String>::new());
    let csv = export(&app, "/admin/petitions/held-at-the-border/signatures.csv").await;
    assert!(csv.contains("\"Ji-woo\",\"victim@example.org\",\"\",\"\",\"\""), "what the person chose: {csv}");
    assert!(!csv.contains("Made Up") && !csv.contains("Not mine") && !csv.contains("Elsewhere"), "{csv}");
    assert_eq!(app.get("/petitions/held-at-the-border/count").await.body["signature_count"], 1);
}

#[tokio::test]
async fn a_bare_confirmation_publishes_nothing_and_a_pledge_keeps_no_strangers_amount_in_public() {
    let app = app().await;
    pledge(&app, "fund").await;
    let victim = "pledger@example.org";
    let body = json!({"name": "Big Spender", "email": victim, "amount": 1_000_000, "public": true, "consent": true});
    assert_eq!(
        app.send(app.http.post(app.url("/pledges/fund/signups")).json(&body)).await.status,
        StatusCode::ACCEPTED
    );
    let token = token_of(&mails_to(&app, victim).await[0]);
    let confirmed = app.send(app.http.post(app.url(&format!("/confirm/{token}")))).await;
    assert_eq!(confirmed.status, StatusCode::OK);
    assert_eq!(public_names(&app, "/pledges/fund/signups").await, Vec::<String>::new(), "private unless chosen");
    // The same for a petition confirmed by a client sending JSON without `public`.
    petition(&app, "quiet").await;
    sign(&app, "quiet", signature("Loud", "quiet@example.org", true)).await;
    let token = token_of(&mails_to(&app, "quiet@example.org").await[0]);
    let confirmed =
        app.send(app.http.post(app.url(&format!("/confirm/{token}"))).json(&json!({"name": "Quiet"}))).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
    assert_eq!(public_names(&app, "/petitions/quiet/signatures").await, Vec::<String>::new());
    // A confirmation with a name that would not pass a signup is refused, and nothing
    // is confirmed.
    sign(&app, "quiet", signature("Other", "other@example.org", false)).await;
    let token = token_of(&mails_to(&app, "other@example.org").await[0]);
    let bad = app
        .send(app.http.post(app.url(&format!("/confirm/{token}"))).json(&json!({"name": "x\nhttps://phish.example"})))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body["error"]["fields"]["name"].is_array());
    assert_eq!(app.get("/petitions/quiet/count").await.body["signature_count"], 1);
}

#[tokio::test]
async fn a_mail_carries_only_what_the_organiser_wrote() {
    let app = app().await;
    petition(&app, "mailed").await;
    let phishing = "Min-jun,\n\nACTION NEEDED: re-verify at https://phish.example/r";
    for name in
        [phishing, "Min-jun https://phish.example/r", "phish.example", "Kim\u{202E}gnp.exe", "a\u{2028}b", "www.phish"]
    {
        let refused = sign(&app, "mailed", signature(name, "reader@example.org", false)).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{name:?}");
        assert!(refused.body["error"]["fields"]["name"].is_array(), "the field is named: {}", refused.body);
    }
    for (field, value) in [("country", "Korea\nACTION NEEDED"), ("comment", "evil\u{202E}txt")] {
        let mut body = signature("Ji-woo", "reader@example.org", false);
        body[field] = json!(value);
        let refused = sign(&app, "mailed", body).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert!(refused.body["error"]["fields"][field].is_array());
    }
    assert!(app.stack.mails().await.is_empty(), "no mail for refused signups");

    // A forged Host (and forwarding headers) cannot move the link.
    let request = app
        .http
        .post(app.url("/petitions/mailed/signatures"))
        .header("host", "phish.example")
        .header("x-forwarded-host", "phish.example")
        .header("x-forwarded-proto", "https")
        .json(&signature("Dr. Kim", "reader@example.org", false));
    assert_eq!(app.send(request).await.status, StatusCode::ACCEPTED);
    let mail = &mails_to(&app, "reader@example.org").await[0];
    assert!(mail.links[0].starts_with(&format!("{}/confirm/", app.stack.base_url)), "{}", mail.links[0]);
    assert!(!mail.text.contains("phish") && !mail.subject.contains("phish"), "{}", mail.text);
    assert!(!mail.text.contains("Dr. Kim"), "no signer text reaches a mail: {}", mail.text);
    assert!(mail.text.contains("Do not send them back"), "the organiser's title: {}", mail.text);
    assert_eq!(mail.text.matches("http").count(), 1, "one link, ours: {}", mail.text);
}

#[tokio::test]
async fn caps_bound_the_mail_a_bot_can_make_the_sender_send_and_answer_alike() {
    let app = TestApp::spawn_with(|config| {
        config.writes_per_minute = 100_000;
        config.mail_caps = MailCaps { per_address: 2, per_day: 16 };
    })
    .await;
    for slug in ["one", "two", "three"] {
        petition(&app, slug).await;
    }
    // One address over three campaigns: two mails, and the third answer is the same.
    let answers: Vec<Answer> = futures::future::join_all(
        ["one", "two", "three"].map(|slug| sign(&app, slug, signature("A", "often@example.org", false))),
    )
    .await;
    assert_eq!(mails_to(&app, "often@example.org").await.len(), 2);
    assert!(answers.iter().all(|a| comparable(a) == comparable(&answers[0])));
    // Many addresses: the deployment's day stops at its cap (16 over 16 shards).
    let many: Vec<Answer> = futures::future::join_all(
        (0..80).map(|i| sign(&app, "one", signature("B", &format!("bot{i}@example.org"), false))),
    )
    .await;
    assert!(many.iter().all(|a| comparable(a) == comparable(&many[0])));
    let sent = app.stack.mails().await.len();
    assert!(sent <= 16, "{sent} mails went out");
    assert!(sent >= 2, "the cap lets some through");
}

#[tokio::test]
async fn no_answer_tells_who_signed() {
    let app = TestApp::spawn_with_options(
        |config| config.writes_per_minute = 1_000,
        local_stack::Options { trust_forwarded_for: true, ..Default::default() },
    )
    .await;
    petition(&app, "oracle").await;
    // Addresses in each standing, set up from other clients.
    let from = |ip: &str, email: &str| {
        app.http
            .post(app.url("/petitions/oracle/signatures"))
            .header("x-forwarded-for", ip)
            .json(&signature("A", email, false))
    };
    app.send(from("198.51.100.1", "confirmed@example.org")).await;
    let token = token_of(&mails_to(&app, "confirmed@example.org").await[0]);
    assert_eq!(app.send(app.http.post(app.url(&format!("/confirm/{token}")))).await.status, StatusCode::OK);
    app.send(from("198.51.100.2", "pending@example.org")).await;
    let writes_before = rate_writes(&app).await;
    // A prober asks about each: the same answer, and each is charged one write.
    let mut answers = Vec::new();
    for email in ["confirmed@example.org", "pending@example.org", "never@example.org", "never@example.org"] {
        answers.push(app.send(from("203.0.113.9", email)).await);
    }
    for answer in &answers {
        assert_eq!(comparable(answer), comparable(&answers[2]));
    }
    assert_eq!(rate_writes(&app).await, writes_before + 4, "one write charged per request, whoever it names");
}

/// Every write charged to every client's rate windows so far.
async fn rate_writes(app: &TestApp) -> u64 {
    let store = &app.stack.app.store;
    let items = store.client().scan().table_name(store.table()).send().await.unwrap();
    items
        .items()
        .iter()
        .filter(|item| item["PK"].as_s().unwrap().starts_with("RATE#"))
        .map(|item| item["writes"].as_n().unwrap().parse::<u64>().unwrap())
        .sum()
}

async fn open_post(app: &TestApp, slug: &str) {
    let answer = app.create_post(json!({"slug": slug, "title": "Open", "body": "B", "author": "Min-jun"})).await;
    assert_eq!(answer.status, StatusCode::CREATED);
}

async fn comment(app: &TestApp, slug: &str, body: Value) -> Answer {
    app.send(app.http.post(app.url(&format!("/posts/{slug}/comments"))).json(&body)).await
}

fn authors(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|c| c["author"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn held_comments_never_take_the_place_of_approved_ones() {
    let app = TestApp::spawn_with(|config| {
        config.writes_per_minute = 100_000;
        config.moderation = Moderation { max_links: Some(2), hold_first_time: false };
    })
    .await;
    open_post(&app, "flooded").await;
    let links = "[a](https://a.example) [b](https://b.example) [c](https://c.example)";
    for i in 0..3 {
        assert_eq!(
            comment(&app, "flooded", json!({"author": format!("Early {i}"), "body": format!("early {i}")}))
                .await
                .status,
            StatusCode::CREATED
        );
    }
    for i in 0..40 {
        let held =
            comment(&app, "flooded", json!({"author": format!("Spam {i}"), "body": format!("{links} {i}")})).await;
        assert_eq!(held.status, StatusCode::ACCEPTED);
    }
    for i in 0..3 {
        assert_eq!(
            comment(&app, "flooded", json!({"author": format!("Late {i}"), "body": format!("late {i}")})).await.status,
            StatusCode::CREATED
        );
    }
    for sort in ["oldest", "newest"] {
        let first = app.get(&format!("/posts/flooded/comments?limit=3&sort={sort}")).await;
        assert_eq!(authors(&first.body).len(), 3, "{sort}: {}", first.body);
        let mut all = authors(&first.body);
        let mut cursor = first.body["next_cursor"].as_str().map(str::to_owned);
        while let Some(c) = cursor {
            let next = app.get(&format!("/posts/flooded/comments?limit=3&sort={sort}&cursor={c}")).await;
            assert_eq!(next.status, StatusCode::OK);
            all.extend(authors(&next.body));
            cursor = next.body["next_cursor"].as_str().map(str::to_owned);
        }
        all.sort();
        assert_eq!(all, ["Early 0", "Early 1", "Early 2", "Late 0", "Late 1", "Late 2"], "{sort}");
    }
    // Approving one brings it into the thread, in its place; spam leaves it.
    let queue = app.send(app.admin(Method::GET, "/admin/comments?limit=1")).await;
    let id = queue.body["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.send(app.admin(Method::POST, &format!("/admin/comments/{id}/approve"))).await.status,
        StatusCode::OK
    );
    let page = app.get("/posts/flooded/comments?limit=10").await;
    assert_eq!(authors(&page.body), ["Early 0", "Early 1", "Early 2", "Spam 0", "Late 0", "Late 1", "Late 2"]);
    assert_eq!(page.body["count"], 7);
    assert_eq!(app.send(app.admin(Method::POST, &format!("/admin/comments/{id}/spam"))).await.status, StatusCode::OK);
    let page = app.get("/posts/flooded/comments?limit=3").await;
    assert_eq!(authors(&page.body), ["Early 0", "Early 1", "Early 2"]);
    assert_eq!(page.body["count"], 6);
    // No reply can hang from what the thread does not show.
    let reply = comment(&app, "flooded", json!({"author": "R", "body": "re", "parent_id": id})).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn an_edit_meets_the_policy_a_new_comment_meets() {
    let app = TestApp::spawn_with(|config| {
        config.writes_per_minute = 4;
        config.moderation = Moderation { max_links: Some(2), hold_first_time: false };
    })
    .await;
    open_post(&app, "edited").await;
    let posted = comment(&app, "edited", json!({"author": "Walker", "body": "A clean comment."})).await;
    assert_eq!(posted.status, StatusCode::CREATED);
    let id = posted.body["comment"]["id"].as_str().unwrap().to_owned();
    let token = posted.body["edit_token"].as_str().unwrap().to_owned();
    let edit = |body: &str| {
        app.http
            .put(app.url(&format!("/posts/edited/comments/{id}")))
            .header("x-edit-token", &token)
            .json(&json!({"body": body}))
    };
    // The same words again are a repeat, as they would be for a new comment.
    assert_eq!(app.send(edit("A clean comment.")).await.status, StatusCode::CONFLICT);
    let farm = "[1](https://1.example) [2](https://2.example) [3](https://3.example) [4](https://4.example) [5](https://5.example)";
    let held = app.send(edit(farm)).await;
    assert_eq!(held.status, StatusCode::ACCEPTED, "{}", held.body);
    assert_eq!(held.body["status"], "pending");
    let thread = app.get("/posts/edited/comments").await;
    assert_eq!(thread.body["items"], json!([]), "the link farm left the public thread");
    assert_eq!(thread.body["count"], 0);
    let queue = app.send(app.admin(Method::GET, "/admin/comments")).await;
    assert_eq!(queue.body["items"][0]["id"], id.as_str());
    // Edits count against the client's writes like new comments: some of the next
    // eight are refused (eight, so that a minute boundary cannot hide it).
    let mut refused = 0;
    for i in 0..8 {
        let answer = app.send(edit(&format!("Clean again, {i}."))).await;
        assert!(
            answer.status == StatusCode::ACCEPTED || answer.status == StatusCode::TOO_MANY_REQUESTS,
            "{}",
            answer.body
        );
        refused += usize::from(answer.status == StatusCode::TOO_MANY_REQUESTS);
    }
    assert!(refused > 0, "the rate limit bites on edits");
}

#[tokio::test]
async fn the_first_time_hold_belongs_to_the_person_not_to_their_address() {
    let app = TestApp::spawn_with(|config| {
        config.writes_per_minute = 100_000;
        config.moderation = Moderation { max_links: None, hold_first_time: true };
    })
    .await;
    open_post(&app, "trusted").await;
    let known = json!({"author": "Known", "body": "first", "email": "known@example.org", "commenter_key": "the-known-readers-browser-key"});
    let first = comment(&app, "trusted", known).await;
    let id = first.body["comment"]["id"].as_str().unwrap();
    app.send(app.admin(Method::POST, &format!("/admin/comments/{id}/approve"))).await;
    // A stranger types the known address: held, exactly as for an unknown address.
    let borrowed =
        comment(&app, "trusted", json!({"author": "Stranger", "body": "borrowed", "email": "known@example.org"})).await;
    let guessed_key = comment(
        &app,
        "trusted",
        json!({"author": "Stranger", "body": "guessed", "email": "known@example.org", "commenter_key": "a-strangers-own-key-123"}),
    )
    .await;
    let unknown =
        comment(&app, "trusted", json!({"author": "Stranger", "body": "unknown", "email": "nobody@example.org"})).await;
    for answer in [&borrowed, &guessed_key, &unknown] {
        assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
        assert_eq!(answer.body["comment"]["status"], "pending");
    }
    let again = json!({"author": "Known", "body": "again", "email": "known@example.org", "commenter_key": "the-known-readers-browser-key"});
    assert_eq!(comment(&app, "trusted", again.clone()).await.status, StatusCode::CREATED);

    // The commenter asks to be forgotten: the blogger erases the record, and their next
    // comment is a first one again.
    let erase = |body: Value| app.admin(Method::POST, "/admin/commenters/erase").json(&body);
    assert_eq!(app.send(erase(json!({"email": "not an address"}))).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let stranger = app.http.post(app.url("/admin/commenters/erase")).json(&json!({"email": "known@example.org"}));
    assert_eq!(app.send(stranger).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.send(erase(json!({"email": "Known@Example.org"}))).await.status, StatusCode::NO_CONTENT);
    let store = &app.stack.app.store;
    let items = store.client().scan().table_name(store.table()).send().await.unwrap();
    assert!(!items.items().iter().any(|i| i["PK"].as_s().unwrap().starts_with("COMMENTER#")));
    let mut after = again;
    after["body"] = json!("after erasure");
    assert_eq!(comment(&app, "trusted", after).await.status, StatusCode::ACCEPTED);
}

async fn put_item(app: &TestApp, item: Value) {
    let store = &app.stack.app.store;
    let attribute = |v: &Value| match v {
        Value::String(s) => AttributeValue::S(s.clone()),
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Array(items) => {
            AttributeValue::L(items.iter().map(|i| AttributeValue::S(i.as_str().unwrap().into())).collect())
        }
        _ => AttributeValue::Null(true),
    };
    let item = item.as_object().unwrap().iter().map(|(k, v)| (k.clone(), attribute(v))).collect();
    store.client().put_item().table_name(store.table()).set_item(Some(item)).send().await.unwrap();
}

#[tokio::test]
async fn no_input_crashes_a_function() {
    let app = app().await;
    open_post(&app, "fine").await;
    // Dates outside the years the API takes are a 422, for a new post and an edit.
    for date in ["9999-12-30T00:00:00Z", "1969-12-31T00:00:00Z"] {
        let post = json!({"slug": "far", "title": "T", "body": "B", "author": "M", "published_at": date});
        let refused = app.create_post(post).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{date}");
        assert!(refused.body["error"]["fields"]["published_at"].is_array());
        let edit = json!({"title": "T", "body": "B", "author": "M", "published_at": date});
        let refused = app.send(app.admin(Method::PUT, "/posts/fine").json(&edit)).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{date}");
    }
    // A post an older build stored with such a date answers a JSON 500, every time,
    // and the function goes on serving everything else.
    put_item(
        &app,
        json!({"PK": "POST#stored", "SK": "#META", "GSI1PK": "POSTS", "GSI1SK": "9999-12-30T00:00:00Z#stored",
        "slug": "stored", "title": "T", "author": "M", "tags": [], "published_at": "9999-12-30T00:00:00Z",
        "comments_close_after_days": 60, "comment_count": 0, "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z", "version": 1, "deleted": false}),
    )
    .await;
    for _ in 0..2 {
        let broken = app.get("/posts").await;
        assert_eq!(broken.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(broken.code(), "internal");
    }
    assert_eq!(app.get("/posts/fine").await.status, StatusCode::OK);
    // A stored comment whose path is cut short answers 500 when moderated, not a panic.
    put_item(
        &app,
        json!({"PK": "COMMENT#01JDX5Q3K6Y7Z8A9B0C1D2E3F4", "SK": "#META", "post": "fine", "path": "C#x", "depth": 1}),
    )
    .await;
    put_item(
        &app,
        json!({"PK": "POST#fine", "SK": "C#x", "id": "01JDX5Q3K6Y7Z8A9B0C1D2E3F4", "post": "fine", "depth": 1,
        "author": "A", "body": "b", "body_html": "b", "created_at": "2026-01-01T00:00:00Z", "deleted": false,
        "is_post_author": false, "status": "approved", "reply_count": 0}),
    )
    .await;
    let broken = app.send(app.admin(Method::POST, "/admin/comments/01JDX5Q3K6Y7Z8A9B0C1D2E3F4/delete")).await;
    assert_eq!(broken.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(app.get("/posts/fine/comments").await.status, StatusCode::OK);
}

#[tokio::test]
async fn cursors_cannot_be_forged_or_carried_to_another_list() {
    use base64::Engine;
    let app = app().await;
    for i in 0..3 {
        app.given_post(&format!("p{i}"), "2026-11-01T00:00:00Z", &["t"]).await;
        comment(&app, "p0", json!({"author": format!("A{i}"), "body": format!("c{i}")})).await;
    }
    let encode = |json: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
    // A key outside the list's range, with or without a made-up tag.
    let outside = encode(r##"{"GSI1PK":"POSTS","GSI1SK":"zzz","PK":"POST#x","SK":"#META"}"##);
    let thread_outside = encode(r##"{"PK":"POST#p0","SK":"#META"}"##);
    for path in [
        format!("/posts?cursor={outside}"),
        format!("/posts?cursor={outside}.AAAAAAAAAAAAAAAAAAAAAA"),
        format!("/posts/p0/comments?cursor={thread_outside}"),
        format!("/posts/p0/comments?cursor={thread_outside}.AAAAAAAAAAAAAAAAAAAAAA"),
    ] {
        let answer = app.get(&path).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{path}: {}", answer.body);
    }
    // A real cursor works in its list and nowhere else.
    let posts = app.get("/posts?limit=1").await;
    let cursor = posts.body["next_cursor"].as_str().unwrap().to_owned();
    assert_eq!(app.get(&format!("/posts?limit=1&cursor={cursor}")).await.status, StatusCode::OK);
    assert_eq!(app.get(&format!("/posts?tag=t&limit=1&cursor={cursor}")).await.status, StatusCode::BAD_REQUEST);
    let thread = app.get("/posts/p0/comments?limit=1").await;
    let cursor = thread.body["next_cursor"].as_str().unwrap().to_owned();
    assert_eq!(app.get(&format!("/posts/p0/comments?limit=1&cursor={cursor}")).await.status, StatusCode::OK);
    assert_eq!(
        app.get(&format!("/posts/p0/comments?limit=1&sort=newest&cursor={cursor}")).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(app.get(&format!("/posts/p1/comments?limit=1&cursor={cursor}")).await.status, StatusCode::BAD_REQUEST);
    // A public signer cursor carries no key that is the same in another campaign.
    petition(&app, "first").await;
    petition(&app, "second").await;
    let mut keys = Vec::new();
    for slug in ["first", "second"] {
        for email in ["same@example.org", "other@example.org"] {
            sign(&app, slug, signature("Same", email, true)).await;
            let mail = mails_to(&app, email).await.into_iter().find(|m| m.subject.contains("Do not send")).unwrap();
            let token = token_of(&mail);
            app.send(app.http.post(app.url(&format!("/confirm/{token}"))).json(&json!({"public": true}))).await;
        }
        let page = app.get(&format!("/petitions/{slug}/signatures?limit=1")).await;
        let cursor = page.body["next_cursor"].as_str().unwrap().to_owned();
        let payload =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor.split('.').next().unwrap()).unwrap();
        let key: Value = serde_json::from_slice(&payload).unwrap();
        keys.push(key["SK"].as_str().unwrap().to_owned());
    }
    assert_ne!(keys[0], keys[1], "{keys:?}");
}

#[tokio::test]
async fn erasing_a_signup_erases_every_trace_of_the_person() {
    let app = app().await;
    petition(&app, "erase-me").await;
    let email = "leaving@example.org";
    sign(&app, "erase-me", signature("Leaving", email, true)).await;
    let first = token_of(&mails_to(&app, email).await[0]);
    // An hour later the person asks again, and gets a second link.
    app.stack.app.clock.advance(::time::Duration::minutes(61));
    let store = &app.stack.app.store;
    sign(&app, "erase-me", signature("Leaving", email, true)).await;
    let mails = mails_to(&app, email).await;
    assert_eq!(mails.len(), 2);
    let second = token_of(&mails[0]);
    assert_ne!(first, second);
    let confirmed =
        app.send(app.http.post(app.url(&format!("/confirm/{second}"))).json(&json!({"public": true}))).await;
    assert_eq!(confirmed.status, StatusCode::OK);
    // Someone else stays.
    sign(&app, "erase-me", signature("Staying", "staying@example.org", true)).await;
    let stays = token_of(&mails_to(&app, "staying@example.org").await[0]);
    app.send(app.http.post(app.url(&format!("/confirm/{stays}")))).await;

    let erased = app.send(app.http.delete(app.url(&format!("/signups/{first}")))).await;
    assert_eq!(erased.status, StatusCode::NO_CONTENT, "any of the person's links erases: {}", erased.body);
    for token in [&first, &second] {
        assert_eq!(app.get(&format!("/confirm/{token}")).await.status, StatusCode::NOT_FOUND);
        assert_eq!(
            app.send(app.http.delete(app.url(&format!("/signups/{token}")))).await.status,
            StatusCode::NOT_FOUND
        );
    }
    assert_eq!(app.get("/petitions/erase-me/count").await.body["signature_count"], 1);
    assert_eq!(public_names(&app, "/petitions/erase-me/signatures").await, Vec::<String>::new());
    // Nothing in the table holds the address, its keys, or points at the person.
    let salt = &app.stack.app.config.ip_hash_salt;
    let parsed = app::comment::Email::parse(email).unwrap();
    let slug = app::post::Slug::parse("erase-me").unwrap();
    let signer = app::campaign::signer_key(&parsed, salt, app::campaign::Kind::Petition, &slug);
    let address = app::campaign::address_key(&parsed, salt);
    let hashes = [app::config::sha256_hex(first.as_bytes()), app::config::sha256_hex(second.as_bytes())];
    let items = store.client().scan().table_name(store.table()).send().await.unwrap();
    for item in items.items() {
        let text = format!("{item:?}");
        for trace in [email, "Leaving", &signer, &address, &hashes[0], &hashes[1]] {
            assert!(!text.contains(trace), "{trace} is still in {text}");
        }
    }
}

#[tokio::test]
async fn a_deleted_post_takes_its_comment_ids_with_it() {
    let app = app().await;
    open_post(&app, "recycled").await;
    let old = comment(&app, "recycled", json!({"author": "Old", "body": "first on the old post"})).await;
    let old_id = old.body["comment"]["id"].as_str().unwrap().to_owned();
    assert_eq!(app.send(app.admin(Method::DELETE, "/posts/recycled")).await.status, StatusCode::NO_CONTENT);
    open_post(&app, "recycled").await;
    let new = comment(&app, "recycled", json!({"author": "New", "body": "first on the new post"})).await;
    assert_eq!(new.body["comment"]["number"], 1, "the same place in the thread as the old one");
    for action in ["approve", "spam", "delete"] {
        let answer = app.send(app.admin(Method::POST, &format!("/admin/comments/{old_id}/{action}"))).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{action}");
    }
    assert_eq!(authors(&app.get("/posts/recycled/comments").await.body), ["New"]);
}

#[tokio::test]
async fn the_export_pages_through_any_number_of_signers() {
    let app = app().await;
    petition(&app, "big").await;
    // Confirmed signups written straight to their shards, as 600 confirmations would,
    // each with a long comment so that pages also stop at their size.
    let store = &app.stack.app.store;
    let big = app::post::Slug::parse("big").unwrap();
    let mut requests = Vec::new();
    for i in 0..600 {
        let signer = app::config::sha256_hex(format!("signer {i}").as_bytes());
        let shard = app::store::shard_of(&signer);
        let s = |v: &str| AttributeValue::S(v.to_owned());
        let item = std::collections::HashMap::from([
            ("PK".to_owned(), s(&keys::shard(app::campaign::Kind::Petition, &big, shard))),
            ("SK".to_owned(), s(&keys::signup(&signer))),
            ("name".to_owned(), s(if i == 7 { "=cmd()" } else { "Signer" })),
            ("email".to_owned(), s(&format!("signer{i}@example.org"))),
            ("country".to_owned(), AttributeValue::Null(true)),
            ("postcode".to_owned(), AttributeValue::Null(true)),
            ("comment".to_owned(), s(&"x".repeat(5_000))),
            ("amount".to_owned(), AttributeValue::Null(true)),
            ("public".to_owned(), AttributeValue::Bool(false)),
            ("token_hash".to_owned(), s("t")),
            ("consent_text".to_owned(), s("c")),
            ("consent_version".to_owned(), s("v")),
            ("consented_at".to_owned(), s("2026-11-01T00:00:00Z")),
            ("confirmed_at".to_owned(), s("2026-11-01T00:00:00Z")),
        ]);
        requests.push(
            aws_sdk_dynamodb::types::WriteRequest::builder()
                .put_request(aws_sdk_dynamodb::types::PutRequest::builder().set_item(Some(item)).build().unwrap())
                .build(),
        );
    }
    for chunk in requests.chunks(25) {
        store.client().batch_write_item().request_items(store.table(), chunk.to_vec()).send().await.unwrap();
    }
    let mut emails = std::collections::BTreeSet::new();
    let mut pages = 0;
    let mut next = Some("/admin/petitions/big/signatures.csv?limit=5000".to_owned());
    let mut headers = 0;
    while let Some(path) = next.take() {
        let response = app.admin(Method::GET, &path).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        next = response.headers().get("link").map(|link| {
            let link = link.to_str().unwrap();
            link[link.find('<').unwrap() + 1..link.find('>').unwrap()].to_owned()
        });
        let csv = response.text().await.unwrap();
        assert!(csv.len() <= app::signups::MAX_EXPORT_BYTES, "a page of {} bytes", csv.len());
        for line in csv.lines() {
            if line.starts_with("name,email") {
                headers += 1;
                continue;
            }
            assert!(!line.starts_with("\"="), "formula-safe: {line}");
            emails.insert(line.split(',').nth(1).unwrap().to_owned());
        }
        pages += 1;
        assert!(pages < 50, "the pages end");
    }
    assert_eq!(emails.len(), 600, "every signer once");
    assert_eq!(headers, 1, "the header on the first page only");
    assert!(pages >= 2, "600 rows of 5 KB do not fit one answer");
    let bad =
        app.send(app.admin(Method::GET, "/admin/petitions/big/signatures.csv?cursor=e30.AAAAAAAAAAAAAAAAAAAAAA")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn confirmation_and_erasure_pages_cannot_be_framed() {
    let app = app().await;
    petition(&app, "framed").await;
    sign(&app, "framed", signature("A", "framed@example.org", false)).await;
    let token = token_of(&mails_to(&app, "framed@example.org").await[0]);
    for path in [format!("/confirm/{token}"), format!("/confirm/{}", "0".repeat(64))] {
        let response = app.http.get(app.url(&path)).send().await.unwrap();
        let csp = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(response.headers()["x-frame-options"], "DENY");
    }
}
