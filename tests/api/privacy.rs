//! The people who comment and sign are identifiable by their emails and IP addresses,
//! and some are at risk if those leak. This walks every public route after seeding
//! comments and signups with known emails from known addresses, and proves none of
//! them (nor their unsalted hashes) appears in any public body or header; that what is
//! kept about a client expires; and that the admin export is the one way emails leave.

use app::config::sha256_hex;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Answer, TestApp};

const COMMENTER: &str = "ji-woo.private@example.org";
const SIGNER: &str = "Min.Jun+Petition@Example.com";
const PLEDGER: &str = "seo-yeon@pledgers.example";
const COMMENTER_IP: &str = "203.0.113.77";
const SIGNER_IP: &str = "198.51.100.23";

/// Everything that would identify the people above, in the forms it could leak in.
fn secrets() -> Vec<String> {
    let mut secrets = Vec::new();
    for email in [COMMENTER, SIGNER, PLEDGER] {
        let lower = email.to_lowercase();
        secrets.push(lower.clone());
        secrets.push(lower.split('@').next().unwrap().to_owned());
        secrets.push(sha256_hex(lower.as_bytes()));
        secrets.push(sha256_hex(email.as_bytes()));
    }
    secrets.push("min.jun@example.com".into());
    for ip in [COMMENTER_IP, SIGNER_IP] {
        secrets.push(ip.to_owned());
        secrets.push(sha256_hex(ip.as_bytes()));
    }
    secrets
}

struct Walk {
    app: TestApp,
    seen: usize,
}

impl Walk {
    /// Sends a request and checks its whole answer, headers and body, for the secrets.
    async fn check(&mut self, what: &str, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.expect("the stack answers");
        let status = response.status();
        let mut text = String::new();
        for (name, value) in response.headers() {
            text.push_str(&format!("{name}: {}\n", String::from_utf8_lossy(value.as_bytes())));
        }
        let body = response.text().await.unwrap();
        text.push_str(&body);
        let lower = text.to_lowercase();
        for secret in secrets() {
            assert!(!lower.contains(&secret), "{what} ({status}) shows {secret:?}:\n{text}");
        }
        self.seen += 1;
        Answer { status, headers: Default::default(), body: serde_json::from_str(&body).unwrap_or(Value::Null) }
    }

    async fn get(&mut self, path: &str) -> Answer {
        let request = self.app.http.get(self.app.url(path));
        let answer = self.check(path, request).await;
        assert!(answer.status.is_success(), "{path}: {}", answer.status);
        answer
    }

    fn from(&self, method: Method, path: &str, ip: &str) -> reqwest::RequestBuilder {
        self.app.http.request(method, self.app.url(path)).header("x-forwarded-for", ip)
    }
}

