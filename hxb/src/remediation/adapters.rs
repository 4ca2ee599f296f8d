//! The remediation guard's two ports implemented over the tenancy engine: RBAC questions
//! answered by [`Tenancy::check_access`], quota raises and function rollbacks done by the
//! tenancy's own operations.

use async_trait::async_trait;
use hxb_ai::remediate::{Authorizer, PlatformActions};
use hxb_core::{Error, OrgRole, Project, ResourceList, Result, Role, Scope, Subject};
use hxb_tenancy::Tenancy;
use hxb_tenancy::apps::AppKind;
use hxb_tenancy::rbac::AccessRequest;

/// The actor recorded in the tenancy's audit log for changes the guard makes.
const ACTOR: &str = "remediation";

/// Answers the guard's RBAC questions with [`Tenancy::check_access`] (the same role model as
/// every other engine operation: an agent acting for a user can never do more than that
/// user). Project quotas are not namespace RBAC (no project role may edit them): they belong
/// to the organization's owners and admins, as in the tenancy's own API.
#[derive(Clone)]
pub struct TenancyAuthorizer(pub Tenancy);

impl std::fmt::Debug for TenancyAuthorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TenancyAuthorizer")
    }
}

/// `(organization, workspace, project)` of the project whose namespace is `namespace`.
pub(crate) async fn project_of(
    t: &Tenancy,
    namespace: &str,
) -> Result<Option<(String, String, Project)>> {
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

/// Quota raises (within the workspace's headroom: the tenancy refuses more with
/// `QuotaExceeded`) and function rollbacks on the project owning a namespace.
#[derive(Clone)]
pub struct TenancyPlatform(pub Tenancy);

impl std::fmt::Debug for TenancyPlatform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TenancyPlatform")
    }
}

async fn owning_project(t: &Tenancy, namespace: &str) -> Result<(String, String, Project)> {
    project_of(t, namespace)
        .await?
        .ok_or_else(|| Error::not_found("project namespace", namespace))
}

#[async_trait]
impl PlatformActions for TenancyPlatform {
    async fn raise_quota(
        &self,
        namespace: &str,
        add: &ResourceList,
        dry_run: bool,
    ) -> Result<String> {
        let t = &self.0;
        let (org, ws, p) = owning_project(t, namespace).await?;
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
        Ok(what)
    }

    async fn rollback_function(
        &self,
        namespace: &str,
        function: &str,
        to_version: Option<&str>,
        dry_run: bool,
    ) -> Result<(String, u32)> {
        let t = &self.0;
        let (org, ws, p) = owning_project(t, namespace).await?;
        let app = t
            .apps(&org, &ws, p.name.as_str())
            .await?
            .into_iter()
            .find(|a| a.name.as_str() == function)
            .ok_or_else(|| Error::not_found("function", format!("{namespace}/{function}")))?;
        let AppKind::Function { versions, active } = &app.kind else {
            return Err(Error::invalid(
                "function",
                format!("{namespace}/{function} is not a function"),
            ));
        };
        let target = match to_version {
            Some(v) => v.parse::<usize>().map_err(|_| {
                Error::invalid("to_version", format!("{v:?} is not a version number"))
            })?,
            None if *active > 1 => active - 1,
            None => {
                return Err(Error::precondition(format!(
                    "function {namespace}/{function} has no version before {active}"
                )));
            }
        };
        if target == 0 || target > versions.len() {
            return Err(Error::invalid(
                "to_version",
                format!("{target} is not one of 1..={}", versions.len()),
            ));
        }
        if target == *active {
            return Err(Error::precondition(format!(
                "version {target} of {namespace}/{function} is already active"
            )));
        }
        let pods = u32::try_from(app.effective_replicas().max(0)).unwrap_or(0);
        let what = format!(
            "function {namespace}/{function}: version {active} -> {target} ({}), {pods} pod(s) replaced",
            versions[target - 1]
        );
        if !dry_run {
            t.rollback_function(&org, &ws, p.name.as_str(), function, target)
                .actor(ACTOR)
                .execute()
                .await?;
        }
        Ok((what, pods))
    }
}
