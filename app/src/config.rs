//! Configuration, read from the environment once at start-up.

pub use domain::{sha256, sha256_hex};

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
    pub moderation: Moderation,
    /// Writes one client (by hashed IP) may make per minute.
    pub writes_per_minute: u32,
    /// Secret mixed into client-IP hashes (which also rotate daily) and signers' email
    /// hashes, so a stored hash cannot be matched by hashing guessed addresses. Keep it
    /// stable: signups are deduplicated by the email hash it salts.
    pub ip_hash_salt: String,
    /// Deadline of one attempt of a store call; calls retry up to three attempts within
    /// [`Config::store_call_deadline`]. DynamoDB answers in milliseconds; DynamoDB Local
    /// under a test's burst takes far longer, so the local stack waits more.
    pub store_attempt_deadline: std::time::Duration,
    pub store_call_deadline: std::time::Duration,
    /// How long a function may answer the cacheable counts (`GET /comments/counts`,
    /// `GET /petitions/{slug}/count`) from its own memory (`COUNT_CACHE_SECONDS`, default
    /// 5; 0 reads every time). Their `Cache-Control` already lets browsers and CDNs keep
    /// them longer; the local stack reads every time so a demo shows each change at once.
    pub count_cache: std::time::Duration,
    /// The API's own address as readers reach it (`PUBLIC_URL`, e.g.
    /// `https://api.blog.example`), for the links in mail. Unset, links use the domain
    /// API Gateway reports in the request context; never the request's `Host` or
    /// `X-Forwarded-*` headers, which a client writes.
    pub public_url: Option<String>,
    /// What strangers can make the deployment mail (`MAILS_PER_ADDRESS_PER_DAY`,
    /// `MAILS_PER_DAY`).
    pub mail_caps: crate::store::MailCaps,
    /// Mails the deployment sends a second at most, over every function (`MAIL_RATE`,
    /// default 14: where SES starts an account).
    pub mail_rate: u32,
    /// Who is told of comments held for review (`MODERATOR_EMAIL`); unset, nobody.
    pub moderator_email: Option<crate::comment::Email>,
    /// Who is told of a petition's goal and milestones when the petition names nobody
    /// (`ORGANISER_EMAIL`); unset, nobody.
    pub organiser_email: Option<crate::comment::Email>,
    /// Where events are POSTed, signed with a secret (`WEBHOOK_URL`, `WEBHOOK_SECRET`,
    /// `WEBHOOK_INCLUDE_EMAIL`); unset, nowhere.
    pub webhook: Option<Webhook>,
    /// A post's address on the blog, with `{slug}` for its slug (`BLOG_POST_URL`, e.g.
    /// `https://blog.example/posts/{slug}`), for the links in reply notifications.
    /// Unset, they link to the API's thread of the post.
    pub blog_post_url: Option<String>,
}

pub const DEFAULT_MAIL_CAPS: crate::store::MailCaps = crate::store::MailCaps { per_address: 5, per_day: 50_000 };

pub const DEFAULT_COUNT_CACHE_SECONDS: u32 = 5;

pub const DEFAULT_MAIL_RATE: u32 = 14;

/// Which comments wait for the blogger's approval (`MODERATION_MAX_LINKS`,
/// `MODERATION_HOLD_FIRST_TIME`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moderation {
    /// Hold comments with more links than this; `None` approves any number.
    pub max_links: Option<usize>,
    /// Hold a commenter's comments (known by hashed email) until one has been approved.
    pub hold_first_time: bool,
}

impl Default for Moderation {
    fn default() -> Self {
        Self { max_links: Some(2), hold_first_time: false }
    }
}

