//! The routes petitions and pledges share: signing up with double opt-in, the public
//! list of signers, the admin CSV export, and the confirm and erase links of the mail.

use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::App;
use crate::auth::{client_hash, random_token, require_admin};
use crate::campaign::{CONSENT_TEXT, Kind, NewSignup, SignupDetails, address_key, signer_key};
use crate::config::sha256_hex;
use crate::error::ApiError;
use crate::http::{MAX_BODY, Page, json, json_object, no_content, path_param, query_param};
use crate::mail::Mail;
use crate::pages::{escape, html_response, wants_html};
use crate::post::Slug;
use crate::store::campaigns::PENDING_SECS;
use crate::store::campaigns::Terms;
use crate::store::{Campaign, Outcome, Signup, SignupRequest, SignupToken, Tally};
use crate::time::{self as t, Timestamp};

pub fn slug(req: &Request, kind: Kind) -> Result<Slug, ApiError> {
    crate::http::slug_from_path(&path_param(req, "slug"), kind.as_str())
}

pub async fn load(app: &App, kind: Kind, slug: &Slug) -> Result<(Campaign, Tally), ApiError> {
    app.store.campaign(kind, slug).await?.ok_or_else(|| not_found(kind, slug))
}

pub fn not_found(kind: Kind, slug: &Slug) -> ApiError {
    ApiError::NotFound(format!("no {} named '{slug}'", kind.as_str()))
}

/// What the public reads of a campaign: the `Petition` or `Pledge` schema of
/// `openapi.yaml`. Views are the only shapes public answers take, so what they may show
/// is a property of their types.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum CampaignView<'a> {
    Petition {
        slug: &'a str,
        title: &'a str,
        body: &'a str,
        target: &'a str,
        goal: u64,
        signature_count: u64,
        closes_at: Option<&'a str>,
        /// The counts the organiser is told of, besides the goal.
        milestones: &'a [u64],
        open: bool,
        post: Option<&'a str>,
        created_at: &'a str,
    },
    Pledge {
        slug: &'a str,
        title: &'a str,
        body: &'a str,
        threshold: u64,
        deadline: &'a str,
        currency: &'a str,
        suggested_amount: Option<u64>,
        signup_count: u64,
        amount_total: u64,
        status: PledgeStatus,
        /// How and where to give once it succeeds, as the organiser wrote it.
        fulfilment_text: Option<&'a str>,
        fulfilment_url: Option<&'a str>,
        open: bool,
        petition: Option<&'a str>,
        post: Option<&'a str>,
        created_at: &'a str,
    },
}

/// A pledge succeeds as soon as its confirmed signups reach the threshold, and fails
/// when its deadline passes short of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PledgeStatus {
    Open,
    Succeeded,
    Failed,
}

impl<'a> CampaignView<'a> {
    pub fn new(campaign: &'a Campaign, tally: Tally, now: Timestamp) -> Self {
        let open = campaign.open_at(now);
        let (slug, title, body) = (campaign.slug.as_str(), campaign.title.as_str(), campaign.body.as_str());
        let (post, created_at) = (campaign.post.as_deref(), campaign.created_at.as_str());
        match &campaign.terms {
            Terms::Petition { target, goal, closes_at, milestones, .. } => Self::Petition {
                slug,
                title,
                body,
                target,
                goal: *goal,
                signature_count: tally.count,
                closes_at: closes_at.as_deref(),
                milestones,
                open,
                post,
                created_at,
            },
            Terms::Pledge {
                threshold,
                deadline,
                currency,
                suggested_amount,
                petition,
                fulfilment_text,
                fulfilment_url,
            } => Self::Pledge {
                slug,
                title,
                body,
                threshold: *threshold,
                deadline,
                currency,
                suggested_amount: *suggested_amount,
                signup_count: tally.count,
                amount_total: tally.amount,
                // Once settled, the outcome stands (an erasure after success does not
                // unsay the mails it sent); until then it follows the count and the clock.
                status: match (campaign.outcome, tally.count >= *threshold, open) {
                    (Some(Outcome::Succeeded), _, _) | (None, true, _) => PledgeStatus::Succeeded,
                    (Some(Outcome::Failed), _, _) | (None, false, false) => PledgeStatus::Failed,
                    (None, false, true) => PledgeStatus::Open,
                },
                fulfilment_text: fulfilment_text.as_deref(),
                fulfilment_url: fulfilment_url.as_deref(),
                open,
                petition: petition.as_deref(),
                post,
                created_at,
            },
        }
    }
}

