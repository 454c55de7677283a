//! The peers, measured in the same run as Rally, under the same `wrk` settings, on the
//! same three workloads, each seeded through its own public API: a thread of 200 comments
//! (20 top-level, 180 replies, about 300 characters each, a little Markdown) read in one
//! request; the comment counts of 20 posts; and a new comment (unique text each). Then
//! each server's memory after the load, and its widget's bytes gzipped.
//!
//! Isso 0.14 runs under gunicorn with 2 sync workers, its SQLite database fresh, its
//! rate-limit guard off (as Rally's limiter is bypassed for the benchmark), from its own
//! virtualenv (`BENCH_PEERS_VENV`, default `.tools/peers`; its pins conflict with the SAM
//! CLI's). Waline (`@waline/vercel`, the server of the comment system built to deploy
//! serverless on Vercel) runs under Node from `bench/peers/` with SQLite (the harness
//! creates its schema), Akismet off, `IPQPS=0`, and a local stand-in for the OAuth service
//! list it would fetch from the internet. Every address either is given is 127.0.0.1. A
//! peer that cannot be installed or started is reported as such, and the rest runs.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::load::{self, Run, Scenario};

/// A server's figures on the three workloads.
pub struct Figures {
    pub thread: Run,
    pub counts: Run,
    pub comment: Run,
    /// Resident memory after the load, all of its processes.
    pub memory_kib: u64,
    /// Its widget's script and stylesheet, gzipped.
    pub widget_gz: u64,
    pub note: String,
}

pub struct Peer {
    pub name: &'static str,
    pub figures: Result<Figures, String>,
}

/// Text of about 300 characters with a little Markdown.
pub fn text(n: usize) -> String {
    let body = format!(
        "Comment {n}: the court will hear the *appeal* next month, and **every** letter helps. {}",
        crate::FILLER.repeat(3)
    );
    body.chars().take(300).collect()
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

/// Resident memory of one process.
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0)
}

/// Resident memory of `pid` and all its descendants.
pub fn tree_rss_kib(pid: u32) -> u64 {
    let mut total = 0;
    let mut pending = vec![pid];
    while let Some(pid) = pending.pop() {
        total += rss_kib(pid);
        for task in std::fs::read_dir(format!("/proc/{pid}/task")).into_iter().flatten().flatten() {
            let children = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
            pending.extend(children.split_whitespace().filter_map(|c| c.parse::<u32>().ok()));
        }
    }
    total
}

async fn gzipped_file(path: &Path) -> Result<u64, String> {
    let output = tokio::process::Command::new("gzip")
        .args(["-9", "-c"])
        .arg(path)
        .output()
        .await
        .map_err(|e| format!("gzip: {e}"))?;
    Ok(output.stdout.len() as u64)
}

