//! The platform's domain model: organizations → workspaces → projects, plans, members, roles.
//!
//! These are plain data: validated on construction where a constructor exists, serialisable,
//! and free of behaviour that touches a cluster. The engines in `hxb-tenancy` give them life.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::name::Name;
use crate::quantity::Quantity;
use crate::resources::ResourceList;

/// A point in time (UTC).
pub type Timestamp = jiff::Timestamp;

/// Lifecycle state of an organization, workspace or project.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "PascalCase")]
pub enum EntityStatus {
    /// Recorded, not yet reconciled to the cluster.
    Pending,
    /// Reconciled and serving.
    Active,
    /// A change is being reconciled.
    Updating,
    /// Deletion in progress (finalizing cluster objects).
    Deleting,
    /// Reconcile failed; `reason` says why. Retried on the next reconcile.
    Error {
        /// Human-readable cause.
        reason: String,
    },
}

impl EntityStatus {
    /// The phase name (`Pending`, `Active`, …).
    pub fn phase(&self) -> &'static str {
        match self {
            EntityStatus::Pending => "Pending",
            EntityStatus::Active => "Active",
            EntityStatus::Updating => "Updating",
            EntityStatus::Deleting => "Deleting",
            EntityStatus::Error { .. } => "Error",
        }
    }
}

impl fmt::Display for EntityStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EntityStatus::Error { reason } => write!(f, "Error: {reason}"),
            other => f.write_str(other.phase()),
        }
    }
}

/// The commercial identity of a plan (what the customer bought). Orthogonal to [`PlanKind`].
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanTier {
    /// Entry tier.
    Starter,
    /// Mid tier.
    Professional,
    /// Top tier.
    Enterprise,
    /// Anything an operator defines.
    Custom(Name),
}

impl fmt::Display for PlanTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanTier::Starter => f.write_str("starter"),
            PlanTier::Professional => f.write_str("professional"),
            PlanTier::Enterprise => f.write_str("enterprise"),
            PlanTier::Custom(n) => write!(f, "{n}"),
        }
    }
}

/// Where a plan's workloads run. Orthogonal to [`PlanTier`].
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanKind {
    /// On nodes shared with other tenants.
    #[default]
    Shared,
    /// On a node pool reserved for one workspace (taint + toleration + node selector).
    Dedicated,
}

/// Size class of a dedicated node.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeSize {
    /// Small.
    S,
    /// Medium.
    M,
    /// Large.
    L,
}

/// The nodes a dedicated plan reserves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodePlan {
    /// Node size class.
    pub size: NodeSize,
    /// Allocatable resources of one node of that size.
    pub node_allocatable: ResourceList,
    /// How many nodes the pool starts with.
    pub nodes: u32,
    /// Price of one node per month (720 h), in the plan's currency.
    pub monthly_price: Quantity,
}

/// Caps on how many things a plan allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanLimits {
    /// Workspaces per organization.
    pub max_workspaces: u32,
    /// Projects per workspace (sub-projects included).
    pub max_projects_per_workspace: u32,
    /// Members per organization.
    pub max_members: u32,
}

/// A plan: identity, placement kind, quota, limits and (for dedicated plans) the node pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Unique plan id (e.g. `starter`, `enterprise-dedicated`).
    pub id: Name,
    /// Commercial tier.
    pub tier: PlanTier,
    /// Shared or dedicated nodes.
    pub kind: PlanKind,
    /// Quota granted (cpu, memory, storage, pods, services, PVCs…).
    pub quota: ResourceList,
    /// Count limits.
    pub limits: PlanLimits,
    /// The node pool; required for [`PlanKind::Dedicated`], absent for shared plans.
    pub node_plan: Option<NodePlan>,
    /// Base price per month, in the plan's currency.
    pub monthly_price: Quantity,
}

