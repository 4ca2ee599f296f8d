//! Placement: which member cluster a workspace goes to. Pure functions over plain data.
//!
//! A cluster is eligible for a workspace when
//!
//! 1. it is not dedicated to another organization, and — when the workspace asks for hard
//!    isolation (a dedicated plan) — it is dedicated to the workspace's organization;
//! 2. its labels match the request's required selector (a region, for example);
//! 3. the workspace's demand fits its free capacity (`allocatable − used`, per resource).
//!
//! Among eligible clusters the choice is: clusters matching the preferred selector first, then
//! clusters dedicated to the organization, then the one left least allocated after placing
//! the workspace (the lowest per-resource free share, in thousandths, is highest), then the
//! name (ascending). The order is total, so the choice is deterministic.

use std::collections::BTreeMap;

use hxb_core::error::Unschedulable;
use hxb_core::{Error, Name, ResourceList, ResourceName, Result, Selector};
use serde::{Deserialize, Serialize};

/// The label carrying a cluster's region (the well-known Kubernetes topology label).
pub const LABEL_REGION: &str = "topology.kubernetes.io/region";

/// One member cluster as placement sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterInfo {
    /// The member's name in the fleet.
    pub name: String,
    /// Its labels (region, provider, tier…).
    pub labels: BTreeMap<String, String>,
    /// Σ allocatable of its schedulable nodes (`cpu`, `memory`, `pods`).
    pub allocatable: ResourceList,
    /// What is taken: requests of pods outside hxb's namespaces plus the demand of every
    /// workspace placed on it.
    pub used: ResourceList,
    /// The organization the cluster is reserved for, if any.
    pub dedicated_to: Option<Name>,
    /// Workspaces placed on it, as `org/ws`.
    pub workspaces: Vec<String>,
}

impl ClusterInfo {
    /// `allocatable − used`, clamped at zero.
    pub fn free(&self) -> ResourceList {
        self.allocatable
            .saturating_sub(&self.used)
            .unwrap_or_else(|_| ResourceList::new())
    }

    /// The region label, if set.
    pub fn region(&self) -> Option<&str> {
        self.labels.get(LABEL_REGION).map(String::as_str)
    }
}

/// What a workspace needs from a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacementRequest {
    /// The workspace's organization.
    pub organization: Name,
    /// Capacity it reserves (`cpu`, `memory`, `pods`; see [`demand_of`]).
    pub demand: ResourceList,
    /// Only a cluster dedicated to the organization will do.
    pub hard_isolation: bool,
    /// Cluster labels that must match.
    pub required: Selector,
    /// Cluster labels that are preferred.
    pub preferred: Option<Selector>,
}

impl PlacementRequest {
    /// A request for `demand` on behalf of `organization`, no other constraint.
    pub fn new(organization: Name, demand: ResourceList) -> Self {
        PlacementRequest {
            organization,
            demand,
            hard_isolation: false,
            required: Selector::everything(),
            preferred: None,
        }
    }

    /// Require a cluster dedicated to the organization.
    pub fn hard_isolation(mut self, on: bool) -> Self {
        self.hard_isolation = on;
        self
    }

    /// Require the region label to equal `region`.
    pub fn region(mut self, region: &str) -> Self {
        self.required = std::mem::take(&mut self.required).and(
            hxb_core::selector::Requirement::Equals(LABEL_REGION.into(), region.into()),
        );
        self
    }

    /// Require cluster labels to match `selector` (added to what is required already).
    pub fn require(mut self, selector: &Selector) -> Self {
        for r in selector.requirements() {
            self.required = std::mem::take(&mut self.required).and(r.clone());
        }
        self
    }

    /// Prefer clusters whose labels match `selector`.
    pub fn prefer(mut self, selector: Selector) -> Self {
        self.preferred = Some(selector);
        self
    }
}

