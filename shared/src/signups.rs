//! The routes petitions and pledges share: signing up with double opt-in, the public
//! list of signers, the admin CSV export, and the confirm and erase links of the mail.

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};

use crate::App;
use crate::auth::{client_hash, random_token, require_admin};
use crate::campaign::{CONSENT_TEXT, Kind, NewSignup, signer_key};
use crate::config::sha256_hex;
use crate::error::ApiError;
use crate::http::{MAX_BODY, Page, json, json_object, no_content, path_param};
use crate::mail::Mail;
use crate::post::Slug;
use crate::store::{Campaign, SignupOutcome, Tally};
use crate::time::{self as t, Timestamp};

pub fn slug(req: &Request, kind: Kind) -> Result<Slug, ApiError> {
    Slug::from_path(&path_param(req, "slug"), kind.as_str())
}

pub async fn load(app: &App, kind: Kind, slug: &Slug) -> Result<(Campaign, Tally), ApiError> {
    app.store.campaign(kind, slug).await?.ok_or_else(|| not_found(kind, slug))
}

fn not_found(kind: Kind, slug: &Slug) -> ApiError {
    ApiError::NotFound(format!("no {} named '{slug}'", kind.as_str()))
}

/// The public `Petition` or `Pledge` of `api.md`.
pub fn campaign_json(campaign: &Campaign, tally: Tally, now: Timestamp) -> Value {
    let open = campaign.open_at(now);
    match Kind::parse(&campaign.kind) {
        Some(Kind::Pledge) => {
            let threshold = campaign.threshold.unwrap_or(u64::MAX);
            let status = if tally.count >= threshold {
                "succeeded"
            } else if open {
                "open"
            } else {
                "failed"
            };
            json!({
                "slug": campaign.slug, "title": campaign.title, "body": campaign.body,
                "threshold": campaign.threshold, "deadline": campaign.deadline, "currency": campaign.currency,
                "suggested_amount": campaign.suggested_amount, "signup_count": tally.count,
                "amount_total": tally.amount, "status": status, "open": open,
                "petition": campaign.petition, "post": campaign.post, "created_at": campaign.created_at,
            })
        }
        _ => json!({
            "slug": campaign.slug, "title": campaign.title, "body": campaign.body, "target": campaign.target,
            "goal": campaign.goal, "signature_count": tally.count, "closes_at": campaign.closes_at, "open": open,
            "post": campaign.post, "created_at": campaign.created_at,
        }),
    }
}

/// `POST /petitions/{slug}/signatures`, `POST /pledges/{slug}/signups`: always 202 with
/// the same body, so no answer tells whether an address has signed before.
pub async fn signup(app: &App, req: &Request, kind: Kind) -> Result<Response<Body>, ApiError> {
    let slug = slug(req, kind)?;
    let now = t::now();
    let campaign = app.store.campaign_only(kind, &slug).await?.ok_or_else(|| not_found(kind, &slug))?;
    if !campaign.open_at(now) {
        return Err(ApiError::CampaignClosed(format!(
            "this {} closed on {}",
            kind.as_str(),
            campaign.ends_at().map(t::format).unwrap_or_default()
        )));
    }
    let signup = NewSignup::from_json(json_object(req, MAX_BODY)?, kind)?;
    let email_hash = signer_key(&signup.email, &app.config.ip_hash_salt);
    let token = random_token();
    let client = client_hash(&app.config, req, now);
    let outcome = app
        .store
        .add_signup(
            kind,
            &slug,
            &email_hash,
            &signup,
            &sha256_hex(token.as_bytes()),
            &client,
            app.config.writes_per_minute,
            now,
        )
        .await?;
    if outcome != SignupOutcome::Quiet {
        let base = base_url(req);
        let confirm = format!("{base}/confirm/{token}");
        let text = format!(
            "Hello {name},\n\nplease confirm your signature of \"{title}\" by opening this link and pressing the button:\n\n{confirm}\n\n\
             Until you confirm, it does not count, and after 7 days it is forgotten. The same page lets you erase your \
             signup at any time.\n\nYou agreed: {CONSENT_TEXT}\n\nIf this was not you, ignore this mail.\n",
            name = signup.name,
            title = campaign.title,
        );
        let mail = Mail {
            to: signup.email.as_ref().to_owned(),
            subject: format!("Please confirm: {}", campaign.title),
            text,
            links: vec![confirm],
            sent_at: t::format(now),
        };
        app.mailer.send(mail).await?;
    }
    Ok(json(StatusCode::ACCEPTED, &json!({ "status": "pending_confirmation" })))
}

/// The API's own address as the client reached it, for links in mail.
fn base_url(req: &Request) -> String {
    let uri = req.uri();
    let scheme = uri.scheme_str().unwrap_or("https");
    let host = uri.authority().map(|a| a.as_str().to_owned()).unwrap_or_default();
    format!("{scheme}://{host}")
}

/// The public signers: only those who chose `public: true`, never an email.
pub async fn signers(app: &App, req: &Request, kind: Kind) -> Result<Response<Body>, ApiError> {
    let slug = slug(req, kind)?;
    let page = Page::from_request(req)?;
    app.store.campaign_only(kind, &slug).await?.ok_or_else(|| not_found(kind, &slug))?;
    let (signers, next_cursor) = app.store.public_signers(kind, &slug, &page).await?;
    let items: Vec<Value> = signers
        .iter()
        .map(|s| match kind {
            Kind::Petition => {
                json!({"name": s.name, "country": s.country, "comment": s.comment, "signed_at": s.confirmed_at})
            }
            Kind::Pledge => json!({"name": s.name, "amount": s.amount, "signed_at": s.confirmed_at}),
        })
        .collect();
    Ok(json(StatusCode::OK, &json!({ "items": items, "next_cursor": next_cursor })))
}

