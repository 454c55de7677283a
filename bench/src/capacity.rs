//! Which DynamoDB calls one request makes and the capacity they consume.
//!
//! An SDK interceptor asks DynamoDB for `ReturnConsumedCapacity: TOTAL` on every data call
//! (added to the JSON body before signing) and reads `ConsumedCapacity` out of each
//! answer. The functions' code is unchanged: the benchmark builds the same client as
//! `Store::connect` and adds this to it.

use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextMut,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::{Storable, StoreReplace};
use serde_json::Value;

/// One DynamoDB call as the interceptor saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub operation: String,
    /// What DynamoDB Local reported.
    pub units: f64,
    /// What DynamoDB bills for the same call. DynamoDB Local reports one unit per item
    /// of a transaction and one per batch, where DynamoDB bills transactional writes at
    /// two units per KB of each item and batch reads per item; for those two operations
    /// the bill is computed from the request, for the rest it is the reported figure.
    pub billed: f64,
    /// Reads are billed as read units, everything else as write units.
    pub read: bool,
}

/// The bill computed from a request, carried from signing to the answer.
#[derive(Debug, Clone, Copy)]
struct Billed(f64);

impl Storable for Billed {
    type Storer = StoreReplace<Self>;
}

/// DynamoDB's size of an item in DynamoDB JSON: attribute names plus values (strings
/// and binaries by length, numbers about one byte per two digits, a byte for booleans
/// and nulls, three bytes plus one per element for maps and lists).
pub fn item_size(item: &Value) -> usize {
    item.as_object().map(|map| map.iter().map(|(name, value)| name.len() + value_size(value)).sum()).unwrap_or(0)
}

fn value_size(value: &Value) -> usize {
    let Some((kind, inner)) = value.as_object().and_then(|m| m.iter().next()) else { return 0 };
    match kind.as_str() {
        "S" | "B" => inner.as_str().map(str::len).unwrap_or(0),
        "N" => inner.as_str().map(|n| n.len().div_ceil(2) + 1).unwrap_or(1),
        "BOOL" | "NULL" => 1,
        "M" => 3 + item_size(inner) + inner.as_object().map(|m| m.len()).unwrap_or(0),
        "L" => 3 + inner.as_array().map(|l| l.iter().map(|v| value_size(v) + 1).sum()).unwrap_or(0),
        "SS" | "NS" | "BS" => {
            inner.as_array().map(|l| l.iter().map(|v| v.as_str().map(str::len).unwrap_or(0)).sum()).unwrap_or(0)
        }
        _ => 0,
    }
}

/// The units DynamoDB bills for a transaction or batch read, from its request.
pub fn billed_from_request(operation: &str, body: &Value) -> Option<f64> {
    match operation {
        "TransactWriteItems" => {
            let items = body["TransactItems"].as_array()?;
            // A put is billed by its item's size; updates, deletes and condition checks
            // here touch items under 1 KB (counters, pointers, windows, signups).
            let kb = |item: &Value| match item.get("Put") {
                Some(put) => item_size(&put["Item"]).div_ceil(1024).max(1),
                None => 1,
            };
            Some(items.iter().map(|item| 2.0 * kb(item) as f64).sum())
        }
        "BatchGetItem" => {
            let tables = body["RequestItems"].as_object()?;
            let per_key = |table: &Value| if table["ConsistentRead"].as_bool() == Some(true) { 1.0 } else { 0.5 };
            Some(tables.values().map(|t| t["Keys"].as_array().map(Vec::len).unwrap_or(0) as f64 * per_key(t)).sum())
        }
        _ => None,
    }
}

#[derive(Debug, Clone, Default)]
pub struct Recorder {
    calls: Arc<Mutex<Vec<Call>>>,
}

impl Recorder {
    pub fn take(&self) -> Vec<Call> {
        std::mem::take(&mut *self.calls.lock().expect("not poisoned"))
    }
}

const READS: [&str; 5] = ["GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"];
const WRITES: [&str; 6] =
    ["PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems", "ExecuteStatement"];

fn operation(target: &str) -> Option<&str> {
    let operation = target.strip_prefix("DynamoDB_20120810.")?;
    (READS.contains(&operation) || WRITES.contains(&operation)).then_some(operation)
}

#[derive(Debug)]
pub struct ConsumedCapacity(pub Recorder);

