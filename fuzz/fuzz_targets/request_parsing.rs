//! Arbitrary bytes through everything that reads a request: the JSON body readers of
//! every write route, the list parameters, cursors and Markdown. None may panic, and
//! whatever they accept must be within the contract's limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use app::campaign::{Kind, NewCampaign, NewSignup};
use app::comment::{MAX_AUTHOR, MAX_BODY, NewComment};
use app::http::Page;
use app::store::{Cursor, CursorKey};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(data) {
        if let Ok(comment) = NewComment::from_json(map.clone()) {
            assert!(comment.author.chars().count() <= MAX_AUTHOR && !comment.author.is_empty());
            assert!(comment.body.chars().count() <= MAX_BODY && !comment.body.is_empty());
        }
        let _ = NewCampaign::from_json(map.clone(), Kind::Petition);
        let _ = NewCampaign::from_json(map.clone(), Kind::Pledge);
        for kind in [Kind::Petition, Kind::Pledge] {
            if let Ok(signup) = NewSignup::from_json(map.clone(), kind) {
                // What may reach a mail or a public list: one line, no address.
                let name = &signup.details.name;
                assert!(!name.contains(['\n', '\r']) && !app::input::contains_web_address(name), "{name:?}");
            }
        }
    }
    let (limit, cursor) = text.split_once('&').unwrap_or((&text, ""));
    if let Ok(page) = Page::parse(Some(limit), Some(cursor), 50, 200) {
        assert!((1..=200).contains(&page.limit));
    }
    let _ = Cursor::decode(&text, &["PK", "SK"], Some(("PK", "POSTS")), "posts", &CursorKey::derive("fuzz"));
    // Text may say anything, `href="` included; markup may not. Text never holds a raw
    // `<` (it is escaped), so every `<a href="` is a link: its target must be http,
    // https or mailto. And no script element.
    let html = app::markdown::render(&text);
    assert!(!html.contains("<script"), "{html}");
    for (at, _) in html.match_indices("<a href=\"") {
        let target = &html[at + 9..];
        assert!(
            target.starts_with("http://") || target.starts_with("https://") || target.starts_with("mailto:"),
            "{html}"
        );
    }
});
