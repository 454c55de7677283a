//! Property tests of the pure logic every request goes through: the validators, email
//! normalisation, cursor decoding and Markdown sanitising. Each property is checked on
//! hundreds of generated inputs per run (proptest shrinks any failure to a minimal case).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use proptest::prelude::*;
use shared::campaign::{normalise_email, signer_key};
use shared::comment::{Email, Website, is_email, is_http_url};
use shared::markdown;
use shared::store::Cursor;

/// Addresses that look like what people type: a local part with dots, `+tags` and
/// case, at a domain, sometimes with spaces around.
fn typed_address() -> impl Strategy<Value = (String, String, String)> {
    ("[a-z][a-z0-9]{0,8}(\\.[a-z0-9]{1,5})?", "[a-z0-9]{1,6}", "(example\\.org|mail\\.example|gmail\\.com)")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn email_parsing_never_panics_and_keeps_what_it_accepts_clean(raw in "\\PC{0,80}") {
        if let Ok(email) = Email::parse(&raw) {
            let text = email.as_ref();
            prop_assert_eq!(text, raw.trim().to_lowercase());
            prop_assert!(is_email(text));
            prop_assert!(!text.chars().any(|c| c.is_whitespace() || "<>\"()[],;:\\".contains(c)));
        }
    }

    #[test]
    fn websites_are_only_ever_http(raw in "\\PC{0,60}", scheme in "(http|https|HTTP|javascript|data|ftp|)") {
        let candidate = format!("{scheme}://{raw}");
        if let Ok(site) = Website::parse(&candidate) {
            let lower = site.as_ref().to_ascii_lowercase();
            prop_assert!(lower.starts_with("http://") || lower.starts_with("https://"));
            prop_assert!(is_http_url(site.as_ref()));
            prop_assert!(!site.as_ref().contains(['"', '<', '>', ' ']));
        }
    }

    #[test]
    fn one_person_one_key_however_they_type_it((local, tag, domain) in typed_address(), upper in any::<bool>()) {
        let plain = Email::parse(&format!("{local}@{domain}")).unwrap();
        let typed = format!(" {local}+{tag}@{domain} ");
        let typed = if upper { typed.to_uppercase() } else { typed };
        let variant = Email::parse(&typed).unwrap();
        prop_assert_eq!(normalise_email(&plain), normalise_email(&variant));
        prop_assert_eq!(signer_key(&plain, "salt"), signer_key(&variant, "salt"));
        // Normalising is idempotent, and the salt matters.
        let again = Email::parse(&normalise_email(&plain)).unwrap();
        prop_assert_eq!(normalise_email(&again), normalise_email(&plain));
        prop_assert_ne!(signer_key(&plain, "salt"), signer_key(&plain, "other salt"));
    }

    #[test]
    fn different_people_get_different_keys(a in "[a-z]{1,10}", b in "[a-z]{1,10}") {
        prop_assume!(a != b);
        let a = Email::parse(&format!("{a}@example.org")).unwrap();
        let b = Email::parse(&format!("{b}@example.org")).unwrap();
        prop_assert_ne!(signer_key(&a, "salt"), signer_key(&b, "salt"));
    }

    #[test]
    fn cursors_round_trip_within_their_list(pk in "[A-Z#a-z0-9-]{1,30}", sk in "\\PC{0,40}") {
        let key: HashMap<String, AttributeValue> =
            HashMap::from([("PK".to_owned(), AttributeValue::S(pk.clone())), ("SK".to_owned(), AttributeValue::S(sk))]);
        let raw = Cursor::encode(Some(&key)).unwrap();
        prop_assert_eq!(Cursor::decode(&raw, &["PK", "SK"], ("PK", &pk)).unwrap(), key);
        let other = format!("{pk}x");
        prop_assert!(Cursor::decode(&raw, &["PK", "SK"], ("PK", &other)).is_err());
    }

    #[test]
    fn garbage_cursors_are_refused_not_panicked_on(raw in "\\PC{0,120}") {
        if let Ok(key) = Cursor::decode(&raw, &["PK", "SK"], ("PK", "POSTS")) {
            // Only a well-formed cursor of this very list decodes.
            prop_assert_eq!(key.get("PK").and_then(|v| v.as_s().ok()).map(String::as_str), Some("POSTS"));
            prop_assert_eq!(key.len(), 2);
        }
    }

    #[test]
    fn rendered_markdown_has_only_allowed_tags_and_links(source in markdown_source()) {
        let html = markdown::render(&source);
        for (name, attributes) in tags(&html) {
            prop_assert!(shared::markdown::TAGS.contains(&name.as_str()), "tag <{}> in {:?} from {:?}", name, html, source);
            for (attribute, value) in attributes {
                match (name.as_str(), attribute.as_str()) {
                    ("a", "href") => {
                        let lower = value.to_ascii_lowercase();
                        prop_assert!(
                            lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("mailto:"),
                            "href {:?} from {:?}", value, source
                        );
                    }
                    ("a", "rel") => prop_assert_eq!(value.as_str(), "nofollow ugc noopener"),
                    ("ol", "start") => prop_assert!(value.bytes().all(|b| b.is_ascii_digit())),
                    _ => prop_assert!(false, "attribute {}={:?} on <{}> from {:?}", attribute, value, name, source),
                }
            }
        }
    }
}

/// Markdown with the constructs an attacker reaches for mixed into ordinary text.
fn markdown_source() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        "\\PC{0,20}",
        Just("<script>alert(1)</script>".to_owned()),
        Just("<img src=x onerror=alert(1)>".to_owned()),
        Just("[x](javascript:alert(1))".to_owned()),
        Just("[x](java&#115;cript:alert(1))".to_owned()),
        Just("![a](https://img.example/a.png)".to_owned()),
        Just("<https://ok.example/?a=\"b\">".to_owned()),
        Just("[ok](https://ok.example \"title\")".to_owned()),
        Just("\n```js onload=x\ncode\n```\n".to_owned()),
        Just("\n1. one\n2. two\n".to_owned()),
        Just("\n> quote *em* **strong** ~~del~~\n".to_owned()),
        Just("<a href=\"javascript:x\">a</a>".to_owned()),
        Just("[r]: javascript:alert(1)\n[r]".to_owned()),
        Just("`<b>`".to_owned()),
    ];
    prop::collection::vec(pieces, 0..8).prop_map(|parts| parts.concat())
}

/// Every tag in `html` with its attributes. The renderer escapes text, so every `<` in
/// the output starts a tag.
fn tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut found = Vec::new();
    for piece in html.split('<').skip(1) {
        let inner = piece.split('>').next().unwrap_or("");
        let inner = inner.trim_start_matches('/').trim_end_matches('/');
        let name_end = inner.find(char::is_whitespace).unwrap_or(inner.len());
        let name = inner[..name_end].to_ascii_lowercase();
        let mut attributes = Vec::new();
        let mut attrs = &inner[name_end..];
        while let Some(eq) = attrs.find('=') {
            let attribute = attrs[..eq].trim().to_ascii_lowercase();
            let after = &attrs[eq + 1..];
            let (value, remaining) = match after.strip_prefix('"') {
                Some(quoted) => {
                    let close = quoted.find('"').unwrap_or(quoted.len());
                    (quoted[..close].to_owned(), &quoted[(close + 1).min(quoted.len())..])
                }
                None => {
                    let stop = after.find(char::is_whitespace).unwrap_or(after.len());
                    (after[..stop].to_owned(), &after[stop..])
                }
            };
            attributes.push((attribute, value));
            attrs = remaining;
        }
        found.push((name, attributes));
    }
    found
}
