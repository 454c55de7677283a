//! One file per route: read the request, apply it to the store, answer.

mod create;
mod delete;
mod get;
mod list;
mod preview;
mod related;
mod update;

pub use create::create;
pub use delete::delete;
pub use get::get;
pub use list::list;
pub use preview::preview;
pub use related::related;
pub use update::update;

use app::ApiError;
use app::http::path_param;
use app::post::Slug;
use lambda_http::Request;

fn slug(req: &Request) -> Result<Slug, ApiError> {
    app::http::slug_from_path(&path_param(req, "slug"), "post")
}
