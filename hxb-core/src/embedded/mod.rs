//! The embedded cluster: an in-process, deterministic, small Kubernetes.
//!
//! [`EmbeddedCluster`] implements [`ClusterBackend`] over real Kubernetes objects kept in
//! memory. It enforces what the engine relies on, the way the API server does:
//!
//! - **identity and concurrency**: `AlreadyExists` on create, a global monotonically increasing
//!   `resourceVersion`, `Conflict` on a stale update, `metadata.generation` bumped on spec
//!   changes, names validated per kind;
//! - **namespace lifecycle**: nothing is created in a missing or terminating namespace;
//!   deleting a namespace marks it `Terminating`, cascades to its content, honours
//!   `metadata.finalizers` and removes the namespace once it is empty;
//! - **admission**: `LimitRange` defaulting and min/max checks, `ResourceQuota` admission with
//!   usage accounting (`status.hard`/`status.used` kept up to date);
//! - **watches** with label selectors and a bounded replay history;
//! - **simulated nodes** and a scheduler binding every pod (see [`LeastAllocated`], or plug in
//!   any [`PodScheduler`]), with `core/v1` Events for scheduling outcomes;
//! - minimal **Deployment and StatefulSet controllers** keeping pods at `spec.replicas`.
//!
//! There are no background threads or tasks: all controller work happens synchronously inside
//! the API call that triggers it, and uids come from a seeded generator, so a run reproduces
//! exactly. See `docs/embedded-cluster.md` for the deliberate differences from Kubernetes.
//!
//! ```
//! use hxb_core::{EmbeddedCluster, cluster::Api, ManualClock};
//! use k8s_openapi::api::core::v1::Node;
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> hxb_core::Result<()> {
//! let cluster = EmbeddedCluster::builder()
//!     .nodes(3)
//!     .seed(7)
//!     .clock(std::sync::Arc::new(ManualClock::at_epoch()))
//!     .build();
//! let nodes: Api<Node> = Api::all(cluster.clone().into_backend());
//! assert_eq!(nodes.list(&Default::default()).await?.len(), 3);
//! # Ok(()) }
//! ```

mod admission;
mod controllers;
mod events;
mod json;
mod limitrange;
mod namespace;
mod nodes;
mod pods;
#[cfg(feature = "policy")]
mod podsecurity;
#[cfg(test)]
mod proptests;
mod quota;
mod scheduler;
mod state;
mod store;
mod watch;

use std::sync::Arc;

use async_trait::async_trait;
use parking_lot::RwLock;

use crate::clock::{Clock, SystemClock};
use crate::cluster::{
    ApplyOptions, BackendKind, ClusterBackend, DynamicObject, ListOptions, ObjectList,
    ResourceType, WatchOptions, WatchStream,
};
use crate::error::Result;
use crate::scheduling::PodScheduler;

pub use nodes::NodePool;
pub use scheduler::LeastAllocated;

use state::State;

/// Default number of watch events kept for replay.
pub const DEFAULT_WATCH_HISTORY: usize = 10_000;

/// The in-process cluster. Cheap to clone: clones share one cluster.
#[derive(Clone)]
pub struct EmbeddedCluster {
    inner: Arc<RwLock<State>>,
}

impl std::fmt::Debug for EmbeddedCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.inner.read();
        f.debug_struct("EmbeddedCluster")
            .field("resource_version", &st.rv)
            .field("objects", &st.store.len())
            .finish()
    }
}

/// Builds an [`EmbeddedCluster`]: `EmbeddedCluster::builder().nodes(3).seed(1).build()`.
pub struct EmbeddedClusterBuilder {
    nodes: usize,
    pools: Vec<NodePool>,
    zones: Vec<String>,
    seed: u64,
    clock: Arc<dyn Clock>,
    scheduler: Arc<dyn PodScheduler>,
    watch_history: usize,
}

impl Default for EmbeddedClusterBuilder {
    fn default() -> Self {
        EmbeddedClusterBuilder {
            nodes: 0,
            pools: Vec::new(),
            zones: vec!["zone-a".into(), "zone-b".into(), "zone-c".into()],
            seed: 0,
            clock: Arc::new(SystemClock),
            scheduler: Arc::new(LeastAllocated),
            watch_history: DEFAULT_WATCH_HISTORY,
        }
    }
}

impl std::fmt::Debug for EmbeddedClusterBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedClusterBuilder")
            .field("nodes", &self.nodes)
            .field("pools", &self.pools)
            .field("zones", &self.zones)
            .field("seed", &self.seed)
            .field("watch_history", &self.watch_history)
            .finish_non_exhaustive()
    }
}

