//! Reply notifications, the moderator's notice of held comments, and the links in mail
//! that confirm or stop them, through the local stack and its stream.

use app::mail::Mail;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Answer, TestApp};

async fn app() -> TestApp {
    let options = local_stack::Options { manual_schedules: true, ..Default::default() };
    TestApp::spawn_with_options(
        |config| {
            config.writes_per_minute = 100_000;
            config.moderator_email = Some(app::comment::Email::parse("blogger@blog.example").unwrap());
        },
        options,
    )
    .await
}

async fn open_post(app: &TestApp, slug: &str) {
    let mut post = crate::helpers::post_body(slug, "2026-11-30T10:00:00Z", &[]);
    post["comments_close_after_days"] = Value::Null;
    post["title"] = json!("Free them now");
    assert_eq!(app.create_post(post).await.status, StatusCode::CREATED);
}

async fn comment(app: &TestApp, slug: &str, body: Value) -> Answer {
    app.send(app.http.post(app.url(&format!("/posts/{slug}/comments"))).json(&body)).await
}

async fn posted(app: &TestApp, slug: &str, body: Value) -> String {
    let answer = comment(app, slug, body).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    answer.body["comment"]["id"].as_str().unwrap().to_owned()
}

async fn mails_to(app: &TestApp, to: &str) -> Vec<Mail> {
    app.stack.mails().await.into_iter().filter(|m| m.to == to).collect()
}

fn path_of(link: &str) -> String {
    link.split_once("://").and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_owned())).unwrap()
}

/// The author of comment `id` asks for replies and confirms through the opt-in mail.
async fn confirmed_author(app: &TestApp, slug: &str, email: &str) -> String {
    let id =
        posted(app, slug, json!({"author": "Ji-woo", "body": "Who can help?", "email": email, "notify_replies": true}))
            .await;
    let optin = mails_to(app, email).await;
    assert_eq!(optin.len(), 1, "one mail to confirm the address");
    let confirm = path_of(&optin[0].links[0]);
    let answer = app.send(app.http.post(app.url(&confirm))).await;
    assert_eq!((answer.status, answer.body["status"].as_str()), (StatusCode::OK, Some("confirmed")), "{}", answer.body);
    id
}

#[tokio::test]
async fn a_reply_notifies_a_confirmed_author_once_and_an_unconfirmed_one_never() {
    let app = app().await;
    open_post(&app, "thread").await;
    let id = posted(
        &app,
        "thread",
        json!({"author": "Ji-woo", "body": "Who can help?", "email": "jiwoo@example.org", "notify_replies": true}),
    )
    .await;
    let optin = mails_to(&app, "jiwoo@example.org").await;
    assert_eq!(optin.len(), 1);
    assert!(optin[0].links[0].contains("/notifications/"));
    // Following the link (as a mail scanner would) changes nothing.
    let page = app.get(&path_of(&optin[0].links[0])).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.as_str().unwrap().contains("<form method=\"post\">"));
    posted(&app, "thread", json!({"author": "Min-jun", "body": "Before confirming", "parent_id": id})).await;
    assert_eq!(mails_to(&app, "jiwoo@example.org").await.len(), 1, "no notification before the address is confirmed");

    let confirmed = app.send(app.http.post(app.url(&path_of(&optin[0].links[0])))).await;
    assert_eq!(confirmed.body["status"], "confirmed");
    let reply =
        posted(&app, "thread", json!({"author": "Min-jun", "body": "I can.\nCall the office.", "parent_id": id})).await;
    let mails = mails_to(&app, "jiwoo@example.org").await;
    assert_eq!(mails.len(), 2, "{mails:?}");
    let note = &mails[0];
    assert!(note.subject.contains("Free them now"), "{}", note.subject);
    assert!(
        note.text.contains("Min-jun replied") && note.text.contains("> I can.\n> Call the office."),
        "{}",
        note.text
    );
    assert!(note.links[0].ends_with(&format!("#comment-{reply}")), "{:?}", note.links);
    let unsubscribe = note.headers["List-Unsubscribe"].trim_matches(['<', '>']).to_owned();
    assert!(unsubscribe.contains("/unsubscribe/"));
    assert_eq!(note.headers["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click");
    assert!(note.text.contains(&unsubscribe), "a visible link too");

    // Every batch delivered again: nothing is sent twice.
    for batch in app.stack.delivery.batches() {
        app.stack.events.handle(batch).await.unwrap();
    }
    assert_eq!(mails_to(&app, "jiwoo@example.org").await.len(), 2);
    // Approving a held reply notifies then.
    let held = comment(
        &app,
        "thread",
        json!({"author": "Spammy", "body": "see https://a.example https://b.example https://c.example", "parent_id": id}),
    )
    .await;
    assert_eq!(held.status, StatusCode::ACCEPTED);
    assert_eq!(mails_to(&app, "jiwoo@example.org").await.len(), 2, "not while it is held");
    let held_id = held.body["comment"]["id"].as_str().unwrap();
    let approve = app.send(app.admin(Method::POST, &format!("/admin/comments/{held_id}/approve"))).await;
    assert_eq!(approve.status, StatusCode::OK);
    let mails = mails_to(&app, "jiwoo@example.org").await;
    assert_eq!(mails.len(), 3);
    assert!(!app::input::contains_web_address(
        &mails[0].text.replace(&unsubscribe, "").replace(&mails[0].links[0], "")
    ));
}

