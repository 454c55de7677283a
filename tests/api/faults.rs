//! Faults: DynamoDB Local (keeping its data on disk) is stopped in the middle of a burst
//! of comments and signups, then started again on the same files. Every request that
//! answered 2xx must be there afterwards; every one that failed must have answered 503
//! `unavailable` (not a 500, not a hang) and left nothing behind: no orphan comment, no
//! signup that was counted or mailed but not stored.
//!
//! The store is reached through a relay that is cut first, the way an outage looks to a
//! client: requests in flight lose their answers (whether or not the store carried them
//! out), new ones find nobody. Only once the emulator has gone quiet is it killed. Killing
//! it under load instead would test the emulator, not us: DynamoDB Local answers a
//! `TransactWriteItems` before its SQLite `COMMIT` has run (it queues the commit without
//! waiting), so a kill at that moment undoes a transaction it has already acknowledged,
//! which DynamoDB never does.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use local_stack::DynamoDbLocal;
use reqwest::StatusCode;
use serde_json::json;
use tokio::sync::Mutex;

use crate::helpers::TestApp;

const REQUESTS: usize = 240;
const WORKERS: usize = 16;

#[derive(Debug)]
struct Outcome {
    comment: bool,
    key: String,
    status: StatusCode,
    code: String,
    /// The store's state when the request was sent and when it was answered.
    sent: usize,
    answered: usize,
}

/// The store's states, in order.
const UP: usize = 0;
const AWAY: usize = 1;
const BACK: usize = 2;

/// A TCP relay to the store on `upstream` that can be cut: a cut drops every connection
/// at once, in whatever state, and refuses new ones until it is mended.
struct Relay {
    endpoint: String,
    cut: watch::Sender<bool>,
}

impl Relay {
    async fn start(upstream: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let (cut, _) = watch::channel(false);
        let watching = cut.clone();
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mut cut = watching.subscribe();
                if *cut.borrow() {
                    continue; // dropped: the client sees its connection closed
                }
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(("127.0.0.1", upstream)).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut.wait_for(|cut| *cut) => {}
                    }
                });
            }
        });
        Self { endpoint, cut }
    }

    fn cut(&self) {
        self.cut.send_replace(true);
    }

    fn mend(&self) {
        self.cut.send_replace(false);
    }
}

