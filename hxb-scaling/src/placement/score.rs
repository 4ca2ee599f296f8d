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
use super::profile::{Profile, ScoringStrategy};

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

/// `floor(x)` for `0 <= x < 2^51` without leaving `f64` (SSE2 has no vector floor or
/// saturating conversion): adding and subtracting 2^52 rounds to the nearest integer
/// exactly, then one is taken off where that rounded up.
#[inline(always)]
fn floor_small(x: f64) -> f64 {
    const M: f64 = 4_503_599_627_370_496.0; // 2^52
    let y = (x + M) - M;
    y - if y > x { 1.0 } else { 0.0 }
}

/// Filter and resource-score every node. `out[i]` is `w_fit * fit + w_bal * balanced` for
/// feasible nodes and [`INFEASIBLE`] for the others. `mask[i] != 0` marks nodes passing every
/// other filter. Returns the number of feasible nodes.
pub(crate) fn resource_pass(
    t: &NodeTable,
    mask: &[u8],
    r: PodReq,
    profile: &Profile,
    out: &mut Vec<f64>,
) -> usize {
    let (strategy, w_fit, w_bal) = (
        profile.strategy,
        profile.weights.fit,
        profile.weights.balanced,
    );
    out.resize(t.len(), 0.0);
    let (wf, wb) = (
        w_fit.clamp(0, 1 << 20) as f64,
        w_bal.clamp(0, 1 << 20) as f64,
    );
    match strategy {
        ScoringStrategy::MostAllocated => pass::<true>(t, mask, r, wf, wb, out),
        _ => pass::<false>(t, mask, r, wf, wb, out),
    }
}

/// One node's resource columns, as the hot loop reads them.
#[derive(Clone, Copy)]
struct Cols {
    mask: u8,
    fc: f64,
    fm: f64,
    fp: f64,
    zc: f64,
    zm: f64,
    ac: f64,
    am: f64,
    dc: f64,
    dm: f64,
    bm: f64,
}

/// Filter and score one node: `w_fit * fit + w_bal * balanced`, or [`INFEASIBLE`].
#[inline(always)]
fn eval<const MOST: bool>(c: Cols, r: &PodReq, pods_min: f64, wf: f64, wb: f64) -> f64 {
    let ok = (c.mask != 0) & (c.fc >= r.fit_cpu) & (c.fm >= r.fit_mem) & (c.fp >= pods_min);
    // Scoring requests (with defaults) after placing the pod.
    let uc = c.ac - c.zc + r.cpu_nz;
    let um = c.am - c.zm + r.mem_nz;
    let (sc, sm) = if MOST {
        (uc.min(c.ac) * 100.0 / c.dc, um.min(c.am) * 100.0 / c.dm)
    } else {
        (
            (c.ac - uc).max(0.0) * 100.0 / c.dc,
            (c.am - um).max(0.0) * 100.0 / c.dm,
        )
    };
    let fit = floor_small((floor_small(sc) + floor_small(sm)) * 0.5);
    let frc = ((c.ac - c.fc + r.cpu) / c.dc).min(1.0);
    let frm = ((c.am - c.fm + r.mem) / c.dm).min(1.0);
    let std = ((frc - frm) * 0.5).abs() * c.bm;
    let bal = floor_small((1.0 - std) * 100.0);
    if ok { wf * fit + wb * bal } else { INFEASIBLE }
}

fn cols(t: &NodeTable, mask: &[u8], i: usize) -> Cols {
    Cols {
        mask: mask[i],
        fc: t.free_cpu[i],
        fm: t.free_mem[i],
        fp: t.free_pods[i],
        zc: t.nzfree_cpu[i],
        zm: t.nzfree_mem[i],
        ac: t.alloc_cpu[i],
        am: t.alloc_mem[i],
        dc: t.div_cpu[i],
        dm: t.div_mem[i],
        bm: t.bal_mask[i],
    }
}