#[tokio::test]
async fn one_click_unsubscribe_stops_every_mail_and_a_get_changes_nothing() {
    let app = app().await;
    open_post(&app, "quiet").await;
    let id = confirmed_author(&app, "quiet", "quiet@example.org").await;
    posted(&app, "quiet", json!({"author": "Min-jun", "body": "First", "parent_id": id})).await;
    let note = mails_to(&app, "quiet@example.org").await.remove(0);
    let unsubscribe = path_of(note.headers["List-Unsubscribe"].trim_matches(['<', '>']));

    let page = app.get(&unsubscribe).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.headers["x-frame-options"] == "DENY");
    posted(&app, "quiet", json!({"author": "Min-jun", "body": "Second", "parent_id": id})).await;
    assert_eq!(mails_to(&app, "quiet@example.org").await.len(), 3, "a GET unsubscribed nothing");

    let one_click = app
        .http
        .post(app.url(&unsubscribe))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click");
    let answer = app.send(one_click).await;
    assert_eq!((answer.status, answer.body["status"].as_str()), (StatusCode::OK, Some("unsubscribed")));
    assert_eq!(app.send(app.http.post(app.url(&unsubscribe))).await.status, StatusCode::OK, "idempotent");
    posted(&app, "quiet", json!({"author": "Min-jun", "body": "Third", "parent_id": id})).await;
    // No Rally mail at all goes there now, not even a petition's confirmation.
    let petition = json!({"slug": "p", "title": "P", "body": "B", "target": "T", "goal": 10});
    assert_eq!(app.send(app.admin(Method::POST, "/petitions").json(&petition)).await.status, StatusCode::CREATED);
    let signup = json!({"name": "Q", "email": "quiet@example.org", "public": false, "consent": true});
    let signed = app.send(app.http.post(app.url("/petitions/p/signatures")).json(&signup)).await;
    assert_eq!(signed.status, StatusCode::ACCEPTED, "the answer is the same as for anyone");
    assert_eq!(mails_to(&app, "quiet@example.org").await.len(), 3, "nothing after unsubscribing");
    // Confirming the old opt-in link does not undo it.
    let optin = mails_to(&app, "quiet@example.org").await.into_iter().last().unwrap();
    let again = app.send(app.http.post(app.url(&path_of(&optin.links[0])))).await;
    assert_eq!(again.body["status"], "not_confirmed");
    // The suppression keeps no address.
    let store = &app.stack.app.store;
    let scan = store.client().scan().table_name(store.table()).send().await.unwrap();
    let mailboxes: Vec<_> = scan
        .items()
        .iter()
        .filter(|i| i.get("PK").and_then(|v| v.as_s().ok()).is_some_and(|pk| pk.starts_with("MAILBOX#")))
        .collect();
    assert_eq!(mailboxes.len(), 1);
    assert!(mailboxes[0].get("email").is_none(), "{:?}", mailboxes[0]);
}

