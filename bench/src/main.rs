//! `make bench`: measures sizes, cold starts, load, capacity and the viral day, and
//! writes `bench/results.md`. It never fails on a number; it fails only when something
//! could not be measured (a request that errs, a count that does not add up), because
//! then the figures would be wrong.
//!
//! Settings (environment): `BENCH_LAMBDA_DIR` (the `cargo lambda build` output),
//! `BENCH_BIN_DIR` (the release binaries), `BENCH_OUT` (default `bench/results.md`),
//! `BENCH_SECONDS` (each wrk run, default 20), `BENCH_STARTS` (cold starts per function,
//! default 25), `BENCH_VIRAL_SIGNUPS` (default 20,000), `BENCH_BUILD_SECONDS` (the
//! builds' time, for the report).

mod capacity;
mod ceiling;
mod cold_start;
mod fanout;
mod import;
mod load;
mod peers;
mod report;
mod viral;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::{App, Config, Store};
use aws_sdk_dynamodb::Client;
use local_stack::{DynamoDbLocal, Options, Router, Template, router, template};
use serde_json::{Value, json};

use crate::capacity::{Call, ConsumedCapacity, Recorder};
use crate::load::Scenario;

pub const FUNCTIONS: [&str; 6] = ["posts", "comments", "petitions", "pledges", "widget", "events"];
const ADMIN_TOKEN: &str = "bench-admin-token";
const THREAD: &str = "bench-thread";
const PETITION: &str = "bench-petition";
const VIRAL: &str = "viral-day";
/// The text of the benchmark's comments, repeated to about 300 characters.
pub const FILLER: &str = "The court will hear the appeal next month; every letter to the ministry helps. ";

#[tokio::main]
async fn main() {
    if let Err(err) = run().await {
        eprintln!("bench: {err}");
        std::process::exit(1);
    }
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_owned())
}

fn number(name: &str, default: u64) -> Result<u64, String> {
    env_or(name, &default.to_string()).parse().map_err(|_| format!("{name} is not a number"))
}

