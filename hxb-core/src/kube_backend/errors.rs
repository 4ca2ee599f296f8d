//! Mapping kube-rs failures onto [`Error`], and parsing the API server's quota refusals.

use std::time::Duration;

use kube::core::Status;

use crate::error::{Error, Exceeded, QuotaExceeded};
use crate::quantity::Quantity;
use crate::resources::ResourceName;

/// What a failed call was about, for error messages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target<'a> {
    /// The kind (`Pod`).
    pub kind: &'a str,
    /// The plural resource (`pods`), for NotFound.
    pub plural: &'a str,
    /// The API group (`""` for core), for NotFound.
    pub group: &'a str,
    /// Namespace, if any.
    pub namespace: Option<&'a str>,
    /// Object name (empty for collection calls).
    pub name: &'a str,
}

impl Target<'_> {
    /// `deployments.apps`, `pods`.
    fn group_resource(&self) -> String {
        crate::cluster::group_resource(self.plural, self.group)
    }

    fn qualified(&self) -> String {
        match self.namespace {
            Some(ns) if !self.name.is_empty() => format!("{ns}/{}", self.name),
            Some(ns) => format!("{ns}/*"),
            None if self.name.is_empty() => "*".to_owned(),
            None => self.name.to_owned(),
        }
    }
}

/// How a kube-rs failure is classified for retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// 429 or 5xx: the server asked us to come back (after `retry_after` when it said so).
    Throttled {
        /// The server's `retryAfterSeconds`, when given.
        retry_after: Option<Duration>,
    },
    /// The request may not have reached the server, or its answer was lost.
    Transport,
    /// The call did not finish within the per-attempt timeout.
    TimedOut,
    /// 409 with reason `Conflict`.
    Conflict,
    /// 409 with reason `AlreadyExists`.
    AlreadyExists,
    /// 404.
    NotFound,
    /// Anything else: not worth retrying.
    Permanent,
}

/// Classify a kube-rs error.
pub(crate) fn classify(e: &kube::Error) -> Failure {
    match e {
        kube::Error::Api(s) => match s.code {
            404 => Failure::NotFound,
            409 if s.reason == "AlreadyExists" => Failure::AlreadyExists,
            409 => Failure::Conflict,
            // 501 Not Implemented and 505 will not change on a retry.
            429 | 500 | 502..=504 | 506..=599 => Failure::Throttled {
                retry_after: s
                    .details
                    .as_ref()
                    .map(|d| d.retry_after_seconds)
                    .filter(|&secs| secs > 0)
                    .map(|secs| Duration::from_secs(secs.into())),
            },
            _ => Failure::Permanent,
        },
        kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::ReadEvents(_) => {
            if is_timeout(e) {
                Failure::TimedOut
            } else {
                Failure::Transport
            }
        }
        _ => Failure::Permanent,
    }
}

/// Whether a timeout sits anywhere in the error's source chain.
fn is_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::TimedOut
        {
            return true;
        }
        if err.to_string().to_ascii_lowercase().contains("timed out") {
            return true;
        }
        cur = err.source();
    }
    false
}

/// Map a kube-rs error about `target` onto hxb's error. Errors whose variant has a `source`
/// ([`Error::Unavailable`], [`Error::Backend`]) keep the kube-rs error there; the others carry
/// the API server's message in their text.
pub(crate) fn map_error(e: kube::Error, target: Target<'_>) -> Error {
    let kube::Error::Api(status) = &e else {
        return map_client_error(e, target);
    };
    match map_status(status, target) {
        Some(Error::Unavailable {
            reason,
            source: None,
        }) => Error::Unavailable {
            reason,
            source: Some(e.into()),
        },
        Some(mapped) => mapped,
        None => {
            let code = status.code;
            Error::backend(
                format!(
                    "the API server refused {} {}: HTTP {code}",
                    target.kind,
                    target.qualified()
                ),
                e,
            )
        }
    }
}

/// Errors that never reached a `Status`.
fn map_client_error(e: kube::Error, target: Target<'_>) -> Error {
    match classify(&e) {
        Failure::TimedOut => Error::Timeout {
            operation: format!("request for {} {}", target.kind, target.qualified()),
        },
        Failure::Transport => Error::unavailable(
            format!(
                "cannot reach the API server for {} {}",
                target.kind,
                target.qualified()
            ),
            Some(e.into()),
        ),
        _ => match e {
            kube::Error::BuildRequest(_) => Error::invalid(target.kind, e.to_string()),
            other => Error::backend(
                format!(
                    "Kubernetes client failure for {} {}",
                    target.kind,
                    target.qualified()
                ),
                other,
            ),
        },
    }
}

