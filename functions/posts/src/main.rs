use std::convert::Infallible;

use lambda_http::{Error, Request, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    app::init_tracing();
    let app = app::App::from_env_without_secret().await?;
    lambda_http::run(service_fn(|req: Request| {
        let app = app.clone();
        async move { Ok::<_, Infallible>(posts::handle(&app, req).await) }
    }))
    .await
}
