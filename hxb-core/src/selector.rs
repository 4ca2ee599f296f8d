//! Label selectors: the Kubernetes string syntax, the structured `LabelSelector`, matching.
//!
//! ```
//! use hxb_core::Selector;
//! use std::collections::BTreeMap;
//! let s = Selector::parse("app=web,tier in (front,edge),!canary")?;
//! let labels = BTreeMap::from([("app".to_string(), "web".to_string()), ("tier".into(), "edge".into())]);
//! assert!(s.matches(&labels));
//! assert_eq!(s.to_string(), "app=web,tier in (edge,front),!canary");
//! # Ok::<(), hxb_core::Error>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};

use crate::error::{Error, Result};

/// One requirement of a selector.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Requirement {
    /// `key=value` / `key==value`.
    Equals(String, String),
    /// `key!=value` (also matches objects without the key).
    NotEquals(String, String),
    /// `key in (a,b)`.
    In(String, BTreeSet<String>),
    /// `key notin (a,b)` (also matches objects without the key).
    NotIn(String, BTreeSet<String>),
    /// `key`.
    Exists(String),
    /// `!key`.
    DoesNotExist(String),
}

impl Requirement {
    /// Whether `labels` satisfy this requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        match self {
            Requirement::Equals(k, v) => labels.get(k) == Some(v),
            Requirement::NotEquals(k, v) => labels.get(k) != Some(v),
            Requirement::In(k, vs) => labels.get(k).is_some_and(|v| vs.contains(v)),
            Requirement::NotIn(k, vs) => labels.get(k).is_none_or(|v| !vs.contains(v)),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::DoesNotExist(k) => !labels.contains_key(k),
        }
    }
}

/// A label selector: all requirements must hold. The empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Selector(Vec<Requirement>);

