//! Property tests of the pure logic every request goes through: the validators, email
//! normalisation, cursor decoding and Markdown sanitising. Each property is checked on
//! hundreds of generated inputs per run (proptest shrinks any failure to a minimal case).

use std::collections::HashMap;

use app::campaign::{Kind, normalise_email};
use app::comment::{Email, Website, is_email, is_http_url};
use app::input::{contains_web_address, single_line};
use app::markdown;
use app::post::Slug;
use app::store::{Cursor, CursorKey};
use aws_sdk_dynamodb::types::AttributeValue;
use proptest::prelude::*;

fn signer_key(email: &Email, salt: &str) -> String {
    app::campaign::signer_key(email, salt, Kind::Petition, &Slug::parse("free-them").unwrap())
}

fn secret() -> CursorKey {
    CursorKey::derive("deployment secret")
}

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
        let raw = Cursor::encode(Some(&key), "list", &secret()).unwrap();
        prop_assert_eq!(Cursor::decode(&raw, &["PK", "SK"], Some(("PK", &pk)), "list", &secret()).unwrap(), key);
        let other = format!("{pk}x");
        prop_assert!(Cursor::decode(&raw, &["PK", "SK"], Some(("PK", &other)), "list", &secret()).is_err());
        prop_assert!(Cursor::decode(&raw, &["PK", "SK"], Some(("PK", &pk)), "another list", &secret()).is_err());
    }

    #[test]
    fn a_cursor_changed_anywhere_is_refused(pk in "[A-Z#a-z0-9-]{1,30}", sk in "[a-z0-9#]{1,40}", at in any::<prop::sample::Index>(), to in "[A-Za-z0-9_.-]") {
        let key: HashMap<String, AttributeValue> =
            HashMap::from([("PK".to_owned(), AttributeValue::S(pk.clone())), ("SK".to_owned(), AttributeValue::S(sk))]);
        let raw = Cursor::encode(Some(&key), "list", &secret()).unwrap();
        let i = at.index(raw.len());
        let changed = format!("{}{}{}", &raw[..i], to, &raw[i + 1..]);
        prop_assume!(changed != raw);
        prop_assert!(Cursor::decode(&changed, &["PK", "SK"], Some(("PK", &pk)), "list", &secret()).is_err());
    }

    #[test]
    fn garbage_cursors_are_refused_not_panicked_on(raw in "\\PC{0,120}") {
        if let Ok(key) = Cursor::decode(&raw, &["PK", "SK"], Some(("PK", "POSTS")), "posts", &secret()) {
            // Only a well-formed cursor of this very list decodes.
            prop_assert_eq!(key.get("PK").and_then(|v| v.as_s().ok()).map(String::as_str), Some("POSTS"));
            prop_assert_eq!(key.len(), 2);
        }
    }

    #[test]
    fn single_line_text_never_holds_a_break_a_direction_mark_or_an_address(raw in single_line_source()) {
        if let Ok(text) = single_line(200)(&raw) {
            let hidden = |c: char| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{2028}' | '\u{2029}');
            let clean = !text.chars().any(|c| c.is_control() || hidden(c));
            prop_assert!(clean, "{:?}", text);
            prop_assert!(!contains_web_address(&text));
            prop_assert!(!text.to_ascii_lowercase().contains("http"), "{:?}", text);
        }
    }

    #[test]
    fn no_stored_item_panics_a_reader(item in stored_item()) {
        // Whatever a table holds, reading it answers a value or an error, never a panic.
        let _ = app::render_stored(&item, app::time::now());
    }

    #[test]
    fn well_formed_items_render(kind in 0..WELL_FORMED.len()) {
        let item = stored_item_unchanged(kind);
        let rendered = app::render_stored(&item, app::time::now());
        prop_assert!(rendered.iter().any(Result::is_ok), "{:?}", rendered);
    }

    #[test]
    fn rendered_markdown_has_only_allowed_tags_and_links(source in markdown_source()) {
        let html = markdown::render(&source);
        for (name, attributes) in tags(&html) {
            prop_assert!(app::markdown::TAGS.contains(&name.as_str()), "tag <{}> in {:?} from {:?}", name, html, source);
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

/// Names as strangers would write them to get a line or a link into a mail.
fn single_line_source() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        "\\PC{0,12}",
        Just("\n".to_owned()),
        Just("\r\n".to_owned()),
        Just("\u{202E}".to_owned()),
        Just("\u{2067}".to_owned()),
        Just("https://".to_owned()),
        Just("http://".to_owned()),
        Just("phish.example".to_owned()),
        Just("www.".to_owned()),
        Just("。example".to_owned()),
        Just(" ".to_owned()),
        Just("Min-jun".to_owned()),
    ];
    prop::collection::vec(pieces, 1..6).prop_map(|parts| parts.concat())
}

