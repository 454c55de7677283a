//! The viral-petition day: 20,000 signups from 64 concurrent clients, a fifth of them
//! repeats of someone else's address in another case or with a `+tag`, then every
//! confirmation link followed; the count must come out exact.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const SIGNUPS: usize = 20_000;
pub const CLIENTS: usize = 64;
pub const REPEAT_PERCENT: usize = 20;

pub struct Day {
    pub signups: usize,
    pub people: usize,
    pub signup_time: Duration,
    pub signup_failures: usize,
    pub mails: usize,
    pub confirmations: usize,
    pub confirm_time: Duration,
    pub confirm_failures: usize,
    pub final_count: u64,
}

/// A small deterministic generator, so every run signs the same addresses.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The addresses to sign with, in the order they arrive: `people` distinct people, and
/// repeats of them written differently (case, `+tags`, spaces).
pub fn addresses(total: usize, repeat_percent: usize) -> (Vec<String>, usize) {
    let people = total - total * repeat_percent / 100;
    let mut random = SplitMix(2026);
    let mut list: Vec<String> = (0..people).map(|i| format!("person{i}@viral.example")).collect();
    for n in 0..total - people {
        let person = random.below(people);
        let variant = match n % 4 {
            0 => format!("Person{person}@Viral.Example"),
            1 => format!("person{person}+petition@viral.example"),
            2 => format!("  PERSON{person}+{n}@VIRAL.example "),
            _ => format!("person{person}+Shared@Viral.example"),
        };
        list.push(variant);
    }
    for i in (1..list.len()).rev() {
        let j = random.below(i + 1);
        list.swap(i, j);
    }
    (list, people)
}

/// Sends every item of `work` through `CLIENTS` concurrent clients, each with its own
/// address; answers the time taken and how many requests did not answer `expected`.
async fn fan_out<F, Fut>(work: Vec<String>, send: F) -> (Duration, usize)
where
    F: Fn(reqwest::Client, usize, String) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let work = Arc::new(work);
    let next = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(AtomicUsize::new(0));
    let send = Arc::new(send);
    let started = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (work, next, failures, send) = (work.clone(), next.clone(), failures.clone(), send.clone());
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = work.get(i) else { break };
                    if !send(http.clone(), client, item.clone()).await {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for client in clients {
        let _ = client.await;
    }
    (started.elapsed(), failures.load(Ordering::Relaxed))
}

/// Runs the day against the stack at `base` on `petition`; `tokens` reads, once the
/// signups are in, the confirmation tokens of every mail sent to `@viral.example`.
pub async fn run(
    base: &str,
    petition: &str,
    signups: usize,
    tokens: impl std::future::Future<Output = Vec<String>>,
) -> Result<Day, String> {
    let (list, people) = addresses(signups, REPEAT_PERCENT);
    let url = format!("{base}/petitions/{petition}/signatures");
    let (signup_time, signup_failures) = fan_out(list, move |http, client, email| {
        let url = url.clone();
        async move {
            let body = json!({"name": "Viral signer", "email": email, "public": false, "consent": true});
            let sent = http.post(&url).header("x-forwarded-for", format!("10.200.0.{client}")).json(&body).send().await;
            matches!(sent, Ok(answer) if answer.status() == reqwest::StatusCode::ACCEPTED)
        }
    })
    .await;
    let tokens = tokens.await;
    let mails = tokens.len();
    let confirm_base = base.to_owned();
    let (confirm_time, confirm_failures) = fan_out(tokens, move |http, client, token| {
        let url = format!("{confirm_base}/confirm/{token}");
        async move {
            let sent = http.post(&url).header("x-forwarded-for", format!("10.201.0.{client}")).send().await;
            matches!(sent, Ok(answer) if answer.status().is_success())
        }
    })
    .await;
    let count: Value = reqwest::get(format!("{base}/petitions/{petition}/count"))
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    Ok(Day {
        signups,
        people,
        signup_time,
        signup_failures,
        mails,
        confirmations: mails,
        confirm_time,
        confirm_failures,
        final_count: count["signature_count"].as_u64().unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fifth_are_repeats_of_the_same_people() {
        let (list, people) = addresses(1_000, 20);
        assert_eq!((list.len(), people), (1_000, 800));
        let distinct: std::collections::HashSet<String> = list
            .iter()
            .map(|email| {
                let email = email.trim().to_lowercase();
                let (local, domain) = email.split_once('@').unwrap();
                format!("{}@{domain}", local.split('+').next().unwrap())
            })
            .collect();
        assert_eq!(distinct.len(), 800);
        assert_eq!(list.iter().filter(|e| e.contains('+') || e.chars().any(char::is_uppercase)).count(), 200);
    }
}
