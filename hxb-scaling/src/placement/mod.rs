//! Pod placement with kube-scheduler semantics, fast enough to score every node.
//!
//! [`Scheduler`] holds a cluster snapshot (k8s-openapi `Node`s and bound `Pod`s) and places
//! pods one at a time, assuming each onto its node so a sequence accumulates:
//!
//! * **Filters** (in kube-scheduler's default order): NodeUnschedulable, NodeName,
//!   TaintToleration, NodeAffinity (nodeSelector + required terms), NodeResourcesFit (cpu,
//!   memory, pod count), PodTopologySpread (`DoNotSchedule`, `minDomains`, node inclusion
//!   policies), InterPodAffinity (required affinity, anti-affinity, and bound pods'
//!   anti-affinity).
//! * **Scores**: NodeResourcesFit (least or most allocated), BalancedAllocation,
//!   TaintToleration, NodeAffinity (preferred), PodTopologySpread (`ScheduleAnyway`),
//!   InterPodAffinity (preferred terms both ways, required affinity of bound pods), weighted
//!   by a [`Profile`] whose defaults are kube-scheduler's.
//! * **Preemption**: a pod that fits nowhere evicts the fewest, lowest-priority pods of the
//!   best node (`SelectVictimsOnNode`, `pickOneNodeForPreemption`).
//! * **Unschedulable pods** get [`hxb_core::Error::Unschedulable`] with kube-scheduler's
//!   message: `0/5000 nodes are available: 3000 Insufficient cpu, 2000 node(s) had
//!   untolerated taint {dedicated: gpu}.`
//!
//! Every feasible node is scored (no sampling); ties go to the node listed first, where
//! kube-scheduler picks at random. [`Scheduler::what_if`] and [`Scheduler::capacity_for`]
//! answer capacity questions without changing the snapshot, and [`PlacementScheduler`] plugs
//! the engine into the embedded cluster through [`hxb_core::scheduling::PodScheduler`].
//!
//! ```
//! use hxb_scaling::placement::{Profile, Scheduler, testing};
//! let nodes: Vec<_> = (0..3).map(|i| testing::node(&format!("n{i}"), "4", "16Gi")).collect();
//! let mut s = Scheduler::new(&nodes, &[], Profile::default())?;
//! let fit = s.capacity_for(&testing::pod("api", "1500m", "2Gi"), 100)?;
//! assert_eq!(fit.count, 6); // two per node
//! let p = s.schedule(&testing::pod("api-1", "1500m", "2Gi"))?;
//! assert_eq!(p.node, "n0");
//! # Ok::<(), hxb_core::Error>(())
//! ```
//!
//! See `docs/scheduling.md` for the design and the deliberate differences from upstream.

mod adapter;
mod explain;
mod node;
mod pod;
mod preempt;
pub mod profile;
pub mod reference;
mod registry;
mod scheduler;
mod score;
mod shape;
pub mod testing;
mod topology;
mod whatif;

pub use adapter::PlacementScheduler;
pub use explain::{
    REASON_AFFINITY, REASON_ANTI_AFFINITY, REASON_EXISTING_ANTI_AFFINITY, REASON_NODE_AFFINITY,
    REASON_NODE_NAME, REASON_SPREAD, REASON_SPREAD_MISSING_LABEL, REASON_TOO_MANY_PODS,
    REASON_UNSCHEDULABLE, reason_taint,
};
pub use hxb_core::scheduling::{Placement, Victim};
pub use pod::{DEFAULT_MEMORY_REQUEST, DEFAULT_MILLI_CPU_REQUEST, LABEL_HOSTNAME};
pub use profile::{Filters, Profile, ScoringStrategy, Weights};
pub use scheduler::Scheduler;
pub use score::{MAX_NODE_SCORE, balanced, least_requested, most_requested};
pub use whatif::{Capacity, Outcome, WhatIf};
