//! Custom resources `Organization`, `Workspace` and `Project` (group `hxb.io`, version
//! `v1alpha1`, cluster-scoped), so GitOps tools can drive the engine on a real cluster, and
//! [`apply_organization`], [`apply_workspace`], [`apply_project`]: make the engine's desired
//! state match one resource (create, or update what changed) and return the status to write
//! back. A controller (see `examples/crd_controller.rs`) calls these from its reconcile.
//!
//! Identity is in the spec (`organization`, `workspace`, `name`), so resource names are free
//! (`acme-dev` is a good habit) and two organizations can both have a workspace `dev`.

use std::collections::BTreeMap;

use hxb_core::{EntityStatus, ErrorKind, ResourceList, Result};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Tenancy;

/// Status written back to every custom resource.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenantStatus {
    /// `Pending`, `Active`, `Updating`, `Deleting` or `Error`.
    pub phase: String,
    /// Why, for `Error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The namespace of a project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

impl From<&EntityStatus> for TenantStatus {
    fn from(s: &EntityStatus) -> Self {
        let reason = match s {
            EntityStatus::Error { reason } => Some(reason.clone()),
            _ => None,
        };
        TenantStatus {
            phase: s.phase().to_owned(),
            reason,
            namespace: None,
        }
    }
}

/// An organization.
#[derive(CustomResource, Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "hxb.io",
    version = "v1alpha1",
    kind = "Organization",
    plural = "organizations"
)]
#[kube(status = "TenantStatus", shortname = "org")]
#[serde(rename_all = "camelCase")]
pub struct OrganizationSpec {
    /// Organization name (RFC 1123 label).
    pub name: String,
    /// Plan id.
    pub plan: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

/// A workspace.
#[derive(CustomResource, Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "hxb.io",
    version = "v1alpha1",
    kind = "Workspace",
    plural = "workspaces"
)]
#[kube(status = "TenantStatus", shortname = "ws")]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceSpec {
    /// Owning organization.
    pub organization: String,
    /// Workspace name.
    pub name: String,
    /// Plan id (default: the organization's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    /// Quota, ResourceQuota names to quantities (default: the plan's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<BTreeMap<String, String>>,
}

/// A project.
#[derive(CustomResource, Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "hxb.io",
    version = "v1alpha1",
    kind = "Project",
    plural = "projects"
)]
#[kube(status = "TenantStatus", shortname = "prj")]
#[serde(rename_all = "camelCase")]
pub struct ProjectSpec {
    /// Owning organization.
    pub organization: String,
    /// Owning workspace.
    pub workspace: String,
    /// Project name.
    pub name: String,
    /// Parent project (sub-projects).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Quota (default: a share of the parent's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<BTreeMap<String, String>>,
}

/// The three CustomResourceDefinitions as one multi-document YAML, ready for
/// `kubectl apply -f -` (checked in as `hxb-tenancy/deploy/crds.yaml`).
pub fn crds_yaml() -> Result<String> {
    use kube::CustomResourceExt;
    let mut out = String::new();
    for crd in [Organization::crd(), Workspace::crd(), Project::crd()] {
        out.push_str("---\n");
        out.push_str(
            &serde_yaml::to_string(&crd)
                .map_err(|e| hxb_core::Error::internal(format!("CRD to YAML: {e}")))?,
        );
    }
    Ok(out)
}

fn quota(q: &Option<BTreeMap<String, String>>) -> Result<Option<ResourceList>> {
    q.as_ref()
        .map(|m| ResourceList::parse(m.iter().map(|(k, v)| (k.as_str(), v.as_str()))))
        .transpose()
}

fn missing(e: &hxb_core::Error) -> bool {
    e.kind() == ErrorKind::NotFound
}

