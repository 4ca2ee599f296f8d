//! Small constructors for k8s-openapi nodes and pods, for examples, tests and benchmarks.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Container, Node, NodeSpec, NodeStatus, Pod, PodSpec, ResourceRequirements, Taint,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

/// A node with allocatable `cpu` and `memory`, 110 pods, and the hostname label.
pub fn node(name: &str, cpu: &str, memory: &str) -> Node {
    let mut n = Node::default();
    n.metadata.name = Some(name.to_owned());
    n.metadata.labels = Some(BTreeMap::from([(
        super::LABEL_HOSTNAME.to_owned(),
        name.to_owned(),
    )]));
    let alloc = BTreeMap::from([
        ("cpu".to_owned(), Quantity(cpu.to_owned())),
        ("memory".to_owned(), Quantity(memory.to_owned())),
        ("pods".to_owned(), Quantity("110".to_owned())),
    ]);
    n.status = Some(NodeStatus {
        allocatable: Some(alloc),
        ..Default::default()
    });
    n.spec = Some(NodeSpec::default());
    n
}

/// `node` with an extra label.
pub fn label_node(mut node: Node, key: &str, value: &str) -> Node {
    node.metadata
        .labels
        .get_or_insert_default()
        .insert(key.to_owned(), value.to_owned());
    node
}

/// `node` with an extra taint.
pub fn taint_node(mut node: Node, key: &str, value: &str, effect: &str) -> Node {
    let spec = node.spec.get_or_insert_default();
    spec.taints.get_or_insert_default().push(Taint {
        key: key.to_owned(),
        value: (!value.is_empty()).then(|| value.to_owned()),
        effect: effect.to_owned(),
        time_added: None,
    });
    node
}

/// A pod in namespace `default` with one container requesting `cpu` and `memory`
/// (an empty string leaves that request unset).
pub fn pod(name: &str, cpu: &str, memory: &str) -> Pod {
    let mut requests = BTreeMap::new();
    if !cpu.is_empty() {
        requests.insert("cpu".to_owned(), Quantity(cpu.to_owned()));
    }
    if !memory.is_empty() {
        requests.insert("memory".to_owned(), Quantity(memory.to_owned()));
    }
    let mut p = Pod::default();
    p.metadata.name = Some(name.to_owned());
    p.metadata.namespace = Some("default".to_owned());
    p.spec = Some(PodSpec {
        containers: vec![Container {
            name: "main".to_owned(),
            resources: Some(ResourceRequirements {
                requests: Some(requests),
                ..Default::default()
            }),
            ..Default::default()
        }],
        ..Default::default()
    });
    p
}

/// `pod` with an extra label.
pub fn label_pod(mut pod: Pod, key: &str, value: &str) -> Pod {
    pod.metadata
        .labels
        .get_or_insert_default()
        .insert(key.to_owned(), value.to_owned());
    pod
}

/// `pod` bound to `node` (`spec.nodeName`).
pub fn bind(mut pod: Pod, node: &str) -> Pod {
    pod.spec.get_or_insert_default().node_name = Some(node.to_owned());
    pod
}

/// `pod` with a priority.
pub fn prioritize(mut pod: Pod, priority: i32) -> Pod {
    pod.spec.get_or_insert_default().priority = Some(priority);
    pod
}
