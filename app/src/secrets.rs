//! The deployment's secrets, kept in AWS Secrets Manager rather than in environment
//! variables (which anyone allowed `lambda:GetFunctionConfiguration` can read): the
//! template names each secret by ARN, and a function reads the ones it is given once,
//! at start-up, all at once.
//!
//! Each secret is a JSON object, as Secrets Manager's generator writes it
//! (`{"hash_secret": "…"}`), and becomes the configuration value a local run sets
//! directly: `HASH_SECRET_ARN` gives `IP_HASH_SALT`, `WEBHOOK_SECRET_ARN` gives
//! `WEBHOOK_SECRET`. `AWS_ENDPOINT_URL_SECRETS_MANAGER` points the client elsewhere
//! (a test's endpoint), as it does for the AWS CLI.

use std::collections::HashMap;

use crate::config::ConfigError;

/// (the variable naming the secret's ARN, the key in its JSON, the setting it becomes).
pub const SECRETS: [(&str, &str, &str); 2] =
    [("HASH_SECRET_ARN", "hash_secret", "IP_HASH_SALT"), ("WEBHOOK_SECRET_ARN", "webhook_secret", "WEBHOOK_SECRET")];

/// The settings read from the secrets `lookup` names, by setting name. None named, no
/// request: the local stack and tests set the values themselves.
pub async fn read(lookup: impl Fn(&str) -> Option<String>) -> Result<HashMap<&'static str, String>, ConfigError> {
    let named: Vec<(&'static str, &'static str, &'static str, String)> = SECRETS
        .iter()
        .filter_map(|&(arn_var, key, setting)| {
            lookup(arn_var).filter(|arn| !arn.trim().is_empty()).map(|arn| (arn_var, key, setting, arn))
        })
        .collect();
    if named.is_empty() {
        return Ok(HashMap::new());
    }
    let client = client(lookup("AWS_ENDPOINT_URL_SECRETS_MANAGER").filter(|e| !e.trim().is_empty()));
    let reads = named.iter().map(|(arn_var, key, setting, arn)| {
        let client = client.clone();
        async move {
            let fail = |why: String| ConfigError::Invalid { name: arn_var, why };
            let output = client.get_secret_value().secret_id(arn).send().await.map_err(|e| {
                fail(format!("reading {arn}: {}", aws_sdk_secretsmanager::error::DisplayErrorContext(e)))
            })?;
            let text = output.secret_string().ok_or_else(|| fail(format!("{arn} holds no text")))?;
            let value = value_of(text, key).map_err(fail)?;
            Ok::<_, ConfigError>((*setting, value))
        }
    });
    futures::future::try_join_all(reads).await.map(|pairs| pairs.into_iter().collect())
}

/// `key`'s value in a secret's JSON text: a string of at least 16 characters.
pub fn value_of(text: &str, key: &str) -> Result<String, String> {
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|_| "the secret is not a JSON object".to_owned())?;
    let value = json.get(key).and_then(serde_json::Value::as_str).map(str::trim).unwrap_or_default();
    if value.chars().count() < 16 {
        return Err(format!("the secret has no \"{key}\" of at least 16 characters"));
    }
    Ok(value.to_owned())
}

fn client(endpoint: Option<String>) -> aws_sdk_secretsmanager::Client {
    let mut config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(aws_sdk_secretsmanager::config::BehaviorVersion::latest())
        .region(crate::store::aws::region())
        .credentials_provider(crate::store::aws::credentials())
        .http_client(crate::store::aws::http_client());
    config.set_endpoint_url(endpoint);
    aws_sdk_secretsmanager::Client::from_conf(config.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_a_long_enough_string_under_its_key() {
        assert_eq!(
            value_of(r#"{"hash_secret":"0123456789abcdef0123"}"#, "hash_secret").unwrap(),
            "0123456789abcdef0123"
        );
        for bad in [r#"{"hash_secret":"short"}"#, r#"{"other":"0123456789abcdef0123"}"#, "0123456789abcdef0123", "{}"] {
            assert!(value_of(bad, "hash_secret").is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn nothing_named_reads_nothing() {
        let read = read(|_| None).await.unwrap();
        assert!(read.is_empty());
    }
}