/// Make the engine hold `spec`: create the organization, or update its plan / display name.
pub async fn apply_organization(t: &Tenancy, spec: &OrganizationSpec) -> Result<TenantStatus> {
    let org = match t.organization(&spec.name).await {
        Err(e) if missing(&e) => {
            let mut b = t
                .create_organization(&spec.name)
                .plan(&spec.plan)
                .actor("crd");
            if let Some(d) = &spec.display_name {
                b = b.display_name(d);
            }
            b.execute().await?
        }
        Err(e) => return Err(e),
        Ok(cur) => {
            let d = spec
                .display_name
                .clone()
                .unwrap_or_else(|| cur.display_name.clone());
            if cur.plan.as_str() != spec.plan || cur.display_name != d {
                t.update_organization(&spec.name)
                    .plan(&spec.plan)
                    .display_name(&d)
                    .actor("crd")
                    .execute()
                    .await?
            } else {
                cur
            }
        }
    };
    Ok((&org.status).into())
}

/// Make the engine hold `spec`: create the workspace, or update its plan / quota.
pub async fn apply_workspace(t: &Tenancy, spec: &WorkspaceSpec) -> Result<TenantStatus> {
    let q = quota(&spec.quota)?;
    let ws = match t.workspace(&spec.organization, &spec.name).await {
        Err(e) if missing(&e) => {
            let mut b = t
                .create_workspace(&spec.organization, &spec.name)
                .actor("crd");
            if let Some(p) = &spec.plan {
                b = b.plan(p);
            }
            if let Some(q) = q {
                b = b.quota(q);
            }
            b.execute().await?
        }
        Err(e) => return Err(e),
        Ok(cur) => {
            let plan_changed = spec.plan.as_deref().is_some_and(|p| p != cur.plan.as_str());
            let quota_changed = q.as_ref().is_some_and(|q| *q != cur.quota);
            if plan_changed || quota_changed {
                let mut b = t
                    .update_workspace(&spec.organization, &spec.name)
                    .actor("crd");
                if let Some(p) = spec.plan.as_deref().filter(|_| plan_changed) {
                    b = b.plan(p);
                }
                if let Some(q) = q.filter(|_| quota_changed) {
                    b = b.quota(q);
                }
                b.execute().await?
            } else {
                cur
            }
        }
    };
    Ok((&ws.status).into())
}

/// Make the engine hold `spec`: create the project, or update its quota. A changed parent is
/// refused ([`InvalidInput`](hxb_core::ErrorKind::InvalidInput)): projects do not move.
pub async fn apply_project(t: &Tenancy, spec: &ProjectSpec) -> Result<TenantStatus> {
    let q = quota(&spec.quota)?;
    let prj = match t
        .project(&spec.organization, &spec.workspace, &spec.name)
        .await
    {
        Err(e) if missing(&e) => {
            let mut b = t
                .create_project(&spec.organization, &spec.workspace, &spec.name)
                .actor("crd");
            if let Some(p) = &spec.parent {
                b = b.parent(p);
            }
            if let Some(q) = q {
                b = b.quota(q);
            }
            b.execute().await?
        }
        Err(e) => return Err(e),
        Ok(cur) => {
            if cur.parent.as_ref().map(|p| p.as_str()) != spec.parent.as_deref() {
                return Err(hxb_core::Error::invalid(
                    "spec.parent",
                    "a project's parent cannot change",
                ));
            }
            match q {
                Some(q) if q != cur.quota => {
                    t.update_project(&spec.organization, &spec.workspace, &spec.name)
                        .quota(q)
                        .actor("crd")
                        .execute()
                        .await?
                }
                _ => cur,
            }
        }
    };
    let mut s: TenantStatus = (&prj.status).into();
    s.namespace = Some(prj.namespace);
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::CustomResourceExt;

    #[test]
    fn crds_are_cluster_scoped_with_status_and_schema() {
        for crd in [Organization::crd(), Workspace::crd(), Project::crd()] {
            assert_eq!(crd.spec.group, "hxb.io");
            assert_eq!(crd.spec.scope, "Cluster");
            let v = &crd.spec.versions[0];
            assert!(
                v.subresources
                    .as_ref()
                    .and_then(|s| s.status.as_ref())
                    .is_some()
            );
            let schema = serde_json::to_value(v.schema.as_ref().unwrap()).unwrap();
            let spec = &schema["openAPIV3Schema"]["properties"]["spec"];
            assert!(
                spec["required"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r == "name"),
                "{spec}"
            );
        }
        let p = serde_json::to_value(Project::crd()).unwrap();
        assert_eq!(p["spec"]["names"]["shortNames"][0], "prj");
    }
}
