//! `rally stats`: what the table holds, per post and per campaign, read straight from it
//! (the posts' counters, the moderation index, the campaigns' shard counters).

use app::campaign::Kind;
use app::http::Page;
use app::store::{Store, StoreError};
use serde_json::{Value, json};

pub async fn run(store: &Store, as_json: bool) -> Result<(), String> {
    let report = gather(store).await.map_err(|e| format!("reading the table: {e}"))?;
    if as_json {
        println!("{}", serde_json::to_string_pretty(&report).expect("JSON values serialise"));
        return Ok(());
    }
    let rows = |key: &str| report[key].as_array().cloned().unwrap_or_default();
    println!("{:<48} {:>9} {:>6} {:>6}", "post", "comments", "held", "spam");
    for post in rows("posts") {
        println!(
            "{:<48} {:>9} {:>6} {:>6}",
            post["slug"].as_str().unwrap_or(""),
            post["comments"],
            post["held"],
            post["spam"]
        );
    }
    println!("\n{:<48} {:>9} {:>9} {:>6}", "petition", "signed", "goal", "open");
    for c in rows("petitions") {
        println!("{:<48} {:>9} {:>9} {:>6}", c["slug"].as_str().unwrap_or(""), c["signatures"], c["goal"], c["open"]);
    }
    println!("\n{:<48} {:>9} {:>9} {:>9}", "pledge", "signed", "threshold", "pledged");
    for c in rows("pledges") {
        println!(
            "{:<48} {:>9} {:>9} {:>9}",
            c["slug"].as_str().unwrap_or(""),
            c["signups"],
            c["threshold"],
            c["amount"]
        );
    }
    Ok(())
}

/// The figures `rally stats` prints, as JSON.
pub async fn gather(store: &Store) -> Result<Value, StoreError> {
    let held = store.held_counts().await?;
    let mut posts = Vec::new();
    let mut page = Page { limit: Page::MAX_LIMIT, cursor: None };
    loop {
        let (summaries, next) = store.list_posts(&page, None).await?;
        for post in summaries {
            let (pending, spam) = held.get(post.slug.as_ref()).copied().unwrap_or_default();
            posts.push(json!({
                "slug": post.slug.as_ref(), "comments": post.comment_count, "held": pending, "spam": spam,
            }));
        }
        match next {
            Some(cursor) => page.cursor = Some(cursor),
            None => break,
        }
    }
    let now = app::time::now();
    let mut kinds = Vec::new();
    for kind in [Kind::Petition, Kind::Pledge] {
        let mut rows = Vec::new();
        let mut page = Page { limit: Page::MAX_LIMIT, cursor: None };
        loop {
            let (campaigns, next) = store.campaigns(kind, &page).await?;
            for (campaign, tally) in campaigns {
                let row = match &campaign.terms {
                    app::store::campaigns::Terms::Petition { goal, .. } => json!({
                        "slug": campaign.slug, "signatures": tally.count, "goal": goal, "open": campaign.open_at(now),
                    }),
                    app::store::campaigns::Terms::Pledge { threshold, .. } => json!({
                        "slug": campaign.slug, "signups": tally.count, "amount": tally.amount, "threshold": threshold,
                        "open": campaign.open_at(now),
                    }),
                };
                rows.push(row);
            }
            match next {
                Some(cursor) => page.cursor = Some(cursor),
                None => break,
            }
        }
        kinds.push(rows);
    }
    let pledges = kinds.pop().unwrap_or_default();
    let petitions = kinds.pop().unwrap_or_default();
    Ok(json!({ "posts": posts, "petitions": petitions, "pledges": pledges }))
}
