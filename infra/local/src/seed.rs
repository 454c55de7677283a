//! The demo that `make dev` seeds: a 2012 news post about refugees
//! sent back across the border, a recent post on the same subject, and posts on other
//! subjects so that "related posts" has something to choose between.

use app::post::{PostFields, Slug, Tag};
use app::store::{Check, StoreError};
use app::{App, time};

const RECENT: &str = "families-still-held-at-the-border";
const PETITION: &str = "stop-the-repatriations";
const PLEDGE: &str = "three-dollars-for-the-fund";
/// A pledge two more signups away from its threshold, so a demo can see one succeed.
pub const SMALL_PLEDGE: &str = "ten-dollars-for-the-lawyers";

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
pub async fn seed(app: &App) -> Result<usize, StoreError> {
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
            tags: demo.tags.iter().map(|t| Tag::parse(t).expect("demo tags are valid")).collect(),
            published_at: Some(published_at),
            comments_close_after_days: Some(app::post::DEFAULT_COMMENT_WINDOW_DAYS),
            petition: (demo.slug == RECENT).then(|| Slug::parse(PETITION).expect("valid")),
            pledge: (demo.slug == RECENT).then(|| Slug::parse(PLEDGE).expect("valid")),
        };
        let slug = Slug::parse(demo.slug).expect("demo slugs are valid");
        match app.store.create_post(slug, fields, now).await {
            Ok(_) => created += 1,
            Err(StoreError::Conflict(Check::SlugFree)) => {}
            Err(err) => return Err(err),
        }
    }
    seed_comments(app).await?;
    seed_campaigns(app).await?;
    Ok(created)
}

/// A demo thread: `(author, body, reply_to)` where `reply_to` is the
/// number of the top-level comment answered; the blog's author replies as the author.
type DemoComment = (&'static str, &'static str, Option<u64>);

const OLD_THREAD: &[DemoComment] = &[
    ("Grace", "This is heartbreaking. Is there anything people outside Korea can do?", None),
    (
        "Tomás",
        "There is a signature petition going around asking China to stop the returns. I signed it this morning.",
        None,
    ),
    (
        "Hyejin",
        "Someone worked it out: paying $16,000 for each of the 31 would have cost $496,000. \
If every person who signed gave $3, that would have covered it.",
        None,
    ),
    (
        "Daniel",
        "Min-jun, do you know whether the NGOs publish the names they track? I'd like to follow the cases.",
        None,
    ),
    ("Aiko", "Thank you for writing about this when the big papers barely did.", None),
    (
        "Min-jun",
        "Daniel, some of them do, with the families' consent. I'll link the lists in a follow-up post.",
        Some(4),
    ),
];

const RECENT_THREAD: &[DemoComment] = &[
    ("Grace", "Good to see this followed up. Is the petition still open?", None),
    ("Min-jun", "It is. The form is just below the post.", Some(1)),
    ("Leo", "Pledged. Hope we reach the threshold before the deadline.", None),
];

/// Comments waiting in the console's moderation queue, and one in the spam folder:
/// `(author, body, status, why it was held)`.
pub const HELD: &[(&str, &str, &str, &str)] = &[
    (
        "Sun-hee",
        "My cousin was returned in 2019. Is there a way to ask the NGOs whether she is on their list?",
        "pending",
        "first_time",
    ),
    (
        "Campaign links",
        "More on this: [one](https://a.example/1), [two](https://b.example/2) and [three](https://c.example/3).",
        "pending",
        "links",
    ),
    (
        "Cheap flights",
        "Best prices on [flights](https://spam.example/f) and [hotels](https://spam.example/h) and [more](https://spam.example/m)!",
        "spam",
        "links",
    ),
];

