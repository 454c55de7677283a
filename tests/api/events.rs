//! The outbound half: requests queue mail in the table, the table's stream carries it to
//! the events function (delivered by the local stack as Lambda delivers it), and each
//! mail goes out exactly once, whatever the stream or the mailer does.

use app::store::keys;
use aws_sdk_dynamodb::types::AttributeValue;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// A stack whose schedule runs only when a test fires it.
async fn app() -> TestApp {
    let options = local_stack::Options { manual_schedules: true, ..Default::default() };
    TestApp::spawn_with_options(|config| config.writes_per_minute = 100_000, options).await
}

async fn petition(app: &TestApp, slug: &str) {
    let body = json!({"slug": slug, "title": "Free them", "body": "Please.", "target": "The Ministry", "goal": 100});
    assert_eq!(app.send(app.admin(Method::POST, "/petitions").json(&body)).await.status, StatusCode::CREATED);
}

async fn sign(app: &TestApp, slug: &str, email: &str) {
    let body = json!({"name": "Ji-woo", "email": email, "public": false, "consent": true});
    let answer = app.send(app.http.post(app.url(&format!("/petitions/{slug}/signatures"))).json(&body)).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
}

async fn mails_to(app: &TestApp, to: &str) -> Vec<app::mail::Mail> {
    app.stack.mails().await.into_iter().filter(|m| m.to == to).collect()
}

/// Every item in the table whose partition key starts with `prefix`.
async fn items_under(app: &TestApp, prefix: &str) -> Vec<std::collections::HashMap<String, AttributeValue>> {
    let store = &app.stack.app.store;
    let scan = store.client().scan().table_name(store.table()).send().await.unwrap();
    scan.items()
        .iter()
        .filter(|item| item.get("PK").and_then(|v| v.as_s().ok()).is_some_and(|pk| pk.starts_with(prefix)))
        .cloned()
        .collect()
}

/// The delivered batch that carried the outbox item of the mail to `to`.
fn batch_with_mail_to(app: &TestApp, to: &str) -> Value {
    app.stack
        .delivery
        .batches()
        .into_iter()
        .find(|batch| batch.to_string().contains(to) && batch.to_string().contains(keys::OUTBOX_PREFIX))
        .expect("the outbox item went through the stream")
}

#[tokio::test]
async fn a_request_queues_its_mail_and_the_events_function_sends_it_once() {
    let app = app().await;
    petition(&app, "queued").await;
    sign(&app, "queued", "reader@example.org").await;
    let mails = mails_to(&app, "reader@example.org").await;
    assert_eq!(mails.len(), 1);
    assert!(mails[0].links[0].contains("/confirm/"));
    // The stream delivered it as Lambda would: a DynamoDBEvent whose records passed the
    // template's filter, and only those.
    let batch = batch_with_mail_to(&app, "reader@example.org");
    let event: aws_lambda_events::event::dynamodb::Event = serde_json::from_value(batch.clone()).unwrap();
    for record in &event.records {
        assert_eq!(record.event_name, "INSERT");
        assert_eq!(record.event_source.as_deref(), Some("aws:dynamodb"));
        let pk = serde_json::to_value(&record.change.keys).unwrap()["PK"]["S"].as_str().unwrap().to_owned();
        assert!(pk.starts_with(keys::OUTBOX_PREFIX), "the filter lets only outbox items through: {pk}");
    }
    // Sent: the outbox is empty and the claim says so.
    assert!(items_under(&app, keys::OUTBOX_PREFIX).await.is_empty(), "a sent mail leaves the outbox");
    let claims = items_under(&app, "SENT#").await;
    assert_eq!(claims.len(), 1);
    assert_eq!(claims[0]["state"].as_s().unwrap(), "sent");

    // The same batch delivered again, as the stream may: nothing is sent twice.
    let answer = app.stack.events.handle(batch).await.unwrap();
    assert_eq!(answer["batchItemFailures"], json!([]));
    assert_eq!(mails_to(&app, "reader@example.org").await.len(), 1, "a redelivered record sends nothing");
    // And the dev outbox shows it with its headers.
    let outbox = app.get("/_dev/outbox").await;
    let shown = &outbox.body["items"][0];
    assert_eq!(shown["headers"]["To"], "reader@example.org");
    assert!(shown["headers"]["Subject"].as_str().unwrap().contains("Free them"));
}

