//! The Docker-free local stack behind `make dev` and the integration tests: DynamoDB
//! Local, the table read from `infra/template.yaml`, and every function served on one
//! port through a router that speaks API Gateway's HTTP API event format.

pub mod dynamodb;
pub mod policy;
pub mod router;
pub mod secrets;
pub mod seed;
pub mod streams;
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

/// A running stack: the app's store, the address it answers on, and the delivery of
/// the table's stream to the events function.
pub struct Stack {
    pub app: App,
    /// Every mail the events function sent, as `GET /_dev/outbox` shows them.
    pub outbox: Outbox,
    pub delivery: streams::Delivery,
    /// The events function, for tests that fire its schedule at a moment of their choosing.
    pub events: events::Events,
    pub addr: SocketAddr,
    pub base_url: String,
}

/// How long the dev routes and [`Stack::mails`] wait for the stream to be delivered.
pub const SETTLE_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

impl Stack {
    /// Every mail sent so far, newest first, once every write made before this call has
    /// gone through the stream and the events function.
    pub async fn mails(&self) -> Vec<app::mail::Mail> {
        self.settle().await;
        self.outbox.mails()
    }

    /// As [`Stack::mails`], waiting up to `limit` for the stream (a benchmark's backlog of
    /// thousands of queued mails takes minutes at DynamoDB Local's pace); `None` past it.
    pub async fn mails_within(&self, limit: std::time::Duration) -> Option<Vec<app::mail::Mail>> {
        self.delivery.settle(limit).await.then(|| self.outbox.mails())
    }

    /// Waits until every write made before this call has been delivered by the stream.
    pub async fn settle(&self) {
        assert!(
            self.delivery.settle(SETTLE_LIMIT).await,
            "the table's stream was not delivered within {SETTLE_LIMIT:?}"
        );
    }

    /// Invokes the events function as its schedule does, now, with the event
    /// EventBridge sends; answers what the function answered.
    pub async fn fire_schedule(&self) -> Result<serde_json::Value, String> {
        self.events.handle(scheduled_event("Sweep")).await.map_err(|e| e.to_string())
    }
}

/// The event EventBridge sends a function on a schedule.
pub fn scheduled_event(rule: &str) -> serde_json::Value {
    let now = app::time::format(app::time::now());
    serde_json::json!({
        "version": "0",
        "id": ulid::Ulid::new().to_string(),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": now,
        "region": "us-east-1",
        "resources": [format!("arn:aws:events:us-east-1:000000000000:rule/{rule}")],
        "detail": {}
    })
}

/// Locally, a schedule's minute passes in a second.
pub const SCHEDULE_SPEEDUP: u32 = 60;

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
    /// Leave the template's schedules to [`Stack::fire_schedule`] instead of firing them
    /// on their local period, for tests that must know when a schedule runs.
    pub manual_schedules: bool,
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
    let app = App { config: Arc::new(config), store, clock: Default::default() };
    let ses = LocalSes { outbox: outbox.clone(), feedback: Arc::default(), topic: feedback_topic(template)? };
    let feedback = ses.feedback.clone();
    let events = events::Events::new(function_app(&app, template, "events"), Arc::new(ses));
    let _ = feedback.set(events.clone());
    let delivery = start_events(&events, &app, template, !options.manual_schedules).await?;
    let dev = DevState { outbox: outbox.clone(), delivery: delivery.clone() };
    let dev_routes: router::DevRoutes = Arc::new(move |method: &Method, path: &str| dev_route(&dev, method, path));
    let mut router = Router::new(template, app.clone(), Some(dev_routes))?;
    router.function_apps =
        template.policies.keys().map(|binary| (binary.clone(), function_app(&app, template, binary))).collect();
    router.trust_forwarded_for = options.trust_forwarded_for;
    tokio::spawn(router::serve(listener, Arc::new(router)));
    Ok(Stack { app, outbox, delivery, events, addr, base_url: format!("http://{addr}") })
}

