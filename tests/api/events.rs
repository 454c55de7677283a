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

async fn pledge(app: &TestApp, slug: &str, threshold: u64, deadline: &str) {
    let body = json!({
        "slug": slug, "title": "$3 for the fund", "body": "If others will.", "threshold": threshold,
        "deadline": deadline, "suggested_amount": 3,
        "fulfilment_text": "Give at the fund's page and write PLEDGE in the note.",
        "fulfilment_url": "https://fund.example/give"
    });
    let created = app.send(app.admin(Method::POST, "/pledges").json(&body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["fulfilment_url"], "https://fund.example/give");
}

/// Signs `email` up to the pledge and confirms through the mailed link.
async fn pledge_and_confirm(app: &TestApp, slug: &str, email: &str) {
    let body = json!({"name": "Signer", "email": email, "amount": 5, "public": false, "consent": true});
    let answer = app.send(app.http.post(app.url(&format!("/pledges/{slug}/signups"))).json(&body)).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
    let link = mails_to(app, email).await.into_iter().find(|m| m.subject.contains("confirm")).expect("a link").links[0]
        .clone();
    let confirmed = app.send(app.http.post(link)).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
}

async fn outcome_mails(app: &TestApp, email: &str, subject: &str) -> Vec<app::mail::Mail> {
    mails_to(app, email).await.into_iter().filter(|m| m.subject.contains(subject)).collect()
}

#[tokio::test]
async fn a_pledge_that_reaches_its_threshold_tells_every_signer_how_to_give_once() {
    let app = app().await;
    pledge(&app, "three", 3, "2099-01-01T00:00:00Z").await;
    let signers = ["one@example.org", "two@example.org", "three@example.org"];
    for (i, email) in signers.iter().enumerate() {
        pledge_and_confirm(&app, "three", email).await;
        let told: usize = futures::future::join_all(signers.iter().map(|e| outcome_mails(&app, e, "It worked")))
            .await
            .iter()
            .map(Vec::len)
            .sum();
        assert_eq!(told, if i < 2 { 0 } else { 3 }, "nobody is told before the threshold, everyone at it");
    }
    for email in signers {
        let mails = outcome_mails(&app, email, "It worked").await;
        assert_eq!(mails.len(), 1, "{email}");
        assert!(mails[0].text.contains("Give at the fund's page"), "{}", mails[0].text);
        assert!(mails[0].text.contains("You pledged 5 USD"), "{}", mails[0].text);
        assert_eq!(mails[0].links, ["https://fund.example/give"]);
        assert!(!mails[0].text.contains("Signer"), "no signer text in the mail");
    }
    assert_eq!(app.get("/pledges/three").await.body["status"], "succeeded");

    // A fourth signer is told on confirming; redelivering everything sends nothing again.
    pledge_and_confirm(&app, "three", "four@example.org").await;
    assert_eq!(outcome_mails(&app, "four@example.org", "It worked").await.len(), 1);
    let sent = app.stack.mails().await.len();
    for batch in app.stack.delivery.batches() {
        app.stack.events.handle(batch).await.unwrap();
    }
    app.stack.settle().await;
    assert_eq!(app.stack.mails().await.len(), sent, "a redelivered stream sends nothing twice");
    let job = items_under(&app, keys::JOB_PREFIX).await;
    assert_eq!(job.len(), 1);
    assert_eq!(job[0]["done"].as_bool().unwrap(), &true);
    assert_eq!(job[0]["queued"].as_n().unwrap(), "3");
}

#[tokio::test]
async fn a_pledge_whose_deadline_passes_short_tells_each_signer_they_owe_nothing() {
    let app = app().await;
    let deadline = app::time::format(app.stack.app.clock.now() + time::Duration::days(2));
    pledge(&app, "short", 5, &deadline).await;
    for email in ["a@example.org", "b@example.org"] {
        pledge_and_confirm(&app, "short", email).await;
    }
    let early = app.stack.fire_schedule().await.unwrap();
    assert_eq!(early["settled"], 0, "not before the deadline: {early}");
    app.stack.app.clock.advance(time::Duration::days(3));
    let swept = app.stack.fire_schedule().await.unwrap();
    assert_eq!(swept["settled"], 1, "{swept}");
    app.stack.fire_schedule().await.unwrap();
    for email in ["a@example.org", "b@example.org"] {
        let mails = outcome_mails(&app, email, "did not reach").await;
        assert_eq!(mails.len(), 1, "{email}: once, however often the schedule runs");
        assert!(mails[0].text.contains("You owe nothing"), "{}", mails[0].text);
        assert!(outcome_mails(&app, email, "It worked").await.is_empty());
    }
    let pledge = app.get("/pledges/short").await;
    assert_eq!((pledge.body["status"].as_str(), pledge.body["open"].as_bool()), (Some("failed"), Some(false)));
}

#[tokio::test]
async fn a_job_pages_through_every_shard_and_within_one() {
    let app = app().await;
    pledge(&app, "paged", 100, "2099-01-01T00:00:00Z").await;
    let signers: Vec<String> = (0..5).map(|i| format!("paged-{i}@example.org")).collect();
    for email in &signers {
        pledge_and_confirm(&app, "paged", email).await;
    }
    let store = &app.stack.app.store;
    let slug = app::post::Slug::parse("paged").unwrap();
    assert!(store.settle_pledge(&slug, app::store::Outcome::Succeeded, app.stack.app.clock.now()).await.unwrap());
    assert!(!store.settle_pledge(&slug, app::store::Outcome::Failed, app.stack.app.clock.now()).await.unwrap());
    // Walked a signup at a time, every signup comes once, in order of shard.
    let mut job = store.job("pledge-succeeded#paged").await.unwrap().expect("settling started the job");
    let mut seen = Vec::new();
    loop {
        let (page, next) = store.job_page(&job, 1).await.unwrap();
        assert!(page.len() <= 1);
        seen.extend(page.into_iter().map(|s| s.email));
        match next {
            app::store::Next::At { shard, after } => {
                assert!(shard >= job.shard);
                (job.shard, job.after) = (shard, after);
            }
            app::store::Next::Done => break,
        }
    }
    seen.sort();
    assert_eq!(seen, signers);
    // And the job itself mailed each of them once.
    for email in &signers {
        assert_eq!(outcome_mails(&app, email, "It worked").await.len(), 1, "{email}");
    }
}

#[tokio::test]
async fn the_demo_pledge_succeeds_with_two_more_signups_and_mails_all_six() {
    let app = app().await;
    local_stack::seed::seed(&app.stack.app).await.unwrap();
    let slug = local_stack::seed::SMALL_PLEDGE;
    assert_eq!(app.get(&format!("/pledges/{slug}")).await.body["status"], "open");
    for email in ["fifth@example.org", "sixth@example.org"] {
        pledge_and_confirm(&app, slug, email).await;
    }
    assert_eq!(app.get(&format!("/pledges/{slug}")).await.body["status"], "succeeded");
    let told: Vec<String> = app
        .stack
        .mails()
        .await
        .into_iter()
        .filter(|m| m.subject.contains("It worked"))
        .map(|m| {
            assert!(m.text.contains("lawyers' fund by bank transfer"), "{}", m.text);
            m.to
        })
        .collect();
    assert_eq!(told.len(), 6, "the four seeded signers and the two new ones: {told:?}");
}

#[tokio::test]
async fn a_petitions_organiser_hears_of_each_milestone_and_the_goal_once() {
    let app = app().await;
    let body = json!({"slug": "goal", "title": "Free them", "body": "B", "target": "T", "goal": 3,
        "milestones": [2, 1000], "organiser_email": "organiser@example.org"});
    let created = app.send(app.admin(Method::POST, "/petitions").json(&body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["milestones"], json!([2, 1000]));
    assert!(created.body.get("organiser_email").is_none(), "never shown");
    for i in 0..4 {
        let email = format!("signer-{i}@example.org");
        sign(&app, "goal", &email).await;
        let link = mails_to(&app, &email).await[0].links[0].clone();
        assert_eq!(app.send(app.http.post(link)).await.status, StatusCode::OK);
    }
    let told: Vec<String> =
        mails_to(&app, "organiser@example.org").await.into_iter().map(|m| m.subject).rev().collect();
    assert_eq!(told, ["2 signatures: Free them", "Goal reached: Free them"]);
}

/// One call a receiver took: its headers (names lowercased) and body.
type Call = (Vec<(String, String)>, String);

/// A webhook receiver on 127.0.0.1: records every call's headers and body, and answers
/// 500 to the first `failing` calls.
struct Receiver {
    url: String,
    calls: std::sync::Arc<tokio::sync::Mutex<Vec<Call>>>,
}

async fn receiver(failing: usize) -> Receiver {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    let calls = std::sync::Arc::new(tokio::sync::Mutex::new(Vec::new()));
    let seen = calls.clone();
    let answered = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            let (seen, answered) = (seen.clone(), answered.clone());
            tokio::spawn(async move {
                let mut buffer = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let Ok(read) = socket.read(&mut chunk).await else { return };
                    if read == 0 {
                        return;
                    }
                    buffer.extend_from_slice(&chunk[..read]);
                    let text = String::from_utf8_lossy(&buffer).to_string();
                    let Some((head, body)) = text.split_once("\r\n\r\n") else { continue };
                    let headers: Vec<(String, String)> = head
                        .lines()
                        .skip(1)
                        .filter_map(|l| l.split_once(": ").map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned())))
                        .collect();
                    let length: usize =
                        headers.iter().find(|(k, _)| k == "content-length").map_or(0, |(_, v)| v.parse().unwrap());
                    if body.len() < length {
                        continue;
                    }
                    let n = answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let status = if n < failing { "500 Internal Server Error" } else { "200 OK" };
                    if n >= failing {
                        seen.lock().await.push((headers, body.to_owned()));
                    }
                    let reply = format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                    let _ = socket.write_all(reply.as_bytes()).await;
                    return;
                }
            });
        }
    });
    Receiver { url, calls }
}

