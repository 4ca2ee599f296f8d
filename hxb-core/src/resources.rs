//! Resource names and resource lists: the maths of requests, limits and quotas.
//!
//! A [`ResourceList`] maps a [`ResourceName`] (`cpu`, `requests.memory`, `pods`,
//! `count/services`…) to a [`Quantity`]. Every operation is exact and checked: sums that would
//! overflow are errors, not wrap-arounds.
//!
//! ```
//! use hxb_core::{ResourceList, Quantity};
//! let quota = ResourceList::parse([("requests.cpu", "2"), ("requests.memory", "4Gi")])?;
//! let used = ResourceList::parse([("requests.cpu", "1500m"), ("requests.memory", "1Gi")])?;
//! let ask = ResourceList::parse([("requests.cpu", "600m")])?;
//! let after = used.checked_add(&ask)?;
//! let over = after.exceeding(&quota);
//! assert_eq!(over.len(), 1);
//! assert_eq!(over[0].0.as_str(), "requests.cpu");
//! # Ok::<(), hxb_core::Error>(())
//! ```

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, Exceeded, QuotaExceeded, Result};
use crate::quantity::{Quantity, QuantityError};

/// The name of a resource, e.g. `cpu`, `memory`, `requests.cpu`, `limits.memory`, `pods`,
/// `services`, `persistentvolumeclaims`, `requests.storage`, `count/deployments.apps`.
///
/// Validated as a Kubernetes qualified name (optionally `prefix/`): non-empty, at most 253
/// bytes, ASCII letters, digits, `-`, `_`, `.` and at most one `/`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ResourceName(String);

impl ResourceName {
    /// `cpu`
    pub const CPU: &'static str = "cpu";
    /// `memory`
    pub const MEMORY: &'static str = "memory";
    /// `storage`
    pub const STORAGE: &'static str = "storage";
    /// `pods`
    pub const PODS: &'static str = "pods";
    /// `services`
    pub const SERVICES: &'static str = "services";
    /// `persistentvolumeclaims`
    pub const PVCS: &'static str = "persistentvolumeclaims";
    /// `requests.cpu`
    pub const REQUESTS_CPU: &'static str = "requests.cpu";
    /// `requests.memory`
    pub const REQUESTS_MEMORY: &'static str = "requests.memory";
    /// `requests.storage`
    pub const REQUESTS_STORAGE: &'static str = "requests.storage";
    /// `limits.cpu`
    pub const LIMITS_CPU: &'static str = "limits.cpu";
    /// `limits.memory`
    pub const LIMITS_MEMORY: &'static str = "limits.memory";

