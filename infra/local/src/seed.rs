//! The demo that `make dev` seeds (see the scenario): a 2012 news post about refugees
//! sent back across the border, a recent post on the same subject, and posts on other
//! subjects so that "related posts" has something to choose between.

use shared::post::{PostFields, Slug, Tag};
use shared::{ApiError, App, time};

struct DemoPost {
    slug: &'static str,
    title: &'static str,
    /// `None`: a few days before now, so its comment window is open.
    published_at: Option<&'static str>,
    tags: &'static [&'static str],
    body: &'static str,
}

const POSTS: &[DemoPost] = &[
    DemoPost {
        slug: "china-returns-31-refugees",
        title: "China sends 31 North Korean refugees back across the border",
        published_at: Some("2012-03-08T09:00:00Z"),
        tags: &["north-korea", "refugees", "china", "human-rights"],
        body: "Several readers asked what happened to the group of North Koreans arrested in China last month. \
The news this week is bad: according to aid groups working along the border, 31 of them were handed back to \
North Korean guards.\n\nAbout 300 more are reported to be held in a detention centre on the Chinese side, among \
them a young mother with a baby born in custody. Those returned face labour camps at best.\n\nNGOs in Seoul are \
collecting the names of everyone sent back so that their fate can be followed. If you want to help, the simplest \
thing is to make noise: write to your representatives and sign the petitions that are circulating.",
    },
    DemoPost {
        slug: "families-still-held-at-the-border",
        title: "The families still held at the border",
        published_at: None,
        tags: &["north-korea", "refugees", "china"],
        body: "Years after the arrests I wrote about in 2012, families are still being detained in China and \
returned. This post collects what we know about the people held now, and what readers can do.\n\nThe petition \
below asks the ministry to raise their cases directly, and the pledge lets you promise a small sum to the \
refugee fund once enough others promise too.",
    },
    DemoPost {
        slug: "what-happens-to-returned-defectors",
        title: "What happens to defectors who are sent back?",
        published_at: Some("2013-06-02T10:30:00Z"),
        tags: &["north-korea", "refugees"],
        body: "A reader asked what actually happens to people returned to North Korea. The short answer: \
interrogation, and then a sentence that depends on whether they met South Koreans or missionaries while away.",
    },
    DemoPost {
        slug: "chuseok-for-beginners",
        title: "Chuseok for beginners",
        published_at: Some("2012-09-28T08:00:00Z"),
        tags: &["culture", "holidays"],
        body: "Chuseok is the harvest holiday: families travel home, honour their ancestors and eat far too many \
songpyeon. Here is what to expect if you are invited.",
    },
];

/// Seeds the demo posts; posts that already exist are left as they are, so seeding twice
/// is harmless.
pub async fn seed(app: &App) -> Result<usize, ApiError> {
    let now = time::now();
    let mut created = 0;
    for demo in POSTS {
        let published_at = match demo.published_at {
            Some(raw) => time::parse(raw).expect("demo dates are valid"),
            None => now - ::time::Duration::days(3),
        };
        let fields = PostFields {
            title: demo.title.to_owned(),
            body: demo.body.to_owned(),
            author: "Min-jun".to_owned(),
            tags: demo
                .tags
                .iter()
                .map(|t| Tag::parse(t).expect("demo tags are valid"))
                .collect(),
            published_at: Some(published_at),
            comments_close_after_days: Some(shared::post::DEFAULT_COMMENT_WINDOW_DAYS),
            petition: None,
            pledge: None,
        };
        let slug = Slug::parse(demo.slug).expect("demo slugs are valid");
        match app.store.create_post(slug, fields, now).await {
            Ok(_) => created += 1,
            Err(ApiError::Conflict(_)) => {}
            Err(err) => return Err(err),
        }
    }
    Ok(created)
}
