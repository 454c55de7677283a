//! The deployment's secrets come from Secrets Manager, named by ARN, never from a
//! plain environment variable: read once at start-up through the AWS SDK, here from
//! the local stack's `GetSecretValue` endpoint.

use std::collections::HashMap;

use app::config::Config;

const HASH_ARN: &str = "arn:aws:secretsmanager:us-east-1:000000000000:secret:HashSecret-AbCdEf";
const HOOK_ARN: &str = "arn:aws:secretsmanager:us-east-1:000000000000:secret:WebhookSigningSecret-GhIjKl";

async fn endpoint(secrets: &[(&str, &str)]) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let secrets: HashMap<String, String> = secrets.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    (url, local_stack::secrets::serve(listener, secrets))
}

fn env(pairs: Vec<(&'static str, String)>) -> impl Fn(&str) -> Option<String> {
    move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone())
}

#[tokio::test]
async fn the_hashing_secret_and_the_webhook_key_are_read_from_secrets_manager() {
    let (url, calls) = endpoint(&[
        (HASH_ARN, r#"{"hash_secret":"b7Qm2Xr9Lk4Vn8Zp1Hs6Dt3Fw5Gy0Jc"}"#),
        (HOOK_ARN, r#"{"webhook_secret":"Nh4Kx7Pq2Rs9Tv1Wy6Za3Bc8De5Fg0Hj"}"#),
    ])
    .await;
    let lookup = env(vec![
        ("TABLE_NAME", "t".into()),
        ("HASH_SECRET_ARN", HASH_ARN.into()),
        ("WEBHOOK_SECRET_ARN", HOOK_ARN.into()),
        ("WEBHOOK_URL", "https://hooks.blog.example/rally".into()),
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", url),
    ]);
    let read = app::secrets::read(&lookup).await.unwrap();
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2, "each secret is read once");
    let config = Config::from_lookup(|name| read.get(name).cloned().or_else(|| lookup(name))).unwrap();
    assert_eq!(config.ip_hash_salt, "b7Qm2Xr9Lk4Vn8Zp1Hs6Dt3Fw5Gy0Jc");
    assert_eq!(config.webhook.unwrap().secret, "Nh4Kx7Pq2Rs9Tv1Wy6Za3Bc8De5Fg0Hj");
}

#[tokio::test]
async fn a_missing_or_malformed_secret_stops_the_function_with_the_reason() {
    let (url, _) = endpoint(&[(HASH_ARN, r#"{"hash_secret":"short"}"#)]).await;
    let missing =
        env(vec![("HASH_SECRET_ARN", format!("{HASH_ARN}-gone")), ("AWS_ENDPOINT_URL_SECRETS_MANAGER", url.clone())]);
    let err = app::secrets::read(missing).await.unwrap_err().to_string();
    assert!(err.starts_with("HASH_SECRET_ARN is invalid"), "{err}");
    assert!(err.contains("ResourceNotFoundException"), "{err}");
    let short = env(vec![("HASH_SECRET_ARN", HASH_ARN.into()), ("AWS_ENDPOINT_URL_SECRETS_MANAGER", url)]);
    let err = app::secrets::read(short).await.unwrap_err().to_string();
    assert!(err.contains("no \"hash_secret\" of at least 16 characters"), "{err}");
    assert!(!err.contains("short"), "the error never repeats the secret: {err}");
}

#[test]
fn the_template_gives_no_function_a_secret_in_its_environment() {
    let template: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(local_stack::template::default_path()).unwrap()).unwrap();
    let resources = template["Resources"].as_mapping().unwrap();
    let mut readers = Vec::new();
    for (name, resource) in resources {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let vars = resource["Properties"]["Environment"]["Variables"].as_mapping().cloned().unwrap_or_default();
        for (var, _) in &vars {
            let var = var.as_str().unwrap();
            assert!(
                !["IP_HASH_SALT", "WEBHOOK_SECRET"].contains(&var),
                "{name:?} has the secret {var} as a plain environment variable"
            );
        }
        if vars.keys().any(|k| k.as_str() == Some("HASH_SECRET_ARN")) {
            readers.push(name.as_str().unwrap().to_owned());
        }
    }
    readers.sort();
    // The posts and widget functions hash nothing, so are given no secret.
    assert_eq!(readers, ["CommentsFunction", "EventsFunction", "PetitionsFunction", "PledgesFunction"]);
    for (name, _) in template["Parameters"].as_mapping().unwrap() {
        let name = name.as_str().unwrap();
        assert!(!name.contains("Salt") && name != "WebhookSecret", "{name}: a secret is never a parameter");
    }
}
