//! The [`Engine`]: one handle over the cluster backend, the state store and the clock, into
//! which tenancy, scaling, observability and AI operations plug.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use hxb_core::cluster::{ApplyOptions, ClusterBackend, DynamicObject, ListOptions, ResourceType};
use hxb_core::scheduling::PodScheduler;
use hxb_core::store::{MemoryStore, SqliteStore, StateStore};
use hxb_core::{Clock, EmbeddedCluster, Error, KubeBackend, Result, Selector, SystemClock};
use hxb_scaling::placement::{PlacementScheduler, Profile as PlacementProfile};

use crate::events::{EngineEvent, EventBus, EventReceiver, ObservedStore};
use crate::monitor::Monitor;
use crate::telemetry::Telemetry;

#[cfg(feature = "fleet")]
mod fleet;
#[cfg(feature = "fleet")]
pub use fleet::FleetMember;

pub(crate) struct Inner {
    cluster: Arc<dyn ClusterBackend>,
    store: Arc<dyn StateStore>,
    clock: Arc<dyn Clock>,
    telemetry: Telemetry,
    closed: AtomicBool,
    tenancy: std::sync::OnceLock<hxb_tenancy::Tenancy>,
    events: EventBus,
    pub(crate) monitor: Monitor,
    pub(crate) remediation: crate::remediation::State,
    #[cfg(feature = "fleet")]
    fleet: std::sync::OnceLock<hxb_tenancy::fleet::Fleet>,
}

/// The hxb engine. Cheap to clone; every clone is the same engine.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hxb::Result<()> {
/// let engine = hxb::Engine::embedded()?;
/// let ns = engine
///     .apply(serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}}))
///     .await?;
/// assert_eq!(ns["metadata"]["name"], "demo");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("backend", &self.inner.cluster.kind())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// Where the engine's cluster lives.
#[non_exhaustive]
#[derive(Debug, Clone, Default)]
pub enum ClusterChoice {
    /// The embedded, in-process cluster (the default).
    #[default]
    Embedded,
    /// A real cluster through a kubeconfig file (`context` `None` = current context).
    Kubeconfig {
        /// Path to the kubeconfig file.
        path: PathBuf,
        /// Context to use.
        context: Option<String>,
    },
    /// Infer like kubectl: `$KUBECONFIG`, `~/.kube/config`, or in-cluster config.
    Infer,
}

/// Builds an [`Engine`].
#[must_use]
#[derive(Default)]
pub struct EngineBuilder {
    cluster: ClusterChoice,
    backend: Option<Arc<dyn ClusterBackend>>,
    store: Option<Arc<dyn StateStore>>,
    state_path: Option<PathBuf>,
    clock: Option<Arc<dyn Clock>>,
    nodes: Option<usize>,
    seed: u64,
    scheduler: Option<Arc<dyn PodScheduler>>,
    plans: Option<hxb_tenancy::PlanCatalog>,
    #[cfg(feature = "fleet")]
    fleet: Option<fleet::FleetPlan>,
}

impl EngineBuilder {
    /// Use the embedded cluster (default).
    pub fn embedded(mut self) -> Self {
        self.cluster = ClusterChoice::Embedded;
        self
    }

    /// Use a real cluster found like kubectl finds one: `$KUBECONFIG`, `~/.kube/config`, or
    /// the in-cluster service account.
    pub fn infer(mut self) -> Self {
        self.cluster = ClusterChoice::Infer;
        self
    }

    /// Use a real cluster from a kubeconfig file.
    pub fn kubeconfig(mut self, path: impl Into<PathBuf>, context: Option<&str>) -> Self {
        self.cluster = ClusterChoice::Kubeconfig {
            path: path.into(),
            context: context.map(Into::into),
        };
        self
    }

    /// Use any backend (a wrapped one for fault injection, a custom one).
    pub fn backend(mut self, backend: Arc<dyn ClusterBackend>) -> Self {
        self.backend = Some(backend);
        self
    }