impl Plan {
    /// Check internal consistency: a dedicated plan has a node plan, a shared one has none,
    /// prices are non-negative.
    pub fn validate(&self) -> Result<()> {
        match (self.kind, &self.node_plan) {
            (PlanKind::Dedicated, None) => {
                return Err(Error::invalid(
                    "plan.node_plan",
                    "a dedicated plan needs a node plan",
                ));
            }
            (PlanKind::Shared, Some(_)) => {
                return Err(Error::invalid(
                    "plan.node_plan",
                    "a shared plan has no node plan",
                ));
            }
            (_, Some(np)) if np.nodes == 0 => {
                return Err(Error::invalid("plan.node_plan.nodes", "must be at least 1"));
            }
            _ => {}
        }
        if self.monthly_price.is_negative()
            || self
                .node_plan
                .as_ref()
                .is_some_and(|n| n.monthly_price.is_negative())
        {
            return Err(Error::invalid("plan.monthly_price", "must not be negative"));
        }
        Ok(())
    }
}

/// An organization: the billing and identity unit, hard-isolated from every other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    /// Unique name (RFC 1123 label).
    pub name: Name,
    /// Free-form display name.
    pub display_name: String,
    /// The plan id.
    pub plan: Name,
    /// Lifecycle state.
    pub status: EntityStatus,
    /// Creation time.
    pub created_at: Timestamp,
}

/// A workspace: a team's environment inside an organization, with its own plan and quota.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workspace {
    /// Owning organization.
    pub organization: Name,
    /// Name, unique within the organization.
    pub name: Name,
    /// The plan id (its kind decides shared or dedicated nodes).
    pub plan: Name,
    /// Quota carved out of the organization's plan.
    pub quota: ResourceList,
    /// Lifecycle state.
    pub status: EntityStatus,
    /// Creation time.
    pub created_at: Timestamp,
}

/// A project: a Kubernetes namespace inside a workspace. Projects nest through `parent`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    /// Owning organization.
    pub organization: Name,
    /// Owning workspace.
    pub workspace: Name,
    /// Name, unique within the workspace.
    pub name: Name,
    /// Parent project for sub-projects.
    pub parent: Option<Name>,
    /// Quota carved out of the parent (project or workspace).
    pub quota: ResourceList,
    /// The Kubernetes namespace this project owns.
    pub namespace: String,
    /// Lifecycle state.
    pub status: EntityStatus,
    /// Creation time.
    pub created_at: Timestamp,
}

/// Roles at organization level.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgRole {
    /// Full control, billing included.
    Owner,
    /// Manages workspaces and members.
    Admin,
    /// Belongs; sees the organization.
    Member,
}

/// Roles at workspace and project level.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopedRole {
    /// Manages everything in scope, members included.
    Admin,
    /// Deploys and operates workloads.
    Developer,
    /// Reads.
    Viewer,
}

/// Where a membership applies.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "level", rename_all = "snake_case")]
pub enum Scope {
    /// A whole organization.
    Organization {
        /// Organization name.
        organization: Name,
    },
    /// One workspace.
    Workspace {
        /// Organization name.
        organization: Name,
        /// Workspace name.
        workspace: Name,
    },
    /// One project (and its sub-projects).
    Project {
        /// Organization name.
        organization: Name,
        /// Workspace name.
        workspace: Name,
        /// Project name.
        project: Name,
    },
}

impl Scope {
    /// The organization this scope belongs to.
    pub fn organization(&self) -> &Name {
        match self {
            Scope::Organization { organization }
            | Scope::Workspace { organization, .. }
            | Scope::Project { organization, .. } => organization,
        }
    }
}

/// A role, at the level it applies to.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "level", content = "role", rename_all = "snake_case")]
pub enum Role {
    /// An organization role.
    Organization(OrgRole),
    /// A workspace role.
    Workspace(ScopedRole),
    /// A project role.
    Project(ScopedRole),
}

