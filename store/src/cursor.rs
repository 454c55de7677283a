//! Opaque list cursors: the `LastEvaluatedKey` of a `Query`, as base64url JSON, followed
//! by an HMAC-SHA-256 tag over the list it came from and the key, made with the
//! deployment's secret. Only the list that wrote a cursor accepts it back: a forged,
//! altered or foreign cursor is a 400 before any query runs, so no client can make a
//! `Query` start outside its list, nor move one list's
//! cursor to another.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{KeyInit, Mac};

use super::StoreError;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Bytes of the tag kept in a cursor: 128 bits, beyond guessing.
const TAG_BYTES: usize = 16;

/// The key cursors are signed with, derived from the deployment's secret.
#[derive(Clone)]
pub struct CursorKey([u8; 32]);

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey(…)")
    }
}

impl CursorKey {
    pub fn derive(secret: &str) -> Self {
        Self(domain::sha256(format!("rally-cursor|{secret}").as_bytes()))
    }

    /// A 128-bit tag over `payload` for `list`, as hex: what links in mail carry.
    pub(crate) fn tag_hex(&self, list: &str, payload: &[u8]) -> String {
        let tag = self.mac(list, payload).finalize().into_bytes();
        tag[..TAG_BYTES].iter().map(|b| format!("{b:02x}")).collect()
    }

    fn mac(&self, list: &str, payload: &[u8]) -> HmacSha256 {
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(list.as_bytes());
        mac.update(&[0]);
        mac.update(payload);
        mac
    }
}

pub struct Cursor;

impl Cursor {
    /// The cursor for resuming `list` after `key`; `list` names the list exactly
    /// (partition, index and order), so a cursor answers only where it was made.
    pub fn encode(key: Option<&HashMap<String, AttributeValue>>, list: &str, secret: &CursorKey) -> Option<String> {
        let key = key?;
        let map: std::collections::BTreeMap<&str, &str> =
            key.iter().filter_map(|(k, v)| v.as_s().ok().map(|s| (k.as_str(), s.as_str()))).collect();
        let payload = serde_json::to_vec(&map).expect("strings serialise");
        let tag = secret.mac(list, &payload).finalize().into_bytes();
        Some(format!("{}.{}", URL_SAFE_NO_PAD.encode(&payload), URL_SAFE_NO_PAD.encode(&tag[..TAG_BYTES])))
    }

    /// Decodes a cursor made by [`Cursor::encode`] for the same `list`, whose key
    /// attributes are `attributes` and whose partition attribute `partition.0` must
    /// equal `partition.1` (where the list has one partition).
    pub fn decode(
        raw: &str,
        attributes: &[&str],
        partition: Option<(&str, &str)>,
        list: &str,
        secret: &CursorKey,
    ) -> Result<HashMap<String, AttributeValue>, StoreError> {
        let bad = || StoreError::BadCursor;
        let (payload, tag) = raw.split_once('.').ok_or_else(bad)?;
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| bad())?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| bad())?;
        if tag.len() != TAG_BYTES {
            return Err(bad());
        }
        secret.mac(list, &payload).verify_truncated_left(&tag).map_err(|_| bad())?;
        let map: HashMap<String, String> = serde_json::from_slice(&payload).map_err(|_| bad())?;
        if map.len() != attributes.len() || !attributes.iter().all(|a| map.contains_key(*a)) {
            return Err(bad());
        }
        if let Some((name, value)) = partition
            && map.get(name).map(String::as_str) != Some(value)
        {
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

    fn secret() -> CursorKey {
        CursorKey::derive("deployment secret")
    }

    #[test]
    fn round_trips_within_its_list() {
        let raw = Cursor::encode(Some(&key("POSTS")), "posts", &secret()).unwrap();
        assert_eq!(Cursor::decode(&raw, &KEYS, Some(("GSI1PK", "POSTS")), "posts", &secret()).unwrap(), key("POSTS"));
    }

    #[test]
    fn rejects_a_cursor_from_another_list_or_garbage() {
        let raw = Cursor::encode(Some(&key("TAG#china")), "tag", &secret()).unwrap();
        let err = Cursor::decode(&raw, &KEYS, Some(("GSI1PK", "POSTS")), "posts", &secret()).unwrap_err();
        assert!(matches!(err, StoreError::BadCursor));
        for garbage in ["", "!!!", "bm90IGpzb24", "e30", "e30.", "e30.AAAAAAAAAAAAAAAAAAAAAA"] {
            let err = Cursor::decode(garbage, &KEYS, Some(("GSI1PK", "POSTS")), "posts", &secret()).unwrap_err();
            assert!(matches!(err, StoreError::BadCursor));
        }
    }

    #[test]
    fn a_changed_key_or_another_deployments_cursor_is_refused() {
        let raw = Cursor::encode(Some(&key("POSTS")), "posts", &secret()).unwrap();
        let (_, tag) = raw.split_once('.').unwrap();
        let mut forged = key("POSTS");
        forged.insert("SK".into(), AttributeValue::S("ZZZ".into()));
        let payload = Cursor::encode(Some(&forged), "posts", &secret()).unwrap();
        let (payload, _) = payload.split_once('.').unwrap();
        let tampered = format!("{payload}.{tag}");
        assert!(Cursor::decode(&tampered, &KEYS, Some(("GSI1PK", "POSTS")), "posts", &secret()).is_err());
        let elsewhere = CursorKey::derive("another deployment");
        assert!(Cursor::decode(&raw, &KEYS, Some(("GSI1PK", "POSTS")), "posts", &elsewhere).is_err());
    }
}