/// `binary`'s app: the stack's, with a store held to the function's template policy.
/// (Tests and the dev routes use the stack's own app, which may do anything.)
fn function_app(app: &App, template: &Template, binary: &str) -> App {
    match template.policies.get(binary) {
        Some(policy) => App { store: app.store.with_interceptor(policy::Enforce(policy.clone())), ..app.clone() },
        None => app.clone(),
    }
}

/// The events function, fed the table's stream as the template's `DynamoDB` event says,
/// and invoked on each of its `Schedule` events every [`SCHEDULE_SPEEDUP`]th of its period.
pub async fn start_events(
    events: &events::Events,
    app: &App,
    template: &Template,
    fire_schedules: bool,
) -> Result<streams::Delivery, String> {
    let event = template.stream.clone().ok_or("template: no function reads the table's stream")?;
    if event.binary != "events" {
        return Err(format!("template: the stream feeds {}, which the local stack does not serve", event.binary));
    }
    for schedule in &template.schedules {
        if schedule.binary != "events" {
            return Err(format!(
                "template: a schedule invokes {}, which the local stack does not serve",
                schedule.binary
            ));
        }
        if !fire_schedules {
            continue;
        }
        let (events, name, period) = (events.clone(), schedule.name.clone(), schedule.period / SCHEDULE_SPEEDUP);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(period);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                if let Err(err) = events.handle(scheduled_event(&name)).await {
                    tracing::error!(schedule = %name, error = %err, "the scheduled invocation failed");
                }
            }
        });
    }
    let events = events.clone();
    let handler: streams::Handler = Arc::new(move |payload| {
        let events = events.clone();
        Box::pin(async move { events.handle(payload).await.map_err(|e| e.to_string()) })
    });
    let config = &app.config;
    let streams_config = aws_sdk_dynamodbstreams::Config::builder()
        .behavior_version(aws_sdk_dynamodbstreams::config::BehaviorVersion::latest())
        .region(app::store::aws::region())
        .credentials_provider(aws_sdk_dynamodbstreams::config::Credentials::new("local", "local", None, None, "local"))
        .endpoint_url(config.dynamodb_endpoint.as_deref().ok_or("the local stack needs a DynamoDB endpoint")?)
        .http_client(app::store::aws::http_client())
        .build();
    let client = aws_sdk_dynamodbstreams::Client::from_conf(streams_config);
    streams::start(client, app.store.client(), &config.table_name, event, handler).await
}

/// The SNS topic the template has SES publish bounces and complaints to, if a function
/// of the local stack reads it.
fn feedback_topic(template: &Template) -> Result<Option<String>, String> {
    match template.sns.as_slice() {
        [] => Ok(None),
        [event] if event.binary == "events" => Ok(Some(event.topic.clone())),
        _ => Err("template: an SNS topic feeds a function the local stack does not serve".into()),
    }
}

/// SES's mailbox simulator addresses: mail to them bounces, or is reported as spam.
pub const SIMULATOR_BOUNCE: &str = "bounce@simulator.amazonses.com";
pub const SIMULATOR_COMPLAINT: &str = "complaint@simulator.amazonses.com";

/// The local stack's SES: every mail lands in the outbox, and mail to SES's simulator
/// addresses comes back as SES reports it, a bounce or a complaint published to the
/// template's SNS topic and delivered to the function subscribed to it in the event
/// Lambda receives from SNS.
struct LocalSes {
    outbox: Outbox,
    feedback: Arc<std::sync::OnceLock<events::Events>>,
    topic: Option<String>,
}

impl app::mail::Mailer for LocalSes {
    fn send(&self, mail: app::mail::Mail) -> futures::future::BoxFuture<'_, Result<(), app::mail::MailError>> {
        Box::pin(async move {
            let to = mail.to.clone();
            self.outbox.send(mail).await?;
            let (Some(topic), Some(events)) = (&self.topic, self.feedback.get()) else { return Ok(()) };
            let Some(message) = ses_feedback(&to) else { return Ok(()) };
            if let Err(err) = events.handle(sns_event(topic, &message)).await {
                tracing::error!(error = %err, "the events function failed on SES's feedback");
            }
            Ok(())
        })
    }
}

