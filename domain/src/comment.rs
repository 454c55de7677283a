//! Comments: what a reader may send, validated, and the thread shape they are kept in.

use serde_json::{Map, Value};

use validator::Validate;

use crate::FieldErrors;
use crate::input::Fields;
use crate::rules::{self, valid};

pub const MAX_AUTHOR: usize = 80;
pub const MAX_BODY: usize = 10_000;
/// Replies nest to any depth a conversation reaches in practice; the cap keeps a thread
/// path inside DynamoDB's 1 KiB sort-key limit.
pub const MAX_DEPTH: u32 = 30;
/// Commenters may edit or delete their comment for this long.
pub const EDIT_WINDOW_SECS: i64 = 15 * 60;

/// A comment's id: a ULID, so ids sort by posting time.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CommentId(String);

impl CommentId {
    pub fn new() -> Self {
        Self(ulid::Ulid::new().to_string())
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        ulid::Ulid::from_string(raw).map(|id| Self(id.to_string())).map_err(|_| "is not a comment id".into())
    }
}

impl Default for CommentId {
    fn default() -> Self {
        Self::new()
    }
}

impl AsRef<str> for CommentId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for CommentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An email address, trimmed and lowercased. It is never shown publicly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let email = raw.trim().to_lowercase();
        if email.len() > 254 || !is_email(&email) {
            return Err("not a valid address".into());
        }
        Ok(Self(email))
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A commenter's website: an absolute http(s) URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Website(String);

impl Website {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let url = raw.trim();
        if url.len() > 500 || !is_http_url(url) {
            return Err("must be an http(s) URL".into());
        }
        Ok(Self(url.to_owned()))
    }
}

impl AsRef<str> for Website {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// An address a mail server would take: the HTML form rule (a local part of letters,
/// digits and ``.!#$%&'*+/=?^_`{|}~-``, then a domain of dot-separated labels of letters,
/// digits and inner hyphens), with letters from any script and at least one dot.
pub fn is_email(address: &str) -> bool {
    let Some((local, domain)) = address.rsplit_once('@') else { return false };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local.chars().all(|c| c.is_alphanumeric() || ".!#$%&'*+/=?^_`{|}~-".contains(c));
    local_ok && domain.contains('.') && is_host_name(domain)
}

fn is_host_name(host: &str) -> bool {
    host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.chars().count() <= 63
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// An absolute `http` or `https` URL with a host name (and maybe a port), and no
/// whitespace, quotes, angle brackets or control characters anywhere.
pub fn is_http_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    let Some(rest) = lower.strip_prefix("http://").or_else(|| lower.strip_prefix("https://")) else { return false };
    if url.chars().any(|c| c.is_whitespace() || c.is_control() || "<>\"\\`{}|^".contains(c)) {
        return false;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    let port_ok =
        port.is_none_or(|port| !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit()));
    port_ok && is_host_name(host)
}

/// A secret the widget keeps in the reader's browser and sends with every comment, so
/// that "this commenter has been approved before" belongs to the person who was
/// approved, not to anyone who types their address: 22 to 128 characters of
/// `A-Za-z0-9_-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommenterKey(String);

impl CommenterKey {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let ok =
            (22..=128).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok { Ok(Self(raw.to_owned())) } else { Err("must be 22 to 128 characters of A-Z, a-z, 0-9, - and _".into()) }
    }
}

/// A commenter's address as kept for the first-time rule: salted, so a stored hash
/// cannot be matched against a guessed address.
pub fn commenter_email_hash(email: &Email, salt: &str) -> String {
    crate::sha256_hex(format!("{salt}|commenter:{}", email.as_ref()).as_bytes())
}

/// A commenter key as kept for the first-time rule. The rule knows a commenter by both
/// hashes (see `Store::known_commenter`): knowing someone's address is not enough to pass
/// as them, and an answer (201 or 202) speaks only of the caller's own address and key.
pub fn commenter_key_hash(key: &CommenterKey, salt: &str) -> String {
    crate::sha256_hex(format!("{salt}|commenter-key:{}", key.0).as_bytes())
}

/// A comment as a reader submits it.
#[derive(Debug, Clone)]
pub struct NewComment {
    pub author: String,
    pub body: String,
    pub parent_id: Option<CommentId>,
    pub email: Option<Email>,
    pub website: Option<Website>,
    pub commenter_key: Option<CommenterKey>,
    /// Mail replies to `email`, once its holder confirms they want them.
    pub notify_replies: bool,
}

/// `POST /posts/{slug}/comments` as JSON carries it, with each field's rules.
#[derive(Debug, Validate)]
struct NewCommentForm {
    #[validate(custom(function = rules::one_line::<MAX_AUTHOR>))]
    author: String,
    #[validate(custom(function = rules::comment_body))]
    body: String,
    #[validate(custom(function = rules::comment_id))]
    parent_id: Option<String>,
    #[validate(custom(function = rules::email))]
    email: Option<String>,
    #[validate(custom(function = rules::website))]
    website: Option<String>,
    #[validate(custom(function = rules::commenter_key))]
    commenter_key: Option<String>,
}

