//! One file per route: read the request, apply it to the store, answer.

mod admin;
mod counts;
mod create;
mod edit;
mod feed;
mod list;
mod mailbox;

pub use admin::{Action, erase_commenter, moderate, queue};
pub use counts::counts;
pub use create::create;
pub use edit::{delete, edit};
pub use feed::feed;
pub use list::list;
pub use mailbox::{confirm_notifications, notifications_page, unsubscribe, unsubscribe_page};

use app::comment::CommentId;
use app::http::path_param;
use app::post::{PostSummary, Slug};
use app::store::{Comment, HeldReason};
use app::{ApiError, App, markdown};
use lambda_http::Request;

fn slug(req: &Request) -> Result<Slug, ApiError> {
    app::http::slug_from_path(&path_param(req, "slug"), "post")
}

async fn post(app: &App, slug: &Slug) -> Result<PostSummary, ApiError> {
    app.store.get_post_summary(slug).await?.ok_or_else(|| ApiError::NotFound(format!("no post named '{slug}'")))
}

/// The comment named by the path, which must belong to `slug` when one is given.
async fn comment(app: &App, req: &Request, slug: Option<&Slug>) -> Result<Comment, ApiError> {
    let raw = path_param(req, "id");
    let missing = || ApiError::NotFound(format!("no comment '{raw}'"));
    let id = CommentId::parse(&raw).map_err(|_| missing())?;
    let comment = app.store.comment(&id).await?.ok_or_else(missing)?;
    match slug {
        Some(slug) if comment.post != slug.as_ref() => Err(missing()),
        _ => Ok(comment),
    }
}

/// Whether the blogger's policy holds a body for its links.
fn too_many_links(app: &App, body: &str) -> bool {
    app.config.moderation.max_links.is_some_and(|max| markdown::link_count(body) > max)
}

/// Whether the blogger's policy holds a new comment, and why: too many links, or a
/// first-time commenter (by address and commenter key) while first comments are held.
async fn held(
    app: &App,
    body: &str,
    email_hash: Option<&str>,
    key_hash: Option<&str>,
) -> Result<Option<HeldReason>, ApiError> {
    if too_many_links(app, body) {
        return Ok(Some(HeldReason::Links));
    }
    if !app.config.moderation.hold_first_time {
        return Ok(None);
    }
    let known = match (email_hash, key_hash) {
        (Some(email_hash), Some(key_hash)) => app.store.known_commenter(email_hash, key_hash).await?,
        _ => false,
    };
    Ok((!known).then_some(HeldReason::FirstTime))
}
