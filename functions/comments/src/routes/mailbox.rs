//! The links in mail that act on an address: confirming reply notifications
//! (`/notifications/{token}`) and stopping all mail (`/unsubscribe/{token}`). A GET
//! shows a page with a button and changes nothing, since mail scanners follow links;
//! the POST acts, and is what RFC 8058's one-click unsubscribe sends
//! (`List-Unsubscribe=One-Click`). Both are idempotent; a token this deployment did not
//! make for that purpose is a 404.

use app::http::json;
use app::pages::{html_response, message_page, question_page, wants_html};
use app::store::mailbox::LinkPurpose;
use app::{ApiError, App};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

fn address(app: &App, req: &Request, purpose: LinkPurpose) -> Result<String, ApiError> {
    let token = app::http::path_param(req, "token");
    app.store.mailbox_from_token(&token, purpose).ok_or_else(|| ApiError::NotFound("this link is unknown".into()))
}

/// The page a link opens: the question and its button, or "unknown" for a token this
/// deployment did not make for `purpose`. It changes nothing.
fn ask(app: &App, req: &Request, purpose: LinkPurpose, title: &str, text: &str, button: &str) -> Response<Body> {
    match address(app, req, purpose) {
        Ok(_) => html_response(StatusCode::OK, question_page(title, text, button)),
        Err(_) => html_response(StatusCode::NOT_FOUND, message_page("Unknown link", "This link is unknown.")),
    }
}

/// What the button's POST answers: the page for a browser, `{"status"}` for a client.
fn done(req: &Request, title: &str, message: &str, status: &str) -> Response<Body> {
    match wants_html(req) {
        true => html_response(StatusCode::OK, message_page(title, message)),
        false => json(StatusCode::OK, &json!({ "status": status })),
    }
}

/// `GET /notifications/{token}`: asks whether to mail replies to this address.
pub async fn notifications_page(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    Ok(ask(
        app,
        req,
        LinkPurpose::ConfirmReplies,
        "Replies by mail",
        "Someone asked, with this address, to be mailed when their comments get replies. If that was you, press the \
         button. Each mail has a link that stops them.",
        "Yes, mail me replies",
    ))
}

/// `POST /notifications/{token}`: the address's holder confirms reply notifications.
pub async fn confirm_notifications(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    let address = address(app, req, LinkPurpose::ConfirmReplies)?;
    let confirmed = app.store.confirm_mailbox(&address, app.clock.now()).await?;
    Ok(match confirmed {
        true => done(req, "Replies by mail", "Done: replies to your comments will be mailed to you.", "confirmed"),
        // Forgotten, or suppressed at the holder's word: a confirmation undoes neither.
        false => done(
            req,
            "Replies by mail",
            "Nothing to confirm: this address asked for nothing, or stopped all mail.",
            "not_confirmed",
        ),
    })
}

/// `GET /unsubscribe/{token}`: asks whether to stop all mail to this address.
pub async fn unsubscribe_page(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    Ok(ask(
        app,
        req,
        LinkPurpose::Unsubscribe,
        "Stop mail",
        "Press the button and this blog will never mail this address again.",
        "Stop all mail",
    ))
}

/// `POST /unsubscribe/{token}`: never mail this address again (one click, idempotent).
pub async fn unsubscribe(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    let address = address(app, req, LinkPurpose::Unsubscribe)?;
    app.store.suppress(&address, "unsubscribed", app.clock.now()).await?;
    Ok(done(req, "Stop mail", "Done: this address will not be mailed again.", "unsubscribed"))
}