#[tokio::test]
async fn webhooks_are_signed_retried_delivered_once_and_carry_no_address() {
    let hooks = receiver(2).await;
    let url = hooks.url.clone();
    let options = local_stack::Options { manual_schedules: true, ..Default::default() };
    let app = TestApp::spawn_with_options(
        move |config| {
            config.writes_per_minute = 100_000;
            config.webhook = Some(app::config::Webhook { url, secret: "whsec-test".into(), include_email: false });
        },
        options,
    )
    .await;
    pledge(&app, "hooked", 1, "2099-01-01T00:00:00Z").await;
    pledge_and_confirm(&app, "hooked", "hooked@example.org").await;
    let post = crate::helpers::post_body("hooked-post", "2026-11-30T10:00:00Z", &[]);
    assert_eq!(app.create_post(post).await.status, StatusCode::CREATED);
    let comment = json!({"author": "A", "body": "Hello"});
    assert_eq!(
        app.send(app.http.post(app.url("/posts/hooked-post/comments")).json(&comment)).await.status,
        StatusCode::CREATED
    );
    app.stack.settle().await;
    // Redelivered: nothing is sent twice.
    for batch in app.stack.delivery.batches() {
        app.stack.events.handle(batch).await.unwrap();
    }
    app.stack.settle().await;

    let calls = hooks.calls.lock().await.clone();
    let mut events: Vec<String> = Vec::new();
    for (headers, body) in &calls {
        let header = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap();
        // The receiver checks the signature as the README says.
        let signature = header("rally-signature");
        let at: i64 = signature.split(',').next().unwrap().trim_start_matches("t=").parse().unwrap();
        assert_eq!(signature, ::events::webhooks::signature("whsec-test", at, body), "{body}");
        assert!((app.stack.app.clock.now().unix_timestamp() - at).abs() < 300, "a fresh timestamp");
        let event: Value = serde_json::from_str(body).unwrap();
        assert_eq!(event["type"].as_str().unwrap(), header("rally-event-type"));
        assert_eq!(event["id"].as_str().unwrap(), header("rally-event-id"));
        assert!(!body.contains("hooked@example.org"), "no signer's address unless configured: {body}");
        events.push(event["type"].as_str().unwrap().to_owned());
    }
    events.sort();
    assert_eq!(events, ["comment.created", "pledge.succeeded", "signup.confirmed"], "each once, after 2 failures");
}

