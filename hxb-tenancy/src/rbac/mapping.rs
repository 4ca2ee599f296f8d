//! THE role mapping: every hxb role, where it reaches, and the Kubernetes rules it becomes.
//!
//! This file is the only place roles turn into Kubernetes permissions. Two tables:
//!
//! 1. [`ROLE_MAPPING`]: hxb role → (namespace access tier, reach).
//!
//!    | hxb role | access in each namespace reached | reach |
//!    |---|---|---|
//!    | organization owner | admin | every project namespace of the organization |
//!    | organization admin | admin | every project namespace of the organization |
//!    | organization member | — (no Kubernetes access) | — |
//!    | workspace admin / developer / viewer | admin / developer / viewer | every project namespace of the workspace |
//!    | project admin / developer / viewer | admin / developer / viewer | the project's namespace and its sub-projects' |
//!
//! 2. [`access_rules`]: access tier → Kubernetes `PolicyRule`s of the namespace Role
//!    `hxb-<tier>`. Tiers nest (viewer ⊂ developer ⊂ admin). No tier may write the objects hxb
//!    enforces isolation and quota with (Namespace, ResourceQuota, LimitRange, NetworkPolicy),
//!    and nothing is granted cluster-wide, so no role of one organization reaches another's.
//!
//! A subject holding several memberships gets, per namespace, one RoleBinding to the highest
//! tier among them ([`Access::max`]); since tiers nest, this equals the union.

use hxb_core::{OrgRole, Role, ScopedRole};
use k8s_openapi::api::rbac::v1::PolicyRule;
use serde::{Deserialize, Serialize};

/// A namespace access tier: the Kubernetes Role a member is bound to.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// Reads workloads and configuration (not Secrets).
    Viewer,
    /// Viewer + deploys and operates workloads, Secrets included.
    Developer,
    /// Developer + manages Roles, RoleBindings and ServiceAccounts inside the namespace.
    Admin,
}

impl Access {
    /// All tiers, lowest first.
    pub const ALL: [Access; 3] = [Access::Viewer, Access::Developer, Access::Admin];

    /// `viewer`, `developer`, `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Viewer => "viewer",
            Access::Developer => "developer",
            Access::Admin => "admin",
        }
    }

    /// The name of the namespace Role and RoleBinding for this tier: `hxb-<tier>`.
    pub fn role_name(self) -> String {
        format!("hxb-{}", self.as_str())
    }
}

/// Which project namespaces a membership reaches.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reach {
    /// Every project namespace of the organization.
    Organization,
    /// Every project namespace of the workspace.
    Workspace,
    /// The project's namespace and those of its sub-projects (transitively).
    ProjectSubtree,
}

/// One row of [`ROLE_MAPPING`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleMapping {
    /// The hxb role.
    pub role: Role,
    /// The namespace tier it grants, `None` for no Kubernetes access.
    pub access: Option<Access>,
    /// Where.
    pub reach: Reach,
}

const fn row(role: Role, access: Option<Access>, reach: Reach) -> RoleMapping {
    RoleMapping {
        role,
        access,
        reach,
    }
}

/// hxb role → access tier and reach. Every [`Role`] appears exactly once (tested).
pub const ROLE_MAPPING: [RoleMapping; 9] = [
    row(
        Role::Organization(OrgRole::Owner),
        Some(Access::Admin),
        Reach::Organization,
    ),
    row(
        Role::Organization(OrgRole::Admin),
        Some(Access::Admin),
        Reach::Organization,
    ),
    row(
        Role::Organization(OrgRole::Member),
        None,
        Reach::Organization,
    ),
    row(
        Role::Workspace(ScopedRole::Admin),
        Some(Access::Admin),
        Reach::Workspace,
    ),
    row(
        Role::Workspace(ScopedRole::Developer),
        Some(Access::Developer),
        Reach::Workspace,
    ),
    row(
        Role::Workspace(ScopedRole::Viewer),
        Some(Access::Viewer),
        Reach::Workspace,
    ),
    row(
        Role::Project(ScopedRole::Admin),
        Some(Access::Admin),
        Reach::ProjectSubtree,
    ),
    row(
        Role::Project(ScopedRole::Developer),
        Some(Access::Developer),
        Reach::ProjectSubtree,
    ),
    row(
        Role::Project(ScopedRole::Viewer),
        Some(Access::Viewer),
        Reach::ProjectSubtree,
    ),
];