async fn run() -> Result<(), String> {
    // The stack's own log (RUST_LOG=error shows why a request failed).
    if std::env::var("RUST_LOG").is_ok() {
        app::init_tracing();
    }
    let began = Instant::now();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| root.join("target"));
    let lambda_dir = PathBuf::from(env_or("BENCH_LAMBDA_DIR", &target.join("lambda").to_string_lossy()));
    let bin_dir =
        PathBuf::from(env_or("BENCH_BIN_DIR", &target.join("x86_64-unknown-linux-gnu/release").to_string_lossy()));
    let out = PathBuf::from(env_or("BENCH_OUT", &root.join("bench/results.md").to_string_lossy()));
    let seconds = number("BENCH_SECONDS", 20)?;
    let starts = number("BENCH_STARTS", 25)? as usize;
    let mut results = report::Results {
        build_seconds: std::env::var("BENCH_BUILD_SECONDS").ok().and_then(|s| s.parse().ok()),
        ..Default::default()
    };

    let rally = PathBuf::from(env_or("BENCH_RALLY", &target.join("bench-harness/rally").to_string_lossy()));
    let import_comments = number("BENCH_IMPORT_COMMENTS", 100_000)? as usize;
    let template = Template::load(&template::default_path())?;
    // The importer alone, for measuring a change to it without the hour of load.
    if std::env::var("BENCH_IMPORT_ONLY").is_ok_and(|v| v == "1") {
        let dynamodb = DynamoDbLocal::start()?;
        let scratch = std::env::temp_dir().join(format!("rally-bench-{}", std::process::id()));
        std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
        println!("rally import of a generated {import_comments}-comment WordPress export");
        let run = import::run(&rally, &dynamodb.endpoint, &template, import_comments, &scratch).await?;
        println!("{}", report::import_line(&run));
        return Ok(());
    }

    // Rally and its peers first, on an emulator of their own: Rally's memory is this
    // process's, which later phases (the viral day, the import) would swell with what the
    // harness itself holds. `BENCH_PEERS_ONLY=1` stops after them.
    println!("Rally and its peers ({seconds} s per workload)");
    let fresh = DynamoDbLocal::start()?;
    let peers = compare(&root, &fresh, &template, seconds).await?;
    drop(fresh);
    if std::env::var("BENCH_PEERS_ONLY").is_ok_and(|v| v == "1") {
        println!("{peers}");
        return Ok(());
    }
    results.peers = Some(peers);

    println!("package sizes");
    for name in FUNCTIONS {
        let zip = size(&lambda_dir.join(name).join("bootstrap.zip"))?;
        let binary = size(&bin_dir.join(name))?;
        results.sizes.push((name, binary, zip));
    }

    println!("widget weight");
    for asset in ["embed.js", "embed.css"] {
        let path = root.join("functions/widget/assets").join(asset);
        results.widget.push((asset, size(&path)?, gzipped(&path).await?));
    }

    println!("starting DynamoDB Local");
    let dynamodb = DynamoDbLocal::start()?;
    let table = format!("bench-{}", std::process::id());
    let (config, stack) = measured_stack(&dynamodb, &table, &template).await?;
    let base = stack.base_url.clone();
    let http = reqwest::Client::new();

    println!("seeding: 200-comment thread, 41 posts, a petition, a pledge");
    seed(&http, &base).await?;

    println!("capacity per request");
    let (measured_base, recorder) = capacity_stack(&config, &template).await?;
    results.capacity = measure_capacity(&http, &measured_base, &recorder, &stack).await?;

    println!("cold starts ({starts} per function)");
    results.cold_floor = cold_start::floor(starts).await?;
    // As deployed, the functions read the hashing secret from Secrets Manager at start-up
    // (here from the local stack's endpoint for it), so their starts include that read.
    let secrets_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let secrets_url = format!("http://{}", secrets_listener.local_addr().map_err(|e| e.to_string())?);
    let secret = serde_json::json!({ "hash_secret": config.ip_hash_salt }).to_string();
    local_stack::secrets::serve(secrets_listener, HashMap::from([(HASH_SECRET_ARN.to_owned(), secret)]));
    let env = function_env(&table, &dynamodb.endpoint, &secrets_url);
    for name in FUNCTIONS {
        let (route, path, params) = match name {
            "posts" => ("GET /posts/{slug}", format!("/posts/{THREAD}"), json!({"slug": THREAD})),
            "comments" => ("GET /posts/{slug}/comments", format!("/posts/{THREAD}/comments"), json!({"slug": THREAD})),
            "petitions" => {
                ("GET /petitions/{slug}/count", format!("/petitions/{PETITION}/count"), json!({"slug": PETITION}))
            }
            "pledges" => ("GET /pledges/{slug}", "/pledges/bench-pledge".to_owned(), json!({"slug": "bench-pledge"})),
            "events" => ("the outbox sweep (Scheduled Event)", String::new(), Value::Null),
            _ => ("GET /embed.js", "/embed.js".to_owned(), Value::Null),
        };
        let event = match name {
            "events" => local_stack::scheduled_event("Sweep"),
            _ => cold_start::event(route, &path, params),
        };
        let runs = cold_start::measure(&bin_dir.join(name), name, &env, event, starts).await?;
        let median = |pick: fn(&cold_start::Start) -> Duration| {
            let mut all: Vec<Duration> = runs.iter().map(pick).collect();
            all.sort();
            all[all.len() / 2]
        };
        println!(
            "  {name}: median {:?} to /next, {:?} to the answer",
            median(|s| s.to_next),
            median(|s| s.to_response)
        );
        if name == "comments" {
            // What reading the secret costs: the same start with the secret in the environment.
            let mut plain = env.clone();
            plain.remove("HASH_SECRET_ARN");
            plain.insert("IP_HASH_SALT".to_owned(), config.ip_hash_salt.clone());
            let event = cold_start::event(route, &path, json!({"slug": THREAD}));
            let mut without = cold_start::measure(&bin_dir.join(name), name, &plain, event, starts).await?;
            without.sort_by_key(|s| s.to_response);
            println!(
                "  {name} without reading the secret: median {:?} to the answer",
                without[without.len() / 2].to_response
            );
        }
        results.cold.push((name, route.to_owned(), runs));
    }
    // Cold starts alone, for measuring a change to start-up without the hour of load.
    if std::env::var("BENCH_COLD_ONLY").is_ok_and(|v| v == "1") {
        return Ok(());
    }

    let scratch = std::env::temp_dir().join(format!("rally-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let counts = (1..=20).map(|i| format!("bench-post-{i}")).collect::<Vec<_>>().join(",");
    let comment = include_str!("../wrk/comment.lua");
    let scenarios: Vec<(&str, Scenario)> = vec![
        ("thread", Scenario::get(format!("{base}/posts/{THREAD}/comments?limit=200"))),
        (
            "comment",
            Scenario::script(base.clone(), comment, vec![("SLUG", "\"bench-post\"".into()), ("POSTS", "20".into())]),
        ),
        (
            "comment-one-post",
            Scenario::script(base.clone(), comment, vec![("SLUG", "\"bench-hot\"".into()), ("POSTS", "1".into())]),
        ),
        ("counts", Scenario::get(format!("{base}/comments/counts?posts={counts}"))),
        (
            "signup",
            Scenario::script(
                base.clone(),
                include_str!("../wrk/signup.lua"),
                vec![("PETITION", format!("{PETITION:?}"))],
            ),
        ),
    ];
    let java = dynamodb.pid();
    for (name, scenario) in &scenarios {
        // Unmeasured first, as long: DynamoDB Local's JIT compiles the path while this
        // runs (a 5 s warm-up was not enough: the first write run after the reads still
        // cost the emulator twice the CPU), so the measured run is not charged for it.
        // DynamoDB itself has no JVM to warm.
        println!("wrk: {name} (warm-up, {seconds} s)");
        load::wrk(&scenario.warm_up(), seconds, &scratch).await?;
        println!("wrk: {name} ({seconds} s)");
        let (run, cpu) = timed(java, load::wrk(scenario, seconds, &scratch)).await?;
        results.load.push((name.to_string(), run, cpu));
    }

    println!("DynamoDB Local alone ({seconds} s per write kind)");
    results.ceiling = ceiling::measure(&stack.app.store, java, seconds).await?;

    // Confirmations need tokens: those the signup run just made.
    let tokens = tokens_to(&stack, "@wrk.example").await;
    let before = signature_count(&http, &base, PETITION).await?;
    let token_file = scratch.join("tokens.txt");
    std::fs::write(&token_file, tokens.join("\n")).map_err(|e| e.to_string())?;
    println!("wrk: confirm ({seconds} s, {} fresh tokens)", tokens.len());
    let confirm = Scenario::script(
        base.clone(),
        include_str!("../wrk/confirm.lua"),
        vec![("TOKENS", format!("{:?}", token_file.display().to_string())), ("THREADS", load::THREADS.to_string())],
    );
    let (run, cpu) = timed(java, load::wrk(&confirm, seconds, &scratch)).await?;
    let after = signature_count(&http, &base, PETITION).await?;
    results.fresh_confirmations = Some((tokens.len() as u64, after - before));
    results.load.push(("confirm".into(), run, cpu));
    println!("wrk: count ({seconds} s)");
    let count = Scenario::get(format!("{base}/petitions/{PETITION}/count"));
    let (run, cpu) = timed(java, load::wrk(&count, seconds, &scratch)).await?;
    results.load.push(("count".into(), run, cpu));

    let signups = number("BENCH_VIRAL_SIGNUPS", viral::SIGNUPS as u64)? as usize;
    println!("the viral day: {signups} signups from {} clients", viral::CLIENTS);
    let day = viral::run(&base, VIRAL, signups, tokens_to(&stack, "@viral.example")).await?;
    results.viral = Some(day);

    // The import runs on an emulator of its own: one that has taken the load above reads
    // its stream so slowly that the figure would be the emulator's, not Rally's.
    println!("rally import of a generated {import_comments}-comment WordPress export");
    let fresh = DynamoDbLocal::start()?;
    results.import = Some(import::run(&rally, &fresh.endpoint, &template, import_comments, &scratch).await?);
    drop(fresh);
    let _ = std::fs::remove_dir_all(&scratch);

    // The fan-out comes last, on an emulator of its own (one that has taken the hour's
    // load reads its stream slowly), and the report is written before it too: a run
    // stopped during its hour of mail keeps every other figure.
    let machine = report::Machine::read().await;
    let write = |results: &mut report::Results| {
        results.harness_seconds = began.elapsed().as_secs();
        std::fs::write(&out, report::render(results, &machine)).map_err(|e| format!("{}: {e}", out.display()))
    };
    results.fanout = Some(Err("not finished: the run was stopped during it".into()));
    write(&mut results)?;
    println!("wrote {} (the fan-out still to come)", out.display());

    let fan_signers = number("BENCH_FANOUT_SIGNERS", 20_000)? as usize;
    let fan_rate = number("BENCH_MAIL_RATE", u64::from(app::config::DEFAULT_MAIL_RATE))? as u32;
    println!("a pledge's success: {fan_signers} signers mailed at {fan_rate} mails/s");
    // A failure here is reported in its section; the figures measured so far still land.
    // `BENCH_FANOUT_SIGNERS=0` leaves it out.
    let fanout = match fan_signers {
        0 => Err("left out (`BENCH_FANOUT_SIGNERS=0`)".to_owned()),
        _ => fanout::run(&template, fan_signers, fan_rate).await,
    };
    if let Err(why) = &fanout {
        eprintln!("bench: the fan-out could not be measured: {why}");
    }
    results.fanout = Some(fanout);
    write(&mut results)?;
    println!("wrote {}", out.display());
    drop(dynamodb);
    Ok(())
}

/// Runs a wrk run and shares out the CPU this process and DynamoDB Local spent on it.
async fn timed(
    java: u32,
    run: impl std::future::Future<Output = Result<load::Run, String>>,
) -> Result<(load::Run, load::CpuShare), String> {
    let ours = std::process::id();
    let (ours_before, java_before) = (load::cpu_time(ours), load::cpu_time(java));
    let run = run.await?;
    let requests = run.requests.max(1) as u32;
    let cpu = load::CpuShare {
        ours: (load::cpu_time(ours) - ours_before) / requests,
        dynamodb: (load::cpu_time(java) - java_before) / requests,
    };
    Ok((run, cpu))
}

fn size(path: &Path) -> Result<u64, String> {
    std::fs::metadata(path).map(|m| m.len()).map_err(|e| format!("{}: {e} (run `make bench`)", path.display()))
}

async fn gzipped(path: &Path) -> Result<u64, String> {
    let output = tokio::process::Command::new("gzip").args(["-9", "-c"]).arg(path).output().await;
    output.map(|o| o.stdout.len() as u64).map_err(|e| format!("gzip: {e}"))
}

/// The environment a deployed function gets from the template, pointed at the
/// benchmark's DynamoDB Local.
const HASH_SECRET_ARN: &str = "arn:aws:secretsmanager:us-east-1:000000000000:secret:HashSecret-bench";

fn function_env(table: &str, endpoint: &str, secrets_endpoint: &str) -> HashMap<String, String> {
    HashMap::from([
        ("TABLE_NAME".to_owned(), table.to_owned()),
        ("DYNAMODB_ENDPOINT".to_owned(), endpoint.to_owned()),
        ("HASH_SECRET_ARN".to_owned(), HASH_SECRET_ARN.to_owned()),
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER".to_owned(), secrets_endpoint.to_owned()),
        ("ADMIN_TOKEN_SHA256".to_owned(), app::config::sha256_hex(ADMIN_TOKEN.as_bytes())),
        ("MAIL_SENDER".to_owned(), "petitions@bench.example".to_owned()),
        ("AWS_ACCESS_KEY_ID".to_owned(), "local".to_owned()),
        ("AWS_SECRET_ACCESS_KEY".to_owned(), "local".to_owned()),
        ("AWS_SESSION_TOKEN".to_owned(), "local".to_owned()),
    ])
}

async fn send(request: reqwest::RequestBuilder) -> Result<Value, String> {
    let answer = request.send().await.map_err(|e| e.to_string())?;
    let status = answer.status();
    let body: Value = answer.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        return Err(format!("seeding answered {status}: {body}"));
    }
    Ok(body)
}

