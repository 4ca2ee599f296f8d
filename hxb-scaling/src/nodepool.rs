//! Node-pool sizing: how many nodes of which plan a workspace needs for its pods' requests
//! plus headroom, by first-fit-decreasing bin packing, with the monthly cost of each option.
//!
//! Headroom `h %` keeps that share of each node free: a node's usable capacity is
//! `allocatable × 100 / (100 + h)`, so the requests packed on it plus `h %` fit the node.
//! When a node lists a `pods` allocatable, every pod also takes one `pods` unit.
//!
//! ```
//! use hxb_core::{Quantity, ResourceList};
//! use hxb_scaling::nodepool::{NodeOption, PodGroup, size_node_pool};
//! # fn main() -> hxb_core::Result<()> {
//! let pods = [PodGroup::new("web", ResourceList::parse([("cpu", "500m"), ("memory", "1Gi")])?, 10)];
//! let plans = [
//!     NodeOption::new("s", ResourceList::parse([("cpu", "2"), ("memory", "4Gi")])?, Quantity::from_int(40)),
//!     NodeOption::new("l", ResourceList::parse([("cpu", "8"), ("memory", "16Gi")])?, Quantity::from_int(150)),
//! ];
//! let sizing = size_node_pool(&pods, &plans, 20)?;
//! let best = sizing.best();
//! assert_eq!((best.plan.as_str(), best.nodes), ("l", 1));
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;

use hxb_core::error::Unschedulable;
use hxb_core::{Error, NodePlan, Quantity, ResourceList, Result};
use serde::{Deserialize, Serialize};

/// Largest headroom accepted, in percent.
pub const MAX_HEADROOM_PERCENT: u32 = 1000;

/// `count` identical pods.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodGroup {
    /// Name (for explanations).
    pub name: String,
    /// Requests of one pod.
    pub requests: ResourceList,
    /// Number of pods.
    pub count: u32,
}

impl PodGroup {
    /// A group of `count` pods each requesting `requests`.
    pub fn new(name: impl Into<String>, requests: ResourceList, count: u32) -> Self {
        PodGroup {
            name: name.into(),
            requests,
            count,
        }
    }
}

/// A node plan one could build the pool from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeOption {
    /// Plan name.
    pub name: String,
    /// Allocatable resources of one node.
    pub allocatable: ResourceList,
    /// Price of one node per month.
    pub monthly_price: Quantity,
}

impl NodeOption {
    /// A plan.
    pub fn new(
        name: impl Into<String>,
        allocatable: ResourceList,
        monthly_price: Quantity,
    ) -> Self {
        NodeOption {
            name: name.into(),
            allocatable,
            monthly_price,
        }
    }
}

impl From<&NodePlan> for NodeOption {
    fn from(p: &NodePlan) -> Self {
        let name = match serde_json::to_value(p.size) {
            Ok(serde_json::Value::String(s)) => s,
            _ => format!("{:?}", p.size),
        };
        NodeOption {
            name,
            allocatable: p.node_allocatable.clone(),
            monthly_price: p.monthly_price,
        }
    }
}

/// The pool one plan needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSizing {
    /// Plan name.
    pub plan: String,
    /// Nodes needed (first-fit decreasing).
    pub nodes: u32,
    /// The volume lower bound: `max over resources of ceil(total request / usable capacity)`.
    pub lower_bound: u32,
    /// `nodes × monthly_price`.
    pub monthly_cost: Quantity,
    /// Requests packed per resource, summed over the pool.
    pub requested: ResourceList,
    /// Allocatable per resource, summed over the pool.
    pub allocatable: ResourceList,
}

/// Sizing for every feasible plan, cheapest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolSizing {
    /// Feasible plans, by cost, then node count, then name (never empty).
    pub options: Vec<PlanSizing>,
    /// Plans on which some pod fits on no node, with the first such pod.
    pub infeasible: Vec<(String, String)>,
}

impl PoolSizing {
    /// The cheapest option.
    pub fn best(&self) -> &PlanSizing {
        &self.options[0]
    }
}