/// Re-evaluate only the nodes in `changed` (same arithmetic as [`resource_pass`]).
pub(crate) fn resource_update(
    t: &NodeTable,
    mask: &[u8],
    r: PodReq,
    profile: &Profile,
    changed: &[u32],
    out: &mut [f64],
) {
    let (strategy, w_fit, w_bal) = (
        profile.strategy,
        profile.weights.fit,
        profile.weights.balanced,
    );
    let (wf, wb) = (
        w_fit.clamp(0, 1 << 20) as f64,
        w_bal.clamp(0, 1 << 20) as f64,
    );
    let pods_min = if r.check { 1.0 } else { f64::NEG_INFINITY };
    let most = matches!(strategy, ScoringStrategy::MostAllocated);
    for &i in changed {
        let c = cols(t, mask, i as usize);
        out[i as usize] = if most {
            eval::<true>(c, &r, pods_min, wf, wb)
        } else {
            eval::<false>(c, &r, pods_min, wf, wb)
        };
    }
}

/// The hot loop, written so the compiler vectorises it: one numeric type, no branches
/// (selects only), slices of equal length.
fn pass<const MOST: bool>(
    t: &NodeTable,
    mask: &[u8],
    r: PodReq,
    wf: f64,
    wb: f64,
    out: &mut [f64],
) -> usize {
    let n = t.len();
    let pods_min = if r.check { 1.0 } else { f64::NEG_INFINITY };
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
        let c = Cols {
            mask: mask[i],
            fc: fc[i],
            fm: fm[i],
            fp: fp[i],
            zc: zc[i],
            zm: zm[i],
            ac: ac[i],
            am: am[i],
            dc: dc[i],
            dm: dm[i],
            bm: bm[i],
        };
        let s = eval::<MOST>(c, &r, pods_min, wf, wb);
        out[i] = s;
        feasible += usize::from(s >= 0.0);
    }
    feasible
}

/// The score of an infeasible node: far below any adjusted feasible total.
pub(crate) const INFEASIBLE: f64 = -1e18;

/// Index of the highest score (lowest index among equals); `None` when every node is
/// [`INFEASIBLE`].
///
/// Eight independent running maxima let the compiler keep the reduction in vector registers
/// (a single `fold` is a serial dependency chain, as float max is not reassociated).
pub(crate) fn argmax_f64(scores: &[f64]) -> Option<usize> {
    let mut acc = [f64::NEG_INFINITY; 8];
    let chunks = scores.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..8 {
            acc[k] = if c[k] > acc[k] { c[k] } else { acc[k] };
        }
    }
    let mut best = rest
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, |a, b| if b > a { b } else { a });
    for a in acc {
        best = if a > best { a } else { best };
    }
    if best <= INFEASIBLE / 2.0 {
        return None;
    }
    scores.iter().position(|&s| s == best)
}

/// Maximum of `raw` over feasible nodes (`scores[i] >= 0`); 0 when none.
pub(crate) fn feasible_max(raw: &[f64], scores: &[f64]) -> f64 {
    let n = scores.len();
    let (raw, scores) = (&raw[..n], &scores[..n]);
    let mut acc = [0.0f64; 8];
    let mut i = 0;
    while i + 8 <= n {
        for k in 0..8 {
            let r = if scores[i + k] >= 0.0 {
                raw[i + k]
            } else {
                0.0
            };
            acc[k] = if r > acc[k] { r } else { acc[k] };
        }
        i += 8;
    }
    let mut max = 0.0f64;
    for k in i..n {
        let r = if scores[k] >= 0.0 { raw[k] } else { 0.0 };
        max = if r > max { r } else { max };
    }
    acc.into_iter().fold(max, |m, a| if a > m { a } else { m })
}

/// `DefaultNormalizeScore` of a sparse raw score (nodes not listed have raw 0), times
/// `weight`, added to the feasible entries of `total`, up to a constant: `100 * raw / max`
/// (integer division), or `-(100 * raw / max)` when reversed (upstream's `100 - x`, minus the
/// 100 every node gets, which cannot change the ranking).
pub(crate) fn add_normalized_sparse(
    sparse: &[(u32, f64)],
    max: f64,
    reverse: bool,
    weight: i64,
    feasible: &[f64],
    total: &mut [f64],
) {
    if max <= 0.0 {
        return;
    }
    let w = if reverse {
        -(weight as f64)
    } else {
        weight as f64
    };
    for &(i, raw) in sparse {
        let i = i as usize;
        if feasible[i] >= 0.0 {
            total[i] += w * floor_small(MAX_NODE_SCORE as f64 * raw / max);
        }
    }
}