    /// Validate and wrap a resource name.
    pub fn new(s: impl Into<String>) -> Result<Self> {
        let s = s.into();
        let bad = |reason: &str| Error::invalid("resource name", format!("{s:?} {reason}"));
        if s.is_empty() {
            return Err(bad("must not be empty"));
        }
        if s.len() > 253 {
            return Err(bad("must be no more than 253 characters"));
        }
        if s.matches('/').count() > 1 {
            return Err(bad("may contain at most one '/'"));
        }
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')))
        {
            return Err(bad(&format!("must not contain {c:?}")));
        }
        if s.starts_with(['-', '.', '/', '_']) || s.ends_with(['-', '.', '/', '_']) {
            return Err(bad("must start and end with an alphanumeric character"));
        }
        Ok(ResourceName(s))
    }

    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for ResourceName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        ResourceName::new(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for ResourceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ResourceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl std::borrow::Borrow<str> for ResourceName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

/// A set of named, non-negative quantities (a quota, a request, a usage figure).
///
/// A resource absent from a list used as a *limit* is unlimited; absent from a list used as
/// an *amount* it is zero.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ResourceList(BTreeMap<ResourceName, Quantity>);

impl ResourceList {
    /// An empty list.
    pub fn new() -> Self {
        ResourceList(BTreeMap::new())
    }

    /// Build from `(name, quantity text)` pairs, validating both; negative amounts are refused.
    pub fn parse<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self> {
        let mut list = ResourceList::new();
        for (name, q) in pairs {
            list.set(ResourceName::new(name)?, Quantity::parse_non_negative(q)?)?;
        }
        Ok(list)
    }

    /// Build from `(name, quantity)` pairs; negative amounts are refused.
    pub fn from_quantities<'a>(
        pairs: impl IntoIterator<Item = (&'a str, Quantity)>,
    ) -> Result<Self> {
        let mut list = ResourceList::new();
        for (name, q) in pairs {
            list.set(ResourceName::new(name)?, q)?;
        }
        Ok(list)
    }

    /// Set one resource (negative amounts are refused).
    pub fn set(&mut self, name: ResourceName, q: Quantity) -> Result<()> {
        if q.is_negative() {
            return Err(QuantityError::Negative {
                input: format!("{name}={q}"),
            }
            .into());
        }
        self.0.insert(name, q);
        Ok(())
    }

    /// The quantity of `name`, if present.
    pub fn get(&self, name: &str) -> Option<Quantity> {
        self.0.get(name).copied()
    }

    /// The quantity of `name`, zero if absent.
    pub fn get_or_zero(&self, name: &str) -> Quantity {
        self.get(name).unwrap_or(Quantity::ZERO)
    }

    /// Remove one resource.
    pub fn remove(&mut self, name: &str) -> Option<Quantity> {
        self.0.remove(name)
    }

    /// Iterate in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&ResourceName, &Quantity)> {
        self.0.iter()
    }

    /// Number of resources listed.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no resource is listed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether every listed quantity is zero.
    pub fn is_zero(&self) -> bool {
        self.0.values().all(Quantity::is_zero)
    }

    /// Per-resource sum (union of names).
    pub fn checked_add(&self, other: &ResourceList) -> Result<ResourceList> {
        let mut out = self.clone();
        for (k, v) in &other.0 {
            let cur = out.get_or_zero(k.as_str());
            out.0.insert(k.clone(), cur.checked_add(v)?);
        }
        Ok(out)
    }

    /// Per-resource difference `self - other`, clamped at zero (usage after a release).
    pub fn saturating_sub(&self, other: &ResourceList) -> Result<ResourceList> {
        let mut out = self.clone();
        for (k, v) in &other.0 {
            let cur = out.get_or_zero(k.as_str());
            out.0
                .insert(k.clone(), cur.checked_sub(v)?.max(Quantity::ZERO));
        }
        Ok(out)
    }

    /// Per-resource difference that refuses to go below zero: an error names the first
    /// resource that would.
    pub fn checked_sub(&self, other: &ResourceList) -> Result<ResourceList> {
        let mut out = self.clone();
        for (k, v) in &other.0 {
            let cur = out.get_or_zero(k.as_str());
            let d = cur.checked_sub(v)?;
            if d.is_negative() {
                return Err(Error::invalid(
                    "resource list",
                    format!("{k}: cannot subtract {v} from {cur}"),
                ));
            }
            out.0.insert(k.clone(), d);
        }
        Ok(out)
    }

    /// Every quantity × `numerator / denominator`, rounded up.
    pub fn checked_scale(&self, numerator: i64, denominator: i64) -> Result<ResourceList> {
        let mut out = ResourceList::new();
        for (k, v) in &self.0 {
            let s = v.checked_mul_ratio(numerator, denominator)?;
            if s.is_negative() {
                return Err(Error::invalid(
                    "scale",
                    "scaling must not make amounts negative",
                ));
            }
            out.0.insert(k.clone(), s);
        }
        Ok(out)
    }

    /// Sum of many lists.
    pub fn checked_sum<'a>(
        lists: impl IntoIterator<Item = &'a ResourceList>,
    ) -> Result<ResourceList> {
        lists
            .into_iter()
            .try_fold(ResourceList::new(), |acc, l| acc.checked_add(l))
    }

    /// The resources of `self` that exceed `limit`, as `(name, amount, limit)`.
    /// Resources absent from `limit` are unlimited.
    pub fn exceeding(&self, limit: &ResourceList) -> Vec<(ResourceName, Quantity, Quantity)> {
        self.0
            .iter()
            .filter_map(|(k, v)| match limit.get(k.as_str()) {
                Some(l) if *v > l => Some((k.clone(), *v, l)),
                _ => None,
            })
            .collect()
    }

