//! Minimal synchronous workload controllers (apps/v1): Deployments and StatefulSets create
//! and delete pods to match `spec.replicas`, through the same admission path as any client,
//! and keep `status` current.
//!
//! - Pods are owned directly by the workload (no ReplicaSet in between) through a controller
//!   `ownerReference`; deleting the workload deletes its pods.
//! - Deployment pods are named `<name>-<pod-template-hash>-<suffix>` and labelled
//!   `pod-template-hash`; a template change replaces every outdated pod at once (the
//!   `Recreate` behaviour). StatefulSet pods are `<name>-<ordinal>`, created lowest ordinal
//!   first and removed highest first.
//! - A refused pod (quota, limit range, terminating namespace) becomes a `FailedCreate`
//!   Warning Event and a `ReplicaFailure` condition; creation is retried when the namespace's
//!   pods, quotas or limit ranges change.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, OwnerReference};
use serde::Deserialize;
use serde_json::{Value, json};

use super::json;
use super::quota::is_terminal;
use super::state::{POD, State};
use crate::cluster::{DynamicObject, ResourceType};
use crate::error::{Error, Result};
use crate::selector::Selector;

/// `apps/v1/Deployment`.
pub(crate) static DEPLOYMENT: LazyLock<ResourceType> =
    LazyLock::new(ResourceType::of::<Deployment>);
/// `apps/v1/StatefulSet`.
pub(crate) static STATEFUL_SET: LazyLock<ResourceType> =
    LazyLock::new(ResourceType::of::<StatefulSet>);

/// Which workload a reconcile is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Workload {
    Deployment,
    StatefulSet,
}

impl Workload {
    fn of(ty: &ResourceType) -> Option<Self> {
        match (ty.group.as_str(), ty.kind.as_str()) {
            ("apps", "Deployment") => Some(Workload::Deployment),
            ("apps", "StatefulSet") => Some(Workload::StatefulSet),
            _ => None,
        }
    }

    fn of_kind(kind: &str) -> Option<Self> {
        match kind {
            "Deployment" => Some(Workload::Deployment),
            "StatefulSet" => Some(Workload::StatefulSet),
            _ => None,
        }
    }

    fn ty(self) -> &'static ResourceType {
        match self {
            Workload::Deployment => &DEPLOYMENT,
            Workload::StatefulSet => &STATEFUL_SET,
        }
    }
}

/// The parts of a workload spec the controllers use.
struct WorkloadSpec {
    replicas: usize,
    template: PodTemplateSpec,
}

fn parse_spec(obj: &DynamicObject) -> Result<WorkloadSpec> {
    let spec =
        json::field(&obj.data, "spec").ok_or_else(|| Error::invalid("spec", "Required value"))?;
    let replicas = match spec.get("replicas") {
        None | Some(Value::Null) => 1,
        Some(v) => v
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| {
                Error::invalid(
                    "spec.replicas",
                    format!("must be a non-negative integer, got {v}"),
                )
            })?,
    };
    let selector = spec
        .get("selector")
        .ok_or_else(|| Error::invalid("spec.selector", "Required value"))?;
    let selector = LabelSelector::deserialize(selector)
        .map_err(|e| Error::invalid("spec.selector", e.to_string()))?;
    let selector = Selector::from_label_selector(&selector)?;
    let template = spec
        .get("template")
        .ok_or_else(|| Error::invalid("spec.template", "Required value"))?;
    let template = PodTemplateSpec::deserialize(template)
        .map_err(|e| Error::invalid("spec.template", e.to_string()))?;
    let labels = template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    if selector.is_everything() {
        return Err(Error::invalid(
            "spec.selector",
            "empty selector is invalid for deployment",
        ));
    }
    if !selector.matches(&labels) {
        return Err(Error::invalid(
            "spec.template.metadata.labels",
            "`selector` does not match template `labels`",
        ));
    }
    if template
        .spec
        .as_ref()
        .is_none_or(|s| s.containers.is_empty())
    {
        return Err(Error::invalid(
            "spec.template.spec.containers",
            "Required value",
        ));
    }
    Ok(WorkloadSpec { replicas, template })
}

