use std::convert::Infallible;

use lambda_http::{Error, Request, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    app::init_tracing();
    let origins = app::config::AllowedOrigins::parse(&std::env::var("ALLOWED_ORIGINS").unwrap_or_default());
    let origins = &origins;
    lambda_http::run(service_fn(|req: Request| async move { Ok::<_, Infallible>(widget::handle(origins, req).await) }))
        .await
}