impl Config {
    /// What the store needs of it.
    pub fn store(&self) -> crate::store::StoreConfig {
        crate::store::StoreConfig {
            table_name: self.table_name.clone(),
            dynamodb_endpoint: self.dynamodb_endpoint.clone(),
            secret: self.ip_hash_salt.clone(),
            attempt_deadline: self.store_attempt_deadline,
            call_deadline: self.store_call_deadline,
        }
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, so tests need not touch the process
    /// environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let non_empty = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let table_name = non_empty("TABLE_NAME").ok_or(ConfigError::Missing("TABLE_NAME"))?;
        let admin_token_sha256 = match non_empty("ADMIN_TOKEN_SHA256") {
            Some(hex) => Some(parse_sha256_hex(hex.trim()).ok_or_else(|| ConfigError::Invalid {
                name: "ADMIN_TOKEN_SHA256",
                why: "expected 64 hexadecimal digits".into(),
            })?),
            None => None,
        };
        let number = |name: &'static str| -> Result<Option<u32>, ConfigError> {
            non_empty(name)
                .map(|v| {
                    v.trim()
                        .parse::<u32>()
                        .map_err(|_| ConfigError::Invalid { name, why: "expected a whole number".into() })
                })
                .transpose()
        };
        let max_links = match non_empty("MODERATION_MAX_LINKS").as_deref().map(str::trim) {
            Some("any") => None,
            Some(_) => number("MODERATION_MAX_LINKS")?.map(|n| n as usize),
            None => Moderation::default().max_links,
        };
        let flag = |name: &'static str| -> Result<bool, ConfigError> {
            match non_empty(name).as_deref().map(str::trim) {
                None | Some("false") => Ok(false),
                Some("true") => Ok(true),
                Some(_) => Err(ConfigError::Invalid { name, why: "expected true or false".into() }),
            }
        };
        let email = |name: &'static str| -> Result<Option<crate::comment::Email>, ConfigError> {
            non_empty(name)
                .map(|raw| crate::comment::Email::parse(&raw).map_err(|why| ConfigError::Invalid { name, why }))
                .transpose()
        };
        let hold_first_time = flag("MODERATION_HOLD_FIRST_TIME")?;
        Ok(Self {
            dynamodb_endpoint: non_empty("DYNAMODB_ENDPOINT"),
            allowed_origins: AllowedOrigins::parse(&non_empty("ALLOWED_ORIGINS").unwrap_or_default()),
            admin_token_sha256,
            moderation: Moderation { max_links, hold_first_time },
            writes_per_minute: number("WRITES_PER_MINUTE")?.unwrap_or(DEFAULT_WRITES_PER_MINUTE),
            // A run against a local DynamoDB (`sam local`) without a secret uses a local one,
            // as the local stack does; a deployed function always has one.
            ip_hash_salt: match (non_empty("IP_HASH_SALT"), non_empty("DYNAMODB_ENDPOINT")) {
                (Some(secret), _) => secret,
                (None, Some(_)) => local_secret(&table_name),
                (None, None) => return Err(ConfigError::Missing("IP_HASH_SALT")),
            },
            store_attempt_deadline: std::time::Duration::from_secs(2),
            store_call_deadline: std::time::Duration::from_secs(5),
            count_cache: std::time::Duration::from_secs(
                number("COUNT_CACHE_SECONDS")?.unwrap_or(DEFAULT_COUNT_CACHE_SECONDS).into(),
            ),
            public_url: non_empty("PUBLIC_URL")
                .map(|url| {
                    parse_public_url(&url).ok_or(ConfigError::Invalid {
                        name: "PUBLIC_URL",
                        why: "expected an http(s) URL such as https://api.blog.example".into(),
                    })
                })
                .transpose()?,
            mail_caps: crate::store::MailCaps {
                per_address: number("MAILS_PER_ADDRESS_PER_DAY")?.unwrap_or(DEFAULT_MAIL_CAPS.per_address),
                per_day: number("MAILS_PER_DAY")?.unwrap_or(DEFAULT_MAIL_CAPS.per_day),
            },
            moderator_email: email("MODERATOR_EMAIL")?,
            mail_rate: number("MAIL_RATE")?.unwrap_or(DEFAULT_MAIL_RATE).max(1),
            webhook: match (non_empty("WEBHOOK_URL"), non_empty("WEBHOOK_SECRET")) {
                (None, _) => None,
                (Some(_), None) => return Err(ConfigError::Missing("WEBHOOK_SECRET")),
                (Some(url), Some(secret)) => Some(Webhook {
                    url: parse_webhook_url(&url).ok_or(ConfigError::Invalid {
                        name: "WEBHOOK_URL",
                        why: "expected an https URL (or http on 127.0.0.1 or localhost)".into(),
                    })?,
                    secret: secret.trim().to_owned(),
                    include_email: flag("WEBHOOK_INCLUDE_EMAIL")?,
                }),
            },
            organiser_email: email("ORGANISER_EMAIL")?,
            blog_post_url: non_empty("BLOG_POST_URL")
                .map(|raw| {
                    parse_post_url(&raw).ok_or(ConfigError::Invalid {
                        name: "BLOG_POST_URL",
                        why: "expected an http(s) URL with {slug} in it, such as https://blog.example/posts/{slug}"
                            .into(),
                    })
                })
                .transpose()?,
            table_name,
        })
    }

    /// A configuration for the local stack and tests, whose admin token is known in clear.
    pub fn local(table_name: &str, dynamodb_endpoint: &str, admin_token: &str) -> Self {
        Self {
            table_name: table_name.to_owned(),
            dynamodb_endpoint: Some(dynamodb_endpoint.to_owned()),
            allowed_origins: AllowedOrigins::Any,
            admin_token_sha256: Some(sha256(admin_token.as_bytes())),
            moderation: Moderation::default(),
            writes_per_minute: DEFAULT_WRITES_PER_MINUTE,
            ip_hash_salt: local_secret(table_name),
            store_attempt_deadline: std::time::Duration::from_secs(20),
            store_call_deadline: std::time::Duration::from_secs(60),
            count_cache: std::time::Duration::ZERO,
            public_url: None,
            mail_caps: DEFAULT_MAIL_CAPS,
            // Locally mail goes nowhere: only a test that measures pacing slows it.
            mail_rate: 1_000,
            moderator_email: None,
            organiser_email: None,
            webhook: None,
            blog_post_url: None,
        }
    }

    /// Where a reader reads post `slug`'s thread: the blog's page for it, or the API's.
    pub fn thread_url(&self, slug: &str) -> String {
        match &self.blog_post_url {
            Some(template) => template.replace("{slug}", slug),
            None => format!("{}/posts/{slug}/comments", self.public_url.as_deref().unwrap_or_default()),
        }
    }
}

