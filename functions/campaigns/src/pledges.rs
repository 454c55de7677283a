//! The pledges function: the `pledges` operations of `openapi.yaml`. A pledge is conditional, in
//! the PledgeBank sense: "I will give $3 to the fund, but only if 1,000 others will too."

use app::campaign::Kind;
use app::http::{finish, route_key, unknown_route};
use app::signups;
use app::{ApiError, App};
use lambda_http::{Body, Request, Response};

const PLEDGE: Kind = Kind::Pledge;

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    let result = dispatch(app, &req).await;
    finish(&app.config, &req, result)
}

async fn dispatch(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    match route_key(req).unwrap_or_default() {
        "POST /pledges" => crate::create(app, req, PLEDGE).await,
        "GET /pledges/{slug}" => crate::get(app, req, PLEDGE).await,
        "PUT /pledges/{slug}" => crate::replace(app, req, PLEDGE).await,
        "GET /admin/pledges" => crate::list(app, req, PLEDGE).await,
        "POST /admin/pledges/{slug}/close" => crate::close(app, req, PLEDGE).await,
        "GET /admin/pledges/{slug}/daily" => crate::daily(app, req, PLEDGE).await,
        "POST /pledges/{slug}/signups" => signups::signup(app, req, PLEDGE).await,
        "GET /pledges/{slug}/signups" => signups::signers(app, req, PLEDGE).await,
        "GET /admin/pledges/{slug}/signups.csv" => signups::export_csv(app, req, PLEDGE).await,
        "POST /admin/pledges/{slug}/updates" => app::updates::create(app, req, PLEDGE).await,
        _ => Err(unknown_route(req)),
    }
}
