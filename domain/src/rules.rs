//! Rally's own field rules, as `validator` custom functions for the boundary structs'
//! `#[validate(custom(function = …))]` attributes. Each is the parse function of the
//! domain type the field becomes, so a value the form accepts is one its type holds.

use std::borrow::Cow;

use validator::ValidationError;

use crate::comment::{CommentId, CommenterKey, Email, Website};
use crate::input;
use crate::post::{Slug, Tag};

/// What a rule found, as the message the client reads in the 422.
fn check<T>(parsed: Result<T, String>) -> Result<(), ValidationError> {
    parsed.map(drop).map_err(|message| ValidationError::new("rally").with_message(Cow::Owned(message)))
}

/// A value a form has validated, as its domain type. A rule here and the parse function
/// it calls cannot disagree, so this never fails.
pub fn valid<T>(parsed: Result<T, String>) -> T {
    parsed.expect("the form validated this field with the same parse function")
}

/// 1 to `MAX` characters once trimmed.
pub fn text<const MAX: usize>(raw: &str) -> Result<(), ValidationError> {
    check(input::text(MAX)(raw))
}

/// [`input::single_line`]: a name or other short text that may be shown or mailed.
pub fn one_line<const MAX: usize>(raw: &str) -> Result<(), ValidationError> {
    check(input::single_line(MAX)(raw))
}

/// [`input::plain_text`]: longer text on several lines.
pub fn plain<const MAX: usize>(raw: &str) -> Result<(), ValidationError> {
    check(input::plain_text(MAX)(raw))
}

pub fn slug(raw: &str) -> Result<(), ValidationError> {
    check(Slug::parse(raw))
}

pub fn tags(raw: &[String]) -> Result<(), ValidationError> {
    raw.iter().try_for_each(|tag| check(Tag::parse(tag)))
}

/// Signature counts: each a whole number from 1 to 100,000,000.
pub fn counts(raw: &[u64]) -> Result<(), ValidationError> {
    let bad = raw.iter().any(|n| !(1..=crate::campaign::MAX_COUNT).contains(n));
    check(if bad { Err("each must be a whole number from 1 to 100000000".to_string()) } else { Ok(()) })
}

pub fn email(raw: &str) -> Result<(), ValidationError> {
    check(Email::parse(raw))
}

pub fn website(raw: &str) -> Result<(), ValidationError> {
    check(Website::parse(raw))
}

pub fn comment_id(raw: &str) -> Result<(), ValidationError> {
    check(CommentId::parse(raw))
}

pub fn commenter_key(raw: &str) -> Result<(), ValidationError> {
    check(CommenterKey::parse(raw))
}

pub fn timestamp(raw: &str) -> Result<(), ValidationError> {
    check(crate::time::parse(raw))
}

pub fn currency(raw: &str) -> Result<(), ValidationError> {
    check(crate::campaign::currency(raw))
}

pub fn markdown_body(raw: &str) -> Result<(), ValidationError> {
    check(crate::post::markdown_body(raw))
}

pub fn comment_body(raw: &str) -> Result<(), ValidationError> {
    check(crate::comment::comment_body(raw))
}