/// Seeds the demo threads (only onto posts that have none yet).
pub async fn seed_comments(app: &App) -> Result<usize, StoreError> {
    use app::comment::CommentId;
    use app::store::{CommentStatus, NewCommentContext};
    let mut written = 0;
    let page = app::http::Page { limit: 1, cursor: None };
    for (slug, thread, start) in [
        ("china-returns-31-refugees", OLD_THREAD, time::parse("2012-03-08T11:00:00Z").expect("valid")),
        ("families-still-held-at-the-border", RECENT_THREAD, time::now() - ::time::Duration::days(2)),
    ] {
        let slug = Slug::parse(slug).expect("demo slugs are valid");
        if !app.store.thread(&slug, &page, app::store::ThreadSort::Oldest, false).await?.0.is_empty() {
            continue;
        }
        let mut ids: Vec<CommentId> = Vec::new();
        for (i, (author, body, reply_to)) in thread.iter().enumerate() {
            let id = CommentId::new();
            let is_post_author = *author == "Min-jun";
            app.store
                .add_comment(
                    &slug,
                    NewCommentContext {
                        id: id.clone(),
                        author: (*author).to_owned(),
                        website: None,
                        body: (*body).to_owned(),
                        body_html: app::markdown::render(body),
                        parent_id: reply_to.map(|n| ids[n as usize - 1].clone()),
                        is_post_author,
                        status: CommentStatus::Approved,
                        held_reason: None,
                        email_hash: None,
                        commenter_key_hash: None,
                        edit_token_hash: app::config::sha256_hex(app::auth::random_token().as_bytes()),
                        notify: None,
                        limits: None,
                        now: start + ::time::Duration::minutes(37 * i as i64),
                    },
                )
                .await?;
            if reply_to.is_none() {
                ids.push(id);
            }
            written += 1;
        }
        if slug.as_ref() == RECENT {
            written += seed_held(app, &slug).await?;
        }
    }
    Ok(written)
}

/// The held comments of [`HELD`], posted as strangers post them and held for the reason
/// given; the spam one is then marked spam as a moderator would.
async fn seed_held(app: &App, slug: &Slug) -> Result<usize, StoreError> {
    use app::comment::CommentId;
    use app::store::{CommentStatus, HeldReason, NewCommentContext};
    for (i, (author, body, status, reason)) in HELD.iter().enumerate() {
        let now = time::now() - ::time::Duration::hours(5 - i as i64);
        let id = CommentId::new();
        let held_reason = match *reason {
            "links" => HeldReason::Links,
            _ => HeldReason::FirstTime,
        };
        let context = NewCommentContext {
            id: id.clone(),
            author: (*author).to_owned(),
            website: None,
            body: (*body).to_owned(),
            body_html: app::markdown::render(body),
            parent_id: None,
            is_post_author: false,
            status: CommentStatus::Pending,
            held_reason: Some(held_reason),
            email_hash: None,
            commenter_key_hash: None,
            edit_token_hash: app::config::sha256_hex(app::auth::random_token().as_bytes()),
            notify: None,
            limits: None,
            now,
        };
        let comment = app.store.add_comment(slug, context).await?;
        if *status == "spam" {
            app.store.moderate(&comment, CommentStatus::Spam, now).await?;
        }
    }
    Ok(HELD.len())
}

const SIGNERS: &[(&str, &str, Option<&str>, bool)] = &[
    ("Grace Park", "grace@example.org", Some("United Kingdom"), true),
    ("Tomás Ruiz", "tomas@example.org", Some("Spain"), true),
    ("Hyejin Lee", "hyejin@example.org", Some("South Korea"), true),
    ("A private signer", "private@example.org", None, false),
];

/// How many days before today each of [`SIGNERS`] confirmed, so the console's chart
/// has days to draw: with four signers, one a day on days 6, 3 and 3, and today.
pub const SIGNED_DAYS_AGO: [i64; 4] = [6, 3, 3, 0];

