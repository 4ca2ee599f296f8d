//! The fleet registry: member clusters and workspace assignments, kept in the state store.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use hxb_core::store::{Batch, Precondition};
use hxb_core::{
    ClusterBackend, Error, ErrorKind, KubeBackend, Name, PlanKind, Result, Selector, StateStore,
    Workspace,
};
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};

use super::placement::{self, ClusterInfo, PlacementRequest, demand_of};
use super::{ASSIGNMENTS, CLUSTERS};
use crate::engine::state::{NAMESPACES, WORKSPACES, decode, encode};
use crate::plans::PlanCatalog;
use crate::reconcile::RetryPolicy;

/// Where a member cluster's backend comes from (recorded so a restarted engine can say what
/// it needs; kubeconfig members reconnect by themselves on [`Fleet::open`]).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum ClusterSource {
    /// A backend handed over by the embedder (an embedded cluster, a wrapped backend); after
    /// a restart it must be attached again with [`Fleet::add_cluster`].
    Attached,
    /// A kubeconfig context.
    Kubeconfig {
        /// The kubeconfig file.
        path: PathBuf,
        /// The context (`None`: the file's current context).
        context: Option<String>,
    },
}

/// A member cluster as registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberCluster {
    /// Name in the fleet (a DNS label).
    pub name: String,
    /// Labels placement matches on (region under [`LABEL_REGION`]).
    pub labels: BTreeMap<String, String>,
    /// The organization the cluster is reserved for.
    pub dedicated_to: Option<Name>,
    /// Where its backend comes from.
    pub source: ClusterSource,
    /// Registration order (the first member is the home of objects outside hxb namespaces).
    pub order: u64,
}

/// Where a workspace lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// Organization.
    pub organization: Name,
    /// Workspace.
    pub workspace: Name,
    /// The member cluster serving it.
    pub cluster: String,
    /// A move in progress: the cluster its objects are being copied to.
    pub moving_to: Option<String>,
    /// A finished switch whose source still has to be cleaned.
    pub leaving: Option<String>,
}

pub(super) struct Member {
    pub(super) spec: MemberCluster,
    pub(super) backend: Option<Arc<dyn ClusterBackend>>,
}

pub(crate) struct Inner {
    pub(crate) store: Arc<dyn StateStore>,
    pub(crate) plans: PlanCatalog,
    pub(crate) retry: RetryPolicy,
    dedicated_clusters: bool,
    pub(super) members: RwLock<BTreeMap<String, Member>>,
    assignments: RwLock<BTreeMap<(String, String), (Assignment, u64)>>,
    namespaces: RwLock<HashMap<String, (String, String)>>,
    /// Serialises placements and moves (this process; the store's compare-and-swap guards
    /// against other processes).
    pub(crate) placing: tokio::sync::Mutex<()>,
}