/// The public view of a campaign as JSON.
pub fn campaign_json(campaign: &Campaign, tally: Tally, now: Timestamp) -> Value {
    serde_json::to_value(CampaignView::new(campaign, tally, now)).expect("a view serialises")
}

/// One public signer: a name and what they chose to show, never an address.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum SignerView<'a> {
    Petition { name: &'a str, country: Option<&'a str>, comment: Option<&'a str>, signed_at: &'a str },
    Pledge { name: &'a str, amount: Option<u64>, signed_at: &'a str },
}

impl<'a> SignerView<'a> {
    pub fn new(kind: Kind, signup: &'a Signup) -> Self {
        let d = &signup.details;
        match kind {
            Kind::Petition => Self::Petition {
                name: &d.name,
                country: d.country.as_deref(),
                comment: d.comment.as_deref(),
                signed_at: &signup.confirmed_at,
            },
            Kind::Pledge => Self::Pledge { name: &d.name, amount: d.amount, signed_at: &signup.confirmed_at },
        }
    }
}

/// `POST /petitions/{slug}/signatures`, `POST /pledges/{slug}/signups`: always 202
/// with the same body, after the same store work, so no answer tells whether an address
/// has signed, is waiting to confirm, or was never seen. The request signs nothing: it
/// queues a mail (which the events function sends) with a link to a page where the
/// address's holder sees what the signup would say, changes it if they like, and
/// confirms.
pub async fn signup(app: &App, req: &Request, kind: Kind) -> Result<Response<Body>, ApiError> {
    let slug = slug(req, kind)?;
    let signup = NewSignup::from_json(json_object(req, MAX_BODY)?, kind)?;
    let now = app.clock.now();
    let campaign = app.store.campaign_only(kind, &slug).await?.ok_or_else(|| not_found(kind, &slug))?;
    if !campaign.open_at(now) {
        return Err(ApiError::CampaignClosed(format!(
            "this {} closed on {}",
            kind.as_str(),
            campaign.ends_at().map(t::format).unwrap_or_default()
        )));
    }
    let salt = &app.config.ip_hash_salt;
    app.store.charge_client(&client_hash(&app.config, req, now), app.config.writes_per_minute, now).await?;
    let token = random_token();
    let mail =
        confirmation_mail(&base_url(&app.config, req), kind, &campaign.title, &token, signup.email.as_ref(), now);
    // Whether the mail was due (and queued for the events function) must not change the
    // answer, so it is not looked at.
    let _queued = app
        .store
        .request_signup(SignupRequest {
            kind,
            slug: &slug,
            signer: &signer_key(&signup.email, salt, kind, &slug),
            address: &address_key(&signup.email, salt),
            email: signup.email.as_ref(),
            requested: &signup.details,
            token_hash: &sha256_hex(token.as_bytes()),
            mail: Some(mail),
            caps: app.config.mail_caps,
            now,
        })
        .await?;
    Ok(json(StatusCode::ACCEPTED, &json!({ "status": "pending_confirmation" })))
}

/// The confirmation mail: only what the organiser wrote (the campaign's title) and the
/// link. Nothing the request sent, not even the name, reaches it, so no stranger can
/// write a line of a mail sent from the organiser's address.
fn confirmation_mail(base: &str, kind: Kind, title: &str, token: &str, to: &str, now: Timestamp) -> Mail {
    let confirm = format!("{base}/confirm/{token}");
    let (what, act) = match kind {
        Kind::Petition => ("signature", "sign the petition"),
        Kind::Pledge => ("pledge", "make the pledge"),
    };
    let days = PENDING_SECS / 86_400;
    let text = format!(
        "Hello,\n\nsomeone asked to {act} \"{title}\" with this address. If that was you, open this link, check what your \
         {what} will say, and press the button:\n\n{confirm}\n\nNothing is counted or shown until you do, and the request \
         is forgotten after {days} days. The same page lets you erase it at any time.\n\nIf it was not you, ignore this \
         mail: nothing is signed in your name.\n"
    );
    Mail {
        to: to.to_owned(),
        subject: format!("Please confirm your {what}: {title}"),
        text,
        links: vec![confirm],
        headers: Default::default(),
        sent_at: t::format(now),
    }
}