#[tokio::test]
async fn links_this_deployment_did_not_make_do_nothing() {
    let app = app().await;
    open_post(&app, "forged").await;
    confirmed_author(&app, "forged", "real@example.org").await;
    let optin = mails_to(&app, "real@example.org").await.remove(0);
    let token = optin.links[0].rsplit('/').next().unwrap().to_owned();
    let (address, tag) = token.split_once('.').unwrap();
    let other = format!("{}.{tag}", "0".repeat(64));
    let flipped = format!("{address}.{}", tag.replace(&tag[..1], if &tag[..1] == "a" { "b" } else { "a" }));
    for bad in [other, flipped, "nonsense".into(), format!("{address}.")] {
        for path in [format!("/notifications/{bad}"), format!("/unsubscribe/{bad}")] {
            assert_eq!(app.get(&path).await.status, StatusCode::NOT_FOUND, "{path}");
            assert_eq!(app.send(app.http.post(app.url(&path))).await.status, StatusCode::NOT_FOUND, "{path}");
        }
    }
    // A confirmation token does not unsubscribe, nor the other way round.
    assert_eq!(app.send(app.http.post(app.url(&format!("/unsubscribe/{token}")))).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn asking_for_replies_needs_an_address_and_nobody_is_told_of_their_own() {
    let app = app().await;
    open_post(&app, "self").await;
    let answer = comment(&app, "self", json!({"author": "A", "body": "b", "notify_replies": true})).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer.body["error"]["fields"]["notify_replies"].is_array(), "{}", answer.body);
    let id = confirmed_author(&app, "self", "self@example.org").await;
    posted(
        &app,
        "self",
        json!({"author": "Ji-woo", "body": "Answering myself", "parent_id": id, "email": "self@example.org", "notify_replies": true}),
    )
    .await;
    assert_eq!(mails_to(&app, "self@example.org").await.len(), 1, "only the opt-in");
}

#[tokio::test]
async fn the_moderator_is_told_of_each_held_comment_once_without_its_links() {
    let app = app().await;
    open_post(&app, "held").await;
    let held = comment(
        &app,
        "held",
        json!({"author": "Spammy", "body": "buy at https://a.example https://b.example https://c.example"}),
    )
    .await;
    assert_eq!(held.status, StatusCode::ACCEPTED);
    let notices = mails_to(&app, "blogger@blog.example").await;
    assert_eq!(notices.len(), 1);
    assert!(notices[0].text.contains("Spammy") && notices[0].text.contains("held for review"), "{}", notices[0].text);
    assert!(notices[0].text.contains("console, at /admin"), "it says where to moderate: {}", notices[0].text);
    assert!(!app::input::contains_web_address(&notices[0].text), "{}", notices[0].text);
    posted(&app, "held", json!({"author": "Fine", "body": "No links"})).await;
    assert_eq!(mails_to(&app, "blogger@blog.example").await.len(), 1, "approved comments are not announced");
}

#[tokio::test]
async fn a_stranger_asking_replies_for_someone_elses_address_gets_them_one_mail_at_most() {
    let app = app().await;
    open_post(&app, "abuse").await;
    let mut answers = Vec::new();
    for i in 0..3 {
        let body = json!({"author": format!("Stranger {i}"), "body": format!("Asking {i}"),
            "email": "victim@example.org", "notify_replies": true});
        let answer = comment(&app, "abuse", body).await;
        answers
            .push((answer.status, answer.body["comment"].as_object().map(|c| c.keys().cloned().collect::<Vec<_>>())));
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "every answer alike: {answers:?}");
    let mails = mails_to(&app, "victim@example.org").await;
    assert_eq!(mails.len(), 1, "one opt-in mail however often it is asked");
    // The mail says only what Rally wrote: no commenter's name or text reaches it.
    for written in ["Stranger", "Asking"] {
        assert!(!mails[0].text.contains(written) && !mails[0].subject.contains(written), "{}", mails[0].text);
    }
    // And no comment answer shows the address.
    let thread = app.get("/posts/abuse/comments").await;
    assert!(!thread.body.to_string().contains("victim@example.org"));
}