/// The deployment's webhook.
#[derive(Clone, PartialEq, Eq)]
pub struct Webhook {
    pub url: String,
    /// Signs every call (`Rally-Signature`); the receiver checks it.
    pub secret: String,
    /// Whether `signup.confirmed` carries the signer's address (off unless configured).
    pub include_email: bool,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook").field("url", &self.url).field("include_email", &self.include_email).finish()
    }
}

/// A webhook URL: https anywhere, or http to this machine (a local receiver).
pub fn parse_webhook_url(raw: &str) -> Option<String> {
    let url = raw.trim();
    let lower = url.to_ascii_lowercase();
    let local = ["http://127.0.0.1:", "http://127.0.0.1/", "http://localhost:", "http://localhost/"];
    let ok = crate::comment::is_http_url(url)
        && (lower.starts_with("https://") || local.iter().any(|p| lower.starts_with(p)));
    ok.then(|| url.to_owned())
}

/// A blog post address template: an http(s) URL with `{slug}` in it.
pub fn parse_post_url(raw: &str) -> Option<String> {
    let url = raw.trim();
    (url.contains("{slug}") && crate::comment::is_http_url(&url.replace("{slug}", "slug"))).then(|| url.to_owned())
}

pub const DEFAULT_WRITES_PER_MINUTE: u32 = 10;

/// The hashing secret of a run against a local DynamoDB (the local stack, `sam local`).
/// The hashing secret of a local stack's table (never a deployment's).
pub fn local_secret(table_name: &str) -> String {
    format!("local-{table_name}")
}

