//! Cold starts, timed against a minimal Lambda Runtime API served here.
//!
//! Each start execs the function's release `bootstrap` with the environment Lambda gives
//! it, pointing `AWS_LAMBDA_RUNTIME_API` at this server, and records two moments from the
//! instant before the exec: the first `GET /runtime/invocation/next` (the end of the
//! function's own initialisation) and the `POST …/response` for the one real request the
//! server hands it (initialisation + the first request against DynamoDB Local, over
//! plain HTTP). The process is then killed and the next start begins.

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// What one start measured.
#[derive(Debug, Clone, Copy)]
pub struct Start {
    pub to_next: Duration,
    pub to_response: Duration,
}

#[derive(Default)]
struct Run {
    started: Option<Instant>,
    event: Value,
    next_at: Option<Duration>,
    response: Option<(Duration, Value)>,
    error: Option<String>,
}

#[derive(Clone, Default)]
struct RuntimeApi {
    run: Arc<Mutex<Run>>,
    done: Arc<Notify>,
    asked: Arc<Notify>,
}

impl RuntimeApi {
    async fn answer(&self, req: Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
        let path = req.uri().path().to_owned();
        let is_post = req.method() == hyper::Method::POST;
        let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        if path == "/2018-06-01/runtime/invocation/next" {
            let event = {
                let mut run = self.run.lock().expect("not poisoned");
                match (run.started, run.next_at) {
                    (Some(started), None) => {
                        run.next_at = Some(started.elapsed());
                        self.asked.notify_one();
                        Some(run.event.to_string())
                    }
                    _ => None,
                }
            };
            let Some(event) = event else {
                // The function asks for its second event; it never comes.
                std::future::pending::<()>().await;
                unreachable!()
            };
            let deadline = time::OffsetDateTime::now_utc().unix_timestamp() * 1000 + 30_000;
            return Response::builder()
                .header("lambda-runtime-aws-request-id", "bench-request")
                .header("lambda-runtime-deadline-ms", deadline.to_string())
                .header("lambda-runtime-invoked-function-arn", "arn:aws:lambda:us-east-1:000000000000:function:bench")
                .header("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000")
                .body(Full::new(Bytes::from(event)))
                .expect("valid response");
        }
        if is_post {
            let mut run = self.run.lock().expect("not poisoned");
            if path.ends_with("/response") {
                let elapsed = run.started.map(|s| s.elapsed()).unwrap_or_default();
                run.response = Some((elapsed, serde_json::from_slice(&body).unwrap_or(Value::Null)));
            } else {
                run.error = Some(format!("{path}: {}", String::from_utf8_lossy(&body)));
            }
            self.done.notify_one();
        }
        Response::builder().status(202).body(Full::new(Bytes::from_static(b"{}"))).expect("valid response")
    }
}

/// Serves the Runtime API on a free local port.
async fn serve() -> Result<(RuntimeApi, String), String> {
    let listener = TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let api = RuntimeApi::default();
    let server = api.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let api = server.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let api = api.clone();
                    async move { Ok::<_, Infallible>(api.answer(req).await) }
                });
                let _ =
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
    Ok((api, addr.to_string()))
}

/// Starts `binary` `starts` times with `env` (plus the Runtime API's variables), handing
/// each start `event`. Fails if any start errs or answers other than 2xx.
pub async fn measure(
    binary: &Path,
    name: &str,
    env: &HashMap<String, String>,
    event: Value,
    starts: usize,
) -> Result<Vec<Start>, String> {
    let (api, addr) = serve().await?;
    let mut results = Vec::with_capacity(starts);
    for _ in 0..starts {
        *api.run.lock().expect("not poisoned") = Run { event: event.clone(), ..Run::default() };
        let mut command = tokio::process::Command::new(binary);
        command
            .env_clear()
            .envs(env)
            .env("AWS_LAMBDA_RUNTIME_API", &addr)
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
            .env("AWS_REGION", "us-east-1")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true);
        let done = api.done.notified();
        tokio::pin!(done);
        done.as_mut().enable();
        api.run.lock().expect("not poisoned").started = Some(Instant::now());
        let mut child = command.spawn().map_err(|e| format!("{}: {e}", binary.display()))?;
        let finished = tokio::time::timeout(Duration::from_secs(30), done).await;
        let _ = child.kill().await;
        if finished.is_err() {
            return Err(format!("{name}: no response within 30 s"));
        }
        let run = std::mem::take(&mut *api.run.lock().expect("not poisoned"));
        if let Some(error) = run.error {
            return Err(format!("{name}: the function reported an error: {error}"));
        }
        let (Some(to_next), Some((to_response, answer))) = (run.next_at, run.response) else {
            return Err(format!("{name}: incomplete start"));
        };
        // An HTTP function answers an API Gateway response; the events function answers
        // its sweep's counts, and a failure of it would have been reported as an error.
        if let Some(status) = answer.get("statusCode").map(|s| s.as_u64().unwrap_or(0))
            && !(200..300).contains(&status)
        {
            return Err(format!("{name}: the request answered {status}: {answer}"));
        }
        results.push(Start { to_next, to_response });
    }
    Ok(results)
}

/// The floor of this method: exec of `bash` making the same first `GET /next` over
/// `/dev/tcp`, which is
/// what process creation, dynamic loading and one local HTTP request cost on this
/// machine before any function code runs.
pub async fn floor(starts: usize) -> Result<Vec<Duration>, String> {
    let (api, addr) = serve().await?;
    let mut results = Vec::with_capacity(starts);
    for _ in 0..starts {
        *api.run.lock().expect("not poisoned") = Run { event: json!({}), ..Run::default() };
        let asked = api.asked.notified();
        tokio::pin!(asked);
        asked.as_mut().enable();
        let (host, port) = addr.split_once(':').unwrap_or((&addr, "80"));
        let script = format!(
            "exec 3<>/dev/tcp/{host}/{port}; \
             printf 'GET /2018-06-01/runtime/invocation/next HTTP/1.0\\r\\n\\r\\n' >&3; cat <&3 >/dev/null"
        );
        let mut command = tokio::process::Command::new("bash");
        command
            .args(["--norc", "--noprofile", "-c", &script])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true);
        api.run.lock().expect("not poisoned").started = Some(Instant::now());
        let mut child = command.spawn().map_err(|e| format!("bash: {e}"))?;
        tokio::time::timeout(Duration::from_secs(30), asked).await.map_err(|_| "bash never asked".to_owned())?;
        let _ = child.wait().await;
        let next = api.run.lock().expect("not poisoned").next_at.ok_or("no request")?;
        results.push(next);
    }
    Ok(results)
}

/// An API Gateway HTTP API (v2) event for `method path` on `route_key`, built on the
/// event `sam local generate-event` makes (committed in `infra/local/events`).
pub fn event(route_key: &str, path: &str, params: Value) -> Value {
    let mut event: Value =
        serde_json::from_str(include_str!("../../infra/local/events/get-post.json")).expect("the sample event is JSON");
    let method = route_key.split(' ').next().unwrap_or("GET");
    event["routeKey"] = json!(route_key);
    event["rawPath"] = json!(path);
    event["rawQueryString"] = json!("");
    event["queryStringParameters"] = Value::Null;
    event["pathParameters"] = params;
    event["requestContext"]["routeKey"] = json!(route_key);
    event["requestContext"]["http"]["method"] = json!(method);
    event["requestContext"]["http"]["path"] = json!(path);
    event["requestContext"]["http"]["sourceIp"] = json!("192.0.2.10");
    event["body"] = Value::Null;
    event["isBase64Encoded"] = json!(false);
    event
}
