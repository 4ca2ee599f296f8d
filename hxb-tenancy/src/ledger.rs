//! Hierarchical quota without HNC.
//!
//! Quota flows down a tree: an organization's plan quota ≥ Σ its workspaces' quotas ≥ Σ each
//! workspace's projects' quotas ≥ Σ each project's sub-projects' quotas. A node's *used*
//! amount is what its children carved out plus what its own workloads take; nothing may push
//! a node's used amount above its limit. Because every node's limit is itself counted in its
//! parent's used amount, checking the one node an allocation lands on keeps every ancestor
//! within bounds too.
//!
//! [`QuotaLedger`] holds the tree in memory with one lock per organization, so concurrent
//! allocations in different organizations never wait on each other and those in one
//! organization are serialised: no interleaving can overcommit. [`check_carve`] is the pure
//! rule the ledger (and the engine, over stored entities) applies.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use hxb_core::error::{Exceeded, QuotaExceeded};
use hxb_core::{Error, Quantity, ResourceList, Result};
use parking_lot::{Mutex, RwLock};

/// Would carving `request` out of a parent with limit `limit`, whose children already hold
/// `siblings` and whose own workloads use `own_usage`, stay within the limit? Refusals list
/// every offending resource (`used` = what siblings and workloads hold).
pub fn check_carve(
    parent: &str,
    limit: &ResourceList,
    siblings: &[&ResourceList],
    own_usage: &ResourceList,
    request: &ResourceList,
) -> Result<()> {
    let used = ResourceList::checked_sum(siblings.iter().copied())?.checked_add(own_usage)?;
    ResourceList::admit(parent, limit, &used, request)
}

/// The remaining room under `limit` after `used` (absent limits are not reported).
pub fn remaining(limit: &ResourceList, used: &ResourceList) -> Result<ResourceList> {
    limit.saturating_sub(used)
}

/// A node path: `org`, `org/ws`, `org/ws/project`, `org/ws/project/sub`…
pub type NodePath = String;

#[derive(Debug, Clone, Default)]
struct Node {
    limit: ResourceList,
    /// Σ children limits.
    carved: ResourceList,
    /// Own workloads.
    usage: ResourceList,
    children: Vec<NodePath>,
}

impl Node {
    fn used(&self) -> Result<ResourceList> {
        self.carved.checked_add(&self.usage)
    }
}

/// The quota tree of one organization.
#[derive(Debug, Default)]
struct OrgTree {
    nodes: BTreeMap<NodePath, Node>,
}

fn parent_of(path: &str) -> Option<&str> {
    path.rsplit_once('/').map(|(p, _)| p)
}

fn org_of(path: &str) -> &str {
    path.split('/').next().unwrap_or(path)
}

impl OrgTree {
    fn node(&self, path: &str) -> Result<&Node> {
        self.nodes
            .get(path)
            .ok_or_else(|| Error::not_found("quota node", path))
    }

    fn node_mut(&mut self, path: &str) -> Result<&mut Node> {
        self.nodes
            .get_mut(path)
            .ok_or_else(|| Error::not_found("quota node", path))
    }
}

/// In-memory hierarchical quota with per-organization locking. Cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct QuotaLedger {
    orgs: Arc<RwLock<HashMap<String, Arc<Mutex<OrgTree>>>>>,
}

