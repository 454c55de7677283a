//! The HTTP layer every function runs in: the [`App`] a handler is given, configuration,
//! the error type with its HTTP mapping (including the store's errors), admin
//! authentication, CORS, mail, and the signup routes both campaign kinds share. The
//! domain and the store are the crates below it, re-exported under the same paths.
//!
//! Nothing here knows about the Lambda runtime loop: handlers are plain async functions
//! of `lambda_http::Request`, so the same code runs on Lambda, in the local stack and in
//! tests.

pub mod auth;
pub mod cache;
pub mod config;
pub mod error;
pub mod http;
pub mod mail;
pub mod pages;
pub mod secrets;
pub mod signups;
pub mod updates;

// The layers below, under the paths the functions use.
pub use domain::{FieldErrors, campaign, comment, input, markdown, post, time};
pub use store;

pub use config::Config;
pub use error::ApiError;
pub use store::Store;

/// Everything a handler needs, built once per process and shared by every request.
#[derive(Clone)]
pub struct App {
    pub config: std::sync::Arc<Config>,
    pub store: Store,
    pub clock: time::Clock,
}

impl App {
    /// Builds the app from the environment, the way every function's `main` does, with
    /// the secrets the environment names read from Secrets Manager first ([`secrets`]).
    /// Requests send no mail: they queue it, and the events function sends it.
    pub async fn from_env() -> Result<Self, config::ConfigError> {
        let env = |name: &str| std::env::var(name).ok();
        let secrets = secrets::read(env).await?;
        let config = Config::from_lookup(|name| secrets.get(name).cloned().or_else(|| env(name)))?;
        Ok(Self::new(config).await)
    }

    /// The app of a function that hashes nothing and signs no cursor (the posts
    /// function), so is given no secret: its unused one is random, never a known value.
    pub async fn from_env_without_secret() -> Result<Self, config::ConfigError> {
        let unused = auth::random_token();
        let config = Config::from_lookup(|name| match name {
            "IP_HASH_SALT" => Some(unused.clone()),
            _ => std::env::var(name).ok(),
        })?;
        Ok(Self::new(config).await)
    }

    /// The app over the store `config` names, on the system clock.
    pub async fn new(config: Config) -> Self {
        let store = Store::connect(&config.store()).await;
        Self { config: std::sync::Arc::new(config), store, clock: time::Clock::default() }
    }
}

/// Decodes `item` as every kind of stored item and renders each as the API would show
/// it: the whole read path, for the property tests and the fuzz target, which feed it
/// arbitrary items. An item that does not decode is an error, never a panic.
pub fn render_stored(
    item: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
    now: time::Timestamp,
) -> Vec<Result<serde_json::Value, store::StoreError>> {
    store::decode_stored(item, now)
        .into_iter()
        .map(|decoded| {
            decoded.map(|stored| match stored {
                store::Stored::Post(post) => to_json(&post.view(now)),
                store::Stored::Comment(comment) => to_json(&comment.view()),
                store::Stored::Campaign(campaign) => {
                    let all = store::Tally { count: u64::MAX, amount: u64::MAX };
                    signups::campaign_json(&campaign, all, now)
                }
                store::Stored::Signup(signup) => serde_json::Value::String(signups::csv_row(&signup, "")),
                store::Stored::Token(token) => serde_json::Value::String(signups::confirm_page_html(&token, None)),
                store::Stored::Outbox(queued) => match (&queued.mail, &queued.webhook) {
                    (Some(mail), _) => to_json(mail),
                    (None, call) => to_json(call),
                },
            })
        })
        .collect()
}

fn to_json(view: &impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(view).expect("a view serialises")
}

/// JSON logs for CloudWatch; `RUST_LOG` picks the level (`error`, `warn`, `info`,
/// `debug`, `trace`; default `info`). A level, not per-module directives: the filter
/// language would bring a regex engine into every binary.
pub fn init_tracing() {
    let level = std::env::var("RUST_LOG")
        .ok()
        .and_then(|value| value.trim().parse::<tracing::Level>().ok())
        .unwrap_or(tracing::Level::INFO);
    tracing_subscriber::fmt().json().with_max_level(level).with_current_span(false).without_time().init();
}
