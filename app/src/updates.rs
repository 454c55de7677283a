//! The organiser's updates: `POST /admin/petitions/{slug}/updates` (and pledges) mails a
//! subject and a body to every confirmed signer who asked for updates when confirming,
//! paced to the deployment's mail rate; `GET /admin/updates/{id}` says how far it got.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};

use crate::App;
use crate::auth::require_admin;
use crate::campaign::{Kind, NewUpdate};
use crate::error::ApiError;
use crate::http::{MAX_BODY, json, json_object, path_param};
use crate::store::{CampaignUpdate, Job};

/// `POST /admin/{petitions,pledges}/{slug}/updates`: 202 with the update's progress.
pub async fn create(app: &App, req: &Request, kind: Kind) -> Result<Response<Body>, ApiError> {
    require_admin(&app.config, req)?;
    let slug = crate::signups::slug(req, kind)?;
    let new = NewUpdate::from_json(json_object(req, MAX_BODY)?)?;
    crate::signups::load(app, kind, &slug).await?;
    let now = app.clock.now();
    let update = CampaignUpdate::new(kind, &slug, new.subject, new.body, now);
    app.store.create_update(&update, now).await?;
    Ok(json(StatusCode::ACCEPTED, &progress_json(&update, None)))
}

/// `GET /admin/updates/{id}`: how many mails the update has queued, sent and failed.
pub async fn progress(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    require_admin(&app.config, req)?;
    let id = path_param(req, "id");
    let missing = || ApiError::NotFound(format!("no update '{id}'"));
    if ulid::Ulid::from_string(&id).is_err() {
        return Err(missing());
    }
    let (update, job) = app.store.update_progress(&id).await?.ok_or_else(missing)?;
    Ok(json(StatusCode::OK, &progress_json(&update, job.as_ref())))
}

/// `queued` counts the mails made so far (one per signer who asked for updates, as the
/// job reads the signers); `pending` those queued but neither sent nor failed yet.
fn progress_json(update: &CampaignUpdate, job: Option<&Job>) -> Value {
    let queued = job.map_or(0, |j| j.queued);
    let finished = update.sent + update.failed;
    let status = match job {
        Some(job) if job.done && finished >= queued => "done",
        Some(job) if job.done => "sending",
        _ => "queueing",
    };
    json!({
        "id": update.id,
        "kind": update.kind,
        "campaign": update.slug,
        "subject": update.subject,
        "created_at": update.created_at,
        "status": status,
        "queued": queued,
        "sent": update.sent,
        "failed": update.failed,
        "pending": queued.saturating_sub(finished),
    })
}
