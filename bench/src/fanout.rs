//! A pledge's success, to its last signer's mail: `signers` confirmed signups (the last
//! confirmation crosses the threshold), then the time until every signer's success mail
//! has gone out at `rate` mails a second, through the stream, the fan-out job's pages,
//! the outbox and the events function. It runs on a stack of its own, so its pacing
//! slows nothing else measured, and on a DynamoDB Local of its own.

use std::time::{Duration, Instant};

use app::campaign::{Kind, SignupDetails};
use app::comment::Email;
use app::post::Slug;
use app::store::Campaign;
use app::store::campaigns::Terms;
use futures::StreamExt;

pub struct Fanout {
    pub signers: usize,
    pub rate: u32,
    pub seed_time: Duration,
    /// From the confirmation that crossed the threshold to the last success mail.
    pub mail_time: Duration,
    pub mails: usize,
}

const SLUG: &str = "bench-fanout";

pub async fn run(template: &local_stack::Template, signers: usize, rate: u32) -> Result<Fanout, String> {
    let dynamodb = local_stack::DynamoDbLocal::start()?;
    let table = format!("bench-fanout-{}", std::process::id());
    let mut config = app::Config::local(&table, &dynamodb.endpoint, "bench-admin");
    config.mail_rate = rate;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let options = local_stack::Options { manual_schedules: true, ..Default::default() };
    let stack = local_stack::start_with(config, template, listener, options).await?;
    let app = &stack.app;
    let slug = Slug::parse(SLUG).expect("valid");
    let now = app::time::now();
    let terms = Terms::Pledge {
        threshold: signers as u64,
        deadline: app::time::format(now + time::Duration::days(30)),
        currency: "USD".into(),
        suggested_amount: Some(3),
        petition: None,
        fulfilment_text: Some("Give at the fund's page.".into()),
        fulfilment_url: Some("https://fund.example/give".into()),
    };
    let campaign = Campaign::new(&slug, "Fan-out".into(), "B".into(), None, terms, now);
    app.store.create_campaign(&campaign).await.map_err(|e| e.to_string())?;

    // Every signer but the last confirms; the stream sees each and finds the count short.
    let started = Instant::now();
    let confirm = |i: usize| {
        let slug = slug.clone();
        async move {
            let email = Email::parse(&format!("fan-{i}@fanout.example")).expect("valid");
            let details = SignupDetails { name: format!("Fan {i}"), amount: Some(3), ..Default::default() };
            local_stack::seed::confirmed_signup(app, Kind::Pledge, &slug, &email, details, now)
                .await
                .map_err(|e| e.to_string())
        }
    };
    let results: Vec<Result<(), String>> =
        futures::stream::iter(0..signers - 1).map(confirm).buffer_unordered(32).collect().await;
    results.into_iter().collect::<Result<Vec<()>, String>>()?;
    stack.settle().await;
    let seed_time = started.elapsed();
    println!("  {} signers seeded in {:.0} s", signers - 1, seed_time.as_secs_f64());

    let crossed = Instant::now();
    confirm(signers - 1).await?;
    let success = |mail: &app::mail::Mail| mail.subject.starts_with("It worked");
    let deadline = Duration::from_secs(signers as u64 / u64::from(rate.max(1)) * 3 + 600);
    let mut said = Instant::now();
    loop {
        let mails = stack.outbox.mails().iter().filter(|m| success(m)).count();
        if said.elapsed() > Duration::from_secs(30) {
            println!("  {mails} of {signers} success mails after {:.0} s", crossed.elapsed().as_secs_f64());
            said = Instant::now();
        }
        if mails >= signers {
            return Ok(Fanout { signers, rate, seed_time, mail_time: crossed.elapsed(), mails });
        }
        if crossed.elapsed() > deadline {
            return Err(format!("only {mails} of {signers} success mails after {deadline:?}"));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