#[tokio::test]
async fn no_public_answer_reveals_an_email_or_an_address() {
    crate::helpers::captured_logs();
    let app = TestApp::spawn_with_options(
        |config| config.writes_per_minute = 1_000,
        local_stack::Options { trust_forwarded_for: true, ..Default::default() },
    )
    .await;
    let mut walk = Walk { app, seen: 0 };
    let admin = |walk: &Walk, method: Method, path: &str| walk.app.admin(method, path);

    let post = json!({"slug": "walk", "title": "Walk", "body": "Body", "author": "Min-jun", "tags": ["privacy"],
                      "petition": "walk-petition", "pledge": "walk-pledge"});
    assert_eq!(walk.app.create_post(post).await.status, StatusCode::CREATED);
    let other = json!({"slug": "walk-2", "title": "Other", "body": "Body", "author": "Min-jun", "tags": ["privacy"]});
    assert_eq!(walk.app.create_post(other).await.status, StatusCode::CREATED);
    let petition =
        json!({"slug": "walk-petition", "title": "P", "body": "B", "target": "T", "goal": 10, "post": "walk"});
    assert_eq!(
        walk.app.send(admin(&walk, Method::POST, "/petitions").json(&petition)).await.status,
        StatusCode::CREATED
    );
    let pledge = json!({"slug": "walk-pledge", "title": "P", "body": "B", "threshold": 2,
                        "deadline": "2099-01-01T00:00:00Z", "suggested_amount": 3});
    assert_eq!(walk.app.send(admin(&walk, Method::POST, "/pledges").json(&pledge)).await.status, StatusCode::CREATED);

    // Comments with an email and a website, a reply, and the same comment twice.
    let body = json!({"author": "Ji-woo", "body": "Signed.", "email": COMMENTER, "website": "https://jiwoo.example"});
    let first =
        walk.check("new comment", walk.from(Method::POST, "/posts/walk/comments", COMMENTER_IP).json(&body)).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let id = first.body["comment"]["id"].as_str().unwrap().to_owned();
    let again =
        walk.check("same comment", walk.from(Method::POST, "/posts/walk/comments", COMMENTER_IP).json(&body)).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let reply = json!({"author": "Ji-woo", "body": "And shared.", "email": COMMENTER, "parent_id": id});
    let reply = walk.check("reply", walk.from(Method::POST, "/posts/walk/comments", COMMENTER_IP).json(&reply)).await;
    assert_eq!(reply.status, StatusCode::CREATED);

    // Public and private signups, a repeat, all confirmed through the page and the button.
    let sign = json!({"name": "Min-jun", "email": SIGNER, "country": "Korea", "comment": "Free them", "public": true, "consent": true});
    for what in ["signup", "repeat signup"] {
        let path = "/petitions/walk-petition/signatures";
        let answer = walk.check(what, walk.from(Method::POST, path, SIGNER_IP).json(&sign)).await;
        assert_eq!(answer.status, StatusCode::ACCEPTED);
    }
    let pledge = json!({"name": "Seo-yeon", "email": PLEDGER, "amount": 3, "public": false, "consent": true});
    let answer =
        walk.check("pledge", walk.from(Method::POST, "/pledges/walk-pledge/signups", SIGNER_IP).json(&pledge)).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED);
    let tokens: Vec<String> =
        walk.app.stack.mails().await.iter().map(|mail| mail.links[0].rsplit('/').next().unwrap().to_owned()).collect();
    assert_eq!(tokens.len(), 2, "one mail per person");
    for token in &tokens {
        // The page is the mailbox holder's: it shows the name the signup asked for, for
        // them to confirm or change, but never the address.
        let page = walk.app.http.get(walk.app.url(&format!("/confirm/{token}"))).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let page = page.text().await.unwrap().to_lowercase();
        assert!(!page.contains('@') && !page.contains("pledgers.example") && !page.contains("example.com"), "{page}");
        let chosen =
            if walk.app.stack.mails().await.iter().any(|m| m.links[0].ends_with(token.as_str()) && m.to == PLEDGER) {
                json!({"public": false})
            } else {
                json!({"public": true})
            };
        let request = walk.app.http.post(walk.app.url(&format!("/confirm/{token}"))).json(&chosen);
        let confirmed = walk.check("confirm", request).await;
        assert_eq!(confirmed.status, StatusCode::OK);
    }

    // Every public read.
    for path in [
        "/posts",
        "/posts?tag=privacy",
        "/posts/walk",
        "/posts/walk/related",
        "/posts/walk/comments",
        "/posts/walk/comments?sort=newest&limit=1",
        "/posts/walk/comments.atom",
        "/comments/counts?posts=walk,walk-2",
        "/petitions/walk-petition",
        "/petitions/walk-petition/count",
        "/petitions/walk-petition/signatures",
        "/pledges/walk-pledge",
        "/pledges/walk-pledge/signups",
        "/embed.js",
        "/embed.css",
    ] {
        walk.get(path).await;
    }
    let signers = walk.get("/petitions/walk-petition/signatures?limit=1").await;
    assert_eq!(signers.body["items"][0]["name"], "Min-jun", "the public signer is listed, by name only");
    // The thread page with a cursor, and the errors a prober would try.
    let page = walk.get("/posts/walk/comments?limit=1").await;
    if let Some(cursor) = page.body["next_cursor"].as_str() {
        walk.get(&format!("/posts/walk/comments?limit=1&cursor={cursor}")).await;
    }
    for (what, request) in [
        ("unknown post", walk.app.http.get(walk.app.url("/posts/nope/comments"))),
        ("bad cursor", walk.app.http.get(walk.app.url("/posts/walk/comments?cursor=e30"))),
        ("export without token", walk.app.http.get(walk.app.url("/admin/petitions/walk-petition/signatures.csv"))),
        (
            "bad signup",
            walk.app.http.post(walk.app.url("/petitions/walk-petition/signatures")).json(&json!({"email": SIGNER})),
        ),
        (
            "edit without token",
            walk.app.http.put(walk.app.url(&format!("/posts/walk/comments/{id}"))).json(&json!({"body": "x"})),
        ),
    ] {
        let answer = walk.check(what, request).await;
        assert!(answer.status.is_client_error(), "{what}: {}", answer.status);
    }
    assert!(walk.seen >= 30, "walked {} answers", walk.seen);

    // The admin export is the way out, and it does carry the emails.
    let export = walk.app.send(admin(&walk, Method::GET, "/admin/petitions/walk-petition/signatures.csv")).await;
    assert_eq!(export.status, StatusCode::OK);
    let csv = walk.app.admin(Method::GET, "/admin/petitions/walk-petition/signatures.csv").send().await.unwrap();
    assert!(csv.text().await.unwrap().to_lowercase().contains(&SIGNER.to_lowercase()));

    retention_is_bounded(&walk.app).await;
    logs_name_nobody(&walk.app).await;
    the_index_holds_keys_only(&walk.app).await;
}

