//! The pieces every AWS client is built from, read from the environment the way Lambda
//! provides them, without `aws-config`.
//!
//! Lambda hands a function its region (`AWS_REGION`) and its role's credentials
//! (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`) as environment
//! variables that stay valid for the life of the execution environment. `aws-config`'s
//! default chain would find the same values, but it brings the STS and SSO clients,
//! profile-file parsing and instance-metadata probing into every binary and spends
//! start-up time on them; this is what the budget of issue 6 bought back.

use aws_sdk_dynamodb::config::{Credentials, Region, SharedHttpClient};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

/// Region from `AWS_REGION` (set by Lambda) or `AWS_DEFAULT_REGION`, else `us-east-1`.
pub fn region() -> Region {
    let region = ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|value| !value.is_empty()))
        .unwrap_or_else(|| "us-east-1".to_owned());
    Region::new(region)
}

/// The role's credentials from the environment. Without them (the local stack, tests)
/// the clients sign with a fixed local key, which DynamoDB Local accepts and AWS refuses.
pub fn credentials() -> Credentials {
    let var = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
        (Some(key), Some(secret)) => Credentials::new(key, secret, var("AWS_SESSION_TOKEN"), None, "environment"),
        _ => Credentials::new("local", "local", None, None, "local"),
    }
}

/// HTTPS over rustls with ring; the roots are the system's, loaded on the first
/// connection rather than at start-up.
pub fn http_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new().tls_provider(tls::Provider::Rustls(CryptoMode::Ring)).build_https()
}