impl QuotaLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    fn tree(&self, path: &str) -> Result<Arc<Mutex<OrgTree>>> {
        self.orgs
            .read()
            .get(org_of(path))
            .cloned()
            .ok_or_else(|| Error::not_found("organization quota", org_of(path)))
    }

    /// Register an organization with its plan quota (or change that quota; a limit below what
    /// is already used is refused, listing the resources).
    pub fn set_organization(&self, org: &str, limit: ResourceList) -> Result<()> {
        if org.contains('/') {
            return Err(Error::invalid("organization", "must not contain '/'"));
        }
        let tree = self.orgs.write().entry(org.to_owned()).or_default().clone();
        let mut t = tree.lock();
        let node = t.nodes.entry(org.to_owned()).or_default();
        check_shrink(org, &node.used()?, &limit)?;
        node.limit = limit;
        Ok(())
    }

    /// Carve a child node (`parent/child`) with `limit` out of its parent, or resize it.
    /// Refused with [`QuotaExceeded`] when the parent's room is too small or, on resize, when
    /// the child already uses more than the new limit.
    pub fn carve(&self, path: &str, limit: ResourceList) -> Result<()> {
        let parent = parent_of(path).ok_or_else(|| Error::invalid("path", "needs a parent"))?;
        let tree = self.tree(path)?;
        let mut t = tree.lock();
        let old = match t.nodes.get(path) {
            Some(n) => {
                check_shrink(path, &n.used()?, &limit)?;
                n.limit.clone()
            }
            None => ResourceList::new(),
        };
        let p = t.node(parent)?;
        let used_without = p.used()?.saturating_sub(&old)?;
        ResourceList::admit(parent, &p.limit, &used_without, &limit)?;
        let carved = p.carved.saturating_sub(&old)?.checked_add(&limit)?;
        let is_new = !t.nodes.contains_key(path);
        let p = t.node_mut(parent)?;
        p.carved = carved;
        if is_new {
            p.children.push(path.to_owned());
        }
        t.nodes.entry(path.to_owned()).or_default().limit = limit;
        Ok(())
    }

    /// Remove a leaf node, returning its quota to the parent. A node with children or with
    /// workload usage is refused ([`FailedPrecondition`](hxb_core::ErrorKind::FailedPrecondition)).
    pub fn remove(&self, path: &str) -> Result<()> {
        let tree = self.tree(path)?;
        let mut t = tree.lock();
        let n = t.node(path)?;
        if !n.children.is_empty() || !n.usage.is_zero() {
            return Err(Error::precondition(format!(
                "{path} still has children or usage"
            )));
        }
        let limit = n.limit.clone();
        if let Some(parent) = parent_of(path) {
            let p = t.node_mut(parent)?;
            p.carved = p.carved.saturating_sub(&limit)?;
            p.children.retain(|c| c != path);
        }
        t.nodes.remove(path);
        Ok(())
    }

    /// Can `request` fit at `path` now? (No side effect.)
    pub fn fits(&self, path: &str, request: &ResourceList) -> Result<()> {
        let tree = self.tree(path)?;
        let t = tree.lock();
        let n = t.node(path)?;
        ResourceList::admit(path, &n.limit, &n.used()?, request)
    }

    /// Take `request` for a workload at `path`, atomically with the check.
    pub fn allocate(&self, path: &str, request: &ResourceList) -> Result<()> {
        let tree = self.tree(path)?;
        let mut t = tree.lock();
        let n = t.node_mut(path)?;
        ResourceList::admit(path, &n.limit, &n.used()?, request)?;
        n.usage = n.usage.checked_add(request)?;
        Ok(())
    }

    /// Give back what [`allocate`](Self::allocate) took (clamped at zero).
    pub fn release(&self, path: &str, request: &ResourceList) -> Result<()> {
        let tree = self.tree(path)?;
        let mut t = tree.lock();
        let n = t.node_mut(path)?;
        n.usage = n.usage.saturating_sub(request)?;
        Ok(())
    }

    /// Replace the observed workload usage at `path` (from the cluster's live figures).
    /// Observed usage may exceed the limit (it is a fact, not a request); it then blocks
    /// further allocations until it drops.
    pub fn observe(&self, path: &str, usage: ResourceList) -> Result<()> {
        let tree = self.tree(path)?;
        let mut t = tree.lock();
        t.node_mut(path)?.usage = usage;
        Ok(())
    }

    /// `(limit, used)` at `path`, where used = carved by children + own workloads.
    pub fn status(&self, path: &str) -> Result<(ResourceList, ResourceList)> {
        let tree = self.tree(path)?;
        let t = tree.lock();
        let n = t.node(path)?;
        Ok((n.limit.clone(), n.used()?))
    }

    /// Check the invariant on every node of `org`: used ≤ limit and carved = Σ children limits.
    pub fn verify(&self, org: &str) -> Result<()> {
        let tree = self.tree(org)?;
        let t = tree.lock();
        for (path, n) in &t.nodes {
            let sum =
                ResourceList::checked_sum(n.children.iter().map(|c| &t.nodes[c.as_str()].limit))?;
            if !sum.compare(&n.carved).values().all(|o| o.is_eq()) {
                return Err(Error::internal(format!(
                    "{path}: carved {:?} ≠ Σ children {sum:?}",
                    n.carved
                )));
            }
            if !n.used()?.fits_within(&n.limit) {
                return Err(Error::internal(format!("{path}: overcommitted")));
            }
        }
        Ok(())
    }
}

