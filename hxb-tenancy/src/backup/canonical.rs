//! Cleaning, canonical JSON and content hashes. Pure.
//!
//! [`clean`] removes what the cluster manages rather than the user declares, so two reads of
//! the same object (or the object and its restored copy) are equal:
//!
//! * `status`; `metadata.uid`, `resourceVersion`, `managedFields`, `creationTimestamp`
//!   (also the `null` one API servers write into pod templates), `generation`, `selfLink`,
//!   `deletionTimestamp`, `deletionGracePeriodSeconds`, `ownerReferences` (they name uids);
//! * generated labels (`pod-template-hash`, `controller-revision-hash`,
//!   `statefulset.kubernetes.io/pod-name`) and annotations (`kubectl…/last-applied-configuration`,
//!   `deployment.kubernetes.io/revision`, `pv.kubernetes.io/*`, `volume.kubernetes.io/*`,
//!   `volume.beta.kubernetes.io/*`), and `kubernetes.io/*` finalizers, at every level;
//! * allocated addresses of Services (`clusterIP` unless `None`, `clusterIPs`, `ipFamilies`,
//!   `healthCheckNodePort`, `ports[].nodePort`) and a PVC's bound `spec.volumeName`;
//! * `null` fields (absent and `null` mean the same to the API).
//!
//! [`canonical_json`] writes keys sorted at every level, no whitespace; [`sha256`] hashes that.

use std::fmt::Write;

use hxb_core::Result;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::SnapshotObject;
use crate::apps::Application;
use crate::engine::state::encode;

const METADATA_DROP: [&str; 9] = [
    "uid",
    "resourceVersion",
    "managedFields",
    "creationTimestamp",
    "generation",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "ownerReferences",
];

const GENERATED_LABELS: [&str; 3] = [
    "pod-template-hash",
    "controller-revision-hash",
    "statefulset.kubernetes.io/pod-name",
];

const GENERATED_ANNOTATION_PREFIXES: [&str; 5] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
    "pv.kubernetes.io/",
    "volume.kubernetes.io/",
    "volume.beta.kubernetes.io/",
];

/// `obj` without cluster-managed fields (see the module documentation).
pub fn clean(obj: &Value) -> Value {
    let mut v = drop_nulls(obj);
    let kind = v["kind"].as_str().unwrap_or_default().to_owned();
    if let Some(map) = v.as_object_mut() {
        map.remove("status");
    }
    clean_metadata_everywhere(&mut v);
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        for f in METADATA_DROP {
            meta.remove(f);
        }
    }
    let spec = v.get_mut("spec").and_then(Value::as_object_mut);
    match (kind.as_str(), spec) {
        ("Service", Some(spec)) => {
            if spec.get("clusterIP").and_then(Value::as_str) != Some("None") {
                spec.remove("clusterIP");
            }
            for f in ["clusterIPs", "ipFamilies", "healthCheckNodePort"] {
                spec.remove(f);
            }
            if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
                for p in ports.iter_mut().filter_map(Value::as_object_mut) {
                    p.remove("nodePort");
                }
            }
        }
        ("PersistentVolumeClaim", Some(spec)) => {
            spec.remove("volumeName");
        }
        _ => {}
    }
    v
}

fn drop_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), drop_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(drop_nulls).collect()),
        other => other.clone(),
    }
}

/// Clean every `metadata` map in the tree (the object's and its templates').
fn clean_metadata_everywhere(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if let Some(meta) = m.get_mut("metadata").and_then(Value::as_object_mut) {
                clean_meta(meta);
            }
            for (_, child) in m.iter_mut() {
                clean_metadata_everywhere(child);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(clean_metadata_everywhere),
        _ => {}
    }
}

fn clean_meta(meta: &mut Map<String, Value>) {
    meta.remove("creationTimestamp");
    if let Some(l) = meta.get_mut("labels").and_then(Value::as_object_mut) {
        for k in GENERATED_LABELS {
            l.remove(k);
        }
    }
    if let Some(a) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
        a.retain(|k, _| {
            !GENERATED_ANNOTATION_PREFIXES
                .iter()
                .any(|p| k.starts_with(p))
        });
        if a.is_empty() {
            meta.remove("annotations");
        }
    }
    if let Some(f) = meta.get_mut("finalizers").and_then(Value::as_array_mut) {
        f.retain(|x| !x.as_str().is_some_and(|s| s.starts_with("kubernetes.io/")));
        if f.is_empty() {
            meta.remove("finalizers");
        }
    }
}

