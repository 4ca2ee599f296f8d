//! Feature `fleet`: an engine whose cluster is a fleet of member clusters.
//!
//! `EngineBuilder::fleet()` (or `fleet_member(..)`) makes the engine's cluster the fleet's
//! routing backend: tenancy, reconcile and the manifest-level calls run unchanged and land in
//! the member serving each workspace. [`Engine::fleet`] hands out the
//! [`Fleet`](hxb_tenancy::fleet::Fleet) for placement, moves, capacity and members added at
//! run time.

use std::path::PathBuf;
use std::sync::Arc;

use hxb_core::store::{MemoryStore, SqliteStore, StateStore};
use hxb_core::{ClusterBackend, Error, Result, SystemClock};
use hxb_tenancy::fleet::{Fleet, LABEL_REGION};

use super::{Engine, EngineBuilder, embedded_cluster};

/// Where a member's backend comes from.
#[derive(Clone)]
enum Source {
    Backend(Arc<dyn ClusterBackend>),
    Embedded {
        nodes: usize,
    },
    Kube {
        path: PathBuf,
        context: Option<String>,
    },
}

/// A member cluster to register when the engine is built
/// ([`EngineBuilder::fleet_member`]).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hxb::Result<()> {
/// use hxb::fleet::FleetMember;
/// let engine = hxb::Engine::builder()
///     .fleet_member(FleetMember::embedded("eu-1", 3).region("eu"))
///     .fleet_member(FleetMember::embedded("us-1", 2).region("us"))
///     .build()
///     .await?;
/// let t = engine.tenancy()?;
/// t.create_organization("acme").plan("starter").execute().await?;
/// t.create_workspace("acme", "dev").execute().await?;
/// engine.fleet()?.place_workspace("acme", "dev").region("us").execute().await?;
/// t.create_project("acme", "dev", "web").execute().await?; // lands in us-1
/// engine.fleet()?.move_workspace("acme", "dev", "eu-1").execute().await?;
/// assert_eq!(engine.fleet()?.assignment("acme", "dev").unwrap().cluster, "eu-1");
/// # Ok(()) }
/// ```
#[must_use]
#[derive(Clone)]
pub struct FleetMember {
    name: String,
    source: Source,
    labels: Vec<(String, String)>,
    dedicated_to: Option<String>,
}

impl std::fmt::Debug for FleetMember {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FleetMember")
            .field("name", &self.name)
            .field("labels", &self.labels)
            .field("dedicated_to", &self.dedicated_to)
            .finish_non_exhaustive()
    }
}

impl FleetMember {
    fn new(name: &str, source: Source) -> Self {
        FleetMember {
            name: name.to_owned(),
            source,
            labels: Vec::new(),
            dedicated_to: None,
        }
    }

    /// A member served by any backend (a real cluster, a wrapped one).
    pub fn backend(name: &str, backend: Arc<dyn ClusterBackend>) -> Self {
        Self::new(name, Source::Backend(backend))
    }

    /// A new embedded cluster of `nodes` default nodes, placing pods with the engine's
    /// scheduler (the builder's `.scheduler()`, `.seed()` and clock apply).
    pub fn embedded(name: &str, nodes: usize) -> Self {
        Self::new(name, Source::Embedded { nodes })
    }

    /// A kubeconfig context (`None`: the file's current context).
    pub fn kube_context(name: &str, kubeconfig: impl Into<PathBuf>, context: Option<&str>) -> Self {
        Self::new(
            name,
            Source::Kube {
                path: kubeconfig.into(),
                context: context.map(Into::into),
            },
        )
    }

    /// Add a label placement can match.
    pub fn label(mut self, key: &str, value: &str) -> Self {
        self.labels.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Set the region label (`topology.kubernetes.io/region`).
    pub fn region(self, region: &str) -> Self {
        self.label(LABEL_REGION, region)
    }

    /// Reserve the cluster for one organization (hard isolation).
    pub fn dedicated_to(mut self, org: &str) -> Self {
        self.dedicated_to = Some(org.to_owned());
        self
    }
}

/// What the builder collected for the fleet.
#[derive(Default)]
pub(crate) struct FleetPlan {
    members: Vec<FleetMember>,
    dedicated_clusters: Option<bool>,
}

impl EngineBuilder {
    /// Make the engine's cluster a multi-cluster fleet (feature `fleet`). Members come from
    /// [`fleet_member`](Self::fleet_member) and from
    /// [`Fleet::add_cluster`](hxb_tenancy::fleet::Fleet::add_cluster) at run time; the
    /// registry and placements are kept in the engine's store. The builder's own cluster
    /// choice (`embedded`, `kubeconfig`, `backend`) is not used.
    pub fn fleet(mut self) -> Self {
        self.fleet.get_or_insert_with(FleetPlan::default);
        self
    }

