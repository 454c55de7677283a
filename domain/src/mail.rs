//! A mail Rally sends: what the events function hands to the mailer, and what the local
//! stack's outbox shows.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    /// The links in `text`, for tests and the outbox to follow.
    pub links: Vec<String>,
    /// Headers beyond From, To and Subject (`List-Unsubscribe`, …). Left out when
    /// there are none: DynamoDB Local's stream cannot carry an empty map.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    pub sent_at: String,
}