/// Size a pool for `pods` on each of `plans` with `headroom_percent` kept free.
///
/// Errors: `InvalidInput` for no plans, duplicate plan names, headroom above
/// [`MAX_HEADROOM_PERCENT`] or a negative price; `Unschedulable` when some pod fits on no
/// plan's node at all (the reasons name the resources that are short).
pub fn size_node_pool(
    pods: &[PodGroup],
    plans: &[NodeOption],
    headroom_percent: u32,
) -> Result<PoolSizing> {
    if plans.is_empty() {
        return Err(Error::invalid(
            "plans",
            "at least one node plan is required",
        ));
    }
    if headroom_percent > MAX_HEADROOM_PERCENT {
        return Err(Error::invalid(
            "headroom_percent",
            format!("must be at most {MAX_HEADROOM_PERCENT}"),
        ));
    }
    let mut names: Vec<&str> = plans.iter().map(|p| p.name.as_str()).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) {
        return Err(Error::invalid("plans", "plan names must be unique"));
    }
    if let Some(p) = plans.iter().find(|p| p.monthly_price.is_negative()) {
        return Err(Error::invalid(
            format!("plans[{}].monthly_price", p.name),
            "must not be negative",
        ));
    }
    let mut options = Vec::new();
    let mut infeasible = Vec::new();
    let mut shortages: BTreeMap<String, usize> = BTreeMap::new();
    for plan in plans {
        match size_one(pods, plan, headroom_percent)? {
            Ok(s) => options.push(s),
            Err((pod, short)) => {
                for r in short {
                    *shortages.entry(format!("Insufficient {r}")).or_default() += 1;
                }
                infeasible.push((plan.name.clone(), pod));
            }
        }
    }
    if options.is_empty() {
        let mut reasons: Vec<(String, usize)> = shortages.into_iter().collect();
        reasons.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        return Err(Unschedulable {
            nodes: plans.len(),
            reasons,
        }
        .into());
    }
    options.sort_by(|a, b| {
        a.monthly_cost
            .cmp(&b.monthly_cost)
            .then(a.nodes.cmp(&b.nodes))
            .then_with(|| a.plan.cmp(&b.plan))
    });
    Ok(PoolSizing {
        options,
        infeasible,
    })
}

type Infeasible = (String, Vec<String>);

fn size_one(
    pods: &[PodGroup],
    plan: &NodeOption,
    headroom: u32,
) -> Result<std::result::Result<PlanSizing, Infeasible>> {
    // Resource dimensions: everything requested plus everything allocatable.
    let count_pods = plan.allocatable.get("pods").is_some();
    let mut dims: Vec<String> = plan
        .allocatable
        .iter()
        .map(|(k, _)| k.to_string())
        .collect();
    for g in pods {
        for (k, _) in g.requests.iter() {
            if !dims.iter().any(|d| d == k.as_str()) {
                dims.push(k.to_string());
            }
        }
    }
    let cap: Vec<i128> = dims
        .iter()
        .map(|d| {
            plan.allocatable.get_or_zero(d).nanos().saturating_mul(100)
                / (100 + i128::from(headroom))
        })
        .collect();
    let need = |g: &PodGroup| -> Vec<i128> {
        dims.iter()
            .map(|d| {
                if d == "pods" && count_pods {
                    1_000_000_000
                } else {
                    g.requests.get_or_zero(d).nanos()
                }
            })
            .collect()
    };
    // Feasibility of one pod, and the decreasing order by dominant share.
    let mut groups: Vec<(f64, &PodGroup, Vec<i128>)> = Vec::new();
    for g in pods.iter().filter(|g| g.count > 0) {
        let n = need(g);
        let short: Vec<String> = dims
            .iter()
            .zip(n.iter().zip(&cap))
            .filter(|(_, (r, c))| r > c)
            .map(|(d, _)| d.clone())
            .collect();
        if !short.is_empty() {
            return Ok(Err((g.name.clone(), short)));
        }
        let share = n
            .iter()
            .zip(&cap)
            .map(|(r, c)| if *c == 0 { 0.0 } else { *r as f64 / *c as f64 })
            .fold(0.0, f64::max);
        groups.push((share, g, n));
    }
    groups.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.name.cmp(&b.1.name)));

    // First-fit decreasing; identical pods are placed in batches (same result as one by one).
    let mut free: Vec<Vec<i128>> = Vec::new();
    let mut total = vec![0i128; dims.len()];
    for (_, g, n) in &groups {
        for (t, r) in total.iter_mut().zip(n) {
            *t = t.saturating_add(r.saturating_mul(i128::from(g.count)));
        }
        let mut left = u64::from(g.count);
        for node in free.iter_mut() {
            if left == 0 {
                break;
            }
            let k = fits(node, n).min(left);
            take(node, n, k);
            left -= k;
        }
        let per_node = fits(&cap, n);
        while left > 0 {
            let mut node = cap.clone();
            let k = per_node.min(left).max(1);
            take(&mut node, n, k);
            left -= k;
            free.push(node);
        }
    }
    let nodes =
        u32::try_from(free.len()).map_err(|_| Error::invalid("pods", "too many nodes needed"))?;
    let lower_bound = total
        .iter()
        .zip(&cap)
        .map(|(t, c)| if *c == 0 { 0 } else { (t + c - 1) / c })
        .max()
        .unwrap_or(0);
    let to_list = |v: &[i128]| -> Result<ResourceList> {
        let mut l = ResourceList::new();
        for (d, x) in dims.iter().zip(v) {
            let fmt = plan
                .allocatable
                .get(d)
                .map(|q| q.format())
                .unwrap_or(Quantity::ZERO.format());
            l.set(
                hxb_core::ResourceName::new(d.clone())?,
                Quantity::from_nanos(*x, fmt),
            )?;
        }
        Ok(l)
    };
    let alloc: Vec<i128> = dims
        .iter()
        .map(|d| {
            plan.allocatable
                .get_or_zero(d)
                .nanos()
                .saturating_mul(i128::from(nodes))
        })
        .collect();
    Ok(Ok(PlanSizing {
        plan: plan.name.clone(),
        nodes,
        lower_bound: u32::try_from(lower_bound).unwrap_or(u32::MAX),
        monthly_cost: plan.monthly_price.checked_mul(i64::from(nodes))?,
        requested: to_list(&total)?,
        allocatable: to_list(&alloc)?,
    }))
}

