//! Pod Security Standards levels and versions, and the namespace labels that select them.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Namespace label: the level whose violations are refused.
pub const ENFORCE_LABEL: &str = "pod-security.kubernetes.io/enforce";
/// Namespace label: the version of the enforced level.
pub const ENFORCE_VERSION_LABEL: &str = "pod-security.kubernetes.io/enforce-version";
/// Namespace label: the level whose violations produce warnings.
pub const WARN_LABEL: &str = "pod-security.kubernetes.io/warn";
/// Namespace label: the version of the warned level.
pub const WARN_VERSION_LABEL: &str = "pod-security.kubernetes.io/warn-version";
/// Namespace label: the level whose violations are audited.
pub const AUDIT_LABEL: &str = "pod-security.kubernetes.io/audit";
/// Namespace label: the version of the audited level.
pub const AUDIT_VERSION_LABEL: &str = "pod-security.kubernetes.io/audit-version";

/// The newest Kubernetes minor version whose Pod Security Standards these checks implement.
pub const IMPLEMENTED_MINOR: u32 = 34;

/// A Pod Security Standards level. Ordered from the most permissive to the strictest.
#[non_exhaustive]
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum PodSecurityLevel {
    /// Unrestricted.
    Privileged,
    /// Prevents known privilege escalations (the default of hxb's plans).
    #[default]
    Baseline,
    /// Current pod-hardening best practice.
    Restricted,
}

impl PodSecurityLevel {
    /// Every level, most permissive first.
    pub const ALL: [PodSecurityLevel; 3] = [
        PodSecurityLevel::Privileged,
        PodSecurityLevel::Baseline,
        PodSecurityLevel::Restricted,
    ];

    /// The label value (`privileged`, `baseline`, `restricted`).
    pub fn as_str(self) -> &'static str {
        match self {
            PodSecurityLevel::Privileged => "privileged",
            PodSecurityLevel::Baseline => "baseline",
            PodSecurityLevel::Restricted => "restricted",
        }
    }
}

impl fmt::Display for PodSecurityLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PodSecurityLevel {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "privileged" => Ok(PodSecurityLevel::Privileged),
            "baseline" => Ok(PodSecurityLevel::Baseline),
            "restricted" => Ok(PodSecurityLevel::Restricted),
            _ => Err(Error::invalid(
                "level",
                format!("{s:?}: must be privileged, baseline or restricted"),
            )),
        }
    }
}

/// A policy version: `latest` or `v1.<minor>`.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum PolicyVersion {
    /// `v1.<minor>`.
    Minor(u32),
    /// `latest`: the newest checks (here: those of [`IMPLEMENTED_MINOR`]).
    #[default]
    Latest,
}

impl PolicyVersion {
    /// The minor version the checks of this version are taken from.
    pub fn minor(self) -> u32 {
        match self {
            PolicyVersion::Minor(m) => m,
            PolicyVersion::Latest => u32::MAX,
        }
    }
}

impl fmt::Display for PolicyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyVersion::Minor(m) => write!(f, "v1.{m}"),
            PolicyVersion::Latest => f.write_str("latest"),
        }
    }
}

impl FromStr for PolicyVersion {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        if s == "latest" {
            return Ok(PolicyVersion::Latest);
        }
        s.strip_prefix("v1.")
            .filter(|m| !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|m| m.parse().ok())
            .map(PolicyVersion::Minor)
            .ok_or_else(|| Error::invalid("version", format!("{s:?}: must be latest or v1.x")))
    }
}

impl Serialize for PolicyVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PolicyVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The enforced level and version of a namespace, from its labels, as the PodSecurity
/// admission resolves them: no `enforce` label is `privileged`; an unparsable level is
/// `restricted` and an unparsable version `latest` (fail closed).
pub fn enforced(labels: Option<&BTreeMap<String, String>>) -> (PodSecurityLevel, PolicyVersion) {
    let Some(labels) = labels else {
        return (PodSecurityLevel::Privileged, PolicyVersion::Latest);
    };
    let level = labels
        .get(ENFORCE_LABEL)
        .map_or(PodSecurityLevel::Privileged, |v| {
            v.parse().unwrap_or(PodSecurityLevel::Restricted)
        });
    let version = labels
        .get(ENFORCE_VERSION_LABEL)
        .map_or(PolicyVersion::Latest, |v| v.parse().unwrap_or_default());
    (level, version)
}

/// The six namespace labels that enforce, warn about and audit `level` at `version`.
pub fn namespace_labels(
    level: PodSecurityLevel,
    version: PolicyVersion,
) -> BTreeMap<String, String> {
    let (l, v) = (level.to_string(), version.to_string());
    BTreeMap::from([
        (ENFORCE_LABEL.to_owned(), l.clone()),
        (ENFORCE_VERSION_LABEL.to_owned(), v.clone()),
        (WARN_LABEL.to_owned(), l.clone()),
        (WARN_VERSION_LABEL.to_owned(), v.clone()),
        (AUDIT_LABEL.to_owned(), l),
        (AUDIT_VERSION_LABEL.to_owned(), v),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_versions_round_trip() {
        for l in PodSecurityLevel::ALL {
            assert_eq!(l.as_str().parse::<PodSecurityLevel>().unwrap(), l);
        }
        assert!("Restricted".parse::<PodSecurityLevel>().is_err());
        assert_eq!(
            "v1.34".parse::<PolicyVersion>().unwrap(),
            PolicyVersion::Minor(34)
        );
        assert_eq!(
            "latest".parse::<PolicyVersion>().unwrap(),
            PolicyVersion::Latest
        );
        for bad in ["v2.1", "1.30", "v1.", "v1.x", "v1.-1"] {
            assert!(bad.parse::<PolicyVersion>().is_err(), "{bad}");
        }
        assert!(PodSecurityLevel::Privileged < PodSecurityLevel::Restricted);
    }

    #[test]
    fn labels_resolve_like_the_admission_plugin() {
        assert_eq!(enforced(None).0, PodSecurityLevel::Privileged);
        let l = namespace_labels(PodSecurityLevel::Restricted, PolicyVersion::Minor(30));
        assert_eq!(
            enforced(Some(&l)),
            (PodSecurityLevel::Restricted, PolicyVersion::Minor(30))
        );
        let bad = BTreeMap::from([
            (ENFORCE_LABEL.to_owned(), "strict".to_owned()),
            (ENFORCE_VERSION_LABEL.to_owned(), "v9".to_owned()),
        ]);
        assert_eq!(
            enforced(Some(&bad)),
            (PodSecurityLevel::Restricted, PolicyVersion::Latest)
        );
    }
}
