//! The table's stream, delivered the way Lambda's event source mapping delivers it, from
//! the `DynamoDB` event the template declares: DynamoDB Local's stream is read shard by
//! shard from `StartingPosition`, records that match none of the `FilterCriteria` are
//! dropped, the rest go to the function in batches of up to `BatchSize` as the
//! `DynamoDBEvent` JSON Lambda sends, and the answer is honoured as Lambda does:
//!
//! - `batchItemFailures` (with `ReportBatchItemFailures`): the records before the first
//!   failed one are done; the batch is retried from it.
//! - a function error: the whole batch is retried, halved first with
//!   `BisectBatchOnFunctionError`.
//! - past `MaximumRetryAttempts`, or older than `MaximumRecordAgeInSeconds`, the batch
//!   goes to the on-failure destination (here a list, `GET /_dev/failures`) as the
//!   message Lambda sends there, and the shard moves on.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodbstreams::Client;
use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::template::StreamEvent;

/// The function the stream feeds: takes the event's JSON, answers the function's JSON
/// (or an error, as a function error).
pub type Handler = Arc<dyn Fn(Value) -> Pin<Box<dyn Future<Output = Result<Value, String>> + Send>> + Send + Sync>;

/// Locally, retries come quickly; Lambda's own pauses are a second or more.
const RETRY_PAUSE: Duration = Duration::from_millis(50);
/// An idle stream is polled less and less often, up to this pause (each poll costs the
/// emulator CPU that measured work would otherwise have); a caller of
/// [`Delivery::settle`] wakes it at once.
const IDLE_PAUSE: Duration = Duration::from_millis(25);
const MAX_IDLE_PAUSE: Duration = Duration::from_millis(400);
/// After a round that found records, the next comes after this pause (or at once for a
/// caller of [`Delivery::settle`]): Lambda polls a stream's shards four times a second,
/// and polling as fast as records come spends the emulator's CPU on reads that Lambda
/// would have made in one.
const BUSY_PAUSE: Duration = Duration::from_millis(250);
/// How often the list of shards is read again (DynamoDB rotates shards every few hours).
const DESCRIBE_EVERY: Duration = Duration::from_secs(2);

/// A running delivery: what tests and the dev routes ask of it.
#[derive(Clone)]
pub struct Delivery {
    /// The number of the polling round under way.
    round: Arc<AtomicU64>,
    /// The last round that found nothing to deliver and nothing pending.
    idle: watch::Receiver<u64>,
    failures: Arc<Mutex<Vec<Value>>>,
    /// Every batch handed to the function, oldest first (the last [`KEPT_BATCHES`]).
    batches: Arc<Mutex<VecDeque<Value>>>,
    /// Wakes an idle poller.
    wake: Arc<tokio::sync::Notify>,
}

/// How many delivered batches a delivery remembers, for tests that redeliver one.
pub const KEPT_BATCHES: usize = 1_000;

impl Delivery {
    /// Waits until every record written before this call has been delivered (or sent to
    /// the failure destination): a whole polling round that starts after now finds
    /// nothing new and nothing pending. `false` if that takes longer than `limit`.
    pub async fn settle(&self, limit: Duration) -> bool {
        let after = self.round.load(Ordering::SeqCst) + 1;
        self.wake.notify_one();
        let mut idle = self.idle.clone();
        let wake = self.wake.clone();
        let waited = tokio::time::timeout(limit, async move {
            loop {
                tokio::select! {
                    seen = idle.wait_for(|round| *round > after) => return seen.is_ok(),
                    // Keep an idle poller awake until the round we wait for has run.
                    () = tokio::time::sleep(IDLE_PAUSE) => wake.notify_one(),
                }
            }
        });
        waited.await.unwrap_or(false)
    }

    /// The batches handed to the function (each a `DynamoDBEvent`), oldest first.
    pub fn batches(&self) -> Vec<Value> {
        self.batches.lock().expect("batches lock").iter().cloned().collect()
    }

    /// What went to the on-failure destination, oldest first.
    pub fn failures(&self) -> Vec<Value> {
        self.failures.lock().expect("failures lock").clone()
    }
}

