//! Roles → Kubernetes RBAC ([`mapping`], the one table) and a pure RBAC authorizer ([`eval`]).

pub mod eval;
pub mod mapping;

pub use eval::{AccessRequest, RbacSet};
pub use mapping::{Access, ROLE_MAPPING, Reach, RoleMapping, access_rules};
