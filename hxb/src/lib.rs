//! # hxb
//!
//! The Hexabase.AI platform as an embeddable engine: multi-tenant Kubernetes (organizations →
//! workspaces → projects with plans, quotas, RBAC and isolation), scaling and scheduling,
//! observability and AI operations — one library, used from Rust, Python, Node.js and Swift.
//!
//! The [`Engine`] runs on an embedded, in-process cluster by default (no daemon, no network)
//! and on real clusters through kube-rs.
//!
//! ```
//! use hxb::prelude::*;
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> hxb::Result<()> {
//! let engine = Engine::embedded()?;
//! engine.apply(serde_json::json!({
//!     "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}
//! })).await?;
//! engine.apply(serde_json::json!({
//!     "apiVersion": "v1", "kind": "ResourceQuota",
//!     "metadata": {"name": "quota", "namespace": "team-a"},
//!     "spec": {"hard": {"requests.cpu": "1", "requests.memory": "1Gi", "pods": "10"}}
//! })).await?;
//! let err = engine.create(serde_json::json!({
//!     "apiVersion": "v1", "kind": "Pod",
//!     "metadata": {"name": "big", "namespace": "team-a"},
//!     "spec": {"containers": [{"name": "app", "image": "nginx",
//!         "resources": {"requests": {"cpu": "2", "memory": "512Mi"}}}]}
//! })).await.unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::QuotaExceeded);
//! # Ok(()) }
//! ```

#[cfg(feature = "api")]
pub mod api;
#[cfg(feature = "backup")]
pub mod backup;
mod engine;
pub mod events;
mod monitor;
mod ops;
pub mod remediation;
pub mod telemetry;

#[doc(inline)]
pub use engine::{ClusterChoice, Engine, EngineBuilder};
#[doc(inline)]
pub use monitor::AlertEvaluation;

#[doc(inline)]
pub use hxb_core::{
    Api, Clock, ClusterBackend, EmbeddedCluster, Error, ErrorKind, KubeBackend, ManualClock,
    MetricsSource, Name, Quantity, ResourceList, ResourceName, ResourceType, Selector, StateStore,
    SystemClock,
};

/// The tenancy engine: organizations → workspaces → projects, plans, members and roles,
/// hierarchical quota, rendering to Kubernetes and reconcile (see [`Engine::tenancy`]).
pub mod tenancy {
    #[doc(inline)]
    pub use hxb_tenancy::*;
}

#[doc(inline)]
pub use hxb_tenancy::Tenancy;

/// Scaling and scheduling: HPA-exact replica recommendations, rightsizing, forecasting,
/// predictive scaling, placement (kube-scheduler semantics; the embedded cluster's default
/// scheduler), node autoscaling, idle detection — and the plain request/response types of the
/// engine's scaling operations ([`Engine::recommend_replicas`], [`Engine::forecast`]).
pub mod scaling {
    #[doc(inline)]
    pub use crate::ops::{ReplicaRecommendation, ReplicaRequest};
    #[doc(inline)]
    pub use hxb_scaling::*;
}

/// Multi-cluster fleet (feature `fleet`): member clusters, placement, workspace moves.
/// See `docs/fleet.md`.
#[cfg(feature = "fleet")]
pub mod fleet {
    #[doc(inline)]
    pub use crate::engine::FleetMember;
    #[doc(inline)]
    pub use hxb_tenancy::fleet::*;
}

/// AI operations: streaming anomaly detection, the NAB scorer, k8sgpt-style cluster analysis,
/// incidents, remediation and the LLM layer (see [`Engine::detect_anomalies`] and
/// [`Engine::analyze`]; the guard and the agent wired to the engine are in [`remediation`]).
pub mod ai {
    #[doc(inline)]
    pub use hxb_ai::*;
}

/// Plan policy (feature `policy`): Pod Security Standards levels and checks, image
/// references, per-plan policies and the engine's admission of what it deploys. See
/// `docs/policy.md`.
#[cfg(feature = "policy")]
pub mod policy {
    #[doc(inline)]
    pub use hxb_core::policy::{
        ImageRef, PodSecurityLevel, PodTemplate, PolicyVersion, Violation, check_object, check_pod,
        enforced, namespace_labels, pod_templates,
    };
    #[doc(inline)]
    pub use hxb_tenancy::policy::{
        ManifestReview, PlanPolicy, PolicyViolation, admit, harden, label_namespace, review,
    };
}

/// The crates behind the facade, for what the re-exports do not cover.
pub mod core {
    #[doc(inline)]
    pub use hxb_core::*;
}

/// `Result` with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The version of the hxb engine.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Everything most programs need: `use hxb::prelude::*;`.
pub mod prelude {
    pub use crate::{Engine, Error, ErrorKind, Name, Quantity, ResourceList, Result, Selector};
}