/// Waits until `probe` answers 2xx; after a minute, the server's `log` says why not.
async fn up(http: &reqwest::Client, probe: &str, log: &Path) -> Result<(), String> {
    let started = Instant::now();
    while !http.get(probe).send().await.is_ok_and(|r| r.status().is_success()) {
        if started.elapsed() > Duration::from_secs(60) {
            let log = std::fs::read_to_string(log).unwrap_or_default();
            return Err(format!("did not start within 60 s: {}", log.chars().take(500).collect::<String>()));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

/// Each workload after an unmeasured run of the same length, as Rally's are.
pub async fn measure(
    thread: Scenario<'_>,
    counts: Scenario<'_>,
    comment: Scenario<'_>,
    seconds: u64,
    scratch: &Path,
) -> Result<(Run, Run, Run), String> {
    let mut runs = Vec::new();
    for (name, scenario) in [("thread", &thread), ("counts", &counts), ("comment", &comment)] {
        println!("  {name} (warm-up, {seconds} s)");
        load::wrk(&scenario.warm_up(), seconds, scratch).await?;
        println!("  {name} ({seconds} s)");
        runs.push(load::wrk(scenario, seconds, scratch).await?);
    }
    let comment = runs.pop().expect("three runs");
    let counts = runs.pop().expect("three runs");
    let thread = runs.pop().expect("three runs");
    Ok((thread, counts, comment))
}

/// Isso: installed, started, seeded, measured, stopped.
pub async fn isso(venv: &Path, seconds: u64, scratch: &Path) -> Peer {
    let figures = run_isso(venv, seconds, scratch).await;
    Peer { name: "Isso 0.14", figures }
}

async fn run_isso(venv: &Path, seconds: u64, scratch: &Path) -> Result<Figures, String> {
    let gunicorn = venv.join("bin/gunicorn");
    if !gunicorn.exists() {
        return Err(format!("not installed: {} is missing (make bench installs it)", gunicorn.display()));
    }
    let dir = scratch.join("isso");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let port = free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    let config = dir.join("isso.cfg");
    std::fs::write(
        &config,
        format!(
            "[general]\ndbpath = {}\nhost = {base}/\n[moderation]\nenabled = false\n[guard]\nenabled = false\n\
             [server]\nlisten = {base}/\n[markup]\nrenderer = mistune\n",
            dir.join("comments.db").display()
        ),
    )
    .map_err(|e| e.to_string())?;
    let log = std::fs::File::create(dir.join("gunicorn.log")).map_err(|e| e.to_string())?;
    let mut child = tokio::process::Command::new(&gunicorn)
        .args(["-w", "2", "-b", &format!("127.0.0.1:{port}"), "isso.run:application"])
        .env("ISSO_SETTINGS", &config)
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start gunicorn: {e}"))?;
    let pid = child.id().unwrap_or(0);
    let result = async {
        let http = reqwest::Client::new();
        up(&http, &format!("{base}/?uri=%2Fnone"), &dir.join("gunicorn.log")).await?;
        // The thread: 20 top-level comments, each with 9 replies; 20 posts of one comment.
        let post = |uri: &str, body: serde_json::Value| {
            let request = http.post(format!("{base}/new?uri={}", uri.replace('/', "%2F"))).json(&body);
            async move {
                let answer = request.send().await.map_err(|e| e.to_string())?;
                if !answer.status().is_success() {
                    return Err(format!("seeding answered {}", answer.status()));
                }
                answer.json::<serde_json::Value>().await.map_err(|e| e.to_string())
            }
        };
        let mut n = 0;
        for top in 0..20 {
            let mut first = json!({"author": format!("Reader {n}"), "text": text(n)});
            if top == 0 {
                first["title"] = json!("Bench thread");
            }
            let parent = post("/bench-thread", first).await?["id"].clone();
            n += 1;
            for _ in 0..9 {
                post("/bench-thread", json!({"author": format!("Reader {n}"), "text": text(n), "parent": parent}))
                    .await?;
                n += 1;
            }
        }
        for i in 1..=20 {
            let uri = format!("/bench-post-{i}");
            post(&uri, json!({"author": "Seed", "text": text(i), "title": format!("Post {i}")})).await?;
        }
        let read: serde_json::Value = http
            .get(format!("{base}/?uri=%2Fbench-thread"))
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        let top_level = read["replies"].as_array().map_or(0, Vec::len);
        if read["total_replies"] != 200 || top_level != 20 || read["replies"][0]["total_replies"] != 9 {
            return Err(format!(
                "the seeded thread reads back wrong: {top_level} top-level of {}",
                read["total_replies"]
            ));
        }
        let uris: Vec<String> = (1..=20).map(|i| format!("\"/bench-post-{i}\"")).collect();
        let counts = format!("[{}]", uris.join(","));
        let thread = Scenario::get(format!("{base}/?uri=%2Fbench-thread"));
        let counts = Scenario::script(
            base.clone(),
            include_str!("../wrk/isso_counts.lua"),
            vec![("BODY", format!("{counts:?}"))],
        );
        let comment =
            Scenario::script(base.clone(), include_str!("../wrk/isso_comment.lua"), vec![("POSTS", "20".into())]);
        let (thread, counts, comment) = measure(thread, counts, comment, seconds, scratch).await?;
        let memory_kib = tree_rss_kib(pid);
        let widget = isso_widget(venv).ok_or("Isso's embed.min.js is not in its package")?;
        Ok(Figures {
            thread,
            counts,
            comment,
            memory_kib,
            widget_gz: gzipped_file(&widget).await?,
            note: "gunicorn, 2 sync workers; SQLite".into(),
        })
    }
    .await;
    let _ = child.kill().await;
    result
}

/// Isso's widget: `isso/js/embed.min.js` (it brings its styles inside it).
fn isso_widget(venv: &Path) -> Option<PathBuf> {
    let lib = std::fs::read_dir(venv.join("lib")).ok()?.flatten().next()?.path();
    let path = lib.join("site-packages/isso/js/embed.min.js");
    path.exists().then_some(path)
}

/// Waline's SQLite schema: its comments, counters and users.
const WALINE_SCHEMA: &str = include_str!("../peers/waline.sql");

/// Waline: started on a fresh database, seeded, measured, stopped.
pub async fn waline(dir: &Path, seconds: u64, scratch: &Path) -> Peer {
    let figures = run_waline(dir, seconds, scratch).await;
    Peer { name: "Waline 1.39", figures }
}

/// A stand-in for the OAuth service list Waline fetches: no services.
async fn oauth_stub() -> Result<String, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let url = format!("http://{}/", listener.local_addr().map_err(|e| e.to_string())?);
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else { continue };
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                let body = r#"{"services":[]}"#;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            });
        }
    });
    Ok(url)
}