/// The data every scenario reads: the thread of 200 comments (about 300 characters
/// each, 20 of them replies), 20 posts for the counts and the comment runs, one post
/// for the single-post run, a petition and a pledge.
async fn seed(http: &reqwest::Client, base: &str) -> Result<(), String> {
    let admin = |request: reqwest::RequestBuilder| request.bearer_auth(ADMIN_TOKEN);
    let mut slugs = vec![THREAD.to_owned(), "bench-hot-1".to_owned()];
    slugs.extend((1..=20).map(|i| format!("bench-post-{i}")));
    slugs.extend((1..=19).map(|i| format!("bench-archive-{i}")));
    for slug in &slugs {
        let post = json!({"slug": slug, "title": format!("Post {slug}"), "body": "A post for the benchmark.",
                          "author": "Bench", "tags": ["bench"]});
        send(admin(http.post(format!("{base}/posts"))).json(&post)).await?;
    }
    let filler = FILLER.repeat(4);
    let mut top_level: Vec<String> = Vec::new();
    for n in 0..200 {
        let mut comment = json!({"author": format!("Reader {n}"), "body": format!("{n}: {}", &filler[..295])});
        if n % 10 == 9 {
            comment["parent_id"] = json!(top_level[n * 7 % top_level.len()]);
        }
        let request =
            http.post(format!("{base}/posts/{THREAD}/comments")).header("x-forwarded-for", format!("10.9.0.{n}"));
        let answer = send(request.json(&comment)).await?;
        if n % 10 != 9 {
            top_level.push(answer["comment"]["id"].as_str().unwrap_or_default().to_owned());
        }
    }
    for slug in [PETITION, VIRAL] {
        let petition = json!({"slug": slug, "title": format!("Petition {slug}"), "body": "Free them.",
                              "target": "The ministry", "goal": 100_000});
        send(admin(http.post(format!("{base}/petitions"))).json(&petition)).await?;
    }
    let pledge = json!({"slug": "bench-pledge", "title": "Three dollars", "body": "If 1,000 others will.",
                        "threshold": 1000, "deadline": "2099-01-01T00:00:00Z", "suggested_amount": 3});
    send(admin(http.post(format!("{base}/pledges"))).json(&pledge)).await?;
    let count = send(http.get(format!("{base}/posts/{THREAD}/comments?limit=200"))).await?;
    let items = count["items"].as_array().map(Vec::len).unwrap_or(0);
    if items != 200 {
        return Err(format!("the thread has {items} comments, not 200"));
    }
    Ok(())
}

