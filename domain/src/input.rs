//! Turns a request's JSON object into domain values in two steps, collecting every
//! field's problem at once so the client hears about all of them in one 422:
//!
//! 1. [`Fields`] reads the *shape*: each field of the JSON type it must have (a string,
//!    a whole number, a list of strings, true or false), present where required, and
//!    no field the request type does not know.
//! 2. A boundary struct holding those values (`NewCommentForm`, `PostForm`, …) derives
//!    [`validator::Validate`], and its attributes name each field's *rules*: the built-in
//!    `length` and `range`, and Rally's own rules in [`rules`] through `custom`.
//!
//! [`Fields::finish`] merges both; a field whose shape is wrong reports only that.
//! Only then is the form turned into domain types, which cannot hold invalid values.

use serde_json::{Map, Value};
use validator::ValidationErrors;

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

    /// Takes field `name` (absent is `None`) through `read`; a failure is recorded
    /// against the field and answers `None`. For fields whose absence, `null` and
    /// value mean three different things.
    pub fn take<T>(&mut self, name: &str, read: impl FnOnce(Option<Value>) -> Result<T, String>) -> Option<T> {
        match read(self.map.remove(name)) {
            Ok(value) => Some(value),
            Err(message) => {
                self.errors.add(name, message);
                None
            }
        }
    }

    /// Whether the request sent field `name` at all (`null` counts as sent).
    pub fn has(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    /// A string that must be sent. Missing, it is recorded and the empty string stands
    /// in (its rules are then not reported: the field already has its error).
    pub fn required_string(&mut self, name: &str) -> String {
        self.take(name, |value| match value {
            None | Some(Value::Null) => Err("is required".into()),
            Some(Value::String(s)) => Ok(s),
            Some(_) => Err("must be a string".into()),
        })
        .unwrap_or_default()
    }

    /// An optional string: absent and `null` are both `None`.
    pub fn string(&mut self, name: &str) -> Option<String> {
        self.take(name, |value| match value {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err("must be a string".into()),
        })
        .flatten()
    }

    /// An optional string that forms send empty when not filled in: absent, `null` and
    /// blank are all `None`.
    pub fn blankable(&mut self, name: &str) -> Option<String> {
        self.string(name).filter(|s| !s.trim().is_empty())
    }

    /// A list of strings; absent or `null` is empty.
    pub fn strings(&mut self, name: &str) -> Vec<String> {
        self.take(name, |value| match value {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .into_iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s),
                    _ => Err("must be a list of strings".into()),
                })
                .collect(),
            Some(_) => Err("must be a list of strings".into()),
        })
        .unwrap_or_default()
    }

    /// A list of whole numbers; absent or `null` is empty.
    pub fn wholes(&mut self, name: &str) -> Vec<u64> {
        self.take(name, |value| match value {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items.into_iter().map(|item| whole(Some(item))).collect(),
            Some(_) => Err("must be a list of whole numbers".into()),
        })
        .unwrap_or_default()
    }

    /// A whole number that must be sent; missing, 0 stands in.
    pub fn required_whole(&mut self, name: &str) -> u64 {
        self.take(name, |value| match value {
            None | Some(Value::Null) => Err("is required".into()),
            other => whole(other),
        })
        .unwrap_or_default()
    }

    /// A whole number where absent and `null` differ: absent is `None`, `null` is
    /// `Some(None)`.
    pub fn nullable_whole(&mut self, name: &str) -> Option<Option<u64>> {
        self.take(name, |value| match value {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            other => whole(other).map(|n| Some(Some(n))),
        })
        .flatten()
    }

    /// `true` or `false`; absent or `null` is `None`.
    pub fn flag(&mut self, name: &str) -> Option<bool> {
        self.take(name, |value| match value {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(_) => Err("must be true or false".into()),
        })
        .flatten()
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

    /// Fails with every shape problem, one for each field nobody took (a misspelt
    /// field is an error, not silently ignored), and what `checked` (a form's
    /// `validate()`) found in the fields whose shape was right.
    pub fn finish(mut self, checked: Result<(), ValidationErrors>) -> Result<(), FieldErrors> {
        for name in std::mem::take(&mut self.map).keys() {
            self.errors.add(name, "unknown field");
        }
        if let Err(found) = checked {
            let mut found: Vec<_> = found.field_errors().into_iter().collect();
            found.sort_by(|a, b| a.0.cmp(&b.0));
            for (field, problems) in found {
                if self.errors.get(&field).is_some() {
                    continue;
                }
                for problem in problems {
                    let message = problem.message.clone().unwrap_or_else(|| problem.code.clone());
                    self.errors.add(&field, message);
                }
            }
        }
        self.errors.into_result()
    }
}