/// Validate a Deployment or StatefulSet before it is stored.
pub(crate) fn validate_workload(obj: &DynamicObject) -> Result<()> {
    parse_spec(obj).map(|_| ())
}

/// FNV-1a of the template: a stable `pod-template-hash`.
fn template_hash(t: &PodTemplateSpec) -> String {
    let text = serde_json::to_string(t).unwrap_or_default();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:010x}", h & 0xff_ffff_ffff)
}

fn controller_of(obj: &DynamicObject) -> Option<&OwnerReference> {
    obj.metadata
        .owner_references
        .as_ref()?
        .iter()
        .find(|o| o.controller == Some(true))
}

pub(crate) fn is_ready(pod: &DynamicObject) -> bool {
    let status = json::field(&pod.data, "status");
    status.and_then(|s| s.get("phase")).and_then(Value::as_str) == Some("Running")
        && status
            .and_then(|s| s.get("conditions"))
            .and_then(Value::as_array)
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
            })
}

/// Whether the workload already reports this creation failure (one Event per new failure).
fn has_failure(obj: &DynamicObject, msg: &str) -> bool {
    json::field(&obj.data, "status")
        .and_then(|s| s.get("conditions"))
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "ReplicaFailure" && c["message"] == msg)
        })
}

fn ordinal(name: &str, prefix: &str) -> Option<usize> {
    name.strip_prefix(prefix)?.strip_prefix('-')?.parse().ok()
}

impl State {
    /// After any change: queue the workloads it concerns and run their controllers.
    pub(crate) fn on_workload_trigger(
        &mut self,
        ty: &ResourceType,
        ns: &str,
        old: Option<&DynamicObject>,
        new: Option<&DynamicObject>,
    ) {
        if let Some(w) = Workload::of(ty) {
            let name = old
                .or(new)
                .and_then(|o| o.metadata.name.clone())
                .unwrap_or_default();
            match new {
                Some(_) => {
                    self.reconcile_queue.insert((w, ns.to_owned(), name));
                }
                None => {
                    let uid = old.and_then(|o| o.metadata.uid.clone()).unwrap_or_default();
                    for pod in self.owned_pods(ns, &uid) {
                        self.delete_object(&POD, ns, &pod);
                    }
                }
            }
        } else if ty.group.is_empty() && ty.kind == "Pod" {
            let owner = old.or(new).and_then(controller_of);
            if let Some(o) = owner
                && let Some(w) = Workload::of_kind(&o.kind)
            {
                self.reconcile_queue
                    .insert((w, ns.to_owned(), o.name.clone()));
            }
            let freed = new.is_none_or(|n| is_terminal(&n.data));
            if freed {
                self.queue_short_workloads(ns);
            }
        } else if ty.group.is_empty() && matches!(ty.kind.as_str(), "ResourceQuota" | "LimitRange")
        {
            self.queue_short_workloads(ns);
        } else {
            return;
        }
        self.run_controllers();
    }

    /// Queue every workload of `ns` that has fewer pods than it wants.
    fn queue_short_workloads(&mut self, ns: &str) {
        for w in [Workload::Deployment, Workload::StatefulSet] {
            let Some(t) = self.store.table(w.ty()) else {
                continue;
            };
            let short: Vec<String> = t
                .iter(Some(ns))
                .filter(|o| {
                    let want = json::field(&o.data, "spec")
                        .and_then(|s| s.get("replicas"))
                        .and_then(Value::as_u64)
                        .unwrap_or(1);
                    let have = json::field(&o.data, "status")
                        .and_then(|s| s.get("replicas"))
                        .and_then(Value::as_u64)
                        .unwrap_or(0);
                    have < want
                })
                .filter_map(|o| o.metadata.name.clone())
                .collect();
            for name in short {
                self.reconcile_queue.insert((w, ns.to_owned(), name));
            }
        }
    }

    fn run_controllers(&mut self) {
        if self.reconciling {
            return;
        }
        self.reconciling = true;
        while let Some(key) = self.reconcile_queue.pop_first() {
            self.reconcile(key.0, &key.1, &key.2);
        }
        self.reconciling = false;
    }