/// Map an API server `Status`; `None` for codes that only fit [`Error::Backend`].
pub(crate) fn map_status(s: &Status, target: Target<'_>) -> Option<Error> {
    let name = target.qualified();
    let msg = s.message.as_str();
    Some(match s.code {
        400 | 422 => {
            let field = s
                .details
                .as_ref()
                .and_then(|d| d.causes.first())
                .map(|c| c.field.clone())
                .filter(|f| !f.is_empty())
                .unwrap_or_else(|| target.kind.to_owned());
            Error::invalid(field, msg)
        }
        401 => Error::forbidden(format!("unauthorized: {msg}")),
        403 if msg.contains("exceeded quota") => match parse_quota_message(msg, target.namespace) {
            Some(q) => Error::QuotaExceeded(q),
            None => Error::forbidden(msg),
        },
        403 => Error::forbidden(msg),
        // As the API server says it: `deployments.apps "web" not found`.
        404 => Error::not_found(target.group_resource(), target.name),
        409 if s.reason == "AlreadyExists" => Error::already_exists(target.kind, name),
        409 => Error::conflict(target.kind, name, msg),
        // An expired resourceVersion (watch, paginated list): re-list and start again.
        410 => Error::conflict(target.kind, name, format!("resourceVersion expired: {msg}")),
        429 => Error::unavailable(
            format!("the API server is throttling requests: {msg}"),
            None,
        ),
        504 if s.reason == "Timeout" => Error::Timeout {
            operation: format!("{} {name}: {msg}", target.kind),
        },
        501 | 505 => return None,
        500..=599 => Error::unavailable(
            format!("the API server failed (HTTP {}): {msg}", s.code),
            None,
        ),
        _ => return None,
    })
}

