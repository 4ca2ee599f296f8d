//! The embedded cluster's scheduling hook, backed by the placement engine.

use hxb_core::Error;
use hxb_core::error::Unschedulable;
use hxb_core::scheduling::{ClusterSnapshot, Placement, PodScheduler};
use k8s_openapi::api::core::v1::Pod;

use super::profile::Profile;
use super::scheduler::Scheduler;

/// A [`PodScheduler`] that runs the placement engine on each snapshot it is given.
///
/// The snapshot is indexed afresh on every call (linear in nodes and pods); keep a
/// [`Scheduler`] instead when placing many pods against one evolving snapshot. Input the
/// engine rejects (a bad quantity, an unknown operator) is reported as an [`Unschedulable`]
/// whose single reason carries the error, counted against every node, since the hook has no
/// other error channel.
#[derive(Debug, Clone, Default)]
pub struct PlacementScheduler {
    profile: Profile,
}

impl PlacementScheduler {
    /// A hook using `profile`.
    pub fn new(profile: Profile) -> Self {
        PlacementScheduler { profile }
    }
}

impl PodScheduler for PlacementScheduler {
    fn schedule(&self, pod: &Pod, snapshot: &ClusterSnapshot) -> Result<Placement, Unschedulable> {
        let nodes = snapshot.nodes.len();
        let invalid = |e: Error| Unschedulable {
            nodes,
            reasons: vec![(e.to_string(), nodes)],
        };
        let mut s = Scheduler::from_snapshot(snapshot, self.profile).map_err(invalid)?;
        match s.schedule(pod) {
            Ok(p) => Ok(p),
            Err(Error::Unschedulable(u)) => Err(u),
            Err(e) => Err(invalid(e)),
        }
    }
}
