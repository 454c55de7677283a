//! The pieces every AWS client is built from, read from the environment the way Lambda
//! provides them, without `aws-config`.
//!
//! Lambda hands a function its region (`AWS_REGION`) and its role's credentials
//! (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`) as environment
//! variables that stay valid for the life of the execution environment. `aws-config`'s
//! default chain would find the same values, but it brings the STS and SSO clients,
//! profile-file parsing and instance-metadata probing into every binary and spends
//! start-up time on them: about 0.8 MB zipped and part of the cold-start budget.

use aws_sdk_dynamodb::config::{Credentials, Region, SharedHttpClient};
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};

/// The roots of Amazon Trust Services, which issue the certificates of every AWS
/// service endpoint (DynamoDB and SES among them): Amazon Root CA 1–4 and the Starfield
/// Services G2 root that cross-signs them, as Debian's `ca-certificates` ships them.
pub const AMAZON_ROOTS: &str = include_str!("../certs/amazon-trust-services.pem");

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

/// HTTPS over rustls with ring, trusting Amazon Trust Services' roots only. Reading and
/// parsing the system's ~150 roots took about 5 ms of every cold start, before the
/// function could ask for its first event; these five parse in microseconds.
/// `TLS_SYSTEM_ROOTS=true` trusts the system's roots instead (behind a proxy that
/// re-signs traffic, say).
pub fn http_client() -> SharedHttpClient {
    let system = std::env::var("TLS_SYSTEM_ROOTS").is_ok_and(|v| v.trim() == "true");
    let trust = match system {
        true => TrustStore::default(),
        false => TrustStore::empty().with_pem_certificate(AMAZON_ROOTS.as_bytes()),
    };
    let context = TlsContext::builder().with_trust_store(trust).build().expect("a trust store is a valid TLS context");
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .tls_context(context)
        .build_https()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_amazon_roots_are_five_certificates() {
        let pems = super::AMAZON_ROOTS.matches("-----BEGIN CERTIFICATE-----").count();
        assert_eq!(pems, 5);
        for name in ["Amazon_Root_CA_1", "Amazon_Root_CA_4", "Starfield_Services_Root_Certificate_Authority_-_G2"] {
            assert!(super::AMAZON_ROOTS.contains(name), "{name}");
        }
    }

    /// Building the TLS connector parses the roots (and would panic on a bad one): make it
    /// happen with a connection to a closed local port.
    #[tokio::test]
    async fn the_roots_parse_when_a_connection_is_made() {
        use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, retry::RetryConfig};
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(super::region())
            .credentials_provider(Credentials::new("a", "b", None, None, "test"))
            .http_client(super::http_client())
            .endpoint_url("https://127.0.0.1:9")
            .retry_config(RetryConfig::disabled())
            .build();
        let err = aws_sdk_dynamodb::Client::from_conf(config).list_tables().send().await.unwrap_err();
        assert!(matches!(err, aws_sdk_dynamodb::error::SdkError::DispatchFailure(_)), "{err:?}");
    }
}
