//! Every key of the one table, spelt in one place. A key cannot change once items have
//! been written under it, so each format is pinned by a test below, and a test checks
//! that the table at the top of `store/src/lib.rs` names every one of them.

use domain::campaign::Kind;
use domain::post::{Slug, Tag};

/// Attribute names of the table's keys, its index and its TTL.
pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1PK: &str = "GSI1PK";
pub const GSI1SK: &str = "GSI1SK";
pub const EXPIRES_AT: &str = "expires_at";

/// The sort key of an item that is alone in its partition, or its partition's head.
pub const META: &str = "#META";

/// A post's partition: its `#META`, `#BODY`, `#TAG#…`, `#SEQ` and its comments.
pub fn post(slug: &Slug) -> String {
    format!("POST#{slug}")
}

/// A post's partition named by a slug read from a stored item.
pub fn post_named(slug: &str) -> String {
    format!("POST#{slug}")
}

pub const POST_BODY: &str = "#BODY";
pub const POST_SEQUENCE: &str = "#SEQ";
const POST_TAG: &str = "#TAG#";

pub fn post_tag(tag: &Tag) -> String {
    format!("{POST_TAG}{}", tag.as_ref())
}

/// `GSI1` partitions: every post, and each tag's posts.
pub const ALL_POSTS: &str = "POSTS";

pub fn tag_posts(tag: &Tag) -> String {
    format!("TAG#{}", tag.as_ref())
}

/// A post's order in `GSI1`: newest first, the slug breaking ties within a second.
pub fn by_date(published_at: &str, slug: &Slug) -> String {
    format!("{published_at}#{slug}")
}

/// Sort-key prefixes of the comments the thread shows, and of held and spam ones.
pub const PUBLIC_COMMENT: &str = "C#";
pub const HIDDEN_COMMENT: &str = "X#";

/// Whether a sort key in a post's partition is a comment's.
pub fn is_comment(sk: &str) -> bool {
    sk.starts_with(PUBLIC_COMMENT) || sk.starts_with(HIDDEN_COMMENT)
}

/// The `GSI1` partitions of the moderation queue and of the spam folder.
pub const PENDING: &str = "PENDING";
pub const SPAM: &str = "SPAM";

/// A comment's id pointer.
pub fn comment_pointer(id: &str) -> String {
    format!("COMMENT#{id}")
}

/// Commenters approved before, by address hash.
pub fn commenter(email_hash: &str) -> String {
    format!("COMMENTER#{email_hash}")
}

/// A petition's or pledge's item.
pub fn campaign(kind: Kind, slug: &Slug) -> String {
    format!("{}#{slug}", kind.key_prefix())
}

/// One of a campaign's signup shards: its signups, counter, token references and mail
/// gates.
pub fn shard(kind: Kind, slug: &Slug, shard: u32) -> String {
    format!("{}#{slug}#S{shard}", kind.key_prefix())
}

pub const COUNTER: &str = "#COUNT";

/// A shard's confirmed signups (and amounts) on one UTC day, `YYYY-MM-DD`: the
/// organiser's chart, exact as the counter is.
pub fn signup_day(date: &str) -> String {
    format!("{DAY_PREFIX}{date}")
}

pub const DAY_PREFIX: &str = "DAY#";

/// The marker of a comment brought over by `rally import`, by its source key
/// (`{format}#{id in the source}`).
pub fn imported(source: &str) -> String {
    format!("{IMPORTED_PREFIX}{source}")
}

pub const IMPORTED_PREFIX: &str = "IMPORT#";

/// The attribute `rally restore` puts on every item it writes: history, not news.
pub const RESTORED: &str = "restored";

/// The partition that lists every campaign for the organiser, newest first within a kind.
pub const CAMPAIGNS: &str = "CAMPAIGNS";

pub fn campaign_entry(kind: Kind, created_at: &str, slug: &str) -> String {
    format!("{}#{created_at}#{slug}", kind.key_prefix())
}

pub fn signup(signer: &str) -> String {
    format!("SIGNUP#{signer}")
}

