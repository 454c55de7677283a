//! What goes wrong in the store, in the store's words. The store picks no HTTP status:
//! `impl From<StoreError> for ApiError` (in the HTTP layer's `error` module) is the one place that does.

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The item a call needs is not there (or no longer counts: deleted, expired).
    #[error("no such {0}")]
    NotFound(Missing),
    /// A named check of a write failed: a limit, or another write got there first.
    #[error("the check {0:?} failed")]
    Conflict(Check),
    /// The client has used this minute's writes.
    #[error("too many writes; try again in {retry_after_secs} seconds")]
    RateLimited { retry_after_secs: u64 },
    /// A reply deeper than threads may nest.
    #[error("replies nest at most {max} deep")]
    TooDeep { max: u32 },
    /// A cursor this deployment did not make for this list.
    #[error("unknown cursor")]
    BadCursor,
    /// The store is unreachable, slow or throttling after retries; nothing was written.
    #[error("the store is unavailable")]
    Unavailable(#[source] BoxError),
    /// A stored item does not parse: corruption or a bug, never the client's fault.
    #[error("stored item does not parse: {0}")]
    Corrupt(String),
    /// Any other answer the store should not give.
    #[error("unexpected answer from the store")]
    Internal(#[source] BoxError),
}

/// What a call looked for and did not find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    Post(String),
    Comment(String),
    /// A confirm or erase link's token (unknown, or expired unconfirmed).
    Link,
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Post(slug) => write!(f, "post '{slug}'"),
            Self::Comment(id) => write!(f, "comment '{id}'"),
            Self::Link => f.write_str("link"),
        }
    }
}

/// The condition a write in a transaction carries, by name, so a cancelled transaction
/// says which one failed rather than a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// A new post's, petition's or pledge's slug is free.
    SlugFree,
    /// The post is as it was read (its version), and not deleted.
    PostUnchanged,
    /// The post a comment goes on is there and not deleted.
    PostLive,
    /// A fresh id or token is not taken (a lost attempt of this very call took it).
    Fresh,
    /// The parent a reply hangs from is still shown in the thread.
    ParentShown,
    /// The client has writes left in this minute's window.
    RateWindow,
    /// The client's last comment body was another.
    NotARepeat,
    /// The comment is as it was read (status and replies).
    CommentUnchanged,
    /// The comment is undeleted, unchanged and still inside its edit window.
    CommentEditable,
    /// The comment is there to delete.
    CommentThere,
    /// The comment has replies only where it was read to have them.
    RepliesUnchanged,
    /// The address was not mailed about this campaign within the hour.
    MailGate,
    /// The address's mails today, over every campaign, are under the cap.
    AddressCap,
    /// The deployment's mails today are under the cap.
    DayCap,
    /// The signup does not exist yet (confirming), or still does not (erasing a
    /// request that never confirmed).
    SignupAbsent,
    /// The signup is still there (erasing one).
    SignupThere,
    /// The link's token is still there (confirming: no erase got in first).
    TokenThere,
    /// The pledge has no outcome yet.
    Unsettled,
    /// The job is still at the step it was read at.
    JobAtStep,
    /// The campaign an update is for is there.
    CampaignThere,
    /// The campaign is there with the outcome it was read with (an edit or a close).
    CampaignUnchanged,
    /// The post's sequence of numbers is as it was read (an import numbering a chunk).
    NumberUnchanged,
}