/// A second router over the same table whose store reads consumed capacity (its mail
/// goes out through the main stack's stream and events function).
async fn capacity_stack(config: &Config, template: &Template) -> Result<(String, Recorder), String> {
    let recorder = Recorder::default();
    let client_config = Store::client_config(&config.store()).interceptor(ConsumedCapacity(recorder.clone())).build();
    let store = Store::new(Client::from_conf(client_config), &config.table_name, &config.ip_hash_salt);
    let app = App { config: Arc::new(config.clone()), store, clock: Default::default() };
    let mut router = Router::new(template, app, None)?;
    router.trust_forwarded_for = true;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(router::serve(listener, Arc::new(router)));
    Ok((format!("http://{addr}"), recorder))
}

async fn measure_capacity(
    http: &reqwest::Client,
    base: &str,
    recorder: &Recorder,
    stack: &local_stack::Stack,
) -> Result<Vec<(String, Vec<Call>)>, String> {
    let mut measured = Vec::new();
    let counts = (1..=20).map(|i| format!("bench-post-{i}")).collect::<Vec<_>>().join(",");
    let comment = json!({"author": "Measured", "body": "A comment of about three hundred characters. ".repeat(7)});
    let signup = json!({"name": "Measured", "email": "measured@capacity.example", "public": false, "consent": true});
    // The thread page read fresh (as after any change to the thread), then again, as a
    // warm function serves it until the next change.
    let requests: Vec<(&str, reqwest::RequestBuilder)> = vec![
        ("thread-after-change", http.get(format!("{base}/posts/{THREAD}/comments?limit=200&sort=newest"))),
        ("thread", http.get(format!("{base}/posts/{THREAD}/comments?limit=200&sort=newest"))),
        ("comment", http.post(format!("{base}/posts/bench-post-1/comments")).json(&comment)),
        ("counts", http.get(format!("{base}/comments/counts?posts={counts}"))),
        ("signup", http.post(format!("{base}/petitions/{PETITION}/signatures")).json(&signup)),
    ];
    for (name, request) in requests {
        recorder.take();
        send(request.header("x-forwarded-for", "10.77.0.1")).await?;
        measured.push((name.to_owned(), recorder.take()));
    }
    let token = tokens_to(stack, "@capacity.example").await.pop().ok_or("the measured signup sent no mail")?;
    recorder.take();
    send(http.post(format!("{base}/confirm/{token}"))).await?;
    measured.push(("confirm".to_owned(), recorder.take()));
    send(http.get(format!("{base}/petitions/{PETITION}/count"))).await?;
    measured.push(("count".to_owned(), recorder.take()));
    Ok(measured)
}