/// A comment asking for replies by mail must say where.
fn notify_needs_email(form: &NewCommentForm, notify: bool) -> Option<&'static str> {
    (notify && form.email.is_none()).then_some("needs an email to mail replies to")
}

impl NewComment {
    pub fn from_json(map: Map<String, Value>) -> Result<Self, FieldErrors> {
        let mut f = Fields::new(map);
        let form = NewCommentForm {
            author: f.required_string("author"),
            body: f.required_string("body"),
            parent_id: f.string("parent_id"),
            email: f.blankable("email"),
            website: f.blankable("website"),
            commenter_key: f.blankable("commenter_key"),
        };
        let notify_replies = f.flag("notify_replies").unwrap_or(false);
        if let Some(problem) = notify_needs_email(&form, notify_replies) {
            f.error("notify_replies", problem);
        }
        f.honeypot();
        f.finish(form.validate())?;
        Ok(Self {
            author: form.author.trim().to_owned(),
            body: valid(comment_body(&form.body)),
            parent_id: form.parent_id.map(|id| valid(CommentId::parse(&id))),
            email: form.email.map(|email| valid(Email::parse(&email))),
            website: form.website.map(|site| valid(Website::parse(&site))),
            commenter_key: form.commenter_key.map(|key| valid(CommenterKey::parse(&key))),
            notify_replies,
        })
    }
}

/// `PUT /posts/{slug}/comments/{id}`: only the body changes.
#[derive(Debug, Validate)]
struct CommentEditForm {
    #[validate(custom(function = rules::comment_body))]
    body: String,
}

/// The body of `PUT /posts/{slug}/comments/{id}`.
pub fn edited_body(map: Map<String, Value>) -> Result<String, FieldErrors> {
    let mut f = Fields::new(map);
    let form = CommentEditForm { body: f.required_string("body") };
    f.finish(form.validate())?;
    Ok(valid(comment_body(&form.body)))
}

/// `POST /admin/commenters/erase`: the address whose approval is forgotten.
#[derive(Debug, Validate)]
struct CommenterForm {
    #[validate(custom(function = rules::email))]
    email: String,
}

/// The address of `POST /admin/commenters/erase`.
pub fn commenter_to_forget(map: Map<String, Value>) -> Result<Email, FieldErrors> {
    let mut f = Fields::new(map);
    let form = CommenterForm { email: f.required_string("email") };
    f.finish(form.validate())?;
    Ok(valid(Email::parse(&form.email)))
}

pub(crate) fn comment_body(raw: &str) -> Result<String, String> {
    let chars = raw.trim().chars().count();
    if chars == 0 {
        Err("must not be empty".into())
    } else if chars > MAX_BODY {
        Err(format!("must be at most {MAX_BODY} characters"))
    } else {
        Ok(raw.trim().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: Value) -> Result<NewComment, FieldErrors> {
        NewComment::from_json(value.as_object().unwrap().clone())
    }

    #[test]
    fn a_minimal_comment() {
        let c = parse(json!({"author": " Ji-woo ", "body": "Thank you", "email": "", "website": ""})).unwrap();
        assert_eq!(c.author, "Ji-woo");
        assert!(c.email.is_none() && c.website.is_none() && c.parent_id.is_none());
    }

    #[test]
    fn every_limit_is_a_named_field_error() {
        let err = parse(json!({
            "author": "a".repeat(81), "body": "b".repeat(10_001), "parent_id": "nope",
            "email": "not-an-address", "website": "javascript:alert(1)", "homepage": "http://spam.example"
        }))
        .unwrap_err();
        let fields = err;
        for name in ["author", "body", "parent_id", "email", "website", "homepage"] {
            assert!(fields.get(name).is_some(), "{name}");
        }
    }

    #[test]
    fn emails_are_lowercased() {
        assert_eq!(Email::parse(" Reader@Example.COM ").unwrap().as_ref(), "reader@example.com");
        assert!(Email::parse("two@@example.com").is_err());
    }

    #[test]
    fn addresses_follow_the_form_rule() {
        for good in ["a@b.example", "first.last+tag@mail.example.org", "o'neil@example.ie", "민준@예시.한국"] {
            assert!(is_email(good), "{good}");
        }
        for bad in [
            "",
            "@example.com",
            "reader@",
            "reader@localhost",
            "reader@-bad.example",
            "reader@bad-.example",
            "reader@a..example",
            "two words@example.com",
            "reader@exa mple.com",
            "<script>@example.com",
            "reader@example.com\n",
        ] {
            assert!(!is_email(bad), "{bad:?}");
        }
    }

    #[test]
    fn websites_are_http_urls() {
        assert!(Website::parse("https://blog.example/about").is_ok());
        assert!(Website::parse("HTTP://Blog.Example:8080/a?b=c#d").is_ok());
        for bad in [
            "ftp://x.example",
            "javascript:alert(1)",
            "blog.example",
            "http://",
            "http://:80/",
            "http://a.example:port/",
            "https://a.example/\"onmouseover=\"x",
            "https://a.example/<b>",
            "https://a b.example/",
        ] {
            assert!(Website::parse(bad).is_err(), "{bad}");
        }
    }
}
