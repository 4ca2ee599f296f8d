//! Does a live object already say what the desired one says?
//!
//! The API server adds to what hxb writes (uid, resourceVersion, timestamps, status, defaulted
//! fields) and other controllers may add labels or annotations; none of that is drift. Drift
//! is a field hxb sets whose live value differs, or is missing. So the test is containment:
//! every field of the desired object (outside server-owned metadata) must be present in the
//! live one with an equal value. Arrays must match element for element (each element
//! contained); quantities compare by value (`"1024Mi"` equals `"1Gi"`).

use hxb_core::Quantity;
use serde_json::Value;

/// Metadata fields hxb sets; everything else in `metadata` belongs to the server.
const OWNED_METADATA: [&str; 2] = ["labels", "annotations"];

/// Annotation keys hxb sets on some objects and not on others (dedicated placement): when
/// the desired object lacks one the live object has, it must be removed, which neither an
/// apply patch (on every backend) nor containment can express.
pub const OWNED_ANNOTATIONS: [&str; 2] = [
    "scheduler.alpha.kubernetes.io/node-selector",
    "scheduler.alpha.kubernetes.io/defaultTolerations",
];

/// Owned annotation keys present on `live` but not wanted by `desired`.
pub fn stale_annotations(live: &Value, desired: &Value) -> Vec<&'static str> {
    let has = |v: &Value, k: &str| v["metadata"]["annotations"].get(k).is_some();
    OWNED_ANNOTATIONS
        .into_iter()
        .filter(|k| has(live, k) && !has(desired, k))
        .collect()
}

/// Whether `live` contains everything `desired` specifies.
pub fn contains(live: &Value, desired: &Value) -> bool {
    let (Some(live), Some(desired)) = (live.as_object(), desired.as_object()) else {
        return subset(live, desired);
    };
    desired.iter().all(|(k, d)| match k.as_str() {
        "metadata" => {
            let lm = live.get("metadata");
            OWNED_METADATA.iter().all(|f| match d.get(*f) {
                None | Some(Value::Null) => true,
                Some(want) => lm
                    .and_then(|m| m.get(*f))
                    .is_some_and(|have| subset(have, want)),
            })
        }
        _ => live.get(k).is_some_and(|l| subset(l, d)),
    })
}

fn subset(live: &Value, desired: &Value) -> bool {
    match (live, desired) {
        (_, Value::Null) => true,
        (Value::Object(l), Value::Object(d)) => d.iter().all(|(k, dv)| match l.get(k) {
            Some(lv) => subset(lv, dv),
            None => dv.is_null() || dv.as_array().is_some_and(Vec::is_empty),
        }),
        (Value::Array(l), Value::Array(d)) => {
            l.len() == d.len() && l.iter().zip(d).all(|(lv, dv)| subset(lv, dv))
        }
        (Value::String(l), Value::String(d)) => l == d || same_quantity(l, d),
        (l, d) => l == d,
    }
}

fn same_quantity(a: &str, b: &str) -> bool {
    match (Quantity::parse(a), Quantity::parse(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn server_additions_are_not_drift() {
        let desired = json!({"apiVersion": "v1", "kind": "ResourceQuota",
            "metadata": {"name": "q", "namespace": "n", "labels": {"a": "1"}},
            "spec": {"hard": {"pods": "10", "requests.memory": "1Gi"}}});
        let live = json!({"apiVersion": "v1", "kind": "ResourceQuota",
            "metadata": {"name": "q", "namespace": "n", "uid": "x", "resourceVersion": "7",
                         "labels": {"a": "1", "other": "z"}},
            "spec": {"hard": {"pods": "10", "requests.memory": "1024Mi"}},
            "status": {"used": {"pods": "3"}}});
        assert!(contains(&live, &desired));
    }

    #[test]
    fn edits_and_removals_are_drift() {
        let desired = json!({"metadata": {"labels": {"a": "1"}}, "spec": {"hard": {"pods": "10"}},
                             "rules": [{"verbs": ["get"]}]});
        let ok = json!({"metadata": {"labels": {"a": "1"}}, "spec": {"hard": {"pods": "10"}},
                        "rules": [{"verbs": ["get"]}]});
        assert!(contains(&ok, &desired));
        let mut edited = ok.clone();
        edited["spec"]["hard"]["pods"] = json!("11");
        assert!(!contains(&edited, &desired));
        let mut relabelled = ok.clone();
        relabelled["metadata"]["labels"]["a"] = json!("2");
        assert!(!contains(&relabelled, &desired));
        let mut widened = ok.clone();
        widened["rules"][0]["verbs"] = json!(["get", "delete"]);
        assert!(!contains(&widened, &desired));
        let mut extra_rule = ok;
        extra_rule["rules"] = json!([{"verbs": ["get"]}, {"verbs": ["*"]}]);
        assert!(!contains(&extra_rule, &desired));
    }
}
