//! What an export's text becomes in Rally: HTML bodies turned into Markdown (which Rally
//! then renders and sanitises as it does every new comment), and names and websites held
//! to the rules a new comment's are.

use std::sync::OnceLock;

use app::input::{is_hidden_format, single_line};

/// The longest name Rally shows.
const MAX_AUTHOR: usize = 80;

fn converter() -> &'static htmd::HtmlToMarkdown {
    static CONVERTER: OnceLock<htmd::HtmlToMarkdown> = OnceLock::new();
    CONVERTER.get_or_init(|| {
        // What runs, embeds or loads is dropped with its content; images become nothing
        // (Rally shows no images), the rest becomes Markdown.
        htmd::HtmlToMarkdown::builder()
            .skip_tags(vec!["script", "style", "iframe", "object", "embed", "img", "video", "audio", "form", "head"])
            .build()
    })
}

/// An HTML body (Disqus's `message`) as Markdown.
pub fn markdown_of_html(html: &str) -> String {
    converter().convert(&without_active(html)).map(|md| md.trim().to_owned()).unwrap_or_default()
}

/// `html` with what runs or embeds (and everything inside it) replaced by a space, so the
/// words on either side stay apart.
fn without_active(html: &str) -> String {
    const ACTIVE: [&str; 6] = ["script", "style", "iframe", "object", "form", "noscript"];
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    'scan: while let Some(at) = rest.find('<') {
        let lower = rest[at + 1..].chars().take(10).collect::<String>().to_ascii_lowercase();
        for tag in ACTIVE {
            let opens = lower.starts_with(tag) && !lower[tag.len()..].starts_with(|c: char| c.is_ascii_alphanumeric());
            if opens {
                out.push_str(&rest[..at]);
                out.push(' ');
                let close = format!("</{tag}");
                let tail = &rest[at..];
                rest = match tail.to_ascii_lowercase().find(&close) {
                    Some(end) => tail[end..].find('>').map_or("", |gt| &tail[end + gt + 1..]),
                    None => "",
                };
                continue 'scan;
            }
        }
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
    }
    out.push_str(rest);
    out
}

/// A WordPress comment's text: HTML written by hand, whose blank lines are paragraphs
/// and whose single line breaks are breaks (WordPress adds the tags when it shows it).
pub fn markdown_of_wordpress(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let has_blocks = ["<p", "<P", "<div", "<blockquote", "<ul", "<ol", "<pre"].iter().any(|tag| text.contains(tag));
    let html = if has_blocks {
        text
    } else {
        text.split("\n\n")
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| format!("<p>{}</p>", p.replace('\n', "<br>")))
            .collect::<String>()
    };
    markdown_of_html(&html)
}

/// A name as Rally shows one: one line of plain text, at most 80 characters, with no
/// web address; what cannot be made so is "Anonymous".
pub fn author(raw: &str) -> String {
    let cleaned: String = raw.chars().map(|c| if c.is_control() || is_hidden_format(c) { ' ' } else { c }).collect();
    let mut name = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.chars().count() > MAX_AUTHOR {
        name = name.chars().take(MAX_AUTHOR).collect::<String>().trim_end().to_owned();
    }
    single_line(MAX_AUTHOR)(&name).unwrap_or_else(|_| "Anonymous".to_owned())
}

/// A commenter's website, kept only where Rally would take it from a new comment.
pub fn website(raw: &str) -> Option<String> {
    let raw = raw.trim();
    (!raw.is_empty()).then(|| app::comment::Website::parse(raw).ok()).flatten().map(|w| w.as_ref().to_owned())
}

/// The path of a thread's link, or the link itself if it is one already.
pub fn path_of(link: &str) -> &str {
    let rest = link.split_once("://").map_or(link, |(_, rest)| rest.find('/').map_or("/", |at| &rest[at..]));
    rest.split(['?', '#']).next().unwrap_or(rest)
}

/// The slug a thread's link maps to: the last segment of its path, as it is.
pub fn slug_of_link(link: &str) -> String {
    path_of(link).trim_matches('/').rsplit('/').next().unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_markdown_without_what_runs() {
        let md = markdown_of_html(
            "<p>Hi <b>there</b> <a href=\"https://x.example/a\">link</a></p><script>alert(1)</script><img src=x onerror=alert(2)>",
        );
        assert_eq!(md, "Hi **there** [link](https://x.example/a)");
        assert_eq!(
            markdown_of_html("One. <SCRIPT src=x>evil()</Script>Two <scripty>three</scripty>"),
            "One. Two three"
        );
        assert_eq!(markdown_of_html("a <style>p{}</style>b <iframe src=x></iframe>c"), "a b c");
    }

    #[test]
    fn wordpress_text_keeps_its_paragraphs_and_breaks() {
        assert_eq!(
            markdown_of_wordpress("First line\nsecond line\n\nNew paragraph"),
            "First line  \nsecond line\n\nNew paragraph"
        );
        assert_eq!(markdown_of_wordpress("<p>Already <em>HTML</em></p>"), "Already _HTML_");
    }

    #[test]
    fn names_are_one_clean_line_or_anonymous() {
        assert_eq!(author("  Ji-woo\n Park\u{202E} "), "Ji-woo Park");
        assert_eq!(author("김민준"), "김민준");
        assert_eq!(author("visit https://spam.example"), "Anonymous");
        assert_eq!(author(""), "Anonymous");
        assert_eq!(author(&"a".repeat(200)).chars().count(), 80);
    }

    #[test]
    fn links_map_to_their_last_path_segment() {
        assert_eq!(slug_of_link("https://blog.example/2012/03/china-returns/"), "china-returns");
        assert_eq!(slug_of_link("https://blog.example/?p=12"), "");
        assert_eq!(slug_of_link("/posts/hello-world"), "hello-world");
        assert_eq!(path_of("https://blog.example/a/b?x=1#c"), "/a/b");
        assert_eq!(website("javascript:alert(1)"), None);
        assert_eq!(website("https://ji.example").as_deref(), Some("https://ji.example"));
    }
}
