//! `rally export` and `rally restore`: everything a deployment holds that is worth
//! keeping, as JSON Lines a person can read, and back into an empty table.
//!
//! The folder holds `manifest.json` (the format's version, when, how many lines each
//! file has, and a fingerprint of the hashing secret) and one file per kind:
//! `posts.jsonl` (each post, its body, tags and number sequence), `comments.jsonl`
//! (comments, their id pointers, the record of approved commenters, import markers),
//! `campaigns.jsonl` (petitions, pledges, their list entries, organiser updates and the
//! finished jobs that sent them),
//! `signups.jsonl` (confirmed signups with the consent text, version and time each
//! agreed to) and `mailboxes.jsonl` (who asked for reply mail, who must never be mailed).
//! Each line is one stored item: its attributes as plain JSON, with a set written as
//! `{"$ss": […]}` or `{"$ns": […]}` and binary as `{"$b": base64}`.
//!
//! Not kept: pending signups, tokens and their references, rate windows, mail counts,
//! the outbox and the claims of mail sent, unfinished jobs. Counters are not kept either: a restore
//! counts every post's comments and every shard's signups (per day too) from what it
//! wrote, so every count is exact afterwards.
//!
//! Everything keyed by a hash (signer keys, address keys, the first-time record) was
//! made with the exporting deployment's secret, so a restore needs a table whose stack
//! has the same one; the fingerprint in the manifest lets `restore` check. Every restored
//! item carries `restored: true`, and the events function, fed the restore's writes by
//! the table's stream, mails and calls nobody for them.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufWriter, Write};
use std::path::Path;

use app::store::campaigns::{tally_item, tally_keys};
use app::store::{Store, Tally};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Map, Value, json};

/// The version of the folder's format; `restore` reads this one only.
pub const VERSION: u64 = 1;

/// The attribute every restored item carries (see the events function).
pub const RESTORED: &str = app::store::keys::RESTORED;

const FILES: [&str; 5] = ["posts", "comments", "campaigns", "signups", "mailboxes"];

type Item = HashMap<String, AttributeValue>;

/// Which file an item belongs in, or `None` for what is not kept.
fn file_of(item: &Item) -> Option<&'static str> {
    let (pk, sk) = (text(item, "PK"), text(item, "SK"));
    // A finished fan-out job tells an update's progress; one still running is not kept
    // (restored, it would send again).
    if pk.starts_with("JOB#") {
        return item.get("done").and_then(|v| v.as_bool().ok()).copied().unwrap_or(false).then_some("campaigns");
    }
    file_of_key(&pk, &sk)
}

fn file_of_key(pk: &str, sk: &str) -> Option<&'static str> {
    if pk.starts_with("POST#") {
        return Some(if sk.starts_with("C#") || sk.starts_with("X#") { "comments" } else { "posts" });
    }
    if ["COMMENT#", "COMMENTER#", "IMPORT#"].iter().any(|p| pk.starts_with(p)) {
        return Some("comments");
    }
    if pk.starts_with("MAILBOX#") {
        return Some("mailboxes");
    }
    let campaign = pk.starts_with("PETITION#") || pk.starts_with("PLEDGE#");
    if (campaign && sk == "#META") || pk == "CAMPAIGNS" || pk.starts_with("UPDATE#") {
        return Some("campaigns");
    }
    if campaign && sk.starts_with("SIGNUP#") {
        return Some("signups");
    }
    None
}

/// A short fingerprint of the hashing secret, to tell whether two deployments share it.
pub fn fingerprint(secret: &str) -> String {
    app::config::sha256_hex(format!("rally-export|{secret}").as_bytes())[..16].to_owned()
}

/// An item's attributes as plain JSON.
pub fn to_json(item: &Item) -> Value {
    let mut keys: Vec<&String> = item.keys().collect();
    keys.sort();
    Value::Object(keys.into_iter().map(|k| (k.clone(), value_to_json(&item[k]))).collect())
}

fn value_to_json(value: &AttributeValue) -> Value {
    use base64::Engine;
    match value {
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::N(n) => serde_json::from_str(n).unwrap_or_else(|_| Value::String(n.clone())),
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::L(list) => Value::Array(list.iter().map(value_to_json).collect()),
        AttributeValue::M(map) => to_json(map),
        AttributeValue::Ss(set) => json!({ "$ss": set }),
        AttributeValue::Ns(set) => json!({ "$ns": set }),
        AttributeValue::B(b) => json!({ "$b": base64::engine::general_purpose::STANDARD.encode(b.as_ref()) }),
        _ => Value::Null,
    }
}