fn whole(value: Option<Value>) -> Result<u64, String> {
    let number = match value {
        Some(Value::Number(n)) => n.as_u64(),
        _ => None,
    };
    number.ok_or_else(|| "must be a whole number".into())
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
pub fn is_hidden_format(c: char) -> bool {
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

    #[derive(validator::Validate)]
    struct Form {
        #[validate(custom(function = crate::rules::text::<10>))]
        title: String,
        #[validate(custom(function = crate::rules::text::<10>))]
        author: String,
        #[validate(range(min = 1, max = 5, message = "must be from 1 to 5"))]
        stars: Option<u64>,
        #[validate(length(max = 2, message = "at most 2 items"))]
        tags: Vec<String>,
    }

    fn read(value: Value) -> (Form, Result<(), FieldErrors>) {
        use validator::Validate;
        let mut f = fields(value);
        let form = Form {
            title: f.required_string("title"),
            author: f.required_string("author"),
            stars: f.nullable_whole("stars").flatten(),
            tags: f.strings("tags"),
        };
        let checked = form.validate();
        (form, f.finish(checked))
    }

    #[test]
    fn collects_every_problem_and_unknown_fields() {
        let (_, result) = read(json!({"title": 5, "stars": 9, "tags": ["a", "b", "c"], "extra": true}));
        let errors = result.unwrap_err();
        assert_eq!(errors.get("title").unwrap(), ["must be a string"]);
        assert_eq!(errors.get("author").unwrap(), ["is required"], "a shape error hides the rules' errors");
        assert_eq!(errors.get("stars").unwrap(), ["must be from 1 to 5"]);
        assert_eq!(errors.get("tags").unwrap(), ["at most 2 items"]);
        assert_eq!(errors.get("extra").unwrap(), ["unknown field"]);
    }

    #[test]
    fn rules_run_on_well_shaped_fields() {
        let (_, result) = read(json!({"title": "  ", "author": "far too long a name"}));
        let errors = result.unwrap_err();
        assert_eq!(errors.get("title").unwrap(), ["must not be empty"]);
        assert_eq!(errors.get("author").unwrap(), ["must be at most 10 characters"]);
        let (form, result) = read(json!({"title": "Hi", "author": "Ji-woo", "stars": null, "tags": ["x"]}));
        assert_eq!(result, Ok(()));
        assert_eq!((form.title.as_str(), form.stars, form.tags), ("Hi", None, vec!["x".to_string()]));
    }

    #[test]
    fn shapes_are_checked() {
        let (_, result) = read(json!({"title": "a", "author": "b", "stars": -1, "tags": "x"}));
        let errors = result.unwrap_err();
        assert_eq!(errors.get("stars").unwrap(), ["must be a whole number"]);
        assert_eq!(errors.get("tags").unwrap(), ["must be a list of strings"]);
        let mut f = fields(json!({"a": null, "b": "", "c": " ", "d": true, "e": 1.5}));
        assert_eq!(f.nullable_whole("a"), Some(None));
        assert_eq!(f.blankable("b"), None);
        assert_eq!(f.blankable("c"), None);
        assert_eq!(f.flag("d"), Some(true));
        assert_eq!(f.nullable_whole("e"), None);
        assert_eq!(f.nullable_whole("absent"), None);
        assert!(f.finish(Ok(())).unwrap_err().get("e").is_some());
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
}