#[tokio::test]
async fn a_mailer_that_fails_for_a_while_loses_and_doubles_nothing() {
    let app = app().await;
    petition(&app, "flaky").await;
    app.stack.outbox.fail_next(3);
    sign(&app, "flaky", "patient@example.org").await;
    assert_eq!(mails_to(&app, "patient@example.org").await.len(), 1, "retried by the stream until it went out");
    assert!(app.stack.delivery.failures().is_empty(), "within the retry limit nothing reaches the failure queue");
}

#[tokio::test]
async fn a_mail_the_stream_gives_up_on_is_sent_by_the_schedule() {
    let app = app().await;
    petition(&app, "outage").await;
    app.stack.outbox.fail_next(usize::MAX);
    sign(&app, "outage", "later@example.org").await;
    assert!(mails_to(&app, "later@example.org").await.is_empty());
    let failures = app.stack.delivery.failures();
    assert_eq!(failures.len(), 1, "past its retries the record went to the failure queue");
    let info = &failures[0]["DDBStreamBatchInfo"];
    assert_eq!(info["batchSize"], 1);
    assert_eq!(failures[0]["requestContext"]["condition"], "RetryAttemptsExhausted");
    assert_eq!(items_under(&app, keys::OUTBOX_PREFIX).await.len(), 1, "the mail is still queued");

    // The mailer is back; the sweep does not touch what is young, then sends it once.
    app.stack.outbox.fail_next(0);
    let young = app.stack.fire_schedule().await.unwrap();
    assert_eq!(young["found"], 0, "{young}");
    app.stack.app.clock.advance(time::Duration::minutes(3));
    let swept = app.stack.fire_schedule().await.unwrap();
    assert_eq!((swept["found"].as_u64(), swept["failed"].as_u64()), (Some(1), Some(0)), "{swept}");
    assert_eq!(mails_to(&app, "later@example.org").await.len(), 1);
    let again = app.stack.fire_schedule().await.unwrap();
    assert_eq!(again["found"], 0, "a sent mail leaves the outbox: {again}");
    assert_eq!(mails_to(&app, "later@example.org").await.len(), 1);
}

#[tokio::test]
async fn an_unreadable_record_fails_alone_and_blocks_nothing() {
    let app = app().await;
    petition(&app, "poison").await;
    // An outbox item no events function can read, written as a bug or corruption would.
    let store = &app.stack.app.store;
    store
        .client()
        .put_item()
        .table_name(store.table())
        .item("PK", AttributeValue::S(format!("{}garbage", keys::OUTBOX_PREFIX)))
        .item("SK", AttributeValue::S(keys::META.into()))
        .item("mail", AttributeValue::N("7".into()))
        .send()
        .await
        .unwrap();
    sign(&app, "poison", "after@example.org").await;
    assert_eq!(mails_to(&app, "after@example.org").await.len(), 1, "the records behind it are delivered");
    let failures = app.stack.delivery.failures();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0]["DDBStreamBatchInfo"]["batchSize"], 1, "bisected down to the one bad record");
}

#[tokio::test]
async fn an_erased_signup_takes_its_queued_mail_with_it() {
    let app = app().await;
    petition(&app, "erased").await;
    sign(&app, "erased", "gone@example.org").await;
    let first = mails_to(&app, "gone@example.org").await;
    let token = first[0].links[0].rsplit('/').next().unwrap().to_owned();
    // An hour on, another request; its mail cannot go out yet.
    app.stack.app.clock.advance(time::Duration::hours(2));
    app.stack.outbox.fail_next(usize::MAX);
    sign(&app, "erased", "gone@example.org").await;
    app.stack.settle().await;
    assert_eq!(items_under(&app, keys::OUTBOX_PREFIX).await.len(), 1);

    let erased = app.send(app.http.delete(app.url(&format!("/signups/{token}")))).await;
    assert_eq!(erased.status, StatusCode::NO_CONTENT, "{}", erased.body);
    app.stack.outbox.fail_next(0);
    app.stack.app.clock.advance(time::Duration::minutes(10));
    app.stack.fire_schedule().await.unwrap();
    assert_eq!(mails_to(&app, "gone@example.org").await.len(), 1, "the erased request's mail never goes out");
    assert!(items_under(&app, keys::OUTBOX_PREFIX).await.is_empty());
    assert!(items_under(&app, "SENT#").await.is_empty(), "nor does a record of having mailed them stay");
}

#[tokio::test]
async fn events_that_are_not_the_functions_fail_loudly() {
    let app = app().await;
    let refused = app.stack.events.handle(json!({"hello": "world"})).await;
    assert!(refused.unwrap_err().to_string().contains("does not handle"));
}
