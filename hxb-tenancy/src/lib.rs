//! # hxb-tenancy
//!
//! The tenancy engine of hxb: organizations → workspaces → projects (nested), plans, members
//! and roles, rendered to Kubernetes objects and reconciled into any
//! [`ClusterBackend`](hxb_core::ClusterBackend).
//!
//! ```
//! use std::sync::Arc;
//! use hxb_core::{EmbeddedCluster, store::MemoryStore};
//! use hxb_tenancy::{Tenancy, plans::quota, rbac::AccessRequest};
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> hxb_core::Result<()> {
//! let cluster = EmbeddedCluster::builder().nodes(3).build().into_backend();
//! let t = Tenancy::new(cluster, Arc::new(MemoryStore::new()));
//! t.create_organization("acme").plan("professional").display_name("Acme").execute().await?;
//! t.create_workspace("acme", "dev").quota(quota("4", "8Gi", "50Gi", "40", "20", "8")?).execute().await?;
//! let web = t.create_project("acme", "dev", "web").quota(quota("2", "4Gi", "20Gi", "20", "10", "4")?).execute().await?;
//! t.add_member("acme", "alice@example.com").workspace("dev").role("developer").execute().await?;
//! let may = AccessRequest::new("alice@example.com", "create", "apps", "deployments", Some(&web.namespace));
//! assert!(t.check_access(&may).await?);
//! assert_eq!(t.reconcile().await?.writes(), 0); // converged: a no-op reconcile writes nothing
//! # Ok(()) }
//! ```
//!
//! The pure core (usable on its own):
//! * [`plans`] — the plan catalogue and plan-change checks;
//! * [`naming`] — namespace names and the labels hxb writes;
//! * [`rbac`] — the role → Kubernetes RBAC mapping table and an RBAC authorizer;
//! * [`render`] — project → Namespace, ResourceQuota, LimitRange, NetworkPolicies, Roles,
//!   RoleBindings, ServiceAccount;
//! * `policy` (feature `policy`) — per-plan Pod Security Standards level, allowed
//!   registries, required requests, and the engine's admission of what it deploys;
//! * [`ledger`] — hierarchical quota (organization ≥ workspaces ≥ projects ≥ sub-projects)
//!   with overcommit-free concurrent allocation.
//!
//! On top: [`engine`] ([`Tenancy`]: builders ending in `.execute().await`, atomic store
//! batches with audit, statuses, access checks, invitations), [`reconcile`] (desired →
//! cluster, only differences written), [`crd`] (custom resources for GitOps) and [`testing`]
//! (write-counting and fault-injecting backends). With the `backup` feature, `backup`:
//! versioned, content-hashed project snapshots, restore with dry-run plans, scheduled
//! per-application policies (`docs/backup.md`). Design notes: `docs/tenancy.md`.

pub mod apps;
#[cfg(feature = "backup")]
pub mod backup;
pub mod crd;
pub mod engine;
#[cfg(feature = "fleet")]
pub mod fleet;
pub mod ledger;
pub mod metering;
pub mod naming;
pub mod plans;
#[cfg(feature = "policy")]
pub mod policy;
pub mod rbac;
pub mod reconcile;
pub mod render;
pub mod testing;

pub use engine::Tenancy;
pub use engine::audit::AuditEntry;
pub use plans::PlanCatalog;
pub use reconcile::ReconcileReport;
pub use render::{DesiredObject, ProjectInput, RenderConfig, render_project};
