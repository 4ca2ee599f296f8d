//! Errors: one top-level [`Error`] with a stable, machine-readable [`ErrorKind`].
//!
//! Narrow errors live beside the code that raises them ([`NameError`](crate::name::NameError),
//! [`QuantityError`](crate::quantity::QuantityError), [`QuotaExceeded`]) and are wrapped here
//! with `#[source]`/`#[from]`, so a caller can match on the detail while the bindings only need
//! [`Error::kind`] to pick a typed exception (Python), a `code` (Node) or an enum case (Swift).

use std::fmt;

use crate::name::NameError;
use crate::quantity::Quantity;
use crate::quantity::QuantityError;
use crate::resources::ResourceName;

/// A boxed error used as the `source` of backend and I/O failures.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `Result` with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The stable, machine-readable category of an [`Error`].
///
/// The string form ([`ErrorKind::as_str`]) is part of the public contract: bindings expose it
/// as an exception class, an error `code` or an enum case, and it never changes once released.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorKind {
    /// The caller passed something malformed: a name, a quantity, a spec. Nothing changed.
    InvalidInput,
    /// The object does not exist.
    NotFound,
    /// An object with that identity already exists.
    AlreadyExists,
    /// Optimistic concurrency failed (stale resourceVersion / revision). Re-read and retry.
    Conflict,
    /// Admission refused the request because a quota would be exceeded.
    QuotaExceeded,
    /// The caller's role does not allow the operation, or a policy refused it.
    Forbidden,
    /// The request is well formed but the current state does not allow it
    /// (for example deleting an organization that still has workspaces without cascade).
    FailedPrecondition,
    /// No node can run the workload.
    Unschedulable,
    /// A dependency is temporarily unavailable (network, API server, throttling). Retry later.
    Unavailable,
    /// The operation did not finish in time.
    Timeout,
    /// The backend failed in a way that is not one of the above.
    Backend,
    /// The engine was closed; no further calls are accepted.
    Closed,
    /// A bug: an invariant the engine relies on was broken.
    Internal,
}

impl ErrorKind {
    /// Every kind, in declaration order (for bindings that generate one class per kind).
    pub const ALL: [ErrorKind; 13] = [
        ErrorKind::InvalidInput,
        ErrorKind::NotFound,
        ErrorKind::AlreadyExists,
        ErrorKind::Conflict,
        ErrorKind::QuotaExceeded,
        ErrorKind::Forbidden,
        ErrorKind::FailedPrecondition,
        ErrorKind::Unschedulable,
        ErrorKind::Unavailable,
        ErrorKind::Timeout,
        ErrorKind::Backend,
        ErrorKind::Closed,
        ErrorKind::Internal,
    ];

    /// The stable snake_case identifier of this kind, e.g. `"quota_exceeded"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::NotFound => "not_found",
            ErrorKind::AlreadyExists => "already_exists",
            ErrorKind::Conflict => "conflict",
            ErrorKind::QuotaExceeded => "quota_exceeded",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::FailedPrecondition => "failed_precondition",
            ErrorKind::Unschedulable => "unschedulable",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Backend => "backend",
            ErrorKind::Closed => "closed",
            ErrorKind::Internal => "internal",
        }
    }

    /// Whether retrying the same call later may succeed without changing it.
    pub const fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorKind::Conflict | ErrorKind::Unavailable | ErrorKind::Timeout
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One resource that a request would push over its limit.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Exceeded {
    /// The resource, e.g. `requests.cpu` or `pods`.
    pub resource: ResourceName,
    /// What the request asks for.
    pub requested: Quantity,
    /// What is already in use.
    pub used: Quantity,
    /// The limit.
    pub limit: Quantity,
}

impl fmt::Display for Exceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: requested {}, used {}, limited {}",
            self.resource, self.requested, self.used, self.limit
        )
    }
}

/// A quota admission refusal, listing every offending resource.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[error("exceeded quota {quota:?}{}", fmt_exceeded(.exceeded))]
pub struct QuotaExceeded {
    /// Which quota refused it (e.g. `namespace/quota-name` or `workspace acme/dev`).
    pub quota: String,
    /// Each resource over its limit (never empty).
    pub exceeded: Vec<Exceeded>,
}

