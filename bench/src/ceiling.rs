//! How fast DynamoDB Local itself takes writes on this machine, with no HTTP, router or
//! function in the way: the ceiling the comment runs are measured against. 32 tasks in
//! this process keep the emulator busy, as wrk's 32 connections do.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use app::comment::CommentId;
use app::config::sha256_hex;
use app::post::Slug;
use app::store::{ClientLimits, CommentStatus, NewCommentContext, window_slots};
use app::{Store, markdown, time};
use aws_sdk_dynamodb::operation::get_item::builders::GetItemFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::builders::TransactWriteItemsFluentBuilder;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};

use crate::load::{CONNECTIONS, cpu_time};

/// One kind of write, kept up by [`CONNECTIONS`] tasks for a while.
pub struct Ceiling {
    pub name: &'static str,
    pub per_second: f64,
    /// DynamoDB Local's CPU per write.
    pub dynamodb_cpu: Duration,
}

/// The runs, each kept up by [`CONNECTIONS`] tasks for `seconds`:
///
/// - a whole comment's store calls through our `Store` (read the post, take a number,
///   the transaction), as the comments function makes them;
/// - the same writes in the shape they had before the rate window and the last body
///   became one item (a 5-item transaction), as bare SDK calls, so the two designs are
///   compared in the same run;
/// - each part alone (the read, the number, the 4-item transaction), and two bare
///   writes for scale: a one-item `TransactWriteItems` and a `PutItem`.
pub async fn measure(store: &Store, java: u32, seconds: u64) -> Result<Vec<Ceiling>, String> {
    let store = Arc::new(store.clone());
    let body = crate::FILLER.repeat(4)[..300].to_owned();
    // Clients and bodies unique to this call, so no run repeats an earlier one's.
    let run_id = CommentId::new().to_string();
    let mut results = Vec::new();

    let comment = {
        let (body, run_id) = (body.clone(), run_id.clone());
        move |store: Arc<Store>, n: u64| {
            let (body, run_id) = (body.clone(), run_id.clone());
            async move {
                let slug = Slug::parse(&post(n))?;
                store.post_for_comment(&slug).await.map_err(|e| e.to_string())?.ok_or("no post")?;
                let now = time::now();
                let context = NewCommentContext {
                    id: CommentId::new(),
                    author: "Ceiling".into(),
                    website: None,
                    body_html: markdown::render(&body),
                    limits: Some(ClientLimits {
                        client: format!("ceiling-{run_id}-{n}"),
                        body_hash: sha256_hex(format!("{n}{body}").as_bytes()),
                        writes_per_minute: 1_000_000,
                    }),
                    body,
                    parent_id: None,
                    is_post_author: false,
                    status: CommentStatus::Approved,
                    held_reason: None,
                    email_hash: None,
                    commenter_key_hash: None,
                    edit_token_hash: sha256_hex(n.to_string().as_bytes()),
                    notify: None,
                    now,
                };
                store.add_comment(&slug, context).await.map(|_| ()).map_err(|e| e.to_string())
            }
        }
    };
    let name = "a comment's store calls (`GetItem`, `UpdateItem`, 4-item transaction)";
    results.push(run(name, store.clone(), java, seconds, comment).await?);

    let earlier = {
        let (body, run_id) = (body.clone(), run_id.clone());
        move |store: Arc<Store>, n: u64| {
            let get = read_post(&store, n);
            let number = take_number(&store, n);
            let tx = comment_tx(&store, &body, &format!("earlier-{run_id}-{n}"), n, Shape::Earlier);
            async move {
                get.send().await.map_err(|e| format!("{e:?}"))?;
                number.send().await.map_err(|e| format!("{e:?}"))?;
                tx.send().await.map(|_| ()).map_err(|e| format!("{e:?}"))
            }
        }
    };
    let name = "the same in the earlier shape (`GetItem`, `UpdateItem`, 5-item transaction)";
    results.push(run(name, store.clone(), java, seconds, earlier).await?);

    let read = |store: Arc<Store>, n: u64| {
        let call = read_post(&store, n);
        async move { call.send().await.map(|_| ()).map_err(|e| format!("{e:?}")) }
    };
    results.push(run("its `GetItem` of the post alone", store.clone(), java, seconds, read).await?);
    let number = |store: Arc<Store>, n: u64| {
        let call = take_number(&store, n);
        async move { call.send().await.map(|_| ()).map_err(|e| format!("{e:?}")) }
    };
    results.push(run("its `UpdateItem` of the sequence alone", store.clone(), java, seconds, number).await?);
    let transaction = {
        let (body, run_id) = (body.clone(), run_id.clone());
        move |store: Arc<Store>, n: u64| {
            let tx = comment_tx(&store, &body, &format!("alone-{run_id}-{n}"), n, Shape::Now);
            async move { tx.send().await.map(|_| ()).map_err(|e| format!("{e:?}")) }
        }
    };
    results.push(run("its 4-item transaction alone", store.clone(), java, seconds, transaction).await?);

    let item = move |n: u64| -> std::collections::HashMap<String, AttributeValue> {
        [
            ("PK", AttributeValue::S(format!("CEILING#{}", n % 20))),
            ("SK", AttributeValue::S(format!("C#{}", CommentId::new()))),
            ("body", AttributeValue::S(body.clone())),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    };
    let transact = {
        let item = item.clone();
        move |store: Arc<Store>, n: u64| {
            let put = Put::builder().table_name(store.table()).set_item(Some(item(n))).build();
            async move {
                let put = put.map_err(|e| e.to_string())?;
                let write = TransactWriteItem::builder().put(put).build();
                let call = store.client().transact_write_items().transact_items(write);
                call.send().await.map(|_| ()).map_err(|e| format!("{e:?}"))
            }
        }
    };
    results.push(run("a one-item `TransactWriteItems`", store.clone(), java, seconds, transact).await?);

    let put = move |store: Arc<Store>, n: u64| {
        let call = store.client().put_item().table_name(store.table()).set_item(Some(item(n)));
        async move { call.send().await.map(|_| ()).map_err(|e| format!("{e:?}")) }
    };
    results.push(run("a `PutItem` of the same item", store, java, seconds, put).await?);
    Ok(results)
}

/// The post the `n`th write goes to: one of the 20 the peers' workloads use.
fn post(n: u64) -> String {
    format!("bench-post-{}", n % 20 + 1)
}

fn sv(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn nv(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn read_post(store: &Store, n: u64) -> GetItemFluentBuilder {
    let key = [("PK".to_owned(), sv(format!("POST#{}", post(n)))), ("SK".to_owned(), sv("#META"))];
    store.client().get_item().table_name(store.table()).set_key(Some(key.into())).consistent_read(true)
}

/// The post's sequence, as `Store::add_comment` takes a number from it.
fn take_number(store: &Store, n: u64) -> UpdateItemFluentBuilder {
    let key = [("PK".to_owned(), sv(format!("POST#{}", post(n)))), ("SK".to_owned(), sv("#SEQ"))];
    store
        .client()
        .update_item()
        .table_name(store.table())
        .set_key(Some(key.into()))
        .update_expression("SET next_number = if_not_exists(next_number, :zero) + :one")
        .expression_attribute_values(":zero", nv(0))
        .expression_attribute_values(":one", nv(1))
        .return_values(ReturnValue::UpdatedNew)
}

#[derive(Clone, Copy, PartialEq)]
enum Shape {
    /// The comment, the post's count, the pointer and the client's writer item.
    Now,
    /// The same with the rate window and the last body as two items.
    Earlier,
}

/// A top-level comment's transaction as bare SDK calls, with the same items, conditions
/// and expressions `Store::add_comment` writes (the comment put is a 300-character
/// body with its HTML).
fn comment_tx(store: &Store, body: &str, client: &str, n: u64, shape: Shape) -> TransactWriteItemsFluentBuilder {
    let table = store.table();
    let now = time::now().unix_timestamp();
    let minute = now.div_euclid(60);
    let id = CommentId::new().to_string();
    let partition = format!("POST#{}", post(n));
    let sk = format!("C#{id}");
    let fields = [
        ("PK", sv(&partition)),
        ("SK", sv(&sk)),
        ("id", sv(&id)),
        ("post", sv(post(n))),
        ("parent_id", AttributeValue::Null(true)),
        ("depth", nv(0)),
        ("number", nv(n)),
        ("author", sv("Ceiling")),
        ("body", sv(body)),
        ("body_html", sv(markdown::render(body))),
        ("created_at", sv(time::format(time::now()))),
        ("deleted", AttributeValue::Bool(false)),
        ("is_post_author", AttributeValue::Bool(false)),
        ("status", sv("approved")),
        ("edit_token_hash", sv(sha256_hex(id.as_bytes()))),
        ("reply_count", nv(0)),
        ("shown_ms", nv(now * 1000)),
    ];
    let put = |fields: &[(&str, AttributeValue)], condition: &str| {
        let item = fields.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
        let put = Put::builder().table_name(table).set_item(Some(item)).condition_expression(condition);
        TransactWriteItem::builder().put(put.build().expect("a put")).build()
    };
    let update = |pk: String, expression: &str, condition: &str, values: Vec<(&str, AttributeValue)>| {
        let mut update = Update::builder()
            .table_name(table)
            .key("PK", sv(pk))
            .key("SK", sv("#META"))
            .update_expression(expression)
            .condition_expression(condition);
        for (name, value) in values {
            update = update.expression_attribute_values(name, value);
        }
        TransactWriteItem::builder().update(update.build().expect("an update")).build()
    };
    let mut items = vec![
        update(
            partition.clone(),
            "SET comment_count = comment_count + :one, thread_version = :version",
            "deleted = :false",
            vec![
                (":one", nv(1)),
                (":version", sv(CommentId::new().to_string())),
                (":false", AttributeValue::Bool(false)),
            ],
        ),
        put(&fields, "attribute_not_exists(PK)"),
        put(
            &[
                ("PK", sv(format!("COMMENT#{id}"))),
                ("SK", sv("#META")),
                ("post", sv(post(n))),
                ("path", sv(&sk)),
                ("depth", nv(0)),
            ],
            "attribute_not_exists(PK)",
        ),
    ];
    let hash = sv(sha256_hex(format!("{client}{body}").as_bytes()));
    match shape {
        Shape::Now => {
            let ((count, at), (other_count, other_at)) = window_slots(minute);
            let writer = Update::builder()
                .table_name(table)
                .key("PK", sv(format!("WRITER#{client}")))
                .key("SK", sv("#META"))
                .update_expression(
                    "SET #count = if_not_exists(#count, :zero) + :one, #at = :minute, body_hash = :hash, \
                     expires_at = :expires REMOVE #other_count, #other_at",
                )
                .condition_expression(
                    "(attribute_not_exists(#at) OR #at = :minute) AND (attribute_not_exists(#count) OR #count < :max) \
                     AND (attribute_not_exists(body_hash) OR body_hash <> :hash OR expires_at < :now)",
                )
                .expression_attribute_names("#count", count)
                .expression_attribute_names("#at", at)
                .expression_attribute_names("#other_count", other_count)
                .expression_attribute_names("#other_at", other_at)
                .expression_attribute_values(":zero", nv(0))
                .expression_attribute_values(":one", nv(1))
                .expression_attribute_values(":max", nv(1_000_000))
                .expression_attribute_values(":minute", nv(minute))
                .expression_attribute_values(":hash", hash)
                .expression_attribute_values(":now", nv(now))
                .expression_attribute_values(":expires", nv(now + 86_400))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
            items.push(TransactWriteItem::builder().update(writer.build().expect("an update")).build());
        }
        Shape::Earlier => {
            items.push(update(
                format!("RATE#{client}#{minute}"),
                "SET writes = if_not_exists(writes, :zero) + :one, expires_at = :expires",
                "attribute_not_exists(writes) OR writes < :max",
                vec![(":zero", nv(0)), (":one", nv(1)), (":max", nv(1_000_000)), (":expires", nv((minute + 2) * 60))],
            ));
            let last = Put::builder()
                .table_name(table)
                .item("PK", sv(format!("LAST#{client}")))
                .item("SK", sv("#META"))
                .item("body_hash", hash.clone())
                .item("expires_at", nv(now + 86_400))
                .condition_expression("attribute_not_exists(PK) OR body_hash <> :hash OR expires_at < :now")
                .expression_attribute_values(":hash", hash)
                .expression_attribute_values(":now", nv(now));
            items.push(TransactWriteItem::builder().put(last.build().expect("a put")).build());
        }
    }
    let token = CommentId::new().to_string();
    store.client().transact_write_items().set_transact_items(Some(items)).client_request_token(token)
}

async fn run<F, Fut>(
    name: &'static str,
    store: Arc<Store>,
    java: u32,
    seconds: u64,
    write: F,
) -> Result<Ceiling, String>
where
    F: Fn(Arc<Store>, u64) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    let next = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let began = Instant::now();
    let java_before = cpu_time(java);
    let until = began + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (store, next, done, write) = (store.clone(), next.clone(), done.clone(), write.clone());
            tokio::spawn(async move {
                while Instant::now() < until {
                    write(store.clone(), next.fetch_add(1, Ordering::Relaxed)).await?;
                    done.fetch_add(1, Ordering::Relaxed);
                }
                Ok::<_, String>(())
            })
        })
        .collect();
    for task in tasks {
        task.await.map_err(|e| e.to_string())??;
    }
    let elapsed = began.elapsed();
    let writes = done.load(Ordering::Relaxed).max(1);
    Ok(Ceiling {
        name,
        per_second: writes as f64 / elapsed.as_secs_f64(),
        dynamodb_cpu: cpu_time(java).saturating_sub(java_before) / writes as u32,
    })
}