    /// Names of the live pods in `ns` controlled by the object with `uid`.
    fn owned_pods(&self, ns: &str, uid: &str) -> Vec<String> {
        let Some(t) = self.store.table(&POD) else {
            return Vec::new();
        };
        t.iter(Some(ns))
            .filter(|p| controller_of(p).is_some_and(|o| o.uid == uid))
            .filter_map(|p| p.metadata.name.clone())
            .collect()
    }

    fn reconcile(&mut self, w: Workload, ns: &str, name: &str) {
        let ty = w.ty();
        let Some(obj) = self.store.get(ty, ns, name).cloned() else {
            return;
        };
        if obj.metadata.deletion_timestamp.is_some() || !self.namespace_active(ns) {
            return;
        }
        let Ok(spec) = parse_spec(&obj) else { return };
        let uid = obj.metadata.uid.clone().unwrap_or_default();
        let hash = template_hash(&spec.template);
        let mut live: Vec<DynamicObject> = Vec::new();
        for pod in self.owned_pods(ns, &uid) {
            let Some(p) = self.store.get(&POD, ns, &pod).cloned() else {
                continue;
            };
            if p.metadata.deletion_timestamp.is_some() || is_terminal(&p.data) {
                continue;
            }
            let outdated = w == Workload::Deployment
                && p.metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get("pod-template-hash"))
                    != Some(&hash);
            if outdated {
                self.delete_object(&POD, ns, &pod);
            } else {
                live.push(DynamicObject::clone(&p));
            }
        }
        // scale down: unbound pods first, then the newest names (highest ordinals)
        if live.len() > spec.replicas {
            live.sort_by_key(|p| {
                let bound = json::field(&p.data, "spec")
                    .and_then(|s| s.get("nodeName"))
                    .is_some();
                let ord = ordinal(p.metadata.name.as_deref().unwrap_or(""), name).unwrap_or(0);
                (
                    bound,
                    std::cmp::Reverse(ord),
                    std::cmp::Reverse(p.metadata.name.clone()),
                )
            });
            let extra = live.len() - spec.replicas;
            for p in live.drain(..extra) {
                self.delete_object(&POD, ns, p.metadata.name.as_deref().unwrap_or(""));
            }
        }
        let mut failure = None;
        let taken: BTreeSet<usize> = live
            .iter()
            .filter_map(|p| ordinal(p.metadata.name.as_deref()?, name))
            .collect();
        let mut next_ordinal = 0;
        while live.len() < spec.replicas {
            let pod_name = match w {
                Workload::Deployment => format!("{name}-{hash}-{}", self.rng.name_suffix()),
                Workload::StatefulSet => {
                    while taken.contains(&next_ordinal) {
                        next_ordinal += 1;
                    }
                    next_ordinal += 1;
                    format!("{name}-{}", next_ordinal - 1)
                }
            };
            let pod = self.pod_from_template(w, &obj, &spec.template, ns, &pod_name, &hash);
            match pod.and_then(|p| self.create(&POD, p)) {
                Ok(p) => live.push(p),
                Err(e) => {
                    let msg = format!("Error creating: {e}");
                    if !has_failure(&obj, &msg) {
                        let component = format!("{}-controller", ty.kind.to_lowercase());
                        self.record_event(ty, &obj, "Warning", "FailedCreate", &msg, &component);
                    }
                    failure = Some(msg);
                    break;
                }
            }
        }
        self.write_workload_status(w, ns, name, &live, failure);
    }

    fn pod_from_template(
        &self,
        w: Workload,
        owner: &DynamicObject,
        template: &PodTemplateSpec,
        ns: &str,
        pod_name: &str,
        hash: &str,
    ) -> Result<DynamicObject> {
        let meta = template.metadata.clone().unwrap_or_default();
        let mut labels: BTreeMap<String, String> = meta.labels.unwrap_or_default();
        match w {
            Workload::Deployment => {
                labels.insert("pod-template-hash".into(), hash.into());
            }
            Workload::StatefulSet => {
                labels.insert("statefulset.kubernetes.io/pod-name".into(), pod_name.into());
            }
        }
        let mut spec = serde_json::to_value(template.spec.clone().unwrap_or_default())
            .map_err(|e| Error::internal(e.to_string()))?;
        if w == Workload::StatefulSet
            && let Some(m) = spec.as_object_mut()
        {
            m.insert("hostname".into(), json!(pod_name));
        }
        let obj = json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": pod_name,
                "namespace": ns,
                "labels": labels,
                "annotations": meta.annotations,
                "ownerReferences": [{
                    "apiVersion": w.ty().api_version(),
                    "kind": w.ty().kind,
                    "name": owner.metadata.name,
                    "uid": owner.metadata.uid,
                    "controller": true,
                    "blockOwnerDeletion": true,
                }],
            },
            "spec": spec,
        });
        serde_json::from_value(obj).map_err(|e| Error::internal(e.to_string()))
    }

    fn write_workload_status(
        &mut self,
        w: Workload,
        ns: &str,
        name: &str,
        live: &[DynamicObject],
        failure: Option<String>,
    ) {
        let ty = w.ty();
        let Some(obj) = self.store.get(ty, ns, name).cloned() else {
            return;
        };
        let ready = live.iter().filter(|p| is_ready(p)).count();
        let replicas = live.len();
        let old_status = json::field(&obj.data, "status")
            .cloned()
            .unwrap_or(Value::Null);
        let old_conditions = old_status
            .get("conditions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let now = self.now();
        let cond = |type_: &str, status: bool, reason: &str, message: &str| {
            let status = if status { "True" } else { "False" };
            let since = old_conditions
                .iter()
                .find(|c| c["type"] == type_ && c["status"] == status)
                .and_then(|c| c.get("lastTransitionTime").cloned())
                .unwrap_or_else(|| json!(now));
            json!({"type": type_, "status": status, "reason": reason, "message": message, "lastTransitionTime": since})
        };
        let want = parse_spec(&obj).map(|s| s.replicas).unwrap_or(0);
        let mut conditions = Vec::new();
        if w == Workload::Deployment {
            let available = ready >= want;
            conditions.push(cond(
                "Available",
                available,
                if available {
                    "MinimumReplicasAvailable"
                } else {
                    "MinimumReplicasUnavailable"
                },
                if available {
                    "Deployment has minimum availability."
                } else {
                    "Deployment does not have minimum availability."
                },
            ));
        }
        if let Some(msg) = &failure {
            conditions.push(cond("ReplicaFailure", true, "FailedCreate", msg));
        }
        let mut status = json!({
            "observedGeneration": obj.metadata.generation,
            "replicas": replicas,
            "readyReplicas": ready,
            "availableReplicas": ready,
            "updatedReplicas": replicas,
        });
        match w {
            Workload::Deployment => {
                status["unavailableReplicas"] = json!(want.saturating_sub(ready))
            }
            Workload::StatefulSet => status["currentReplicas"] = json!(replicas),
        }
        if !conditions.is_empty() {
            status["conditions"] = Value::Array(conditions);
        }
        if old_status != status {
            let mut updated = DynamicObject::clone(&obj);
            json::set_field(&mut updated.data, "status", Some(status));
            self.commit(ty, updated);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(v: Value) -> DynamicObject {
        serde_json::from_value(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": v})).unwrap()
    }

    #[test]
    fn workload_specs_are_validated() {
        let template = json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c"}]}});
        let ok = deployment(
            json!({"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": template}),
        );
        assert_eq!(parse_spec(&ok).unwrap().replicas, 2);
        let mismatch =
            deployment(json!({"selector": {"matchLabels": {"app": "db"}}, "template": template}));
        assert!(
            validate_workload(&mismatch)
                .unwrap_err()
                .to_string()
                .contains("does not match")
        );
        let negative = deployment(
            json!({"replicas": -1, "selector": {"matchLabels": {"app": "web"}}, "template": template}),
        );
        assert_eq!(
            validate_workload(&negative).unwrap_err().kind(),
            crate::ErrorKind::InvalidInput
        );
        let no_selector = deployment(json!({"template": template}));
        assert!(validate_workload(&no_selector).is_err());
    }

    #[test]
    fn ordinals_and_hashes() {
        assert_eq!(ordinal("db-3", "db"), Some(3));
        assert_eq!(ordinal("db-x", "db"), None);
        assert_eq!(ordinal("dbx-1", "db"), None);
        let t = PodTemplateSpec::default();
        assert_eq!(template_hash(&t), template_hash(&t.clone()));
        assert_eq!(template_hash(&t).len(), 10);
    }
}
