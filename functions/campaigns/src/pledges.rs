//! The pledges function: the `pledges` operations of `openapi.yaml`. A pledge is conditional, in
//! the PledgeBank sense: "I will give $3 to the fund, but only if 1,000 others will too."

use app::auth::require_admin;
use app::campaign::{Kind, NewPledge};
use app::http::{MAX_BODY, finish, json, json_object, route_key, unknown_route};
use app::signups::{self, campaign_json};
use app::store::campaigns::Terms;
use app::store::{Campaign, Tally};
use app::{ApiError, App, time};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

const PLEDGE: Kind = Kind::Pledge;

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    let result = dispatch(app, &req).await;
    finish(&app.config, &req, result)
}

async fn dispatch(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    match route_key(req).unwrap_or_default() {
        "POST /pledges" => create(app, req).await,
        "GET /pledges/{slug}" => get(app, req).await,
        "POST /pledges/{slug}/signups" => signups::signup(app, req, PLEDGE).await,
        "GET /pledges/{slug}/signups" => signups::signers(app, req, PLEDGE).await,
        "GET /admin/pledges/{slug}/signups.csv" => signups::export_csv(app, req, PLEDGE).await,
        _ => Err(unknown_route(req)),
    }
}

/// `POST /pledges` (admin): 201 with the pledge; 409 when the slug is taken.
async fn create(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    require_admin(&app.config, req)?;
    let new = NewPledge::from_json(json_object(req, MAX_BODY)?)?;
    let now = app.clock.now();
    let terms = Terms::Pledge {
        threshold: new.threshold,
        deadline: time::format(new.deadline),
        currency: new.currency,
        suggested_amount: new.suggested_amount,
        petition: new.petition.map(|p| p.to_string()),
    };
    let campaign = Campaign::new(&new.slug, new.title, new.body, new.post.as_ref(), terms, now);
    app.store.create_campaign(&campaign).await?;
    Ok(json(StatusCode::CREATED, &campaign_json(&campaign, Tally::default(), now)))
}

async fn get(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    let slug = signups::slug(req, PLEDGE)?;
    let (campaign, tally) = signups::load(app, PLEDGE, &slug).await?;
    Ok(json(StatusCode::OK, &campaign_json(&campaign, tally, app.clock.now())))
}