impl EmbeddedCluster {
    /// Start configuring a cluster.
    pub fn builder() -> EmbeddedClusterBuilder {
        EmbeddedClusterBuilder::default()
    }

    /// An empty cluster (no nodes) with default settings.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// This cluster as the trait object the engine holds.
    pub fn into_backend(self) -> Arc<dyn ClusterBackend> {
        Arc::new(self)
    }

    /// The current (latest) resourceVersion of the whole cluster.
    pub fn resource_version(&self) -> u64 {
        self.inner.read().rv
    }

    /// Every object of every kind, ordered by kind (in order of first creation), namespace
    /// and name: a full snapshot to compare states in tests.
    pub fn objects(&self) -> Vec<DynamicObject> {
        self.inner
            .read()
            .store
            .all()
            .map(|o| DynamicObject::clone(o))
            .collect()
    }

    /// How many objects the cluster holds (all kinds, Events included).
    pub fn object_count(&self) -> usize {
        self.inner.read().store.len()
    }
}

impl Default for EmbeddedCluster {
    fn default() -> Self {
        Self::new()
    }
}

impl EmbeddedClusterBuilder {
    /// Add `n` default nodes (4 cpu, 16Gi memory, 110 pods, spread over the zones).
    pub fn nodes(mut self, n: usize) -> Self {
        self.nodes = n;
        self
    }

    /// Add a pool of nodes of one shape (labels, taints, capacity).
    pub fn node_pool(mut self, pool: NodePool) -> Self {
        self.pools.push(pool);
        self
    }

    /// The zones nodes are spread over (`topology.kubernetes.io/zone`); default
    /// `zone-a`, `zone-b`, `zone-c`. An empty list keeps the default.
    pub fn zones<S: Into<String>>(mut self, zones: impl IntoIterator<Item = S>) -> Self {
        let z: Vec<String> = zones.into_iter().map(Into::into).collect();
        if !z.is_empty() {
            self.zones = z;
        }
        self
    }

    /// Seed of the generator behind uids, generated names and zone spread (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The clock behind timestamps (default: the system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The scheduler that binds pods to nodes (default: [`LeastAllocated`]).
    pub fn scheduler(mut self, scheduler: Arc<dyn PodScheduler>) -> Self {
        self.scheduler = scheduler;
        self
    }

    /// How many watch events are kept for replay from an older resourceVersion
    /// (default [`DEFAULT_WATCH_HISTORY`]; at least 1).
    pub fn watch_history(mut self, events: usize) -> Self {
        self.watch_history = events.max(1);
        self
    }

    /// Create the cluster with its nodes.
    pub fn build(self) -> EmbeddedCluster {
        let mut st = State::new(self.seed, self.clock, self.scheduler, self.watch_history);
        let mut pools = Vec::new();
        if self.nodes > 0 {
            pools.push(NodePool::default().count(self.nodes));
        }
        pools.extend(self.pools);
        st.add_pools(&pools, &self.zones);
        EmbeddedCluster {
            inner: Arc::new(RwLock::new(st)),
        }
    }
}

#[async_trait]
impl ClusterBackend for EmbeddedCluster {
    fn kind(&self) -> BackendKind {
        BackendKind::Embedded
    }

    async fn create(&self, ty: &ResourceType, obj: DynamicObject) -> Result<DynamicObject> {
        self.inner.write().create(ty, obj)
    }

    async fn apply(
        &self,
        ty: &ResourceType,
        obj: DynamicObject,
        opts: &ApplyOptions,
    ) -> Result<DynamicObject> {
        self.inner.write().apply(ty, obj, opts)
    }

    async fn replace(&self, ty: &ResourceType, obj: DynamicObject) -> Result<DynamicObject> {
        self.inner.write().replace(ty, obj, false)
    }

    async fn replace_status(&self, ty: &ResourceType, obj: DynamicObject) -> Result<DynamicObject> {
        self.inner.write().replace(ty, obj, true)
    }

    async fn get(
        &self,
        ty: &ResourceType,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<DynamicObject> {
        self.inner.read().get(ty, namespace, name)
    }

    async fn list(
        &self,
        ty: &ResourceType,
        namespace: Option<&str>,
        opts: &ListOptions,
    ) -> Result<ObjectList> {
        self.inner.read().list(ty, namespace, opts)
    }

    async fn delete(&self, ty: &ResourceType, namespace: Option<&str>, name: &str) -> Result<()> {
        self.inner.write().delete(ty, namespace, name)
    }

    async fn watch(
        &self,
        ty: &ResourceType,
        namespace: Option<&str>,
        opts: &WatchOptions,
    ) -> Result<WatchStream> {
        self.inner.read().watch(ty, namespace, opts)
    }
}
