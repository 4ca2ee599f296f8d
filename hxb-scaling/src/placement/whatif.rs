//! Capacity questions answered on a copy of the snapshot.

use std::collections::BTreeMap;

use hxb_core::error::Unschedulable;
use hxb_core::scheduling::Placement;
use hxb_core::{Error, Result};
use k8s_openapi::api::core::v1::Pod;

use super::scheduler::Scheduler;

/// What happened to one pod of a [`Scheduler::what_if`] sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// `namespace/name` of the pod.
    pub pod: String,
    /// Where it would go (with victims), or why it would not fit.
    pub result: std::result::Result<Placement, Unschedulable>,
}

/// The answer to "what if these pods were created, in this order".
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WhatIf {
    /// One outcome per pod, in order.
    pub outcomes: Vec<Outcome>,
}

impl WhatIf {
    /// Pods that would be placed.
    pub fn placed(&self) -> usize {
        self.outcomes.iter().filter(|o| o.result.is_ok()).count()
    }

    /// Pods that would not fit, with the reason.
    pub fn unschedulable(&self) -> impl Iterator<Item = (&str, &Unschedulable)> {
        self.outcomes
            .iter()
            .filter_map(|o| o.result.as_ref().err().map(|e| (o.pod.as_str(), e)))
    }
}

/// The answer to "how many more of this pod fit".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capacity {
    /// How many copies fit (at most the limit asked for).
    pub count: usize,
    /// Copies per node.
    pub per_node: BTreeMap<String, usize>,
    /// Why the next copy would not fit (`None` when the limit was reached first).
    pub limited_by: Option<Unschedulable>,
}

impl Scheduler {
    /// Schedule `pods` in order on a copy of the snapshot (preemption included, as in
    /// [`Scheduler::schedule`]); the snapshot itself does not change. Bad input aborts with
    /// its error.
    pub fn what_if(&self, pods: &[Pod]) -> Result<WhatIf> {
        let mut copy = self.clone();
        let mut out = WhatIf::default();
        for pod in pods {
            let name = format!(
                "{}/{}",
                pod.metadata.namespace.as_deref().unwrap_or("default"),
                pod.metadata.name.as_deref().unwrap_or("")
            );
            let result = match copy.schedule(pod) {
                Ok(p) => Ok(p),
                Err(Error::Unschedulable(u)) => Err(u),
                Err(e) => return Err(e),
            };
            out.outcomes.push(Outcome { pod: name, result });
        }
        Ok(out)
    }

    /// How many more copies of `pod` fit (up to `limit`), without evicting anything: copies
    /// are placed one after another on a copy of the snapshot, so anti-affinity and spread
    /// constraints between the copies count.
    pub fn capacity_for(&self, pod: &Pod, limit: usize) -> Result<Capacity> {
        let mut copy = self.clone();
        copy.profile.preemption = false;
        let base = pod
            .metadata
            .name
            .clone()
            .unwrap_or_else(|| "pod".to_owned());
        let mut per_node = BTreeMap::new();
        let mut count = 0;
        let mut pod = pod.clone();
        while count < limit {
            pod.metadata.name = Some(format!("{base}-what-if-{count}"));
            match copy.schedule(&pod) {
                Ok(p) => *per_node.entry(p.node).or_insert(0) += 1,
                Err(Error::Unschedulable(u)) => {
                    return Ok(Capacity {
                        count,
                        per_node,
                        limited_by: Some(u),
                    });
                }
                Err(e) => return Err(e),
            }
            count += 1;
        }
        Ok(Capacity {
            count,
            per_node,
            limited_by: None,
        })
    }
}