async fn run_waline(dir: &Path, seconds: u64, scratch: &Path) -> Result<Figures, String> {
    let server = dir.join("node_modules/@waline/vercel/vanilla.js");
    let binding = dir.join("node_modules/sqlite3/build/Release/node_sqlite3.node");
    if !server.exists() || !binding.exists() {
        return Err(format!(
            "not installed: {} or its SQLite binding is missing (make bench installs them)",
            server.display()
        ));
    }
    let data = scratch.join("waline");
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
    rusqlite::Connection::open(data.join("waline.sqlite"))
        .and_then(|db| db.execute_batch(WALINE_SCHEMA))
        .map_err(|e| format!("cannot create its schema: {e}"))?;
    let oauth = oauth_stub().await?;
    let port = free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    let log = std::fs::File::create(data.join("waline.log")).map_err(|e| e.to_string())?;
    let mut child = tokio::process::Command::new("node")
        .arg(&server)
        .arg(port.to_string())
        .current_dir(dir)
        .env("SQLITE_PATH", &data)
        .env("JWT_TOKEN", "bench-jwt-token-0123456789abcdef")
        .env("AKISMET_KEY", "false")
        .env("IPQPS", "0")
        .env("OAUTH_URL", &oauth)
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start node: {e}"))?;
    let pid = child.id().unwrap_or(0);
    let result = async {
        let http = reqwest::Client::new();
        up(&http, &format!("{base}/api/comment?type=count&url=/none"), &data.join("waline.log")).await?;
        let post = |body: serde_json::Value| {
            let request = http.post(format!("{base}/api/comment")).json(&body);
            async move {
                let answer: serde_json::Value =
                    request.send().await.map_err(|e| e.to_string())?.json().await.map_err(|e| e.to_string())?;
                if answer["errno"] != 0 {
                    return Err(format!("seeding answered {answer}"));
                }
                Ok(answer["data"].clone())
            }
        };
        let mut n = 0;
        for _ in 0..20 {
            let top = post(json!({"nick": format!("Reader {n}"), "comment": text(n), "url": "/bench-thread", "ua": "bench"})).await?;
            let id = top["objectId"].clone();
            n += 1;
            for _ in 0..9 {
                let reply = json!({"nick": format!("Reader {n}"), "comment": text(n), "url": "/bench-thread", "ua": "bench",
                                   "pid": id, "rid": id});
                post(reply).await?;
                n += 1;
            }
        }
        for i in 1..=20 {
            post(json!({"nick": "Seed", "comment": text(i), "url": format!("/bench-post-{i}"), "ua": "bench"})).await?;
        }
        let thread_path = "/api/comment?path=/bench-thread&pageSize=20&page=1";
        let read: serde_json::Value =
            http.get(format!("{base}{thread_path}")).send().await.map_err(|e| e.to_string())?.json().await.map_err(|e| e.to_string())?;
        let top_level = read["data"]["data"].as_array().map_or(0, Vec::len);
        let replies = read["data"]["data"][0]["children"].as_array().map_or(0, Vec::len);
        if top_level != 20 || replies != 9 {
            return Err(format!("the seeded thread reads back wrong: {top_level} top-level, {replies} replies"));
        }
        let urls: String = (1..=20).map(|i| format!("&url=/bench-post-{i}")).collect();
        let thread = Scenario::get(format!("{base}{thread_path}"));
        let counts = Scenario::get(format!("{base}/api/comment?type=count{urls}"));
        let comment = Scenario::script(base.clone(), include_str!("../wrk/waline_comment.lua"), vec![("POSTS", "20".into())]);
        let (thread, counts, comment) = measure(thread, counts, comment, seconds, scratch).await?;
        let memory_kib = tree_rss_kib(pid);
        let client = dir.join("node_modules/@waline/client/dist");
        let widget_gz = gzipped_file(&client.join("waline.js")).await? + gzipped_file(&client.join("waline.css")).await?;
        Ok(Figures { thread, counts, comment, memory_kib, widget_gz, note: "Node, one worker; SQLite".into() })
    }
    .await;
    let _ = child.kill().await;
    result
}