/// The API's own address for links in mail: the configured one, or else the domain API
/// Gateway says the request came to. Never the `Host` header, which the client writes.
fn base_url(config: &crate::Config, req: &Request) -> String {
    use lambda_http::RequestExt;
    use lambda_http::request::RequestContext;
    if let Some(url) = &config.public_url {
        return url.clone();
    }
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => {
            format!("https://{}", ctx.domain_name.as_deref().unwrap_or_default())
        }
        _ => String::new(),
    }
}

/// The public signers: only those who chose `public: true` when confirming, never an email.
pub async fn signers(app: &App, req: &Request, kind: Kind) -> Result<Response<Body>, ApiError> {
    let slug = slug(req, kind)?;
    let page = crate::http::page(req)?;
    app.store.campaign_only(kind, &slug).await?.ok_or_else(|| not_found(kind, &slug))?;
    let (signers, next_cursor) = app.store.public_signers(kind, &slug, &page).await?;
    let items: Vec<SignerView> = signers.iter().map(|s| SignerView::new(kind, s)).collect();
    Ok(json(StatusCode::OK, &json!({ "items": items, "next_cursor": next_cursor })))
}

/// How much CSV one export answer carries at most. A Lambda answer is capped at 6 MB,
/// and its JSON envelope may double a CSV's quotes; what does not fit goes on the next
/// page.
pub const MAX_EXPORT_BYTES: usize = 2_500_000;
pub const EXPORT_HEADER: &str =
    "name,email,country,postcode,comment,amount,public,signed_at,consent_version,consented_at,mail_status\r\n";

/// Every confirmed signup as CSV, for delivery to the target; the only way emails leave.
/// A page at a time (`?limit=`, 1 to 5,000 rows, default 1,000, and at most
/// [`MAX_EXPORT_BYTES`]), shard after shard: the header comes on the first page only,
/// so the pages joined in order are one CSV, and `Link: <…>; rel="next"` (and
/// `X-Next-Cursor`) name the next page until the last.
pub async fn export_csv(app: &App, req: &Request, kind: Kind) -> Result<Response<Body>, ApiError> {
    require_admin(&app.config, req)?;
    let slug = slug(req, kind)?;
    let page = Page::parse(query_param(req, "limit"), query_param(req, "cursor"), 1_000, 5_000)?;
    app.store.campaign_only(kind, &slug).await?.ok_or_else(|| not_found(kind, &slug))?;
    let (signups, mut next) = app.store.export_page(kind, &slug, page.cursor.as_deref(), page.limit).await?;
    // Which addresses no longer take mail (bounced, complained, unsubscribed).
    let salt = &app.config.ip_hash_salt;
    let address_of = |s: &Signup| crate::comment::Email::parse(&s.email).ok().map(|e| address_key(&e, salt));
    let addresses: Vec<String> = signups.iter().filter_map(address_of).collect();
    let suppressed = app.store.suppressions(&addresses).await?;
    let mut csv = if page.cursor.is_none() { String::from(EXPORT_HEADER) } else { String::new() };
    for (i, s) in signups.iter().enumerate() {
        let status = address_of(s).and_then(|a| suppressed.get(&a)).map(String::as_str).unwrap_or_default();
        let row = csv_row(s, status);
        if i > 0 && csv.len() + row.len() > MAX_EXPORT_BYTES {
            next = Some(app.store.export_cursor(kind, &slug, &signups[i - 1]));
            break;
        }
        csv.push_str(&row);
    }
    let mut response = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/csv; charset=utf-8")
        .header(header::CONTENT_DISPOSITION, format!("attachment; filename=\"{slug}-{}.csv\"", kind.as_str()))
        .header(header::CACHE_CONTROL, "no-store");
    if let Some(next) = &next {
        response = response
            .header(header::LINK, format!("<{}?cursor={next}&limit={}>; rel=\"next\"", req.uri().path(), page.limit))
            .header("x-next-cursor", next.as_str());
    }
    Ok(response.body(Body::Text(csv)).expect("valid response"))
}