    /// Whether every resource of `self` is within `limit` (absent limits are unlimited).
    pub fn fits_within(&self, limit: &ResourceList) -> bool {
        self.0
            .iter()
            .all(|(k, v)| limit.get(k.as_str()).is_none_or(|l| *v <= l))
    }

    /// Quota admission: would `used + requested` stay within `hard`? On refusal the error
    /// lists every offending resource of `requested` (only the resources `hard` limits count).
    pub fn admit(
        quota: &str,
        hard: &ResourceList,
        used: &ResourceList,
        requested: &ResourceList,
    ) -> Result<()> {
        let mut exceeded = Vec::new();
        for (k, req) in &requested.0 {
            let Some(limit) = hard.get(k.as_str()) else {
                continue;
            };
            let u = used.get_or_zero(k.as_str());
            if u.checked_add(req)? > limit {
                exceeded.push(Exceeded {
                    resource: k.clone(),
                    requested: *req,
                    used: u,
                    limit,
                });
            }
        }
        if exceeded.is_empty() {
            Ok(())
        } else {
            Err(QuotaExceeded {
                quota: quota.to_owned(),
                exceeded,
            }
            .into())
        }
    }

    /// Per-resource comparison over the union of names (absent counts as zero).
    pub fn compare(&self, other: &ResourceList) -> BTreeMap<ResourceName, Ordering> {
        let mut out = BTreeMap::new();
        for k in self.0.keys().chain(other.0.keys()) {
            let c = self
                .get_or_zero(k.as_str())
                .cmp(&other.get_or_zero(k.as_str()));
            out.insert(k.clone(), c);
        }
        out
    }

    /// Per-resource maximum over the union of names.
    pub fn max(&self, other: &ResourceList) -> ResourceList {
        let mut out = self.clone();
        for (k, v) in &other.0 {
            let cur = out.get_or_zero(k.as_str());
            out.0.insert(k.clone(), cur.max(*v));
        }
        out
    }

    /// Keep only the named resources.
    pub fn only(&self, names: &[&str]) -> ResourceList {
        ResourceList(
            self.0
                .iter()
                .filter(|(k, _)| names.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
        )
    }

    /// Convert to the Kubernetes wire map.
    pub fn to_k8s(&self) -> BTreeMap<String, K8sQuantity> {
        self.0
            .iter()
            .map(|(k, v)| (k.0.clone(), v.to_k8s()))
            .collect()
    }

    /// Convert from the Kubernetes wire map, validating every entry.
    pub fn from_k8s(map: &BTreeMap<String, K8sQuantity>) -> Result<Self> {
        let mut list = ResourceList::new();
        for (k, v) in map {
            list.set(
                ResourceName::new(k.clone())?,
                Quantity::parse_non_negative(&v.0)?,
            )?;
        }
        Ok(list)
    }
}

impl fmt::Debug for ResourceList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(k, v)| (k.as_str(), v.to_string())))
            .finish()
    }
}

impl fmt::Display for ResourceList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{k}={v}")?;
        }
        Ok(())
    }
}

