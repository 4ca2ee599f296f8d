//! Kubernetes names: DNS-1123 labels and subdomains, DNS-1035 labels.
//!
//! Every identifier hxb accepts (organization, workspace, project, application names, label
//! values it writes into objects) is validated here first; the [`NameError`] names the exact
//! rule that failed, in the words of the Kubernetes API server.

use std::borrow::Borrow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

/// Which naming grammar a name must follow.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NameKind {
    /// RFC 1123 label: at most 63 characters, `[a-z0-9]([-a-z0-9]*[a-z0-9])?`.
    /// Namespaces and most hxb entities.
    Dns1123Label,
    /// RFC 1123 subdomain: at most 253 characters, labels joined by `.`.
    /// Most namespaced object names (ConfigMaps, Deployments, Roles…).
    Dns1123Subdomain,
    /// RFC 1035 label: like a 1123 label but must start with a letter. Services.
    Dns1035Label,
}

impl NameKind {
    /// Maximum length in bytes.
    pub const fn max_len(self) -> usize {
        match self {
            NameKind::Dns1123Label | NameKind::Dns1035Label => 63,
            NameKind::Dns1123Subdomain => 253,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            NameKind::Dns1123Label => "RFC 1123 label",
            NameKind::Dns1123Subdomain => "RFC 1123 subdomain",
            NameKind::Dns1035Label => "RFC 1035 label",
        }
    }
}

/// The rule a name broke.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum NameRule {
    /// The name is empty.
    Empty,
    /// The name is longer than allowed.
    TooLong {
        /// The maximum length.
        max: usize,
        /// The actual length.
        len: usize,
    },
    /// A character outside `[a-z0-9-]` (and `.` for subdomains); upper case and unicode land here.
    InvalidCharacter {
        /// The offending character.
        ch: char,
        /// Its byte offset.
        at: usize,
    },
    /// The name (or one of its dot-separated parts) starts with something other than `[a-z0-9]`.
    MustStartAlphanumeric,
    /// The name (or one of its dot-separated parts) ends with something other than `[a-z0-9]`.
    MustEndAlphanumeric,
    /// An RFC 1035 label starts with a digit.
    MustStartWithLetter,
    /// A subdomain has an empty part (`a..b`, `.a`, `a.`).
    EmptyPart,
}

impl fmt::Display for NameRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameRule::Empty => f.write_str("must not be empty"),
            NameRule::TooLong { max, len } => {
                write!(f, "must be no more than {max} characters (is {len})")
            }
            NameRule::InvalidCharacter { ch, at } => write!(
                f,
                "must consist of lower case alphanumeric characters or '-' (found {ch:?} at byte {at})"
            ),
            NameRule::MustStartAlphanumeric => {
                f.write_str("must start with an alphanumeric character")
            }
            NameRule::MustEndAlphanumeric => f.write_str("must end with an alphanumeric character"),
            NameRule::MustStartWithLetter => f.write_str("must start with an alphabetic character"),
            NameRule::EmptyPart => f.write_str("must not have an empty part between dots"),
        }
    }
}

/// A name that broke a Kubernetes naming rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("invalid {} {name:?}: {rule}", kind.describe())]
pub struct NameError {
    /// The rejected input.
    pub name: String,
    /// The grammar it was checked against.
    pub kind: NameKind,
    /// The rule it broke (the first one found).
    pub rule: NameRule,
}

fn check_label(s: &str, letter_first: bool) -> Result<(), NameRule> {
    if s.is_empty() {
        return Err(NameRule::Empty);
    }
    for (at, ch) in s.char_indices() {
        if !(ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-') {
            return Err(NameRule::InvalidCharacter { ch, at });
        }
    }
    let b = s.as_bytes();
    if !b[0].is_ascii_alphanumeric() {
        return Err(NameRule::MustStartAlphanumeric);
    }
    if letter_first && !b[0].is_ascii_alphabetic() {
        return Err(NameRule::MustStartWithLetter);
    }
    if !b[b.len() - 1].is_ascii_alphanumeric() {
        return Err(NameRule::MustEndAlphanumeric);
    }
    Ok(())
}

