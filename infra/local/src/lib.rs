//! The Docker-free local stack behind `make dev` and the integration tests: DynamoDB
//! Local, the table read from `infra/template.yaml`, and every function served on one
//! port through a router that speaks API Gateway's HTTP API event format.

pub mod dynamodb;
pub mod router;
pub mod seed;
pub mod template;

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use app::mail::Outbox;
use app::{App, Config, Store};
use lambda_http::http::{Method, StatusCode, header};
use lambda_http::{Body, Response};
use tokio::net::TcpListener;

pub use dynamodb::DynamoDbLocal;
pub use router::Router;
pub use template::Template;

/// A running stack: the app's store and the address it answers on.
pub struct Stack {
    pub app: App,
    /// Every mail the stack "sent", as `GET /_dev/outbox` shows them.
    pub outbox: Outbox,
    pub addr: SocketAddr,
    pub base_url: String,
}

/// Creates `config.table_name` (as the template declares it) in the store the config
/// points at, and serves every function on `listener`. The server runs as a task of the
/// current runtime and stops with it.
pub async fn start(config: Config, template: &Template, listener: TcpListener) -> Result<Stack, String> {
    start_with(config, template, listener, Options::default()).await
}

/// What a benchmark or a test may change about a stack; `make dev` uses the defaults.
#[derive(Default)]
pub struct Options {
    /// Take the client's address from the first `X-Forwarded-For` entry rather than the
    /// TCP peer, so one load generator can stand for many readers. API Gateway always
    /// uses the peer; only benchmarks set this.
    pub trust_forwarded_for: bool,
}

pub async fn start_with(
    config: Config,
    template: &Template,
    listener: TcpListener,
    options: Options,
) -> Result<Stack, String> {
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // Links in mail point at this stack, whatever Host a client sends.
    let mut config = config;
    config.public_url.get_or_insert_with(|| format!("http://{addr}"));
    let store = Store::connect(&config.store()).await;
    dynamodb::create_table(store.client(), &config.table_name, &template.table).await?;
    let outbox = Outbox::default();
    let app = App { config: Arc::new(config), store, mailer: Arc::new(outbox.clone()), clock: Default::default() };
    let dev = outbox.clone();
    let dev_routes: router::DevRoutes = Arc::new(move |method: &Method, path: &str| dev_route(&dev, method, path));
    let mut router = Router::new(template, app.clone(), Some(dev_routes))?;
    router.trust_forwarded_for = options.trust_forwarded_for;
    tokio::spawn(router::serve(listener, Arc::new(router)));
    Ok(Stack { app, outbox, addr, base_url: format!("http://{addr}") })
}

const DEMO_PAGE: &str = include_str!("demo.html");

/// The local-only routes (never deployed, not in `openapi.yaml`): `GET /`, the demo blog,
/// and `GET /_dev/outbox`.
fn dev_route(
    outbox: &Outbox,
    method: &Method,
    path: &str,
) -> Option<Pin<Box<dyn Future<Output = Response<Body>> + Send>>> {
    match (method, path) {
        (&Method::GET, "/_dev/outbox") => {
            let body = serde_json::json!({ "items": outbox.mails() });
            Some(Box::pin(async move { app::http::json(StatusCode::OK, &body) }))
        }
        (&Method::GET, "/") => Some(Box::pin(async {
            Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
                .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
                .header(
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'",
                )
                .body(Body::Text(DEMO_PAGE.to_owned()))
                .expect("valid response")
        })),
        _ => None,
    }
}