    /// Keep desired state in an SQLite file (default: in memory).
    pub fn state_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.state_path = Some(path.into());
        self
    }

    /// Use any state store.
    pub fn store(mut self, store: Arc<dyn StateStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Use a clock (a [`ManualClock`](hxb_core::ManualClock) for simulations).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Number of simulated nodes of the embedded cluster (default 3).
    pub fn nodes(mut self, n: usize) -> Self {
        self.nodes = Some(n);
        self
    }

    /// Seed of the embedded cluster (default 0): same seed, same cluster.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The scheduler binding the embedded cluster's pods to nodes (default: the placement
    /// engine, [`PlacementScheduler`] with the default profile, i.e. kube-scheduler's
    /// default plugins and weights).
    pub fn scheduler(mut self, scheduler: Arc<dyn PodScheduler>) -> Self {
        self.scheduler = Some(scheduler);
        self
    }

    /// The plan catalogue of the engine's tenancy (default: `PlanCatalog::defaults`), e.g.
    /// with per-plan policies (feature `policy`).
    pub fn plans(mut self, plans: hxb_tenancy::PlanCatalog) -> Self {
        self.plans = Some(plans);
        self
    }

    /// Build the engine.
    pub async fn build(self) -> Result<Engine> {
        #[cfg(feature = "fleet")]
        if self.fleet.is_some() {
            return fleet::build(self).await;
        }
        let clock = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let cluster: Arc<dyn ClusterBackend> = match (self.backend, self.cluster) {
            (Some(b), _) => b,
            (None, ClusterChoice::Embedded) => {
                embedded_cluster(self.nodes, self.seed, clock.clone(), self.scheduler)
            }
            (None, ClusterChoice::Kubeconfig { path, context }) => {
                Arc::new(KubeBackend::from_kubeconfig(&path, context.as_deref()).await?)
            }
            (None, ClusterChoice::Infer) => Arc::new(KubeBackend::infer().await?),
        };
        let store: Arc<dyn StateStore> = match (self.store, self.state_path) {
            (Some(s), _) => s,
            (None, Some(p)) => Arc::new(SqliteStore::open(&p)?),
            (None, None) => Arc::new(MemoryStore::default()),
        };
        let engine = Engine::from_parts(cluster, store, clock);
        engine.use_plans(self.plans);
        Ok(engine)
    }
}

/// The tenancy over the engine's parts; status changes are published from its commits.
fn new_tenancy(inner: &Inner, plans: Option<hxb_tenancy::PlanCatalog>) -> hxb_tenancy::Tenancy {
    let store = ObservedStore::wrap(inner.store.clone(), inner.events.clone());
    let b = hxb_tenancy::Tenancy::builder(inner.cluster.clone(), store).clock(inner.clock.clone());
    match plans {
        Some(p) => b.plans(p),
        None => b,
    }
    .build()
}

fn embedded_cluster(
    nodes: Option<usize>,
    seed: u64,
    clock: Arc<dyn Clock>,
    scheduler: Option<Arc<dyn PodScheduler>>,
) -> Arc<dyn ClusterBackend> {
    let scheduler =
        scheduler.unwrap_or_else(|| Arc::new(PlacementScheduler::new(PlacementProfile::default())));
    EmbeddedCluster::builder()
        .nodes(nodes.unwrap_or(3))
        .seed(seed)
        .clock(clock)
        .scheduler(scheduler)
        .build()
        .into_backend()
}

impl Engine {
    /// An engine on the embedded cluster (3 nodes, pods placed by the placement engine with
    /// kube-scheduler's semantics), an in-memory store and the system clock. No daemon, no
    /// network.
    pub fn embedded() -> Result<Engine> {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        Ok(Engine::from_parts(
            embedded_cluster(None, 0, clock.clone(), None),
            Arc::new(MemoryStore::default()),
            clock,
        ))
    }

    /// A builder for every other configuration.
    pub fn builder() -> EngineBuilder {
        EngineBuilder::default()
    }

    /// An engine on a real cluster from a kubeconfig file.
    pub async fn connect(kubeconfig: impl Into<PathBuf>, context: Option<&str>) -> Result<Engine> {
        Engine::builder()
            .kubeconfig(kubeconfig, context)
            .build()
            .await
    }

    /// Assemble an engine from its parts.
    pub fn from_parts(
        cluster: Arc<dyn ClusterBackend>,
        store: Arc<dyn StateStore>,
        clock: Arc<dyn Clock>,
    ) -> Engine {
        Engine {
            inner: Arc::new(Inner {
                cluster,
                store,
                clock,
                telemetry: Telemetry::default(),
                closed: AtomicBool::new(false),
                tenancy: std::sync::OnceLock::new(),
                events: EventBus::default(),
                monitor: Monitor::default(),
                remediation: Default::default(),
                #[cfg(feature = "fleet")]
                fleet: std::sync::OnceLock::new(),
            }),
        }
    }

