//! Comments are Markdown, rendered once when written (never on read) and made safe by
//! construction: the renderer only ever sees events this module lets through.
//!
//! - raw HTML in the source becomes text (escaped), so the only tags in the output are
//!   the ones the Markdown renderer itself writes: `p br em strong del code pre
//!   blockquote ul ol li a hr h1`–`h6`;
//! - a link keeps its `href` only when it is `http:`, `https:` or `mailto:`, and is written
//!   here with `rel="nofollow ugc noopener"` and no other attribute; any other link is
//!   its text alone;
//! - an image is its alt text; a fenced code block loses its language class.
//!
//! Escaping is the renderer's (`pulldown-cmark-escape`): text and attribute values are
//! HTML-escaped, link targets percent-encoded.

use pulldown_cmark::{CodeBlockKind, CowStr, Event, LinkType, Options, Parser, Tag, TagEnd};

/// Every element [`render`] can write: what the Markdown renderer makes of the events let
/// through. The tests hold its output to this list.
pub const TAGS: [&str; 19] = [
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
];

pub fn render(markdown: &str) -> String {
    // One entry per open link: whether it was written as an `<a>`.
    let mut links: Vec<bool> = Vec::new();
    let parser = Parser::new_ext(markdown, Options::ENABLE_STRIKETHROUGH).filter_map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        Event::Start(Tag::Link { link_type, dest_url, .. }) => {
            let href = if link_type == LinkType::Email { format!("mailto:{dest_url}") } else { dest_url.to_string() };
            let kept = allowed_href(&href);
            links.push(kept);
            kept.then(|| {
                let mut tag = String::from("<a href=\"");
                pulldown_cmark_escape::escape_href(&mut tag, &href).expect("writing to a String");
                tag.push_str("\" rel=\"nofollow ugc noopener\">");
                Event::InlineHtml(CowStr::from(tag))
            })
        }
        Event::End(TagEnd::Link) => links.pop().unwrap_or(false).then(|| Event::InlineHtml(CowStr::from("</a>"))),
        Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => None,
        Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(_))) => {
            Some(Event::Start(Tag::CodeBlock(CodeBlockKind::Indented)))
        }
        other => Some(other),
    });
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, parser);
    html
}

/// `http:`, `https:` and `mailto:` targets with something after the scheme; never a
/// relative one, and nothing a browser could read as another scheme.
fn allowed_href(href: &str) -> bool {
    let lower = href.to_ascii_lowercase();
    let rest = ["https://", "http://", "mailto:"].iter().find_map(|scheme| lower.strip_prefix(scheme));
    rest.is_some_and(|rest| !rest.is_empty() && !href.chars().any(char::is_control))
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
            "[x](java&#115;cript:alert(1))",
            "[x](<java\nscript:alert(1)>)",
            "![x](javascript:alert(1))",
            "<javascript:alert(1)>",
        ] {
            let html = render(source);
            assert!(!html.contains("href") && !html.contains("<a") && !html.contains("<img"), "{source} → {html}");
        }
    }

    #[test]
    fn only_renderer_tags_and_safe_attributes() {
        let html = render(
            "# Title\n\n```html\n<b>x</b>\n```\n\n![alt text](https://img.example/x.png \"t\")\n\n\
             [t](https://a.example \"title\") <reader@example.com> <https://b.example/?q=\"x\">",
        );
        assert!(html.contains("<pre><code>&lt;b&gt;x&lt;/b&gt;\n</code></pre>"), "{html}");
        assert!(html.contains("alt text") && !html.contains("<img"), "{html}");
        assert!(html.contains("<a href=\"mailto:reader@example.com\" rel=\"nofollow ugc noopener\">"), "{html}");
        assert!(html.contains("<a href=\"https://b.example/?q=%22x%22\""), "{html}");
        assert!(!html.contains("title=") && !html.contains("class="), "{html}");
    }

    #[test]
    fn counts_links() {
        assert_eq!(link_count("no links"), 0);
        assert_eq!(link_count("see https://a.example and www.b.example and [c](http://www.c.example)"), 3);
    }
}
