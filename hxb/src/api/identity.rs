//! The caller's identity, as resolved by the embedding server (or by [`crate::api::oidc`]).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};

use crate::api::error::ApiError;
use crate::core::{Member, Role, Scope, Subject, Timestamp};

/// Who is calling: a subject and the groups it belongs to.
///
/// The router does not authenticate: the embedding server resolves the caller and inserts an
/// `Identity` into the request extensions (`request.extensions_mut().insert(identity)`, or a
/// middleware such as [`crate::api::oidc::OidcVerifier`]). A request without one is answered 401.
///
/// A membership applies to an identity when the member's subject equals
/// [`subject`](Self::subject), or equals `group:<g>` for one of its [`groups`](Self::groups).
/// Besides the memberships stored in the engine, an identity may carry
/// [`bindings`](Self::bindings): roles granted by the embedder's configuration (for example
/// an OIDC group bound to a role with [`GroupBindings`]), which count exactly like stored
/// memberships of the same subject, scope and role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The subject (an OIDC `sub` or e-mail).
    pub subject: String,
    /// Group names (an OIDC `groups` claim).
    pub groups: Vec<String>,
    /// Roles granted by configuration rather than stored memberships.
    #[serde(default)]
    pub bindings: Vec<Member>,
}

/// Roles bound to identity-provider groups, configured by the embedder: everyone whose token
/// carries group `g` holds the roles bound to `g`, without a stored membership.
///
/// ```
/// use hxb::api::{GroupBindings, Identity};
/// let b = GroupBindings::default()
///     .bind("platform-admins", "acme", None, None, "admin")?
///     .bind("web-team", "acme", Some("dev"), Some("web"), "developer")?;
/// let id = b.apply(Identity::new("alice").with_groups(["web-team"]));
/// assert_eq!(id.bindings.len(), 1);
/// # Ok::<(), hxb::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupBindings {
    bindings: Vec<Member>,
}

impl GroupBindings {
    /// Bind `group` to `role` in an organization, one of its workspaces, or a project of a
    /// workspace. The role is checked against the level (`owner`/`admin`/`member` for an
    /// organization, `admin`/`developer`/`viewer` below); names are validated.
    pub fn bind(
        mut self,
        group: &str,
        organization: &str,
        workspace: Option<&str>,
        project: Option<&str>,
        role: &str,
    ) -> crate::Result<Self> {
        let n = crate::Name::new;
        let organization = n(organization)?;
        let (scope, level) = match (workspace, project) {
            (None, None) => (Scope::Organization { organization }, "organization"),
            (Some(w), None) => (
                Scope::Workspace {
                    organization,
                    workspace: n(w)?,
                },
                "workspace",
            ),
            (Some(w), Some(p)) => (
                Scope::Project {
                    organization,
                    workspace: n(w)?,
                    project: n(p)?,
                },
                "project",
            ),
            (None, Some(_)) => {
                return Err(crate::Error::invalid(
                    "workspace",
                    "a project binding needs its workspace",
                ));
            }
        };
        self.bindings.push(Member {
            subject: Subject::new(format!("group:{group}"))?,
            scope,
            role: Role::parse(level, role)?,
            added_at: Timestamp::UNIX_EPOCH,
        });
        Ok(self)
    }

    /// The bindings.
    pub fn bindings(&self) -> &[Member] {
        &self.bindings
    }

    /// `id` with the bindings of its groups added.
    pub fn apply(&self, mut id: Identity) -> Identity {
        for b in &self.bindings {
            if id.holds(b.subject.as_str()) && !id.bindings.contains(b) {
                id.bindings.push(b.clone());
            }
        }
        id
    }
}

impl Identity {
    /// An identity without groups.
    pub fn new(subject: impl Into<String>) -> Self {
        Identity {
            subject: subject.into(),
            groups: Vec::new(),
            bindings: Vec::new(),
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

    /// Its configured bindings in organization `org`.
    pub fn bindings_in<'a>(&'a self, org: &'a str) -> impl Iterator<Item = &'a Member> + 'a {
        self.bindings
            .iter()
            .filter(move |m| m.scope.organization().as_str() == org)
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
    fn group_bindings_are_validated_and_applied_by_group() {
        let b = GroupBindings::default()
            .bind("ops", "acme", None, None, "admin")
            .unwrap()
            .bind("web", "acme", Some("dev"), Some("web"), "viewer")
            .unwrap();
        for bad in [
            GroupBindings::default().bind("g", "acme", None, None, "developer"),
            GroupBindings::default().bind("g", "acme", Some("dev"), None, "owner"),
            GroupBindings::default().bind("g", "Not A Name", None, None, "admin"),
            GroupBindings::default().bind("g", "acme", None, Some("web"), "viewer"),
        ] {
            assert_eq!(bad.unwrap_err().kind(), crate::ErrorKind::InvalidInput);
        }
        let id = b.apply(Identity::new("alice").with_groups(["web", "other"]));
        assert_eq!(id.bindings.len(), 1);
        assert_eq!(id.bindings_in("acme").count(), 1);
        assert_eq!(id.bindings_in("globex").count(), 0);
        assert!(b.apply(Identity::new("bob")).bindings.is_empty());
        assert_eq!(b.apply(id.clone()), id, "applying twice adds nothing");
    }

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