/// The mapping row of `role`.
pub fn mapping(role: Role) -> RoleMapping {
    *ROLE_MAPPING
        .iter()
        .find(|m| m.role == role)
        .expect("ROLE_MAPPING lists every role (unit-tested)")
}

/// `(apiGroups, resources, verbs)`.
type RuleSpec = (
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
);

const READ: &[&str] = &["get", "list", "watch"];
#[cfg(test)]
const WRITE: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];
const ALL_VERBS: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
];

/// Workload and configuration resources every tier sees, by API group.
const WORKLOADS: &[(&[&str], &[&str])] = &[
    (
        &[""],
        &[
            "pods",
            "services",
            "endpoints",
            "configmaps",
            "persistentvolumeclaims",
            "replicationcontrollers",
        ],
    ),
    (
        &["apps"],
        &["deployments", "statefulsets", "replicasets", "daemonsets"],
    ),
    (&["batch"], &["jobs", "cronjobs"]),
    (&["autoscaling"], &["horizontalpodautoscalers"]),
    (&["networking.k8s.io"], &["ingresses"]),
];

/// Read-only for every tier, written only by hxb.
const ENFORCED_READ: RuleSpec = (
    &["", "networking.k8s.io"],
    &["resourcequotas", "limitranges", "events", "networkpolicies"],
    READ,
);
const VIEWER_EXTRA: &[RuleSpec] = &[(&[""], &["pods/log"], READ), ENFORCED_READ];
const DEVELOPER_EXTRA: &[RuleSpec] = &[
    (&[""], &["secrets"], ALL_VERBS),
    (
        &[""],
        &[
            "pods/exec",
            "pods/portforward",
            "pods/attach",
            "pods/eviction",
        ],
        &["create", "get"],
    ),
    (
        &["apps"],
        &["deployments/scale", "statefulsets/scale"],
        &["get", "update", "patch"],
    ),
    (&[""], &["serviceaccounts"], READ),
];
const ADMIN_EXTRA: &[RuleSpec] = &[
    (&[""], &["serviceaccounts"], ALL_VERBS),
    (
        &["rbac.authorization.k8s.io"],
        &["roles", "rolebindings"],
        ALL_VERBS,
    ),
];

fn rule((groups, resources, verbs): RuleSpec) -> PolicyRule {
    let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
    PolicyRule {
        api_groups: Some(s(groups)),
        resources: Some(s(resources)),
        verbs: s(verbs),
        ..Default::default()
    }
}

/// The rules of the namespace Role for `access` (tiers nest: each includes the lower ones).
pub fn access_rules(access: Access) -> Vec<PolicyRule> {
    let workload_verbs = if access >= Access::Developer {
        ALL_VERBS
    } else {
        READ
    };
    let mut rules: Vec<PolicyRule> = WORKLOADS
        .iter()
        .map(|(g, r)| rule((g, r, workload_verbs)))
        .collect();
    rules.extend(VIEWER_EXTRA.iter().copied().map(rule));
    if access >= Access::Developer {
        rules.extend(DEVELOPER_EXTRA.iter().copied().map(rule));
    }
    if access >= Access::Admin {
        rules.extend(ADMIN_EXTRA.iter().copied().map(rule));
    }
    rules
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_role_is_mapped_exactly_once() {
        let roles: BTreeSet<_> = ROLE_MAPPING.iter().map(|m| m.role).collect();
        assert_eq!(roles.len(), ROLE_MAPPING.len());
        for r in [OrgRole::Owner, OrgRole::Admin, OrgRole::Member] {
            assert!(roles.contains(&Role::Organization(r)));
        }
        for r in [ScopedRole::Admin, ScopedRole::Developer, ScopedRole::Viewer] {
            assert!(roles.contains(&Role::Workspace(r)));
            assert!(roles.contains(&Role::Project(r)));
        }
        assert_eq!(mapping(Role::Organization(OrgRole::Member)).access, None);
    }

    #[test]
    fn no_tier_writes_what_hxb_enforces_or_reaches_cluster_scope() {
        for a in Access::ALL {
            for r in access_rules(a) {
                let res = r.resources.unwrap();
                let writes = r.verbs.iter().any(|v| WRITE.contains(&v.as_str()));
                for enforced in [
                    "resourcequotas",
                    "limitranges",
                    "networkpolicies",
                    "namespaces",
                ] {
                    assert!(
                        !(writes && res.iter().any(|x| x == enforced)),
                        "{a:?} writes {enforced}"
                    );
                }
                assert!(!res.iter().any(|x| x == "*"));
                assert!(!r.verbs.iter().any(|x| x == "*"));
            }
        }
    }
}
