#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    campaigns::serve(app::campaign::Kind::Pledge).await
}