/// The item a line of the folder holds.
pub fn from_json(value: &Value) -> Result<Item, String> {
    match value {
        Value::Object(map) => map.iter().map(|(k, v)| Ok((k.clone(), json_to_value(v)?))).collect(),
        _ => Err("a line is not a JSON object".into()),
    }
}

fn json_to_value(value: &Value) -> Result<AttributeValue, String> {
    use base64::Engine;
    Ok(match value {
        Value::String(s) => AttributeValue::S(s.clone()),
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Null => AttributeValue::Null(true),
        Value::Array(list) => AttributeValue::L(list.iter().map(json_to_value).collect::<Result<_, _>>()?),
        Value::Object(map) if map.len() == 1 && map.contains_key("$ss") => AttributeValue::Ss(strings(&map["$ss"])?),
        Value::Object(map) if map.len() == 1 && map.contains_key("$ns") => AttributeValue::Ns(strings(&map["$ns"])?),
        Value::Object(map) if map.len() == 1 && map.contains_key("$b") => {
            let text = map["$b"].as_str().ok_or("a $b is not text")?;
            let bytes = base64::engine::general_purpose::STANDARD.decode(text).map_err(|e| e.to_string())?;
            AttributeValue::B(Blob::new(bytes))
        }
        Value::Object(map) => AttributeValue::M(from_json(&Value::Object(map.clone()))?),
    })
}

fn strings(value: &Value) -> Result<Vec<String>, String> {
    value
        .as_array()
        .ok_or("a set is not a list")?
        .iter()
        .map(|v| v.as_str().map(str::to_owned).ok_or("a set holds a non-string".into()))
        .collect()
}

fn text(item: &Item, name: &str) -> String {
    item.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default()
}

/// What an export or a restore did.
#[derive(Debug, Default)]
pub struct Counts {
    pub lines: BTreeMap<String, u64>,
    pub left_out: u64,
}

