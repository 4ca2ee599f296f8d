//! Reading a member cluster's capacity: node allocatable and what runs outside hxb.

use std::collections::BTreeSet;

use hxb_core::cluster::{DynamicObject, ListOptions, ResourceType};
use hxb_core::{ClusterBackend, Quantity, ResourceList, ResourceName, Result, Selector};
use k8s_openapi::api::core::v1::{Namespace, Node, Pod};

use crate::naming::{MANAGED_BY, MANAGER};
use crate::reconcile::{RetryPolicy, retry};

/// What a cluster offers and what non-hxb workloads take of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Live {
    /// Σ allocatable (`cpu`, `memory`, `pods`) of schedulable nodes.
    pub allocatable: ResourceList,
    /// Σ requests of running or pending pods outside hxb-managed namespaces (one `pods` each).
    pub unmanaged_requests: ResourceList,
}

const NAMES: [&str; 3] = [ResourceName::CPU, ResourceName::MEMORY, ResourceName::PODS];

fn add(list: &mut ResourceList, name: &str, q: Quantity) -> Result<()> {
    let cur = list.get_or_zero(name);
    list.set(ResourceName::new(name)?, cur.checked_add(&q)?)
}

fn quantities(v: &serde_json::Value, into: &mut ResourceList) -> Result<()> {
    for name in NAMES {
        if let Some(s) = v.get(name).and_then(|q| q.as_str()) {
            add(into, name, Quantity::parse(s)?)?;
        }
    }
    Ok(())
}

/// Σ allocatable of nodes not marked unschedulable (capacity when allocatable is absent).
pub(crate) fn allocatable(nodes: &[DynamicObject]) -> Result<ResourceList> {
    let mut out = ResourceList::new();
    for n in nodes {
        if n.data["spec"]["unschedulable"] == true {
            continue;
        }
        let status = &n.data["status"];
        let src = if status["allocatable"].is_object() {
            &status["allocatable"]
        } else {
            &status["capacity"]
        };
        quantities(src, &mut out)?;
    }
    Ok(out)
}

/// Σ container requests (`cpu`, `memory`) plus one `pods` per pod, for pods that are not
/// finished and not in `skip` namespaces.
pub(crate) fn pod_requests(
    pods: &[DynamicObject],
    skip: &BTreeSet<String>,
) -> Result<ResourceList> {
    let mut out = ResourceList::new();
    for p in pods {
        let phase = p.data["status"]["phase"].as_str().unwrap_or("");
        if matches!(phase, "Succeeded" | "Failed")
            || p.metadata
                .namespace
                .as_ref()
                .is_some_and(|ns| skip.contains(ns))
        {
            continue;
        }
        for c in p.data["spec"]["containers"]
            .as_array()
            .into_iter()
            .flatten()
        {
            for name in [ResourceName::CPU, ResourceName::MEMORY] {
                if let Some(s) = c["resources"]["requests"][name].as_str() {
                    add(&mut out, name, Quantity::parse(s)?)?;
                }
            }
        }
        add(&mut out, ResourceName::PODS, Quantity::from_int(1))?;
    }
    Ok(out)
}

/// Read a cluster's capacity (three lists).
pub(crate) async fn live(backend: &dyn ClusterBackend, policy: RetryPolicy) -> Result<Live> {
    let all = ListOptions::default();
    let node_ty = ResourceType::of::<Node>();
    let nodes = retry(policy, || backend.list(&node_ty, None, &all)).await?;
    let ns_ty = ResourceType::of::<Namespace>();
    let managed = ListOptions::labels(Selector::from_labels([(MANAGED_BY, MANAGER)]));
    let skip: BTreeSet<String> = retry(policy, || backend.list(&ns_ty, None, &managed))
        .await?
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect();
    let pod_ty = ResourceType::of::<Pod>();
    let pods = retry(policy, || backend.list(&pod_ty, None, &all)).await?;
    Ok(Live {
        allocatable: allocatable(&nodes.items)?,
        unmanaged_requests: pod_requests(&pods.items, &skip)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: serde_json::Value) -> DynamicObject {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn sums_schedulable_nodes_and_live_unmanaged_pods() {
        let nodes = vec![
            obj(
                serde_json::json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "a"},
                "status": {"allocatable": {"cpu": "3800m", "memory": "15Gi", "pods": "110"}}}),
            ),
            obj(
                serde_json::json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "b"},
                "status": {"capacity": {"cpu": "4", "memory": "16Gi", "pods": "110"}}}),
            ),
            obj(
                serde_json::json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "c"},
                "spec": {"unschedulable": true},
                "status": {"allocatable": {"cpu": "64", "memory": "256Gi", "pods": "110"}}}),
            ),
        ];
        let a = allocatable(&nodes).unwrap();
        assert_eq!(
            a,
            ResourceList::parse([("cpu", "7800m"), ("memory", "31Gi"), ("pods", "220")]).unwrap()
        );
        let pod = |ns: &str, phase: &str, cpu: &str| {
            obj(serde_json::json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "p", "namespace": ns},
                "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": cpu, "memory": "1Gi"}}},
                                        {"name": "d", "resources": {"requests": {"cpu": cpu}}}]},
                "status": {"phase": phase}}))
        };
        let pods = vec![
            pod("kube-system", "Running", "100m"),
            pod("kube-system", "Succeeded", "4"),
            pod("acme-dev-web", "Running", "2"),
        ];
        let skip: BTreeSet<String> = ["acme-dev-web".to_owned()].into();
        let r = pod_requests(&pods, &skip).unwrap();
        assert_eq!(
            r,
            ResourceList::parse([("cpu", "200m"), ("memory", "1Gi"), ("pods", "1")]).unwrap()
        );
    }
}