    pub(crate) fn live(&self) -> Result<&Inner> {
        if self.inner.closed.load(Ordering::Acquire) {
            Err(Error::Closed)
        } else {
            Ok(&self.inner)
        }
    }

    /// The cluster backend.
    pub fn cluster(&self) -> Result<Arc<dyn ClusterBackend>> {
        Ok(self.live()?.cluster.clone())
    }

    /// The state store.
    pub fn store(&self) -> Result<Arc<dyn StateStore>> {
        Ok(self.live()?.store.clone())
    }

    /// The clock.
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.inner.clock.clone()
    }

    /// Typed access to one kind of object (see [`hxb_core::cluster::Api`]).
    pub fn api<K>(&self, namespace: Option<&str>) -> Result<hxb_core::Api<K>>
    where
        K: hxb_core::cluster::Object,
        K::Scope: hxb_core::cluster::ScopeInfo,
    {
        let c = self.cluster()?;
        Ok(match namespace {
            Some(ns) => hxb_core::Api::namespaced(c, ns),
            None => hxb_core::Api::all(c),
        })
    }

    /// The tenancy engine (organizations, workspaces, projects, plans, members, quotas,
    /// isolation) over this engine's cluster, store and clock. One per engine, shared by
    /// clones, so its per-organization locks serialise every caller.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hxb::Result<()> {
    /// let engine = hxb::Engine::embedded()?;
    /// let t = engine.tenancy()?;
    /// t.create_organization("acme").plan("starter").display_name("Acme").execute().await?;
    /// t.create_workspace("acme", "dev").execute().await?;
    /// let web = t.create_project("acme", "dev", "web").execute().await?;
    /// assert_eq!(web.namespace, "acme-dev-web");
    /// t.add_member("acme", "alice@example.com").workspace("dev").role("developer").execute().await?;
    /// assert_eq!(t.reconcile().await?.writes(), 0); // already converged
    /// # Ok(()) }
    /// ```
    pub fn tenancy(&self) -> Result<hxb_tenancy::Tenancy> {
        let inner = self.live()?;
        Ok(inner
            .tenancy
            .get_or_init(|| new_tenancy(inner, None))
            .clone())
    }

    /// A fresh engine's tenancy with this plan catalogue (none: the defaults).
    pub(crate) fn use_plans(&self, plans: Option<hxb_tenancy::PlanCatalog>) {
        if plans.is_some() {
            // A fresh engine: the cell is empty.
            let _ = self.inner.tenancy.set(new_tenancy(&self.inner, plans));
        }
    }

    /// Reconcile every tenant's desired state into the cluster (idempotent: an unchanged
    /// world costs no writes). The `hxb_reconcile_queue_depth` gauge follows the organizations
    /// still waiting.
    pub async fn reconcile(&self) -> Result<hxb_tenancy::ReconcileReport> {
        let tenancy = self.tenancy()?;
        let telemetry = self.telemetry();
        telemetry
            .observe("reconcile", async {
                tenancy
                    .reconcile_observed(|n| telemetry.set_queue_depth(n as i64))
                    .await
            })
            .await
    }

    /// Subscribe to the engine's events: entity status changes, alerts, incidents (see
    /// [`crate::events`]). Closing the engine ends every subscription; on a closed engine the
    /// receiver ends at once.
    pub fn subscribe(&self) -> EventReceiver {
        self.inner.events.subscribe()
    }

    /// Publish an event to every subscriber (never waits).
    pub(crate) fn publish(&self, event: EngineEvent) {
        self.inner.events.publish(event);
    }

    /// The engine's own telemetry (operation counts, durations, errors).
    pub fn telemetry(&self) -> &Telemetry {
        &self.inner.telemetry
    }

    /// The engine's own metrics in the Prometheus text exposition format.
    pub fn metrics_text(&self) -> String {
        self.inner.telemetry.render()
    }

    /// Close the engine: every later call fails with [`Error::Closed`] and every event
    /// subscription ends. Idempotent.
    pub fn close(&self) {
        self.inner.closed.store(true, Ordering::Release);
        self.inner.events.close();
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::Acquire)
    }

    // ---- manifest-level operations (what the bindings and the CLI use) ----

    /// Create an object from a manifest (`apiVersion`, `kind`, `metadata`, …). With the
    /// `policy` feature, pods and pod templates written into a tenant project's namespace
    /// must pass the workspace plan's policy first (`Forbidden` listing every violation).
    pub async fn create(&self, manifest: serde_json::Value) -> Result<serde_json::Value> {
        self.telemetry()
            .observe("create", async {
                let (ty, obj) = parse_manifest(manifest)?;
                #[cfg(feature = "policy")]
                self.tenancy()?.admit_manifest(&obj).await?;
                to_json(self.cluster()?.create(&ty, obj).await?)
            })
            .await
    }

    /// Server-side apply a manifest with field manager `hxb` (admitted like
    /// [`create`](Self::create)).
    pub async fn apply(&self, manifest: serde_json::Value) -> Result<serde_json::Value> {
        self.telemetry()
            .observe("apply", async {
                let (ty, obj) = parse_manifest(manifest)?;
                #[cfg(feature = "policy")]
                self.tenancy()?.admit_manifest(&obj).await?;
                let c = self.cluster()?;
                to_json(c.apply(&ty, obj, &ApplyOptions::default()).await?)
            })
            .await
    }

    /// Get one object by kind (`"Pod"`, `"deployments"`…), name and namespace.
    pub async fn get(
        &self,
        kind: &str,
        name: &str,
        namespace: Option<&str>,
    ) -> Result<serde_json::Value> {
        self.telemetry()
            .observe("get", async {
                let ty = ResourceType::for_name(kind)?;
                check_scope(&ty, namespace)?;
                to_json(self.cluster()?.get(&ty, namespace, name).await?)
            })
            .await
    }

    /// List objects of a kind, optionally in one namespace and matching a label selector.
    pub async fn list(
        &self,
        kind: &str,
        namespace: Option<&str>,
        selector: Option<&str>,
    ) -> Result<Vec<serde_json::Value>> {
        self.telemetry()
            .observe("list", async {
                let ty = ResourceType::for_name(kind)?;
                let selector = selector.map(Selector::parse).transpose()?;
                let opts = ListOptions {
                    label_selector: selector,
                };
                let list = self.cluster()?.list(&ty, namespace, &opts).await?;
                list.items.into_iter().map(to_json).collect()
            })
            .await
    }

    /// Delete one object.
    pub async fn delete(&self, kind: &str, name: &str, namespace: Option<&str>) -> Result<()> {
        self.telemetry()
            .observe("delete", async {
                let ty = ResourceType::for_name(kind)?;
                check_scope(&ty, namespace)?;
                self.cluster()?.delete(&ty, namespace, name).await
            })
            .await
    }

    /// The log of a pod's container, as `kubectl logs` reads it (`options`: the container,
    /// the last lines, a byte limit). A missing pod is `NotFound`, an unknown container (or
    /// none named in a pod with several) `InvalidInput`.
    pub async fn logs(
        &self,
        namespace: &str,
        pod: &str,
        options: &hxb_core::cluster::LogOptions,
    ) -> Result<String> {
        self.telemetry()
            .observe("logs", async {
                self.cluster()?.logs(namespace, pod, options).await
            })
            .await
    }
}