/// Every signup's sort key starts so.
pub const SIGNUP_PREFIX: &str = "SIGNUP#";

/// The `GSI1` partition of a campaign's public signers, and a signer's place in it.
pub fn signers(kind: Kind, slug: &Slug) -> String {
    format!("SIGNERS#{}#{slug}", kind.key_prefix())
}

pub fn signer_order(confirmed_at: &str, signup_sk: &str) -> String {
    format!("{confirmed_at}#{signup_sk}")
}

pub fn token(token_hash: &str) -> String {
    format!("TOKEN#{token_hash}")
}

/// A token's reference in its signer's shard, and the prefix of all of a signer's.
pub fn token_ref(signer: &str, token_hash: &str) -> String {
    format!("{}{token_hash}", token_refs(signer))
}

pub fn token_refs(signer: &str) -> String {
    format!("TOKEN#{signer}#")
}

/// When an address was last mailed about a campaign, in the signer's shard.
pub fn mailed(signer: &str) -> String {
    format!("MAILED#{signer}")
}

/// Mails to one address on one day (days since the epoch).
pub fn mail_to(address: &str, day: i64) -> String {
    format!("MAILTO#{address}#{day}")
}

/// Mails from the deployment on one day, in one of its shards.
pub fn mail_day(day: i64, shard: u32) -> String {
    format!("MAILDAY#{day}#S{shard}")
}

/// The `GSI1` partition of pledges not yet settled, and a pledge's place in it (by
/// deadline, so the schedule finds those whose deadline has passed).
pub const UNSETTLED_PLEDGES: &str = "PLEDGES#UNSETTLED";

pub fn by_deadline(deadline: &str, slug: &str) -> String {
    format!("{deadline}#{slug}")
}

/// The cause of one signer's mail about a pledge's outcome.
pub fn outcome_cause(outcome: &str, slug: &str, signer: &str) -> String {
    format!("pledge-{outcome}#{slug}#{signer}")
}

/// An address's standing with Rally (reply notifications, suppression), by address key.
pub fn mailbox(address: &str) -> String {
    format!("MAILBOX#{address}")
}

pub const MAILBOX_PREFIX: &str = "MAILBOX#";

/// The causes of an address's opt-in mail, of a reply's notification, and of a held
/// comment's notice to the moderator.
pub fn optin_cause(address: &str) -> String {
    format!("optin#{address}")
}

pub fn reply_cause(reply_id: &str) -> String {
    format!("reply#{reply_id}")
}

pub fn held_cause(comment_id: &str) -> String {
    format!("held#{comment_id}")
}

/// An organiser's update, and the cause of its mail to one signer.
pub fn update(id: &str) -> String {
    format!("UPDATE#{id}")
}

pub fn update_cause(id: &str, signer: &str) -> String {
    format!("update#{id}#{signer}")
}

/// A second's sending, for the deployment's mail rate.
pub fn send_second(second: i64) -> String {
    format!("SENDRATE#{second}")
}

/// The cause of a webhook call: its event, and what it is about.
pub fn hook_cause(event: &str, about: &str) -> String {
    format!("hook#{event}#{about}")
}

/// The cause of a petition's organiser's mail when the count reaches `count`.
pub fn milestone_cause(slug: &str, count: u64) -> String {
    format!("milestone#{slug}#{count}")
}

/// A fan-out job: one mail to each confirmed signer of a campaign, a page at a time.
pub fn job(name: &str) -> String {
    format!("JOB#{name}")
}

pub const JOB_PREFIX: &str = "JOB#";

/// A mail waiting for the events function, by its cause.
pub fn outbox(cause: &str) -> String {
    format!("OUTBOX#{cause}")
}

/// Every outbox item's partition key starts so (the stream's filter matches on it).
pub const OUTBOX_PREFIX: &str = "OUTBOX#";

/// A `GSI1` partition of the outbox, and an item's place in it (oldest first).
pub fn outbox_queue(shard: u32) -> String {
    format!("OUTBOXQ#S{shard}")
}

