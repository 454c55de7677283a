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
    if is_admin(config, req) {
        Ok(())
    } else {
        Err(ApiError::Unauthorized)
    }
}

fn bearer_token(req: &Request) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
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
}
