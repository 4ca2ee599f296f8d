//! One error type for every response that is not a success: a stable `code`, a message and
//! the HTTP status, mapped once from [`crate::ErrorKind`].

use crate::{Error, ErrorKind};
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// The JSON body of every error response: `{"code": "...", "message": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable machine-readable code: an [`ErrorKind`] identifier (`not_found`,
    /// `quota_exceeded`, …) or one of the HTTP-level codes (`unauthenticated`,
    /// `unknown_route`, `method_not_allowed`, `payload_too_large`, `unsupported_media_type`).
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

/// An error answered over HTTP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code (see [`ErrorBody::code`]).
    pub code: &'static str,
    /// Explanation.
    pub message: String,
}

impl ApiError {
    /// An error with an explicit status and code.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    /// 401: no identity was resolved for the request.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
    }

    /// 403: the identity's roles do not allow the operation.
    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorKind::Forbidden.as_str(),
            message,
        )
    }

    /// 400: malformed request.
    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorKind::InvalidInput.as_str(),
            message,
        )
    }

    /// The body sent to the client.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code.to_owned(),
            message: self.message.clone(),
        }
    }
}

/// The HTTP status of each engine error kind.
///
/// `quota_exceeded` is 422 (the request is well formed but cannot be admitted); Kubernetes
/// answers 403 for the same case, which would make it indistinguishable from a missing role
/// by status alone. `unschedulable` and `failed_precondition` are 409 (the state of the
/// system, not the request, is in the way). `closed` is 503.
pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::InvalidInput => StatusCode::BAD_REQUEST,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::AlreadyExists | ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::QuotaExceeded => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::FailedPrecondition | ErrorKind::Unschedulable => StatusCode::CONFLICT,
        ErrorKind::Unavailable | ErrorKind::Closed => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Timeout => StatusCode::GATEWAY_TIMEOUT,
        ErrorKind::Backend => StatusCode::BAD_GATEWAY,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let kind = e.kind();
        ApiError::new(status_of(kind), kind.as_str(), e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_status_and_its_code() {
        for kind in ErrorKind::ALL {
            let s = status_of(kind);
            assert!(s.is_client_error() || s.is_server_error(), "{kind}: {s}");
        }
        let e: ApiError = Error::not_found("organization", "acme").into();
        assert_eq!((e.status, e.code), (StatusCode::NOT_FOUND, "not_found"));
        let e: ApiError = Error::invalid("name", "bad").into();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            status_of(ErrorKind::QuotaExceeded),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(status_of(ErrorKind::Timeout), StatusCode::GATEWAY_TIMEOUT);
    }
}