/// An absolute http(s) URL without a trailing slash, or `None`.
pub fn parse_public_url(raw: &str) -> Option<String> {
    let url = raw.trim().trim_end_matches('/');
    (crate::comment::is_http_url(url) && !url.contains(['?', '#'])).then(|| url.to_owned())
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
        if list.iter().any(|o| o == "*") { Self::Any } else { Self::List(list) }
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
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    #[test]
    fn table_name_is_required() {
        assert!(matches!(Config::from_lookup(env(&[])), Err(ConfigError::Missing("TABLE_NAME"))));
    }

    #[test]
    fn admin_hash_must_be_64_hex_digits() {
        let err =
            Config::from_lookup(env(&[("TABLE_NAME", "t"), ("ADMIN_TOKEN_SHA256", "abc"), ("IP_HASH_SALT", "s")]));
        assert!(matches!(err, Err(ConfigError::Invalid { name: "ADMIN_TOKEN_SHA256", .. })));
        let hash = sha256_hex(b"secret");
        let ok = Config::from_lookup(env(&[("TABLE_NAME", "t"), ("ADMIN_TOKEN_SHA256", &hash), ("IP_HASH_SALT", "s")]))
            .unwrap();
        assert_eq!(ok.admin_token_sha256, Some(sha256(b"secret")));
    }

    #[test]
    fn moderation_and_limits_have_defaults_and_overrides() {
        let defaults = Config::from_lookup(env(&[("TABLE_NAME", "t"), ("IP_HASH_SALT", "s")])).unwrap();
        assert_eq!(defaults.moderation, Moderation { max_links: Some(2), hold_first_time: false });
        assert_eq!(defaults.writes_per_minute, DEFAULT_WRITES_PER_MINUTE);
        let set = Config::from_lookup(env(&[
            ("TABLE_NAME", "t"),
            ("IP_HASH_SALT", "s"),
            ("MODERATION_MAX_LINKS", "any"),
            ("MODERATION_HOLD_FIRST_TIME", "true"),
            ("WRITES_PER_MINUTE", "3"),
        ]))
        .unwrap();
        assert_eq!(set.moderation, Moderation { max_links: None, hold_first_time: true });
        assert_eq!(set.writes_per_minute, 3);
        assert!(Config::from_lookup(env(&[("TABLE_NAME", "t")])).is_err(), "the salt is required");
        let local = Config::from_lookup(env(&[("TABLE_NAME", "t"), ("DYNAMODB_ENDPOINT", "http://dynamodb:8000")]));
        assert_eq!(local.unwrap().ip_hash_salt, "local-t", "only against a local DynamoDB is there a local secret");
        let bad =
            Config::from_lookup(env(&[("TABLE_NAME", "t"), ("IP_HASH_SALT", "s"), ("WRITES_PER_MINUTE", "lots")]));
        assert!(matches!(bad, Err(ConfigError::Invalid { name: "WRITES_PER_MINUTE", .. })));
    }

    #[test]
    fn the_public_url_and_mail_caps_are_read_and_checked() {
        let base = [("TABLE_NAME", "t"), ("IP_HASH_SALT", "s")];
        let defaults = Config::from_lookup(env(&base)).unwrap();
        assert_eq!((defaults.public_url, defaults.mail_caps), (None, DEFAULT_MAIL_CAPS));
        let set = Config::from_lookup(env(&[
            base[0],
            base[1],
            ("PUBLIC_URL", "https://api.blog.example/"),
            ("MAILS_PER_ADDRESS_PER_DAY", "2"),
            ("MAILS_PER_DAY", "100"),
        ]))
        .unwrap();
        assert_eq!(set.public_url.as_deref(), Some("https://api.blog.example"));
        assert_eq!(set.mail_caps, crate::store::MailCaps { per_address: 2, per_day: 100 });
        for bad in ["api.blog.example", "javascript:alert(1)", "https://a.example/?x"] {
            let err = Config::from_lookup(env(&[base[0], base[1], ("PUBLIC_URL", bad)]));
            assert!(matches!(err, Err(ConfigError::Invalid { name: "PUBLIC_URL", .. })), "{bad}");
        }
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
