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
//! - minimal **Deployment and StatefulSet controllers** keeping pods at `spec.replicas`;
//! - a **service proxy** over in-process handlers registered per container image
//!   ([`EmbeddedCluster::serve_image`]): it runs no containers, so those handlers answer for
//!   them;
//! - **bound ServiceAccount tokens** (TokenRequest) and their review
//!   ([`EmbeddedCluster::authenticate`]).
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
mod logs;
mod namespace;
mod nodes;
mod pods;
#[cfg(feature = "policy")]
mod podsecurity;
#[cfg(test)]
mod proptests;
mod quota;
mod scheduler;
mod serve;
mod state;
mod store;
mod tokens;
mod watch;

use std::sync::Arc;

use async_trait::async_trait;
use parking_lot::RwLock;

use crate::clock::{Clock, SystemClock};
use crate::cluster::{
    ApplyOptions, BackendKind, ClusterBackend, DynamicObject, IssuedToken, ListOptions, LogOptions,
    ObjectList, ProxyRequest, ProxyResponse, ResourceType, WatchOptions, WatchStream,
};
use crate::error::Result;
use crate::scheduling::PodScheduler;

pub use logs::LOG_LINES_PER_CONTAINER;
pub use nodes::NodePool;
pub use scheduler::LeastAllocated;
pub use serve::{ImageHandler, POD_HEADER, image_handler};
pub use tokens::TokenUser;

use state::State;

/// Default number of watch events kept for replay.
pub const DEFAULT_WATCH_HISTORY: usize = 10_000;

/// The in-process cluster. Cheap to clone: clones share one cluster.
#[derive(Clone)]
pub struct EmbeddedCluster {
    inner: Arc<RwLock<State>>,
    handlers: Arc<serve::Handlers>,
    tokens: Arc<tokens::Tokens>,
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
    handlers: Vec<(String, ImageHandler)>,
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
            handlers: Vec::new(),
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

    /// Let `handler` answer for containers running `image` (replacing an earlier one).
    ///
    /// The embedded cluster runs no processes; a request through
    /// [`proxy_service`](ClusterBackend::proxy_service) reaching a ready pod whose serving
    /// container runs `image` is handed to `handler` (with the pod's name in the
    /// [`POD_HEADER`] header). Pods of an image with no handler refuse the connection
    /// ([`Unavailable`](crate::ErrorKind::Unavailable)).
    ///
    /// ```
    /// use hxb_core::EmbeddedCluster;
    /// use hxb_core::cluster::ProxyResponse;
    /// let cluster = EmbeddedCluster::builder().nodes(1).build();
    /// cluster.serve_image("hello:1", |req| async move {
    ///     ProxyResponse::ok(format!("hello from {}", req.path))
    /// });
    /// ```
    pub fn serve_image<F, Fut>(&self, image: &str, handler: F)
    where
        F: Fn(ProxyRequest) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ProxyResponse> + Send + 'static,
    {
        self.handlers.insert(image, image_handler(handler));
    }

    /// Stop answering for `image`; `false` if no handler was registered.
    pub fn unserve_image(&self, image: &str) -> bool {
        self.handlers.remove(image)
    }

    /// TokenReview: the user a token from [`request_token`](ClusterBackend::request_token)
    /// authenticates as (`system:serviceaccount:<ns>:<name>` and its groups), to ask the RBAC
    /// authorizer about. An unknown or expired token, or one whose ServiceAccount is gone, is
    /// [`Forbidden`](crate::ErrorKind::Forbidden) (`unauthorized: …`).
    pub fn authenticate(&self, token: &str) -> Result<TokenUser> {
        self.tokens.review(&self.inner.read(), token)
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

    /// Let `handler` answer for containers running `image` (see
    /// [`EmbeddedCluster::serve_image`]).
    pub fn serve_image<F, Fut>(mut self, image: &str, handler: F) -> Self
    where
        F: Fn(ProxyRequest) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ProxyResponse> + Send + 'static,
    {
        self.handlers
            .push((image.to_owned(), image_handler(handler)));
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
        let handlers = serve::Handlers::default();
        for (image, h) in self.handlers {
            handlers.insert(&image, h);
        }
        EmbeddedCluster {
            inner: Arc::new(RwLock::new(st)),
            handlers: Arc::new(handlers),
            tokens: Arc::default(),
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

    async fn logs(&self, namespace: &str, pod: &str, opts: &LogOptions) -> Result<String> {
        self.inner.read().read_logs(namespace, pod, opts)
    }

    async fn proxy_service(
        &self,
        namespace: &str,
        service: &str,
        port: &str,
        request: ProxyRequest,
    ) -> Result<ProxyResponse> {
        serve::proxy(
            &self.inner,
            &self.handlers,
            namespace,
            service,
            port,
            request,
        )
        .await
    }

    async fn request_token(
        &self,
        namespace: &str,
        service_account: &str,
        audiences: &[String],
        expiration_seconds: i64,
    ) -> Result<IssuedToken> {
        let st = self.inner.read();
        self.tokens.request(
            &st,
            namespace,
            service_account,
            audiences,
            expiration_seconds,
        )
    }
}
