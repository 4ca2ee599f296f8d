//! Pods: admission (defaulting, limit ranges, request/limit validation) and binding to nodes
//! through the [`PodScheduler`](crate::scheduling::PodScheduler), with pending pods retried
//! whenever capacity frees up.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{LimitRange, Node, Pod, PodCondition, PodStatus};
use serde_json::Value;

use super::json;
use super::limitrange;
use super::quota::{is_terminal, pod_totals};
use super::state::{POD, State};
use crate::cluster::DynamicObject;
use crate::error::{Error, Result};
use crate::scheduling::ClusterSnapshot;

/// Typed copies of the nodes and of the bound, non-terminal pods: what the scheduler sees.
#[derive(Debug, Default)]
pub(crate) struct SchedCache {
    pub(crate) nodes: BTreeMap<String, Node>,
    pub(crate) pods: BTreeMap<(String, String), Pod>,
}

fn key(obj: &DynamicObject) -> (String, String) {
    (
        obj.metadata.namespace.clone().unwrap_or_default(),
        obj.metadata.name.clone().unwrap_or_default(),
    )
}

fn node_name(data: &Value) -> Option<&str> {
    json::field(data, "spec")?
        .get("nodeName")?
        .as_str()
        .filter(|s| !s.is_empty())
}

/// Whether the pod occupies a node.
fn occupies(obj: &DynamicObject) -> bool {
    node_name(&obj.data).is_some() && !is_terminal(&obj.data)
}

fn condition(
    type_: &str,
    status: &str,
    reason: Option<&str>,
    message: Option<String>,
    st: &State,
) -> PodCondition {
    PodCondition {
        type_: type_.into(),
        status: status.into(),
        reason: reason.map(Into::into),
        message,
        last_transition_time: Some(st.now()),
        ..Default::default()
    }
}

impl State {
    /// Pod admission on create: requests default to limits, LimitRange defaults and checks,
    /// then requests must not exceed limits.
    pub(crate) fn admit_pod(
        &self,
        ns: &str,
        old: Option<&DynamicObject>,
        obj: &mut DynamicObject,
    ) -> Result<()> {
        if old.is_some() {
            return Ok(());
        }
        let mut pod: Pod = json::to_typed(obj, "Pod")?;
        let name = pod.metadata.name.clone().unwrap_or_default();
        let spec = pod
            .spec
            .as_mut()
            .ok_or_else(|| Error::invalid("spec", "Required value"))?;
        if spec.containers.is_empty() {
            return Err(Error::invalid("spec.containers", "Required value"));
        }
        let mut containers: Vec<_> = spec
            .containers
            .iter_mut()
            .chain(spec.init_containers.iter_mut().flatten())
            .collect();
        for c in containers.iter_mut() {
            limitrange::default_requests_from_limits(c);
        }
        let ranges: Vec<LimitRange> = match self.store.table_of("", "LimitRange") {
            Some(t) => t
                .iter(Some(ns))
                .map(|o| json::to_typed(o, "LimitRange"))
                .collect::<Result<_>>()?,
            None => Vec::new(),
        };
        limitrange::admit_containers(&name, &mut containers, &ranges)?;
        for c in containers.iter() {
            let r = c.resources.as_ref();
            let empty = BTreeMap::new();
            let req = r.and_then(|r| r.requests.as_ref()).unwrap_or(&empty);
            let lim = r.and_then(|r| r.limits.as_ref()).unwrap_or(&empty);
            for (k, l) in lim {
                let l = crate::Quantity::parse_non_negative(&l.0)?;
                if let Some(rq) = req.get(k)
                    && crate::Quantity::parse_non_negative(&rq.0)? > l
                {
                    return Err(Error::invalid(
                        format!("spec.containers[{}].resources.requests", c.name),
                        format!(
                            "Invalid value: {:?}: must be less than or equal to {k} limit of {l}",
                            rq.0
                        ),
                    ));
                }
            }
        }
        pod_totals(spec)?;
        let status = pod.status.get_or_insert_with(PodStatus::default);
        status.phase.get_or_insert_with(|| "Pending".into());
        let types = obj.types.take();
        *obj = json::to_dynamic(&pod)?;
        obj.types = types;
        Ok(())
    }

    /// Keep the scheduler cache current; schedule new pods; retry pending ones when a bound
    /// pod goes away or terminates.
    pub(crate) fn on_pod_change(
        &mut self,
        old: Option<&DynamicObject>,
        new: Option<&DynamicObject>,
    ) {
        let k = key(old.or(new).expect("a change has a side"));
        let was = self.sched.pods.remove(&k).is_some();
        let mut now = false;
        if let Some(n) = new
            && occupies(n)
            && let Ok(p) = json::to_typed::<Pod>(n, "Pod")
        {
            self.sched.pods.insert(k.clone(), p);
            now = true;
        }
        if let Some(n) = new
            && old.is_none()
            && !is_terminal(&n.data)
        {
            self.schedule_pod(&k.0, &k.1);
        }
        if was && !now {
            self.retry_pending();
        }
    }

    /// Keep the node cache current; new capacity retries pending pods; pods of a deleted
    /// node are deleted (as the pod garbage collector does).
    pub(crate) fn on_node_change(
        &mut self,
        old: Option<&DynamicObject>,
        new: Option<&DynamicObject>,
    ) {
        let name = old
            .or(new)
            .and_then(|o| o.metadata.name.clone())
            .unwrap_or_default();
        match new.map(|n| json::to_typed::<Node>(n, "Node")) {
            Some(Ok(node)) => {
                self.sched.nodes.insert(name, node);
                self.retry_pending();
            }
            Some(Err(e)) => tracing::warn!(node = %name, error = %e, "node does not decode"),
            None => {
                self.sched.nodes.remove(&name);
                let orphans: Vec<(String, String)> = self
                    .sched
                    .pods
                    .iter()
                    .filter(|(_, p)| {
                        p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(name.as_str())
                    })
                    .map(|(k, _)| k.clone())
                    .collect();
                for (ns, pod) in orphans {
                    self.delete_object(&POD, &ns, &pod);
                }
            }
        }
    }