/// Items of every kind the table holds, each whole and well-formed, then with a few of
/// their attributes dropped or replaced by values of the wrong type, size or shape.
fn stored_item() -> impl Strategy<Value = HashMap<String, AttributeValue>> {
    let value = prop_oneof![
        "\\PC{0,12}".prop_map(AttributeValue::S),
        Just(AttributeValue::S("9999-12-31T23:59:59Z".into())),
        Just(AttributeValue::S("2026-11-29T10:00:00Z".into())),
        Just(AttributeValue::S("".into())),
        Just(AttributeValue::S("C".into())),
        Just(AttributeValue::S("X#".into())),
        Just(AttributeValue::N("-1".into())),
        Just(AttributeValue::N("18446744073709551615".into())),
        Just(AttributeValue::N("1e400".into())),
        any::<u32>().prop_map(|n| AttributeValue::N(n.to_string())),
        any::<bool>().prop_map(AttributeValue::Bool),
        Just(AttributeValue::Null(true)),
        Just(AttributeValue::L(vec![AttributeValue::S("a".into()), AttributeValue::N("1".into())])),
    ];
    let changes = prop::collection::vec((any::<prop::sample::Index>(), prop::option::of(value)), 0..4);
    (0..WELL_FORMED.len(), changes).prop_map(|(kind, changes)| {
        let mut item: HashMap<String, AttributeValue> =
            serde_json::from_str::<HashMap<String, serde_json::Value>>(WELL_FORMED[kind])
                .unwrap()
                .into_iter()
                .map(|(name, value)| (name, attribute(value)))
                .collect();
        let mut names: Vec<String> = item.keys().cloned().collect();
        names.sort();
        for (at, value) in changes {
            let name = &names[at.index(names.len())];
            match value {
                Some(value) => item.insert(name.clone(), value),
                None => item.remove(name),
            };
        }
        item
    })
}

fn stored_item_unchanged(kind: usize) -> HashMap<String, AttributeValue> {
    serde_json::from_str::<HashMap<String, serde_json::Value>>(WELL_FORMED[kind])
        .unwrap()
        .into_iter()
        .map(|(name, value)| (name, attribute(value)))
        .collect()
}

fn attribute(value: serde_json::Value) -> AttributeValue {
    match value {
        serde_json::Value::String(s) => AttributeValue::S(s),
        serde_json::Value::Number(n) => AttributeValue::N(n.to_string()),
        serde_json::Value::Bool(b) => AttributeValue::Bool(b),
        serde_json::Value::Array(items) => AttributeValue::L(items.into_iter().map(attribute).collect()),
        serde_json::Value::Object(map) => AttributeValue::M(map.into_iter().map(|(k, v)| (k, attribute(v))).collect()),
        _ => AttributeValue::Null(true),
    }
}

/// One well-formed item of each kind a request reads: a post, a comment, a campaign, a
/// signup and a token.
const WELL_FORMED: [&str; 5] = [
    r##"{"PK":"POST#a","SK":"#META","slug":"a","title":"T","author":"M","tags":["x"],"published_at":"2026-11-01T00:00:00Z","comments_close_after_days":60,"comment_count":1,"petition":null,"pledge":null,"created_at":"2026-11-01T00:00:00Z","updated_at":"2026-11-01T00:00:00Z","version":1,"deleted":false}"##,
    r##"{"PK":"POST#a","SK":"C#00000001#01JDX5Q3K6Y7Z8A9B0C1D2E3F4","id":"01JDX5Q3K6Y7Z8A9B0C1D2E3F4","post":"a","parent_id":"01JDX5Q3K6Y7Z8A9B0C1D2E3F5","depth":1,"number":null,"author":"A","website":null,"body":"b","body_html":"<p>b</p>","created_at":"2026-11-01T00:00:00Z","edited_at":null,"deleted":false,"is_post_author":false,"status":"approved","email_hash":null,"edit_token_hash":"h","reply_count":0}"##,
    r##"{"PK":"PLEDGE#a","SK":"#META","kind":"pledge","slug":"a","title":"T","body":"B","target":null,"goal":null,"closes_at":null,"threshold":1000,"deadline":"2026-12-01T00:00:00Z","currency":"USD","suggested_amount":3,"petition":null,"post":null,"created_at":"2026-11-01T00:00:00Z"}"##,
    r##"{"PK":"PETITION#a#S3","SK":"SIGNUP#03ab","name":"N","country":"C","postcode":null,"comment":"=1+1","amount":null,"public":true,"email":"a@b.example","token_hash":"t","consent_text":"c","consent_version":"v","consented_at":"2026-11-01T00:00:00Z","confirmed_at":"2026-11-01T00:00:00Z"}"##,
    r##"{"PK":"TOKEN#t","SK":"#META","kind":"petition","slug":"a","signer":"03ab","address":"ad","email":"a@b.example","requested":{"name":"N<script>","country":null,"postcode":null,"comment":null,"amount":null,"public":false},"consent_text":"c","consent_version":"v","consented_at":"2026-11-01T00:00:00Z","created_at":"2026-11-01T00:00:00Z","expires_at":1}"##,
];

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
