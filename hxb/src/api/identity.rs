//! The caller's identity, as resolved by the embedding server (or by [`crate::api::oidc`]).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};

use crate::api::error::ApiError;

/// Who is calling: a subject and the groups it belongs to.
///
/// The router does not authenticate: the embedding server resolves the caller and inserts an
/// `Identity` into the request extensions (`request.extensions_mut().insert(identity)`, or a
/// middleware such as [`crate::api::oidc::OidcVerifier`]). A request without one is answered 401.
///
/// A membership applies to an identity when the member's subject equals
/// [`subject`](Self::subject), or equals `group:<g>` for one of its [`groups`](Self::groups).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Identity {
    /// The subject (an OIDC `sub` or e-mail).
    pub subject: String,
    /// Group names (an OIDC `groups` claim).
    pub groups: Vec<String>,
}

impl Identity {
    /// An identity without groups.
    pub fn new(subject: impl Into<String>) -> Self {
        Identity {
            subject: subject.into(),
            groups: Vec::new(),
        }
    }

    /// Add groups.
    #[must_use]
    pub fn with_groups<I, S>(mut self, groups: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.groups.extend(groups.into_iter().map(Into::into));
        self
    }

    /// Whether a membership held by `member_subject` applies to this identity.
    pub fn holds(&self, member_subject: &str) -> bool {
        member_subject == self.subject
            || member_subject
                .strip_prefix("group:")
                .is_some_and(|g| self.groups.iter().any(|mine| mine == g))
    }
}

/// Extractor: the request's [`Identity`], or 401 `unauthenticated`.
#[derive(Debug, Clone)]
pub struct Caller(pub Identity);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Identity>()
            .cloned()
            .map(Caller)
            .ok_or_else(|| ApiError::unauthenticated("no identity was resolved for the request"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_subject_and_groups() {
        let id = Identity::new("alice").with_groups(["ops"]);
        assert!(id.holds("alice"));
        assert!(id.holds("group:ops"));
        assert!(!id.holds("group:dev"));
        assert!(!id.holds("ops"));
        assert!(!id.holds("bob"));
    }
}