    /// Whether workspaces on dedicated plans need a cluster dedicated to their organization
    /// (default `true`); with `false` they share clusters, isolated by their node pools.
    /// Implies [`fleet`](Self::fleet).
    pub fn fleet_dedicated_clusters(mut self, on: bool) -> Self {
        self.fleet
            .get_or_insert_with(FleetPlan::default)
            .dedicated_clusters = Some(on);
        self
    }

    /// Add a member cluster to the fleet (implies [`fleet`](Self::fleet)).
    pub fn fleet_member(mut self, member: FleetMember) -> Self {
        self.fleet
            .get_or_insert_with(FleetPlan::default)
            .members
            .push(member);
        self
    }
}

/// Build an engine over a fleet.
pub(super) async fn build(mut b: EngineBuilder) -> Result<Engine> {
    let plan = b.fleet.take().unwrap_or_default();
    let clock = b.clock.unwrap_or_else(|| Arc::new(SystemClock));
    let store: Arc<dyn StateStore> = match (b.store, b.state_path) {
        (Some(s), _) => s,
        (None, Some(p)) => Arc::new(SqliteStore::open(&p)?),
        (None, None) => Arc::new(MemoryStore::default()),
    };
    let mut fleet =
        Fleet::builder(store.clone()).dedicated_clusters(plan.dedicated_clusters.unwrap_or(true));
    if let Some(plans) = &b.plans {
        // placement judges a workspace's plan (dedicated or not) from the tenancy's catalogue
        fleet = fleet.plans(plans.clone());
    }
    let fleet = fleet.open().await?;
    for m in plan.members {
        let add = match m.source {
            Source::Backend(backend) => fleet.add_cluster(&m.name, backend),
            Source::Embedded { nodes } => fleet.add_cluster(
                &m.name,
                embedded_cluster(Some(nodes), b.seed, clock.clone(), b.scheduler.clone()),
            ),
            Source::Kube { path, context } => {
                fleet.add_kube_context(&m.name, path, context.as_deref())
            }
        };
        let mut add = add.labels(m.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        if let Some(org) = &m.dedicated_to {
            add = add.dedicated_to(org);
        }
        add.execute().await?;
    }
    let engine = Engine::from_parts(fleet.backend(), store, clock);
    engine.use_plans(b.plans.take());
    let _ = engine.inner.fleet.set(fleet);
    Ok(engine)
}

impl Engine {
    /// Move a workspace to fleet member `target` with its namespaces and applications, under
    /// the tenancy engine's organization lock and with its desired objects reconciled into
    /// the target (see [`Fleet::move_workspace`](hxb_tenancy::fleet::Fleet::move_workspace)).
    /// A target without room or not allowed for the workspace is refused with a typed error
    /// and nothing changes.
    pub async fn move_workspace(
        &self,
        org: &str,
        ws: &str,
        target: &str,
    ) -> Result<hxb_tenancy::fleet::MoveReport> {
        let fleet = self.fleet()?;
        let tenancy = self.tenancy()?;
        self.telemetry()
            .observe("move_workspace", async {
                fleet
                    .move_workspace(org, ws, target)
                    .tenancy(&tenancy)
                    .execute()
                    .await
            })
            .await
    }

    /// The fleet behind this engine (feature `fleet`): members, capacity, placement, moves.
    /// `FailedPrecondition` when the engine was not built with
    /// [`EngineBuilder::fleet`].
    pub fn fleet(&self) -> Result<Fleet> {
        self.live()?.fleet.get().cloned().ok_or_else(|| {
            Error::precondition("this engine has no fleet (build it with EngineBuilder::fleet)")
        })
    }
}
