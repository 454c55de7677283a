//! Arbitrary items, as a table could hold them after a bug, a manual edit or an older
//! build, through everything that reads a stored item: none may panic; a function
//! answers a value or a logged 500.
#![no_main]

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use libfuzzer_sys::fuzz_target;

/// A JSON object as an item: strings, numbers, booleans, null, lists and maps.
fn attribute(value: serde_json::Value) -> AttributeValue {
    match value {
        serde_json::Value::String(s) => AttributeValue::S(s),
        serde_json::Value::Number(n) => AttributeValue::N(n.to_string()),
        serde_json::Value::Bool(b) => AttributeValue::Bool(b),
        serde_json::Value::Null => AttributeValue::Null(true),
        serde_json::Value::Array(items) => AttributeValue::L(items.into_iter().map(attribute).collect()),
        serde_json::Value::Object(map) => AttributeValue::M(map.into_iter().map(|(k, v)| (k, attribute(v))).collect()),
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(data) {
        let item: HashMap<String, AttributeValue> = map.into_iter().map(|(k, v)| (k, attribute(v))).collect();
        let _ = app::render_stored(&item, app::time::now());
    }
});