/// The petition to the ministry and the "$3 if 1,000 others will" pledge, with a few
/// confirmed signers; skipped when they exist.
pub async fn seed_campaigns(app: &App) -> Result<(), StoreError> {
    use app::campaign::{Kind, SignupDetails};
    use app::comment::Email;
    use app::store::Campaign;
    use app::store::campaigns::Terms;
    let now = time::now();
    // A week old, so the signups of the last week fall inside it.
    let created = now - ::time::Duration::days(7);
    let petition_slug = Slug::parse(PETITION).expect("valid");
    let recent = Slug::parse(RECENT).expect("valid");
    let petition = Campaign::new(
        &petition_slug,
        "Do not send the refugees back".into(),
        "About 300 North Koreans are held in Chinese detention and face being returned. We ask the ministry to \
raise their cases with China and to offer them safe passage."
            .into(),
        Some(&recent),
        Terms::Petition {
            target: "The Ministry of Foreign Affairs".into(),
            goal: 10_000,
            closes_at: Some(time::format(now + ::time::Duration::days(90))),
            organiser_email: Some("organiser@blog.example".into()),
            milestones: vec![10, 100, 1_000],
        },
        created,
    );
    let pledge_slug = Slug::parse(PLEDGE).expect("valid");
    let pledge = Campaign::new(
        &pledge_slug,
        "I will give $3 to the refugee fund if 1,000 others will".into(),
        "Paying for safe passage costs about $16,000 a person. If a thousand of us give $3 each, we cover most of \
one family's way out."
            .into(),
        Some(&recent),
        Terms::Pledge {
            threshold: 1_000,
            deadline: time::format(now + ::time::Duration::days(60)),
            currency: "USD".into(),
            suggested_amount: Some(3),
            petition: Some(PETITION.into()),
            fulfilment_text: Some(
                "Give your $3 to the refugee fund through its donation page, and write PLEDGE in the note so the \
                 organiser can count it."
                    .into(),
            ),
            fulfilment_url: Some("https://fund.example/give".into()),
        },
        created,
    );
    let small_slug = Slug::parse(SMALL_PLEDGE).expect("valid");
    let small = Campaign::new(
        &small_slug,
        "I will give $10 to the lawyers' fund if 5 others will".into(),
        "The lawyers who visit the detained need their travel paid. Six of us at $10 pay for one visit.".into(),
        Some(&recent),
        Terms::Pledge {
            threshold: SIGNERS.len() as u64 + 2,
            deadline: time::format(now + ::time::Duration::days(30)),
            currency: "USD".into(),
            suggested_amount: Some(10),
            petition: None,
            fulfilment_text: Some("Pay the lawyers' fund by bank transfer; the page below has the account.".into()),
            fulfilment_url: Some("https://lawyers-fund.example/transfer".into()),
        },
        created,
    );
    let campaigns = [
        (&petition, Kind::Petition, &petition_slug),
        (&pledge, Kind::Pledge, &pledge_slug),
        (&small, Kind::Pledge, &small_slug),
    ];
    for (campaign, kind, slug) in campaigns {
        match app.store.create_campaign(campaign).await {
            Ok(()) => {}
            Err(StoreError::Conflict(Check::SlugFree)) => continue,
            Err(err) => return Err(err),
        }
        for ((name, email, country, public), days_ago) in SIGNERS.iter().zip(SIGNED_DAYS_AGO) {
            let email = Email::parse(email).expect("valid");
            let details = SignupDetails {
                name: (*name).into(),
                country: country.map(Into::into),
                postcode: None,
                comment: None,
                amount: match kind {
                    Kind::Pledge => match &campaign.terms {
                        Terms::Pledge { suggested_amount, .. } => *suggested_amount,
                        Terms::Petition { .. } => None,
                    },
                    Kind::Petition => None,
                },
                public: *public,
                // The public signers also take the organiser's updates.
                updates: *public,
            };
            let at = if days_ago == 0 { now } else { now - ::time::Duration::days(days_ago) };
            confirmed_signup(app, kind, slug, &email, details, at).await?;
        }
    }
    Ok(())
}

/// A signup made as a reader makes one, a request and then the confirmation with what
/// it asked for, without its mail: for demo data and benchmarks.
pub async fn confirmed_signup(
    app: &App,
    kind: app::campaign::Kind,
    slug: &Slug,
    email: &app::comment::Email,
    details: app::campaign::SignupDetails,
    now: app::time::Timestamp,
) -> Result<(), StoreError> {
    use app::campaign::{address_key, signer_key};
    use app::store::{MailCaps, SignupRequest};
    let salt = &app.config.ip_hash_salt;
    let token_hash = app::config::sha256_hex(app::auth::random_token().as_bytes());
    let request = SignupRequest {
        kind,
        slug,
        signer: &signer_key(email, salt, kind, slug),
        address: &address_key(email, salt),
        email: email.as_ref(),
        requested: &details,
        token_hash: &token_hash,
        mail: None,
        caps: MailCaps { per_address: u32::MAX, per_day: u32::MAX },
        now,
    };
    app.store.request_signup(request).await?;
    let token = app.store.signup_token(&token_hash, now).await?;
    app.store.confirm_signup(&token, details, now).await
}