fn fmt_exceeded(list: &[Exceeded]) -> String {
    let mut s = String::new();
    for (i, e) in list.iter().enumerate() {
        s.push_str(if i == 0 { ": " } else { ", " });
        s.push_str(&e.to_string());
    }
    s
}

/// Why a pod fits on no node: counts per filter, like kube-scheduler's
/// `0/5000 nodes are available: 3000 Insufficient cpu, 2000 node(s) had untolerated taint`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[error("0/{nodes} nodes are available{}", fmt_reasons(.reasons))]
pub struct Unschedulable {
    /// How many nodes were considered.
    pub nodes: usize,
    /// `(reason, node count)`, most frequent first.
    pub reasons: Vec<(String, usize)>,
}

fn fmt_reasons(list: &[(String, usize)]) -> String {
    let mut s = String::new();
    for (i, (r, n)) in list.iter().enumerate() {
        s.push_str(if i == 0 { ": " } else { ", " });
        s.push_str(&format!("{n} {r}"));
    }
    s.push('.');
    s
}

/// The error of every public hxb operation.
///
/// Match on [`Error::kind`] for the category, or on the variant for the detail.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A name or identifier broke a Kubernetes naming rule.
    #[error(transparent)]
    InvalidName(#[from] NameError),
    /// A resource quantity failed to parse or overflowed.
    #[error(transparent)]
    InvalidQuantity(#[from] QuantityError),
    /// Some other argument is invalid.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// The argument or field at fault (e.g. `spec.replicas`).
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The object does not exist.
    #[error("{kind} {name:?} not found")]
    NotFound {
        /// The kind of object. For Kubernetes objects the API server's group-resource
        /// (`deployments.apps`, `pods`), so the message reads as the API server's
        /// (`deployments.apps "web" not found`); for hxb entities their kind (`workspace`).
        kind: String,
        /// Its name: for Kubernetes objects the object's name, as the API server reports it;
        /// for hxb entities their path (`acme/dev`).
        name: String,
    },
    /// The object already exists.
    #[error("{kind} {name:?} already exists")]
    AlreadyExists {
        /// The kind of object.
        kind: String,
        /// Its name.
        name: String,
    },
    /// A concurrent change won; re-read and retry.
    #[error("conflict on {kind} {name:?}: {reason}")]
    Conflict {
        /// The kind of object.
        kind: String,
        /// Its name.
        name: String,
        /// What conflicted (e.g. the stale and current resourceVersion).
        reason: String,
    },
    /// Quota admission refused the request.
    #[error(transparent)]
    QuotaExceeded(#[from] QuotaExceeded),
    /// RBAC or a policy refused the request.
    #[error("forbidden: {reason}")]
    Forbidden {
        /// Who tried what, and which rule refused it.
        reason: String,
    },
    /// The current state does not allow the request.
    #[error("failed precondition: {reason}")]
    FailedPrecondition {
        /// What must change first.
        reason: String,
    },
    /// No node can run the workload.
    #[error(transparent)]
    Unschedulable(#[from] Unschedulable),
    /// A dependency is temporarily unavailable.
    #[error("unavailable: {reason}")]
    Unavailable {
        /// What was unavailable.
        reason: String,
        /// The underlying failure, if any.
        #[source]
        source: Option<BoxError>,
    },
    /// The operation timed out.
    #[error("timed out: {operation}")]
    Timeout {
        /// What was being done.
        operation: String,
    },
    /// The backend failed.
    #[error("backend error: {message}")]
    Backend {
        /// What failed.
        message: String,
        /// The underlying failure, if any.
        #[source]
        source: Option<BoxError>,
    },
    /// The backend does not implement the operation (for example a TokenRequest on a backend
    /// without a token issuer). Its kind is
    /// [`FailedPrecondition`](ErrorKind::FailedPrecondition): retrying will not help, another
    /// backend or another path may.
    #[error("unsupported: {operation} is not supported by {backend}")]
    Unsupported {
        /// The operation (e.g. `proxy_service`).
        operation: String,
        /// Which backend (e.g. `this cluster backend`).
        backend: String,
    },
    /// The engine was closed.
    #[error("the engine is closed")]
    Closed,
    /// An internal invariant was broken (a bug; please report it).
    #[error("internal error: {message}")]
    Internal {
        /// What went wrong.
        message: String,
    },
}

impl Error {
    /// The stable category of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidName(_) | Error::InvalidQuantity(_) | Error::InvalidInput { .. } => {
                ErrorKind::InvalidInput
            }
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::AlreadyExists { .. } => ErrorKind::AlreadyExists,
            Error::Conflict { .. } => ErrorKind::Conflict,
            Error::QuotaExceeded(_) => ErrorKind::QuotaExceeded,
            Error::Forbidden { .. } => ErrorKind::Forbidden,
            Error::FailedPrecondition { .. } | Error::Unsupported { .. } => {
                ErrorKind::FailedPrecondition
            }
            Error::Unschedulable(_) => ErrorKind::Unschedulable,
            Error::Unavailable { .. } => ErrorKind::Unavailable,
            Error::Timeout { .. } => ErrorKind::Timeout,
            Error::Backend { .. } => ErrorKind::Backend,
            Error::Closed => ErrorKind::Closed,
            Error::Internal { .. } => ErrorKind::Internal,
        }
    }

    /// Whether retrying the same call later may succeed.
    pub fn is_retryable(&self) -> bool {
        self.kind().is_retryable()
    }

    /// An [`Error::InvalidInput`].
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidInput {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// An [`Error::NotFound`].
    pub fn not_found(kind: impl Into<String>, name: impl Into<String>) -> Self {
        Error::NotFound {
            kind: kind.into(),
            name: name.into(),
        }
    }

    /// An [`Error::AlreadyExists`].
    pub fn already_exists(kind: impl Into<String>, name: impl Into<String>) -> Self {
        Error::AlreadyExists {
            kind: kind.into(),
            name: name.into(),
        }
    }

    /// An [`Error::Conflict`].
    pub fn conflict(
        kind: impl Into<String>,
        name: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Error::Conflict {
            kind: kind.into(),
            name: name.into(),
            reason: reason.into(),
        }
    }

    /// An [`Error::Forbidden`].
    pub fn forbidden(reason: impl Into<String>) -> Self {
        Error::Forbidden {
            reason: reason.into(),
        }
    }

    /// An [`Error::FailedPrecondition`].
    pub fn precondition(reason: impl Into<String>) -> Self {
        Error::FailedPrecondition {
            reason: reason.into(),
        }
    }

    /// An [`Error::Backend`] with a source.
    pub fn backend(message: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Error::Backend {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// An [`Error::Unavailable`] with an optional source.
    pub fn unavailable(reason: impl Into<String>, source: Option<BoxError>) -> Self {
        Error::Unavailable {
            reason: reason.into(),
            source,
        }
    }

    /// An [`Error::Unsupported`]: `backend` does not implement `operation`.
    pub fn unsupported(operation: impl Into<String>, backend: impl Into<String>) -> Self {
        Error::Unsupported {
            operation: operation.into(),
            backend: backend.into(),
        }
    }

    /// Whether this is [`Error::Unsupported`] (the backend lacks the operation).
    pub fn is_unsupported(&self) -> bool {
        matches!(self, Error::Unsupported { .. })
    }

    /// An [`Error::Internal`].
    pub fn internal(message: impl Into<String>) -> Self {
        Error::Internal {
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_have_unique_stable_names() {
        let mut names: Vec<_> = ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ErrorKind::ALL.len());
        assert_eq!(ErrorKind::QuotaExceeded.to_string(), "quota_exceeded");
    }

    #[test]
    fn variants_map_to_kinds() {
        assert_eq!(Error::invalid("x", "y").kind(), ErrorKind::InvalidInput);
        assert_eq!(Error::not_found("Pod", "a/b").kind(), ErrorKind::NotFound);
        assert_eq!(
            Error::conflict("Pod", "a/b", "stale").kind(),
            ErrorKind::Conflict
        );
        assert!(Error::conflict("Pod", "a/b", "stale").is_retryable());
        assert!(!Error::Closed.is_retryable());
    }

    #[test]
    fn unschedulable_reads_like_kube_scheduler() {
        let e = Unschedulable {
            nodes: 5000,
            reasons: vec![
                ("Insufficient cpu".into(), 3000),
                ("node(s) had untolerated taint".into(), 2000),
            ],
        };
        assert_eq!(
            e.to_string(),
            "0/5000 nodes are available: 3000 Insufficient cpu, 2000 node(s) had untolerated taint."
        );
    }
}
