//! `make soak`: 200 concurrent clients for 60 s (`SOAK_CLIENTS`, `SOAK_SECONDS`) mixing
//! thread reads, counts, comments and petition signups through the local stack, each
//! client from its own address. It asserts correctness, not speed: no 5xx, no request
//! lost, and afterwards every count exact (comments per post, signatures once every
//! confirmation link is followed).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use app::Config;
use local_stack::{DynamoDbLocal, Options, Template, template};
use serde_json::{Value, json};
use tokio::sync::Mutex;

const ADMIN: &str = "soak-admin-token";
const POSTS: usize = 10;

#[derive(Default)]
struct Tally {
    requests: AtomicU64,
    server_errors: AtomicU64,
    other_failures: AtomicU64,
    /// post slug → comments answered 201
    comments: Mutex<HashMap<String, u64>>,
    /// every address that got a 202 for a signup
    signers: Mutex<Vec<String>>,
    /// what the 5xx and unexpected answers said, by kind of request
    problems: Mutex<HashMap<String, u64>>,
}

#[tokio::main]
async fn main() {
    if let Err(err) = run().await {
        eprintln!("soak: {err}");
        std::process::exit(1);
    }
}

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn run() -> Result<(), String> {
    // The stack's own log (RUST_LOG=error shows why a request failed).
    if std::env::var("RUST_LOG").is_ok() {
        app::init_tracing();
    }
    let clients = setting("SOAK_CLIENTS", 200) as usize;
    let seconds = setting("SOAK_SECONDS", 60);
    let dynamodb = DynamoDbLocal::start()?;
    let mut config = Config::local(&format!("soak-{}", std::process::id()), &dynamodb.endpoint, ADMIN);
    config.writes_per_minute = 30;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let template = Template::load(&template::default_path())?;
    let options = Options { trust_forwarded_for: true, ..Default::default() };
    let stack = local_stack::start_with(config, &template, listener, options).await?;
    let base = stack.base_url.clone();
    let http = reqwest::Client::new();
    for i in 0..POSTS {
        let post = json!({"slug": format!("soak-{i}"), "title": "Soak", "body": "B", "author": "Min-jun"});
        let answer = http.post(format!("{base}/posts")).bearer_auth(ADMIN).json(&post).send().await;
        ensure(answer, 201).await?;
    }
    let petition = json!({"slug": "soak-petition", "title": "P", "body": "B", "target": "T", "goal": 1_000_000});
    ensure(http.post(format!("{base}/petitions")).bearer_auth(ADMIN).json(&petition).send().await, 201).await?;

    println!("soak: {clients} clients for {seconds} s against {base}");
    let tally = Arc::new(Tally::default());
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let (tally, base) = (tally.clone(), base.clone());
            tokio::spawn(async move { client_loop(client, &base, deadline, &tally).await })
        })
        .collect();
    for task in tasks {
        task.await.map_err(|e| e.to_string())?;
    }
    let requests = tally.requests.load(Ordering::Relaxed);
    let server_errors = tally.server_errors.load(Ordering::Relaxed);
    let failures = tally.other_failures.load(Ordering::Relaxed);
    println!("soak: {requests} requests, {server_errors} answered 5xx, {failures} unexpected answers or lost requests");
    for (problem, times) in tally.problems.lock().await.iter() {
        println!("soak:   {times} × {problem}");
    }

    // Afterwards: every comment that answered 201 is there, and nothing else.
    let mut wrong = Vec::new();
    let comments = tally.comments.lock().await.clone();
    for i in 0..POSTS {
        let slug = format!("soak-{i}");
        let expected = comments.get(&slug).copied().unwrap_or(0);
        let post: Value = get(&http, &format!("{base}/posts/{slug}")).await?;
        let listed = count_thread(&http, &base, &slug).await?;
        if post["comment_count"].as_u64() != Some(expected) || listed != expected {
            wrong.push(format!("{slug}: {expected} posted, count {}, listed {listed}", post["comment_count"]));
        }
    }
    // Every signup that answered 202 is confirmed once through its mail; the count is exact.
    let signers = tally.signers.lock().await.len() as u64;
    let tokens: Vec<String> = stack
        .mails()
        .await
        .iter()
        .filter_map(|mail| mail.links.first().and_then(|l| l.rsplit_once("/confirm/")).map(|(_, t)| t.to_owned()))
        .collect();
    for token in &tokens {
        ensure(http.post(format!("{base}/confirm/{token}")).send().await, 200).await?;
    }
    let count: Value = get(&http, &format!("{base}/petitions/soak-petition/count")).await?;
    if tokens.len() as u64 != signers || count["signature_count"].as_u64() != Some(signers) {
        wrong.push(format!("{signers} signups, {} mails, count {}", tokens.len(), count["signature_count"]));
    }
    println!(
        "soak: {} comments on {POSTS} posts and {signers} signatures, all confirmed, checked afterwards",
        comments.values().sum::<u64>()
    );
    drop(dynamodb);
    if server_errors > 0 || failures > 0 || !wrong.is_empty() {
        return Err(format!("{server_errors} 5xx, {failures} unexpected, wrong counts: {wrong:?}"));
    }
    println!("soak: held");
    Ok(())
}

