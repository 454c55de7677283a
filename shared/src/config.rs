//! Configuration, read from the environment once at start-up.

use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error("{name} is invalid: {why}")]
    Invalid { name: &'static str, why: String },
}

#[derive(Debug, Clone)]
pub struct Config {
    /// The one DynamoDB table.
    pub table_name: String,
    /// Set in the local stack (DynamoDB Local); unset on AWS.
    pub dynamodb_endpoint: Option<String>,
    pub allowed_origins: AllowedOrigins,
    /// SHA-256 of the admin token. Without it no request is an admin request.
    pub admin_token_sha256: Option<[u8; 32]>,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, so tests need not touch the process
    /// environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let non_empty = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let table_name = non_empty("TABLE_NAME").ok_or(ConfigError::Missing("TABLE_NAME"))?;
        let admin_token_sha256 = match non_empty("ADMIN_TOKEN_SHA256") {
            Some(hex) => {
                Some(
                    parse_sha256_hex(hex.trim()).ok_or_else(|| ConfigError::Invalid {
                        name: "ADMIN_TOKEN_SHA256",
                        why: "expected 64 hexadecimal digits".into(),
                    })?,
                )
            }
            None => None,
        };
        Ok(Self {
            table_name,
            dynamodb_endpoint: non_empty("DYNAMODB_ENDPOINT"),
            allowed_origins: AllowedOrigins::parse(
                &non_empty("ALLOWED_ORIGINS").unwrap_or_default(),
            ),
            admin_token_sha256,
        })
    }

    /// A configuration for the local stack and tests, whose admin token is known in clear.
    pub fn local(table_name: &str, dynamodb_endpoint: &str, admin_token: &str) -> Self {
        Self {
            table_name: table_name.to_owned(),
            dynamodb_endpoint: Some(dynamodb_endpoint.to_owned()),
            allowed_origins: AllowedOrigins::Any,
            admin_token_sha256: Some(sha256(admin_token.as_bytes())),
        }
    }
}

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    sha256(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_sha256_hex(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// Which browser origins may call the API (`ALLOWED_ORIGINS`: `*` or a comma-separated
/// list of origins such as `https://blog.example`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedOrigins {
    Any,
    List(Vec<String>),
}

impl AllowedOrigins {
    pub fn parse(raw: &str) -> Self {
        let list: Vec<String> = raw
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
            .filter(|o| !o.is_empty())
            .collect();
        if list.iter().any(|o| o == "*") {
            Self::Any
        } else {
            Self::List(list)
        }
    }

    pub fn allows(&self, origin: &str) -> bool {
        match self {
            Self::Any => true,
            Self::List(list) => list.iter().any(|o| o.eq_ignore_ascii_case(origin)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn table_name_is_required() {
        assert!(matches!(
            Config::from_lookup(env(&[])),
            Err(ConfigError::Missing("TABLE_NAME"))
        ));
    }

    #[test]
    fn admin_hash_must_be_64_hex_digits() {
        let err = Config::from_lookup(env(&[("TABLE_NAME", "t"), ("ADMIN_TOKEN_SHA256", "abc")]));
        assert!(matches!(
            err,
            Err(ConfigError::Invalid {
                name: "ADMIN_TOKEN_SHA256",
                ..
            })
        ));
        let hash = sha256_hex(b"secret");
        let ok = Config::from_lookup(env(&[("TABLE_NAME", "t"), ("ADMIN_TOKEN_SHA256", &hash)]))
            .unwrap();
        assert_eq!(ok.admin_token_sha256, Some(sha256(b"secret")));
    }

    #[test]
    fn origins_are_a_list_or_any() {
        let list = AllowedOrigins::parse("https://blog.example, https://other.example/");
        assert!(list.allows("https://blog.example"));
        assert!(list.allows("https://other.example"));
        assert!(!list.allows("https://evil.example"));
        assert!(AllowedOrigins::parse("*").allows("https://anything.example"));
        assert!(!AllowedOrigins::parse("").allows("https://blog.example"));
    }
}
