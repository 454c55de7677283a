//! Admin authentication: `Authorization: Bearer <token>`, compared as a SHA-256 against
//! the configured hash in constant time, so neither the token nor its hash leaks through
//! timing and the deployed stack never holds the token itself.

use lambda_http::Request;
use lambda_http::http::header;
use subtle::ConstantTimeEq;

use crate::config::{Config, sha256};
use crate::error::ApiError;

/// Whether the request carries the admin token. A missing or malformed header is simply
/// not an admin request; routes that need one use [`require_admin`].
pub fn is_admin(config: &Config, req: &Request) -> bool {
    let Some(expected) = config.admin_token_sha256.as_ref() else {
        return false;
    };
    let Some(token) = bearer_token(req) else {
        return false;
    };
    sha256(token.as_bytes()).ct_eq(expected).into()
}

pub fn require_admin(config: &Config, req: &Request) -> Result<(), ApiError> {
    if is_admin(config, req) { Ok(()) } else { Err(ApiError::Unauthorized) }
}

fn bearer_token(req: &Request) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// A fresh secret for a client to keep (edit tokens): 32 random bytes, in hex.
pub fn random_token() -> String {
    use std::io::Read;
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .expect("the kernel's random source is readable");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether the request's `X-Edit-Token` hashes to `expected_sha256_hex`, compared in
/// constant time. Only the hash is stored, so a leaked table cannot edit comments.
pub fn edit_token_matches(req: &Request, expected_sha256_hex: Option<&str>) -> bool {
    let Some(expected) = expected_sha256_hex else { return false };
    let Some(token) = req.headers().get("x-edit-token").and_then(|v| v.to_str().ok()) else { return false };
    crate::config::sha256_hex(token.trim().as_bytes()).as_bytes().ct_eq(expected.as_bytes()).into()
}

/// The client, for rate limits, as a salted hash of its IP that changes every day: the
/// raw address is never stored, and yesterday's hashes cannot be linked to today's.
pub fn client_hash(config: &Config, req: &Request, now: crate::time::Timestamp) -> String {
    use lambda_http::RequestExt;
    use lambda_http::request::RequestContext;
    let ip = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.http.source_ip.clone().unwrap_or_default(),
        _ => String::new(),
    };
    let day = now.unix_timestamp().div_euclid(86_400);
    let hex = crate::config::sha256_hex(format!("{}|{day}|{ip}", config.ip_hash_salt).as_bytes());
    hex[..32].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::Body;

    fn request(authorization: Option<&str>) -> Request {
        let mut builder = lambda_http::http::Request::builder();
        if let Some(value) = authorization {
            builder = builder.header("authorization", value);
        }
        builder.body(Body::Empty).unwrap()
    }

    #[test]
    fn only_the_right_bearer_token_is_admin() {
        let config = Config::local("t", "http://127.0.0.1:1", "s3cret");
        assert!(is_admin(&config, &request(Some("Bearer s3cret"))));
        assert!(is_admin(&config, &request(Some("bearer s3cret"))));
        assert!(!is_admin(&config, &request(Some("Bearer wrong"))));
        assert!(!is_admin(&config, &request(Some("Basic s3cret"))));
        assert!(!is_admin(&config, &request(Some("Bearer"))));
        assert!(!is_admin(&config, &request(None)));
    }

    #[test]
    fn no_configured_hash_means_no_admin() {
        let mut config = Config::local("t", "http://127.0.0.1:1", "s3cret");
        config.admin_token_sha256 = None;
        assert!(!is_admin(&config, &request(Some("Bearer s3cret"))));
    }

    #[test]
    fn edit_tokens_match_only_their_hash() {
        let hash = crate::config::sha256_hex(b"token-1");
        let with = |token: &str| {
            lambda_http::http::Request::builder().header("x-edit-token", token).body(Body::Empty).unwrap()
        };
        assert!(edit_token_matches(&with("token-1"), Some(&hash)));
        assert!(!edit_token_matches(&with("token-2"), Some(&hash)));
        assert!(!edit_token_matches(&request(None), Some(&hash)));
        assert!(!edit_token_matches(&with("token-1"), None));
    }

    #[test]
    fn client_hashes_hide_the_ip_and_rotate_daily() {
        use lambda_http::RequestExt;
        use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
        use lambda_http::request::RequestContext;
        let config = Config::local("t", "http://127.0.0.1:1", "s3cret");
        let from = |ip: &str| {
            let mut ctx = ApiGatewayV2httpRequestContext::default();
            ctx.http.source_ip = Some(ip.to_owned());
            request(None).with_request_context(RequestContext::ApiGatewayV2(ctx))
        };
        let today = crate::time::parse("2026-11-29T10:00:00Z").unwrap();
        let later_today = crate::time::parse("2026-11-29T23:00:00Z").unwrap();
        let tomorrow = crate::time::parse("2026-11-30T10:00:00Z").unwrap();
        let a = client_hash(&config, &from("203.0.113.7"), today);
        assert_eq!(a, client_hash(&config, &from("203.0.113.7"), later_today));
        assert_ne!(a, client_hash(&config, &from("203.0.113.7"), tomorrow));
        assert_ne!(a, client_hash(&config, &from("203.0.113.8"), today));
        assert_eq!(a.len(), 32);
    }
}