impl<'a> FromIterator<(&'a ResourceName, &'a Quantity)> for ResourceList {
    fn from_iter<T: IntoIterator<Item = (&'a ResourceName, &'a Quantity)>>(iter: T) -> Self {
        ResourceList(iter.into_iter().map(|(k, v)| (k.clone(), *v)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use proptest::prelude::*;

    fn rl(p: &[(&str, &str)]) -> ResourceList {
        ResourceList::parse(p.iter().copied()).unwrap()
    }

    #[test]
    fn add_sub_scale_compare() {
        let a = rl(&[("cpu", "500m"), ("memory", "1Gi")]);
        let b = rl(&[("cpu", "1500m"), ("pods", "3")]);
        let s = a.checked_add(&b).unwrap();
        assert_eq!(s, rl(&[("cpu", "2"), ("memory", "1Gi"), ("pods", "3")]));
        assert_eq!(
            s.checked_sub(&b).unwrap(),
            rl(&[("cpu", "500m"), ("memory", "1Gi"), ("pods", "0")])
        );
        assert!(a.checked_sub(&b).is_err());
        assert_eq!(
            a.saturating_sub(&b).unwrap().get("cpu"),
            Some(Quantity::ZERO)
        );
        assert_eq!(
            a.checked_scale(3, 2).unwrap(),
            rl(&[("cpu", "750m"), ("memory", "1536Mi")])
        );
        let cmp = a.compare(&b);
        assert_eq!(cmp["cpu"], Ordering::Less);
        assert_eq!(cmp["memory"], Ordering::Greater);
        assert_eq!(cmp["pods"], Ordering::Less);
    }

    #[test]
    fn fits_within_treats_absent_limits_as_unlimited() {
        let limit = rl(&[("cpu", "2")]);
        assert!(rl(&[("cpu", "2"), ("memory", "100Gi")]).fits_within(&limit));
        assert!(!rl(&[("cpu", "2001m")]).fits_within(&limit));
        assert_eq!(rl(&[("cpu", "3")]).exceeding(&limit).len(), 1);
    }

    #[test]
    fn admission_lists_every_offender() {
        let hard = rl(&[
            ("requests.cpu", "2"),
            ("requests.memory", "4Gi"),
            ("pods", "2"),
        ]);
        let used = rl(&[
            ("requests.cpu", "1"),
            ("requests.memory", "3Gi"),
            ("pods", "1"),
        ]);
        let ok = rl(&[("requests.cpu", "1"), ("pods", "1")]);
        assert!(ResourceList::admit("q", &hard, &used, &ok).is_ok());
        let bad = rl(&[
            ("requests.cpu", "1100m"),
            ("requests.memory", "2Gi"),
            ("pods", "1"),
        ]);
        let err = ResourceList::admit("ns/q", &hard, &used, &bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::QuotaExceeded);
        let Error::QuotaExceeded(q) = err else {
            unreachable!()
        };
        let names: Vec<_> = q.exceeded.iter().map(|e| e.resource.as_str()).collect();
        assert_eq!(names, ["requests.cpu", "requests.memory"]);
        assert!(
            q.to_string()
                .contains("requests.cpu: requested 1100m, used 1, limited 2"),
            "{q}"
        );
    }

    #[test]
    fn bad_input_is_typed() {
        for (n, v) in [
            ("cpu", "-1"),
            ("cpu", "1.5.5"),
            ("", "1"),
            ("Cpu!", "1"),
            ("a/b/c", "1"),
        ] {
            let e = ResourceList::parse([(n, v)]).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{n}={v}");
        }
        let huge = rl(&[("memory", "100000000000E")]);
        let e = ResourceList::checked_sum([&huge, &huge, &huge]).unwrap_err();
        assert!(
            matches!(e, Error::InvalidQuantity(QuantityError::Overflow { .. })),
            "{e}"
        );
    }

    #[test]
    fn k8s_round_trip() {
        let a = rl(&[("cpu", "0.5"), ("memory", "1.5Gi")]);
        let wire = a.to_k8s();
        assert_eq!(wire["cpu"].0, "500m");
        assert_eq!(wire["memory"].0, "1536Mi");
        assert_eq!(ResourceList::from_k8s(&wire).unwrap(), a);
    }

    proptest! {
        #[test]
        fn sum_is_commutative_and_fits(a in 0i64..1_000_000, b in 0i64..1_000_000) {
            let x = ResourceList::from_quantities([("cpu", Quantity::from_milli(a))]).unwrap();
            let y = ResourceList::from_quantities([("cpu", Quantity::from_milli(b))]).unwrap();
            let s = x.checked_add(&y).unwrap();
            prop_assert_eq!(&s, &y.checked_add(&x).unwrap());
            prop_assert!(x.fits_within(&s) && y.fits_within(&s));
            prop_assert_eq!(s.checked_sub(&y).unwrap(), x);
        }
    }
}
