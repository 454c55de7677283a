//! `rally import` of the fixtures in `tests/fixtures/import/` (written for these tests, one
//! per format) into DynamoDB Local, read back through the API: nesting, numbers, status,
//! sanitised bodies, placeholders, what is skipped and why, and a second import that adds
//! nothing. And bad input: not XML, a file cut short, an unknown WXR version, a slug that
//! is no slug.

use std::path::{Path, PathBuf};

use app::post::Slug;
use rally_cli::import::{Format, Options, Summary};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::TestApp;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/import").join(name)
}

fn scratch(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("rally-test-{}-{name}", ulid::Ulid::new()))
}

async fn import(app: &TestApp, format: Format, file: &Path, adjust: impl FnOnce(&mut Options)) -> Summary {
    let mut options = Options {
        format,
        file: file.to_owned(),
        map: None,
        existing_posts_only: false,
        dry_run: false,
        author: "Min-jun".into(),
        quiet: true,
    };
    adjust(&mut options);
    rally_cli::import::run(&app.stack.app.store, &app.stack.app.config.ip_hash_salt, &options).await.unwrap()
}

/// The command line, as a blogger runs it: its exit code.
async fn rally(app: &TestApp, args: &[&str]) -> i32 {
    let config = &app.stack.app.config;
    let endpoint = config.dynamodb_endpoint.clone().unwrap();
    let mut all = vec![
        "rally",
        "--quiet",
        "--table",
        &config.table_name,
        "--endpoint",
        &endpoint,
        "--secret",
        &config.ip_hash_salt,
    ];
    all.extend_from_slice(args);
    rally_cli::run_from(all).await
}

async fn thread(app: &TestApp, slug: &str) -> Value {
    let answer = app.get(&format!("/posts/{slug}/comments?limit=200")).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.body
}

fn column<'a>(items: &'a Value, field: &str) -> Vec<&'a Value> {
    items["items"].as_array().unwrap().iter().map(|c| &c[field]).collect()
}

async fn queue(app: &TestApp, status: &str) -> Vec<String> {
    let answer = app.send(app.admin(Method::GET, &format!("/admin/comments?status={status}&limit=200"))).await;
    answer.body["items"].as_array().unwrap().iter().map(|c| c["author"].as_str().unwrap().to_owned()).collect()
}

fn skipped(summary: &Summary, why: &str) -> usize {
    summary.skipped.iter().filter(|(reason, _)| reason.contains(why)).map(|(_, (n, _))| n).sum()
}