/// Starts delivering the stream of `table` to `handler` as `event` declares, as a task
/// of the current runtime.
pub async fn start(
    client: Client,
    table_arn_source: &aws_sdk_dynamodb::Client,
    table: &str,
    event: StreamEvent,
    handler: Handler,
) -> Result<Delivery, String> {
    let described = table_arn_source
        .describe_table()
        .table_name(table)
        .send()
        .await
        .map_err(|e| format!("describe {table}: {}", aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
    let stream_arn = described
        .table()
        .and_then(|t| t.latest_stream_arn())
        .ok_or_else(|| format!("{table} has no stream: the template's StreamSpecification is missing"))?
        .to_owned();
    let (idle_sender, idle) = watch::channel(0);
    let delivery = Delivery {
        round: Arc::new(AtomicU64::new(0)),
        idle,
        failures: Arc::default(),
        batches: Arc::default(),
        wake: Arc::default(),
    };
    let mut poller = Poller {
        client,
        stream_arn,
        event,
        handler,
        shards: HashMap::new(),
        described: None,
        last_seen: HashMap::new(),
        pending: VecDeque::new(),
        delivery: delivery.clone(),
        idle: idle_sender,
    };
    tokio::spawn(async move { poller.run().await });
    Ok(delivery)
}

struct Poller {
    client: Client,
    stream_arn: String,
    event: StreamEvent,
    handler: Handler,
    /// Each shard's next iterator; `None` once the shard is closed and read to its end.
    shards: HashMap<String, Option<String>>,
    /// The last sequence number read from each shard, to resume after a lost iterator.
    last_seen: HashMap<String, String>,
    /// The shards as last described, and when.
    described: Option<(std::time::Instant, Vec<String>)>,
    /// Matching records not yet delivered, in stream order, with their shard.
    pending: VecDeque<(String, Value)>,
    delivery: Delivery,
    idle: watch::Sender<u64>,
}

impl Poller {
    async fn run(&mut self) {
        let mut pause = IDLE_PAUSE;
        loop {
            let round = self.delivery.round.fetch_add(1, Ordering::SeqCst) + 1;
            let fetched = match self.fetch().await {
                Ok(fetched) => fetched,
                Err(err) => {
                    // DynamoDB Local restarting (the fault test) looks like this: wait,
                    // and resume each shard after the last record read from it.
                    let err: String = err.chars().take(300).collect();
                    tracing::warn!(error = %err, "reading the table's stream failed; trying again");
                    self.shards.clear();
                    self.described = None;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
            };
            while !self.pending.is_empty() {
                self.deliver_one_batch().await;
            }
            let wait = if fetched == 0 {
                self.idle.send_replace(round);
                let wait = pause;
                pause = (pause * 2).min(MAX_IDLE_PAUSE);
                wait
            } else {
                pause = IDLE_PAUSE;
                BUSY_PAUSE
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.delivery.wake.notified() => {}
            }
        }
    }

    /// Reads every shard once, queueing the records that match a filter; answers how
    /// many records the stream had.
    async fn fetch(&mut self) -> Result<usize, String> {
        let fresh = self.described.as_ref().is_some_and(|(at, _)| at.elapsed() < DESCRIBE_EVERY);
        if !fresh {
            let described = self
                .client
                .describe_stream()
                .stream_arn(&self.stream_arn)
                .send()
                .await
                .map_err(|e| aws_sdk_dynamodbstreams::error::DisplayErrorContext(e).to_string())?;
            let ids = described
                .stream_description()
                .map(|d| d.shards().iter().filter_map(|s| s.shard_id().map(str::to_owned)).collect())
                .unwrap_or_default();
            self.described = Some((std::time::Instant::now(), ids));
        }
        let shard_ids: Vec<String> = self.described.as_ref().map(|(_, ids)| ids.clone()).unwrap_or_default();
        let mut fetched = 0;
        for shard in shard_ids {
            if !self.shards.contains_key(&shard) {
                let last = self.last_seen.get(&shard).cloned();
                let kind = match &last {
                    Some(_) => ShardIteratorType::AfterSequenceNumber,
                    None => ShardIteratorType::from(self.event.starting_position.as_str()),
                };
                let iterator = self
                    .client
                    .get_shard_iterator()
                    .stream_arn(&self.stream_arn)
                    .shard_id(&shard)
                    .shard_iterator_type(kind)
                    .set_sequence_number(last)
                    .send()
                    .await
                    .map_err(|e| aws_sdk_dynamodbstreams::error::DisplayErrorContext(e).to_string())?;
                self.shards.insert(shard.clone(), iterator.shard_iterator().map(str::to_owned));
            }
            let Some(Some(iterator)) = self.shards.get(&shard).cloned() else { continue };
            let output = self
                .client
                .get_records()
                .shard_iterator(iterator)
                .limit(1000)
                .send()
                .await
                .map_err(|e| aws_sdk_dynamodbstreams::error::DisplayErrorContext(e).to_string())?;
            self.shards.insert(shard.clone(), output.next_shard_iterator().map(str::to_owned));
            fetched += output.records().len();
            if output.next_shard_iterator().is_none() {
                // The shard closed: its successor is read after describing the stream
                // again, and this round does not count as idle.
                self.described = None;
                fetched += 1;
            }
            for record in output.records() {
                if let Some(sequence) = record.dynamodb().and_then(|d| d.sequence_number()) {
                    self.last_seen.insert(shard.clone(), sequence.to_owned());
                }
                let json = lambda_record(record, &self.stream_arn);
                if self.event.filters.is_empty() || self.event.filters.iter().any(|f| matches(f, &json)) {
                    self.pending.push_back((shard.clone(), json));
                }
            }
        }
        Ok(fetched)
    }

    /// Delivers the next batch until it is done or given up on.
    async fn deliver_one_batch(&mut self) {
        let mut size = self.event.batch_size.min(self.pending.len());
        let mut attempts = 0u32;
        while size > 0 {
            let expired = self.expire_old_records();
            if expired {
                size = size.min(self.pending.len());
                if size == 0 {
                    return;
                }
            }
            let records: Vec<Value> = self.pending.iter().take(size).map(|(_, r)| r.clone()).collect();
            let batch = json!({ "Records": records });
            {
                let mut batches = self.delivery.batches.lock().expect("batches lock");
                if batches.len() == KEPT_BATCHES {
                    batches.pop_front();
                }
                batches.push_back(batch.clone());
            }
            let outcome = (self.handler)(batch).await;
            let done = match outcome {
                Ok(answer) => match self.first_failure(&answer, &records) {
                    None => {
                        self.pending.drain(..size);
                        return;
                    }
                    Some(index) => index,
                },
                Err(err) => {
                    tracing::warn!(error = %err, "the stream's function failed");
                    0
                }
            };
            // The records before the first failure are done; the rest is retried.
            self.pending.drain(..done);
            size -= done;
            attempts += 1;
            if self.event.maximum_retry_attempts.is_some_and(|max| attempts > max) {
                self.give_up(size, attempts, "RetryAttemptsExhausted");
                return;
            }
            if self.event.bisect_on_error && size > 1 {
                size /= 2;
            }
            tokio::time::sleep(RETRY_PAUSE).await;
        }
    }

    /// The index of the first record the function reported failed, if any. A report
    /// naming no record of the batch fails it whole, as Lambda treats it.
    fn first_failure(&self, answer: &Value, records: &[Value]) -> Option<usize> {
        if !self.event.report_batch_item_failures {
            return None;
        }
        let failures = answer.get("batchItemFailures").and_then(Value::as_array)?;
        let failed: Vec<&str> =
            failures.iter().map(|f| f.get("itemIdentifier").and_then(Value::as_str).unwrap_or_default()).collect();
        if failed.is_empty() {
            return None;
        }
        let sequence = |r: &Value| r["dynamodb"]["SequenceNumber"].as_str().unwrap_or_default().to_owned();
        Some(records.iter().position(|r| failed.contains(&sequence(r).as_str())).unwrap_or(0))
    }

    /// Sends the records at the head older than `MaximumRecordAgeInSeconds` to the
    /// failure destination; whether there were any.
    fn expire_old_records(&mut self) -> bool {
        let Some(max_age) = self.event.maximum_record_age_secs else { return false };
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let old = self
            .pending
            .iter()
            .take_while(|(_, r)| {
                r["dynamodb"]["ApproximateCreationDateTime"].as_f64().is_some_and(|at| now - at as i64 > max_age)
            })
            .count();
        if old > 0 {
            self.give_up(old, 0, "RecordAgeExceeded");
        }
        old > 0
    }

    /// The message Lambda sends the on-failure destination for the first `count`
    /// pending records, which the shard then leaves behind.
    fn give_up(&mut self, count: usize, attempts: u32, condition: &str) {
        let records: Vec<(String, Value)> = self.pending.drain(..count).collect();
        let (Some((shard, first)), Some((_, last))) = (records.first(), records.last()) else { return };
        let message = json!({
            "requestContext": {
                "requestId": ulid::Ulid::new().to_string(),
                "functionArn": format!("arn:aws:lambda:us-east-1:000000000000:function:{}", self.event.binary),
                "condition": condition,
                "approximateInvokeCount": attempts,
            },
            "responseContext": { "statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled" },
            "version": "1.0",
            "timestamp": time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            "DDBStreamBatchInfo": {
                "shardId": shard,
                "startSequenceNumber": first["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": last["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": first["dynamodb"]["ApproximateCreationDateTime"],
                "approximateArrivalOfLastRecord": last["dynamodb"]["ApproximateCreationDateTime"],
                "batchSize": records.len(),
                "streamArn": self.stream_arn,
            },
        });
        tracing::error!(condition, records = records.len(), "stream records sent to the failure destination");
        self.delivery.failures.lock().expect("failures lock").push(message);
    }
}

/// A stream record as Lambda puts it in a `DynamoDBEvent`.
fn lambda_record(record: &Record, stream_arn: &str) -> Value {
    let change = record.dynamodb();
    let image = |map: Option<&HashMap<String, aws_sdk_dynamodbstreams::types::AttributeValue>>| {
        map.map(|m| serde_json::to_value(serde_dynamo::Item::from(m.clone())).unwrap_or(Value::Null))
    };
    let mut dynamodb = serde_json::Map::new();
    if let Some(change) = change {
        let created = change.approximate_creation_date_time().map(|t| t.secs()).unwrap_or_default();
        dynamodb.insert("ApproximateCreationDateTime".into(), json!(created));
        dynamodb.insert("Keys".into(), image(change.keys()).unwrap_or_else(|| json!({})));
        if let Some(new) = image(change.new_image()) {
            dynamodb.insert("NewImage".into(), new);
        }
        if let Some(old) = image(change.old_image()) {
            dynamodb.insert("OldImage".into(), old);
        }
        dynamodb.insert("SequenceNumber".into(), json!(change.sequence_number()));
        dynamodb.insert("SizeBytes".into(), json!(change.size_bytes()));
        dynamodb.insert("StreamViewType".into(), json!(change.stream_view_type().map(|v| v.as_str())));
    }
    json!({
        "eventID": record.event_id(),
        "eventName": record.event_name().map(|n| n.as_str()),
        "eventVersion": record.event_version().unwrap_or("1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": record.aws_region().unwrap_or("us-east-1"),
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    })
}

/// Whether `record` matches an event filter `pattern` (Lambda's filter syntax): every
/// key of the pattern must match; an object descends into the record, an array lists
/// what the value may be: a value equal to it, `{"prefix": …}`, `{"exists": …}` or
/// `{"anything-but": […]}`.
pub fn matches(pattern: &Value, record: &Value) -> bool {
    let Some(pattern) = pattern.as_object() else { return false };
    pattern.iter().all(|(key, want)| {
        let have = record.get(key);
        match want {
            Value::Object(_) => have.is_some_and(|have| matches(want, have)),
            Value::Array(options) => options.iter().any(|option| matches_one(option, have)),
            _ => false,
        }
    })
}

fn matches_one(option: &Value, have: Option<&Value>) -> bool {
    match option {
        Value::Object(rule) => match rule.iter().next() {
            Some((name, arg)) if name == "prefix" => {
                have.and_then(Value::as_str).zip(arg.as_str()).is_some_and(|(have, prefix)| have.starts_with(prefix))
            }
            Some((name, arg)) if name == "exists" => arg.as_bool() == Some(have.is_some()),
            Some((name, arg)) if name == "anything-but" => {
                let excluded = arg.as_array().cloned().unwrap_or_else(|| vec![arg.clone()]);
                have.is_some_and(|have| !excluded.contains(have))
            }
            _ => false,
        },
        scalar => have == Some(scalar),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(event: &str, pk: &str) -> Value {
        json!({"eventName": event, "dynamodb": {"Keys": {"PK": {"S": pk}, "SK": {"S": "#META"}}}})
    }

    #[test]
    fn filters_match_as_lambda_does() {
        let outbox: Value = serde_json::from_str(
            r#"{"eventName": ["INSERT"], "dynamodb": {"Keys": {"PK": {"S": [{"prefix": "OUTBOX#"}]}}}}"#,
        )
        .unwrap();
        assert!(matches(&outbox, &record("INSERT", "OUTBOX#confirm#ab")));
        assert!(!matches(&outbox, &record("MODIFY", "OUTBOX#confirm#ab")));
        assert!(!matches(&outbox, &record("INSERT", "POST#a")));
        assert!(!matches(&outbox, &json!({"eventName": "INSERT"})));
        let not_removes = json!({"eventName": [{"anything-but": ["REMOVE"]}]});
        assert!(matches(&not_removes, &record("MODIFY", "x")));
        assert!(!matches(&not_removes, &record("REMOVE", "x")));
        let has_old = json!({"dynamodb": {"OldImage": [{"exists": true}]}});
        assert!(!matches(&has_old, &record("INSERT", "x")));
    }
}