/// The fleet: member clusters, assignments, placement and moves. Cheap to clone.
#[derive(Clone)]
pub struct Fleet {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet")
            .field(
                "members",
                &self.inner.members.read().keys().collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// Builds a [`Fleet`] with non-default settings.
#[must_use]
pub struct FleetBuilder {
    store: Arc<dyn StateStore>,
    plans: PlanCatalog,
    retry: RetryPolicy,
    dedicated_clusters: bool,
}

impl FleetBuilder {
    /// The plan catalogue (default [`PlanCatalog::defaults`]; use the tenancy engine's).
    pub fn plans(mut self, plans: PlanCatalog) -> Self {
        self.plans = plans;
        self
    }

    /// Retry policy for cluster calls made by moves and capacity reads.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Whether a workspace on a dedicated plan needs a cluster dedicated to its organization
    /// (default `true`). With `false` it may share a cluster, isolated by its node pool.
    pub fn dedicated_clusters(mut self, on: bool) -> Self {
        self.dedicated_clusters = on;
        self
    }

    /// Load the registry and assignments from the store; reconnect kubeconfig members (a
    /// member that cannot be reached stays registered and unavailable).
    pub async fn open(self) -> Result<Fleet> {
        let fleet = Fleet {
            inner: Arc::new(Inner {
                store: self.store,
                plans: self.plans,
                retry: self.retry,
                dedicated_clusters: self.dedicated_clusters,
                members: RwLock::new(BTreeMap::new()),
                assignments: RwLock::new(BTreeMap::new()),
                namespaces: RwLock::new(HashMap::new()),
                placing: tokio::sync::Mutex::new(()),
            }),
        };
        fleet.refresh().await?;
        let kube: Vec<(String, PathBuf, Option<String>)> = fleet
            .inner
            .members
            .read()
            .values()
            .filter_map(|m| match &m.spec.source {
                ClusterSource::Kubeconfig { path, context } => {
                    Some((m.spec.name.clone(), path.clone(), context.clone()))
                }
                _ => None,
            })
            .collect();
        for (name, path, context) in kube {
            match KubeBackend::from_kubeconfig(&path, context.as_deref()).await {
                Ok(b) => fleet.attach(&name, Arc::new(b)),
                Err(e) => tracing::warn!(cluster = %name, %e, "fleet member unavailable"),
            }
        }
        Ok(fleet)
    }
}

pub(crate) fn assignment_key(org: &str, ws: &str) -> String {
    format!("{org}/{ws}")
}

impl Fleet {
    /// A fleet over `store` with default settings.
    pub async fn open(store: Arc<dyn StateStore>) -> Result<Fleet> {
        Self::builder(store).open().await
    }

    /// A builder for non-default settings.
    pub fn builder(store: Arc<dyn StateStore>) -> FleetBuilder {
        FleetBuilder {
            store,
            plans: PlanCatalog::defaults(),
            retry: RetryPolicy::default(),
            dedicated_clusters: true,
        }
    }

    /// Re-read members and assignments from the store (another process may have changed
    /// them); attached backends are kept.
    pub async fn refresh(&self) -> Result<()> {
        let mut specs = BTreeMap::new();
        for r in self.inner.store.list(CLUSTERS, "").await? {
            let m: MemberCluster = decode(&r)?;
            specs.insert(m.name.clone(), m);
        }
        let mut assignments = BTreeMap::new();
        for r in self.inner.store.list(ASSIGNMENTS, "").await? {
            let a: Assignment = decode(&r)?;
            assignments.insert(
                (a.organization.to_string(), a.workspace.to_string()),
                (a, r.revision),
            );
        }
        {
            let mut members = self.inner.members.write();
            members.retain(|k, _| specs.contains_key(k));
            for (name, spec) in specs {
                match members.get_mut(&name) {
                    Some(m) => m.spec = spec,
                    None => {
                        members.insert(
                            name,
                            Member {
                                spec,
                                backend: None,
                            },
                        );
                    }
                }
            }
        }
        *self.inner.assignments.write() = assignments;
        Ok(())
    }

    pub(super) fn attach(&self, name: &str, backend: Arc<dyn ClusterBackend>) {
        if let Some(m) = self.inner.members.write().get_mut(name) {
            m.backend = Some(backend);
        }
    }

    /// Forget the assignments of workspaces the tenancy store no longer has (deleted
    /// workspaces); returns how many. A workspace created again later is placed afresh.
    pub async fn prune_assignments(&self) -> Result<usize> {
        let _g = self.inner.placing.lock().await;
        self.prune_locked().await
    }

    async fn prune_locked(&self) -> Result<usize> {
        self.refresh().await?;
        let live: BTreeSet<String> = self
            .inner
            .store
            .list(WORKSPACES, "")
            .await?
            .into_iter()
            .map(|r| r.key)
            .collect();
        let mut batch = Batch::new();
        let mut pruned = 0;
        for (a, rev) in self.inner.assignments.read().values() {
            let key = assignment_key(a.organization.as_str(), a.workspace.as_str());
            if !live.contains(&key) {
                batch = batch.delete(ASSIGNMENTS, &key, Precondition::Revision(*rev));
                pruned += 1;
            }
        }
        if batch.is_empty() {
            return Ok(0);
        }
        self.inner.store.commit(batch).await?;
        self.refresh().await?;
        Ok(pruned)
    }

    /// Unregister a member. Refused (`FailedPrecondition`) while any workspace is placed on,
    /// moving to or leaving it (assignments of deleted workspaces are pruned first).
    pub async fn remove_cluster(&self, name: &str) -> Result<()> {
        let _g = self.inner.placing.lock().await;
        self.prune_locked().await?;
        let rec = self
            .inner
            .store
            .get(CLUSTERS, name)
            .await?
            .ok_or_else(|| Error::not_found("cluster", name))?;
        let users: Vec<String> = self
            .assignments()
            .into_iter()
            .filter(|a| {
                a.cluster == name
                    || a.moving_to.as_deref() == Some(name)
                    || a.leaving.as_deref() == Some(name)
            })
            .map(|a| format!("{}/{}", a.organization, a.workspace))
            .collect();
        if !users.is_empty() {
            return Err(Error::precondition(format!(
                "cluster {name} still hosts workspaces {}; move them first",
                users.join(", ")
            )));
        }
        self.inner
            .store
            .commit(Batch::new().delete(CLUSTERS, name, Precondition::Revision(rec.revision)))
            .await?;
        self.inner.members.write().remove(name);
        Ok(())
    }

    /// The registered members, in registration order.
    pub fn members(&self) -> Vec<MemberCluster> {
        let mut v: Vec<MemberCluster> = self
            .inner
            .members
            .read()
            .values()
            .map(|m| m.spec.clone())
            .collect();
        v.sort_by(|a, b| a.order.cmp(&b.order).then(a.name.cmp(&b.name)));
        v
    }

    /// The backend of member `name` (`NotFound`, or `Unavailable` if not connected).
    pub fn member(&self, name: &str) -> Result<Arc<dyn ClusterBackend>> {
        let members = self.inner.members.read();
        let m = members
            .get(name)
            .ok_or_else(|| Error::not_found("cluster", name))?;
        m.backend.clone().ok_or_else(|| {
            Error::unavailable(format!("fleet member {name} is not connected"), None)
        })
    }

    /// Connected members with their backends, in registration order.
    pub(crate) fn connected(&self) -> Vec<(String, Arc<dyn ClusterBackend>)> {
        self.members()
            .into_iter()
            .filter_map(|m| self.member(&m.name).ok().map(|b| (m.name, b)))
            .collect()
    }

    /// The member holding objects outside hxb's namespaces: the first registered.
    pub(crate) fn home(&self) -> Result<(String, Arc<dyn ClusterBackend>)> {
        let first = self
            .members()
            .into_iter()
            .next()
            .ok_or_else(|| Error::precondition("the fleet has no member cluster"))?;
        Ok((first.name.clone(), self.member(&first.name)?))
    }

    /// The routing backend: give it to [`Tenancy`](crate::Tenancy) (or use it directly).
    pub fn backend(&self) -> Arc<dyn ClusterBackend> {
        Arc::new(super::router::FleetRouter::new(self.clone()))
    }

    /// Where a workspace is placed, if it is.
    pub fn assignment(&self, org: &str, ws: &str) -> Option<Assignment> {
        self.inner
            .assignments
            .read()
            .get(&(org.to_owned(), ws.to_owned()))
            .map(|(a, _)| a.clone())
    }

    pub(crate) fn assignment_rev(&self, org: &str, ws: &str) -> Option<(Assignment, u64)> {
        self.inner
            .assignments
            .read()
            .get(&(org.to_owned(), ws.to_owned()))
            .cloned()
    }

    /// Every assignment, ordered by organization and workspace.
    pub fn assignments(&self) -> Vec<Assignment> {
        self.inner
            .assignments
            .read()
            .values()
            .map(|(a, _)| a.clone())
            .collect()
    }

    /// Commit a new or changed assignment (compare-and-swap on `expect`) and cache it;
    /// returns its new revision.
    pub(crate) async fn commit_assignment(
        &self,
        a: Assignment,
        expect: Precondition,
    ) -> Result<u64> {
        let key = assignment_key(a.organization.as_str(), a.workspace.as_str());
        let rev = self
            .inner
            .store
            .commit(Batch::new().put(ASSIGNMENTS, &key, encode(&a)?, expect))
            .await?;
        self.inner.assignments.write().insert(
            (a.organization.to_string(), a.workspace.to_string()),
            (a, rev),
        );
        Ok(rev)
    }

    /// Every connected member measured now: allocatable, used (pods outside hxb plus the
    /// demand of the workspaces placed on it) and those workspaces. Members that are not
    /// connected are left out.
    pub async fn clusters(&self) -> Result<Vec<ClusterInfo>> {
        self.measure(None).await
    }

    /// [`clusters`](Self::clusters), not counting workspace `exclude` (`(org, ws)`) as using
    /// any cluster (a move checks its target this way).
    pub(crate) async fn measure(&self, exclude: Option<(&str, &str)>) -> Result<Vec<ClusterInfo>> {
        let quotas: BTreeMap<String, Workspace> = self
            .inner
            .store
            .list(WORKSPACES, "")
            .await?
            .into_iter()
            .map(|r| Ok((r.key.clone(), decode::<Workspace>(&r)?)))
            .collect::<Result<_>>()?;
        let assignments = self.assignments();
        let mut out = Vec::new();
        for spec in self.members() {
            let Ok(backend) = self.member(&spec.name) else {
                continue;
            };
            let live = super::capacity::live(backend.as_ref(), self.inner.retry).await?;
            let mut used = live.unmanaged_requests;
            let mut workspaces = Vec::new();
            for a in &assignments {
                let here = a.cluster == spec.name || a.moving_to.as_deref() == Some(&spec.name);
                let excluded = exclude.is_some_and(|(o, w)| {
                    a.organization.as_str() == o && a.workspace.as_str() == w
                });
                if !here || excluded {
                    continue;
                }
                let key = assignment_key(a.organization.as_str(), a.workspace.as_str());
                // a deleted workspace's assignment reserves nothing
                if let Some(w) = quotas.get(&key) {
                    used = used.checked_add(&demand_of(&w.quota))?;
                    workspaces.push(key);
                }
            }
            out.push(ClusterInfo {
                name: spec.name.clone(),
                labels: spec.labels.clone(),
                allocatable: live.allocatable,
                used,
                dedicated_to: spec.dedicated_to.clone(),
                workspaces,
            });
        }
        Ok(out)
    }

    /// The workspace record from the tenancy store.
    pub(crate) async fn workspace(&self, org: &str, ws: &str) -> Result<Workspace> {
        let rec = self
            .inner
            .store
            .get(WORKSPACES, &assignment_key(org, ws))
            .await?
            .ok_or_else(|| Error::not_found("workspace", format!("{org}/{ws}")))?;
        decode(&rec)
    }

    /// What placing `w` asks of a cluster.
    pub(crate) fn request_for(&self, w: &Workspace) -> Result<PlacementRequest> {
        let plan = self.inner.plans.get(w.plan.as_str())?;
        Ok(
            PlacementRequest::new(w.organization.clone(), demand_of(&w.quota))
                .hard_isolation(self.inner.dedicated_clusters && plan.kind == PlanKind::Dedicated),
        )
    }

    /// The cluster serving `org/ws`, placing the workspace now if it is not placed yet.
    pub(crate) async fn cluster_of(&self, org: &str, ws: &str) -> Result<String> {
        if let Some(a) = self.assignment(org, ws) {
            return Ok(a.cluster);
        }
        self.place(org, ws, Selector::everything(), None, None)
            .await
    }

    pub(super) async fn place(
        &self,
        org: &str,
        ws: &str,
        required: Selector,
        preferred: Option<Selector>,
        explicit: Option<&str>,
    ) -> Result<String> {
        let _g = self.inner.placing.lock().await;
        let key = assignment_key(org, ws);
        if let Some(rec) = self.inner.store.get(ASSIGNMENTS, &key).await? {
            let a: Assignment = decode(&rec)?;
            let cluster = a.cluster.clone();
            self.inner
                .assignments
                .write()
                .insert((org.to_owned(), ws.to_owned()), (a, rec.revision));
            if let Some(want) = explicit
                && want != cluster
            {
                return Err(Error::precondition(format!(
                    "workspace {key} is placed on cluster {cluster}; move it with move_workspace"
                )));
            }
            return Ok(cluster);
        }
        let w = self.workspace(org, ws).await?;
        let mut req = self.request_for(&w)?.require(&required);
        if let Some(p) = preferred {
            req = req.prefer(p);
        }
        let infos = self.measure(None).await?;
        let chosen = match explicit {
            Some(name) => {
                let info = infos.iter().find(|c| c.name == name).ok_or_else(|| {
                    match self.member(name) {
                        Err(e) => e,
                        Ok(_) => Error::not_found("cluster", name),
                    }
                })?;
                placement::check(info, &req)?;
                info.name.clone()
            }
            None => placement::choose(&infos, &req)?.name.clone(),
        };
        let a = Assignment {
            organization: w.organization.clone(),
            workspace: w.name.clone(),
            cluster: chosen.clone(),
            moving_to: None,
            leaving: None,
        };
        match self.commit_assignment(a, Precondition::Absent).await {
            Ok(_) => {}
            // another process placed it first: its choice stands
            Err(e) if matches!(e.kind(), ErrorKind::AlreadyExists | ErrorKind::Conflict) => {
                self.refresh().await?;
                return self
                    .assignment(org, ws)
                    .map(|a| a.cluster)
                    .ok_or_else(|| Error::conflict("assignment", key, "placed concurrently"));
            }
            Err(e) => return Err(e),
        }
        tracing::info!(workspace = %key, cluster = %chosen, "workspace placed");
        Ok(chosen)
    }

    /// The workspace owning namespace `ns` (the tenancy store's namespace index), if any.
    pub(crate) async fn owner_of_namespace(&self, ns: &str) -> Result<Option<(String, String)>> {
        if let Some(o) = self.inner.namespaces.read().get(ns) {
            return Ok(Some(o.clone()));
        }
        let Some(rec) = self.inner.store.get(NAMESPACES, ns).await? else {
            return Ok(None);
        };
        let field = |k: &str| rec.value[k].as_str().map(str::to_owned);
        let (Some(org), Some(ws)) = (field("organization"), field("workspace")) else {
            return Ok(None);
        };
        self.learn_namespace(ns, &org, &ws);
        Ok(Some((org, ws)))
    }

    /// Remember that `ns` belongs to `org/ws` (namespace names never change owner).
    pub(crate) fn learn_namespace(&self, ns: &str, org: &str, ws: &str) {
        self.inner
            .namespaces
            .write()
            .insert(ns.to_owned(), (org.to_owned(), ws.to_owned()));
    }

    /// The workspace a node pool id belongs to.
    pub(crate) async fn workspace_of_pool(&self, pool: &str) -> Result<Option<(String, String)>> {
        let matches = |o: &str, w: &str| match (Name::new(o), Name::new(w)) {
            (Ok(o), Ok(w)) => crate::naming::pool_id(&o, &w) == pool,
            _ => false,
        };
        if let Some((o, w)) = pool.split_once('.')
            && matches(o, w)
        {
            return Ok(Some((o.to_owned(), w.to_owned())));
        }
        for r in self.inner.store.list(WORKSPACES, "").await? {
            if let Some((o, w)) = r.key.split_once('/')
                && matches(o, w)
            {
                return Ok(Some((o.to_owned(), w.to_owned())));
            }
        }
        Ok(None)
    }
}