impl Intercept for ConsumedCapacity {
    fn name(&self) -> &'static str {
        "ConsumedCapacity"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        let target = request.headers().get("x-amz-target").unwrap_or_default().to_owned();
        if operation(&target).is_none() {
            return Ok(());
        }
        let Some(bytes) = request.body().bytes() else { return Ok(()) };
        let mut body: Value = serde_json::from_slice(bytes)?;
        if let Some(billed) = operation(&target).and_then(|op| billed_from_request(op, &body)) {
            cfg.interceptor_state().store_put(Billed(billed));
        }
        body["ReturnConsumedCapacity"] = Value::from("TOTAL");
        let bytes = serde_json::to_vec(&body)?;
        request.headers_mut().insert("content-length", bytes.len().to_string());
        *request.body_mut() = SdkBody::from(bytes);
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // The request has been sent (and consumed) by now; the operation's name is in
        // the config bag.
        let name = cfg.load::<Metadata>().map(|m| format!("DynamoDB_20120810.{}", m.name())).unwrap_or_default();
        let Some(operation) = operation(&name) else { return Ok(()) };
        let body = context.response().body().bytes().unwrap_or_default();
        let units = serde_json::from_slice::<Value>(body).map(|body| units(&body)).unwrap_or(0.0);
        let billed = cfg.load::<Billed>().map(|b| b.0).unwrap_or(units);
        let call = Call { operation: operation.to_owned(), units, billed, read: READS.contains(&operation) };
        self.0.calls.lock().expect("not poisoned").push(call);
        Ok(())
    }
}

/// The capacity units in an answer: one `ConsumedCapacity` object, or a list of them
/// (batch and transaction calls), also on a cancelled transaction.
pub fn units(body: &Value) -> f64 {
    let one = |c: &Value| c["CapacityUnits"].as_f64().unwrap_or(0.0);
    match &body["ConsumedCapacity"] {
        Value::Array(list) => list.iter().map(one).sum(),
        Value::Object(_) => one(&body["ConsumedCapacity"]),
        _ => 0.0,
    }
}

/// `GetItem ×2 (1 RCU), TransactWriteItems (6 WCU)`-style summary of a request's calls.
pub fn describe(calls: &[Call]) -> String {
    let mut groups: Vec<(String, usize, f64, f64, bool)> = Vec::new();
    for call in calls {
        match groups.iter_mut().find(|(op, ..)| *op == call.operation) {
            Some(group) => {
                group.1 += 1;
                group.2 += call.billed;
                group.3 += call.units;
            }
            None => groups.push((call.operation.clone(), 1, call.billed, call.units, call.read)),
        }
    }
    groups
        .iter()
        .map(|(op, n, billed, reported, read)| {
            let times = if *n > 1 { format!(" ×{n}") } else { String::new() };
            let local = if billed != reported { format!("; Local says {}", trim(*reported)) } else { String::new() };
            format!("{op}{times} ({} {}{local})", trim(*billed), if *read { "RCU" } else { "WCU" })
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn totals(calls: &[Call]) -> (f64, f64) {
    let read = calls.iter().filter(|c| c.read).map(|c| c.billed).sum();
    let write = calls.iter().filter(|c| !c.read).map(|c| c.billed).sum();
    (read, write)
}

pub fn trim(units: f64) -> String {
    let text = format!("{units:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_single_and_listed_capacity() {
        assert_eq!(units(&json!({"ConsumedCapacity": {"TableName": "t", "CapacityUnits": 0.5}})), 0.5);
        assert_eq!(units(&json!({"ConsumedCapacity": [{"CapacityUnits": 4.0}, {"CapacityUnits": 6.0}]})), 10.0);
        assert_eq!(units(&json!({"Items": []})), 0.0);
    }

    #[test]
    fn bills_transactions_per_item_kilobyte_and_batches_per_key() {
        let big = "x".repeat(1500);
        let transaction = json!({"TransactItems": [
            {"Put": {"Item": {"PK": {"S": "a"}, "body": {"S": big}}}},
            {"Update": {"Key": {"PK": {"S": "b"}}}},
            {"ConditionCheck": {"Key": {"PK": {"S": "c"}}}},
        ]});
        assert_eq!(billed_from_request("TransactWriteItems", &transaction), Some(2.0 * 2.0 + 2.0 + 2.0));
        let batch = json!({"RequestItems": {"t": {"Keys": [{}, {}, {}], "ConsistentRead": false}}});
        assert_eq!(billed_from_request("BatchGetItem", &batch), Some(1.5));
        assert_eq!(billed_from_request("Query", &json!({})), None);
        assert_eq!(
            item_size(&json!({"PK": {"S": "abc"}, "n": {"N": "1234"}, "ok": {"BOOL": true}})),
            2 + 3 + 1 + 3 + 2 + 1
        );
    }

    #[test]
    fn only_data_calls_are_counted() {
        assert_eq!(operation("DynamoDB_20120810.Query"), Some("Query"));
        assert_eq!(operation("DynamoDB_20120810.CreateTable"), None);
        assert_eq!(operation("Other.Query"), None);
    }

    #[test]
    fn describes_calls_grouped_by_operation() {
        let calls = [
            Call { operation: "GetItem".into(), units: 1.0, billed: 1.0, read: true },
            Call { operation: "GetItem".into(), units: 1.0, billed: 1.0, read: true },
            Call { operation: "TransactWriteItems".into(), units: 3.0, billed: 6.0, read: false },
        ];
        assert_eq!(describe(&calls), "GetItem ×2 (2 RCU), TransactWriteItems (6 WCU; Local says 3)");
        assert_eq!(totals(&calls), (2.0, 6.0));
        assert_eq!(trim(22.5), "22.5");
    }
}