/// Every confirmed signup as CSV, for delivery to the target; the only way emails leave.
pub async fn export_csv(app: &App, req: &Request, kind: Kind) -> Result<Response<Body>, ApiError> {
    require_admin(&app.config, req)?;
    let slug = slug(req, kind)?;
    app.store.campaign_only(kind, &slug).await?.ok_or_else(|| not_found(kind, &slug))?;
    let signups = app.store.confirmed_signups(kind, &slug).await?;
    let mut csv =
        String::from("name,email,country,postcode,comment,amount,public,signed_at,consent_version,consented_at\r\n");
    for s in &signups {
        let cells = [
            s.name.clone(),
            s.email.clone(),
            s.country.clone().unwrap_or_default(),
            s.postcode.clone().unwrap_or_default(),
            s.comment.clone().unwrap_or_default(),
            s.amount.map(|a| a.to_string()).unwrap_or_default(),
            s.public.to_string(),
            s.confirmed_at.clone().unwrap_or_default(),
            s.consent_version.clone(),
            s.consented_at.clone(),
        ];
        csv.push_str(&cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(","));
        csv.push_str("\r\n");
    }
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/csv; charset=utf-8")
        .header(header::CONTENT_DISPOSITION, format!("attachment; filename=\"{slug}-{}.csv\"", kind.as_str()))
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::Text(csv))
        .expect("valid response"))
}

/// A CSV cell, quoted, with a leading `'` on anything a spreadsheet would run as a formula.
pub fn csv_cell(value: &str) -> String {
    let guarded =
        if value.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{value}") } else { value.to_owned() };
    format!("\"{}\"", guarded.replace('"', "\"\""))
}

fn token(req: &Request) -> Result<String, ApiError> {
    let token = path_param(req, "token");
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::NotFound("this link is unknown or has expired".into()));
    }
    Ok(sha256_hex(token.as_bytes()))
}

/// `GET /confirm/{token}`: a page with buttons. Following the link confirms nothing, so
/// mail scanners that open links cannot sign anyone up.
pub async fn confirm_page(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    let checked = match token(req) {
        Ok(token) => app.store.check_signup_token(&token, t::now()).await,
        Err(err) => Err(err),
    };
    if let Err(ApiError::NotFound(_)) = checked {
        // A person followed an old link from a mail: a page, not JSON.
        let html = DONE_PAGE.replace("{message}", "This link is unknown or has expired. If you signed more than a week ago without confirming, please sign again.");
        return Ok(html_response(StatusCode::NOT_FOUND, html));
    }
    checked?;
    let html = CONFIRM_PAGE.replace("{consent}", CONSENT_TEXT);
    Ok(html_response(StatusCode::OK, html))
}

/// `POST /confirm/{token}`: `{status: "confirmed", campaign, kind}`; again is harmless.
/// A browser's form post gets a page back instead of JSON.
pub async fn confirm(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    let (kind, slug) = app.store.confirm_signup(&token(req)?, t::now()).await?;
    if wants_html(req) {
        return Ok(html_response(
            StatusCode::OK,
            DONE_PAGE.replace("{message}", "Thank you: your signature is confirmed and counted."),
        ));
    }
    Ok(json(StatusCode::OK, &json!({ "status": "confirmed", "campaign": slug, "kind": kind.as_str() })))
}

/// `DELETE /signups/{token}`: erases the signup and lowers the count.
pub async fn erase(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    app.store.erase_signup(&token(req)?, t::now()).await?;
    Ok(no_content())
}

fn wants_html(req: &Request) -> bool {
    req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.starts_with("text/html"))
}

fn html_response(status: StatusCode, html: String) -> Response<Body> {
    let mut response = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::REFERRER_POLICY, "no-referrer")
        .body(Body::Text(html))
        .expect("valid response");
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'self'"),
    );
    response
}

const CONFIRM_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Confirm your signature</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}button{font:inherit;padding:.5rem 1rem;margin:.25rem 0}</style>
</head><body>
<h1>Confirm your signature</h1>
<p>Press the button to confirm. Until you do, your signature does not count.</p>
<form method="post"><button type="submit">Confirm my signature</button></form>
<p><small>{consent}</small></p>
<h2>Changed your mind?</h2>
<button type="button" id="erase">Erase my signup</button>
<p id="status" role="status" aria-live="polite"></p>
<script>
document.getElementById('erase').addEventListener('click', async () => {
  const r = await fetch(location.pathname.replace('/confirm/', '/signups/'), {method: 'DELETE'});
  document.getElementById('status').textContent = r.ok ? 'Your signup is erased.' : 'This link is unknown or has expired.';
});
</script>
</body></html>
"#;

const DONE_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Signature</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}</style>
</head><body><p role="status">{message}</p></body></html>
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_cannot_be_formulas() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        for risky in ["+1", "-1", "@SUM(A1)", "\tx"] {
            assert!(csv_cell(risky).starts_with("\"'"), "{risky}");
        }
        assert_eq!(csv_cell("Kim, Min-jun"), "\"Kim, Min-jun\"");
    }
}