    /// Bind one unbound pod, or record why it cannot be bound. Returns whether it was bound.
    pub(crate) fn schedule_pod(&mut self, ns: &str, name: &str) -> bool {
        let Some(obj) = self.store.get(&POD, ns, name).cloned() else {
            return false;
        };
        if obj.metadata.deletion_timestamp.is_some() || is_terminal(&obj.data) {
            return false;
        }
        let Ok(mut pod) = json::to_typed::<Pod>(&obj, "Pod") else {
            return false;
        };
        let preset = pod.spec.as_ref().and_then(|s| s.node_name.clone());
        let running = pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running");
        if preset.is_some() && running {
            return false;
        }
        let placement = match preset {
            Some(node) => Ok(crate::scheduling::Placement {
                node,
                victims: Vec::new(),
            }),
            None => {
                let snapshot = ClusterSnapshot {
                    nodes: self.sched.nodes.values().cloned().collect(),
                    pods: self.sched.pods.values().cloned().collect(),
                };
                self.scheduler.schedule(&pod, &snapshot)
            }
        };
        match placement {
            Ok(p) => {
                for v in &p.victims {
                    if let Some(victim) = self.store.get(&POD, &v.namespace, &v.name).cloned() {
                        let msg = format!(
                            "Preempted by pod {} on node {}",
                            pod.metadata.uid.as_deref().unwrap_or(name),
                            p.node
                        );
                        self.record_event(
                            &POD,
                            &victim,
                            "Normal",
                            "Preempted",
                            &msg,
                            "default-scheduler",
                        );
                        self.delete_object(&POD, &v.namespace, &v.name);
                    }
                }
                let spec = pod.spec.get_or_insert_default();
                spec.node_name = Some(p.node.clone());
                let host_ip = self.sched.nodes.get(&p.node).and_then(|n| {
                    n.status
                        .as_ref()?
                        .addresses
                        .as_ref()?
                        .iter()
                        .find(|a| a.type_ == "InternalIP")
                        .map(|a| a.address.clone())
                });
                let status = pod.status.get_or_insert_default();
                status.phase = Some("Running".into());
                status.host_ip = host_ip;
                status.start_time = Some(self.now());
                status.conditions = Some(
                    ["PodScheduled", "Initialized", "ContainersReady", "Ready"]
                        .iter()
                        .map(|t| condition(t, "True", None, None, self))
                        .collect(),
                );
                let Ok(mut bound) = json::to_dynamic(&pod) else {
                    return false;
                };
                bound.types = obj.types.clone();
                let bound = self.write(&POD, bound);
                let msg = format!("Successfully assigned {ns}/{name} to {}", p.node);
                self.record_event(
                    &POD,
                    &bound,
                    "Normal",
                    "Scheduled",
                    &msg,
                    "default-scheduler",
                );
                true
            }
            Err(u) => {
                let msg = u.to_string();
                let conds = pod.status.as_ref().and_then(|s| s.conditions.as_ref());
                let same = conds.is_some_and(|cs| {
                    cs.iter().any(|c| {
                        c.type_ == "PodScheduled"
                            && c.status == "False"
                            && c.message.as_deref() == Some(msg.as_str())
                    })
                });
                if !same {
                    let status = pod.status.get_or_insert_default();
                    status.phase = Some("Pending".into());
                    status.conditions = Some(vec![condition(
                        "PodScheduled",
                        "False",
                        Some("Unschedulable"),
                        Some(msg.clone()),
                        self,
                    )]);
                    let Ok(mut pending) = json::to_dynamic(&pod) else {
                        return false;
                    };
                    pending.types = obj.types.clone();
                    let pending = self.write(&POD, pending);
                    self.record_event(
                        &POD,
                        &pending,
                        "Warning",
                        "FailedScheduling",
                        &msg,
                        "default-scheduler",
                    );
                }
                false
            }
        }
    }

    /// Try every pending pod again, highest priority first, then oldest, then by name.
    pub(crate) fn retry_pending(&mut self) {
        if self.retrying {
            self.retry_again = true;
            return;
        }
        self.retrying = true;
        loop {
            self.retry_again = false;
            let mut pending: Vec<(i32, String, String, String)> = match self.store.table(&POD) {
                None => Vec::new(),
                Some(t) => t
                    .iter(None)
                    .filter(|o| {
                        node_name(&o.data).is_none()
                            && !is_terminal(&o.data)
                            && o.metadata.deletion_timestamp.is_none()
                    })
                    .map(|o| {
                        let prio = json::field(&o.data, "spec")
                            .and_then(|s| s.get("priority"))
                            .and_then(Value::as_i64)
                            .unwrap_or(0);
                        let created = o
                            .metadata
                            .creation_timestamp
                            .as_ref()
                            .map(|t| t.0.to_string())
                            .unwrap_or_default();
                        let (ns, name) = key(o);
                        (-(prio as i32), created, ns, name)
                    })
                    .collect(),
            };
            pending.sort();
            for (_, _, ns, name) in pending {
                self.schedule_pod(&ns, &name);
            }
            if !self.retry_again {
                break;
            }
        }
        self.retrying = false;
    }
}