#[tokio::test]
async fn a_bounce_or_a_complaint_stops_all_mail_and_the_export_says_why() {
    let app = app().await;
    pledge(&app, "fed-back", 2, "2099-01-01T00:00:00Z").await;
    for email in [local_stack::SIMULATOR_BOUNCE, local_stack::SIMULATOR_COMPLAINT] {
        // The confirmation goes out; SES then reports the address, which is suppressed.
        pledge_and_confirm(&app, "fed-back", email).await;
    }
    // The pledge succeeded, but neither address is mailed again.
    assert_eq!(app.get("/pledges/fed-back").await.body["status"], "succeeded");
    for email in [local_stack::SIMULATOR_BOUNCE, local_stack::SIMULATOR_COMPLAINT] {
        assert!(outcome_mails(&app, email, "It worked").await.is_empty(), "{email}");
    }
    let claims = items_under(&app, "SENT#pledge-succeeded#").await;
    assert_eq!(claims.len(), 2);
    assert!(
        claims.iter().all(|c| c["state"].as_s().unwrap() == "refused" && c["reason"].as_s().unwrap() == "suppressed")
    );
    let response = app.admin(Method::GET, "/admin/pledges/fed-back/signups.csv").send().await.unwrap();
    let csv = response.text().await.unwrap();
    assert!(csv.lines().next().unwrap().ends_with(",mail_status"), "{csv}");
    let status_of = |email: &str| {
        csv.lines().find(|l| l.contains(email)).unwrap().rsplit(',').next().unwrap().trim_matches('"').to_owned()
    };
    assert_eq!(status_of(local_stack::SIMULATOR_BOUNCE), "bounced");
    assert_eq!(status_of(local_stack::SIMULATOR_COMPLAINT), "complained");
}

