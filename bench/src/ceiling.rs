//! How fast DynamoDB Local itself takes writes on this machine, with no HTTP, router or
//! function in the way: the ceiling the comment runs are measured against. 32 tasks in
//! this process keep the emulator busy, as wrk's 32 connections do.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use app::comment::CommentId;
use app::config::sha256_hex;
use app::post::Slug;
use app::store::{ClientLimits, CommentStatus, NewCommentContext};
use app::{Store, markdown, time};
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};

use crate::load::{CONNECTIONS, cpu_time};

/// One kind of write, kept up by [`CONNECTIONS`] tasks for a while.
pub struct Ceiling {
    pub name: &'static str,
    pub per_second: f64,
    /// DynamoDB Local's CPU per write.
    pub dynamodb_cpu: Duration,
}

/// The three runs: a whole comment's store calls (read the post, take a number, the
/// transaction) through our `Store`, and two bare SDK writes for comparison, a one-item
/// `TransactWriteItems` and a `PutItem` of the same item.
pub async fn measure(store: &Store, java: u32, seconds: u64) -> Result<Vec<Ceiling>, String> {
    let store = Arc::new(store.clone());
    let body = crate::FILLER.repeat(4)[..300].to_owned();
    let mut results = Vec::new();

    let comment = {
        let body = body.clone();
        move |store: Arc<Store>, n: u64| {
            let body = body.clone();
            async move {
                let slug = Slug::parse(&format!("bench-post-{}", n % 20 + 1))?;
                store.post_for_comment(&slug).await.map_err(|e| e.to_string())?.ok_or("no post")?;
                let now = time::now();
                let context = NewCommentContext {
                    id: CommentId::new(),
                    author: "Ceiling".into(),
                    website: None,
                    body_html: markdown::render(&body),
                    limits: Some(ClientLimits {
                        client: format!("ceiling-{n}"),
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
    results.push(
        run(
            "a comment's store calls (`GetItem`, `UpdateItem`, 5-item transaction)",
            store.clone(),
            java,
            seconds,
            comment,
        )
        .await?,
    );

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
