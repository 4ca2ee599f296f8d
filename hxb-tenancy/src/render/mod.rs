//! Rendering: tenant entities → the Kubernetes objects that realise them.
//!
//! Pure functions over plain data. [`render_project`] returns, for one project, in a fixed
//! order: its Namespace, ResourceQuota, LimitRange, NetworkPolicies, the three tier Roles, one
//! RoleBinding per tier that has subjects, and a ServiceAccount for its workloads. Every object
//! carries `app.kubernetes.io/managed-by=hxb` and the owner labels (organization, workspace,
//! project, parent), which is how reconcile finds what it owns.
//!
//! Isolation in the output:
//! * **RBAC** — only namespace Roles and RoleBindings, bound to the project's own members;
//!   nothing cluster-wide, so no path from one organization to another.
//! * **Network** — see [`network`].
//! * **Nodes** — for dedicated plans the Namespace carries the `PodNodeSelector` and
//!   `PodTolerationRestriction` annotations (node selector `hxb.io/pool=<pool>`, toleration
//!   `dedicated=<pool>:NoSchedule`), and workloads hxb renders set both explicitly
//!   ([`placement`]).

pub mod network;

use std::collections::BTreeMap;

use hxb_core::cluster::{DynamicObject, Object, ResourceType, ScopeInfo};
use hxb_core::{
    Error, Member, Name, Organization, Plan, PlanKind, Project, ResourceList, Result, Scope,
    Subject, Workspace,
};
use k8s_openapi::api::core::v1::{
    LimitRange, LimitRangeItem, LimitRangeSpec, Namespace, ResourceQuota, ResourceQuotaSpec,
    ServiceAccount, Toleration,
};
use k8s_openapi::api::rbac::v1::{Role as K8sRole, RoleBinding, RoleRef, Subject as K8sSubject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

use crate::naming::{self, LABEL_POOL, TAINT_DEDICATED};
use crate::rbac::mapping::{Access, Reach, access_rules, mapping};
pub use network::NetworkConfig;

/// One object hxb wants in the cluster, with its resource type.
#[derive(Debug, Clone)]
pub struct DesiredObject {
    /// Its type.
    pub ty: ResourceType,
    /// The object (apiVersion/kind set).
    pub object: DynamicObject,
}

impl DesiredObject {
    /// Convert a typed object.
    pub fn from_typed<K>(obj: &K) -> Result<Self>
    where
        K: Object,
        K::Scope: ScopeInfo,
    {
        let mut v = serde_json::to_value(obj).map_err(|e| Error::internal(e.to_string()))?;
        if let Some(map) = v.as_object_mut() {
            map.insert("apiVersion".into(), K::api_version(&()).into_owned().into());
            map.insert("kind".into(), K::kind(&()).into_owned().into());
        }
        let object = serde_json::from_value(v).map_err(|e| Error::internal(e.to_string()))?;
        Ok(DesiredObject {
            ty: ResourceType::of::<K>(),
            object,
        })
    }

    /// `(type, namespace, name)`: the object's identity.
    pub fn key(&self) -> (ResourceType, Option<String>, String) {
        (
            self.ty.clone(),
            self.object.metadata.namespace.clone(),
            self.object.metadata.name.clone().unwrap_or_default(),
        )
    }
}

/// Rendering settings shared by every project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderConfig {
    /// Network policy settings.
    pub network: NetworkConfig,
    /// LimitRange default requests per container.
    pub default_request: ResourceList,
    /// LimitRange default limits per container.
    pub default_limit: ResourceList,
    /// `pod-security.kubernetes.io/enforce` level of project namespaces (`None`: unset). With
    /// the `policy` feature the engine replaces it with the workspace plan's level.
    pub pod_security: Option<String>,
}

impl Default for RenderConfig {
    fn default() -> Self {
        RenderConfig {
            network: NetworkConfig::default(),
            default_request: ResourceList::parse([("cpu", "100m"), ("memory", "128Mi")])
                .expect("static"),
            default_limit: ResourceList::parse([("cpu", "500m"), ("memory", "512Mi")])
                .expect("static"),
            pod_security: Some("baseline".into()),
        }
    }
}

/// Everything [`render_project`] needs about one project.
#[derive(Debug, Clone, Copy)]
pub struct ProjectInput<'a> {
    /// The organization.
    pub organization: &'a Organization,
    /// The workspace.
    pub workspace: &'a Workspace,
    /// The project.
    pub project: &'a Project,
    /// Its ancestors, nearest first (empty for a top-level project).
    pub ancestors: &'a [Name],
    /// Members of the organization (every scope; the relevant ones are picked).
    pub members: &'a [Member],
    /// The workspace's plan (its kind decides shared or dedicated nodes).
    pub plan: &'a Plan,
    /// Quota of the project's own namespace: its quota minus what its sub-projects carved out.
    pub namespace_quota: &'a ResourceList,
}