/// The confirmation tokens of every mail sent to an address ending in `domain`, once
/// the stream has delivered every write made so far.
/// The confirmation tokens mailed to `domain`, once the events function has sent every
/// queued mail: requests only queue them, so a load run leaves a backlog behind it.
async fn tokens_to(stack: &local_stack::Stack, domain: &str) -> Vec<String> {
    let began = Instant::now();
    let mails = stack
        .mails_within(Duration::from_secs(3_600))
        .await
        .expect("the events function sends the queued mails within the hour");
    println!("  mail backlog for {domain} sent after {:.0} s", began.elapsed().as_secs_f64());
    mails
        .into_iter()
        .filter(|mail| mail.to.trim().to_lowercase().ends_with(domain))
        .filter_map(|mail| mail.links.first().and_then(|link| link.rsplit_once("/confirm/")).map(|(_, t)| t.to_owned()))
        .collect()
}

async fn signature_count(http: &reqwest::Client, base: &str, petition: &str) -> Result<u64, String> {
    let body = send(http.get(format!("{base}/petitions/{petition}/count"))).await?;
    body["signature_count"].as_u64().ok_or_else(|| format!("no count: {body}"))
}

/// A local stack over a fresh `table` as the load runs measure it: every writer from its
/// own address (trusted `X-Forwarded-For`, the limit out of the way), and counts answered
/// from a warm function's memory for 5 s, as deployed.
async fn measured_stack(
    dynamodb: &DynamoDbLocal,
    table: &str,
    template: &Template,
) -> Result<(Config, local_stack::Stack), String> {
    let mut config = Config::local(table, &dynamodb.endpoint, ADMIN_TOKEN);
    config.writes_per_minute = 1_000_000;
    config.count_cache = std::time::Duration::from_secs(app::config::DEFAULT_COUNT_CACHE_SECONDS.into());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let options = Options { trust_forwarded_for: true, ..Default::default() };
    let stack = local_stack::start_with(config.clone(), template, listener, options).await?;
    Ok((config, stack))
}

