//! The plan catalogue: which plans exist, what each grants, and whether a plan change is allowed.
//!
//! A plan's quota uses the resource names of a Kubernetes `ResourceQuota`
//! (`requests.cpu`, `requests.memory`, `requests.storage`, `pods`, `services`,
//! `persistentvolumeclaims`), so it is written into the cluster unchanged.
//!
//! The defaults ([`PlanCatalog::defaults`]) are starter / professional / enterprise on shared
//! nodes plus dedicated variants; every figure is configurable by inserting plans
//! ([`PlanCatalog::insert`]) or loading a catalogue from JSON/YAML (it is `serde`).

use std::collections::BTreeMap;

use hxb_core::error::{Exceeded, QuotaExceeded};
use hxb_core::{
    Error, Name, NodePlan, NodeSize, Plan, PlanKind, PlanLimits, PlanTier, Quantity, ResourceList,
    Result,
};
use serde::{Deserialize, Serialize};

/// The resource names a plan quota is expressed in, in the order they are reported.
pub const QUOTA_RESOURCES: [&str; 6] = [
    "requests.cpu",
    "requests.memory",
    "requests.storage",
    "pods",
    "services",
    "persistentvolumeclaims",
];

/// Build a plan quota from the six figures of the issue (cpu, memory, storage, pods, services,
/// PVCs), e.g. `quota("2", "4Gi", "20Gi", "20", "10", "5")`.
pub fn quota(
    cpu: &str,
    memory: &str,
    storage: &str,
    pods: &str,
    services: &str,
    pvcs: &str,
) -> Result<ResourceList> {
    ResourceList::parse(
        QUOTA_RESOURCES
            .into_iter()
            .zip([cpu, memory, storage, pods, services, pvcs]),
    )
}

/// The set of plans an engine offers, by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanCatalog {
    plans: BTreeMap<Name, Plan>,
    /// Policies set per plan (feature `policy`); a plan without one gets
    /// [`PlanPolicy::default_for`](crate::policy::PlanPolicy::default_for).
    #[cfg(feature = "policy")]
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    policies: BTreeMap<Name, crate::policy::PlanPolicy>,
}

fn name(s: &str) -> Name {
    Name::new(s).expect("built-in plan ids are valid names")
}

fn node_plan(size: NodeSize, cpu: &str, memory: &str, nodes: u32, price: i64) -> NodePlan {
    NodePlan {
        size,
        node_allocatable: ResourceList::parse([("cpu", cpu), ("memory", memory), ("pods", "110")])
            .expect("built-in node sizes parse"),
        nodes,
        monthly_price: Quantity::from_int(price),
    }
}

impl PlanCatalog {
    /// An empty catalogue.
    pub fn empty() -> Self {
        PlanCatalog {
            plans: BTreeMap::new(),
            #[cfg(feature = "policy")]
            policies: BTreeMap::new(),
        }
    }