/// Keys sorted at every level, no whitespace: the same value always gives the same bytes,
/// whatever order its maps were built in.
pub fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&m[k], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// `sha256:<hex>` of the canonical form of `v`.
pub fn sha256(v: &Value) -> String {
    let digest = Sha256::digest(canonical_json(v).as_bytes());
    let mut s = String::with_capacity(7 + 64);
    s.push_str("sha256:");
    for b in digest {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The content hash of a snapshot: applications sorted by name and objects sorted by
/// identity, canonicalised and hashed.
pub fn content_hash(apps: &[Application], objects: &[SnapshotObject]) -> Result<String> {
    let mut apps: Vec<&Application> = apps.iter().collect();
    apps.sort_by(|a, b| a.name.cmp(&b.name));
    let mut objects: Vec<&SnapshotObject> = objects.iter().collect();
    objects.sort_by_cached_key(|o| o.key());
    let body = serde_json::json!({
        "apps": encode(&apps)?,
        "objects": encode(&objects)?,
    });
    Ok(sha256(&body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn deployment() -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "shop", "namespace": "acme-dev-web",
                "labels": {"hxb.io/app": "shop", "app.kubernetes.io/managed-by": "hxb"}},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"hxb.io/app": "shop"}},
                "template": {"metadata": {"labels": {"hxb.io/app": "shop"}},
                    "spec": {"containers": [{"name": "app", "image": "shop:1"}]}}}})
    }

    fn noisy(mut v: Value) -> Value {
        let m = v["metadata"].as_object_mut().unwrap();
        m.insert("uid".into(), json!("1b4e28ba-2fa1-11d2-883f-0016d3cca427"));
        m.insert("resourceVersion".into(), json!("4711"));
        m.insert("generation".into(), json!(3));
        m.insert("creationTimestamp".into(), json!("2026-01-01T00:00:00Z"));
        m.insert(
            "managedFields".into(),
            json!([{"manager": "hxb", "operation": "Apply"}]),
        );
        m.insert(
            "annotations".into(),
            json!({"deployment.kubernetes.io/revision": "3"}),
        );
        m.insert("namespace".into(), json!("acme-dev-web"));
        v["metadata"]["ownerReferences"] = Value::Null;
        v["spec"]["template"]["metadata"]["creationTimestamp"] = Value::Null;
        v["spec"]["template"]["metadata"]["labels"]["pod-template-hash"] = json!("abc");
        v["status"] = json!({"replicas": 2, "readyReplicas": 1});
        v
    }

    /// The same value with every map's keys inserted in reverse order.
    fn reversed(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut out = Map::new();
                let mut keys: Vec<_> = m.keys().collect();
                keys.reverse();
                for k in keys {
                    out.insert(k.clone(), reversed(&m[k]));
                }
                Value::Object(out)
            }
            Value::Array(a) => Value::Array(a.iter().map(reversed).collect()),
            x => x.clone(),
        }
    }

    #[test]
    fn cleaning_removes_managed_noise_only() {
        let d = deployment();
        assert_eq!(clean(&noisy(d.clone())), d);
        let mut edited = noisy(d.clone());
        edited["spec"]["replicas"] = json!(3);
        assert_ne!(clean(&edited), d);
        let mut relabelled = noisy(d.clone());
        relabelled["spec"]["template"]["metadata"]["labels"]["tier"] = json!("web");
        assert_ne!(clean(&relabelled), d);
    }

    #[test]
    fn service_addresses_and_pvc_binding_are_cluster_state() {
        let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
            "spec": {"clusterIP": "10.0.0.7", "clusterIPs": ["10.0.0.7"], "ipFamilies": ["IPv4"],
                "ports": [{"port": 80, "nodePort": 30001}]}});
        assert_eq!(
            clean(&svc)["spec"],
            json!({"ports": [{"port": 80}]}),
            "allocated addresses are not declared"
        );
        let headless = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
            "spec": {"clusterIP": "None", "clusterIPs": ["None"]}});
        assert_eq!(clean(&headless)["spec"], json!({"clusterIP": "None"}));
        let pvc = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": "d", "finalizers": ["kubernetes.io/pvc-protection"],
                "annotations": {"pv.kubernetes.io/bind-completed": "yes", "team": "x"}},
            "spec": {"volumeName": "pv-1", "resources": {"requests": {"storage": "1Gi"}}}});
        assert_eq!(
            clean(&pvc),
            json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": {"name": "d", "annotations": {"team": "x"}},
                "spec": {"resources": {"requests": {"storage": "1Gi"}}}})
        );
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let v = json!({"b": {"z": 1, "a": [ {"y": null, "x": "q\""} ]}, "a": 1.5});
        assert_eq!(
            canonical_json(&v),
            r#"{"a":1.5,"b":{"a":[{"x":"q\"","y":null}],"z":1}}"#
        );
        assert_eq!(canonical_json(&reversed(&v)), canonical_json(&v));
    }

    #[test]
    fn hash_is_stable_under_key_order_and_managed_noise() {
        let o = |v: Value| SnapshotObject {
            app: Some(hxb_core::Name::new("shop").unwrap()),
            rendered: true,
            object: clean(&v),
        };
        let a = content_hash(&[], &[o(deployment())]).unwrap();
        let b = content_hash(&[], &[o(reversed(&noisy(deployment())))]).unwrap();
        assert_eq!(a, b);
        assert!(a.starts_with("sha256:") && a.len() == 71);
        let mut other = deployment();
        other["spec"]["replicas"] = json!(1);
        assert_ne!(a, content_hash(&[], &[o(other)]).unwrap());
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            "[a-z0-9 \"\\\\]{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::btree_map("[a-z]{1,4}", inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn canonical_form_parses_back_and_ignores_insertion_order(v in arb_json()) {
            let c = canonical_json(&v);
            let back: Value = serde_json::from_str(&c).unwrap();
            prop_assert_eq!(&back, &v);
            prop_assert_eq!(canonical_json(&reversed(&v)), c);
            prop_assert_eq!(sha256(&reversed(&v)), sha256(&v));
        }

        #[test]
        fn cleaning_is_idempotent(v in arb_json()) {
            let once = clean(&v);
            prop_assert_eq!(clean(&once), once);
        }
    }
}
