//! Which filters and scores run, and with what weights.

/// How NodeResourcesFit scores a node.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScoringStrategy {
    /// Prefer emptier nodes: `(allocatable - requested) * 100 / allocatable` (the default).
    #[default]
    LeastAllocated,
    /// Prefer fuller nodes (bin packing): `requested * 100 / allocatable`.
    MostAllocated,
}

/// Score plugin weights. A weight of zero disables the plugin.
///
/// The defaults are kube-scheduler's default profile: NodeResourcesFit 1,
/// NodeResourcesBalancedAllocation 1, InterPodAffinity 2, NodeAffinity 2, TaintToleration 3,
/// PodTopologySpread 2 (ImageLocality has no counterpart: the engine knows no images).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Weights {
    /// NodeResourcesFit (least or most allocated).
    pub fit: i64,
    /// NodeResourcesBalancedAllocation.
    pub balanced: i64,
    /// InterPodAffinity.
    pub inter_pod_affinity: i64,
    /// NodeAffinity (preferred terms).
    pub node_affinity: i64,
    /// TaintToleration (PreferNoSchedule taints).
    pub taint_toleration: i64,
    /// PodTopologySpread (ScheduleAnyway constraints).
    pub topology_spread: i64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            fit: 1,
            balanced: 1,
            inter_pod_affinity: 2,
            node_affinity: 2,
            taint_toleration: 3,
            topology_spread: 2,
        }
    }
}

/// Which filter plugins run. All are on by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filters {
    /// NodeUnschedulable: `spec.unschedulable` nodes need a toleration.
    pub node_unschedulable: bool,
    /// TaintToleration: NoSchedule/NoExecute taints need tolerations.
    pub taint_toleration: bool,
    /// NodeAffinity: nodeSelector and required node affinity.
    pub node_affinity: bool,
    /// NodeResourcesFit: cpu, memory and pod count.
    pub resources: bool,
    /// PodTopologySpread: DoNotSchedule constraints.
    pub topology_spread: bool,
    /// InterPodAffinity: required pod affinity and anti-affinity (both directions).
    pub inter_pod_affinity: bool,
}

impl Default for Filters {
    fn default() -> Self {
        Filters {
            node_unschedulable: true,
            taint_toleration: true,
            node_affinity: true,
            resources: true,
            topology_spread: true,
            inter_pod_affinity: true,
        }
    }
}

/// A scheduling profile: filters, scoring strategy and score weights.
///
/// ```
/// use hxb_scaling::placement::{Profile, ScoringStrategy};
/// let binpack = Profile::default().with_strategy(ScoringStrategy::MostAllocated);
/// assert_eq!(binpack.weights.taint_toleration, 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    /// NodeResourcesFit scoring strategy.
    pub strategy: ScoringStrategy,
    /// Score weights.
    pub weights: Weights,
    /// Enabled filters.
    pub filters: Filters,
    /// Score added per bound pod whose required affinity term matches the incoming pod
    /// (kube-scheduler's `hardPodAffinityWeight`, default 1).
    pub hard_pod_affinity_weight: i64,
    /// Whether a pod that fits nowhere may evict lower-priority pods (DefaultPreemption).
    pub preemption: bool,
}

impl Default for Profile {
    fn default() -> Self {
        Profile {
            strategy: ScoringStrategy::LeastAllocated,
            weights: Weights::default(),
            filters: Filters::default(),
            hard_pod_affinity_weight: 1,
            preemption: true,
        }
    }
}

impl Profile {
    /// This profile with another NodeResourcesFit strategy.
    pub fn with_strategy(mut self, strategy: ScoringStrategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// This profile with other weights.
    pub fn with_weights(mut self, weights: Weights) -> Self {
        self.weights = weights;
        self
    }

    /// This profile with other filters.
    pub fn with_filters(mut self, filters: Filters) -> Self {
        self.filters = filters;
        self
    }

    /// This profile with preemption on or off.
    pub fn with_preemption(mut self, on: bool) -> Self {
        self.preemption = on;
        self
    }
}
