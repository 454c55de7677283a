//! `rally`: the blogger's tool for a deployment's table, straight to DynamoDB (a stack's,
//! or DynamoDB Local's with `--endpoint`): bring comments over from Disqus, WordPress or
//! Isso, and count what is there.
//!
//! Exit codes: 0 done, 2 done but something was skipped (the summary says what and
//! why), 1 nothing could be done. `src/main.rs` is the binary; this library is what it
//! runs, so the tests run it too.

pub mod backup;
pub mod import;
pub mod sources;
pub mod stats;
pub mod text;

use std::path::PathBuf;
use std::time::Duration;

use app::store::{Store, StoreConfig};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "rally",
    version,
    about = "Import comments into a Rally deployment; export, restore and count what it holds."
)]
pub struct Cli {
    /// The stack whose table (and hashing secret) to use, from its CloudFormation outputs.
    #[arg(long, global = true, env = "RALLY_STACK", conflicts_with = "table")]
    stack: Option<String>,
    /// Where CloudFormation and Secrets Manager answer, for --stack (AWS's own by default).
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL_CLOUDFORMATION", hide = true)]
    cloudformation_endpoint: Option<String>,
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL_SECRETS_MANAGER", hide = true)]
    secrets_endpoint: Option<String>,
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
    /// Everything worth keeping (posts, comments, campaigns, confirmed signups with their
    /// consent, mailboxes) as versioned JSON Lines in a folder.
    Export {
        /// The folder to write (made if missing).
        #[arg(long)]
        out: PathBuf,
    },
    /// Loads an export into an empty table whose stack has the same hashing secret,
    /// counting every post's comments and every campaign's signups afresh.
    Restore {
        /// The folder `rally export` wrote.
        dir: PathBuf,
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
        Command::Export { out } => {
            let counts = backup::export(&store, &secret, &out, cli.quiet).await?;
            println!(
                "exported to {}: {:?}; {} items not kept (tokens, pending signups, rate windows, mail state, counters)",
                out.display(),
                counts.lines,
                counts.left_out
            );
            Ok(0)
        }
        Command::Restore { dir } => {
            let counts = backup::restore(&store, &secret, &dir, cli.quiet).await?;
            println!("restored from {}: {:?}; every count recounted", dir.display(), counts.lines);
            Ok(0)
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
            let outputs = stack_outputs(stack, cli.cloudformation_endpoint.as_deref()).await?;
            let output = |name: &str| {
                outputs.get(name).cloned().ok_or_else(|| format!("the stack {stack} has no {name} output"))
            };
            let arn = output("HashSecretArn")?;
            let secrets = app::secrets::read(|name| match name {
                "HASH_SECRET_ARN" => Some(arn.clone()),
                "AWS_ENDPOINT_URL_SECRETS_MANAGER" => cli.secrets_endpoint.clone(),
                _ => None,
            })
            .await
            .map_err(|e| e.to_string())?;
            let secret = secrets.get("IP_HASH_SALT").cloned().ok_or("the stack's hashing secret is empty")?;
            (output("TableName")?, cli.endpoint.clone(), secret)
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
async fn stack_outputs(
    stack: &str,
    endpoint: Option<&str>,
) -> Result<std::collections::HashMap<String, String>, String> {
    let mut config = aws_sdk_cloudformation::Config::builder();
    config.set_endpoint_url(endpoint.map(str::to_owned));
    let config = config
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
