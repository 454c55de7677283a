use std::sync::OnceLock;

use app::Config;
use local_stack::{DynamoDbLocal, Stack, Template, template};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub const ADMIN_TOKEN: &str = "test-admin-token";

/// One DynamoDB Local for the whole test binary; it dies with the binary.
fn dynamodb() -> &'static DynamoDbLocal {
    static LOCAL: OnceLock<DynamoDbLocal> = OnceLock::new();
    LOCAL.get_or_init(|| DynamoDbLocal::start().expect("DynamoDB Local starts (run `make test`, which installs it)"))
}

/// Every log line the functions write in this test binary from the first call on, as the
/// JSON lines CloudWatch would receive, at `debug` (more than production's `info`).
pub fn captured_logs() -> String {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::DEBUG)
            .with_current_span(false)
            .with_writer(|| LogBuffer)
            .init();
    });
    String::from_utf8_lossy(&LOGS.lock().expect("logs lock")).into_owned()
}

static LOGS: std::sync::Mutex<Vec<u8>> = std::sync::Mutex::new(Vec::new());

struct LogBuffer;

impl std::io::Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        LOGS.lock().expect("logs lock").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn template() -> Template {
    Template::load(&template::default_path()).expect("the template parses")
}

pub struct TestApp {
    pub stack: Stack,
    pub http: reqwest::Client,
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    /// The `code` of an `Error` body.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl TestApp {
    /// A stack over a fresh table, so tests never see each other's data.
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> Self {
        Self::spawn_with_options(adjust, local_stack::Options::default()).await
    }

    pub async fn spawn_with_options(adjust: impl FnOnce(&mut Config), options: local_stack::Options) -> Self {
        let table = format!("test-{}", ulid::Ulid::new());
        let mut config = Config::local(&table, &dynamodb().endpoint, ADMIN_TOKEN);
        adjust(&mut config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let stack =
            local_stack::start_with(config, &template(), listener, options).await.expect("the local stack starts");
        Self { stack, http: reqwest::Client::new() }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.stack.base_url)
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.expect("the local stack answers");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        Answer { status, headers, body }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(self.http.get(self.url(path))).await
    }

    /// A request with the admin token.
    pub fn admin(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, self.url(path)).bearer_auth(ADMIN_TOKEN)
    }

    pub async fn create_post(&self, post: Value) -> Answer {
        self.send(self.admin(Method::POST, "/posts").json(&post)).await
    }

    /// Creates a post, asserting it was created.
    pub async fn given_post(&self, slug: &str, published_at: &str, tags: &[&str]) -> Value {
        let answer = self.create_post(post_body(slug, published_at, tags)).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        answer.body
    }

    /// Every slug of a paged list, following cursors to the end.
    pub async fn all_slugs(&self, path: &str, limit: u32) -> Vec<String> {
        let mut slugs = Vec::new();
        let mut cursor: Option<String> = None;
        let separator = if path.contains('?') { '&' } else { '?' };
        loop {
            let mut url = format!("{path}{separator}limit={limit}");
            if let Some(c) = &cursor {
                url.push_str(&format!("&cursor={c}"));
            }
            let page = self.get(&url).await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            slugs.extend(page.body["items"].as_array().unwrap().iter().map(|p| p["slug"].as_str().unwrap().to_owned()));
            match page.body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return slugs,
            }
        }
    }
}

pub fn post_body(slug: &str, published_at: &str, tags: &[&str]) -> Value {
    json!({
        "slug": slug,
        "title": format!("Post {slug}"),
        "body": format!("The body of **{slug}**."),
        "author": "Min-jun",
        "tags": tags,
        "published_at": published_at,
    })
}
