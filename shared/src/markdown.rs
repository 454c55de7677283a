//! Comments are Markdown, rendered once when written (never on read) and sanitised with
//! a real HTML sanitiser: raw HTML in the source is shown as text, and whatever the
//! renderer makes passes an allow-list with no scripts, no event handlers and only
//! http(s) and mailto links, each marked `nofollow ugc noopener`.

use std::collections::HashSet;

use pulldown_cmark::{Event, Options, Parser};

pub fn render(markdown: &str) -> String {
    let parser = Parser::new_ext(markdown, Options::ENABLE_STRIKETHROUGH).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        other => other,
    });
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, parser);
    let tags: HashSet<&str> = [
        "p",
        "br",
        "em",
        "strong",
        "del",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "a",
        "hr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
    ]
    .into_iter()
    .collect();
    ammonia::Builder::default()
        .tags(tags)
        .tag_attributes(std::collections::HashMap::from([
            ("a", HashSet::from(["href"])),
            ("ol", HashSet::from(["start"])),
        ]))
        .generic_attributes(HashSet::new())
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .link_rel(Some("nofollow ugc noopener"))
        .url_relative(ammonia::UrlRelative::Deny)
        .clean(&html)
        .to_string()
}

/// How many links a comment carries, for the moderation policy: written links and bare
/// addresses alike, since spammers use both.
pub fn link_count(markdown: &str) -> usize {
    let lower = markdown.to_ascii_lowercase();
    ["http://", "https://", "www."]
        .iter()
        .map(|needle| lower.matches(needle).count())
        .sum::<usize>()
        .saturating_sub(lower.matches("://www.").count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_markdown() {
        assert_eq!(render("Hello *world*"), "<p>Hello <em>world</em></p>\n");
        assert_eq!(
            render("[NGO](https://ngo.example)"),
            "<p><a href=\"https://ngo.example\" rel=\"nofollow ugc noopener\">NGO</a></p>\n"
        );
    }

    #[test]
    fn raw_html_is_text() {
        let html = render("<b>bold</b> <script>alert(1)</script>");
        assert!(!html.contains("<script") && !html.contains("<b>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }

    #[test]
    fn dangerous_links_lose_their_href() {
        for source in [
            "[x](javascript:alert(1))",
            "[x](JaVaScRiPt:alert(1))",
            "[x](data:text/html,<script>alert(1)</script>)",
            "[x](/relative)",
        ] {
            let html = render(source);
            assert!(
                !html.to_ascii_lowercase().contains("javascript:")
                    && !html.contains("data:")
                    && !html.contains("href=\"/"),
                "{source} → {html}"
            );
        }
    }

    #[test]
    fn counts_links() {
        assert_eq!(link_count("no links"), 0);
        assert_eq!(link_count("see https://a.example and www.b.example and [c](http://www.c.example)"), 3);
    }
}
