//! Petitions and pledges, the two kinds of campaign. They share their signup, signer,
//! export, confirm and erase routes (`app::signups`); each kind's own routes are its
//! module here, and each is deployed as its own function from a thin binary in `bin/`.

pub mod petitions;
pub mod pledges;

use app::auth::require_admin;
use app::campaign::{Kind, NewCampaign};
use app::http::{MAX_BODY, json, json_object};
use app::signups::{self, CampaignView, campaign_json};
use app::store::campaigns::Terms;
use app::store::{Campaign, Tally};
use app::{ApiError, App};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use serde_json::{Value, json};

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

/// A campaign as its organiser's list shows it: what the public reads, and the ids of
/// the updates sent to its signers (`GET /admin/updates/{id}` has each one's progress).
#[derive(Serialize)]
struct OrganiserView<'a> {
    #[serde(flatten)]
    campaign: CampaignView<'a>,
    updates: Vec<&'a str>,
}

/// `GET /admin/petitions`, `GET /admin/pledges` (admin): every campaign of the kind,
/// newest first, with its tally and its updates.
async fn list(app: &App, req: &Request, kind: Kind) -> Result<Response<Body>, ApiError> {
    require_admin(&app.config, req)?;
    let page = app::http::page(req)?;
    let (campaigns, next_cursor) = app.store.campaigns(kind, &page).await?;
    let now = app.clock.now();
    let items: Vec<_> = campaigns
        .iter()
        .map(|(campaign, tally)| OrganiserView {
            campaign: CampaignView::new(campaign, *tally, now),
            updates: campaign.update_ids.iter().rev().map(String::as_str).collect(),
        })
        .collect();
    Ok(json(StatusCode::OK, &json!({ "items": items, "next_cursor": next_cursor })))
}

/// `PUT /petitions/{slug}`, `PUT /pledges/{slug}` (admin): the campaign as the request
/// describes it, with the fields of `POST` (the slug, if sent, must be its own). A
/// petition's `organiser_email` and a pledge's `currency` left out keep their value; a
/// settled pledge keeps its threshold and deadline, and a pledge with signups its
/// currency. What was counted, told and sent is untouched.
async fn replace(app: &App, req: &Request, kind: Kind) -> Result<Response<Body>, ApiError> {
    require_admin(&app.config, req)?;
    let slug = signups::slug(req, kind)?;
    let mut map = json_object(req, MAX_BODY)?;
    match map.get("slug") {
        None => {
            map.insert("slug".into(), Value::String(slug.to_string()));
        }
        Some(Value::String(sent)) if *sent == slug.as_ref() => {}
        Some(_) => return Err(ApiError::validation("slug", "is the campaign's own and cannot change")),
    }
    let (keep_organiser, keep_currency) = (!map.contains_key("organiser_email"), !map.contains_key("currency"));
    let new = NewCampaign::from_json(map, kind)?;
    let (old, tally) = signups::load(app, kind, &slug).await?;
    let mut terms = new.terms;
    match (&old.terms, &mut terms) {
        (Terms::Petition { organiser_email: kept, .. }, Terms::Petition { organiser_email, .. }) => {
            if keep_organiser {
                organiser_email.clone_from(kept);
            }
        }
        (
            Terms::Pledge { threshold: old_threshold, deadline: old_deadline, currency: old_currency, .. },
            Terms::Pledge { threshold, deadline, currency, .. },
        ) => {
            if keep_currency {
                currency.clone_from(old_currency);
            }
            if old.outcome.is_some() && (threshold != old_threshold || deadline != old_deadline) {
                return Err(ApiError::Conflict("a settled pledge keeps its threshold and deadline".into()));
            }
            if tally.count > 0 && currency != old_currency {
                return Err(ApiError::validation("currency", "cannot change once people have pledged"));
            }
        }
        _ => return Err(ApiError::Internal("a campaign's kind does not match its terms".into())),
    }
    let updated = old.edited(new.title, new.body, new.post.map(|p| p.to_string()), terms);
    app.store.update_campaign(&old, &updated).await?;
    Ok(json(StatusCode::OK, &campaign_json(&updated, tally, app.clock.now())))
}

/// `POST /admin/petitions/{slug}/close`, `POST /admin/pledges/{slug}/close` (admin):
/// signups stop now (a petition's `closes_at`, a pledge's `deadline`; the schedule then
/// settles the pledge). Closing a closed campaign changes nothing.
async fn close(app: &App, req: &Request, kind: Kind) -> Result<Response<Body>, ApiError> {
    require_admin(&app.config, req)?;
    let slug = signups::slug(req, kind)?;
    let (old, tally) = signups::load(app, kind, &slug).await?;
    let now = app.clock.now();
    if !old.open_at(now) {
        return Ok(json(StatusCode::OK, &campaign_json(&old, tally, now)));
    }
    let mut terms = old.terms.clone();
    match &mut terms {
        Terms::Petition { closes_at, .. } => *closes_at = Some(app::time::format(now)),
        Terms::Pledge { deadline, .. } => *deadline = app::time::format(now),
    }
    let updated = old.edited(old.title.clone(), old.body.clone(), old.post.clone(), terms);
    app.store.update_campaign(&old, &updated).await?;
    Ok(json(StatusCode::OK, &campaign_json(&updated, tally, now)))
}

/// `GET /admin/petitions/{slug}/daily`, `GET /admin/pledges/{slug}/daily` (admin):
/// confirmed signups per UTC day (and a pledge's amounts), oldest first; days with
/// none are left out.
async fn daily(app: &App, req: &Request, kind: Kind) -> Result<Response<Body>, ApiError> {
    require_admin(&app.config, req)?;
    let slug = signups::slug(req, kind)?;
    // Only that it exists: one GetItem, not the tally's batch read.
    if app.store.campaign_only(kind, &slug).await?.is_none() {
        return Err(signups::not_found(kind, &slug));
    }
    let days = app.store.signups_by_day(kind, &slug).await?;
    let days: Vec<_> = days
        .iter()
        .map(|(date, tally)| match kind {
            Kind::Petition => json!({ "date": date, "signups": tally.count }),
            Kind::Pledge => json!({ "date": date, "signups": tally.count, "amount": tally.amount }),
        })
        .collect();
    Ok(json(StatusCode::OK, &json!({ "days": days })))
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