/// Validate `s` against `kind`, returning the first broken rule.
pub fn validate(s: &str, kind: NameKind) -> Result<(), NameError> {
    let err = |rule| NameError {
        name: s.to_owned(),
        kind,
        rule,
    };
    if s.is_empty() {
        return Err(err(NameRule::Empty));
    }
    let len = s.len();
    if len > kind.max_len() {
        return Err(err(NameRule::TooLong {
            max: kind.max_len(),
            len,
        }));
    }
    match kind {
        NameKind::Dns1123Label => check_label(s, false).map_err(err),
        NameKind::Dns1035Label => check_label(s, true).map_err(err),
        NameKind::Dns1123Subdomain => {
            let mut offset = 0;
            for part in s.split('.') {
                if part.is_empty() {
                    return Err(err(NameRule::EmptyPart));
                }
                check_label(part, false).map_err(|rule| match rule {
                    NameRule::InvalidCharacter { ch, at } => err(NameRule::InvalidCharacter {
                        ch,
                        at: at + offset,
                    }),
                    other => err(other),
                })?;
                offset += part.len() + 1;
            }
            Ok(())
        }
    }
}

/// A validated RFC 1123 label: the identifier of organizations, workspaces, projects, members'
/// scopes and applications. Cheap to clone, ordered, hashable, and serialised as a plain string.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Name(String);

impl Name {
    /// Validate and wrap `s`.
    pub fn new(s: impl Into<String>) -> Result<Self, NameError> {
        let s = s.into();
        validate(&s, NameKind::Dns1123Label)?;
        Ok(Name(s))
    }

    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The owned string.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl FromStr for Name {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Name::new(s)
    }
}

impl TryFrom<&str> for Name {
    type Error = NameError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Name::new(s)
    }
}

impl TryFrom<String> for Name {
    type Error = NameError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Name::new(s)
    }
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Name::new(s).map_err(serde::de::Error::custom)
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rule(s: &str, kind: NameKind) -> NameRule {
        validate(s, kind).unwrap_err().rule
    }

    #[test]
    fn accepts_valid_names() {
        for ok in ["a", "abc", "a-b", "0abc", "a1", &"a".repeat(63)] {
            assert!(Name::new(ok).is_ok(), "{ok}");
        }
        assert!(validate("a.b-c.d", NameKind::Dns1123Subdomain).is_ok());
        assert!(validate("svc-1", NameKind::Dns1035Label).is_ok());
    }

    #[test]
    fn names_the_broken_rule() {
        use NameKind::*;
        assert_eq!(rule("", Dns1123Label), NameRule::Empty);
        assert_eq!(
            rule(&"a".repeat(64), Dns1123Label),
            NameRule::TooLong { max: 63, len: 64 }
        );
        assert_eq!(
            rule("Abc", Dns1123Label),
            NameRule::InvalidCharacter { ch: 'A', at: 0 }
        );
        assert_eq!(
            rule("añb", Dns1123Label),
            NameRule::InvalidCharacter { ch: 'ñ', at: 1 }
        );
        assert_eq!(rule("-ab", Dns1123Label), NameRule::MustStartAlphanumeric);
        assert_eq!(rule("ab-", Dns1123Label), NameRule::MustEndAlphanumeric);
        assert_eq!(
            rule("a_b", Dns1123Label),
            NameRule::InvalidCharacter { ch: '_', at: 1 }
        );
        assert_eq!(
            rule("a.b", Dns1123Label),
            NameRule::InvalidCharacter { ch: '.', at: 1 }
        );
        assert_eq!(rule("1abc", Dns1035Label), NameRule::MustStartWithLetter);
        assert_eq!(rule("a..b", Dns1123Subdomain), NameRule::EmptyPart);
        assert_eq!(
            rule("a.B", Dns1123Subdomain),
            NameRule::InvalidCharacter { ch: 'B', at: 2 }
        );
        assert_eq!(
            rule(&"a".repeat(254), Dns1123Subdomain),
            NameRule::TooLong { max: 253, len: 254 }
        );
        let msg = Name::new("Bad").unwrap_err().to_string();
        assert!(
            msg.contains("RFC 1123 label") && msg.contains("lower case"),
            "{msg}"
        );
    }

    #[test]
    fn deserialize_validates() {
        assert!(serde_json::from_str::<Name>("\"ok\"").is_ok());
        assert!(serde_json::from_str::<Name>("\"NotOk\"").is_err());
    }

    proptest! {
        #[test]
        fn generated_labels_are_accepted(s in "[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?") {
            prop_assert!(Name::new(s).is_ok());
        }

        #[test]
        fn anything_accepted_matches_the_grammar(s in "\\PC{0,70}") {
            if Name::new(s.clone()).is_ok() {
                prop_assert!(s.len() <= 63);
                prop_assert!(s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
                prop_assert!(!s.starts_with('-') && !s.ends_with('-'));
            }
        }
    }
}