fn check_key(k: &str) -> Result<()> {
    let bad = |r: &str| Err(Error::invalid("label selector", format!("key {k:?} {r}")));
    let (prefix, name) = match k.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    if let Some(p) = prefix {
        crate::name::validate(p, crate::name::NameKind::Dns1123Subdomain)?;
    }
    if name.is_empty() || name.len() > 63 {
        return bad("must have a name of 1-63 characters");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        || !name.starts_with(|c: char| c.is_ascii_alphanumeric())
        || !name.ends_with(|c: char| c.is_ascii_alphanumeric())
    {
        return bad("must be alphanumeric, '-', '_' or '.', starting and ending alphanumeric");
    }
    Ok(())
}

fn check_value(v: &str) -> Result<()> {
    if v.len() > 63
        || !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        || (!v.is_empty()
            && (!v.starts_with(|c: char| c.is_ascii_alphanumeric())
                || !v.ends_with(|c: char| c.is_ascii_alphanumeric())))
    {
        return Err(Error::invalid(
            "label selector",
            format!("value {v:?} is not a valid label value"),
        ));
    }
    Ok(())
}

impl Selector {
    /// The selector that matches everything.
    pub fn everything() -> Self {
        Selector(Vec::new())
    }

    /// A selector from requirements.
    pub fn new(reqs: Vec<Requirement>) -> Self {
        Selector(reqs)
    }

    /// `k1=v1,k2=v2,…` from a label map.
    pub fn from_labels<'a>(labels: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Selector(
            labels
                .into_iter()
                .map(|(k, v)| Requirement::Equals(k.to_owned(), v.to_owned()))
                .collect(),
        )
    }

    /// The requirements.
    pub fn requirements(&self) -> &[Requirement] {
        &self.0
    }

    /// Whether this selector matches everything.
    pub fn is_everything(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `labels` satisfy every requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.0.iter().all(|r| r.matches(labels))
    }

    /// Add a requirement.
    pub fn and(mut self, r: Requirement) -> Self {
        self.0.push(r);
        self
    }

    /// Parse the Kubernetes string syntax (`a=b,c!=d,e in (x,y),f notin (z),g,!h`).
    pub fn parse(input: &str) -> Result<Self> {
        let err = |m: String| Error::invalid("label selector", format!("{input:?}: {m}"));
        let mut reqs = Vec::new();
        let mut rest = input.trim();
        while !rest.is_empty() {
            // Split the next requirement at a top-level comma (commas inside parentheses belong
            // to a set).
            let mut depth = 0i32;
            let mut end = rest.len();
            for (i, c) in rest.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    ',' if depth == 0 => {
                        end = i;
                        break;
                    }
                    _ => {}
                }
                if depth < 0 {
                    return Err(err("unbalanced ')'".into()));
                }
            }
            if depth != 0 {
                return Err(err("unbalanced '('".into()));
            }
            let part = rest[..end].trim();
            rest = if end < rest.len() {
                rest[end + 1..].trim_start()
            } else {
                ""
            };
            if part.is_empty() {
                return Err(err("empty requirement".into()));
            }
            reqs.push(parse_requirement(part).map_err(|e| match e {
                Error::InvalidInput { reason, .. } => err(reason),
                other => other,
            })?);
            if end < input.len() && rest.is_empty() && input.trim_end().ends_with(',') {
                return Err(err("trailing ','".into()));
            }
        }
        Ok(Selector(reqs))
    }

    /// From a structured `LabelSelector` (matchLabels + matchExpressions).
    pub fn from_label_selector(ls: &LabelSelector) -> Result<Self> {
        let mut reqs = Vec::new();
        for (k, v) in ls.match_labels.iter().flatten() {
            check_key(k)?;
            check_value(v)?;
            reqs.push(Requirement::Equals(k.clone(), v.clone()));
        }
        for e in ls.match_expressions.iter().flatten() {
            check_key(&e.key)?;
            let values: BTreeSet<String> = e.values.iter().flatten().cloned().collect();
            for v in &values {
                check_value(v)?;
            }
            let r = match e.operator.as_str() {
                "In" | "NotIn" if values.is_empty() => {
                    return Err(Error::invalid(
                        "label selector",
                        format!("{} needs values", e.operator),
                    ));
                }
                "In" => Requirement::In(e.key.clone(), values),
                "NotIn" => Requirement::NotIn(e.key.clone(), values),
                "Exists" | "DoesNotExist" if !values.is_empty() => {
                    return Err(Error::invalid(
                        "label selector",
                        format!("{} takes no values", e.operator),
                    ));
                }
                "Exists" => Requirement::Exists(e.key.clone()),
                "DoesNotExist" => Requirement::DoesNotExist(e.key.clone()),
                op => {
                    return Err(Error::invalid(
                        "label selector",
                        format!("unknown operator {op:?}"),
                    ));
                }
            };
            reqs.push(r);
        }
        Ok(Selector(reqs))
    }

    /// To a structured `LabelSelector`.
    pub fn to_label_selector(&self) -> LabelSelector {
        let mut labels = BTreeMap::new();
        let mut exprs = Vec::new();
        let req = |key: &str, op: &str, values: Option<Vec<String>>| LabelSelectorRequirement {
            key: key.to_owned(),
            operator: op.to_owned(),
            values,
        };
        for r in &self.0 {
            match r {
                Requirement::Equals(k, v) => {
                    labels.insert(k.clone(), v.clone());
                }
                Requirement::NotEquals(k, v) => exprs.push(req(k, "NotIn", Some(vec![v.clone()]))),
                Requirement::In(k, vs) => {
                    exprs.push(req(k, "In", Some(vs.iter().cloned().collect())))
                }
                Requirement::NotIn(k, vs) => {
                    exprs.push(req(k, "NotIn", Some(vs.iter().cloned().collect())))
                }
                Requirement::Exists(k) => exprs.push(req(k, "Exists", None)),
                Requirement::DoesNotExist(k) => exprs.push(req(k, "DoesNotExist", None)),
            }
        }
        LabelSelector {
            match_labels: (!labels.is_empty()).then_some(labels),
            match_expressions: (!exprs.is_empty()).then_some(exprs),
        }
    }
}

fn parse_set(s: &str) -> Result<BTreeSet<String>> {
    let inner = s
        .trim()
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(|| Error::invalid("label selector", format!("expected '(values)' in {s:?}")))?;
    if inner.trim().is_empty() {
        return Err(Error::invalid(
            "label selector",
            "a set of values must not be empty",
        ));
    }
    let mut set = BTreeSet::new();
    for v in inner.split(',') {
        let v = v.trim();
        check_value(v)?;
        set.insert(v.to_owned());
    }
    Ok(set)
}

