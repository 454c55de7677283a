//! `bench/results.md`: the figures, the machine, the date, and the prices used.

use std::fmt::Write;
use std::time::Duration;

use crate::capacity::{self, Call};
use crate::cold_start::Start;
use crate::load::{self, Run};
use crate::viral::Day;

/// AWS list prices, us-east-1, as published in November 2024 (DynamoDB on-demand after
/// its 1 November 2024 reduction). Not fetched at run time: this machine has no network.
pub struct Prices;

impl Prices {
    pub const DATE: &str = "November 2024 list prices, us-east-1";
    /// Lambda on arm64, per GB-second.
    pub const LAMBDA_ARM_GB_SECOND: f64 = 0.000_013_333_4;
    pub const LAMBDA_REQUEST: f64 = 0.20 / 1e6;
    /// HTTP API, per request (first 300 million a month).
    pub const HTTP_API_REQUEST: f64 = 1.00 / 1e6;
    pub const READ_UNIT: f64 = 0.125 / 1e6;
    pub const WRITE_UNIT: f64 = 0.625 / 1e6;
    pub const MEMORY_GB: f64 = 128.0 / 1024.0;
}

/// Dollars for a million requests billed `billed_ms` each, consuming `read` and `write`
/// capacity units each.
pub fn cost_per_million(billed_ms: u64, read: f64, write: f64) -> f64 {
    let lambda = billed_ms as f64 / 1000.0 * Prices::MEMORY_GB * Prices::LAMBDA_ARM_GB_SECOND + Prices::LAMBDA_REQUEST;
    let one = lambda + Prices::HTTP_API_REQUEST + read * Prices::READ_UNIT + write * Prices::WRITE_UNIT;
    one * 1e6
}

#[derive(Default)]
pub struct Results {
    pub build_seconds: Option<u64>,
    pub harness_seconds: u64,
    /// name, stripped binary bytes, zip bytes
    pub sizes: Vec<(&'static str, u64, u64)>,
    /// asset, bytes, gzip -9 bytes
    pub widget: Vec<(&'static str, u64, u64)>,
    pub capacity: Vec<(String, Vec<Call>)>,
    pub cold: Vec<(&'static str, String, Vec<Start>)>,
    /// exec → first `GET /next` of `bash`: the method's floor on this machine
    pub cold_floor: Vec<Duration>,
    pub load: Vec<(String, Run, load::CpuShare)>,
    /// DynamoDB Local alone taking writes, without HTTP or functions
    pub ceiling: Vec<crate::ceiling::Ceiling>,
    /// fresh tokens available, first confirmations counted
    pub fresh_confirmations: Option<(u64, u64)>,
    pub viral: Option<Day>,
    /// The fan-out, or why it could not be measured (the rest of the bench still reports).
    pub fanout: Option<Result<crate::fanout::Fanout, String>>,
    pub import: Option<crate::import::ImportRun>,
    /// Rally and its peers side by side ([`peers_table`]).
    pub peers: Option<String>,
}

pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub memory: String,
    pub kernel: String,
    pub rustc: String,
    pub date: String,
}

impl Machine {
    pub async fn read() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| {
                l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, v)| v.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".into());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map(|kb| format!("{:.0} GiB", kb / 1024.0 / 1024.0))
            .unwrap_or_default();
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_owned();
        let rustc = tokio::process::Command::new("rustc")
            .arg("-V")
            .output()
            .await
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default();
        let now = time::OffsetDateTime::now_utc();
        let date = format!(
            "{}-{:02}-{:02} {:02}:{:02} UTC",
            now.year(),
            now.month() as u8,
            now.day(),
            now.hour(),
            now.minute()
        );
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        Self { cpu, cores, memory, kernel, rustc, date }
    }
}

fn mb(bytes: u64) -> String {
    format!("{:.2} MB", bytes as f64 / 1e6)
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Median, 10th and 90th percentiles, min and max.
pub fn spread(mut samples: Vec<Duration>) -> (Duration, Duration, Duration, Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.1), at(0.9), samples[0], samples[samples.len() - 1])
}

