//! The one error type handlers return, and its mapping to the body and status of
//! `openapi.yaml` (the `Error` schema). What the client did wrong carries a message for them; what went wrong
//! inside is logged with its whole chain and answered with a plain message.

use lambda_http::http::StatusCode;

use crate::store::{Check, Missing, StoreError};
use serde_json::json;

pub use domain::FieldErrors;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("the request body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("validation failed")]
    Validation(FieldErrors),
    #[error("a valid admin token is required")]
    Unauthorized,
    #[error("Comments are not available on posts older than {days} days.")]
    CommentsClosed { days: u32 },
    #[error("{0}")]
    CampaignClosed(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("too many requests; try again in {retry_after_secs} seconds")]
    RateLimited { retry_after_secs: u64 },
    /// The store is unreachable or throttling after retries; nothing was written.
    #[error("the service is unavailable; nothing was written, please try again")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A bug or an unexpected answer from a dependency.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(FieldErrors::one(field, message))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::CommentsClosed { .. } | Self::CampaignClosed(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::TooLarge { .. } => "too_large",
            Self::Validation(_) => "validation_failed",
            Self::Unauthorized => "unauthorized",
            Self::CommentsClosed { .. } => "comments_closed",
            Self::CampaignClosed(_) => "campaign_closed",
            Self::NotFound(_) => "not_found",
            Self::Conflict(_) => "conflict",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// The `Error` body of `openapi.yaml`.
    pub fn body(&self) -> serde_json::Value {
        let message = match self {
            Self::Validation(fields) => fields.summary(),
            other => other.to_string(),
        };
        let mut error = json!({ "code": self.code(), "message": message });
        if let Self::Validation(fields) = self {
            error["fields"] = json!(fields);
        }
        json!({ "error": error })
    }

    /// Logs what the client cannot see: the chain of an internal failure.
    pub fn log(&self) {
        if let Self::Unavailable(source) | Self::Internal(source) = self {
            let mut chain = source.to_string();
            let mut next = source.source();
            while let Some(cause) = next {
                chain.push_str(": ");
                chain.push_str(&cause.to_string());
                next = cause.source();
            }
            tracing::error!(code = self.code(), error = %chain, "request failed");
        }
    }
}

/// A request that does not parse: 422, every field named.
impl From<FieldErrors> for ApiError {
    fn from(fields: FieldErrors) -> Self {
        Self::Validation(fields)
    }
}

/// The one place the store's errors become HTTP answers.
impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(Missing::Post(slug)) => Self::NotFound(format!("no post named '{slug}'")),
            StoreError::NotFound(Missing::Comment(id)) => Self::NotFound(format!("no comment '{id}'")),
            StoreError::NotFound(Missing::Link) => Self::NotFound("this link is unknown or has expired".into()),
            StoreError::Conflict(check) => Self::from(check),
            StoreError::RateLimited { retry_after_secs } => Self::RateLimited { retry_after_secs },
            StoreError::TooDeep { max } => Self::validation("parent_id", format!("replies nest at most {max} deep")),
            StoreError::BadCursor => Self::BadRequest("unknown cursor".into()),
            StoreError::Unavailable(source) => Self::Unavailable(source),
            StoreError::Corrupt(what) => Self::Internal(format!("stored item does not parse: {what}").into()),
            StoreError::Internal(source) => Self::Internal(source),
        }
    }
}

impl From<Check> for ApiError {
    fn from(check: Check) -> Self {
        let conflict = |message: &str| Self::Conflict(message.into());
        match check {
            Check::SlugFree => conflict("something with this slug already exists; choose another slug"),
            Check::PostUnchanged => conflict("the post changed meanwhile; reload it and try again"),
            Check::PostLive => Self::NotFound("no such post".into()),
            Check::ParentShown => Self::validation("parent_id", "no such comment on this post"),
            Check::RateWindow => Self::RateLimited { retry_after_secs: 60 },
            Check::NotARepeat => conflict("this comment was just posted; it is not posted twice"),
            Check::CommentUnchanged => conflict("the comment was changed or moderated meanwhile; reload and try again"),
            Check::CommentEditable => Self::Conflict(format!(
                "comments can be changed for {} minutes after posting",
                crate::comment::EDIT_WINDOW_SECS / 60
            )),
            Check::CommentThere => Self::NotFound("no such comment".into()),
            Check::RepliesUnchanged => conflict("the comment's thread changed meanwhile; try again"),
            Check::SignupAbsent | Check::SignupThere => conflict("the signup changed meanwhile; try the link again"),
            Check::TokenThere => Self::NotFound("this link is unknown or has expired".into()),
            Check::CampaignThere => Self::NotFound("no such campaign".into()),
            Check::CampaignUnchanged => {
                conflict("the campaign was settled or removed meanwhile; reload it and try again")
            }
            // Never a client's doing: these are decided inside the store.
            Check::Fresh
            | Check::MailGate
            | Check::AddressCap
            | Check::DayCap
            | Check::Unsettled
            | Check::JobAtStep
            | Check::NumberUnchanged => Self::Internal(format!("an unexpected check failed: {check:?}").into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_body_names_each_field() {
        let mut fields = FieldErrors::default();
        fields.add("email", "not a valid address");
        let body = ApiError::Validation(fields).body();
        assert_eq!(body["error"]["code"], "validation_failed");
        assert_eq!(body["error"]["message"], "email: not a valid address");
        assert_eq!(body["error"]["fields"]["email"][0], "not a valid address");
    }

    #[test]
    fn closed_window_message_is_the_blogs_sentence() {
        let err = ApiError::CommentsClosed { days: 60 };
        assert_eq!(err.status(), StatusCode::FORBIDDEN);
        assert_eq!(err.body()["error"]["message"], "Comments are not available on posts older than 60 days.");
    }

    #[test]
    fn store_errors_map_to_their_answers() {
        let cases = [
            (StoreError::NotFound(Missing::Post("a".into())), StatusCode::NOT_FOUND),
            (StoreError::Conflict(Check::SlugFree), StatusCode::CONFLICT),
            (StoreError::Conflict(Check::ParentShown), StatusCode::UNPROCESSABLE_ENTITY),
            (StoreError::Conflict(Check::CommentEditable), StatusCode::CONFLICT),
            (StoreError::RateLimited { retry_after_secs: 7 }, StatusCode::TOO_MANY_REQUESTS),
            (StoreError::BadCursor, StatusCode::BAD_REQUEST),
            (StoreError::Unavailable("timeout".into()), StatusCode::SERVICE_UNAVAILABLE),
            (StoreError::Corrupt("x".into()), StatusCode::INTERNAL_SERVER_ERROR),
            (StoreError::Conflict(Check::MailGate), StatusCode::INTERNAL_SERVER_ERROR),
        ];
        for (err, status) in cases {
            let what = format!("{err:?}");
            assert_eq!(ApiError::from(err).status(), status, "{what}");
        }
        let body = ApiError::from(StoreError::Conflict(Check::CommentEditable)).body();
        assert!(body["error"]["message"].as_str().unwrap().contains("15 minutes"));
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let err = ApiError::Internal("secret table ARN".into());
        assert!(!err.body().to_string().contains("secret"));
        let err = ApiError::Unavailable("ThrottlingException".into());
        assert_eq!(err.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(!err.body().to_string().contains("Throttling"));
    }
}
