//! `GET /posts/{slug}/comments.atom`: the newest comments of a post as an Atom feed.

use app::http::Page;
use app::store::ThreadSort;
use app::{ApiError, App, time};
use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Request, Response};

const ENTRIES: usize = 50;

pub async fn feed(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    let slug = super::slug(req)?;
    let post = super::post(app, &slug).await?;
    let page = Page { limit: Page::MAX_LIMIT, cursor: None };
    let (mut comments, _) = app.store.thread(&slug, &page, ThreadSort::Newest, false).await?;
    comments.retain(|c| !c.deleted);
    comments.sort_by(|a, b| b.created_at.cmp(&a.created_at));
    comments.truncate(ENTRIES);
    let updated = comments.first().map(|c| c.created_at.clone()).unwrap_or_else(|| time::format(post.published_at));
    let mut xml =
        String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    xml.push_str(&format!(
        "<id>urn:rally:post:{slug}:comments</id>\n<title>Comments on {}</title>\n<updated>{updated}</updated>\n",
        escape(&post.title)
    ));
    for comment in &comments {
        xml.push_str(&format!(
            "<entry>\n<id>urn:rally:comment:{}</id>\n<title>{} on {}</title>\n<author><name>{}</name></author>\n<published>{}</published>\n<updated>{}</updated>\n<content type=\"html\">{}</content>\n</entry>\n",
            comment.id,
            escape(&comment.author),
            escape(&post.title),
            escape(&comment.author),
            comment.created_at,
            comment.edited_at.as_deref().unwrap_or(&comment.created_at),
            escape(&comment.body_html),
        ));
    }
    xml.push_str("</feed>\n");
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")
        .header(header::CACHE_CONTROL, "public, max-age=60")
        .body(Body::Text(xml))
        .expect("valid response"))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
