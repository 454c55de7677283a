//! One file per route: read the request, apply it to the store, answer.

mod admin;
mod counts;
mod create;
mod edit;
mod feed;
mod list;

pub use admin::{Action, moderate, queue};
pub use counts::counts;
pub use create::create;
pub use edit::{delete, edit};
pub use feed::feed;
pub use list::list;

use lambda_http::Request;
use shared::comment::CommentId;
use shared::http::path_param;
use shared::post::{Post, Slug};
use shared::store::Comment;
use shared::{ApiError, App};

fn slug(req: &Request) -> Result<Slug, ApiError> {
    Slug::from_path(&path_param(req, "slug"), "post")
}

async fn post(app: &App, slug: &Slug) -> Result<Post, ApiError> {
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
