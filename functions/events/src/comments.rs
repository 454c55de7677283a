//! Mail about comments: the one mail that asks an address to confirm reply
//! notifications, a notification for each reply to a comment whose author confirmed,
//! and a notice to the moderator of each comment held for review.
//!
//! A reply's text reaches a mail, so it is written there as a quotation of a named
//! commenter, with every web address in it left out: a stranger can reply, and must
//! not be able to put a link in a mail Rally sends.

use std::collections::BTreeMap;

use app::input::contains_web_address;
use app::mail::Mail;
use app::post::Slug;
use app::store::keys;
use app::store::mailbox::{LinkPurpose, Mailbox, MailboxState};
use app::store::{Comment, CommentStatus};
use app::time as t;

use crate::{Events, RecordError};

impl Events {
    /// A new mailbox item: an address asked for reply notifications for the first time.
    pub(crate) async fn on_mailbox(&self, mailbox: Mailbox) -> Result<(), RecordError> {
        let (MailboxState::Pending, Some(email)) = (mailbox.state, mailbox.email.clone()) else { return Ok(()) };
        let link = format!(
            "{}/notifications/{}",
            self.base_url(),
            self.app.store.mailbox_token(mailbox.address(), LinkPurpose::ConfirmReplies)
        );
        let text = format!(
            "Hello,\n\nsomeone asked, with this address, to be mailed when their comments get replies. If that was you, \
             open this link and press the button:\n\n{link}\n\nIf it was not you, ignore this mail: nothing more will come.\n"
        );
        let mail = Mail {
            to: email,
            subject: "Confirm: mail me replies to my comments".into(),
            text,
            links: vec![link],
            headers: BTreeMap::new(),
            sent_at: t::format(self.app.clock.now()),
        };
        self.send_once(&keys::optin_cause(mailbox.address()), mail).await.map(drop)
    }

    /// A comment the thread shows, new there (posted approved, or approved later).
    pub(crate) async fn on_shown_comment(&self, reply: Comment) -> Result<(), RecordError> {
        // Brought over by `rally import`: old news to everyone; nobody is told.
        if reply.imported {
            return Ok(());
        }
        self.hook("comment.created", &reply.id, serde_json::json!({ "post": reply.post, "comment": reply.view() }))
            .await?;
        let Some(parent_id) = &reply.parent_id else { return Ok(()) };
        let store = &self.app.store;
        let parent_id = app::comment::CommentId::parse(parent_id).map_err(RecordError::Unreadable)?;
        let Some(parent) = store.comment(&parent_id).await? else { return Ok(()) };
        let Some(address) = &parent.notify_address else { return Ok(()) };
        // Nobody is told of their own replies.
        if reply.notify_address.as_ref() == Some(address) {
            return Ok(());
        }
        let Some(mailbox) = store.mailbox(address).await? else { return Ok(()) };
        let (MailboxState::Confirmed, Some(email)) = (mailbox.state, mailbox.email) else { return Ok(()) };
        // Only replies shown since the author confirmed: one shown before, whose record
        // arrives (or is redelivered) later, is not mailed.
        if reply.shown_ms.unwrap_or_default() < mailbox.confirmed_ms.unwrap_or(i64::MAX) {
            return Ok(());
        }
        let slug = Slug::parse(&reply.post).map_err(RecordError::Unreadable)?;
        let title = store.get_post_summary(&slug).await?.map(|p| p.title).unwrap_or_else(|| reply.post.clone());
        let read = format!("{}#comment-{}", self.app.config.thread_url(&reply.post), reply.id);
        let (unsubscribe, headers) = self.unsubscribe(address);
        let text = format!(
            "Hello,\n\n{author} replied to your comment on \"{title}\":\n\n{quote}\n\nRead it and answer: {read}\n\n\
             You get this because you asked to be mailed replies to your comments. To stop all mail from this blog: \
             {unsubscribe}\n",
            author = reply.author,
            quote = quoted(&reply.body),
        );
        let mail = Mail {
            to: email,
            subject: format!("New reply to your comment on \"{title}\""),
            text,
            links: vec![read, unsubscribe],
            headers,
            sent_at: t::format(self.app.clock.now()),
        };
        self.send_once(&keys::reply_cause(&reply.id), mail).await.map(drop)
    }

    /// A comment held for review: the moderator is told, if one is configured.
    pub(crate) async fn on_held_comment(&self, held: Comment) -> Result<(), RecordError> {
        if held.status != CommentStatus::Pending || held.imported {
            return Ok(());
        }
        self.hook("comment.held", &held.id, serde_json::json!({ "post": held.post, "comment": held.view() })).await?;
        let Some(moderator) = &self.app.config.moderator_email else { return Ok(()) };
        let text = format!(
            "Hello,\n\na comment by {author} on the post \"{post}\" is held for review:\n\n{quote}\n\nApprove it, mark it \
             as spam or delete it in your console, at /admin on your Rally stack.\n",
            author = held.author,
            post = held.post,
            quote = quoted(&held.body),
        );
        let mail = Mail {
            to: moderator.as_ref().to_owned(),
            subject: format!("A comment is waiting for review on \"{}\"", held.post),
            text,
            links: Vec::new(),
            headers: BTreeMap::new(),
            sent_at: t::format(self.app.clock.now()),
        };
        self.send_once(&keys::held_cause(&held.id), mail).await.map(drop)
    }
}

/// Text a stranger wrote, as a quotation in a mail: each line behind `> `, every word
/// holding a web address replaced, at most 2,000 characters.
pub(crate) fn quoted(text: &str) -> String {
    let mut quoted: Vec<String> = text
        .lines()
        .map(|line| {
            let words: Vec<&str> =
                line.split(' ').map(|word| if contains_web_address(word) { "[link left out]" } else { word }).collect();
            format!("> {}", words.join(" "))
        })
        .collect();
    let mut total = 0;
    quoted.retain(|line| {
        total += line.chars().count();
        total <= 2_000
    });
    quoted.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quotation_carries_no_link() {
        let text = "Read this: https://phish.example/login\nor www.evil.example and [x](http://a.example) too";
        let quoted = quoted(text);
        assert!(!contains_web_address(&quoted), "{quoted}");
        assert!(quoted.starts_with("> Read this: [link left out]\n> or [link left out]"), "{quoted}");
    }
}