#[tokio::test]
async fn a_disqus_export_comes_over_nested_numbered_and_sanitised_and_a_second_import_adds_nothing() {
    let app = TestApp::spawn().await;
    app.given_post("china-returns-31-refugees", "2012-03-08T09:00:00Z", &[]).await;
    let summary = import(&app, Format::Disqus, &fixture("disqus.xml"), |_| {}).await;
    assert_eq!((summary.threads, summary.posts_found, summary.posts_created), (3, 1, 1), "{summary:?}");
    assert_eq!(
        (summary.comments.approved, summary.comments.held, summary.comments.spam, summary.comments.placeholders),
        (5, 1, 1, 1),
        "{summary:?}"
    );
    assert_eq!(skipped(&summary, "no replies"), 1);
    assert_eq!(skipped(&summary, "does not have"), 1);
    assert_eq!(skipped(&summary, "no valid slug"), 1);
    assert!(summary.skipped.values().flat_map(|(_, m)| m).any(|m| m.contains("post 108") && m.contains("disqus#999")));
    assert!(summary.skipped.values().flat_map(|(_, m)| m).any(|m| m.contains("?p=99")), "{summary:?}");
    assert_eq!((summary.ip_addresses_dropped, summary.emails_hashed), (5, 7));

    let read = thread(&app, "china-returns-31-refugees").await;
    let authors: Vec<_> = column(&read, "author").iter().map(|a| a.as_str().unwrap()).collect();
    assert_eq!(authors, ["Grace", "Tomás", "김민준", "", "Aiko 愛子"]);
    assert_eq!(column(&read, "depth"), [&json!(0), &json!(1), &json!(2), &json!(0), &json!(1)]);
    // Numbers in date order, held and spam ones taking theirs as a live comment would.
    assert_eq!(column(&read, "number"), [&json!(1), &Value::Null, &Value::Null, &json!(3), &Value::Null]);
    assert_eq!(column(&read, "deleted"), [&json!(false), &json!(false), &json!(false), &json!(true), &json!(false)]);
    let items = read["items"].as_array().unwrap();
    assert_eq!(items[1]["parent_id"], items[0]["id"]);
    assert_eq!(items[2]["parent_id"], items[1]["id"]);
    assert_eq!(items[4]["parent_id"], items[3]["id"]);
    assert_eq!(
        items[0]["body_html"],
        "<p>This is <strong>heartbreaking</strong>. Is there anything people outside Korea can do?</p>\n"
    );
    let signed = items[1]["body_html"].as_str().unwrap();
    assert!(
        signed.contains(r#"<a href="https://petition.example/stop" rel="nofollow ugc noopener">the petition</a>"#),
        "{signed}"
    );
    assert!(!signed.contains("script") && !signed.contains("alert") && !signed.contains("onerror"), "{signed}");
    assert!(signed.contains("Done &amp; shared."), "{signed}");
    assert_eq!(items[3]["body_html"], "", "a placeholder keeps no text");
    assert_eq!(read["count"], 4);
    assert_eq!(queue(&app, "pending").await, ["Leo"]);
    assert_eq!(queue(&app, "spam").await, ["Deals"]);
    assert!(app.stack.mails().await.is_empty(), "nobody is mailed about comments brought over");

    // The thread with no post got one, dated by its first comment, its window long closed.
    let made = app.get("/posts/what-happens-to-returned-defectors").await.body;
    assert_eq!(made["title"], "What happens to defectors who are sent back?");
    assert_eq!(made["published_at"], "2013-06-02T12:00:00Z");
    assert_eq!(made["comments_open"], false);
    assert_eq!(thread(&app, "what-happens-to-returned-defectors").await["count"], 1);

    // Again: nothing new, the same thread to the byte, the same exit code (the skips remain).
    let before = app.get("/posts/china-returns-31-refugees/comments?limit=200").await.body;
    let again = import(&app, Format::Disqus, &fixture("disqus.xml"), |_| {}).await;
    assert_eq!(
        (
            again.comments.approved,
            again.comments.held,
            again.comments.spam,
            again.comments.placeholders,
            again.comments.already
        ),
        (0, 0, 0, 0, 8),
        "{again:?}"
    );
    assert_eq!(again.posts_created, 0);
    assert_eq!(app.get("/posts/china-returns-31-refugees/comments?limit=200").await.body, before);
    assert_eq!(
        rally(&app, &["import", "disqus", fixture("disqus.xml").to_str().unwrap()]).await,
        2,
        "skips make exit 2"
    );

    let stats = rally_cli::stats::gather(&app.stack.app.store).await.unwrap();
    let post = stats["posts"].as_array().unwrap().iter().find(|p| p["slug"] == "china-returns-31-refugees").unwrap();
    assert_eq!((post["comments"].clone(), post["held"].clone(), post["spam"].clone()), (json!(4), json!(1), json!(1)));
}

#[tokio::test]
async fn a_wordpress_export_continues_the_numbers_keeps_paragraphs_and_leaves_pingbacks_out() {
    let app = TestApp::spawn().await;
    app.given_post("families-still-held-at-the-border", "2026-11-20T09:00:00Z", &[]).await;
    let live = app
        .send(
            app.http
                .post(app.url("/posts/families-still-held-at-the-border/comments"))
                .json(&json!({"author": "Live", "body": "Already here"})),
        )
        .await;
    assert_eq!(live.status, StatusCode::CREATED);
    let summary = import(&app, Format::Wordpress, &fixture("wordpress.xml"), |_| {}).await;
    assert_eq!((summary.threads, summary.posts_found, summary.posts_created), (2, 1, 1), "{summary:?}");
    assert_eq!(
        (summary.comments.approved, summary.comments.held, summary.comments.spam, summary.comments.placeholders),
        (5, 1, 1, 1),
        "{summary:?}"
    );
    assert_eq!(summary.left_out.get("pingbacks"), Some(&1));
    assert_eq!(skipped(&summary, "does not have"), 1);

    let read = thread(&app, "families-still-held-at-the-border").await;
    let authors: Vec<_> = column(&read, "author").iter().map(|a| a.as_str().unwrap()).collect();
    assert_eq!(authors, ["Live", "Zoë Ångström", "Min-jun", "Søren", "", "Answer"]);
    assert_eq!(column(&read, "number"), [&json!(1), &json!(2), &Value::Null, &Value::Null, &json!(5), &Value::Null]);
    let items = read["items"].as_array().unwrap();
    assert_eq!(items[1]["website"], "https://zoe.example");
    assert_eq!(items[1]["created_at"], "2026-11-21T09:00:00Z", "the GMT date");
    let zoe = items[1]["body_html"].as_str().unwrap();
    assert!(zoe.starts_with("<p>Thank you for following this up.<br />\nI wrote to my MP today.</p>"), "{zoe}");
    assert!(
        zoe.contains(r#"<a href="https://parliament.example/letter" rel="nofollow ugc noopener">letter</a>"#),
        "{zoe}"
    );
    let reply = items[2]["body_html"].as_str().unwrap();
    assert!(
        reply.contains("<strong>Thank you</strong>, Zoë. Please share it.") && !reply.contains("cookie"),
        "{reply}"
    );
    assert_eq!(read["count"], 5);
    assert_eq!(queue(&app, "pending").await, ["Ji-woo"]);
    assert_eq!(queue(&app, "spam").await, ["Best Deals"]);
    let chuseok = app.get("/posts/chuseok-for-beginners").await.body;
    assert_eq!(chuseok["published_at"], "2012-09-29T08:00:00Z");
    assert_eq!(chuseok["author"], "Min-jun");
    assert_eq!(thread(&app, "chuseok-for-beginners").await["items"][0]["author"], "Hana 하나");

    // An import cut off after a chunk's markers and before its comments (here: two
    // comments' items removed) finds the markers and puts what is missing, nothing twice.
    let before = app.get("/posts/families-still-held-at-the-border/comments?limit=200").await.body;
    let store = &app.stack.app.store;
    for item in &items[1..3] {
        let id = item["id"].as_str().unwrap();
        let pointer = store
            .client()
            .get_item()
            .table_name(store.table())
            .key("PK", s(&format!("COMMENT#{id}")))
            .key("SK", s("#META"))
            .send()
            .await
            .unwrap();
        let sk = pointer.item().unwrap()["path"].as_s().unwrap().clone();
        for (pk, sk) in
            [(format!("COMMENT#{id}"), "#META".to_owned()), ("POST#families-still-held-at-the-border".into(), sk)]
        {
            store
                .client()
                .delete_item()
                .table_name(store.table())
                .key("PK", s(&pk))
                .key("SK", s(&sk))
                .send()
                .await
                .unwrap();
        }
    }
    // As the chunk's transaction would have: the thread changed, so no page is reused.
    store
        .client()
        .update_item()
        .table_name(store.table())
        .key("PK", s("POST#families-still-held-at-the-border"))
        .key("SK", s("#META"))
        .update_expression("SET thread_version = :v")
        .expression_attribute_values(":v", s("interrupted"))
        .send()
        .await
        .unwrap();
    assert_ne!(app.get("/posts/families-still-held-at-the-border/comments?limit=200").await.body, before);
    let resumed = import(&app, Format::Wordpress, &fixture("wordpress.xml"), |_| {}).await;
    assert_eq!((resumed.comments.approved, resumed.comments.already), (0, 8), "{resumed:?}");
    assert_eq!(app.get("/posts/families-still-held-at-the-border/comments?limit=200").await.body, before);
}

fn s(text: &str) -> aws_sdk_dynamodb::types::AttributeValue {
    aws_sdk_dynamodb::types::AttributeValue::S(text.to_owned())
}

#[tokio::test]
async fn an_isso_database_comes_over_with_its_markdown() {
    let app = TestApp::spawn().await;
    let db = scratch("comments.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch(&std::fs::read_to_string(fixture("isso.sql")).unwrap())
        .unwrap();
    let summary = import(&app, Format::Isso, &db, |_| {}).await;
    assert_eq!((summary.threads, summary.posts_created), (2, 2), "{summary:?}");
    assert_eq!(
        (summary.comments.approved, summary.comments.held, summary.comments.placeholders),
        (5, 1, 1),
        "{summary:?}"
    );
    assert_eq!(skipped(&summary, "does not have"), 1);
    assert_eq!(summary.ip_addresses_dropped, 8);
    let read = thread(&app, "china-returns-31-refugees").await;
    let items = read["items"].as_array().unwrap();
    let authors: Vec<_> = items.iter().map(|c| c["author"].as_str().unwrap()).collect();
    assert_eq!(authors, ["Grace", "Tomás Ruiz", "김민준", "", "Aiko"]);
    assert!(
        items[0]["body_html"]
            .as_str()
            .unwrap()
            .contains(r#"<strong>heartbreaking</strong>. See <a href="https://ngo.example/report""#)
    );
    assert_eq!(items[0]["website"], "https://grace.example");
    assert!(items[1]["body_html"].as_str().unwrap().contains("&lt;script&gt;"), "raw HTML in Markdown stays text");
    assert_eq!(items[2]["website"], Value::Null, "a javascript: website is dropped");
    assert_eq!(items[1]["created_at"], "2012-03-08T11:30:00Z");
    assert_eq!(queue(&app, "pending").await, ["Leo"]);
    assert_eq!(thread(&app, "isso-only-thread").await["count"], 1);
    let _ = std::fs::remove_file(db);
}

#[tokio::test]
async fn bad_input_gets_a_clear_message_and_the_rest_still_comes_over() {
    let app = TestApp::spawn().await;
    // Not XML at all, and not the export asked for: nothing can be done (exit 1).
    let junk = scratch("junk.xml");
    std::fs::write(&junk, "name,email\nGrace,grace@example.org\n").unwrap();
    assert_eq!(rally(&app, &["import", "disqus", junk.to_str().unwrap()]).await, 1);
    assert_eq!(rally(&app, &["import", "wordpress", fixture("disqus.xml").to_str().unwrap()]).await, 1);
    assert_eq!(rally(&app, &["import", "isso", junk.to_str().unwrap()]).await, 1);
    // An unknown WXR version.
    let future = scratch("future.xml");
    std::fs::write(&future, std::fs::read_to_string(fixture("wordpress.xml")).unwrap().replace(">1.2<", ">9.9<"))
        .unwrap();
    assert_eq!(rally(&app, &["import", "wordpress", future.to_str().unwrap()]).await, 1);
    assert_eq!(app.get("/posts/chuseok-for-beginners").await.status, StatusCode::NOT_FOUND, "nothing written");

    // A dry run reads everything and writes nothing.
    let dry = import(&app, Format::Disqus, &fixture("disqus.xml"), |o| o.dry_run = true).await;
    assert_eq!((dry.comments.approved, dry.posts_created), (5, 2));
    assert_eq!(app.get("/posts/china-returns-31-refugees").await.status, StatusCode::NOT_FOUND);

    // Cut short in the middle of a post: what came before comes over, and it says where.
    let text = std::fs::read_to_string(fixture("disqus.xml")).unwrap();
    let cut = scratch("cut.xml");
    std::fs::write(&cut, &text[..text.find("<post dsq:id=\"105\">").unwrap() + 40]).unwrap();
    let partial = import(&app, Format::Disqus, &cut, |_| {}).await;
    let problem = partial.problems.join("\n");
    assert!(problem.contains("line ") && problem.contains("cut short"), "{problem}");
    assert_eq!(partial.comments.approved, 3, "{partial:?}");
    assert!(partial.skipped_any());

    // A map names the slug for the thread whose link has none; existing posts only.
    let map = scratch("map.txt");
    std::fs::write(&map, "# old pages\nhttps://blog.example/?p=99   an-old-page\n").unwrap();
    app.given_post("an-old-page", "2011-01-01T09:00:00Z", &[]).await;
    let mapped = import(&app, Format::Disqus, &fixture("disqus.xml"), |o| {
        o.map = Some(map.clone());
        o.existing_posts_only = true;
    })
    .await;
    assert_eq!(skipped(&mapped, "no valid slug"), 0);
    assert_eq!(skipped(&mapped, "--existing-posts-only"), 1, "{mapped:?}");
    assert_eq!(thread(&app, "an-old-page").await["items"][0]["author"], "Hana");
    assert_eq!(app.get("/posts/what-happens-to-returned-defectors").await.status, StatusCode::NOT_FOUND);
    assert!(Slug::parse("an-old-page").is_ok());
    let bad_map = scratch("bad-map.txt");
    std::fs::write(&bad_map, "just-one-column\n").unwrap();
    let code =
        rally(&app, &["import", "disqus", fixture("disqus.xml").to_str().unwrap(), "--map", bad_map.to_str().unwrap()])
            .await;
    assert_eq!(code, 1);
    for file in [junk, future, cut, map, bad_map] {
        let _ = std::fs::remove_file(file);
    }
}

#[tokio::test]
async fn an_export_restored_into_an_empty_table_answers_the_same_to_the_byte() {
    let source = TestApp::spawn_with(|c| c.writes_per_minute = 100_000).await;
    local_stack::seed::seed(&source.stack.app).await.unwrap();
    import(&source, Format::Disqus, &fixture("disqus.xml"), |_| {}).await;
    let update = source
        .send(
            source
                .admin(Method::POST, "/admin/petitions/stop-the-repatriations/updates")
                .json(&json!({"subject": "Delivered", "body": "Thank you."})),
        )
        .await;
    assert_eq!(update.status, StatusCode::ACCEPTED, "{}", update.body);
    let update_id = update.body["id"].as_str().unwrap().to_owned();
    source.stack.settle().await;
    let mails_before = source.stack.mails().await.len();

    let dir = scratch("export");
    assert_eq!(rally(&source, &["export", "--out", dir.to_str().unwrap()]).await, 0);
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!((manifest["format"].as_str(), manifest["version"].as_u64()), (Some("rally-export"), Some(1)));
    assert_eq!(manifest["files"]["signups.jsonl"], 12, "three campaigns of four confirmed signers");
    let signups = std::fs::read_to_string(dir.join("signups.jsonl")).unwrap();
    let first: Value = serde_json::from_str(signups.lines().next().unwrap()).unwrap();
    assert!(first["consent_text"].as_str().is_some_and(|t| !t.is_empty()) && first["consented_at"].is_string());
    let everything: String = ["posts", "comments", "campaigns", "signups", "mailboxes"]
        .iter()
        .map(|f| std::fs::read_to_string(dir.join(format!("{f}.jsonl"))).unwrap())
        .collect();
    for never in ["\"TOKEN#", "\"RATE#", "\"OUTBOX#", "\"#COUNT\"", "\"MAILTO#"] {
        assert!(!everything.contains(never), "{never} is not exported");
    }

    // Into a fresh table of a stack with the same hashing secret.
    let salt = source.stack.app.config.ip_hash_salt.clone();
    let target = TestApp::spawn_with(move |c| c.ip_hash_salt = salt).await;
    assert_eq!(rally(&target, &["restore", dir.to_str().unwrap()]).await, 0);
    let posts: Vec<String> = source.get("/posts?limit=200").await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["slug"].as_str().unwrap().to_owned())
        .collect();
    let mut paths = vec!["/posts?limit=200".to_owned(), format!("/comments/counts?posts={}", posts.join(","))];
    for slug in &posts {
        paths.extend([
            format!("/posts/{slug}"),
            format!("/posts/{slug}/comments?limit=200"),
            format!("/posts/{slug}/related"),
        ]);
        paths.push(format!("/posts/{slug}/comments?limit=2"));
    }
    for (kind, slug, signers) in [
        ("petitions", "stop-the-repatriations", "signatures"),
        ("pledges", "three-dollars-for-the-fund", "signups"),
        ("pledges", "ten-dollars-for-the-lawyers", "signups"),
    ] {
        paths.extend([
            format!("/{kind}/{slug}"),
            format!("/{kind}/{slug}/{signers}"),
            format!("/{kind}/{slug}/{signers}?limit=1"),
        ]);
        paths.extend([format!("/admin/{kind}/{slug}/daily"), format!("/admin/{kind}/{slug}/{signers}.csv")]);
    }
    paths.extend([
        "/petitions/stop-the-repatriations/count".to_owned(),
        "/admin/petitions".into(),
        "/admin/pledges".into(),
    ]);
    paths.extend([
        "/admin/comments?order=newest".to_owned(),
        "/admin/comments?status=spam".into(),
        format!("/admin/updates/{update_id}"),
    ]);
    for path in &paths {
        let read = |app: &TestApp| {
            let request = app.admin(Method::GET, path);
            async move {
                let answer = request.send().await.unwrap();
                (answer.status(), answer.text().await.unwrap())
            }
        };
        let (before, after) = (read(&source).await, read(&target).await);
        assert_eq!(before.0, StatusCode::OK, "{path}: {}", before.1);
        assert_eq!(before, after, "{path}");
    }
    let gather = rally_cli::stats::gather;
    assert_eq!(gather(&source.stack.app.store).await.unwrap(), gather(&target.stack.app.store).await.unwrap());
    assert!(target.stack.mails().await.is_empty(), "a restore mails nobody (the source sent {mails_before})");
    // Restored, it still counts on: a new signature is the fifth.
    let sign = json!({"name": "After", "email": "after@example.org", "public": false, "consent": true});
    target.send(target.http.post(target.url("/petitions/stop-the-repatriations/signatures")).json(&sign)).await;
    let link = target.stack.mails().await.into_iter().find(|m| m.to == "after@example.org").unwrap().links[0].clone();
    target.send(target.http.post(link)).await;
    assert_eq!(target.get("/petitions/stop-the-repatriations/count").await.body["signature_count"], 5);

    // Not into a table that holds anything, nor with another secret.
    assert_eq!(rally(&target, &["restore", dir.to_str().unwrap()]).await, 1);
    let other = TestApp::spawn().await;
    assert_eq!(rally(&other, &["restore", dir.to_str().unwrap()]).await, 1);
    assert_eq!(other.get("/posts").await.body["items"], json!([]));
    let _ = std::fs::remove_dir_all(dir);
}

/// A stand-in for CloudFormation's `DescribeStacks` (its query protocol: a form post
/// answered in XML) that knows one stack and its outputs.
async fn cloudformation(stack: &'static str, outputs: Vec<(&'static str, String)>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let members: String = outputs
        .iter()
        .map(|(k, v)| format!("<member><OutputKey>{k}</OutputKey><OutputValue>{v}</OutputValue></member>"))
        .collect();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else { continue };
            let members = members.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut chunk = [0u8; 4096];
                // Headers, then as much body as Content-Length says.
                loop {
                    let Ok(n) = stream.read(&mut chunk).await else { return };
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&request).to_string();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let length = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                            })
                            .and_then(|v| v.parse::<usize>().ok())
                            .unwrap_or(0);
                        if body.len() >= length {
                            break;
                        }
                    }
                }
                let text = String::from_utf8_lossy(&request);
                let known = text.contains("Action=DescribeStacks") && text.contains(&format!("StackName={stack}"));
                let (status, body) = if known {
                    (
                        "200 OK",
                        format!(
                            "<DescribeStacksResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><DescribeStacksResult>\
                         <Stacks><member><StackName>{stack}</StackName><StackStatus>CREATE_COMPLETE</StackStatus>\
                         <CreationTime>2026-12-01T00:00:00Z</CreationTime><Outputs>{members}</Outputs></member></Stacks>\
                         </DescribeStacksResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DescribeStacksResponse>"
                        ),
                    )
                } else {
                    (
                        "400 Bad Request",
                        "<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code>\
                      <Message>Stack does not exist</Message></Error><RequestId>2</RequestId></ErrorResponse>"
                            .to_owned(),
                    )
                };
                let answer = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            });
        }
    });
    url
}