#[test]
fn the_local_sns_event_is_the_one_lambda_receives() {
    let event = local_stack::sns_event("MailFeedbackTopic", &json!({"eventType": "Bounce"}));
    let parsed: aws_lambda_events::event::sns::SnsEvent = serde_json::from_value(event).unwrap();
    assert_eq!(parsed.records[0].sns.topic_arn, "arn:aws:sns:us-east-1:000000000000:MailFeedbackTopic");
    assert_eq!(parsed.records[0].sns.message, r#"{"eventType":"Bounce"}"#);
}

/// Signs `email` up to the petition and confirms with `choices` (JSON).
async fn sign_and_confirm(app: &TestApp, slug: &str, email: &str, request: Value, choices: Value) {
    let mut body = json!({"name": "Signer", "email": email, "public": false, "consent": true});
    body.as_object_mut().unwrap().extend(request.as_object().unwrap().clone());
    let answer = app.send(app.http.post(app.url(&format!("/petitions/{slug}/signatures"))).json(&body)).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
    let link = mails_to(app, email).await[0].links[0].clone();
    let confirmed = app.send(app.http.post(link).json(&choices)).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
}

async fn progress_of(app: &TestApp, id: &str) -> Value {
    app.stack.settle().await;
    let answer = app.send(app.admin(Method::GET, &format!("/admin/updates/{id}"))).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.body
}

#[tokio::test]
async fn an_update_reaches_only_the_confirmed_signers_who_asked_for_updates() {
    let app = app().await;
    petition(&app, "news").await;
    sign_and_confirm(&app, "news", "wants@example.org", json!({}), json!({"updates": true})).await;
    sign_and_confirm(&app, "news", "quiet@example.org", json!({}), json!({})).await;
    // Asking when signing is not enough: the mailbox's holder opts in when confirming.
    sign_and_confirm(&app, "news", "asked@example.org", json!({"updates": true}), json!({})).await;
    sign(&app, "news", "unconfirmed@example.org").await;

    let update =
        json!({"subject": "We delivered it", "body": "The petition went to the ministry today.\n\nThank you."});
    let sent = app.send(app.admin(Method::POST, "/admin/petitions/news/updates").json(&update)).await;
    assert_eq!(sent.status, StatusCode::ACCEPTED, "{}", sent.body);
    let id = sent.body["id"].as_str().unwrap().to_owned();
    let progress = progress_of(&app, &id).await;
    assert_eq!(
        (
            progress["status"].as_str(),
            progress["queued"].as_u64(),
            progress["sent"].as_u64(),
            progress["pending"].as_u64()
        ),
        (Some("done"), Some(1), Some(1), Some(0)),
        "{progress}"
    );
    let mails = mails_to(&app, "wants@example.org").await;
    assert_eq!(mails[0].subject, "We delivered it");
    assert!(mails[0].text.starts_with("The petition went to the ministry today."), "{}", mails[0].text);
    assert_eq!(mails[0].headers["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click");
    for email in ["quiet@example.org", "asked@example.org", "unconfirmed@example.org"] {
        assert!(mails_to(&app, email).await.iter().all(|m| m.subject != "We delivered it"), "{email}");
    }
    // Not for strangers, and not to a campaign that is not there.
    assert_eq!(
        app.send(app.http.post(app.url("/admin/petitions/news/updates")).json(&update)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.send(app.admin(Method::POST, "/admin/petitions/nothing/updates").json(&update)).await.status,
        StatusCode::NOT_FOUND
    );
    let bad =
        app.send(app.admin(Method::POST, "/admin/petitions/news/updates").json(&json!({"subject": "a\nb"}))).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body["error"]["fields"]["body"].is_array() && bad.body["error"]["fields"]["subject"].is_array());
}

#[tokio::test]
async fn mail_goes_out_no_faster_than_the_mail_rate() {
    let options = local_stack::Options { manual_schedules: true, ..Default::default() };
    let app = TestApp::spawn_with_options(
        |config| {
            config.writes_per_minute = 100_000;
            config.mail_rate = 2;
        },
        options,
    )
    .await;
    petition(&app, "paced").await;
    for i in 0..5 {
        sign_and_confirm(&app, "paced", &format!("paced-{i}@example.org"), json!({}), json!({"updates": true})).await;
    }
    let update = json!({"subject": "Paced", "body": "One at a time."});
    let sent = app.send(app.admin(Method::POST, "/admin/petitions/paced/updates").json(&update)).await;
    let id = sent.body["id"].as_str().unwrap().to_owned();
    assert_eq!(progress_of(&app, &id).await["sent"], 5);
    let mut per_second = std::collections::BTreeMap::<String, usize>::new();
    for mail in app.stack.mails().await.iter().filter(|m| m.subject == "Paced") {
        *per_second.entry(mail.sent_at.clone()).or_default() += 1;
    }
    assert!(per_second.values().all(|n| *n <= 2), "{per_second:?}");
    assert!(per_second.len() >= 3, "five mails at two a second take three seconds: {per_second:?}");
}

#[tokio::test]
async fn a_pledges_update_reaches_its_signers_who_asked_and_an_erased_one_is_gone() {
    let app = app().await;
    pledge(&app, "updates-fund", 100, "2099-01-01T00:00:00Z").await;
    let mut links = Vec::new();
    for (email, choices) in
        [("keen@example.org", json!({"updates": true})), ("leaving@example.org", json!({"updates": true}))]
    {
        let body = json!({"name": "Signer", "email": email, "amount": 5, "public": true, "consent": true});
        let answer = app.send(app.http.post(app.url("/pledges/updates-fund/signups")).json(&body)).await;
        assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
        let link = mails_to(&app, email).await[0].links.clone();
        let confirmed = app.send(app.http.post(&link[0]).json(&choices)).await;
        assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
        links.push(link);
    }
    // The second signer erases the signup with the token of their mail (the count drops).
    let token = links[1][0].rsplit('/').next().unwrap().to_owned();
    let erased = app.send(app.http.delete(app.url(&format!("/signups/{token}")))).await;
    assert_eq!(erased.status, StatusCode::NO_CONTENT, "{}", erased.body);
    let shown = app.send(app.http.get(app.url("/pledges/updates-fund"))).await;
    assert_eq!(shown.body["signup_count"], 1, "{}", shown.body);

    let update = json!({"subject": "The lawyers are hired", "body": "Thanks to you, the case goes ahead."});
    let sent = app.send(app.admin(Method::POST, "/admin/pledges/updates-fund/updates").json(&update)).await;
    assert_eq!(sent.status, StatusCode::ACCEPTED, "{}", sent.body);
    let progress = progress_of(&app, sent.body["id"].as_str().unwrap()).await;
    assert_eq!((progress["status"].as_str(), progress["sent"].as_u64()), (Some("done"), Some(1)), "{progress}");
    assert!(mails_to(&app, "keen@example.org").await.iter().any(|m| m.subject == "The lawyers are hired"));
    assert!(mails_to(&app, "leaving@example.org").await.iter().all(|m| m.subject != "The lawyers are hired"));
}
