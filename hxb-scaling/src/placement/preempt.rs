//! DefaultPreemption: when a pod fits nowhere, find the node where evicting the fewest,
//! lowest-priority pods makes it fit (`SelectVictimsOnNode` and `pickOneNodeForPreemption`).
//!
//! Deliberate simplification: a node is a candidate only if every filter except
//! NodeResourcesFit passes with the current pods; upstream also considers nodes where
//! evicting pods would resolve a topology-spread or pod-anti-affinity conflict.

use super::scheduler::Scheduler;
use super::score::PodReq;
use super::topology;

/// Resources of a node as the hot loop sees them: `[cpu, mem, pods]` free.
fn fits(free: [f64; 3], r: &PodReq) -> bool {
    free[0] >= r.fit_cpu && free[1] >= r.fit_mem && (!r.check || free[2] >= 1.0)
}

/// Upstream's candidate ordering key (smaller is better), then node index.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Rank {
    highest_victim_priority: i32,
    sum_priorities: i64,
    victims: usize,
    /// Negated earliest start among the highest-priority victims (later start is better).
    neg_earliest_top_start: i64,
}

/// The node and victims (pod ids) for `shape`, or `None` if preemption cannot help.
pub(crate) fn find(s: &Scheduler, shape: u32) -> Option<(usize, Vec<u32>)> {
    let sh = &s.shapes[shape as usize];
    if sh.spec.preempt_never {
        return None;
    }
    let prio = sh.spec.priority;
    let mut topo = Vec::new();
    let any_topo = topology::filter(&s.nodes, &s.reg, sh, &s.profile, &mut topo);
    let req = PodReq::new(sh.req, s.profile.filters.resources);
    let mut best: Option<(Rank, usize, Vec<u32>)> = None;
    for i in 0..s.nodes.len() {
        if sh.static_ok[i] == 0 || (any_topo && topo[i] != 0) {
            continue;
        }
        let mut lower: Vec<(i32, u64, u32)> = s.nodes.pods_on[i]
            .iter()
            .filter_map(|&id| {
                let p = s.pods[id as usize].as_ref()?;
                let pr = s.shapes[p.shape as usize].spec.priority;
                (pr < prio).then_some((pr, p.seq, id))
            })
            .collect();
        if lower.is_empty() {
            continue;
        }
        let req_of = |id: u32| {
            let p = s.pods[id as usize].as_ref().expect("bound");
            s.shapes[p.shape as usize].req
        };
        let mut free = [
            s.nodes.free_cpu[i],
            s.nodes.free_mem[i],
            s.nodes.free_pods[i],
        ];
        for &(_, _, id) in &lower {
            let r = req_of(id);
            free[0] += r[0] as f64;
            free[1] += r[1] as f64;
            free[2] += 1.0;
        }
        if !fits(free, &req) {
            continue;
        }
        // Reprieve the most important pods first: higher priority, then older.
        lower.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut victims = Vec::new();
        for &(pr, seq, id) in &lower {
            let r = req_of(id);
            let back = [free[0] - r[0] as f64, free[1] - r[1] as f64, free[2] - 1.0];
            if fits(back, &req) {
                free = back;
            } else {
                victims.push((pr, seq, id));
            }
        }
        let top = victims.iter().map(|v| v.0).max().unwrap_or(i32::MIN);
        let rank = Rank {
            highest_victim_priority: top,
            sum_priorities: victims
                .iter()
                .map(|v| i64::from(v.0) + i64::from(i32::MAX) + 1)
                .sum(),
            victims: victims.len(),
            neg_earliest_top_start: -(victims
                .iter()
                .filter(|v| v.0 == top)
                .map(|v| v.1)
                .min()
                .unwrap_or(0) as i64),
        };
        if best.as_ref().is_none_or(|(b, _, _)| rank < *b) {
            best = Some((rank, i, victims.into_iter().map(|v| v.2).collect()));
        }
    }
    best.map(|(_, i, v)| (i, v))
}
