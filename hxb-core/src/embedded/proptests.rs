//! Property tests: under any sequence of pod creations, completions and deletions, quota
//! accounting, admission and scheduling keep their invariants.

use std::sync::Arc;

use proptest::prelude::*;
use serde_json::json;

use super::nodes::NodePool;
use super::quota::{is_terminal, usage};
use super::scheduler::LeastAllocated;
use super::state::{NAMESPACE, POD, State};
use crate::clock::ManualClock;
use crate::cluster::{DynamicObject, ResourceType};
use crate::quantity::Quantity;
use crate::resources::ResourceList;

#[derive(Debug, Clone)]
enum Op {
    Create { milli: i64 },
    Finish(usize),
    Delete(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0i64..1500).prop_map(|milli| Op::Create { milli }),
        1 => (0usize..16).prop_map(Op::Finish),
        1 => (0usize..16).prop_map(Op::Delete),
    ]
}

fn obj(v: serde_json::Value) -> DynamicObject {
    serde_json::from_value(v).unwrap()
}

fn cluster() -> State {
    let mut st = State::new(
        1,
        Arc::new(ManualClock::at_epoch()),
        Arc::new(LeastAllocated),
        64,
    );
    st.add_pools(
        &[NodePool::default().count(2).cpu("2").pods(4)],
        &["z".into()],
    );
    st.create(&NAMESPACE, obj(json!({"metadata": {"name": "p"}})))
        .unwrap();
    let rq = ResourceType::of::<k8s_openapi::api::core::v1::ResourceQuota>();
    let quota = json!({"metadata": {"name": "q", "namespace": "p"}, "spec": {"hard": {"requests.cpu": "5", "pods": "7"}}});
    st.create(&rq, obj(quota)).unwrap();
    st
}

fn pods(st: &State) -> Vec<DynamicObject> {
    st.list(&POD, Some("p"), &Default::default()).unwrap().items
}

fn live_usage(st: &State) -> ResourceList {
    let mut total = ResourceList::new();
    for p in pods(st) {
        total = total.checked_add(&usage(&POD, &p).unwrap()).unwrap();
    }
    total
}

fn check_invariants(st: &State) {
    let rq = ResourceType::of::<k8s_openapi::api::core::v1::ResourceQuota>();
    let q = st.get(&rq, Some("p"), "q").unwrap();
    let used = &q.data["status"]["used"];
    let live = live_usage(st);
    assert_eq!(
        Quantity::parse(used["requests.cpu"].as_str().unwrap()).unwrap(),
        live.get_or_zero("requests.cpu")
    );
    assert_eq!(
        Quantity::parse(used["pods"].as_str().unwrap()).unwrap(),
        live.get_or_zero("pods")
    );
    assert!(live.get_or_zero("requests.cpu") <= Quantity::from_int(5));
    assert!(live.get_or_zero("pods") <= Quantity::from_int(7));
    // scheduling: no node over capacity; a pending pod fits on no node
    let mut per_node = std::collections::BTreeMap::<String, (i128, usize)>::new();
    for p in pods(st).iter().filter(|p| !is_terminal(&p.data)) {
        if let Some(n) = p.data["spec"]["nodeName"].as_str() {
            let e = per_node.entry(n.to_owned()).or_default();
            e.0 += usage(&POD, p).unwrap().get_or_zero("requests.cpu").nanos();
            e.1 += 1;
        }
    }
    let cap = Quantity::from_int(2).nanos();
    for (n, (cpu, count)) in &per_node {
        assert!(*cpu <= cap && *count <= 4, "node {n} over capacity");
    }
    for p in pods(st)
        .iter()
        .filter(|p| !is_terminal(&p.data) && p.data["spec"]["nodeName"].is_null())
    {
        let req = usage(&POD, p).unwrap().get_or_zero("requests.cpu").nanos();
        for node in ["node-0", "node-1"] {
            let (cpu, count) = per_node.get(node).copied().unwrap_or_default();
            assert!(
                cpu + req > cap || count >= 4,
                "pending pod would fit on {node}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn quota_and_scheduling_invariants_hold(ops in proptest::collection::vec(op(), 1..40)) {
        let mut st = cluster();
        let mut n = 0;
        for op in ops {
            let names: Vec<String> = pods(&st).iter().filter_map(|p| p.metadata.name.clone()).collect();
            match op {
                Op::Create { milli } => {
                    n += 1;
                    let before = st.rv;
                    let live = live_usage(&st);
                    let fits = live.get_or_zero("requests.cpu").nanos() + Quantity::from_milli(milli).nanos()
                        <= Quantity::from_int(5).nanos()
                        && live.get_or_zero("pods") < Quantity::from_int(7);
                    let pod = json!({"metadata": {"name": format!("w{n}"), "namespace": "p"},
                        "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": format!("{milli}m")}}}]}});
                    let res = st.create(&POD, obj(pod));
                    prop_assert_eq!(res.is_ok(), fits, "admission decision: {:?}", res.err());
                    if !fits {
                        prop_assert_eq!(st.rv, before, "a refusal writes nothing");
                    }
                }
                Op::Finish(i) if !names.is_empty() => {
                    let mut p = st.get(&POD, Some("p"), &names[i % names.len()]).unwrap();
                    p.data["status"]["phase"] = json!("Succeeded");
                    st.replace(&POD, p, true).unwrap();
                }
                Op::Delete(i) if !names.is_empty() => {
                    st.delete(&POD, Some("p"), &names[i % names.len()]).unwrap();
                }
                _ => {}
            }
            check_invariants(&st);
        }
    }
}