/// One signup as a CSV row; `mail_status` says why mail no longer reaches the address
/// (empty when it does).
pub(crate) fn csv_row(s: &Signup, mail_status: &str) -> String {
    let d = &s.details;
    let cells = [
        d.name.as_str(),
        s.email.as_str(),
        d.country.as_deref().unwrap_or_default(),
        d.postcode.as_deref().unwrap_or_default(),
        d.comment.as_deref().unwrap_or_default(),
        &d.amount.map(|a| a.to_string()).unwrap_or_default(),
        if d.public { "true" } else { "false" },
        s.confirmed_at.as_str(),
        s.consent_version.as_str(),
        s.consented_at.as_str(),
        mail_status,
    ];
    let mut row = cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(",");
    row.push_str("\r\n");
    row
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

async fn signup_token(app: &App, req: &Request) -> Result<SignupToken, ApiError> {
    Ok(app.store.signup_token(&token(req)?, app.clock.now()).await?)
}

/// `GET /confirm/{token}`: the page that shows what the signup will say, to confirm
/// or change. Following the link confirms nothing, so mail scanners that open links
/// cannot sign anyone up.
pub async fn confirm_page(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    match signup_token(app, req).await {
        Ok(token) if token.confirmed => Ok(html_response(StatusCode::OK, done_page(kind_words(token.kind).confirmed))),
        Ok(token) => Ok(html_response(StatusCode::OK, confirm_page_html(&token, None))),
        // A person followed an old link from a mail: a page, not JSON.
        Err(ApiError::NotFound(_)) => Ok(html_response(
            StatusCode::NOT_FOUND,
            done_page(&format!(
                "This link is unknown or has expired. If you signed more than {} days ago without confirming, please sign again.",
                PENDING_SECS / 86_400
            )),
        )),
        Err(err) => Err(err),
    }
}

/// `POST /confirm/{token}`: confirms with the details in the body (the page's form, or
/// JSON), each left out one as the signup request asked, and public only if the body
/// says `public`. Answers `{status: "confirmed", campaign, kind}`; again is harmless.
/// A browser's form post gets a page back instead of JSON.
pub async fn confirm(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    let html = wants_html(req);
    let token = signup_token(app, req).await?;
    if token.confirmed {
        return Ok(confirmed_answer(&token, html));
    }
    let chosen =
        confirmation_fields(req).and_then(|fields| Ok(SignupDetails::confirmed(fields, token.kind, &token.requested)?));
    let details = match chosen {
        Ok(details) => details,
        Err(ApiError::Validation(fields)) if html => {
            let page = confirm_page_html(&token, Some(&ApiError::Validation(fields).body()["error"]["message"]));
            return Ok(html_response(StatusCode::UNPROCESSABLE_ENTITY, page));
        }
        Err(err) => return Err(err),
    };
    app.store.confirm_signup(&token, details, app.clock.now()).await?;
    Ok(confirmed_answer(&token, html))
}

fn confirmed_answer(token: &SignupToken, html: bool) -> Response<Body> {
    if html {
        return html_response(StatusCode::OK, done_page(kind_words(token.kind).confirmed));
    }
    json(StatusCode::OK, &json!({ "status": "confirmed", "campaign": token.slug, "kind": token.kind.as_str() }))
}

/// The body of a confirmation as fields: JSON, the page's form, or nothing at all.
fn confirmation_fields(req: &Request) -> Result<Map<String, Value>, ApiError> {
    let bytes: &[u8] = match req.body() {
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => b"",
    };
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if bytes.is_empty() {
        return Ok(Map::new());
    }
    if essence != "application/x-www-form-urlencoded" {
        return json_object(req, MAX_BODY);
    }
    if bytes.len() > MAX_BODY {
        return Err(ApiError::TooLarge { limit: MAX_BODY });
    }
    let mut fields = Map::new();
    for (name, value) in form_urlencoded::parse(bytes) {
        let value = match name.as_ref() {
            // A ticked checkbox is sent; an unticked one is not.
            "public" | "updates" => Value::Bool(matches!(value.as_ref(), "on" | "true")),
            "amount" if value.trim().is_empty() => Value::Null,
            "amount" => value.trim().parse::<u64>().map(Value::from).unwrap_or(Value::String(value.into_owned())),
            _ => Value::String(value.into_owned()),
        };
        fields.insert(name.into_owned(), value);
    }
    Ok(fields)
}

/// `DELETE /signups/{token}`: erases the signup and every trace of the person's
/// requests in the campaign, and lowers the count if it was counted.
pub async fn erase(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    let token = signup_token(app, req).await?;
    app.store.erase_signup(&token, app.clock.now()).await?;
    Ok(no_content())
}

struct KindWords {
    title: &'static str,
    button: &'static str,
    confirmed: &'static str,
    public: &'static str,
}

fn kind_words(kind: Kind) -> KindWords {
    match kind {
        Kind::Petition => KindWords {
            title: "Confirm your signature",
            button: "Confirm my signature",
            confirmed: "Thank you: your signature is confirmed and counted.",
            public: "Show my name, country and comment in the public list of signers",
        },
        Kind::Pledge => KindWords {
            title: "Confirm your pledge",
            button: "Confirm my pledge",
            confirmed: "Thank you: your pledge is confirmed and counted.",
            public: "Show my name and amount in the public list",
        },
    }
}

/// HTML-escapes text for an element or a quoted attribute.
fn done_page(message: &str) -> String {
    DONE_PAGE.replace("{message}", &escape(message))
}

/// The confirmation form, filled in with what the signup request asked for. Public is
/// never ticked in advance: whoever sent the request, only the person here decides.
pub(crate) fn confirm_page_html(token: &SignupToken, error: Option<&Value>) -> String {
    let words = kind_words(token.kind);
    let r = &token.requested;
    let input = |label: &str, name: &str, value: Option<&str>, kind: &str| {
        format!(
            "<p><label for=\"{name}\">{label}</label><br><input id=\"{name}\" name=\"{name}\" type=\"{kind}\" value=\"{}\"></p>",
            escape(value.unwrap_or_default())
        )
    };
    let mut fields = input("Name", "name", Some(&r.name), "text");
    match token.kind {
        Kind::Petition => {
            fields.push_str(&input("Country (optional)", "country", r.country.as_deref(), "text"));
            fields.push_str(&format!(
                "<p><label for=\"comment\">Why you sign (optional)</label><br><textarea id=\"comment\" name=\"comment\" rows=\"4\">{}</textarea></p>",
                escape(r.comment.as_deref().unwrap_or_default())
            ));
        }
        Kind::Pledge => {
            let amount = r.amount.map(|a| a.to_string());
            fields.push_str(&input("Amount (optional)", "amount", amount.as_deref(), "number"));
        }
    }
    let asked = if r.public { " The signup form asked for this; tick the box to confirm it." } else { "" };
    fields.push_str(&format!(
        "<p><input id=\"public\" name=\"public\" type=\"checkbox\"> <label for=\"public\">{}</label><br><small>Unticked, only the organiser sees your {}.{asked}</small></p>",
        words.public,
        if token.kind == Kind::Petition { "signature" } else { "pledge" },
    ));
    let asked = if r.updates { " The signup form asked for them; tick the box to confirm it." } else { "" };
    fields.push_str(&format!(
        "<p><input id=\"updates\" name=\"updates\" type=\"checkbox\"> <label for=\"updates\">Mail me the organiser's updates about this {}</label><br><small>Unticked, you are mailed only about this signup itself.{asked}</small></p>",
        token.kind.as_str(),
    ));
    let error = error
        .and_then(Value::as_str)
        .map(|message| format!("<p role=\"alert\"><strong>Please correct: {}</strong></p>", escape(message)))
        .unwrap_or_default();
    CONFIRM_PAGE
        .replace("{title}", words.title)
        .replace("{error}", &error)
        .replace("{fields}", &fields)
        .replace("{button}", words.button)
        .replace("{consent}", &escape(CONSENT_TEXT))
}

const CONFIRM_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}button{font:inherit;padding:.5rem 1rem;margin:.25rem 0}</style>
</head><body>
<h1>{title}</h1>
<p>This is what will be recorded. Change anything you like, then press the button. Until you do, nothing is counted or shown.</p>
{error}<form method="post">{fields}<button type="submit">{button}</button></form>
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
