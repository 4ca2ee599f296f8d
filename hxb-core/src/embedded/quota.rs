//! ResourceQuota: usage evaluation, admission and status accounting.
//!
//! Usage follows the API server's evaluators: a non-terminal pod counts `pods`,
//! `count/pods`, `requests.<r>`/`limits.<r>` of its effective requests and limits (sum of
//! containers, at least the largest init container, plus overhead) and `cpu`/`memory`
//! (= requests); a service counts `services` (and `services.loadbalancers`,
//! `services.nodeports`); a claim counts `persistentvolumeclaims` and `requests.storage`;
//! every object counts `count/<resource>[.<group>]`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, PodSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;
use serde::Deserialize;
use serde_json::{Value, json};

use super::json;
use super::state::State;
use crate::cluster::{DynamicObject, ResourceType};
use crate::error::{Error, QuotaExceeded, Result};
use crate::quantity::Quantity;
use crate::resources::{ResourceList, ResourceName};

fn rn(s: &str) -> Result<ResourceName> {
    ResourceName::new(s)
}

fn parse_map(map: Option<&BTreeMap<String, K8sQuantity>>) -> Result<ResourceList> {
    map.map_or_else(|| Ok(ResourceList::new()), ResourceList::from_k8s)
}

fn container_totals(c: &Container) -> Result<(ResourceList, ResourceList)> {
    let r = c.resources.as_ref();
    Ok((
        parse_map(r.and_then(|r| r.requests.as_ref()))?,
        parse_map(r.and_then(|r| r.limits.as_ref()))?,
    ))
}

/// A pod's effective `(requests, limits)`: the sum over containers, raised to the largest
/// init container, plus the pod overhead.
pub(crate) fn pod_totals(spec: &PodSpec) -> Result<(ResourceList, ResourceList)> {
    let mut req = ResourceList::new();
    let mut lim = ResourceList::new();
    for c in &spec.containers {
        let (r, l) = container_totals(c)?;
        req = req.checked_add(&r)?;
        lim = lim.checked_add(&l)?;
    }
    for c in spec.init_containers.iter().flatten() {
        let (r, l) = container_totals(c)?;
        req = req.max(&r);
        lim = lim.max(&l);
    }
    let overhead = parse_map(spec.overhead.as_ref())?;
    Ok((req.checked_add(&overhead)?, lim.checked_add(&overhead)?))
}

fn phase(data: &Value) -> Option<&str> {
    json::field(data, "status")?.get("phase")?.as_str()
}

/// Whether a pod no longer uses resources (Succeeded or Failed).
pub(crate) fn is_terminal(data: &Value) -> bool {
    matches!(phase(data), Some("Succeeded" | "Failed"))
}

fn add(list: &mut ResourceList, name: &str, q: Quantity) -> Result<()> {
    let cur = list.get_or_zero(name);
    list.set(rn(name)?, cur.checked_add(&q)?)
}

/// What one object counts against quotas.
pub(crate) fn usage(ty: &ResourceType, obj: &DynamicObject) -> Result<ResourceList> {
    let mut u = ResourceList::new();
    let one = Quantity::from_int(1);
    let count_key = if ty.group.is_empty() {
        format!("count/{}", ty.plural)
    } else {
        format!("count/{}.{}", ty.plural, ty.group)
    };
    let core = ty.group.is_empty();
    match (core, ty.kind.as_str()) {
        (true, "Pod") => {
            if is_terminal(&obj.data) {
                return Ok(u);
            }
            add(&mut u, "pods", one)?;
            let empty = Value::Null;
            let spec = json::field(&obj.data, "spec").unwrap_or(&empty);
            let spec =
                PodSpec::deserialize(spec).map_err(|e| Error::invalid("spec", e.to_string()))?;
            let (req, lim) = pod_totals(&spec)?;
            for (k, v) in req.iter() {
                add(&mut u, &format!("requests.{k}"), *v)?;
                if matches!(k.as_str(), "cpu" | "memory" | "ephemeral-storage") {
                    add(&mut u, k.as_str(), *v)?;
                }
            }
            for (k, v) in lim.iter() {
                add(&mut u, &format!("limits.{k}"), *v)?;
            }
        }
        (true, "Service") => {
            add(&mut u, "services", one)?;
            let spec = json::field(&obj.data, "spec");
            let kind = spec
                .and_then(|s| s.get("type"))
                .and_then(Value::as_str)
                .unwrap_or("ClusterIP");
            let ports = spec
                .and_then(|s| s.get("ports"))
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            if kind == "LoadBalancer" {
                add(&mut u, "services.loadbalancers", one)?;
            }
            if matches!(kind, "LoadBalancer" | "NodePort") {
                add(
                    &mut u,
                    "services.nodeports",
                    Quantity::from_int(ports as i64),
                )?;
            }
        }
        (true, "PersistentVolumeClaim") => {
            add(&mut u, "persistentvolumeclaims", one)?;
            let storage = json::field(&obj.data, "spec")
                .and_then(|s| s.pointer("/resources/requests/storage"))
                .and_then(Value::as_str);
            if let Some(s) = storage {
                add(&mut u, "requests.storage", Quantity::parse_non_negative(s)?)?;
            }
        }
        (true, "ConfigMap" | "Secret" | "ResourceQuota" | "ReplicationController") => {
            add(&mut u, &ty.plural, one)?;
        }
        _ => {}
    }
    add(&mut u, &count_key, one)?;
    Ok(u)
}