    /// The default catalogue:
    ///
    /// | id | kind | cpu | memory | storage | pods | services | PVCs | workspaces | projects/ws | members |
    /// |---|---|---|---|---|---|---|---|---|---|---|
    /// | `starter` | shared | 2 | 4Gi | 20Gi | 20 | 10 | 5 | 3 | 10 | 10 |
    /// | `professional` | shared | 8 | 16Gi | 100Gi | 100 | 50 | 20 | 10 | 50 | 50 |
    /// | `enterprise` | shared | 32 | 64Gi | 500Gi | 500 | 200 | 100 | 1000 | 100 | 5000 |
    /// | `professional-dedicated` | dedicated (2 × M) | as professional |
    /// | `enterprise-dedicated` | dedicated (3 × L) | as enterprise |
    ///
    /// Prices (per month): starter 0, professional 99, enterprise 499; dedicated node sizes
    /// S (4 cpu / 16Gi) 150, M (8 / 32Gi) 300, L (16 / 64Gi) 600 per node.
    pub fn defaults() -> Self {
        let q = |a, b, c, d, e, f| quota(a, b, c, d, e, f).expect("built-in quotas parse");
        let limits = |w, p, m| PlanLimits {
            max_workspaces: w,
            max_projects_per_workspace: p,
            max_members: m,
        };
        let shared =
            |id: &str, tier: PlanTier, quota: ResourceList, l: PlanLimits, price: i64| Plan {
                id: name(id),
                tier,
                kind: PlanKind::Shared,
                quota,
                limits: l,
                node_plan: None,
                monthly_price: Quantity::from_int(price),
            };
        let starter = shared(
            "starter",
            PlanTier::Starter,
            q("2", "4Gi", "20Gi", "20", "10", "5"),
            limits(3, 10, 10),
            0,
        );
        let professional = shared(
            "professional",
            PlanTier::Professional,
            q("8", "16Gi", "100Gi", "100", "50", "20"),
            limits(10, 50, 50),
            99,
        );
        let enterprise = shared(
            "enterprise",
            PlanTier::Enterprise,
            q("32", "64Gi", "500Gi", "500", "200", "100"),
            limits(1000, 100, 5000),
            499,
        );
        let dedicated = |base: &Plan, id: &str, np: NodePlan| Plan {
            id: name(id),
            kind: PlanKind::Dedicated,
            node_plan: Some(np),
            ..base.clone()
        };
        let pro_ded = dedicated(
            &professional,
            "professional-dedicated",
            node_plan(NodeSize::M, "8", "32Gi", 2, 300),
        );
        let ent_ded = dedicated(
            &enterprise,
            "enterprise-dedicated",
            node_plan(NodeSize::L, "16", "64Gi", 3, 600),
        );
        let mut c = PlanCatalog::empty();
        for p in [starter, professional, enterprise, pro_ded, ent_ded] {
            c.insert(p).expect("built-in plans are valid");
        }
        c
    }

    /// Add or replace a plan (validated with [`Plan::validate`]).
    pub fn insert(&mut self, plan: Plan) -> Result<()> {
        plan.validate()?;
        self.plans.insert(plan.id.clone(), plan);
        Ok(())
    }

    /// A plan by id, or [`NotFound`](hxb_core::ErrorKind::NotFound).
    pub fn get(&self, id: &str) -> Result<&Plan> {
        self.plans
            .get(id)
            .ok_or_else(|| Error::not_found("plan", id))
    }

    /// Every plan, by id.
    pub fn iter(&self) -> impl Iterator<Item = &Plan> {
        self.plans.values()
    }

    /// Set the policy of plan `id` (validated; the plan must exist).
    #[cfg(feature = "policy")]
    pub fn set_policy(&mut self, id: &str, policy: crate::policy::PlanPolicy) -> Result<()> {
        let plan = self.get(id)?.id.clone();
        policy.validate()?;
        self.policies.insert(plan, policy);
        Ok(())
    }

    /// The policy of plan `id`: the one set, or the plan's default.
    #[cfg(feature = "policy")]
    pub fn policy(&self, id: &str) -> Result<crate::policy::PlanPolicy> {
        let plan = self.get(id)?;
        Ok(self
            .policies
            .get(id)
            .cloned()
            .unwrap_or_else(|| crate::policy::PlanPolicy::default_for(plan)))
    }
}

impl Default for PlanCatalog {
    fn default() -> Self {
        Self::defaults()
    }
}

/// What an entity currently uses, for judging a plan change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanUsage {
    /// Resources committed (quota carved out to children, or live usage, whichever is larger).
    pub resources: ResourceList,
    /// Workspaces in the organization.
    pub workspaces: u32,
    /// The largest project count of any one workspace.
    pub projects_per_workspace: u32,
    /// Members of the organization.
    pub members: u32,
}