fn label(scenario: &str) -> &str {
    match scenario {
        "thread" => "read a 200-comment thread (`GET /posts/{slug}/comments?limit=200`)",
        "comment" => "post a comment (`POST /posts/{slug}/comments`, spread over 20 posts)",
        "comment-one-post" => "post a comment, all to one post",
        "counts" => "comment counts of 20 posts (`GET /comments/counts`)",
        "signup" => "petition signup (`POST /petitions/{slug}/signatures`)",
        "confirm" => "confirmation (`POST /confirm/{token}`)",
        "count" => "the count (`GET /petitions/{slug}/count`)",
        other => other,
    }
}

pub fn render(r: &Results, machine: &Machine) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Benchmarks\n");
    let _ = writeln!(
        s,
        "Written by `make bench` on {}. Machine: {} ({} cores), {}, Linux {}, {}. \
         Every figure below is from this run; nothing is copied in by hand.\n",
        machine.date, machine.cpu, machine.cores, machine.memory, machine.kernel, machine.rustc
    );
    let build = r.build_seconds.map(|b| format!("release build {} min {} s, ", b / 60, b % 60)).unwrap_or_default();
    let _ =
        writeln!(s, "Time taken: {build}measurements {} min {} s.\n", r.harness_seconds / 60, r.harness_seconds % 60);

    let _ = writeln!(s, "## Package size\n");
    let _ = writeln!(
        s,
        "`cargo lambda build --release --x86-64 --output-format zip` (opt-level \"z\", fat LTO, one codegen unit, \
         `panic = \"abort\"`, stripped). Budget: under 2.5 MB zipped.\n"
    );
    let _ = writeln!(s, "| function | stripped `bootstrap` | zipped | under 2.5 MB |\n|---|---:|---:|:---:|");
    for (name, binary, zip) in &r.sizes {
        let _ = writeln!(
            s,
            "| {name} | {} | {} | {} |",
            mb(*binary),
            mb(*zip),
            if *zip < 2_500_000 { "yes" } else { "**no**" }
        );
    }

    let _ = writeln!(s, "\n## Cold start\n");
    let _ = writeln!(
        s,
        "Each function's release `bootstrap` exec'd against a minimal Lambda Runtime API served by the harness, \
         with the environment Lambda gives it (128 MB is only a variable here: nothing limits the process). \
         *To `/next`*: exec → the function's first `GET /runtime/invocation/next`, i.e. its own initialisation. \
         *To first answer*: exec → its `POST …/response` for one real request against DynamoDB Local over plain \
         HTTP (on AWS the first call also pays a TLS handshake). Median, with p10–p90 and min–max, over {} starts. \
         Budget: under 10 ms to `/next`. The first row is the floor of the method on this machine: `bash` exec'd \
         the same way to make the same first request over `/dev/tcp`, so a function's own start-up is about its \
         figure minus that.\n",
        r.cold.first().map(|(_, _, runs)| runs.len()).unwrap_or(0)
    );
    let _ = writeln!(
        s,
        "| function | request | to `/next` median | p10–p90 | min–max | to first answer median | p10–p90 |"
    );
    let _ = writeln!(s, "|---|---|---:|---:|---:|---:|---:|");
    if !r.cold_floor.is_empty() {
        let (f50, f10, f90, fmin, fmax) = spread(r.cold_floor.clone());
        let _ = writeln!(
            s,
            "| *floor: `bash` making the same request* | — | {} | {}–{} | {}–{} | — | — |",
            ms(f50),
            ms(f10),
            ms(f90),
            ms(fmin),
            ms(fmax)
        );
    }
    for (name, route, runs) in &r.cold {
        let (n50, n10, n90, nmin, nmax) = spread(runs.iter().map(|r| r.to_next).collect());
        let (a50, a10, a90, _, _) = spread(runs.iter().map(|r| r.to_response).collect());
        let _ = writeln!(
            s,
            "| {name} | `{route}` | {} | {}–{} | {}–{} | {} | {}–{} |",
            ms(n50),
            ms(n10),
            ms(n90),
            ms(nmin),
            ms(nmax),
            ms(a50),
            ms(a10),
            ms(a90)
        );
    }

    let _ = writeln!(s, "\n## Work per request\n");
    let seconds = r.load.first().map(|(_, run, _)| run.duration.as_secs()).unwrap_or(0);
    let _ = writeln!(
        s,
        "Through the local stack (every function in one process, optimised build, the router turning each request \
         into the API Gateway v2 event) against DynamoDB Local (Java) on the same 2 cores, with Debian's `wrk`: \
         {} threads, {} connections, {seconds} s, each run after an unmeasured run of the same kind and \
         length (so DynamoDB Local's JIT has compiled the path it measures; DynamoDB itself has no JVM to \
         warm). Writers send each request from its own address \
         (`X-Forwarded-For`, trusted only by the benchmark's stack) so the per-address rate limit does not \
         serialise them. The DynamoDB calls are those one request of each kind made, seen by an SDK interceptor that \
         also asks for `ReturnConsumedCapacity: TOTAL`. DynamoDB Local reports one unit per item of a transaction \
         and one per batch read; DynamoDB bills two write units per KB of each item in a transaction and a read \
         per key of a batch, so for those calls the table shows the bill computed from the request (and what \
         Local said). *CPU per request* is the CPU time this process (router, functions, SDK) and DynamoDB \
         Local's JVM spent during the run, divided by the requests: the emulator's share is what bounds these \
         rates on 2 cores, and ours is close to what Lambda would bill. A warm comments function answers an \
         unchanged thread page from memory after one consistent `GetItem` of the post tells it the thread's version \
         (wrk reads an unchanged thread, so it measures that path; the first read after a change also runs the \
         `Query`). Counts may be answered from a warm function's memory for 5 s (`COUNT_CACHE_SECONDS`). \
         Isso and Waline on the same workloads, in this run: *Rally and its peers*, below.\n",
        load::THREADS,
        load::CONNECTIONS
    );
    let _ = writeln!(
        s,
        "| request | req/s | p50 | p99 | non-2xx | CPU per request: ours / DynamoDB Local | \
         DynamoDB calls (capacity billed) | $ per million |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---|---:|");
    for (name, run, cpu) in &r.load {
        let find = |wanted: &str| r.capacity.iter().find(|(n, _)| n == wanted).map(|(_, c)| c.as_slice());
        let calls = find(name.trim_end_matches("-one-post"));
        let (read, write) = calls.map(capacity::totals).unwrap_or((0.0, 0.0));
        let mut described = calls.map(capacity::describe).unwrap_or_default();
        if let (true, Some(fresh)) = (name == "thread", find("thread-after-change")) {
            described = format!("warm: {described}; first read after a change: {}", capacity::describe(fresh));
        }
        let billed_ms = (run.p50.as_secs_f64() * 1000.0).ceil().max(1.0) as u64;
        let _ = writeln!(
            s,
            "| {} | {:.0} | {} | {} | {} | {} / {} | {} | {:.2} |",
            label(name),
            run.per_second(),
            ms(run.p50),
            ms(run.p99),
            run.status_errors + run.socket_errors,
            ms(cpu.ours),
            ms(cpu.dynamodb),
            described,
            cost_per_million(billed_ms, read, write)
        );
    }
    if !r.ceiling.is_empty() {
        let _ = writeln!(
            s,
            "\n**What DynamoDB Local itself takes.** The same emulator, kept busy by {} tasks in the harness for \
             {seconds} s each with no HTTP, router or function in the way (the first row runs our `Store` code, \
             the others bare SDK calls). This is the ceiling the comment runs above are measured against: a \
             transaction costs the emulator several times a plain write, and a comment must be one, so that \
             nothing is half-written.\n",
            load::CONNECTIONS
        );
        let _ = writeln!(s, "| writes | per second | DynamoDB Local CPU per write |\n|---|---:|---:|");
        for ceiling in &r.ceiling {
            let _ = writeln!(s, "| {} | {:.0} | {} |", ceiling.name, ceiling.per_second, ms(ceiling.dynamodb_cpu));
        }
    }
    if let Some((fresh, counted)) = r.fresh_confirmations {
        let _ = writeln!(
            s,
            "\nThe confirmation run had {fresh} unconfirmed signups (from the signup run) to confirm; {counted} were \
             counted. Requests beyond them re-confirmed an already confirmed signup (harmless, and answered 200)."
        );
    }
    let _ = writeln!(
        s,
        "\n**Cost** per million requests: Lambda arm64 at 128 MB billed for the local p50 rounded up to the \
         millisecond (the local p50 includes DynamoDB Local's own time, so this is an upper bound), plus the \
         Lambda request fee, the HTTP API request fee and the DynamoDB on-demand units above. Prices: {} — Lambda \
         arm64 ${}/GB-s and $0.20 per million requests, HTTP API $1.00 per million, DynamoDB on-demand \
         $0.125 per million read units and $0.625 per million write units. The count route is cacheable \
         (`max-age=10`), so behind a CDN most reads of it never reach Lambda.",
        Prices::DATE,
        Prices::LAMBDA_ARM_GB_SECOND
    );

    if let Some(day) = &r.viral {
        let _ = writeln!(s, "\n## The viral day\n");
        let exact = day.final_count == day.people as u64;
        let _ = writeln!(
            s,
            "{} signups from {} concurrent clients (each its own address), {}% of them repeats of another \
             signer's address with other case, `+tags` or spaces, then every confirmation link.\n",
            day.signups,
            crate::viral::CLIENTS,
            crate::viral::REPEAT_PERCENT
        );
        let _ = writeln!(s, "| | |\n|---|---|");
        let _ = writeln!(
            s,
            "| signups | {} in {:.1} s = **{:.0} signups/s**, {} not answered 202 |",
            day.signups,
            day.signup_time.as_secs_f64(),
            day.signups as f64 / day.signup_time.as_secs_f64(),
            day.signup_failures
        );
        let _ = writeln!(s, "| distinct people | {} |", day.people);
        let _ = writeln!(s, "| confirmation mails sent | {} (repeats within the hour send none) |", day.mails);
        let _ = writeln!(
            s,
            "| confirmations | {} in {:.1} s = **{:.0}/s**, {} failed |",
            day.confirmations,
            day.confirm_time.as_secs_f64(),
            day.confirmations as f64 / day.confirm_time.as_secs_f64(),
            day.confirm_failures
        );
        let _ = writeln!(
            s,
            "| final count | {} — {} |",
            day.final_count,
            if exact { "exact".to_owned() } else { format!("**wrong: expected {}**", day.people) }
        );
        let _ = writeln!(s, "\n{}", DEPLOYED_CEILING);
    }

    if let Some(Err(why)) = &r.fanout {
        let _ = writeln!(s, "\n## A pledge's success, to its last signer's mail\n\nNot measured in this run: {why}.");
    }
    if let Some(Ok(f)) = &r.fanout {
        let _ = writeln!(s, "\n## A pledge's success, to its last signer's mail\n");
        let _ = writeln!(
            s,
            "{} confirmed signers of a pledge whose threshold is {} (seeded through the store in {:.0} s, each \
             confirmation seen by the events function on the stream), then the confirmation that reaches it: the \
             fan-out job reads the signers a page at a time, queues one outbox item each, and the events function \
             sends them at the deployment's mail rate, {} a second (`MAIL_RATE`; SES starts an account at 14).\n",
            f.signers,
            f.signers,
            f.seed_time.as_secs_f64(),
            f.rate
        );
        let _ = writeln!(s, "| | |\n|---|---|");
        let _ = writeln!(
            s,
            "| success → last mail | {} mails in **{:.1} s** = {:.1} mails/s (the pace allows {}) |",
            f.mails,
            f.mail_time.as_secs_f64(),
            f.mails as f64 / f.mail_time.as_secs_f64(),
            f.rate
        );
    }

    if let Some(table) = &r.peers {
        let _ = writeln!(
            s,
            "\n## Rally and its peers, in this run\n\nEach seeded through its own API with the same thread of 200 comments \
             (20 top-level, 180 replies, about 300 characters each), 20 posts, and the same `wrk` settings, one after the \
             other on this machine: read the thread in one request, the comment counts of 20 posts, a new comment \
             (unique text each). Rally's memory is its functions' process and DynamoDB Local's JVM together; this \
             comparison runs first, on an emulator of its own, so that process holds nothing from the other phases.\n\n{table}"
        );
    }

    if let Some(run) = &r.import {
        let _ = writeln!(s, "\n## Bringing comments over\n");
        let _ = writeln!(
            s,
            "`rally import wordpress` of a generated WXR 1.2 file into a fresh table of a local stack (its stream \
             delivered to the events function, as on AWS), every count checked afterwards:\n\n{}",
            import_line(run)
        );
    }

    let _ = writeln!(s, "\n## The widget\n");
    let _ = writeln!(s, "| asset | bytes | gzip -9 |\n|---|---:|---:|");
    let mut total = 0;
    for (asset, bytes, gz) in &r.widget {
        total += gz;
        let _ = writeln!(s, "| `{asset}` | {bytes} | {gz} |");
    }
    let _ = writeln!(s, "| **together** | | **{total}** (budget 10 KB; the peers' widgets are in the table above) |");
    s
}

