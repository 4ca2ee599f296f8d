//! k8sgpt-style analyzers: read-only checks over a snapshot of cluster state that explain, in
//! plain language, what is wrong and what to do about it.
//!
//! Every analyzer is a pure function of a [`Snapshot`]; [`Snapshot::collect`] reads one from
//! any [`ClusterBackend`](hxb_core::ClusterBackend), so the same checks run on the embedded
//! cluster and on a real one.
//!
//! | analyzer | finds |
//! |---|---|
//! | `crash_loop` | containers in CrashLoopBackOff or restarting repeatedly (OOM kills called out) |
//! | `pending_pod` | pods that cannot be scheduled: capacity, taints, affinity |
//! | `quota_refusal` | workloads whose pods are refused by a ResourceQuota |
//! | `failed_job` | failed Jobs and CronJobs whose last run failed |
//! | `service_endpoints` | Services whose selector matches no ready pod |
//! | `hpa_at_max` | autoscalers pinned at their maximum |
//! | `quota_pressure` | quotas at or above 90% of a limit |

mod checks;
mod snapshot;

pub use checks::{ALL_ANALYZERS, analyze};
pub use snapshot::Snapshot;

use serde::{Deserialize, Serialize};

/// How serious a finding is.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingSeverity {
    /// Worth knowing.
    Info,
    /// Degrades service or will soon.
    Warning,
    /// Service is failing.
    Critical,
}

/// The object a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObjectRef {
    /// Kind (`Pod`, `Deployment`…).
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
    }
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Which analyzer found it.
    pub analyzer: String,
    /// How serious.
    pub severity: FindingSeverity,
    /// The object at fault.
    pub object: ObjectRef,
    /// A short machine-readable reason (`CrashLoopBackOff`, `OOMKilled`, `Unschedulable`…).
    pub reason: String,
    /// What is wrong, in plain language.
    pub explanation: String,
    /// What to do about it.
    pub hints: Vec<String>,
}
