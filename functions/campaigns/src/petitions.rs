//! The petitions function: the `petitions` operations of `openapi.yaml`, and the
//! confirm and erase links (the `signups` operations) that petitions and pledges share.

use app::campaign::Kind;
use app::http::{finish, json, route_key, unknown_route};
use app::signups;
use app::store::campaigns::Terms;
use app::{ApiError, App};
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde_json::json;

const PETITION: Kind = Kind::Petition;

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    let result = dispatch(app, &req).await;
    finish(&app.config, &req, result)
}

async fn dispatch(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    match route_key(req).unwrap_or_default() {
        "POST /petitions" => crate::create(app, req, PETITION).await,
        "GET /petitions/{slug}" => crate::get(app, req, PETITION).await,
        "PUT /petitions/{slug}" => crate::replace(app, req, PETITION).await,
        "GET /admin/petitions" => crate::list(app, req, PETITION).await,
        "POST /admin/petitions/{slug}/close" => crate::close(app, req, PETITION).await,
        "GET /admin/petitions/{slug}/daily" => crate::daily(app, req, PETITION).await,
        "GET /petitions/{slug}/count" => count(app, req).await,
        "POST /petitions/{slug}/signatures" => signups::signup(app, req, PETITION).await,
        "GET /petitions/{slug}/signatures" => signups::signers(app, req, PETITION).await,
        "GET /admin/petitions/{slug}/signatures.csv" => signups::export_csv(app, req, PETITION).await,
        "POST /admin/petitions/{slug}/updates" => app::updates::create(app, req, PETITION).await,
        "GET /admin/updates/{id}" => app::updates::progress(app, req).await,
        "GET /confirm/{token}" => signups::confirm_page(app, req).await,
        "POST /confirm/{token}" => signups::confirm(app, req).await,
        "DELETE /signups/{token}" => signups::erase(app, req).await,
        _ => Err(unknown_route(req)),
    }
}

/// Counts read in the last few seconds, by (table, slug), for `Config::count_cache`.
static COUNTS: std::sync::LazyLock<app::cache::TtlCache<(String, String), serde_json::Value>> =
    std::sync::LazyLock::new(|| app::cache::TtlCache::new(10_000));

/// `GET /petitions/{slug}/count`: cacheable, so a viral day's readers mostly hit a cache
/// (and a warm function answers from memory for `Config::count_cache`).
async fn count(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    let slug = signups::slug(req, PETITION)?;
    let key = (app.store.table().to_owned(), slug.to_string());
    let body = match COUNTS.get(&key, app.config.count_cache) {
        Some(body) => body,
        None => {
            let (campaign, tally) = signups::load(app, PETITION, &slug).await?;
            let open = campaign.open_at(app.clock.now());
            let goal = match &campaign.terms {
                Terms::Petition { goal, .. } => *goal,
                Terms::Pledge { .. } => return Err(ApiError::Internal("a petition's key holds a pledge".into())),
            };
            let body = json!({ "signature_count": tally.count, "goal": goal, "open": open });
            COUNTS.put(key, body.clone(), app.config.count_cache);
            body
        }
    };
    let mut response = json(StatusCode::OK, &body);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=10, stale-while-revalidate=60"));
    Ok(response)
}
