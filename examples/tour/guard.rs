//! The remediation guard wired to the tenancy engine: RBAC from the tenancy's access checks,
//! quota raises through the project's quota within its workspace's headroom.

use std::sync::Arc;

use async_trait::async_trait;
use hxb::Tenancy;
use hxb::core::{OrgRole, Project, Role, Scope, Subject};
use hxb::prelude::*;
use hxb::tenancy::rbac::AccessRequest;
use hxb_ai::remediate::{Authorizer, PlatformActions};

/// Answers the guard's RBAC questions with [`Tenancy::check_access`]. Project quotas are not
/// namespace RBAC (no project role may edit them): they belong to the organization's owners
/// and admins, as in the tenancy engine's own API.
pub struct TenancyAuthorizer(pub Tenancy);

/// `(organization, workspace, project)` of the project whose namespace is `namespace`.
async fn project_of(t: &Tenancy, namespace: &str) -> Result<Option<(String, String, Project)>> {
    for org in t.organizations().await? {
        let org = org.name.to_string();
        for ws in t.workspaces(&org).await? {
            let ws = ws.name.to_string();
            for p in t.projects(&org, &ws).await? {
                if p.namespace == namespace {
                    return Ok(Some((org, ws, p)));
                }
            }
        }
    }
    Ok(None)
}

#[async_trait]
impl Authorizer for TenancyAuthorizer {
    async fn allows(
        &self,
        subject: &Subject,
        verb: &str,
        group: &str,
        resource: &str,
        namespace: Option<&str>,
    ) -> Result<bool> {
        if resource == "resourcequotas" && verb != "get" && verb != "list" {
            let Some((org, _, _)) = project_of(&self.0, namespace.unwrap_or("")).await? else {
                return Ok(false);
            };
            return Ok(self.0.members(&org).await?.iter().any(|m| {
                &m.subject == subject
                    && matches!(m.scope, Scope::Organization { .. })
                    && matches!(m.role, Role::Organization(OrgRole::Owner | OrgRole::Admin))
            }));
        }
        let req = AccessRequest::new(subject.as_str(), verb, group, resource, namespace);
        self.0.check_access(&req).await
    }
}

/// Quota raises on the project owning a namespace (function rollbacks are not part of the tour).
pub struct TenancyPlatform(pub Tenancy);

#[async_trait]
impl PlatformActions for TenancyPlatform {
    async fn raise_quota(
        &self,
        namespace: &str,
        add: &ResourceList,
        dry_run: bool,
    ) -> Result<String> {
        let t = &self.0;
        if let Some((org, ws, p)) = project_of(t, namespace).await? {
            let raised = p.quota.checked_add(add)?;
            let what = format!(
                "quota of {org}/{ws}/{}: {}",
                p.name,
                add.iter()
                    .map(|(k, _)| format!(
                        "{k} {} -> {}",
                        p.quota.get_or_zero(k.as_str()),
                        raised.get_or_zero(k.as_str())
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            if !dry_run {
                t.update_project(&org, &ws, p.name.as_str())
                    .quota(raised)
                    .execute()
                    .await?;
            }
            return Ok(what);
        }
        Err(Error::not_found("project namespace", namespace))
    }

    async fn rollback_function(
        &self,
        namespace: &str,
        function: &str,
        _to_version: Option<&str>,
        _dry_run: bool,
    ) -> Result<(String, u32)> {
        Err(Error::precondition(format!(
            "the tour has no functions ({namespace}/{function})"
        )))
    }
}

/// Both adapters as trait objects.
pub fn adapters(t: &Tenancy) -> (Arc<dyn Authorizer>, Arc<dyn PlatformActions>) {
    (
        Arc::new(TenancyAuthorizer(t.clone())),
        Arc::new(TenancyPlatform(t.clone())),
    )
}