impl Role {
    /// Parse `"owner"`, `"admin"`, `"member"` at organization level, or `"admin"`,
    /// `"developer"`, `"viewer"` at workspace/project level; anything else is an
    /// [`Error::InvalidInput`] naming the allowed roles.
    pub fn parse(level: &str, role: &str) -> Result<Role> {
        let scoped = |r: &str| match r {
            "admin" => Some(ScopedRole::Admin),
            "developer" => Some(ScopedRole::Developer),
            "viewer" => Some(ScopedRole::Viewer),
            _ => None,
        };
        let found = match level {
            "organization" => match role {
                "owner" => Some(Role::Organization(OrgRole::Owner)),
                "admin" => Some(Role::Organization(OrgRole::Admin)),
                "member" => Some(Role::Organization(OrgRole::Member)),
                _ => None,
            },
            "workspace" => scoped(role).map(Role::Workspace),
            "project" => scoped(role).map(Role::Project),
            _ => {
                return Err(Error::invalid(
                    "role level",
                    format!("unknown level {level:?} (organization, workspace or project)"),
                ));
            }
        };
        found.ok_or_else(|| {
            let allowed = if level == "organization" {
                "owner, admin or member"
            } else {
                "admin, developer or viewer"
            };
            Error::invalid(
                "role",
                format!("unknown {level} role {role:?} (expected {allowed})"),
            )
        })
    }

    /// The role's name without level (`"developer"`).
    pub fn name(&self) -> &'static str {
        match self {
            Role::Organization(OrgRole::Owner) => "owner",
            Role::Organization(OrgRole::Admin) => "admin",
            Role::Organization(OrgRole::Member) => "member",
            Role::Workspace(r) | Role::Project(r) => match r {
                ScopedRole::Admin => "admin",
                ScopedRole::Developer => "developer",
                ScopedRole::Viewer => "viewer",
            },
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self {
            Role::Organization(_) => "organization",
            Role::Workspace(_) => "workspace",
            Role::Project(_) => "project",
        };
        write!(f, "{level}:{}", self.name())
    }
}

/// A user's identity as the cluster sees it (an OIDC subject, an email, a service account).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Subject(String);

impl Subject {
    /// Validate: non-empty, at most 253 bytes, printable, no `/`-only or whitespace-only names.
    pub fn new(s: impl Into<String>) -> Result<Self> {
        let s = s.into();
        if s.trim().is_empty() || s.len() > 253 || s.chars().any(|c| c.is_control()) {
            return Err(Error::invalid(
                "subject",
                format!("{s:?} must be 1-253 printable characters"),
            ));
        }
        Ok(Subject(s))
    }

    /// The subject string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A membership: subject × scope × role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Who.
    pub subject: Subject,
    /// Where.
    pub scope: Scope,
    /// As what.
    pub role: Role,
    /// Since when.
    pub added_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn roles_parse_per_level() {
        assert_eq!(
            Role::parse("organization", "owner").unwrap(),
            Role::Organization(OrgRole::Owner)
        );
        assert_eq!(
            Role::parse("project", "viewer").unwrap(),
            Role::Project(ScopedRole::Viewer)
        );
        assert_eq!(
            Role::parse("workspace", "developer").unwrap().to_string(),
            "workspace:developer"
        );
        let e = Role::parse("workspace", "owner").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(e.to_string().contains("admin, developer or viewer"), "{e}");
        assert!(Role::parse("cluster", "admin").is_err());
    }

    #[test]
    fn plan_axes_are_checked() {
        let mut p = Plan {
            id: Name::new("starter").unwrap(),
            tier: PlanTier::Starter,
            kind: PlanKind::Dedicated,
            quota: ResourceList::new(),
            limits: PlanLimits {
                max_workspaces: 1,
                max_projects_per_workspace: 1,
                max_members: 1,
            },
            node_plan: None,
            monthly_price: Quantity::ZERO,
        };
        assert_eq!(p.validate().unwrap_err().kind(), ErrorKind::InvalidInput);
        p.kind = PlanKind::Shared;
        assert!(p.validate().is_ok());
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["tier"], "starter");
        assert_eq!(json["kind"], "shared");
    }

    #[test]
    fn status_serialises_with_phase() {
        let s = EntityStatus::Error {
            reason: "boom".into(),
        };
        assert_eq!(
            serde_json::to_value(&s).unwrap(),
            serde_json::json!({"phase": "Error", "reason": "boom"})
        );
        assert_eq!(s.to_string(), "Error: boom");
    }

    #[test]
    fn subjects_are_validated() {
        assert!(Subject::new("alice@example.com").is_ok());
        assert!(Subject::new("  ").is_err());
        assert!(Subject::new("a\u{0}b").is_err());
    }
}
