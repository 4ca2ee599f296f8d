//! Unit tests per filter and score, mirroring cases from kube-scheduler's plugin tests
//! (`noderesources/fit_test.go`, `least_allocated_test.go`, `balanced_allocation_test.go`,
//! `tainttoleration/taint_toleration_test.go`, `nodeaffinity/node_affinity_test.go`,
//! `interpodaffinity/filtering_test.go`, `podtopologyspread/filtering_test.go`,
//! `defaultpreemption/default_preemption_test.go`).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Node, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod, PodAffinity,
    PodAffinityTerm, PodAntiAffinity, Toleration, TopologySpreadConstraint,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::testing::{label_node, node};
use super::*;

mod filters;
mod others;
mod topology;

pub(super) const ZONE: &str = "topology.kubernetes.io/zone";

pub(super) fn sched(nodes: &[Node], pods: &[Pod]) -> Scheduler {
    Scheduler::new(nodes, pods, Profile::default()).unwrap()
}

pub(super) fn unschedulable(s: &mut Scheduler, p: &Pod) -> hxb_core::error::Unschedulable {
    match s.schedule(p) {
        Err(hxb_core::Error::Unschedulable(u)) => u,
        other => panic!("expected unschedulable, got {other:?}"),
    }
}

pub(super) fn tolerate(mut p: Pod, key: &str, op: &str, value: &str, effect: &str) -> Pod {
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    p.spec
        .as_mut()
        .unwrap()
        .tolerations
        .get_or_insert_default()
        .push(Toleration {
            key: opt(key),
            operator: opt(op),
            value: opt(value),
            effect: opt(effect),
            toleration_seconds: None,
        });
    p
}

pub(super) fn expr(key: &str, op: &str, values: &[&str]) -> NodeSelectorRequirement {
    NodeSelectorRequirement {
        key: key.into(),
        operator: op.into(),
        values: (!values.is_empty()).then(|| values.iter().map(|v| v.to_string()).collect()),
    }
}

pub(super) fn require_nodes(mut p: Pod, terms: Vec<Vec<NodeSelectorRequirement>>) -> Pod {
    let terms = terms
        .into_iter()
        .map(|e| NodeSelectorTerm {
            match_expressions: Some(e),
            match_fields: None,
        })
        .collect();
    p.spec
        .as_mut()
        .unwrap()
        .affinity
        .get_or_insert_default()
        .node_affinity = Some(NodeAffinity {
        required_during_scheduling_ignored_during_execution: Some(NodeSelector {
            node_selector_terms: terms,
        }),
        ..Default::default()
    });
    p
}

pub(super) fn app_selector(app: &str) -> LabelSelector {
    LabelSelector {
        match_labels: Some(BTreeMap::from([("app".to_owned(), app.to_owned())])),
        ..Default::default()
    }
}

pub(super) fn term(app: &str, key: &str) -> PodAffinityTerm {
    PodAffinityTerm {
        label_selector: Some(app_selector(app)),
        topology_key: key.into(),
        ..Default::default()
    }
}

pub(super) fn anti(mut p: Pod, app: &str, key: &str) -> Pod {
    let a = p.spec.as_mut().unwrap().affinity.get_or_insert_default();
    a.pod_anti_affinity = Some(PodAntiAffinity {
        required_during_scheduling_ignored_during_execution: Some(vec![term(app, key)]),
        ..Default::default()
    });
    p
}

pub(super) fn affine(mut p: Pod, app: &str, key: &str) -> Pod {
    let a = p.spec.as_mut().unwrap().affinity.get_or_insert_default();
    a.pod_affinity = Some(PodAffinity {
        required_during_scheduling_ignored_during_execution: Some(vec![term(app, key)]),
        ..Default::default()
    });
    p
}

pub(super) fn spread(mut p: Pod, app: &str, key: &str, max_skew: i32, hard: bool) -> Pod {
    p.spec
        .as_mut()
        .unwrap()
        .topology_spread_constraints
        .get_or_insert_default()
        .push(TopologySpreadConstraint {
            max_skew,
            topology_key: key.into(),
            when_unsatisfiable: if hard {
                "DoNotSchedule"
            } else {
                "ScheduleAnyway"
            }
            .into(),
            label_selector: Some(app_selector(app)),
            ..Default::default()
        });
    p
}

pub(super) fn zoned(name: &str, zone: &str) -> Node {
    label_node(node(name, "8", "32Gi"), ZONE, zone)
}
