//! Throughput through the local stack with Debian's `wrk`: 2 threads, 32 connections,
//! 20 seconds unless `BENCH_SECONDS` says otherwise.

use std::path::Path;
use std::time::Duration;

const REPORT: &str = include_str!("../wrk/report.lua");
const NUMBERED: &str = include_str!("../wrk/numbered.lua");

pub const THREADS: u32 = 2;
pub const CONNECTIONS: u32 = 32;

/// What one wrk run reported.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub requests: u64,
    pub duration: Duration,
    /// Answers that were not 2xx or 3xx.
    pub status_errors: u64,
    pub socket_errors: u64,
    pub p50: Duration,
    pub p90: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Run {
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.duration.as_secs_f64()
    }
}

/// CPU time (user + system) a process has used so far, from `/proc/<pid>/stat`.
pub fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let fields: Vec<&str> =
        stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime, fields 14 and 15 of the line, are 11 and 12 after the name.
    // SAFETY: sysconf only reads a system constant.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Duration::from_micros((ticks(11) + ticks(12)) * 1_000_000 / per_second)
}

/// CPU spent per request during a run, by this process (router, functions, SDK) and by
/// DynamoDB Local.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CpuShare {
    pub ours: Duration,
    pub dynamodb: Duration,
}

/// A scenario: a URL, and for writes a Lua script with its constants.
pub struct Scenario<'a> {
    pub url: String,
    pub script: Option<&'a str>,
    pub constants: Vec<(&'a str, String)>,
}

impl<'a> Scenario<'a> {
    pub fn get(url: String) -> Self {
        Self { url, script: None, constants: Vec::new() }
    }

    pub fn script(url: String, script: &'a str, constants: Vec<(&'a str, String)>) -> Self {
        Self { url, script: Some(script), constants }
    }

    /// The same requests with other numbers (other addresses, emails and texts), for an
    /// unmeasured run before this one.
    pub fn warm_up(&self) -> Self {
        let mut constants = self.constants.clone();
        constants.push(("RUN", "100".into()));
        Self { url: self.url.clone(), script: self.script, constants }
    }
}

pub async fn wrk(scenario: &Scenario<'_>, seconds: u64, scratch: &Path) -> Result<Run, String> {
    let mut lua = String::new();
    for (name, value) in &scenario.constants {
        lua.push_str(&format!("{name} = {value}\n"));
    }
    if let Some(script) = scenario.script {
        lua.push_str(NUMBERED);
        lua.push_str(script);
    }
    lua.push_str(REPORT);
    let path = scratch.join(format!("scenario-{}.lua", std::process::id()));
    std::fs::write(&path, lua).map_err(|e| e.to_string())?;
    let output = tokio::process::Command::new("wrk")
        .args(["-t", &THREADS.to_string(), "-c", &CONNECTIONS.to_string(), "-d", &format!("{seconds}s")])
        .args(["--timeout", "10s", "-s"])
        .arg(&path)
        .arg(&scenario.url)
        .output()
        .await
        .map_err(|e| format!("wrk: {e} (make bench installs Debian's wrk)"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    parse(&stdout).ok_or_else(|| format!("wrk gave no report: {stdout}{}", String::from_utf8_lossy(&output.stderr)))
}

/// Reads the `BENCH …` line `report.lua` prints.
pub fn parse(stdout: &str) -> Option<Run> {
    let line = stdout.lines().find_map(|line| line.strip_prefix("BENCH "))?;
    let field = |name: &str| -> Option<u64> {
        line.split_whitespace().find_map(|pair| pair.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
    };
    let micros = |name: &str| field(name).map(Duration::from_micros);
    Some(Run {
        requests: field("requests")?,
        duration: micros("duration_us")?,
        status_errors: field("status_errors")?,
        socket_errors: field("socket_errors")?,
        p50: micros("p50_us")?,
        p90: micros("p90_us")?,
        p99: micros("p99_us")?,
        max: micros("max_us")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_report_line() {
        let out = "Running 20s test\n  2 threads\nBENCH requests=2400 duration_us=20000000 status_errors=3 \
                   socket_errors=0 p50_us=12000 p90_us=20000 p99_us=45000 max_us=90000\n";
        let run = parse(out).unwrap();
        assert_eq!(run.requests, 2400);
        assert_eq!(run.status_errors, 3);
        assert_eq!(run.p99, Duration::from_millis(45));
        assert_eq!(run.per_second(), 120.0);
        assert_eq!(parse("no report"), None);
    }
}