/// Parse the quota admission message of the API server:
///
/// `exceeded quota: NAME, requested: R=Q[,R=Q…], used: R=Q[,…], limited: R=Q[,…]`
///
/// possibly after a prefix such as `pods "web-0" is forbidden: `. The quota is reported as
/// `namespace/NAME` when the namespace is known. `None` when the message is malformed or lists
/// no resource.
pub fn parse_quota_message(message: &str, namespace: Option<&str>) -> Option<QuotaExceeded> {
    let rest = &message[message.find("exceeded quota: ")? + "exceeded quota: ".len()..];
    let (name, rest) = rest.split_once(", requested: ")?;
    let (requested, rest) = rest.split_once(", used: ")?;
    let (used, limited) = rest.split_once(", limited: ")?;
    // The limited list runs to the end of the message (or of its first line).
    let limited = limited.lines().next().unwrap_or_default().trim_end();
    let name = name.trim();
    if name.is_empty() || name.contains(char::is_whitespace) {
        return None;
    }
    let requested = parse_pairs(requested)?;
    let used = parse_pairs(used)?;
    let limited = parse_pairs(limited)?;
    let exceeded = requested
        .into_iter()
        .map(|(resource, requested)| {
            let find = |list: &[(ResourceName, Quantity)]| {
                list.iter().find(|(r, _)| *r == resource).map(|(_, q)| *q)
            };
            Some(Exceeded {
                used: find(&used)?,
                limit: find(&limited)?,
                requested,
                resource,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    if exceeded.is_empty() {
        return None;
    }
    let quota = match namespace {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_owned(),
    };
    Some(QuotaExceeded { quota, exceeded })
}

/// `requests.cpu=2,limits.memory=1Gi`
fn parse_pairs(s: &str) -> Option<Vec<(ResourceName, Quantity)>> {
    s.split(',')
        .map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            Some((ResourceName::new(k).ok()?, Quantity::parse(v).ok()?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use kube::core::response::{StatusCause, StatusDetails};

    const T: Target<'static> = Target {
        kind: "Pod",
        plural: "pods",
        group: "",
        namespace: Some("team-a"),
        name: "web-0",
    };

    fn status(code: u16, reason: &str, message: &str) -> Status {
        Status::failure(message, reason).with_code(code)
    }

    fn q(s: &str) -> Quantity {
        Quantity::parse(s).unwrap()
    }

    #[test]
    fn parses_the_api_server_quota_message() {
        let msg = "pods \"web-0\" is forbidden: exceeded quota: compute, requested: \
                   limits.memory=1Gi,requests.cpu=2, used: limits.memory=0,requests.cpu=1, \
                   limited: limits.memory=512Mi,requests.cpu=2";
        let got = parse_quota_message(msg, Some("team-a")).unwrap();
        assert_eq!(got.quota, "team-a/compute");
        assert_eq!(got.exceeded.len(), 2);
        assert_eq!(got.exceeded[0].resource.as_str(), "limits.memory");
        assert_eq!(
            (
                got.exceeded[0].requested,
                got.exceeded[0].used,
                got.exceeded[0].limit
            ),
            (q("1Gi"), q("0"), q("512Mi"))
        );
        assert_eq!(got.exceeded[1].resource.as_str(), "requests.cpu");
        assert_eq!(
            (
                got.exceeded[1].requested,
                got.exceeded[1].used,
                got.exceeded[1].limit
            ),
            (q("2"), q("1"), q("2"))
        );
    }

    #[test]
    fn parses_the_minimal_message_without_namespace() {
        let msg = "exceeded quota: q1, requested: pods=1, used: pods=10, limited: pods=10";
        let got = parse_quota_message(msg, None).unwrap();
        assert_eq!(got.quota, "q1");
        assert_eq!(got.exceeded.len(), 1);
        assert_eq!(got.exceeded[0].limit, q("10"));
    }

    #[test]
    fn malformed_quota_messages_are_refused() {
        for msg in [
            "",
            "exceeded quota",
            "exceeded quota: q1",
            "exceeded quota: q1, requested: pods=1",
            "exceeded quota: q1, requested: pods=1, used: pods=1",
            "exceeded quota: , requested: pods=1, used: pods=1, limited: pods=1",
            "exceeded quota: q1, requested: , used: pods=1, limited: pods=1",
            "exceeded quota: q1, requested: pods, used: pods=1, limited: pods=1",
            "exceeded quota: q1, requested: pods=lots, used: pods=1, limited: pods=1",
            "exceeded quota: q1, requested: pods=1, used: cpu=1, limited: pods=1",
            "exceeded quota: q1, requested: pods=1, used: pods=1, limited: cpu=1",
            "exceeded quota: q1, requested: Bad Name=1, used: Bad Name=1, limited: Bad Name=1",
            "exceeded quota: two words, requested: pods=1, used: pods=1, limited: pods=1",
        ] {
            assert_eq!(parse_quota_message(msg, Some("ns")), None, "{msg:?}");
        }
    }

    #[test]
    fn statuses_map_to_kinds() {
        let cases = [
            (
                status(404, "NotFound", "pods \"web-0\" not found"),
                ErrorKind::NotFound,
            ),
            (
                status(409, "AlreadyExists", "already exists"),
                ErrorKind::AlreadyExists,
            ),
            (
                status(409, "Conflict", "the object has been modified"),
                ErrorKind::Conflict,
            ),
            (
                status(410, "Expired", "too old resource version"),
                ErrorKind::Conflict,
            ),
            (
                status(403, "Forbidden", "pods is forbidden: User cannot create"),
                ErrorKind::Forbidden,
            ),
            (
                status(
                    403,
                    "Forbidden",
                    "pods \"x\" is forbidden: exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1",
                ),
                ErrorKind::QuotaExceeded,
            ),
            (
                status(
                    403,
                    "Forbidden",
                    "pods \"x\" is forbidden: exceeded quota: garbled",
                ),
                ErrorKind::Forbidden,
            ),
            (
                status(
                    403,
                    "Forbidden",
                    "unable to create new content in namespace team-a because it is being terminated",
                ),
                ErrorKind::Forbidden,
            ),
            (
                status(401, "Unauthorized", "Unauthorized"),
                ErrorKind::Forbidden,
            ),
            (status(400, "BadRequest", "bad"), ErrorKind::InvalidInput),
            (
                status(422, "Invalid", "spec.replicas: Invalid value"),
                ErrorKind::InvalidInput,
            ),
            (
                status(429, "TooManyRequests", "slow down"),
                ErrorKind::Unavailable,
            ),
            (status(500, "InternalError", "boom"), ErrorKind::Unavailable),
            (
                status(503, "ServiceUnavailable", "etcd"),
                ErrorKind::Unavailable,
            ),
            (status(504, "Timeout", "took too long"), ErrorKind::Timeout),
            (status(418, "Teapot", "?"), ErrorKind::Backend),
        ];
        for (s, kind) in cases {
            let err = map_error(kube::Error::Api(s.clone().boxed()), T);
            assert_eq!(err.kind(), kind, "{s:?} gave {err}");
        }
    }

    #[test]
    fn invalid_names_the_field_from_causes() {
        let s = status(422, "Invalid", "Deployment.apps \"web\" is invalid").with_details(
            StatusDetails {
                name: "web".into(),
                group: "apps".into(),
                kind: "Deployment".into(),
                uid: String::new(),
                causes: vec![StatusCause {
                    reason: "FieldValueInvalid".into(),
                    message: "must be >= 0".into(),
                    field: "spec.replicas".into(),
                }],
                retry_after_seconds: 0,
            },
        );
        match map_error(kube::Error::Api(s.boxed()), T) {
            Error::InvalidInput { field, .. } => assert_eq!(field, "spec.replicas"),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn not_found_names_the_object_and_unavailable_keeps_the_source() {
        let err = map_error(kube::Error::Api(status(404, "NotFound", "").boxed()), T);
        assert_eq!(err.to_string(), "pods \"web-0\" not found");
        let err = map_error(kube::Error::Api(status(503, "", "down").boxed()), T);
        assert!(std::error::Error::source(&err).is_some());
        let err = map_error(kube::Error::Api(status(418, "", "?").boxed()), T);
        assert!(std::error::Error::source(&err).is_some());
    }

    #[test]
    fn transport_failures_are_unavailable_and_timeouts_timeout() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let err = map_error(kube::Error::Service(Box::new(io)), T);
        assert_eq!(err.kind(), ErrorKind::Unavailable);
        assert!(std::error::Error::source(&err).is_some());
        let io = std::io::Error::new(std::io::ErrorKind::TimedOut, "deadline");
        let err = map_error(kube::Error::Service(Box::new(io)), T);
        assert_eq!(err.kind(), ErrorKind::Timeout);
    }

    #[test]
    fn classification_reads_retry_after() {
        let s = status(429, "TooManyRequests", "").with_details(StatusDetails {
            name: String::new(),
            group: String::new(),
            kind: String::new(),
            uid: String::new(),
            causes: vec![],
            retry_after_seconds: 3,
        });
        assert_eq!(
            classify(&kube::Error::Api(s.boxed())),
            Failure::Throttled {
                retry_after: Some(Duration::from_secs(3))
            }
        );
        assert_eq!(
            classify(&kube::Error::Api(status(502, "", "").boxed())),
            Failure::Throttled { retry_after: None }
        );
        assert_eq!(
            classify(&kube::Error::Api(status(409, "Conflict", "").boxed())),
            Failure::Conflict
        );
        assert_eq!(
            classify(&kube::Error::Api(status(409, "AlreadyExists", "").boxed())),
            Failure::AlreadyExists
        );
        assert_eq!(
            classify(&kube::Error::Api(status(403, "", "").boxed())),
            Failure::Permanent
        );
    }

    mod props {
        use super::super::parse_quota_message;
        use crate::quantity::Quantity;
        use proptest::prelude::*;

        const RESOURCES: [&str; 6] = [
            "requests.cpu",
            "limits.cpu",
            "requests.memory",
            "limits.memory",
            "pods",
            "count/configmaps",
        ];

        fn quantity() -> impl Strategy<Value = String> {
            (
                0u32..100_000,
                prop::sample::select(vec!["", "m", "k", "Mi", "Gi", "Ti"]),
            )
                .prop_map(|(n, suffix)| format!("{n}{suffix}"))
        }

        proptest! {
            #[test]
            fn api_server_messages_parse_back_exactly(
                picks in prop::sample::subsequence(RESOURCES.to_vec(), 1..=RESOURCES.len()),
                values in prop::collection::vec((quantity(), quantity(), quantity()), RESOURCES.len()),
                name in "[a-z][a-z0-9-]{0,20}",
                prefix in prop::sample::select(vec!["", "pods \"web-0\" is forbidden: "]),
            ) {
                let join = |f: &dyn Fn(&(String, String, String)) -> &String| {
                    picks.iter().zip(&values).map(|(r, v)| format!("{r}={}", f(v))).collect::<Vec<_>>().join(",")
                };
                let msg = format!(
                    "{prefix}exceeded quota: {name}, requested: {}, used: {}, limited: {}",
                    join(&|v| &v.0), join(&|v| &v.1), join(&|v| &v.2)
                );
                let got = parse_quota_message(&msg, Some("ns")).unwrap();
                prop_assert_eq!(got.quota, format!("ns/{name}"));
                prop_assert_eq!(got.exceeded.len(), picks.len());
                for ((e, r), v) in got.exceeded.iter().zip(&picks).zip(&values) {
                    prop_assert_eq!(e.resource.as_str(), *r);
                    prop_assert_eq!(e.requested, Quantity::parse(&v.0).unwrap());
                    prop_assert_eq!(e.used, Quantity::parse(&v.1).unwrap());
                    prop_assert_eq!(e.limit, Quantity::parse(&v.2).unwrap());
                }
            }

            #[test]
            fn arbitrary_text_never_panics(msg in ".*", tail in ".*") {
                let _ = parse_quota_message(&msg, None);
                let _ = parse_quota_message(&format!("exceeded quota: {msg}, requested: {tail}"), Some("x"));
            }
        }
    }
}
