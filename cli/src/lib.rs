//! `rally`: the blogger's tool for a deployment's table, straight to DynamoDB (a stack's,
//! or DynamoDB Local's with `--endpoint`): bring comments over from Disqus, WordPress or
//! Isso, and count what is there.
//!
//! Exit codes: 0 done, 2 done but something was skipped (the summary says what and
//! why), 1 nothing could be done. `src/main.rs` is the binary; this library is what it
//! runs, so the tests run it too.

pub mod import;
pub mod sources;
pub mod stats;
pub mod text;

use std::path::PathBuf;
use std::time::Duration;

use app::store::{Store, StoreConfig};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "rally", version, about = "Import comments into a Rally deployment, and count what it holds.")]
pub struct Cli {
    /// The stack whose table (and hashing secret) to use, from its CloudFormation outputs.
    #[arg(long, global = true, env = "RALLY_STACK", conflicts_with_all = ["table", "endpoint"])]
    stack: Option<String>,
    /// The table, when not read from --stack.
    #[arg(long, global = true, env = "TABLE_NAME")]
    table: Option<String>,
    /// The AWS region (else AWS_REGION, AWS_DEFAULT_REGION, us-east-1).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// DynamoDB Local's address, e.g. http://127.0.0.1:8000 (`make dev` prints it).
    #[arg(long, global = true, env = "DYNAMODB_ENDPOINT")]
    endpoint: Option<String>,
    /// The deployment's hashing secret, when not read from --stack; a local stack's is
    /// derived from its table name.
    #[arg(long, global = true, env = "IP_HASH_SALT", hide_env_values = true)]
    secret: Option<String>,
    /// No progress bars.
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Bring comments over from another system's export.
    Import {
        /// disqus (its XML export), wordpress (a WXR 1.0–1.2 export) or isso (its comments.db).
        format: import::Format,
        /// The export file.
        file: PathBuf,
        /// A file of "URL-or-path slug" lines, for threads whose slug is not their URL's last segment.
        #[arg(long)]
        map: Option<PathBuf>,
        /// Skip threads whose post does not exist, instead of making one.
        #[arg(long)]
        existing_posts_only: bool,
        /// Read everything and say what would happen; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// The author of posts made for threads the blog has no post for.
        #[arg(long, default_value = "Imported")]
        author: String,
    },
    /// Counts per post and campaign, straight from the table.
    Stats {
        /// As JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
}

/// Runs the command line `args` (the first is the program's name), as `rally` does;
/// answers the exit code. Messages go to stdout and stderr.
pub async fn run_from<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    match Cli::try_parse_from(args) {
        Ok(cli) => run(cli).await.unwrap_or_else(|err| {
            eprintln!("rally: {err}");
            1
        }),
        Err(err) => {
            let _ = err.print();
            if err.use_stderr() { 1 } else { 0 }
        }
    }
}

pub async fn run(cli: Cli) -> Result<i32, String> {
    let (store, secret) = connect(&cli).await?;
    match cli.command {
        Command::Import { format, file, map, existing_posts_only, dry_run, author } => {
            let author = text::author(&author);
            let options = import::Options { format, file, map, existing_posts_only, dry_run, author, quiet: cli.quiet };
            let summary = import::run(&store, &secret, &options).await?;
            summary.print(dry_run);
            Ok(if summary.skipped_any() { 2 } else { 0 })
        }
        Command::Stats { json } => {
            stats::run(&store, json).await?;
            Ok(0)
        }
    }
}

/// The table and the hashing secret: from the stack's outputs, or as given.
async fn connect(cli: &Cli) -> Result<(Store, String), String> {
    let (table, endpoint, secret) = match &cli.stack {
        Some(stack) => {
            let outputs = stack_outputs(stack).await?;
            let output = |name: &str| {
                outputs.get(name).cloned().ok_or_else(|| format!("the stack {stack} has no {name} output"))
            };
            let arn = output("HashSecretArn")?;
            let secrets = app::secrets::read(|name| (name == "HASH_SECRET_ARN").then(|| arn.clone()))
                .await
                .map_err(|e| e.to_string())?;
            let secret = secrets.get("IP_HASH_SALT").cloned().ok_or("the stack's hashing secret is empty")?;
            (output("TableName")?, None, secret)
        }
        None => {
            let table = cli.table.clone().ok_or("name the table (--table) or the stack (--stack)")?;
            let secret = match (&cli.secret, &cli.endpoint) {
                (Some(secret), _) => secret.clone(),
                (None, Some(_)) => app::config::local_secret(&table),
                (None, None) => return Err("give the deployment's hashing secret (--secret), or use --stack".into()),
            };
            (table, cli.endpoint.clone(), secret)
        }
    };
    let config = StoreConfig {
        table_name: table.clone(),
        dynamodb_endpoint: endpoint,
        secret: secret.clone(),
        attempt_deadline: Duration::from_secs(20),
        call_deadline: Duration::from_secs(60),
    };
    let store = Store::connect(&config).await;
    store
        .client()
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .map_err(|e| format!("cannot reach the table {table}: {}", aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
    Ok((store, secret))
}

/// A stack's outputs by name (CloudFormation `DescribeStacks`).
async fn stack_outputs(stack: &str) -> Result<std::collections::HashMap<String, String>, String> {
    let config = aws_sdk_cloudformation::Config::builder()
        .behavior_version(aws_sdk_cloudformation::config::BehaviorVersion::latest())
        .region(app::store::aws::region())
        .credentials_provider(app::store::aws::credentials())
        .http_client(app::store::aws::http_client())
        .build();
    let client = aws_sdk_cloudformation::Client::from_conf(config);
    let output = client.describe_stacks().stack_name(stack).send().await.map_err(|e| {
        format!("cannot read the stack {stack}: {}", aws_sdk_cloudformation::error::DisplayErrorContext(e))
    })?;
    let outputs = output.stacks().first().map(|s| s.outputs()).unwrap_or_default();
    Ok(outputs.iter().filter_map(|o| Some((o.output_key()?.to_owned(), o.output_value()?.to_owned()))).collect())
}
