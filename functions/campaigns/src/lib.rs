//! Petitions and pledges, the two kinds of campaign. They share their signup, signer,
//! export, confirm and erase routes (`app::signups`); each kind's own routes are its
//! module here, and each is deployed as its own function from a thin binary in `bin/`.

pub mod petitions;
pub mod pledges;

use app::auth::require_admin;
use app::campaign::{Kind, NewCampaign};
use app::http::{MAX_BODY, json, json_object};
use app::signups::{self, campaign_json};
use app::store::{Campaign, Tally};
use app::{ApiError, App};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

/// `POST /petitions`, `POST /pledges` (admin): 201 with the campaign; 409 when the slug
/// is taken.
async fn create(app: &App, req: &Request, kind: Kind) -> Result<Response<Body>, ApiError> {
    require_admin(&app.config, req)?;
    let new = NewCampaign::from_json(json_object(req, MAX_BODY)?, kind)?;
    let now = app.clock.now();
    let campaign = Campaign::new(&new.slug, new.title, new.body, new.post.as_ref(), new.terms, now);
    app.store.create_campaign(&campaign).await?;
    Ok(json(StatusCode::CREATED, &campaign_json(&campaign, Tally::default(), now)))
}

/// `GET /petitions/{slug}`, `GET /pledges/{slug}`: the campaign with its tally.
async fn get(app: &App, req: &Request, kind: Kind) -> Result<Response<Body>, ApiError> {
    let slug = signups::slug(req, kind)?;
    let (campaign, tally) = signups::load(app, kind, &slug).await?;
    Ok(json(StatusCode::OK, &campaign_json(&campaign, tally, app.clock.now())))
}

/// What each binary runs: the app built once, serving one kind's routes (the shared
/// confirm and erase links are the petitions function's).
pub async fn serve(kind: Kind) -> Result<(), lambda_http::Error> {
    app::init_tracing();
    let app = app::App::from_env().await?;
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
