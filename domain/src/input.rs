//! Turns a request's JSON object into domain values in one place, collecting every
//! field's problem at once so the client hears about all of them in one 422.

use serde_json::{Map, Value};

use crate::FieldErrors;

/// The honeypot field's name (see [`Fields::honeypot`]).
pub const HONEYPOT: &str = "homepage";

pub struct Fields {
    map: Map<String, Value>,
    errors: FieldErrors,
}

impl Fields {
    pub fn new(map: Map<String, Value>) -> Self {
        Self { map, errors: FieldErrors::default() }
    }

    /// Takes field `name` (absent is `None`) through `parse`; a failure is recorded
    /// against the field and answers `None`.
    pub fn take<T>(&mut self, name: &str, parse: impl FnOnce(Option<Value>) -> Result<T, String>) -> Option<T> {
        match parse(self.map.remove(name)) {
            Ok(value) => Some(value),
            Err(message) => {
                self.errors.add(name, message);
                None
            }
        }
    }

    /// The field the widget renders hidden and leaves empty; bots fill it in.
    pub fn honeypot(&mut self) {
        self.take(HONEYPOT, |value| match value {
            None | Some(Value::Null) => Ok(()),
            Some(Value::String(s)) if s.is_empty() => Ok(()),
            Some(_) => Err("must be left empty".to_string()),
        });
    }

    pub fn error(&mut self, name: &str, message: impl Into<String>) {
        self.errors.add(name, message);
    }

    /// Fails with every recorded problem, and with one for each field nobody took:
    /// a misspelt field is an error, not silently ignored.
    pub fn finish(mut self) -> Result<(), FieldErrors> {
        for name in std::mem::take(&mut self.map).keys() {
            self.errors.add(name, "unknown field");
        }
        self.errors.into_result()
    }
}

/// A required string field parsed by `parse`.
pub fn required<T>(parse: impl FnOnce(&str) -> Result<T, String>) -> impl FnOnce(Option<Value>) -> Result<T, String> {
    move |value| match value {
        None | Some(Value::Null) => Err("is required".into()),
        Some(Value::String(s)) => parse(&s),
        Some(_) => Err("must be a string".into()),
    }
}

/// An optional string field: absent and `null` are both `None`.
pub fn optional<T>(
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> impl FnOnce(Option<Value>) -> Result<Option<T>, String> {
    move |value| match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => parse(&s).map(Some),
        Some(_) => Err("must be a string".into()),
    }
}

/// An optional string field that forms send empty when not filled in: absent, `null`
/// and blank are all `None`.
pub fn optional_blank<T>(
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> impl FnOnce(Option<Value>) -> Result<Option<T>, String> {
    move |value| match value {
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        other => optional(parse)(other),
    }
}

/// A list of strings, each parsed by `parse`; absent is empty.
pub fn string_list<T>(
    max: usize,
    parse: impl Fn(&str) -> Result<T, String>,
) -> impl FnOnce(Option<Value>) -> Result<Vec<T>, String> {
    move |value| match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) if items.len() > max => Err(format!("at most {max} items")),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => parse(s),
                _ => Err("must be a list of strings".into()),
            })
            .collect(),
        Some(_) => Err("must be a list of strings".into()),
    }
}

/// A string of 1 to `max` characters after trimming.
pub fn text(max: usize) -> impl Fn(&str) -> Result<String, String> {
    move |raw| {
        let trimmed = raw.trim();
        let chars = trimmed.chars().count();
        if chars == 0 {
            Err("must not be empty".into())
        } else if chars > max {
            Err(format!("must be at most {max} characters"))
        } else {
            Ok(trimmed.to_owned())
        }
    }
}

/// A name or other short text a stranger sends that may be shown to others or reach a
/// mail: [`text`], on one line, with no control, bidirectional-override or invisible
/// characters (which can make text read differently from what it is) and no web
/// address (so it can never become a link someone else is shown).
pub fn single_line(max: usize) -> impl Fn(&str) -> Result<String, String> {
    move |raw| {
        let text = text(max)(raw)?;
        if text.chars().any(|c| c.is_control() || is_hidden_format(c)) {
            return Err("must be one line of plain text, without control or direction characters".into());
        }
        if contains_web_address(&text) {
            return Err("must not contain a web address".into());
        }
        Ok(text)
    }
}