/// Rally and its peers side by side, from one run, with Rally's ratio to the best peer.
pub fn peers_table(rally: &crate::peers::Figures, peers: &[crate::peers::Peer]) -> String {
    use crate::peers::Figures;
    let mut s = String::new();
    let measured: Vec<(&str, &Figures)> =
        peers.iter().filter_map(|p| p.figures.as_ref().ok().map(|f| (p.name, f))).collect();
    let mut header = "| | Rally |".to_owned();
    let mut rule = "|---|---:|".to_owned();
    for (name, _) in &measured {
        header.push_str(&format!(" {name} |"));
        rule.push_str("---:|");
    }
    header.push_str(" Rally ÷ best peer |");
    rule.push_str("---:|");
    let _ = writeln!(s, "{header}\n{rule}");
    type Pick = fn(&Figures) -> f64;
    let rows: [(&str, Pick, bool); 5] = [
        ("read a thread of 200 comments (req/s)", |f| f.thread.per_second(), true),
        ("comment counts of 20 posts (req/s)", |f| f.counts.per_second(), true),
        ("post a new comment (req/s)", |f| f.comment.per_second(), true),
        ("memory after the load (MB)", |f| f.memory_kib as f64 / 1024.0, false),
        ("widget, gzipped (KB)", |f| f.widget_gz as f64 / 1024.0, false),
    ];
    for (label, pick, higher_is_better) in rows {
        let mut line = format!("| {label} | {:.1} |", pick(rally));
        for (_, f) in &measured {
            line.push_str(&format!(" {:.1} |", pick(f)));
        }
        let best = measured.iter().map(|(_, f)| pick(f)).fold(None, |best: Option<f64>, v| {
            Some(match best {
                None => v,
                Some(b) if higher_is_better => b.max(v),
                Some(b) => b.min(v),
            })
        });
        match best {
            Some(best) if best > 0.0 => line.push_str(&format!(" {:.2}× |", pick(rally) / best)),
            _ => line.push_str(" — |"),
        }
        let _ = writeln!(s, "{line}");
    }
    let errors = |f: &Figures| f.thread.status_errors + f.counts.status_errors + f.comment.status_errors;
    let _ = writeln!(
        s,
        "\nNon-2xx answers: Rally {}{}.",
        errors(rally),
        measured.iter().map(|(n, f)| format!(", {n} {}", errors(f))).collect::<String>()
    );
    let _ = writeln!(s, "Rally: {}.", rally.note);
    for peer in peers {
        match &peer.figures {
            Ok(f) => {
                let _ = writeln!(s, "{}: {}.", peer.name, f.note);
            }
            Err(why) => {
                let _ = writeln!(s, "{}: not measured: {why}.", peer.name);
            }
        }
    }
    s
}

