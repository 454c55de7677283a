//! Petitions and pledges, the two kinds of campaign. They share their signup, signer,
//! export, confirm and erase routes (`app::signups`); each kind's own routes are its
//! module here, and each is deployed as its own function from a thin binary in `bin/`.

pub mod petitions;
pub mod pledges;

use app::campaign::Kind;

/// What each binary runs: the app with Amazon SES built once, serving one kind's routes
/// (the shared confirm and erase links are the petitions function's).
pub async fn serve(kind: Kind) -> Result<(), lambda_http::Error> {
    app::init_tracing();
    let app = app::App::from_env().await?.with_mailer(app::mail::Ses::from_env().await?);
    let app = &app;
    lambda_http::run(lambda_http::service_fn(|req: lambda_http::Request| async move {
        let answer = match kind {
            Kind::Petition => petitions::handle(app, req).await,
            Kind::Pledge => pledges::handle(app, req).await,
        };
        Ok::<_, std::convert::Infallible>(answer)
    }))
    .await
}