/// A quota's `spec.hard`.
fn hard_of(obj: &DynamicObject) -> Result<ResourceList> {
    let Some(hard) = json::field(&obj.data, "spec").and_then(|s| s.get("hard")) else {
        return Ok(ResourceList::new());
    };
    let map = BTreeMap::<String, K8sQuantity>::deserialize(hard)
        .map_err(|e| Error::invalid("spec.hard", e.to_string()))?;
    ResourceList::from_k8s(&map)
}

/// Validate a ResourceQuota before it is stored.
pub(crate) fn validate_quota(obj: &DynamicObject) -> Result<()> {
    hard_of(obj).map(|_| ())
}

/// Which resource a quota key constrains on a pod, for the "must specify" rule.
fn must_specify(key: &str) -> Option<(&'static str, &'static str)> {
    match key {
        "requests.cpu" | "cpu" => Some(("requests", "cpu")),
        "requests.memory" | "memory" => Some(("requests", "memory")),
        "limits.cpu" => Some(("limits", "cpu")),
        "limits.memory" => Some(("limits", "memory")),
        _ => None,
    }
}

/// Containers of a pod missing `kind` (`requests`/`limits`) of `resource`.
fn missing(spec: &PodSpec, kind: &str, resource: &str) -> Vec<String> {
    spec.containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .filter(|c| {
            let r = c.resources.as_ref();
            let m = if kind == "requests" {
                r.and_then(|r| r.requests.as_ref())
            } else {
                r.and_then(|r| r.limits.as_ref())
            };
            m.is_none_or(|m| !m.contains_key(resource))
        })
        .map(|c| c.name.clone())
        .collect()
}

impl State {
    /// Whether `ns` has at least one ResourceQuota.
    pub(crate) fn has_quotas(&self, ns: &str) -> bool {
        self.store
            .table_of("", "ResourceQuota")
            .is_some_and(|t| t.iter(Some(ns)).next().is_some())
    }

    fn quotas(&self, ns: &str) -> Vec<DynamicObject> {
        self.store
            .table_of("", "ResourceQuota")
            .map(|t| t.iter(Some(ns)).map(|o| DynamicObject::clone(o)).collect())
            .unwrap_or_default()
    }

    /// Current usage in `ns` of the resources `hard` names (zero when unused).
    pub(crate) fn used(&self, ns: &str, hard: &ResourceList) -> Result<ResourceList> {
        let mut used = ResourceList::new();
        for (k, _) in hard.iter() {
            used.set(k.clone(), Quantity::ZERO)?;
        }
        for (ty, obj) in self.store.in_namespace(ns) {
            if obj.metadata.deletion_timestamp.is_some() && ty.kind == "Pod" {
                continue;
            }
            let u = usage(ty, obj)?;
            for (k, v) in u.iter() {
                if hard.get(k.as_str()).is_some() {
                    add(&mut used, k.as_str(), *v)?;
                }
            }
        }
        Ok(used)
    }

