//! Rally's domain: what a reader, a signer or the blogger may send, validated into types
//! that can only hold valid values (posts, comments, petitions, pledges, signups), and
//! the rules that need no store: comment windows, email normalisation, signer keys,
//! times, Markdown. It knows nothing of AWS, Lambda or HTTP; a request that does not
//! parse answers [`FieldErrors`], which the HTTP layer turns into its 422.

pub mod campaign;
pub mod comment;
pub mod input;
pub mod mail;
pub mod markdown;
pub mod post;
pub mod rules;
pub mod time;

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

/// Per-field validation messages, in field order: every problem of a request at once.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct FieldErrors(BTreeMap<String, Vec<String>>);

impl FieldErrors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.entry(field.to_owned()).or_default().push(message.into());
    }

    pub fn one(field: &str, message: impl Into<String>) -> Self {
        let mut errors = Self::default();
        errors.add(field, message);
        errors
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, field: &str) -> Option<&[String]> {
        self.0.get(field).map(Vec::as_slice)
    }

    /// `Ok(())` when nothing was added, else these errors.
    pub fn into_result(self) -> Result<(), Self> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }

    /// One line naming each field and its problems.
    pub fn summary(&self) -> String {
        self.0
            .iter()
            .map(|(field, messages)| format!("{field}: {}", messages.join(", ")))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

impl std::fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.summary())
    }
}

impl std::error::Error for FieldErrors {}

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    sha256(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