/// Can an entity with `usage` move to `target`? Upgrades always can; a downgrade that current
/// usage would violate is refused with [`QuotaExceeded`], listing every offending resource
/// (count limits appear as `limits.workspaces`, `limits.projects-per-workspace`,
/// `limits.members`).
pub fn check_plan_change(subject: &str, usage: &PlanUsage, target: &Plan) -> Result<()> {
    let mut exceeded: Vec<Exceeded> = usage
        .resources
        .exceeding(&target.quota)
        .into_iter()
        .map(|(resource, used, limit)| Exceeded {
            resource,
            requested: Quantity::ZERO,
            used,
            limit,
        })
        .collect();
    let counts = [
        (
            "limits.workspaces",
            usage.workspaces,
            target.limits.max_workspaces,
        ),
        (
            "limits.projects-per-workspace",
            usage.projects_per_workspace,
            target.limits.max_projects_per_workspace,
        ),
        ("limits.members", usage.members, target.limits.max_members),
    ];
    for (res, used, limit) in counts {
        if used > limit {
            exceeded.push(Exceeded {
                resource: hxb_core::ResourceName::new(res)?,
                requested: Quantity::ZERO,
                used: Quantity::from_int(used.into()),
                limit: Quantity::from_int(limit.into()),
            });
        }
    }
    if exceeded.is_empty() {
        Ok(())
    } else {
        Err(QuotaExceeded {
            quota: format!("plan {} for {subject}", target.id),
            exceeded,
        }
        .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hxb_core::ErrorKind;

    #[test]
    fn defaults_match_the_published_figures() {
        let c = PlanCatalog::defaults();
        let starter = c.get("starter").unwrap();
        assert_eq!(
            starter.quota,
            quota("2", "4Gi", "20Gi", "20", "10", "5").unwrap()
        );
        assert_eq!(
            c.get("professional").unwrap().quota,
            quota("8", "16Gi", "100Gi", "100", "50", "20").unwrap()
        );
        assert_eq!(
            c.get("enterprise").unwrap().quota,
            quota("32", "64Gi", "500Gi", "500", "200", "100").unwrap()
        );
        let ded = c.get("enterprise-dedicated").unwrap();
        assert_eq!(ded.kind, PlanKind::Dedicated);
        assert_eq!(ded.quota, c.get("enterprise").unwrap().quota);
        assert_eq!(c.get("nope").unwrap_err().kind(), ErrorKind::NotFound);
    }

    #[test]
    fn catalogue_is_configurable_and_validated() {
        let mut c = PlanCatalog::defaults();
        let mut p = c.get("starter").unwrap().clone();
        p.quota = quota("1", "1Gi", "1Gi", "5", "5", "1").unwrap();
        c.insert(p.clone()).unwrap();
        assert_eq!(c.get("starter").unwrap().quota, p.quota);
        p.kind = PlanKind::Dedicated; // without a node plan
        assert_eq!(c.insert(p).unwrap_err().kind(), ErrorKind::InvalidInput);
        let json = serde_json::to_string(&c).unwrap();
        let back: PlanCatalog = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn downgrade_lists_every_offending_resource() {
        let c = PlanCatalog::defaults();
        let usage = PlanUsage {
            resources: quota("6", "4Gi", "50Gi", "10", "10", "2").unwrap(),
            workspaces: 5,
            projects_per_workspace: 2,
            members: 3,
        };
        check_plan_change("organization acme", &usage, c.get("professional").unwrap()).unwrap();
        let err =
            check_plan_change("organization acme", &usage, c.get("starter").unwrap()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::QuotaExceeded);
        let Error::QuotaExceeded(q) = err else {
            unreachable!()
        };
        let names: Vec<_> = q.exceeded.iter().map(|e| e.resource.as_str()).collect();
        assert_eq!(
            names,
            ["requests.cpu", "requests.storage", "limits.workspaces"]
        );
        assert_eq!(q.exceeded[0].used, Quantity::from_int(6));
        assert_eq!(q.exceeded[0].limit, Quantity::from_int(2));
    }
}
