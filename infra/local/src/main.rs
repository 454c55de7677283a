//! `make dev`: DynamoDB Local, the table from the template, the demo data, and every
//! function on http://127.0.0.1:3000 (`PORT` to change it). Ctrl-C stops all of it.

use app::Config;
use local_stack::{DynamoDbLocal, Template, seed, start, template};

#[tokio::main]
async fn main() {
    if let Err(err) = run().await {
        eprintln!("local stack: {err}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), String> {
    app::init_tracing();
    let port: u16 = std::env::var("PORT")
        .ok()
        .map(|p| p.parse().map_err(|_| format!("PORT={p} is not a port")))
        .transpose()?
        .unwrap_or(3000);
    let admin_token =
        std::env::var("ADMIN_TOKEN").ok().filter(|t| !t.is_empty()).unwrap_or_else(app::auth::random_token);
    let template = Template::load(&template::default_path())?;

    // An endpoint given from outside is used as it is; otherwise the stack runs its own.
    let (endpoint, _dynamodb) = match std::env::var("DYNAMODB_ENDPOINT").ok().filter(|e| !e.is_empty()) {
        Some(endpoint) => (endpoint, None),
        None => {
            println!("starting DynamoDB Local…");
            let local = DynamoDbLocal::start()?;
            (local.endpoint.clone(), Some(local))
        }
    };
    let table = std::env::var("TABLE_NAME").unwrap_or_else(|_| format!("rally-local-{}", std::process::id()));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| format!("port {port}: {e}"))?;
    let mut config = Config::local(&table, &endpoint, &admin_token);
    if let Some(limit) = std::env::var("WRITES_PER_MINUTE").ok().filter(|v| !v.is_empty()) {
        config.writes_per_minute = limit.parse().map_err(|_| format!("WRITES_PER_MINUTE={limit} is not a number"))?;
    }
    // The demo's blogger is told of held comments; MODERATOR_EMAIL= (empty) turns it off.
    let moderator = std::env::var("MODERATOR_EMAIL").unwrap_or_else(|_| "blogger@blog.example".into());
    if !moderator.is_empty() {
        config.moderator_email =
            Some(app::comment::Email::parse(&moderator).map_err(|why| format!("MODERATOR_EMAIL={moderator}: {why}"))?);
    }
    let stack = start(config, &template, listener).await?;
    let seeded = seed::seed(&stack.app).await.map_err(|e| format!("seeding the demo: {e}"))?;

    println!("\nRally local stack");
    println!("  demo blog    {}/", stack.base_url);
    println!("  console      {}/admin (sign in with the admin token)", stack.base_url);
    println!("  API          {}/posts", stack.base_url);
    println!("  DynamoDB     {endpoint} (table {table}, {seeded} demo posts seeded)");
    println!(
        "  import       cargo run -q -p rally-cli -- --endpoint {endpoint} --table {table} import wordpress EXPORT.xml"
    );
    println!("  admin token  {admin_token}");
    println!("  mail         {}/_dev/outbox (every mail the events function sent)", stack.base_url);
    println!("  routes       {}", template.routes.len());
    println!("Ctrl-C stops everything.");
    tokio::signal::ctrl_c().await.map_err(|e| e.to_string())?;
    println!("\nstopping");
    Ok(())
}
