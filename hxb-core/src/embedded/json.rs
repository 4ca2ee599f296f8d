//! Small JSON helpers: merging applied fields, comparing objects, typed conversion.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::cluster::DynamicObject;
use crate::error::{Error, Result};

/// Merge `patch` over `target` (JSON merge patch, RFC 7386): objects merge key by key, `null`
/// removes a key, anything else replaces.
pub(crate) fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    match t.get_mut(k) {
                        Some(slot) if slot.is_object() && v.is_object() => merge(slot, v),
                        _ => {
                            t.insert(k.clone(), v.clone());
                        }
                    }
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

/// `data` without `status`: what a spec change is measured on.
pub(crate) fn without_status(data: &Value) -> impl Iterator<Item = (&String, &Value)> {
    data.as_object()
        .into_iter()
        .flat_map(|m| m.iter().filter(|(k, _)| k.as_str() != "status"))
}

/// Whether two objects differ outside `status`.
pub(crate) fn spec_changed(a: &Value, b: &Value) -> bool {
    !without_status(a).eq(without_status(b))
}

/// A field of `data`, e.g. `status`.
pub(crate) fn field<'a>(data: &'a Value, key: &str) -> Option<&'a Value> {
    data.as_object().and_then(|m| m.get(key))
}

/// Set (or with `None`, remove) a top-level field of `data`.
pub(crate) fn set_field(data: &mut Value, key: &str, value: Option<Value>) {
    if !data.is_object() {
        *data = Value::Object(Default::default());
    }
    let m = data.as_object_mut().expect("object");
    match value {
        Some(v) => {
            m.insert(key.to_owned(), v);
        }
        None => {
            m.remove(key);
        }
    }
}

/// Decode a dynamic object into a k8s-openapi type (`InvalidInput` when it does not fit).
pub(crate) fn to_typed<K: DeserializeOwned>(obj: &DynamicObject, kind: &str) -> Result<K> {
    let v = serde_json::to_value(obj).map_err(|e| Error::internal(e.to_string()))?;
    serde_json::from_value(v).map_err(|e| Error::invalid(kind.to_owned(), e.to_string()))
}

/// Encode a k8s-openapi object as a dynamic object.
pub(crate) fn to_dynamic<K: Serialize>(obj: &K) -> Result<DynamicObject> {
    let v = serde_json::to_value(obj).map_err(|e| Error::internal(e.to_string()))?;
    serde_json::from_value(v).map_err(|e| Error::internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_is_a_json_merge_patch() {
        let mut t = json!({"a": {"b": 1, "c": [1, 2]}, "d": 1});
        merge(&mut t, &json!({"a": {"c": [3], "e": "x"}, "d": null}));
        assert_eq!(t, json!({"a": {"b": 1, "c": [3], "e": "x"}}));
    }

    #[test]
    fn spec_change_ignores_status() {
        let a = json!({"spec": {"x": 1}, "status": {"y": 1}});
        assert!(!spec_changed(
            &a,
            &json!({"spec": {"x": 1}, "status": {"y": 2}})
        ));
        assert!(spec_changed(
            &a,
            &json!({"spec": {"x": 2}, "status": {"y": 1}})
        ));
    }
}