/// DynamoDB Local alone taking a comment's store calls (and bare writes), in a sentence
/// a write kind: the ceiling under Rally's new-comment rate in the same run.
pub fn ceiling_lines(ceilings: &[crate::ceiling::Ceiling]) -> String {
    let mut s = String::from("\nDynamoDB Local alone, in this run, with no HTTP or function in the way:");
    for c in ceilings {
        let _ = write!(s, " {} at {:.0}/s ({} of its CPU each);", c.name, c.per_second, ms(c.dynamodb_cpu));
    }
    s.pop();
    s.push_str(".\n");
    s
}

/// The import's figures in a sentence.
pub fn import_line(run: &crate::import::ImportRun) -> String {
    format!(
        "{} comments on {} posts ({:.1} MB of XML) in {:.1} s: **{:.0} comments/s** into DynamoDB Local; the importer's \
         peak memory {:.1} MB.",
        run.comments,
        run.posts,
        run.file_bytes as f64 / 1e6,
        run.time.as_secs_f64(),
        run.comments as f64 / run.time.as_secs_f64(),
        run.peak_kib as f64 / 1024.0
    )
}

/// What the deployed table can take, from the shard design (not measured: no AWS here).
const DEPLOYED_CEILING: &str = "**Deployed ceiling, from the design.** A signup request charges the client's \
rate window (its own key), then writes in one transaction when the address was last mailed and a reference to \
its token (both in the signer's shard), the address's and one of 16 day shards' mail counts, and the token (each \
under its own key); its confirmation puts the signup, bumps one of 16 counter shards and that shard's count of the day (for the \
organiser's chart), and keeps the token and its reference. On the shard's partition that is 4 WCU for the request and 8 for the confirmation (transactional \
writes of items under 1 KB) = 12 WCU per confirmed signup. A partition takes 1,000 WCU/s, so once DynamoDB has \
split the 16 shards onto their own partitions the table sustains about 16 × 1,000 / 12 ≈ **1,330 confirmed \
signups/s (≈ 80,000 a minute)** before any partition throttles — about 40× the 2,000 a minute that took the UK \
petitions site down. A new on-demand table starts at 4,000 WCU/s over all partitions: at 22 WCU a signup + \
confirmation in total that is ≈ 180 a second until DynamoDB scales it (it doubles the previous peak within about \
30 minutes), so set the table's warm throughput before a launch. The public signers list shares one GSI \
partition per campaign (≈ 1,000 public confirmations/s).";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_million_thread_reads() {
        // 10 ms of 128 MB arm64 ≈ $0.0000000167 each; 23 RCU; no writes.
        let cost = cost_per_million(10, 23.0, 0.0);
        let expected = 0.016_667 + 0.20 + 1.00 + 23.0 * 0.125;
        assert!((cost - expected).abs() < 0.001, "{cost} vs {expected}");
    }

    #[test]
    fn spread_of_samples() {
        let samples = (1..=21).map(Duration::from_millis).collect();
        let (median, p10, p90, min, max) = spread(samples);
        assert_eq!(
            (median, p10, p90, min, max),
            (
                Duration::from_millis(11),
                Duration::from_millis(3),
                Duration::from_millis(19),
                Duration::from_millis(1),
                Duration::from_millis(21)
            )
        );
    }
}