pub fn queued(queued_at: &str, cause: &str) -> String {
    format!("{queued_at}#{cause}")
}

/// The claim of a mail's cause: whether it is being sent, was sent or was refused.
pub fn sent(cause: &str) -> String {
    format!("SENT#{cause}")
}

/// The cause of a signup request's confirmation mail, by its token's hash.
pub fn confirmation_cause(token_hash: &str) -> String {
    format!("confirm#{token_hash}")
}

/// A client's writes in one minute (minutes since the epoch).
pub fn rate(client: &str, minute: i64) -> String {
    format!("RATE#{client}#{minute}")
}

/// A commenter's writes: this minute's window and their last comment body, in one item
/// (see `Store::writer_item`).
pub fn writer(client: &str) -> String {
    format!("WRITER#{client}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slug(s: &str) -> Slug {
        Slug::parse(s).unwrap()
    }

    /// Stored items live under these keys: changing one strands every item already
    /// written, so a change here must be a migration, never an accident.
    #[test]
    fn every_key_format_is_pinned() {
        let tag = Tag::parse("북한").unwrap();
        let pinned = [
            (post(&slug("a-post")), "POST#a-post"),
            (post_named("a-post"), "POST#a-post"),
            (post_tag(&tag), "#TAG#북한"),
            (tag_posts(&tag), "TAG#북한"),
            (by_date("2026-11-29T10:00:00Z", &slug("a")), "2026-11-29T10:00:00Z#a"),
            (comment_pointer("01J"), "COMMENT#01J"),
            (commenter("ab"), "COMMENTER#ab"),
            (campaign(Kind::Petition, &slug("p")), "PETITION#p"),
            (campaign(Kind::Pledge, &slug("p")), "PLEDGE#p"),
            (shard(Kind::Petition, &slug("p"), 15), "PETITION#p#S15"),
            (signup("ab"), "SIGNUP#ab"),
            (signup_day("2026-12-01"), "DAY#2026-12-01"),
            (imported("disqus#123"), "IMPORT#disqus#123"),
            (campaign_entry(Kind::Pledge, "2026-12-01T10:00:00Z", "p"), "PLEDGE#2026-12-01T10:00:00Z#p"),
            (signers(Kind::Pledge, &slug("p")), "SIGNERS#PLEDGE#p"),
            (signer_order("2026-11-29T10:00:00Z", "SIGNUP#ab"), "2026-11-29T10:00:00Z#SIGNUP#ab"),
            (token("cd"), "TOKEN#cd"),
            (token_ref("ab", "cd"), "TOKEN#ab#cd"),
            (token_refs("ab"), "TOKEN#ab#"),
            (mailed("ab"), "MAILED#ab"),
            (mail_to("ef", 20_000), "MAILTO#ef#20000"),
            (mail_day(20_000, 3), "MAILDAY#20000#S3"),
            (rate("ip", 29_000_000), "RATE#ip#29000000"),
            (writer("ip"), "WRITER#ip"),
            (outbox("confirm#cd"), "OUTBOX#confirm#cd"),
            (sent("confirm#cd"), "SENT#confirm#cd"),
            (confirmation_cause("cd"), "confirm#cd"),
            (outbox_queue(7), "OUTBOXQ#S7"),
            (by_deadline("2026-11-29T10:00:00Z", "p"), "2026-11-29T10:00:00Z#p"),
            (outcome_cause("succeeded", "p", "ab"), "pledge-succeeded#p#ab"),
            (job("pledge-succeeded#p"), "JOB#pledge-succeeded#p"),
            (mailbox("ab"), "MAILBOX#ab"),
            (optin_cause("ab"), "optin#ab"),
            (reply_cause("01J"), "reply#01J"),
            (held_cause("01J"), "held#01J"),
            (milestone_cause("p", 100), "milestone#p#100"),
            (hook_cause("comment.created", "01J"), "hook#comment.created#01J"),
            (update("01J"), "UPDATE#01J"),
            (update_cause("01J", "ab"), "update#01J#ab"),
            (send_second(1_800_000_000), "SENDRATE#1800000000"),
            (queued("2026-11-29T10:00:00Z", "confirm#cd"), "2026-11-29T10:00:00Z#confirm#cd"),
        ];
        for (made, expected) in pinned {
            assert_eq!(made, expected);
        }
        let constants = [
            (META, "#META"),
            (POST_BODY, "#BODY"),
            (POST_SEQUENCE, "#SEQ"),
            (ALL_POSTS, "POSTS"),
            (PUBLIC_COMMENT, "C#"),
            (HIDDEN_COMMENT, "X#"),
            (PENDING, "PENDING"),
            (SPAM, "SPAM"),
            (CAMPAIGNS, "CAMPAIGNS"),
            (DAY_PREFIX, "DAY#"),
            (IMPORTED_PREFIX, "IMPORT#"),
            (COUNTER, "#COUNT"),
            (SIGNUP_PREFIX, "SIGNUP#"),
            (OUTBOX_PREFIX, "OUTBOX#"),
            (UNSETTLED_PLEDGES, "PLEDGES#UNSETTLED"),
            (JOB_PREFIX, "JOB#"),
            (MAILBOX_PREFIX, "MAILBOX#"),
            (PK, "PK"),
            (SK, "SK"),
            (GSI1PK, "GSI1PK"),
            (GSI1SK, "GSI1SK"),
            (EXPIRES_AT, "expires_at"),
        ];
        for (constant, expected) in constants {
            assert_eq!(constant, expected);
        }
    }

    /// The key table at the top of `store/src/lib.rs` is what a newcomer reads first: every
    /// key written here must be in it, in the same spelling.
    #[test]
    fn the_documented_table_names_every_key() {
        let doc = include_str!("lib.rs");
        let table: String = doc.lines().take_while(|l| l.starts_with("//!")).collect::<Vec<_>>().join("\n");
        for documented in [
            "`POST#{slug}`",
            "`#META`",
            "`#BODY`",
            "`#TAG#{tag}`",
            "`TAG#{tag}`",
            "`POSTS`",
            "`{published_at}#{slug}`",
            "`#SEQ`",
            "`C#{thread path}`",
            "`X#{thread path}`",
            "`PENDING`",
            "`COMMENT#{id}`",
            "`COMMENTER#{address hash}`",
            "`PETITION#{slug}`",
            "`PLEDGE#{slug}`",
            "`{kind}#{slug}#S{shard}`",
            "`SIGNUP#{signer key}`",
            "`SIGNERS#{kind}#{slug}`",
            "`{confirmed_at}#SIGNUP#{signer key}`",
            "`#COUNT`",
            "`DAY#{date}`",
            "`IMPORT#{source}`",
            "`CAMPAIGNS`",
            "`{kind}#{created_at}#{slug}`",
            "`SPAM`",
            "`TOKEN#{token hash}`",
            "`TOKEN#{signer key}#{token hash}`",
            "`MAILED#{signer key}`",
            "`MAILTO#{address key}#{day}`",
            "`MAILDAY#{day}#S{shard}`",
            "`RATE#{ip hash}#{minute}`",
            "`WRITER#{ip hash}`",
            "`OUTBOX#{cause}`",
            "`SENT#{cause}`",
            "`confirm#{token hash}`",
            "`OUTBOXQ#S{shard}`",
            "`PLEDGES#UNSETTLED`",
            "`{deadline}#{slug}`",
            "`pledge-{outcome}#{slug}#{signer key}`",
            "`JOB#{job}`",
            "`MAILBOX#{address key}`",
            "`optin#{address key}`",
            "`reply#{reply id}`",
            "`held#{comment id}`",
            "`milestone#{slug}#{count}`",
            "`hook#{event}#{about}`",
            "`UPDATE#{id}`",
            "`update#{id}#{signer key}`",
            "`SENDRATE#{second}`",
            "`{queued_at}#{cause}`",
        ] {
            assert!(table.contains(documented), "the key table in store/src/lib.rs lacks {documented}");
        }
    }
}