pub async fn export(store: &Store, secret: &str, out: &Path, quiet: bool) -> Result<Counts, String> {
    std::fs::create_dir_all(out).map_err(|e| format!("cannot make {}: {e}", out.display()))?;
    let mut writers = HashMap::new();
    for name in FILES {
        let path = out.join(format!("{name}.jsonl"));
        let file = std::fs::File::create(&path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        writers.insert(name, BufWriter::new(file));
    }
    let bar = crate::import::bar(quiet, 0, "exporting {spinner} {pos} items read ({per_sec})");
    let mut counts = Counts::default();
    let mut start = None;
    loop {
        let page = store
            .client()
            .scan()
            .table_name(store.table())
            .consistent_read(true)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(|e| format!("reading the table: {}", aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
        for item in page.items() {
            bar.inc(1);
            match file_of(item) {
                Some(name) => {
                    let writer = writers.get_mut(name).expect("a writer per file");
                    serde_json::to_writer(&mut *writer, &to_json(item)).map_err(|e| e.to_string())?;
                    writer.write_all(b"\n").map_err(|e| e.to_string())?;
                    *counts.lines.entry(name.to_owned()).or_default() += 1;
                }
                None => counts.left_out += 1,
            }
        }
        match page.last_evaluated_key() {
            Some(key) => start = Some(key.clone()),
            None => break,
        }
    }
    for (_, mut writer) in writers {
        writer.flush().map_err(|e| e.to_string())?;
    }
    bar.finish_and_clear();
    let manifest = json!({
        "format": "rally-export",
        "version": VERSION,
        "exported_at": app::time::format(app::time::now()),
        "table": store.table(),
        "secret_fingerprint": fingerprint(secret),
        "files": FILES.iter().map(|f| (format!("{f}.jsonl"), json!(counts.lines.get(*f).copied().unwrap_or(0)))).collect::<Map<_, _>>(),
        "left_out": counts.left_out,
    });
    let text = serde_json::to_string_pretty(&manifest).expect("JSON serialises");
    std::fs::write(out.join("manifest.json"), text + "\n").map_err(|e| e.to_string())?;
    Ok(counts)
}

pub async fn restore(store: &Store, secret: &str, dir: &Path, quiet: bool) -> Result<Counts, String> {
    let manifest: Value = std::fs::read_to_string(dir.join("manifest.json"))
        .map_err(|e| format!("{} has no manifest.json: {e}", dir.display()))
        .and_then(|t| serde_json::from_str(&t).map_err(|e| format!("manifest.json is not JSON: {e}")))?;
    if manifest["format"] != "rally-export" || manifest["version"] != VERSION {
        return Err(format!("{} is not a version {VERSION} Rally export", dir.display()));
    }
    if manifest["secret_fingerprint"] != fingerprint(secret) {
        return Err("the export was made with another hashing secret: restore it into a stack whose HashSecret \
                    holds the exporting stack's (see README: Backups)"
            .into());
    }
    let empty = store
        .client()
        .scan()
        .table_name(store.table())
        .limit(1)
        .send()
        .await
        .map_err(|e| format!("reading the table: {}", aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
    if empty.count() > 0 {
        return Err(format!("the table {} is not empty: restore goes into a new stack's table", store.table()));
    }
    let total: u64 = FILES.iter().filter_map(|f| manifest["files"][format!("{f}.jsonl")].as_u64()).sum();
    let bar = crate::import::bar(quiet, total, "restoring {bar:30} {pos}/{len} items ({per_sec})");
    let mut counts = Counts::default();
    // Counted from what is written: signups per shard and per shard and day, comments per post.
    let mut shards: BTreeMap<(String, String), Tally> = BTreeMap::new();
    let mut comments: BTreeMap<String, u64> = BTreeMap::new();
    let mut posts = Vec::new();
    for name in FILES {
        let path = dir.join(format!("{name}.jsonl"));
        let file = std::fs::File::open(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mut batch = Vec::new();
        for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
            let line = line.map_err(|e| format!("{} line {}: {e}", path.display(), n + 1))?;
            if line.trim().is_empty() {
                continue;
            }
            let value: Value = serde_json::from_str(&line)
                .map_err(|e| format!("{} line {}: not JSON ({e})", path.display(), n + 1))?;
            let mut item = from_json(&value).map_err(|e| format!("{} line {}: {e}", path.display(), n + 1))?;
            let (pk, sk) = (text(&item, "PK"), text(&item, "SK"));
            if file_of(&item) != Some(name) {
                return Err(format!("{} line {}: an item of another kind ({pk} {sk})", path.display(), n + 1));
            }
            if name == "signups" {
                let amount = item.get("amount").and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok()).unwrap_or(0);
                for sk in tally_keys(&text(&item, "confirmed_at")) {
                    let tally = shards.entry((pk.clone(), sk)).or_default();
                    tally.count += 1;
                    tally.amount += amount;
                }
            }
            let shown = item.get("status").and_then(|v| v.as_s().ok()).is_some_and(|s| s == "approved");
            let deleted = item.get("deleted").and_then(|v| v.as_bool().ok()).copied().unwrap_or(false);
            if name == "comments" && pk.starts_with("POST#") && shown && !deleted {
                *comments.entry(pk.clone()).or_default() += 1;
            }
            if name == "posts" && sk == app::store::keys::META {
                posts.push(pk.clone());
            }
            // History, not news: the events function mails and calls nobody for it.
            item.insert(RESTORED.to_owned(), AttributeValue::Bool(true));
            batch.push(item);
            *counts.lines.entry(name.to_owned()).or_default() += 1;
            if batch.len() == 500 {
                store.put_items(std::mem::take(&mut batch)).await.map_err(|e| e.to_string())?;
            }
            bar.inc(1);
        }
        store.put_items(batch).await.map_err(|e| e.to_string())?;
    }
    let counters: Vec<Item> = shards.iter().map(|((pk, sk), tally)| tally_item(pk, sk, *tally)).collect();
    store.put_items(counters).await.map_err(|e| e.to_string())?;
    for pk in posts {
        let count = comments.get(&pk).copied().unwrap_or(0);
        store
            .client()
            .update_item()
            .table_name(store.table())
            .key("PK", AttributeValue::S(pk))
            .key("SK", AttributeValue::S(app::store::keys::META.to_owned()))
            .update_expression("SET comment_count = :count")
            .expression_attribute_values(":count", AttributeValue::N(count.to_string()))
            .send()
            .await
            .map_err(|e| format!("counting comments: {}", aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
    }
    bar.finish_and_clear();
    Ok(counts)
}