/// Rally and its peers on the thread, counts and new-comment workloads, one after the
/// other in this run: the side-by-side table.
async fn compare(root: &Path, dynamodb: &DynamoDbLocal, template: &Template, seconds: u64) -> Result<String, String> {
    let scratch = std::env::temp_dir().join(format!("rally-bench-peers-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let (_, stack) = measured_stack(dynamodb, &format!("bench-peers-{}", std::process::id()), template).await?;
    let base = stack.base_url.clone();
    let http = reqwest::Client::new();
    println!("Rally: seeding through its API");
    seed_peer_shape(&http, &base).await?;
    let counts = (1..=20).map(|i| format!("bench-post-{i}")).collect::<Vec<_>>().join(",");
    let comment = include_str!("../wrk/comment.lua");
    let (thread, counts, comment) = peers::measure(
        Scenario::get(format!("{base}/posts/peer-thread/comments?limit=200")),
        Scenario::get(format!("{base}/comments/counts?posts={counts}")),
        Scenario::script(base.clone(), comment, vec![("SLUG", "\"bench-post\"".into()), ("POSTS", "20".into())]),
        seconds,
        &scratch,
    )
    .await?;
    // The harness runs every function in process; DynamoDB Local is its child.
    let own = peers::rss_kib(std::process::id());
    // What stands in the way of Rally's new comments: DynamoDB Local alone taking the same
    // store calls, in this run.
    println!("DynamoDB Local alone ({seconds} s per write kind)");
    let ceilings = ceiling::measure(&stack.app.store, dynamodb.pid(), seconds).await?;
    let java = peers::tree_rss_kib(dynamodb.pid());
    let assets = root.join("functions/widget/assets");
    let widget = gzipped(&assets.join("embed.js")).await? + gzipped(&assets.join("embed.css")).await?;
    let rally = peers::Figures {
        thread,
        counts,
        comment,
        memory_kib: own + java,
        widget_gz: widget,
        note: format!("every function in one process ({} MB) and DynamoDB Local ({} MB)", own / 1024, java / 1024),
    };
    let venv = PathBuf::from(env_or("BENCH_PEERS_VENV", &root.join(".tools/peers").to_string_lossy()));
    println!("Isso");
    let isso = peers::isso(&venv, seconds, &scratch).await;
    println!("Waline");
    let waline = peers::waline(&root.join("bench/peers"), seconds, &scratch).await;
    let mut table = report::peers_table(&rally, &[isso, waline]);
    table.push_str(&report::ceiling_lines(&ceilings));
    Ok(table)
}

/// Posts and a thread shaped as the peers' are: `peer-thread` with 20 top-level comments
/// of 9 replies each, and `bench-post-1` … `-20` with one comment each.
async fn seed_peer_shape(http: &reqwest::Client, base: &str) -> Result<(), String> {
    let admin = |request: reqwest::RequestBuilder| request.bearer_auth(ADMIN_TOKEN);
    let mut slugs = vec!["peer-thread".to_owned()];
    slugs.extend((1..=20).map(|i| format!("bench-post-{i}")));
    for slug in &slugs {
        let post = json!({"slug": slug, "title": format!("Post {slug}"), "body": "A post for the benchmark.", "author": "Bench"});
        send(admin(http.post(format!("{base}/posts"))).json(&post)).await?;
    }
    let mut n = 0;
    for _ in 0..20 {
        let comment = json!({"author": format!("Reader {n}"), "body": peers::text(n)});
        let request =
            http.post(format!("{base}/posts/peer-thread/comments")).header("x-forwarded-for", format!("10.8.0.{n}"));
        let parent = send(request.json(&comment)).await?["comment"]["id"].clone();
        n += 1;
        for _ in 0..9 {
            let reply = json!({"author": format!("Reader {n}"), "body": peers::text(n), "parent_id": parent});
            let request = http
                .post(format!("{base}/posts/peer-thread/comments"))
                .header("x-forwarded-for", format!("10.8.{}.{}", n / 250, n % 250));
            send(request.json(&reply)).await?;
            n += 1;
        }
    }
    for i in 1..=20 {
        let comment = json!({"author": "Seed", "body": peers::text(i)});
        let request =
            http.post(format!("{base}/posts/bench-post-{i}/comments")).header("x-forwarded-for", format!("10.7.0.{i}"));
        send(request.json(&comment)).await?;
    }
    let read = send(http.get(format!("{base}/posts/peer-thread/comments?limit=200"))).await?;
    let items = read["items"].as_array().map(Vec::len).unwrap_or(0);
    if items != 200 {
        return Err(format!("the peer-shaped thread has {items} comments, not 200"));
    }
    Ok(())
}