#[tokio::test]
async fn with_stack_the_table_and_its_secret_come_from_the_stacks_outputs() {
    let app = TestApp::spawn().await;
    let config = &app.stack.app.config;
    let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:HashSecret-abc";
    let secrets_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let secrets_url = format!("http://{}", secrets_listener.local_addr().unwrap());
    let secret_json = json!({"hash_secret": config.ip_hash_salt}).to_string();
    local_stack::secrets::serve(secrets_listener, [(arn.to_owned(), secret_json)].into_iter().collect());
    let stack =
        cloudformation("rally-test", vec![("TableName", config.table_name.clone()), ("HashSecretArn", arn.into())])
            .await;
    let endpoint = config.dynamodb_endpoint.clone().unwrap();
    let file = fixture("disqus.xml");
    let args = |name: &'static str| {
        vec![
            "rally".to_owned(),
            "--quiet".into(),
            "--stack".into(),
            name.into(),
            "--cloudformation-endpoint".into(),
            stack.clone(),
            "--secrets-endpoint".into(),
            secrets_url.clone(),
            "--endpoint".into(),
            endpoint.clone(),
            "import".into(),
            "disqus".into(),
            file.to_string_lossy().into_owned(),
        ]
    };
    assert_eq!(rally_cli::run_from(args("rally-test")).await, 2, "imported, with the fixture's skips");
    // The addresses were hashed with the stack's secret: the same hashes as its functions make.
    let made = app.get("/posts/what-happens-to-returned-defectors/comments").await.body;
    assert_eq!(made["items"][0]["author"], "Hyejin");
    assert_eq!(rally_cli::run_from(args("no-such-stack")).await, 1);
    // An export through the stack carries the fingerprint of the stack's secret.
    let dir = scratch("stack-export");
    let mut export = args("rally-test");
    export.truncate(10);
    export.extend(["export".into(), "--out".into(), dir.to_string_lossy().into_owned()]);
    assert_eq!(rally_cli::run_from(export).await, 0);
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["secret_fingerprint"], rally_cli::backup::fingerprint(&config.ip_hash_salt));
    let _ = std::fs::remove_dir_all(dir);
}