fn check_scope(ty: &ResourceType, namespace: Option<&str>) -> Result<()> {
    match (ty.namespaced, namespace) {
        (true, None) => Err(Error::invalid(
            "namespace",
            format!("{} is namespaced; give a namespace", ty.kind),
        )),
        (false, Some(_)) => Err(Error::invalid(
            "namespace",
            format!("{} is cluster-scoped; give no namespace", ty.kind),
        )),
        _ => Ok(()),
    }
}

fn parse_manifest(manifest: serde_json::Value) -> Result<(ResourceType, DynamicObject)> {
    let field = |f: &str| {
        manifest
            .get(f)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .ok_or_else(|| Error::invalid(f, "the manifest needs a string field of this name"))
    };
    let ty = ResourceType::for_kind(&field("apiVersion")?, &field("kind")?)?;
    let obj: DynamicObject =
        serde_json::from_value(manifest).map_err(|e| Error::invalid("manifest", e.to_string()))?;
    if obj.metadata.name.as_deref().unwrap_or("").is_empty() {
        return Err(Error::invalid("metadata.name", "the manifest needs a name"));
    }
    check_scope(&ty, obj.metadata.namespace.as_deref())?;
    Ok((ty, obj))
}

fn to_json(obj: DynamicObject) -> Result<serde_json::Value> {
    serde_json::to_value(obj).map_err(|e| Error::internal(e.to_string()))
}