/// How many pods needing `n` fit in `free`.
fn fits(free: &[i128], n: &[i128]) -> u64 {
    free.iter()
        .zip(n)
        .map(|(f, r)| {
            if *r <= 0 {
                u64::MAX
            } else {
                u64::try_from((*f / *r).max(0)).unwrap_or(u64::MAX)
            }
        })
        .min()
        .unwrap_or(u64::MAX)
}

fn take(free: &mut [i128], n: &[i128], k: u64) {
    for (f, r) in free.iter_mut().zip(n) {
        *f -= r.saturating_mul(i128::from(k));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hxb_core::ErrorKind;

    fn rl(cpu: &str, mem: &str) -> ResourceList {
        ResourceList::parse([("cpu", cpu), ("memory", mem)]).unwrap()
    }

    fn plan(name: &str, cpu: &str, mem: &str, price: i64) -> NodeOption {
        NodeOption::new(name, rl(cpu, mem), Quantity::from_int(price))
    }

    #[test]
    fn headroom_and_cost_pick_the_cheapest_plan() {
        let pods = [PodGroup::new("web", rl("500m", "1Gi"), 10)];
        let plans = [
            plan("s", "2", "4Gi", 40),
            plan("m", "4", "8Gi", 70),
            plan("l", "8", "16Gi", 150),
        ];
        // 5 cores / 10 GiB. 20 % headroom: usable s = 1.666 cores → 3 pods/node → 4 nodes;
        // m = 3.33 cores → 6 pods → 2 nodes; l = 6.66 cores → 13 pods → 1 node.
        let s = size_node_pool(&pods, &plans, 20).unwrap();
        let got: Vec<(&str, u32, i64)> = s
            .options
            .iter()
            .map(|o| {
                (
                    o.plan.as_str(),
                    o.nodes,
                    o.monthly_cost.to_int_ceil() as i64,
                )
            })
            .collect();
        assert_eq!(got, vec![("m", 2, 140), ("l", 1, 150), ("s", 4, 160)]);
        assert_eq!(s.best().requested.get("cpu"), Some(Quantity::from_int(5)));
        assert_eq!(s.best().allocatable.get("cpu"), Some(Quantity::from_int(8)));
        // Without headroom s fits 4 pods per node → 3 nodes.
        let s0 = size_node_pool(&pods, &plans, 0).unwrap();
        assert_eq!(s0.options.iter().find(|o| o.plan == "s").unwrap().nodes, 3);
    }

    #[test]
    fn first_fit_decreasing_fills_gaps() {
        // Big pods first (3 cores each, one per 4-core node), then small ones into the gaps.
        let pods = [
            PodGroup::new("small", rl("1", "1Gi"), 3),
            PodGroup::new("big", rl("3", "1Gi"), 3),
        ];
        let s = size_node_pool(&pods, &[plan("n", "4", "64Gi", 1)], 0).unwrap();
        assert_eq!((s.best().nodes, s.best().lower_bound), (3, 3));
    }

    #[test]
    fn pod_count_limit_counts() {
        let mut alloc = rl("64", "256Gi");
        alloc
            .set(
                hxb_core::ResourceName::new("pods").unwrap(),
                Quantity::from_int(10),
            )
            .unwrap();
        let pods = [PodGroup::new("tiny", rl("10m", "10Mi"), 25)];
        let s = size_node_pool(
            &pods,
            &[NodeOption::new("p", alloc, Quantity::from_int(1))],
            0,
        )
        .unwrap();
        assert_eq!(s.best().nodes, 3);
    }

    #[test]
    fn a_pod_larger_than_every_node_is_unschedulable() {
        let pods = [PodGroup::new("huge", rl("16", "1Gi"), 1)];
        let e = size_node_pool(
            &pods,
            &[plan("s", "2", "4Gi", 1), plan("m", "4", "8Gi", 2)],
            0,
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unschedulable);
        assert_eq!(
            e.to_string(),
            "0/2 nodes are available: 2 Insufficient cpu."
        );
        // Feasible on one plan only: the other is reported as infeasible.
        let s = size_node_pool(
            &pods,
            &[plan("s", "2", "4Gi", 1), plan("xl", "32", "8Gi", 9)],
            0,
        )
        .unwrap();
        assert_eq!(s.best().plan, "xl");
        assert_eq!(s.infeasible, vec![("s".to_string(), "huge".to_string())]);
    }

    #[test]
    fn bad_input() {
        let pods = [PodGroup::new("a", rl("1", "1Gi"), 1)];
        assert_eq!(
            size_node_pool(&pods, &[], 0).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        assert!(size_node_pool(&pods, &[plan("a", "1", "1Gi", 1)], 1001).is_err());
        assert!(
            size_node_pool(
                &pods,
                &[plan("a", "1", "1Gi", 1), plan("a", "2", "1Gi", 1)],
                0
            )
            .is_err()
        );
        assert!(size_node_pool(&pods, &[plan("a", "1", "1Gi", -1)], 0).is_err());
        // No pods: zero nodes.
        assert_eq!(
            size_node_pool(&[], &[plan("a", "1", "1Gi", 5)], 0)
                .unwrap()
                .best()
                .nodes,
            0
        );
    }

    #[test]
    fn converts_from_core_node_plan() {
        let np = NodePlan {
            size: hxb_core::NodeSize::M,
            node_allocatable: rl("4", "16Gi"),
            nodes: 2,
            monthly_price: Quantity::from_int(100),
        };
        let o = NodeOption::from(&np);
        assert_eq!(o.name, "m");
        assert_eq!(o.allocatable, rl("4", "16Gi"));
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

            /// Pods fit a node even at the largest headroom tried. The packing never beats the
            /// volume bound, never needs more nodes than pods,
            /// and more headroom never needs fewer nodes.
            #[test]
            fn packing_invariants(
                groups in proptest::collection::vec((1i64..3000, 1i64..6000, 0u32..20), 1..6),
                h in 0u32..100,
            ) {
                let pods: Vec<PodGroup> = groups.iter().enumerate().map(|(i, (c, m, n))| {
                    PodGroup::new(format!("g{i}"), ResourceList::from_quantities([
                        ("cpu", Quantity::from_milli(*c)), ("memory", Quantity::from_bytes(m << 20)),
                    ]).unwrap(), *n)
                }).collect();
                let plans = [plan("n", "8", "16Gi", 10)];
                let total: u32 = groups.iter().map(|g| g.2).sum();
                let a = size_node_pool(&pods, &plans, h).unwrap();
                let b = size_node_pool(&pods, &plans, h + 50).unwrap();
                prop_assert!(a.best().nodes >= a.best().lower_bound);
                prop_assert!(a.best().nodes <= total);
                prop_assert!(b.best().lower_bound >= a.best().lower_bound);
            }
        }
    }
}
