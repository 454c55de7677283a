//! Secrets Manager's `GetSecretValue`, as the AWS SDK speaks it (JSON 1.1 over HTTP,
//! the operation in `X-Amz-Target`), for the secrets a test or a benchmark hands it:
//! what a function reads at start-up in AWS, served on 127.0.0.1. Any other operation,
//! or an unknown secret, gets the error Secrets Manager sends.

use std::collections::HashMap;
use std::sync::Arc;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::TokioIo;
use lambda_http::http::{self, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// Serves `secrets` (ARN → secret string) on `listener` until the runtime stops;
/// answers how many `GetSecretValue` calls it has had.
pub fn serve(listener: TcpListener, secrets: HashMap<String, String>) -> Arc<std::sync::atomic::AtomicUsize> {
    let secrets = Arc::new(secrets);
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = calls.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let (secrets, calls) = (secrets.clone(), counted.clone());
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req: http::Request<Incoming>| {
                    let (secrets, calls) = (secrets.clone(), calls.clone());
                    async move {
                        let target = req
                            .headers()
                            .get("x-amz-target")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned();
                        let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                        let (status, answer) = answer(&secrets, &target, &body);
                        if status == StatusCode::OK {
                            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                        let mut response = http::Response::new(Full::new(Bytes::from(answer.to_string())));
                        *response.status_mut() = status;
                        let headers = response.headers_mut();
                        headers.insert("content-type", http::HeaderValue::from_static("application/x-amz-json-1.1"));
                        if let Some(kind) = answer.get("__type").and_then(Value::as_str) {
                            headers
                                .insert("x-amzn-errortype", http::HeaderValue::from_str(kind).expect("an error name"));
                        }
                        Ok::<_, std::convert::Infallible>(response)
                    }
                });
                let _ =
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
    calls
}

fn answer(secrets: &HashMap<String, String>, target: &str, body: &[u8]) -> (StatusCode, Value) {
    let error = |kind: &str, message: String| (StatusCode::BAD_REQUEST, json!({ "__type": kind, "message": message }));
    if target != "secretsmanager.GetSecretValue" {
        return error("InvalidRequestException", format!("this endpoint serves GetSecretValue only, not {target}"));
    }
    let request: Value = serde_json::from_slice(body).unwrap_or_default();
    let id = request.get("SecretId").and_then(Value::as_str).unwrap_or_default();
    match secrets.get(id) {
        Some(text) => (
            StatusCode::OK,
            json!({ "ARN": id, "Name": id.rsplit(':').next(), "SecretString": text, "VersionId": "local",
                    "VersionStages": ["AWSCURRENT"], "CreatedDate": 0 }),
        ),
        None => error("ResourceNotFoundException", "Secrets Manager can't find the specified secret.".into()),
    }
}