/// The capacity a workspace reserves on its cluster: its quota's `requests.cpu`,
/// `requests.memory` and `pods`, under the node resource names `cpu`, `memory`, `pods`.
/// Resources the quota leaves unlimited reserve nothing.
pub fn demand_of(quota: &ResourceList) -> ResourceList {
    let mut out = ResourceList::new();
    for (from, to) in [
        (ResourceName::REQUESTS_CPU, ResourceName::CPU),
        (ResourceName::REQUESTS_MEMORY, ResourceName::MEMORY),
        (ResourceName::PODS, ResourceName::PODS),
    ] {
        if let Some(q) = quota.get(from) {
            let name = ResourceName::new(to).expect("a well-known resource name");
            out.set(name, q).expect("a quota amount is non-negative");
        }
    }
    out
}

/// Why `cluster` cannot take the request, or `None` if it can. Capacity refusals are
/// [`QuotaExceeded`](hxb_core::error::QuotaExceeded) with quota `cluster <name>`; isolation
/// and label mismatches are `FailedPrecondition`.
pub fn check(cluster: &ClusterInfo, req: &PlacementRequest) -> Result<()> {
    match &cluster.dedicated_to {
        Some(o) if *o != req.organization => {
            return Err(Error::precondition(format!(
                "cluster {} is dedicated to organization {o}",
                cluster.name
            )));
        }
        None if req.hard_isolation => {
            return Err(Error::precondition(format!(
                "cluster {} is shared; organization {} needs a cluster dedicated to it",
                cluster.name, req.organization
            )));
        }
        _ => {}
    }
    if !req.required.matches(&cluster.labels) {
        return Err(Error::precondition(format!(
            "cluster {} does not match {}",
            cluster.name, req.required
        )));
    }
    ResourceList::admit(
        &format!("cluster {}", cluster.name),
        &cluster.allocatable,
        &cluster.used,
        &req.demand,
    )
}

/// The short reason a cluster is refused, for [`Unschedulable`] counts.
fn reason(cluster: &ClusterInfo, req: &PlacementRequest) -> Option<String> {
    match check(cluster, req) {
        Ok(()) => None,
        Err(Error::QuotaExceeded(q)) => {
            let names: Vec<&str> = q.exceeded.iter().map(|e| e.resource.as_str()).collect();
            Some(format!("cluster(s) had insufficient {}", names.join(", ")))
        }
        Err(_) => Some(
            match &cluster.dedicated_to {
                Some(o) if *o != req.organization => "cluster(s) dedicated to another organization",
                None if req.hard_isolation => "cluster(s) not dedicated to the organization",
                _ => "cluster(s) didn't match the required labels",
            }
            .to_owned(),
        ),
    }
}

/// The lowest per-resource free share (thousandths) left after placing `demand`.
fn least_free_share(cluster: &ClusterInfo, demand: &ResourceList) -> i128 {
    let mut share = 1000;
    for (name, alloc) in cluster.allocatable.iter() {
        let a = alloc.to_milli_ceil();
        if a <= 0 {
            continue;
        }
        let used = cluster.used.get_or_zero(name.as_str()).to_milli_ceil()
            + demand.get_or_zero(name.as_str()).to_milli_ceil();
        share = share.min(((a - used).max(0) * 1000) / a);
    }
    share
}

/// Choose a cluster for `req` (see the module documentation for the order). When none is
/// eligible the error is [`Unschedulable`], counting clusters per reason.
pub fn choose<'a>(clusters: &'a [ClusterInfo], req: &PlacementRequest) -> Result<&'a ClusterInfo> {
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let mut best: Option<(&ClusterInfo, (bool, bool, i128))> = None;
    for c in clusters {
        if let Some(r) = reason(c, req) {
            *reasons.entry(r).or_default() += 1;
            continue;
        }
        let key = (
            req.preferred.as_ref().is_some_and(|p| p.matches(&c.labels)),
            c.dedicated_to.as_ref() == Some(&req.organization),
            least_free_share(c, &req.demand),
        );
        let better = match &best {
            None => true,
            Some((b, bk)) => key > *bk || (key == *bk && c.name < b.name),
        };
        if better {
            best = Some((c, key));
        }
    }
    match best {
        Some((c, _)) => Ok(c),
        None => {
            let mut reasons: Vec<(String, usize)> = reasons.into_iter().collect();
            reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            Err(Unschedulable {
                nodes: clusters.len(),
                reasons,
            }
            .into())
        }
    }
}

#[cfg(test)]
mod tests;
