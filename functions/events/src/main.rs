// The SDK futures of a whole stream batch nest deeper than the default limit.
#![recursion_limit = "256"]

use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    app::init_tracing();
    let events = events::Events::from_env().await?;
    let events = &events;
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| async move {
        events.handle(event.payload).await
    }))
    .await
}