/// Can a node whose children and workloads hold `used` shrink to `limit`? Refusals list
/// every resource held beyond the new limit.
pub fn check_shrink(path: &str, used: &ResourceList, limit: &ResourceList) -> Result<()> {
    let exceeded: Vec<Exceeded> = used
        .exceeding(limit)
        .into_iter()
        .map(|(resource, used, limit)| Exceeded {
            resource,
            requested: Quantity::ZERO,
            used,
            limit,
        })
        .collect();
    if exceeded.is_empty() {
        Ok(())
    } else {
        Err(QuotaExceeded {
            quota: path.to_owned(),
            exceeded,
        }
        .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hxb_core::ErrorKind;

    fn rl(cpu: &str, pods: &str) -> ResourceList {
        ResourceList::parse([("requests.cpu", cpu), ("pods", pods)]).unwrap()
    }

    #[test]
    fn quota_flows_down_and_back() {
        let l = QuotaLedger::new();
        l.set_organization("acme", rl("8", "100")).unwrap();
        l.carve("acme/dev", rl("6", "50")).unwrap();
        let e = l.carve("acme/prod", rl("3", "10")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::QuotaExceeded);
        assert!(e.to_string().contains("requests.cpu"), "{e}");
        l.carve("acme/prod", rl("2", "10")).unwrap();
        l.carve("acme/dev/web", rl("4", "20")).unwrap();
        l.carve("acme/dev/web/api", rl("1", "5")).unwrap();
        // the parent project's own room shrinks by what the sub-project carved
        assert_eq!(l.status("acme/dev/web").unwrap().1, rl("1", "5"));
        l.allocate("acme/dev/web", &rl("3", "1")).unwrap();
        assert_eq!(
            l.allocate("acme/dev/web", &rl("1", "1"))
                .unwrap_err()
                .kind(),
            ErrorKind::QuotaExceeded
        );
        // shrinking below use is refused, listing the resources
        let e = l.carve("acme/dev/web", rl("3", "20")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::QuotaExceeded);
        assert_eq!(
            l.set_organization("acme", rl("4", "100"))
                .unwrap_err()
                .kind(),
            ErrorKind::QuotaExceeded
        );
        // a node with children cannot go
        assert_eq!(
            l.remove("acme/dev/web").unwrap_err().kind(),
            ErrorKind::FailedPrecondition
        );
        l.remove("acme/dev/web/api").unwrap();
        l.release("acme/dev/web", &rl("3", "1")).unwrap();
        l.remove("acme/dev/web").unwrap();
        assert_eq!(
            l.status("acme/dev").unwrap().1,
            ResourceList::parse([("requests.cpu", "0"), ("pods", "0")]).unwrap()
        );
        l.verify("acme").unwrap();
    }

    #[test]
    fn resize_counts_the_old_limit_out() {
        let l = QuotaLedger::new();
        l.set_organization("o", rl("4", "10")).unwrap();
        l.carve("o/w", rl("3", "5")).unwrap();
        l.carve("o/w", rl("4", "10")).unwrap(); // grows into the whole org, not 3 + 4
        assert_eq!(
            l.carve("o/x", rl("1", "1")).unwrap_err().kind(),
            ErrorKind::QuotaExceeded
        );
        l.verify("o").unwrap();
    }

    #[test]
    fn check_carve_is_the_same_rule_over_plain_data() {
        let limit = rl("4", "10");
        let a = rl("2", "5");
        let b = rl("1", "1");
        check_carve("ws", &limit, &[&a, &b], &ResourceList::new(), &rl("1", "4")).unwrap();
        let e = check_carve("ws", &limit, &[&a, &b], &rl("1", "0"), &rl("1", "5")).unwrap_err();
        let Error::QuotaExceeded(q) = e else { panic!() };
        assert_eq!(q.exceeded.len(), 2);
    }

    #[test]
    fn unknown_nodes_are_not_found() {
        let l = QuotaLedger::new();
        assert_eq!(
            l.fits("nope/x", &rl("1", "1")).unwrap_err().kind(),
            ErrorKind::NotFound
        );
        l.set_organization("o", rl("1", "1")).unwrap();
        assert_eq!(
            l.carve("o/a/b", rl("1", "1")).unwrap_err().kind(),
            ErrorKind::NotFound
        );
    }
}
