//! Simulated nodes: pools of identical nodes created when the cluster is built.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, NodeAddress, NodeCondition, NodeSpec, NodeStatus, Taint};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::json;
use super::state::{NODE, State};

/// A pool of identical simulated nodes, e.g. a dedicated pool pinned by a taint:
///
/// ```
/// use hxb_core::embedded::{EmbeddedCluster, NodePool};
/// let cluster = EmbeddedCluster::builder()
///     .nodes(2)
///     .node_pool(
///         NodePool::new("dedicated-l")
///             .count(3)
///             .cpu("16")
///             .memory("64Gi")
///             .label("hxb.io/pool", "dedicated-l")
///             .taint("hxb.io/dedicated", "acme", "NoSchedule"),
///     )
///     .build();
/// # let _ = cluster;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct NodePool {
    name_prefix: String,
    count: usize,
    cpu: String,
    memory: String,
    pods: u32,
    instance_type: String,
    labels: BTreeMap<String, String>,
    taints: Vec<Taint>,
}

impl Default for NodePool {
    fn default() -> Self {
        NodePool {
            name_prefix: "node".into(),
            count: 1,
            cpu: "4".into(),
            memory: "16Gi".into(),
            pods: 110,
            instance_type: "hxb.standard-4".into(),
            labels: BTreeMap::new(),
            taints: Vec::new(),
        }
    }
}

impl NodePool {
    /// One default node (4 cpu, 16Gi, 110 pods) whose names start with `name_prefix-`.
    pub fn new(name_prefix: impl Into<String>) -> Self {
        NodePool {
            name_prefix: name_prefix.into(),
            ..Default::default()
        }
    }

    /// Number of nodes.
    pub fn count(mut self, n: usize) -> Self {
        self.count = n;
        self
    }

    /// Allocatable cpu per node (a Kubernetes quantity, e.g. `"8"` or `"3500m"`).
    pub fn cpu(mut self, q: impl Into<String>) -> Self {
        self.cpu = q.into();
        self
    }

    /// Allocatable memory per node (e.g. `"32Gi"`).
    pub fn memory(mut self, q: impl Into<String>) -> Self {
        self.memory = q.into();
        self
    }

    /// Maximum pods per node.
    pub fn pods(mut self, n: u32) -> Self {
        self.pods = n;
        self
    }

    /// `node.kubernetes.io/instance-type`.
    pub fn instance_type(mut self, t: impl Into<String>) -> Self {
        self.instance_type = t.into();
        self
    }

    /// Add a label to every node of the pool.
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// Add a taint (`effect`: `NoSchedule`, `PreferNoSchedule` or `NoExecute`).
    pub fn taint(
        mut self,
        key: impl Into<String>,
        value: impl Into<String>,
        effect: impl Into<String>,
    ) -> Self {
        self.taints.push(Taint {
            key: key.into(),
            value: Some(value.into()),
            effect: effect.into(),
            time_added: None,
        });
        self
    }

    fn node(&self, name: &str, zone: &str, ordinal: usize) -> Node {
        let mut labels = BTreeMap::from([
            ("kubernetes.io/hostname".to_owned(), name.to_owned()),
            ("kubernetes.io/os".into(), "linux".into()),
            ("kubernetes.io/arch".into(), "amd64".into()),
            ("topology.kubernetes.io/zone".into(), zone.to_owned()),
            (
                "node.kubernetes.io/instance-type".into(),
                self.instance_type.clone(),
            ),
        ]);
        labels.extend(self.labels.clone());
        let resources = BTreeMap::from([
            ("cpu".to_owned(), K8sQuantity(self.cpu.clone())),
            ("memory".into(), K8sQuantity(self.memory.clone())),
            ("pods".into(), K8sQuantity(self.pods.to_string())),
        ]);
        Node {
            metadata: ObjectMeta {
                name: Some(name.to_owned()),
                labels: Some(labels),
                ..Default::default()
            },
            spec: Some(NodeSpec {
                taints: (!self.taints.is_empty()).then(|| self.taints.clone()),
                provider_id: Some(format!("hxb://embedded/{name}")),
                ..Default::default()
            }),
            status: Some(NodeStatus {
                capacity: Some(resources.clone()),
                allocatable: Some(resources),
                addresses: Some(vec![NodeAddress {
                    type_: "InternalIP".into(),
                    address: format!(
                        "10.{}.{}.{}",
                        (ordinal >> 16) & 0xff,
                        (ordinal >> 8) & 0xff,
                        ordinal & 0xff
                    ),
                }]),
                conditions: Some(vec![NodeCondition {
                    type_: "Ready".into(),
                    status: "True".into(),
                    reason: Some("KubeletReady".into()),
                    message: Some("kubelet is posting ready status".into()),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
        }
    }
}

impl State {
    /// Create the nodes of `pools`, spread over `zones` round-robin from a seeded offset.
    /// A node that fails validation (e.g. a bad name prefix) is skipped with a warning.
    pub(crate) fn add_pools(&mut self, pools: &[NodePool], zones: &[String]) {
        let offset = (self.rng.next_u64() % zones.len().max(1) as u64) as usize;
        let mut per_prefix: BTreeMap<String, usize> = BTreeMap::new();
        let mut ordinal = 0usize;
        for pool in pools {
            for _ in 0..pool.count {
                let i = per_prefix.entry(pool.name_prefix.clone()).or_default();
                let name = format!("{}-{}", pool.name_prefix, *i);
                *i += 1;
                ordinal += 1;
                let zone = zones
                    .get((offset + ordinal) % zones.len().max(1))
                    .map_or("zone-a", String::as_str);
                let node = pool.node(&name, zone, ordinal);
                let created = json::to_dynamic(&node).and_then(|n| self.create(&NODE, n));
                if let Err(e) = created {
                    tracing::warn!(node = %name, error = %e, "simulated node not created");
                }
            }
        }
    }
}