#[tokio::test]
async fn a_store_that_dies_mid_burst_loses_no_answered_write_and_keeps_no_failed_one() {
    let dir = std::env::temp_dir().join(format!("rally-faults-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = local_stack::dynamodb::free_port().unwrap();
    let db = DynamoDbLocal::start_on(port, Some(&dir)).expect("DynamoDB Local starts on disk");
    let relay = Arc::new(Relay::start(port).await);
    let endpoint = relay.endpoint.clone();
    let app = Arc::new(
        TestApp::spawn_with_options(
            |config| {
                config.dynamodb_endpoint = Some(endpoint);
                config.writes_per_minute = 1_000_000;
                // A stalled or dead store answers 503 within seconds. A write whose answer
                // was lost asks what became of it until the call's deadline, here longer
                // than the outage this test makes (deployed: 5 s, and the client's retry
                // of a write that did land is harmless: a signup is known by its address,
                // a repeated comment is refused as one).
                config.store_attempt_deadline = Duration::from_secs(2);
                config.store_call_deadline = Duration::from_secs(30);
            },
            local_stack::Options { trust_forwarded_for: true, manual_schedules: true },
        )
        .await,
    );
    let post = json!({"slug": "faults", "title": "Faults", "body": "B", "author": "Min-jun"});
    assert_eq!(app.create_post(post).await.status, StatusCode::CREATED);
    let petition = json!({"slug": "faults-petition", "title": "P", "body": "B", "target": "T", "goal": 1000});
    let created = app.send(app.admin(reqwest::Method::POST, "/petitions").json(&petition)).await;
    assert_eq!(created.status, StatusCode::CREATED);

    // The burst: comments and signups from 16 clients, each request from its own address.
    let next = Arc::new(AtomicUsize::new(0));
    let phase = Arc::new(AtomicUsize::new(UP));
    let answered = Arc::new(AtomicUsize::new(0));
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    // Closed while the store restarts, so the burst does not spend itself on a dead store.
    let (gate, _) = watch::channel(true);
    let gate = Arc::new(gate);
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (app, next, answered, outcomes, phase) =
                (app.clone(), next.clone(), answered.clone(), outcomes.clone(), phase.clone());
            let mut open = gate.subscribe();
            tokio::spawn(async move {
                let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
                loop {
                    open.wait_for(|open| *open).await.unwrap();
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= REQUESTS {
                        break;
                    }
                    let comment = i % 2 == 0;
                    let key =
                        if comment { format!("comment number {i}") } else { format!("signer-{i}@faults.example") };
                    let request = if comment {
                        http.post(app.url("/posts/faults/comments")).json(&json!({"author": "Reader", "body": key}))
                    } else {
                        let body = json!({"name": "Signer", "email": key, "public": false, "consent": true});
                        http.post(app.url("/petitions/faults-petition/signatures")).json(&body)
                    };
                    let sent = phase.load(Ordering::SeqCst);
                    let answer =
                        request.header("x-forwarded-for", format!("10.50.{}.{}", i / 200, i % 200 + 1)).send().await;
                    let answer = answer.expect("every request is answered, none hangs");
                    let status = answer.status();
                    let body: serde_json::Value = answer.json().await.unwrap_or_default();
                    let code = body["error"]["code"].as_str().unwrap_or("").to_owned();
                    let answered_in = phase.load(Ordering::SeqCst);
                    outcomes.lock().await.push(Outcome { comment, key, status, code, sent, answered: answered_in });
                    answered.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();

    // The fault, driven by progress rather than by the clock: once a sixth of the burst
    // has been answered the store goes away (the relay is cut, and the emulator is killed
    // once it has finished what it had received); once 32 more requests have been answered
    // without it, new requests wait while it comes back on the same files.
    let fault = {
        let (answered, gate, relay, phase) = (answered.clone(), gate.clone(), relay.clone(), phase.clone());
        tokio::spawn(async move {
            while answered.load(Ordering::SeqCst) < REQUESTS / 6 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            relay.cut();
            phase.store(AWAY, Ordering::SeqCst);
            let down_at = answered.load(Ordering::SeqCst);
            tokio::time::sleep(Duration::from_secs(1)).await;
            let port = tokio::task::spawn_blocking(move || db.crash()).await.unwrap();
            while answered.load(Ordering::SeqCst) < down_at + 2 * WORKERS {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            gate.send_replace(false);
            let db = tokio::task::spawn_blocking(move || DynamoDbLocal::start_on(port, Some(&dir)))
                .await
                .unwrap()
                .expect("DynamoDB Local starts again on its files");
            relay.mend();
            phase.store(BACK, Ordering::SeqCst);
            gate.send_replace(true);
            db
        })
    };
    for worker in workers {
        worker.await.unwrap();
    }
    let _db = fault.await.unwrap();

    let outcomes = outcomes.lock().await;
    assert_eq!(outcomes.len(), REQUESTS);
    let mut failed = 0;
    for outcome in outcomes.iter() {
        let expected = if outcome.comment { StatusCode::CREATED } else { StatusCode::ACCEPTED };
        if outcome.status != expected {
            assert_eq!(
                (outcome.status, outcome.code.as_str()),
                (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
                "{outcome:?}"
            );
            failed += 1;
        }
    }
    assert!(failed >= WORKERS, "the fault was felt: {failed} requests failed");
    assert!(failed < REQUESTS / 2, "and the store came back: {failed} of {REQUESTS} failed");

    // Comments: exactly those answered 201 are in the thread and in the count.
    let posted: BTreeSet<String> =
        outcomes.iter().filter(|o| o.comment && o.status == StatusCode::CREATED).map(|o| o.key.clone()).collect();
    let thread = app.get("/posts/faults/comments?limit=200").await;
    assert_eq!(thread.status, StatusCode::OK);
    let listed: BTreeSet<String> = thread.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body_html"].as_str().unwrap().trim().trim_start_matches("<p>").trim_end_matches("</p>").to_owned())
        .collect();
    assert_eq!(listed, posted, "comments answered 201 ≠ comments stored");
    assert_eq!(thread.body["count"].as_u64(), Some(posted.len() as u64));

    // Signups: exactly those answered 202 were mailed, and confirming them all counts each once.
    let signed: BTreeSet<String> =
        outcomes.iter().filter(|o| !o.comment && o.status == StatusCode::ACCEPTED).map(|o| o.key.clone()).collect();
    // What the stream gave up on while the store was away, the schedule sends: a claim
    // whose answer the outage lost stays "sending" until it is stale, then is retaken.
    app.stack.settle().await;
    app.stack.app.clock.advance(time::Duration::seconds(app::store::outbox::CLAIM_STALE_SECS + 60));
    let swept = app.stack.fire_schedule().await.expect("the sweep runs");
    let mails = app.stack.mails().await;
    let mailed: BTreeSet<String> = mails.iter().map(|m| m.to.clone()).collect();
    assert_eq!(mailed, signed, "signups answered 202 ≠ signups mailed");
    assert_eq!(mails.len(), signed.len(), "each signup mailed once");
    for mail in &mails {
        let token = mail.links[0].rsplit('/').next().unwrap();
        let confirmed = app.send(app.http.post(app.url(&format!("/confirm/{token}")))).await;
        assert_eq!(confirmed.status, StatusCode::OK, "{}: {}", mail.to, confirmed.body);
    }
    let count = app.get("/petitions/faults-petition/count").await;
    assert_eq!(count.body["signature_count"].as_u64(), Some(signed.len() as u64));
    // Nothing else is stored: every signup item belongs to a 202.
    let store = &app.stack.app.store;
    let scan = store.client().scan().table_name(store.table()).send().await.unwrap();
    let stored: BTreeSet<String> =
        scan.items().iter().filter_map(|item| item.get("email").and_then(|e| e.as_s().ok()).cloned()).collect();
    assert_eq!(stored, signed, "signups stored ≠ signups answered 202");
    let in_flight: Vec<_> = outcomes.iter().filter(|o| o.sent == UP && o.answered != UP).collect();
    let resolved = in_flight.iter().filter(|o| o.status.is_success()).count();
    println!(
        "faults: {REQUESTS} requests; {} in flight when the store went away ({resolved} answered 2xx once it was \
         back, {} answered 503); {failed} answered 503 in all; {} comments and {} signups kept, 0 lost, 0 left behind; \
         {} stream batches given up on, {} mails sent by the sweep, each mail once",
        in_flight.len(),
        in_flight.len() - resolved,
        posted.len(),
        signed.len(),
        app.stack.delivery.failures().len(),
        swept["found"],
    );
}
