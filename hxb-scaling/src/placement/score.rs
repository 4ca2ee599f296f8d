//! Resource scores (NodeResourcesFit, NodeResourcesBalancedAllocation) and the hot loop that
//! filters and scores every node for one pod.
//!
//! The formulas follow kube-scheduler's `least_allocated.go`, `most_allocated.go` and
//! `balanced_allocation.go`, evaluated in `f64` on exact integers. The integer division
//! `(capacity - requested) * 100 / capacity` is computed as an `f64` division truncated
//! toward zero; for capacities below 2^46 this equals the integer quotient exactly (the true
//! quotient is at least `1/capacity` away from the next integer, far more than the rounding
//! error), so the vectorisable form gives the same scores as upstream.

use super::node::NodeTable;
use super::profile::ScoringStrategy;

/// Highest score a plugin gives a node (kube-scheduler's `MaxNodeScore`).
pub const MAX_NODE_SCORE: i64 = 100;

/// `leastRequestedScore`: `(capacity - requested) * 100 / capacity`, 0 when over capacity.
pub fn least_requested(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 || requested > capacity {
        return 0;
    }
    (capacity - requested) * MAX_NODE_SCORE / capacity
}

/// `mostRequestedScore`: `requested * 100 / capacity`, requested capped at capacity.
pub fn most_requested(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 {
        return 0;
    }
    requested.min(capacity) * MAX_NODE_SCORE / capacity
}

/// `balancedResourceScorer` for cpu and memory: `(1 - |f_cpu - f_mem| / 2) * 100`, fractions
/// capped at 1, resources with zero capacity skipped.
pub fn balanced(req: [i64; 2], cap: [i64; 2]) -> i64 {
    let fr: Vec<f64> = (0..2)
        .filter(|&i| cap[i] != 0)
        .map(|i| (req[i] as f64 / cap[i] as f64).min(1.0))
        .collect();
    let std = if fr.len() == 2 {
        ((fr[0] - fr[1]) / 2.0).abs()
    } else {
        0.0
    };
    ((1.0 - std) * MAX_NODE_SCORE as f64) as i64
}

/// Per-pod inputs of the hot loop.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PodReq {
    /// Fit thresholds: the request, or -inf when the request is zero (upstream skips the check).
    pub fit_cpu: f64,
    pub fit_mem: f64,
    pub cpu: f64,
    pub mem: f64,
    pub cpu_nz: f64,
    pub mem_nz: f64,
    /// Whether NodeResourcesFit filters at all.
    pub check: bool,
}

impl PodReq {
    pub fn new(req: [i64; 4], check: bool) -> Self {
        let fit = |r: i64| {
            if r == 0 || !check {
                f64::NEG_INFINITY
            } else {
                r as f64
            }
        };
        PodReq {
            fit_cpu: fit(req[0]),
            fit_mem: fit(req[1]),
            cpu: req[0] as f64,
            mem: req[1] as f64,
            cpu_nz: req[2] as f64,
            mem_nz: req[3] as f64,
            check,
        }
    }
}

/// Filter and resource-score every node. `out[i]` is `w_fit * fit + w_bal * balanced` for
/// feasible nodes and -1 for infeasible ones. `mask[i] != 0` marks nodes passing every
/// other filter. Returns the number of feasible nodes.
pub(crate) fn resource_pass(
    t: &NodeTable,
    mask: &[u8],
    r: PodReq,
    strategy: ScoringStrategy,
    w_fit: i64,
    w_bal: i64,
    out: &mut Vec<i32>,
) -> usize {
    let n = t.len();
    out.clear();
    out.resize(n, 0);
    let pods_min = if r.check { 1.0 } else { f64::NEG_INFINITY };
    let (wf, wb) = (
        w_fit.clamp(0, 1 << 20) as f64,
        w_bal.clamp(0, 1 << 20) as f64,
    );
    let most = matches!(strategy, ScoringStrategy::MostAllocated);
    let (mask, out) = (&mask[..n], &mut out[..n]);
    let (fc, fm, fp) = (&t.free_cpu[..n], &t.free_mem[..n], &t.free_pods[..n]);
    let (zc, zm) = (&t.nzfree_cpu[..n], &t.nzfree_mem[..n]);
    let (ac, am, dc, dm, bm) = (
        &t.alloc_cpu[..n],
        &t.alloc_mem[..n],
        &t.div_cpu[..n],
        &t.div_mem[..n],
        &t.bal_mask[..n],
    );
    let mut feasible = 0usize;
    for i in 0..n {
        let ok = (mask[i] != 0) & (fc[i] >= r.fit_cpu) & (fm[i] >= r.fit_mem) & (fp[i] >= pods_min);
        // Requested for scoring (with defaults) after placing the pod.
        let uc = ac[i] - zc[i] + r.cpu_nz;
        let um = am[i] - zm[i] + r.mem_nz;
        let (sc, sm) = if most {
            (uc.min(ac[i]) * 100.0 / dc[i], um.min(am[i]) * 100.0 / dm[i])
        } else {
            (
                (ac[i] - uc).max(0.0) * 100.0 / dc[i],
                (am[i] - um).max(0.0) * 100.0 / dm[i],
            )
        };
        let fit = ((sc as i32 + sm as i32) >> 1) as f64;
        let frc = ((ac[i] - fc[i] + r.cpu) / dc[i]).min(1.0);
        let frm = ((am[i] - fm[i] + r.mem) / dm[i]).min(1.0);
        let std = ((frc - frm) * 0.5).abs() * bm[i];
        let bal = ((1.0 - std) * 100.0) as i32 as f64;
        let s = wf * fit + wb * bal;
        out[i] = if ok { s as i32 } else { -1 };
        feasible += usize::from(ok);
    }
    feasible
}

/// Index of the highest score (lowest index among equals); `None` when all are negative.
pub(crate) fn argmax<T: Copy + Ord + Default>(scores: &[T]) -> Option<usize> {
    let best = scores.iter().copied().max()?;
    if best < T::default() {
        return None;
    }
    scores.iter().position(|&s| s == best)
}

/// `DefaultNormalizeScore`: scale raw scores of feasible nodes (`scores[i] >= 0`) to
/// 0..=100 by their maximum, optionally reversed (all 100 when reversed and all raw scores are
/// zero), and add `weight *` the result to `total`.
pub(crate) fn add_normalized_default(
    raw: &[i64],
    scores: &[i32],
    reverse: bool,
    weight: i64,
    total: &mut [i64],
) {
    let max = raw
        .iter()
        .zip(scores)
        .filter(|(_, s)| **s >= 0)
        .map(|(r, _)| *r)
        .max()
        .unwrap_or(0);
    for i in 0..total.len() {
        if scores[i] < 0 {
            continue;
        }
        let s = if max == 0 {
            if reverse { MAX_NODE_SCORE } else { 0 }
        } else {
            let s = MAX_NODE_SCORE * raw[i] / max;
            if reverse { MAX_NODE_SCORE - s } else { s }
        };
        total[i] += weight * s;
    }
}
