//! # hxb-tenancy
//!
//! The tenancy engine of hxb: organizations → workspaces → projects (nested), plans, members
//! and roles, rendered to Kubernetes objects and reconciled into any
//! [`ClusterBackend`](hxb_core::ClusterBackend).
//!
//! The pure core (usable on its own):
//! * [`plans`] — the plan catalogue and plan-change checks;
//! * [`naming`] — namespace names and the labels hxb writes;
//! * [`rbac`] — the role → Kubernetes RBAC mapping table and an RBAC authorizer;
//! * [`render`] — project → Namespace, ResourceQuota, LimitRange, NetworkPolicies, Roles,
//!   RoleBindings, ServiceAccount;
//! * [`ledger`] — hierarchical quota (organization ≥ workspaces ≥ projects ≥ sub-projects)
//!   with overcommit-free concurrent allocation.

pub mod ledger;
pub mod naming;
pub mod plans;
pub mod rbac;
pub mod render;

pub use plans::PlanCatalog;
pub use render::{DesiredObject, ProjectInput, RenderConfig, render_project};
pub mod engine;
pub mod reconcile;
pub mod testing;

pub use engine::Tenancy;
pub use engine::audit::AuditEntry;
pub use reconcile::ReconcileReport;