/// What SES's event publishing says of a mail to a simulator address.
fn ses_feedback(to: &str) -> Option<serde_json::Value> {
    let now = app::time::format(app::time::now());
    let mail = serde_json::json!({"timestamp": now, "source": LOCAL_SENDER, "messageId": ulid::Ulid::new().to_string(), "destination": [to]});
    match to {
        SIMULATOR_BOUNCE => Some(serde_json::json!({
            "eventType": "Bounce",
            "bounce": {"bounceType": "Permanent", "bounceSubType": "General", "timestamp": now,
                "feedbackId": ulid::Ulid::new().to_string(),
                "bouncedRecipients": [{"emailAddress": to, "action": "failed", "status": "5.1.1",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown"}]},
            "mail": mail,
        })),
        SIMULATOR_COMPLAINT => Some(serde_json::json!({
            "eventType": "Complaint",
            "complaint": {"complainedRecipients": [{"emailAddress": to}], "timestamp": now,
                "feedbackId": ulid::Ulid::new().to_string(), "complaintFeedbackType": "abuse"},
            "mail": mail,
        })),
        _ => None,
    }
}

/// The event Lambda receives from an SNS topic.
pub fn sns_event(topic: &str, message: &serde_json::Value) -> serde_json::Value {
    let arn = format!("arn:aws:sns:us-east-1:000000000000:{topic}");
    serde_json::json!({
        "Records": [{
            "EventVersion": "1.0",
            "EventSubscriptionArn": format!("{arn}:{}", ulid::Ulid::new()),
            "EventSource": "aws:sns",
            "Sns": {
                "Type": "Notification",
                "MessageId": ulid::Ulid::new().to_string(),
                "TopicArn": arn,
                "Subject": null,
                "Message": message.to_string(),
                "Timestamp": app::time::format(app::time::now()),
                "SignatureVersion": "1",
                "Signature": "local",
                "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/local.pem",
                "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
                "MessageAttributes": {}
            }
        }]
    })
}

/// A mail as the outbox shows it: what it says, and every header it goes out with.
fn outbox_view(mail: &app::mail::Mail) -> serde_json::Value {
    let mut headers = serde_json::Map::new();
    headers.insert("From".into(), LOCAL_SENDER.into());
    headers.insert("To".into(), mail.to.clone().into());
    headers.insert("Subject".into(), mail.subject.clone().into());
    for (name, value) in &mail.headers {
        headers.insert(name.clone(), value.clone().into());
    }
    serde_json::json!({
        "to": mail.to,
        "subject": mail.subject,
        "text": mail.text,
        "links": mail.links,
        "headers": headers,
        "sent_at": mail.sent_at,
    })
}

/// The sender the local outbox shows (`MAIL_SENDER` when deployed).
pub const LOCAL_SENDER: &str = "rally@localhost";

/// What the dev routes read.
struct DevState {
    outbox: Outbox,
    delivery: streams::Delivery,
}

const DEMO_PAGE: &str = include_str!("demo.html");

/// The local-only routes (never deployed, not in `openapi.yaml`): `GET /`, the demo blog;
/// `GET /_dev/outbox`, every mail sent, newest first, with its headers; and
/// `GET /_dev/failures`, what went to the stream's on-failure destination. Both wait
/// until the writes made before them have gone through the stream.
fn dev_route(
    dev: &DevState,
    method: &Method,
    path: &str,
) -> Option<Pin<Box<dyn Future<Output = Response<Body>> + Send>>> {
    match (method, path) {
        (&Method::GET, "/_dev/outbox") => {
            let (outbox, delivery) = (dev.outbox.clone(), dev.delivery.clone());
            Some(Box::pin(async move {
                let settled = delivery.settle(SETTLE_LIMIT).await;
                let items: Vec<_> = outbox.mails().iter().map(outbox_view).collect();
                app::http::json(StatusCode::OK, &serde_json::json!({ "items": items, "settled": settled }))
            }))
        }
        (&Method::GET, "/_dev/failures") => {
            let delivery = dev.delivery.clone();
            Some(Box::pin(async move {
                let settled = delivery.settle(SETTLE_LIMIT).await;
                app::http::json(
                    StatusCode::OK,
                    &serde_json::json!({ "items": delivery.failures(), "settled": settled }),
                )
            }))
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