    /// Quota admission: refuse a change that would push any quota of `ns` over its hard
    /// limits, listing every offending resource of every quota.
    pub(crate) fn admit_quota(
        &self,
        ty: &ResourceType,
        ns: &str,
        old: Option<&DynamicObject>,
        obj: &DynamicObject,
    ) -> Result<()> {
        let quotas = self.quotas(ns);
        if quotas.is_empty() {
            return Ok(());
        }
        let new_usage = usage(ty, obj)?;
        let old_usage = old.map(|o| usage(ty, o)).transpose()?.unwrap_or_default();
        let delta = new_usage.saturating_sub(&old_usage)?;
        let pod_spec =
            if old.is_none() && ty.group.is_empty() && ty.kind == "Pod" && !new_usage.is_empty() {
                json::field(&obj.data, "spec").and_then(|s| PodSpec::deserialize(s).ok())
            } else {
                None
            };
        let mut names = Vec::new();
        let mut exceeded = Vec::new();
        let mut unspecified = Vec::new();
        for q in &quotas {
            let qname = q.metadata.name.clone().unwrap_or_default();
            let hard = hard_of(q)?;
            if let Some(spec) = &pod_spec {
                let mut parts = Vec::new();
                for (k, _) in hard.iter() {
                    if let Some((kind, res)) = must_specify(k.as_str()) {
                        let m = missing(spec, kind, res);
                        if !m.is_empty() {
                            parts.push(format!("{kind}.{res} for: {}", m.join(",")));
                        }
                    }
                }
                if !parts.is_empty() {
                    unspecified.push(format!(
                        "failed quota: {qname}: must specify {}",
                        parts.join("; ")
                    ));
                    continue;
                }
            }
            if delta.is_zero() {
                continue;
            }
            let used = self.used(ns, &hard)?;
            if let Err(Error::QuotaExceeded(e)) = ResourceList::admit(&qname, &hard, &used, &delta)
            {
                names.push(format!("{ns}/{qname}"));
                exceeded.extend(e.exceeded);
            }
        }
        if !unspecified.is_empty() {
            let name = obj.metadata.name.as_deref().unwrap_or("");
            return Err(Error::forbidden(format!(
                "pods \"{name}\" is forbidden: {}",
                unspecified.join(", ")
            )));
        }
        if !exceeded.is_empty() {
            return Err(QuotaExceeded {
                quota: names.join(", "),
                exceeded,
            }
            .into());
        }
        Ok(())
    }

    /// Recompute `status.hard`/`status.used` of every quota in `ns`, writing those that changed.
    pub(crate) fn refresh_quotas(&mut self, ns: &str) {
        let ty = ResourceType::of::<k8s_openapi::api::core::v1::ResourceQuota>();
        for q in self.quotas(ns) {
            let Ok(hard) = hard_of(&q) else { continue };
            let used = match self.used(ns, &hard) {
                Ok(u) => u,
                Err(e) => {
                    tracing::warn!(namespace = ns, error = %e, "cannot compute quota usage");
                    continue;
                }
            };
            let status = json!({"hard": hard.to_k8s(), "used": used.to_k8s()});
            if json::field(&q.data, "status") != Some(&status) {
                let mut q = q;
                json::set_field(&mut q.data, "status", Some(status));
                self.commit(&ty, q);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{ConfigMap, Pod};

    fn pod(containers: Value, phase: &str) -> DynamicObject {
        serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "ns"},
            "spec": {"containers": containers, "initContainers": [
                {"name": "init", "resources": {"requests": {"cpu": "3"}}}
            ]},
            "status": {"phase": phase}
        }))
        .unwrap()
    }

    #[test]
    fn pod_usage_sums_containers_and_respects_init_and_phase() {
        let ty = ResourceType::of::<Pod>();
        let p = pod(
            json!([
                {"name": "a", "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "1"}}},
                {"name": "b", "resources": {"requests": {"cpu": "1"}}}
            ]),
            "Running",
        );
        let u = usage(&ty, &p).unwrap();
        assert_eq!(u.get("pods"), Some(Quantity::from_int(1)));
        assert_eq!(u.get("count/pods"), Some(Quantity::from_int(1)));
        // init container (3 cpu) dominates the sum of containers (1.5 cpu)
        assert_eq!(u.get("requests.cpu"), Some(Quantity::from_int(3)));
        assert_eq!(u.get("cpu"), Some(Quantity::from_int(3)));
        assert_eq!(
            u.get("requests.memory"),
            Some(Quantity::parse("1Gi").unwrap())
        );
        assert_eq!(u.get("limits.cpu"), Some(Quantity::from_int(1)));
        assert!(usage(&ty, &pod(json!([]), "Succeeded")).unwrap().is_empty());
    }

    #[test]
    fn other_objects_count_by_resource() {
        let ty = ResourceType::of::<ConfigMap>();
        let cm = DynamicObject::new("c", &ty.api_resource());
        let u = usage(&ty, &cm).unwrap();
        assert_eq!(u.get("count/configmaps"), Some(Quantity::from_int(1)));
        assert_eq!(u.get("configmaps"), Some(Quantity::from_int(1)));
        let dep = ResourceType::of::<k8s_openapi::api::apps::v1::Deployment>();
        let u = usage(&dep, &DynamicObject::new("d", &dep.api_resource())).unwrap();
        assert_eq!(u.get("count/deployments.apps"), Some(Quantity::from_int(1)));
    }

    #[test]
    fn must_specify_names_the_containers() {
        let spec: PodSpec = serde_json::from_value(json!({"containers": [
            {"name": "a", "resources": {"requests": {"cpu": "1"}}}, {"name": "b"}
        ]}))
        .unwrap();
        assert_eq!(missing(&spec, "requests", "cpu"), ["b"]);
        assert_eq!(missing(&spec, "limits", "cpu"), ["a", "b"]);
    }
}
