//! [`ErrorInfo`]: the language-neutral form of an [`hxb::Error`].

use std::error::Error as _;

use hxb::{Error, ErrorKind};
use serde_json::{Value, json};

/// Everything a binding needs to raise a typed error: the one mapping point of every language
/// reads this record and nothing else.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorInfo {
    /// The stable kind code ([`ErrorKind::as_str`]), e.g. `"quota_exceeded"`.
    pub kind: &'static str,
    /// The error's own message (its `Display`).
    pub message: String,
    /// The messages of the `source()` chain, outermost first (may be empty).
    pub causes: Vec<String>,
    /// Structured fields of the variant (e.g. `{"quota": …, "exceeded": […]}`), or `{}`.
    pub details: Value,
    /// Whether retrying the same call later may succeed.
    pub retryable: bool,
}

impl ErrorInfo {
    /// The record of `err`.
    pub fn from_error(err: &Error) -> Self {
        let mut causes = Vec::new();
        let mut next = err.source();
        while let Some(e) = next {
            causes.push(e.to_string());
            next = e.source();
        }
        ErrorInfo {
            kind: err.kind().as_str(),
            message: err.to_string(),
            causes,
            details: details(err),
            retryable: err.is_retryable(),
        }
    }

    /// The record as one JSON object (how the Node binding carries it across).
    pub fn to_json(&self) -> Value {
        json!({
            "kind": self.kind,
            "message": self.message,
            "causes": self.causes,
            "details": self.details,
            "retryable": self.retryable,
        })
    }
}

fn details(err: &Error) -> Value {
    match err {
        Error::InvalidName(e) => json!({
            "field": "name", "value": e.name, "reason": e.rule.to_string(),
        }),
        Error::InvalidQuantity(e) => match e {
            hxb::core::quantity::QuantityError::Parse { input, reason } => {
                json!({"field": "quantity", "value": input, "reason": reason.to_string()})
            }
            other => json!({"field": "quantity", "reason": other.to_string()}),
        },
        Error::InvalidInput { field, reason } => json!({"field": field, "reason": reason}),
        Error::NotFound { kind, name } | Error::AlreadyExists { kind, name } => {
            json!({"kind": kind, "name": name})
        }
        Error::Conflict { kind, name, reason } => {
            json!({"kind": kind, "name": name, "reason": reason})
        }
        Error::QuotaExceeded(q) => serde_json::to_value(q).unwrap_or_default(),
        Error::Unschedulable(u) => json!({
            "nodes": u.nodes,
            "reasons": u.reasons.iter()
                .map(|(r, n)| json!({"reason": r, "nodes": n}))
                .collect::<Vec<_>>(),
        }),
        Error::Forbidden { reason }
        | Error::FailedPrecondition { reason }
        | Error::Unavailable { reason, .. } => json!({"reason": reason}),
        Error::Timeout { operation } => json!({"operation": operation}),
        Error::Backend { message, .. } | Error::Internal { message } => {
            json!({"message": message})
        }
        _ => json!({}),
    }
}

/// A representative error of the kind named `kind` (with a two-level `source()` chain where
/// the variant has one), for the bindings' tests of their error mapping. `None` for an
/// unknown kind.
pub fn sample_error(kind: &str) -> Option<Error> {
    let kind = ErrorKind::ALL.into_iter().find(|k| k.as_str() == kind)?;
    let io = || {
        std::io::Error::other(Chained(
            "connection refused",
            std::io::Error::other("no route to host"),
        ))
    };
    Some(match kind {
        ErrorKind::InvalidInput => Error::invalid("spec.replicas", "must not be negative"),
        ErrorKind::NotFound => Error::not_found("Namespace", "ghost"),
        ErrorKind::AlreadyExists => Error::already_exists("Namespace", "team-a"),
        ErrorKind::Conflict => Error::conflict("ConfigMap", "team-a/cfg", "stale resourceVersion"),
        ErrorKind::QuotaExceeded => {
            let hard = hxb::ResourceList::parse([("requests.cpu", "1")]).ok()?;
            let req = hxb::ResourceList::parse([("requests.cpu", "2")]).ok()?;
            hxb::ResourceList::admit("team-a/quota", &hard, &hxb::ResourceList::new(), &req)
                .err()?
        }
        ErrorKind::Forbidden => Error::forbidden("viewer may not delete projects"),
        ErrorKind::FailedPrecondition => Error::precondition("workspace still has projects"),
        ErrorKind::Unschedulable => hxb::core::error::Unschedulable {
            nodes: 3,
            reasons: vec![("Insufficient cpu".into(), 3)],
        }
        .into(),
        ErrorKind::Unavailable => Error::unavailable("API server", Some(Box::new(io()))),
        ErrorKind::Timeout => Error::Timeout {
            operation: "wait for rollout".into(),
        },
        ErrorKind::Backend => Error::backend("list pods", io()),
        ErrorKind::Closed => Error::Closed,
        _ => Error::internal("invariant broken"),
    })
}

/// An error with a message and a source, to build sample chains.
#[derive(Debug)]
struct Chained(&'static str, std::io::Error);

impl std::fmt::Display for Chained {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Chained {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_sample_of_that_kind() {
        for kind in ErrorKind::ALL {
            let err = sample_error(kind.as_str()).expect("sample");
            let info = ErrorInfo::from_error(&err);
            assert_eq!(info.kind, kind.as_str());
            assert_eq!(info.message, err.to_string());
            assert!(info.details.is_object(), "{kind}: {}", info.details);
        }
        assert!(sample_error("no_such_kind").is_none());
    }

    #[test]
    fn source_chain_is_kept_outermost_first() {
        let info = ErrorInfo::from_error(&sample_error("backend").unwrap());
        assert_eq!(info.message, "backend error: list pods");
        assert_eq!(info.causes, ["connection refused", "no route to host"]);
    }

    #[test]
    fn quota_details_list_each_exceeded_resource() {
        let info = ErrorInfo::from_error(&sample_error("quota_exceeded").unwrap());
        assert_eq!(info.details["quota"], "team-a/quota");
        let ex = &info.details["exceeded"][0];
        assert_eq!(ex["resource"], "requests.cpu");
        assert_eq!(ex["requested"], "2");
        assert_eq!(ex["limit"], "1");
        assert_eq!(info.to_json()["kind"], "quota_exceeded");
    }
}
