//! The tenancy engine: [`Tenancy`].
//!
//! Every operation is a builder ending in `.execute().await`. Each one
//!
//! 1. validates everything first (names, plan, limits, quota against the parent, uniqueness)
//!    under a per-organization lock, so concurrent requests in one organization cannot
//!    overcommit it (the store batch also carries a compare-and-swap on the parent record, so
//!    two processes sharing a store cannot either);
//! 2. writes the desired state and its audit entry in **one** atomic store batch — a refused
//!    request changes nothing (its refusal alone is audited);
//! 3. reconciles the affected tenant to the cluster and records the outcome as the entity's
//!    status: `Active`, or `Error { reason }` when the cluster could not be brought in line.
//!
//! A failure after step 2 leaves the entity `Pending`/`Error`; the next
//! [`reconcile`](Tenancy::reconcile) (or the same operation's retry) converges it, because
//! reconcile derives everything from the store. Deletes mark entities `Deleting`, reconcile
//! removes their cluster objects, and the records are finalized (removed) only once the
//! namespace is gone, so nothing is orphaned.

mod access;
mod apps;
pub mod audit;
#[cfg(feature = "backup")]
pub mod backup;
pub mod credentials;
#[cfg(feature = "fleet")]
mod fleet_support;
mod functions;
pub mod invitations;
mod members;
mod org;
#[cfg(feature = "policy")]
mod policy;
pub mod pools;
mod project;
pub mod state;
mod sync;
pub mod usage;
mod workspace;

use std::collections::HashMap;
use std::sync::Arc;

use hxb_core::store::Batch;
use hxb_core::{Clock, ClusterBackend, Error, Name, Result, StateStore, SystemClock};
use parking_lot::Mutex;

use crate::plans::PlanCatalog;
use crate::reconcile::RetryPolicy;
use crate::render::RenderConfig;
use audit::AuditEntry;

pub use apps::{AppOp, CreateApp};
pub use credentials::ScopedKubeconfig;
pub use functions::{DEFAULT_FUNCTION_PORT, InvokeFunction};
pub use invitations::{Invitation, Invite};
pub use members::{AddMember, RemoveMember};
pub use org::{CreateOrganization, DeleteOrganization, UpdateOrganization};
pub use project::{CreateProject, DeleteProject, UpdateProject};
pub use workspace::{CreateWorkspace, DeleteWorkspace, UpdateWorkspace};

/// The actor recorded when an operation names none.
pub const SYSTEM_ACTOR: &str = "system";

struct Inner {
    cluster: Arc<dyn ClusterBackend>,
    store: Arc<dyn StateStore>,
    clock: Arc<dyn Clock>,
    plans: PlanCatalog,
    render: RenderConfig,
    retry: RetryPolicy,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// The tenancy engine over a cluster backend and a state store. Cheap to clone.
#[derive(Clone)]
pub struct Tenancy {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Tenancy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenancy").finish_non_exhaustive()
    }
}

/// Builds a [`Tenancy`] with non-default settings.
pub struct TenancyBuilder {
    cluster: Arc<dyn ClusterBackend>,
    store: Arc<dyn StateStore>,
    clock: Arc<dyn Clock>,
    plans: PlanCatalog,
    render: RenderConfig,
    retry: RetryPolicy,
}

impl TenancyBuilder {
    /// The clock (default: system time).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The plan catalogue (default: [`PlanCatalog::defaults`]).
    pub fn plans(mut self, plans: PlanCatalog) -> Self {
        self.plans = plans;
        self
    }

    /// Rendering settings (network egress, limit-range defaults, pod security).
    pub fn render_config(mut self, cfg: RenderConfig) -> Self {
        self.render = cfg;
        self
    }

    /// Retry policy for cluster calls.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Build.
    pub fn build(self) -> Tenancy {
        Tenancy {
            inner: Arc::new(Inner {
                cluster: self.cluster,
                store: self.store,
                clock: self.clock,
                plans: self.plans,
                render: self.render,
                retry: self.retry,
                locks: Mutex::new(HashMap::new()),
            }),
        }
    }
}

impl Tenancy {
    /// An engine with default plans, rendering and retries, on the system clock.
    pub fn new(cluster: Arc<dyn ClusterBackend>, store: Arc<dyn StateStore>) -> Self {
        Self::builder(cluster, store).build()
    }

    /// A builder for non-default settings.
    pub fn builder(cluster: Arc<dyn ClusterBackend>, store: Arc<dyn StateStore>) -> TenancyBuilder {
        TenancyBuilder {
            cluster,
            store,
            clock: Arc::new(SystemClock),
            plans: PlanCatalog::defaults(),
            render: RenderConfig::default(),
            retry: RetryPolicy::default(),
        }
    }

    /// The plan catalogue.
    pub fn plans(&self) -> &PlanCatalog {
        &self.inner.plans
    }

    /// The cluster backend.
    pub fn cluster(&self) -> &Arc<dyn ClusterBackend> {
        &self.inner.cluster
    }

    /// The state store.
    pub fn store(&self) -> &Arc<dyn StateStore> {
        &self.inner.store
    }

    /// The audit log after sequence `after`, at most `limit` entries.
    pub async fn audit_log(&self, after: u64, limit: usize) -> Result<Vec<AuditEntry>> {
        audit::read(self.inner.store.as_ref(), after, limit).await
    }

    pub(crate) fn now(&self) -> hxb_core::Timestamp {
        self.inner.clock.now()
    }

    pub(crate) async fn lock(&self, org: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let m = self
            .inner
            .locks
            .lock()
            .entry(org.to_owned())
            .or_default()
            .clone();
        m.lock_owned().await
    }

    /// Commit a change with its audit entry, atomically.
    pub(crate) async fn commit(
        &self,
        batch: Batch,
        actor: &str,
        action: &str,
        target: &str,
    ) -> Result<u64> {
        let entry = AuditEntry::ok(self.now(), actor, action, target);
        self.inner.store.commit(entry.append_to(batch)?).await
    }

    /// Record a refusal in the audit log (best effort) and hand the error back.
    /// Run an operation; if it fails, record the refusal in the audit log and return its
    /// error (successful changes audit themselves, in the same batch as the change).
    pub(crate) async fn audited<T>(
        &self,
        actor: &str,
        action: &str,
        target: &str,
        op: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        match op.await {
            Ok(v) => Ok(v),
            Err(e) => Err(self.refused(actor, action, target, e).await),
        }
    }

    pub(crate) async fn refused(&self, actor: &str, action: &str, target: &str, e: Error) -> Error {
        let entry = AuditEntry::refused(self.now(), actor, action, target, &e);
        if let Ok(b) = entry.append_to(Batch::new())
            && let Err(log_err) = self.inner.store.commit(b).await
        {
            tracing::warn!(%log_err, "could not audit a refused request");
        }
        e
    }
}

/// Parse a name argument (an [`Error::InvalidName`] naming the broken rule).
pub(crate) fn name_arg(s: &str) -> Result<Name> {
    Ok(Name::new(s)?)
}