/// The index copies no attribute of an item, so no address, name or text is in it:
/// only the keys, which hold none either.
async fn the_index_holds_keys_only(app: &TestApp) {
    let store = &app.stack.app.store;
    let output =
        store.client().scan().table_name(&app.stack.app.config.table_name).index_name("GSI1").send().await.unwrap();
    assert!(output.items().len() >= 4, "the walk's posts, public signers and queued mail are indexed");
    for entry in output.items() {
        let mut names: Vec<&str> = entry.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["GSI1PK", "GSI1SK", "PK", "SK"], "{entry:?}");
        let text = format!("{entry:?}").to_lowercase();
        for secret in secrets() {
            assert!(!text.contains(&secret), "an index key holds {secret:?}: {entry:?}");
        }
    }
}

/// What the functions logged while the walk ran, the events function's sends included,
/// carries no address, no client IP and no signer's name: logs are kept for weeks and
/// read by more people than the table.
async fn logs_name_nobody(app: &TestApp) {
    app.stack.settle().await;
    assert!(app.stack.mails().await.len() >= 2, "the walk's mails were sent, and their sending logged");
    let logs = crate::helpers::captured_logs();
    assert!(logs.contains("\"message\":\"mail sent\""), "the events function's log was captured");
    assert!(logs.contains("transact_write_items"), "the SDK's debug lines were captured");
    let lower = logs.to_lowercase();
    let mut secrets = secrets();
    // The signers' names (the commenter's is public on the thread).
    secrets.extend(["seo-yeon".to_owned(), "korea".to_owned(), "free them".to_owned()]);
    for secret in secrets {
        let line = lower.lines().find(|line| line.contains(&secret));
        assert!(line.is_none(), "a log line carries {secret:?}: {}", line.unwrap_or_default());
    }
}

/// Whatever is kept about a client or an unconfirmed signup carries a TTL no further
/// away than its purpose needs; no item holds a raw IP address or an unsalted hash.
async fn retention_is_bounded(app: &TestApp) {
    let store = &app.stack.app.store;
    let items = store.client().scan().table_name(store.table()).send().await.unwrap();
    let now = app::time::now().unix_timestamp();
    let mut windows = 0;
    for item in items.items() {
        let text = format!("{item:?}").to_lowercase();
        for ip in [COMMENTER_IP, SIGNER_IP] {
            assert!(!text.contains(ip) && !text.contains(&sha256_hex(ip.as_bytes())), "an IP is stored: {text}");
        }
        assert!(!text.contains(&sha256_hex(COMMENTER.as_bytes())), "an unsalted email hash is stored: {text}");
        let pk = item["PK"].as_s().unwrap();
        let expires = item.get("expires_at").and_then(|v| v.as_n().ok()).and_then(|n| n.parse::<i64>().ok());
        // A signup's window lives a minute or two, a commenter's (with their last body) a day.
        if pk.starts_with("RATE#") || pk.starts_with("WRITER#") {
            windows += 1;
            let expires = expires.expect("a rate window expires");
            assert!(expires > now && expires <= now + 2 * 86_400, "a rate window lives {}s", expires - now);
        }
        if item.contains_key("email") {
            // Only a confirmed signup holds an email, for the export, and an unconfirmed
            // request's token, for the confirmation; that one expires within the week.
            let sk = item.get("SK").and_then(|s| s.as_s().ok()).map(String::as_str).unwrap_or_default();
            if pk.starts_with("TOKEN#") {
                let expires = expires.expect("an unconfirmed request expires");
                assert!(expires <= now + 8 * 86_400);
            } else {
                assert!(sk.starts_with("SIGNUP#"), "{text}");
            }
        }
    }
    assert!(windows > 0, "the writes above kept rate windows");
}
