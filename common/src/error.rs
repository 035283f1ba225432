//! The one error type every HTTP handler returns, rendered in the platform's
//! error shape: `{"errors":[{"message":"...","field":"..."}]}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// One entry of the error shape. `field` names the input that is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"message": "Title is required", "field": "title"}))]
pub struct ErrorItem {
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ErrorItem {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            field: None,
        }
    }

    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            field: Some(field.into()),
        }
    }
}

/// The body of every error response.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub errors: Vec<ErrorItem>,
}

/// What a handler can fail with; each variant has one status code.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: invalid input or a rule broken.
    #[error("bad request: {0:?}")]
    BadRequest(Vec<ErrorItem>),
    /// 402: the card was declined; the items say why, in the bank's words.
    #[error("declined: {0:?}")]
    Declined(Vec<ErrorItem>),
    /// 401: not signed in.
    #[error("not signed in")]
    Unauthorized,
    /// 403: signed in, but not allowed.
    #[error("not allowed")]
    Forbidden,
    /// 403: the account is suspended (banned).
    #[error("account suspended")]
    Suspended,
    /// 429: too many attempts; try again after this many seconds.
    #[error("too many attempts")]
    TooMany { retry_after: u64, message: String },
    /// 503: too busy right now; try again after this many seconds.
    #[error("busy")]
    Busy { retry_after: u64 },
    /// 404: unknown resource or route.
    #[error("not found")]
    NotFound,
    /// 405: a route that does not take this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 413: a body over the size limit.
    #[error("body too large")]
    PayloadTooLarge,
    /// 503: a dependency unavailable, or the request passed its deadline.
    /// The cause is logged where it happened.
    #[error("unavailable")]
    Unavailable,
    /// 500: anything unexpected. The cause is logged, never sent.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// A 400 that is about the request as a whole.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest(vec![ErrorItem::new(message)])
    }

    /// A 402: the card `field` names was declined, for `message`.
    pub fn declined(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Declined(vec![ErrorItem::field(field, message)])
    }

    /// A 400 about one named input.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadRequest(vec![ErrorItem::field(field, message)])
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Declined(_) => StatusCode::PAYMENT_REQUIRED,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden | Self::Suspended => StatusCode::FORBIDDEN,
            Self::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<mongodb::error::Error> for ApiError {
    fn from(err: mongodb::error::Error) -> Self {
        Self::Internal(anyhow::Error::new(err).context("database operation failed"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry_after = match &self {
            Self::TooMany { retry_after, .. } | Self::Busy { retry_after } => Some(*retry_after),
            // A deadline passed or a dependency is down: a moment may be enough.
            Self::Unavailable => Some(1),
            _ => None,
        };
        let errors = match self {
            Self::BadRequest(items) | Self::Declined(items) => items,
            Self::Unauthorized => vec![ErrorItem::new("Not authorized")],
            Self::Forbidden => vec![ErrorItem::new("Forbidden")],
            Self::Suspended => vec![ErrorItem::new("Account suspended")],
            Self::TooMany { message, .. } => vec![ErrorItem::new(message)],
            Self::Busy { .. } => vec![ErrorItem::new("The service is busy; try again shortly")],
            Self::NotFound => vec![ErrorItem::new("Not found")],
            Self::MethodNotAllowed => vec![ErrorItem::new("Method not allowed")],
            Self::PayloadTooLarge => vec![ErrorItem::new("Request body is too large")],
            Self::Unavailable => vec![ErrorItem::new(
                "The service is unavailable; try again shortly",
            )],
            Self::Internal(cause) => {
                // `{:#}` keeps the whole chain of causes on one log line.
                tracing::error!(error = format!("{cause:#}"), "request failed unexpectedly");
                vec![ErrorItem::new("Something went wrong")]
            }
        };
        let mut response = (status, Json(ErrorBody { errors })).into_response();
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(seconds.max(1)),
            );
        }
        response
    }
}

/// Fallback for routes no service knows.
pub async fn not_found() -> ApiError {
    ApiError::NotFound
}

/// Fallback for a known route asked with a method it does not take.
pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_503_says_when_to_ask_again() {
        // Given a request that passed its deadline, and one turned away as busy
        for error in [ApiError::Unavailable, ApiError::Busy { retry_after: 3 }] {
            // When it is answered
            let response = error.into_response();
            // Then it is a 503 with a Retry-After
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert!(
                response
                    .headers()
                    .contains_key(axum::http::header::RETRY_AFTER)
            );
        }
    }
}