/// The highest access tier each subject has in the project's namespace.
pub fn effective_access(input: &ProjectInput<'_>) -> BTreeMap<Subject, Access> {
    let (org, ws, prj) = (
        &input.organization.name,
        &input.workspace.name,
        &input.project.name,
    );
    let mut out: BTreeMap<Subject, Access> = BTreeMap::new();
    for m in input.members {
        let row = mapping(m.role);
        let Some(access) = row.access else { continue };
        let reaches = match (&m.scope, row.reach) {
            (Scope::Organization { organization }, Reach::Organization) => organization == org,
            (
                Scope::Workspace {
                    organization,
                    workspace,
                },
                Reach::Workspace,
            ) => organization == org && workspace == ws,
            (
                Scope::Project {
                    organization,
                    workspace,
                    project,
                },
                Reach::ProjectSubtree,
            ) => {
                organization == org
                    && workspace == ws
                    && (project == prj || input.ancestors.contains(project))
            }
            _ => false, // a role recorded at a scope of the wrong level grants nothing
        };
        if reaches {
            let e = out.entry(m.subject.clone()).or_insert(access);
            *e = (*e).max(access);
        }
    }
    out
}

/// Pod placement for a workspace's plan: `(node selector, tolerations)`, both empty for shared
/// plans.
pub fn placement(
    organization: &Name,
    workspace: &Name,
    plan: &Plan,
) -> (BTreeMap<String, String>, Vec<Toleration>) {
    if plan.kind != PlanKind::Dedicated {
        return (BTreeMap::new(), Vec::new());
    }
    let pool = naming::pool_id(organization, workspace);
    (
        BTreeMap::from([(LABEL_POOL.to_owned(), pool.clone())]),
        vec![Toleration {
            key: Some(TAINT_DEDICATED.into()),
            operator: Some("Equal".into()),
            value: Some(pool),
            effect: Some("NoSchedule".into()),
            ..Default::default()
        }],
    )
}

fn namespace(
    input: &ProjectInput<'_>,
    labels: &BTreeMap<String, String>,
    cfg: &RenderConfig,
) -> Result<Namespace> {
    let mut labels = labels.clone();
    if let Some(level) = &cfg.pod_security {
        labels.insert("pod-security.kubernetes.io/enforce".into(), level.clone());
    }
    let (selector, tolerations) =
        placement(&input.organization.name, &input.workspace.name, input.plan);
    let mut annotations = BTreeMap::new();
    if !selector.is_empty() {
        let sel = selector
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",");
        annotations.insert(
            "scheduler.alpha.kubernetes.io/node-selector".to_owned(),
            sel,
        );
        annotations.insert(
            "scheduler.alpha.kubernetes.io/defaultTolerations".to_owned(),
            serde_json::to_string(&tolerations).map_err(|e| Error::internal(e.to_string()))?,
        );
    }
    Ok(Namespace {
        metadata: ObjectMeta {
            name: Some(input.project.namespace.clone()),
            labels: Some(labels),
            annotations: (!annotations.is_empty()).then_some(annotations),
            ..Default::default()
        },
        ..Default::default()
    })
}

/// Render one project. See the module documentation for what and why.
pub fn render_project(input: &ProjectInput<'_>, cfg: &RenderConfig) -> Result<Vec<DesiredObject>> {
    let p = input.project;
    let labels = naming::project_labels(
        &input.organization.name,
        &input.workspace.name,
        &p.name,
        p.parent.as_ref(),
    );
    let meta = |name: &str| ObjectMeta {
        name: Some(name.to_owned()),
        namespace: Some(p.namespace.clone()),
        labels: Some(labels.clone()),
        ..Default::default()
    };
    let mut out = vec![DesiredObject::from_typed(&namespace(input, &labels, cfg)?)?];
    out.push(DesiredObject::from_typed(&ResourceQuota {
        metadata: meta("hxb-quota"),
        spec: Some(ResourceQuotaSpec {
            hard: Some(input.namespace_quota.to_k8s()),
            ..Default::default()
        }),
        ..Default::default()
    })?);
    out.push(DesiredObject::from_typed(&LimitRange {
        metadata: meta("hxb-limits"),
        spec: Some(LimitRangeSpec {
            limits: vec![LimitRangeItem {
                type_: "Container".into(),
                default: Some(cfg.default_limit.to_k8s()),
                default_request: Some(cfg.default_request.to_k8s()),
                ..Default::default()
            }],
        }),
    })?);
    for np in network::network_policies(
        &meta(""),
        &input.organization.name,
        &input.workspace.name,
        &cfg.network,
    ) {
        out.push(DesiredObject::from_typed(&np)?);
    }
    for access in Access::ALL {
        out.push(DesiredObject::from_typed(&K8sRole {
            metadata: meta(&access.role_name()),
            rules: Some(access_rules(access)),
        })?);
    }
    let mut by_tier: BTreeMap<Access, Vec<&Subject>> = BTreeMap::new();
    let access = effective_access(input);
    for (s, a) in &access {
        by_tier.entry(*a).or_default().push(s);
    }
    for (tier, subjects) in by_tier {
        out.push(DesiredObject::from_typed(&RoleBinding {
            metadata: meta(&tier.role_name()),
            role_ref: RoleRef {
                api_group: "rbac.authorization.k8s.io".into(),
                kind: "Role".into(),
                name: tier.role_name(),
            },
            subjects: Some(
                subjects
                    .into_iter()
                    .map(|s| K8sSubject {
                        api_group: Some("rbac.authorization.k8s.io".into()),
                        kind: "User".into(),
                        name: s.to_string(),
                        namespace: None,
                    })
                    .collect(),
            ),
        })?);
    }
    out.push(DesiredObject::from_typed(&ServiceAccount {
        metadata: meta("hxb-workload"),
        automount_service_account_token: Some(false),
        ..Default::default()
    })?);
    Ok(out)
}

#[cfg(test)]
mod tests;
