//! Opaque list cursors: the `LastEvaluatedKey` of a `Query`, as base64url JSON. A cursor
//! is checked against the list it is used on, so a cursor from another list (or a forged
//! one) is a 400, never a query outside the list's partition.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::ApiError;

pub struct Cursor;

impl Cursor {
    pub fn encode(key: Option<&HashMap<String, AttributeValue>>) -> Option<String> {
        let key = key?;
        let map: std::collections::BTreeMap<&str, &str> =
            key.iter().filter_map(|(k, v)| v.as_s().ok().map(|s| (k.as_str(), s.as_str()))).collect();
        Some(URL_SAFE_NO_PAD.encode(serde_json::to_vec(&map).expect("strings serialise")))
    }

    /// Decodes a cursor for a list whose key attributes are `attributes` and whose
    /// partition attribute `partition.0` must equal `partition.1`.
    pub fn decode(
        raw: &str,
        attributes: &[&str],
        partition: (&str, &str),
    ) -> Result<HashMap<String, AttributeValue>, ApiError> {
        let bad = || ApiError::BadRequest("unknown cursor".into());
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
        let map: HashMap<String, String> = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        if map.len() != attributes.len() || !attributes.iter().all(|a| map.contains_key(*a)) {
            return Err(bad());
        }
        if map.get(partition.0).map(String::as_str) != Some(partition.1) {
            return Err(bad());
        }
        Ok(map.into_iter().map(|(k, v)| (k, AttributeValue::S(v))).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: [&str; 4] = ["PK", "SK", "GSI1PK", "GSI1SK"];

    fn key(gsi1pk: &str) -> HashMap<String, AttributeValue> {
        KEYS.iter()
            .map(|k| {
                (k.to_string(), AttributeValue::S(if *k == "GSI1PK" { gsi1pk.into() } else { format!("{k}-value") }))
            })
            .collect()
    }

    #[test]
    fn round_trips_within_its_list() {
        let raw = Cursor::encode(Some(&key("POSTS"))).unwrap();
        assert_eq!(Cursor::decode(&raw, &KEYS, ("GSI1PK", "POSTS")).unwrap(), key("POSTS"));
    }

    #[test]
    fn rejects_a_cursor_from_another_list_or_garbage() {
        let raw = Cursor::encode(Some(&key("TAG#china"))).unwrap();
        assert_eq!(Cursor::decode(&raw, &KEYS, ("GSI1PK", "POSTS")).unwrap_err().code(), "bad_request");
        for garbage in ["", "!!!", "bm90IGpzb24", "e30"] {
            assert_eq!(Cursor::decode(garbage, &KEYS, ("GSI1PK", "POSTS")).unwrap_err().code(), "bad_request");
        }
    }
}