fn parse_requirement(part: &str) -> Result<Requirement> {
    if let Some(k) = part.strip_prefix('!') {
        let k = k.trim();
        check_key(k)?;
        return Ok(Requirement::DoesNotExist(k.to_owned()));
    }
    if let Some((k, v)) = part.split_once("!=") {
        let (k, v) = (k.trim(), v.trim());
        check_key(k)?;
        check_value(v)?;
        return Ok(Requirement::NotEquals(k.to_owned(), v.to_owned()));
    }
    if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
        let (k, v) = (k.trim(), v.trim());
        check_key(k)?;
        check_value(v)?;
        return Ok(Requirement::Equals(k.to_owned(), v.to_owned()));
    }
    let mut words = part.splitn(2, char::is_whitespace);
    let key = words.next().unwrap_or("").trim();
    let tail = words.next().unwrap_or("").trim();
    check_key(key)?;
    if tail.is_empty() {
        return Ok(Requirement::Exists(key.to_owned()));
    }
    if let Some(set) = tail.strip_prefix("notin") {
        return Ok(Requirement::NotIn(key.to_owned(), parse_set(set)?));
    }
    if let Some(set) = tail.strip_prefix("in") {
        return Ok(Requirement::In(key.to_owned(), parse_set(set)?));
    }
    Err(Error::invalid(
        "label selector",
        format!("cannot parse requirement {part:?}"),
    ))
}

impl fmt::Display for Selector {
    /// The Kubernetes string form (what `kubectl -l` and the API's `labelSelector` take).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |vs: &BTreeSet<String>| vs.iter().cloned().collect::<Vec<_>>().join(",");
        for (i, r) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match r {
                Requirement::Equals(k, v) => write!(f, "{k}={v}")?,
                Requirement::NotEquals(k, v) => write!(f, "{k}!={v}")?,
                Requirement::In(k, vs) => write!(f, "{k} in ({})", set(vs))?,
                Requirement::NotIn(k, vs) => write!(f, "{k} notin ({})", set(vs))?,
                Requirement::Exists(k) => write!(f, "{k}")?,
                Requirement::DoesNotExist(k) => write!(f, "!{k}")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn labels(p: &[(&str, &str)]) -> BTreeMap<String, String> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_every_operator() {
        let s =
            Selector::parse("a=1, b==2,c!=3,d in (x, y),e notin (z),f,!g,hxb.io/org=acme").unwrap();
        assert_eq!(s.requirements().len(), 8);
        let l = labels(&[
            ("a", "1"),
            ("b", "2"),
            ("d", "y"),
            ("f", ""),
            ("hxb.io/org", "acme"),
        ]);
        assert!(s.matches(&l));
        let mut l2 = l.clone();
        l2.insert("g".into(), "1".into());
        assert!(!s.matches(&l2));
        assert!(Selector::everything().matches(&BTreeMap::new()));
        assert!(Selector::parse("").unwrap().is_everything());
    }

    #[test]
    fn rejects_malformed_selectors() {
        for bad in [
            "=b", "a in x", "a in (x", "a,,b", "a=b,", "A B C", "-a=b", "a in ()", "a=b c",
        ] {
            let r = Selector::parse(bad);
            assert!(r.is_err(), "{bad:?} parsed as {r:?}");
        }
    }

    #[test]
    fn structured_round_trip() {
        let s = Selector::parse("a=1,c!=3,d in (x,y),f,!g").unwrap();
        let back = Selector::from_label_selector(&s.to_label_selector()).unwrap();
        let l = labels(&[("a", "1"), ("d", "x"), ("f", "v")]);
        assert_eq!(s.matches(&l), back.matches(&l));
        let bad = LabelSelector {
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "a".into(),
                operator: "Near".into(),
                values: None,
            }]),
            ..Default::default()
        };
        assert!(Selector::from_label_selector(&bad).is_err());
    }

    proptest! {
        #[test]
        fn display_then_parse_is_identity(
            keys in proptest::collection::vec("[a-z][a-z0-9]{0,5}", 1..5),
            vals in proptest::collection::vec("[a-z0-9]{1,5}", 1..5),
            ops in proptest::collection::vec(0u8..6, 1..5),
        ) {
            let reqs: Vec<_> = keys.iter().zip(vals.iter().cycle()).zip(ops.iter()).map(|((k, v), op)| match op {
                0 => Requirement::Equals(k.clone(), v.clone()),
                1 => Requirement::NotEquals(k.clone(), v.clone()),
                2 => Requirement::In(k.clone(), [v.clone()].into()),
                3 => Requirement::NotIn(k.clone(), [v.clone(), "zz".into()].into()),
                4 => Requirement::Exists(k.clone()),
                _ => Requirement::DoesNotExist(k.clone()),
            }).collect();
            let s = Selector::new(reqs);
            prop_assert_eq!(Selector::parse(&s.to_string()).unwrap(), s);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,40}") {
            let _ = Selector::parse(&s);
        }
    }
}