/// One reader: mostly reads, some comments and signups, each from the client's address.
async fn client_loop(client: usize, base: &str, deadline: Instant, tally: &Tally) {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(120)).build().expect("a client");
    let ip = format!("10.{}.{}.{}", 100 + client / 250, client % 250, 1);
    let mut n = 0u64;
    while Instant::now() < deadline {
        n += 1;
        let post = format!("soak-{}", (client + n as usize) % POSTS);
        let (request, expected): (reqwest::RequestBuilder, &[u16]) = match n % 10 {
            0..=4 => (http.get(format!("{base}/posts/{post}/comments")), &[200]),
            5 => {
                let slugs = (0..POSTS).map(|i| format!("soak-{i}")).collect::<Vec<_>>().join(",");
                (http.get(format!("{base}/comments/counts?posts={slugs}")), &[200])
            }
            6 => (http.get(format!("{base}/petitions/soak-petition/count")), &[200]),
            7 | 8 => {
                let body = json!({"author": format!("Reader {client}"), "body": format!("Comment {n} from {client}")});
                (http.post(format!("{base}/posts/{post}/comments")).json(&body), &[201, 429])
            }
            _ => {
                let body = json!({"name": "Signer", "email": format!("signer-{client}-{n}@soak.example"),
                                  "public": n.is_multiple_of(3), "consent": true});
                (http.post(format!("{base}/petitions/soak-petition/signatures")).json(&body), &[202, 429])
            }
        };
        tally.requests.fetch_add(1, Ordering::Relaxed);
        let kind = match n % 10 {
            0..=4 => "thread read",
            5 => "counts",
            6 => "petition count",
            7 | 8 => "comment",
            _ => "signup",
        };
        let (status, said) = match request.header("x-forwarded-for", &ip).send().await {
            Ok(answer) => {
                let status = answer.status().as_u16();
                let body: Value = answer.json().await.unwrap_or_default();
                (status, body["error"]["message"].as_str().unwrap_or_default().to_owned())
            }
            Err(err) => (0, err.to_string()),
        };
        if status >= 500 || !expected.contains(&status) {
            *tally.problems.lock().await.entry(format!("{kind}: {status} {said}")).or_default() += 1;
        }
        if status >= 500 {
            tally.server_errors.fetch_add(1, Ordering::Relaxed);
        } else if !expected.contains(&status) {
            tally.other_failures.fetch_add(1, Ordering::Relaxed);
        } else if status == 201 {
            *tally.comments.lock().await.entry(post).or_default() += 1;
        } else if status == 202 {
            tally.signers.lock().await.push(format!("signer-{client}-{n}"));
        }
    }
}

async fn ensure(answer: reqwest::Result<reqwest::Response>, status: u16) -> Result<(), String> {
    let answer = answer.map_err(|e| e.to_string())?;
    if answer.status().as_u16() != status {
        return Err(format!("expected {status}, got {}: {}", answer.status(), answer.text().await.unwrap_or_default()));
    }
    Ok(())
}

async fn get(http: &reqwest::Client, url: &str) -> Result<Value, String> {
    let answer = http.get(url).send().await.map_err(|e| e.to_string())?;
    if !answer.status().is_success() {
        return Err(format!("{url}: {}", answer.status()));
    }
    answer.json().await.map_err(|e| e.to_string())
}

async fn count_thread(http: &reqwest::Client, base: &str, slug: &str) -> Result<u64, String> {
    let mut listed = 0;
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{base}/posts/{slug}/comments?limit=200");
        if let Some(cursor) = &cursor {
            url.push_str(&format!("&cursor={cursor}"));
        }
        let page = get(http, &url).await?;
        listed += page["items"].as_array().map(Vec::len).unwrap_or(0) as u64;
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return Ok(listed),
        }
    }
}