/// Like [`single_line`] for longer text such as a signer's comment: line breaks are
/// kept, web addresses are allowed (it is never mailed), the rest is refused.
pub fn plain_text(max: usize) -> impl Fn(&str) -> Result<String, String> {
    move |raw| {
        let text = text(max)(raw)?;
        if text.chars().any(|c| (c.is_control() && c != '\n' && c != '\r') || is_hidden_format(c)) {
            return Err("must be plain text, without control or direction characters".into());
        }
        Ok(text)
    }
}

/// Characters that change how text around them is shown without being seen: bidi
/// embeddings, overrides, isolates and marks, line and paragraph separators, and
/// zero-width spaces. (Zero-width joiners stay: scripts and emoji need them.)
fn is_hidden_format(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200B}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2028}' | '\u{2029}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// Whether text holds something a mail client or a reader would take for a web
/// address: a scheme (`https://`), `www.`, or a host name such as `phish.example`
/// (any dot a browser accepts between labels, and a top-level label of two letters
/// or more). A name written "Dr.Kim" is refused too; "Dr. Kim" is not.
pub fn contains_web_address(text: &str) -> bool {
    let folded: String = text
        .chars()
        .map(|c| match c {
            '\u{3002}' | '\u{FF0E}' | '\u{FF61}' => '.',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    if folded.contains("://") || folded.contains("www.") {
        return true;
    }
    let chars: Vec<char> = folded.chars().collect();
    chars.iter().enumerate().any(|(i, c)| {
        if *c != '.' || i == 0 || !chars[i - 1].is_alphanumeric() {
            return false;
        }
        let tld = chars[i + 1..].iter().take_while(|c| c.is_alphabetic()).count();
        tld >= 2 && chars.get(i + 1 + tld).is_none_or(|c| !c.is_alphanumeric())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(value: Value) -> Fields {
        Fields::new(value.as_object().unwrap().clone())
    }

    #[test]
    fn collects_every_problem_and_unknown_fields() {
        let mut f = fields(json!({"title": 5, "extra": true}));
        assert_eq!(f.take("title", required(text(10))), None);
        assert_eq!(f.take("author", required(text(10))), None);
        let Err(errors) = f.finish() else { panic!("expected 422") };
        assert_eq!(errors.get("title").unwrap(), ["must be a string"]);
        assert_eq!(errors.get("author").unwrap(), ["is required"]);
        assert_eq!(errors.get("extra").unwrap(), ["unknown field"]);
    }

    #[test]
    fn text_is_trimmed_and_bounded_in_characters() {
        assert_eq!(text(3)("  한국어 ").unwrap(), "한국어");
        assert!(text(3)("abcd").is_err());
        assert!(text(3)("   ").is_err());
    }

    #[test]
    fn single_lines_refuse_breaks_direction_marks_and_addresses() {
        for good in ["Min-jun", "김민준", "O'Neil, J.", "Dr. Kim", "Ana María", "👩‍👩‍👧"] {
            assert_eq!(single_line(80)(good).as_deref(), Ok(good), "{good}");
        }
        for bad in [
            "Min-jun,\n\nACTION NEEDED",
            "a\rb",
            "tab\there",
            "evil\u{202E}txt.exe",
            "\u{2066}x\u{2069}",
            "a\u{2028}b",
            "zero\u{200B}width",
            "visit https://phish.example/r",
            "phish.example",
            "PHISH.EXAMPLE/r",
            "www.example",
            "phish\u{3002}example",
            "me@mail.example",
        ] {
            assert!(single_line(200)(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn plain_text_keeps_lines_but_not_direction_marks() {
        assert!(plain_text(100)("Free them.\nNow: https://example.org").is_ok());
        assert!(plain_text(100)("a\u{202E}b").is_err());
        assert!(plain_text(100)("a\u{0007}b").is_err());
    }

    #[test]
    fn lists_are_bounded() {
        let parse = string_list(2, |s: &str| Ok::<_, String>(s.to_owned()));
        assert_eq!(parse(Some(json!(["a", "b"]))).unwrap(), ["a", "b"]);
        let parse = string_list(2, |s: &str| Ok::<_, String>(s.to_owned()));
        assert!(parse(Some(json!(["a", "b", "c"]))).is_err());
        let parse = string_list(2, |s: &str| Ok::<_, String>(s.to_owned()));
        assert!(parse(Some(json!("a"))).is_err());
    }
}
