//! `Engine`'s tenancy operations after creation: members and invitations, scoped kubeconfigs,
//! reading and deleting organizations, workspaces and projects, the application lifecycle,
//! usage and cost, reconcile. Each one returns a Promise of plain data.

use hxb_bindings_common::tenancy::{self, AppAction, At};
use napi::Env;
use napi::bindgen_prelude::PromiseRaw;
use napi_derive::napi;
use serde_json::Value;

use crate::engine::{Engine, promise};
use crate::errors::IntoNapi;
use crate::values::int_arg;

/// Where a membership applies: the organization (no fields), a workspace, or a project of a
/// workspace.
#[napi(object)]
#[derive(Default)]
pub struct MemberScope {
    /// The workspace.
    pub workspace: Option<String>,
    /// The project (with `workspace`).
    pub project: Option<String>,
}

/// A role at a scope (`addMember`, `invite`).
#[napi(object)]
pub struct RoleAt {
    /// The role at the scope's level (e.g. `"admin"`, `"developer"`, `"viewer"`).
    pub role: String,
    /// The workspace (none: the organization).
    pub workspace: Option<String>,
    /// The project (with `workspace`).
    pub project: Option<String>,
    /// `invite` only: seconds the token stays valid (default 7 days).
    pub valid_for_seconds: Option<f64>,
}

/// Options of `scopedKubeconfig`.
#[napi(object)]
#[derive(Default)]
pub struct KubeconfigOptions {
    /// API server URL (default `https://kubernetes.default.svc`).
    pub server: Option<String>,
    /// Base64 PEM of the cluster CA.
    pub certificate_authority: Option<String>,
}

/// Options of the `delete*` entity calls.
#[napi(object)]
#[derive(Default)]
pub struct DeleteOptions {
    /// Also delete what the entity contains (default false: refused while it is not empty).
    pub cascade: Option<bool>,
}

fn at<'a>(workspace: &'a Option<String>, project: &'a Option<String>) -> At<'a> {
    At {
        workspace: workspace.as_deref(),
        project: project.as_deref(),
    }
}

fn cascade(o: Option<DeleteOptions>) -> bool {
    o.and_then(|o| o.cascade).unwrap_or(false)
}

impl Engine {
    fn change_app<'env>(
        &self,
        env: &'env Env,
        at: [String; 4],
        action: AppAction,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        let e = self.engine.clone();
        promise(env, async move {
            let [o, w, p, n] = &at;
            tenancy::change_app(&e, [o, w, p, n], action).await
        })
    }
}

#[napi]
impl Engine {
    /// Add (or change the role of) a member at the organization, a workspace or a project.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn add_member<'env>(
        &self,
        env: &'env Env,
        org: String,
        subject: String,
        role: RoleAt,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        let e = self.engine.clone();
        promise(env, async move {
            let at = at(&role.workspace, &role.project);
            tenancy::add_member(&e, &org, &subject, at, &role.role).await
        })
    }

    /// Remove a membership.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn remove_member<'env>(
        &self,
        env: &'env Env,
        org: String,
        subject: String,
        scope: Option<MemberScope>,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        let e = self.engine.clone();
        let s = scope.unwrap_or_default();
        promise(env, async move {
            tenancy::remove_member(&e, &org, &subject, at(&s.workspace, &s.project)).await
        })
    }

    /// The memberships of an organization.
    #[napi(ts_return_type = "Promise<Array<any>>")]
    pub fn members<'env>(
        &self,
        env: &'env Env,
        org: String,
    ) -> napi::Result<PromiseRaw<'env, Vec<Value>>> {
        let e = self.engine.clone();
        promise(env, async move { tenancy::members(&e, &org).await })
    }

    /// Invite a subject; resolves to the invitation with its `token`.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn invite<'env>(
        &self,
        env: &'env Env,
        org: String,
        subject: String,
        role: RoleAt,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        let e = self.engine.clone();
        let secs = role
            .valid_for_seconds
            .map(|v| {
                let n = int_arg(v, "validForSeconds")?;
                u64::try_from(n)
                    .map_err(|_| hxb::Error::invalid("validForSeconds", "must not be negative"))
                    .napi()
            })
            .transpose()?;
        promise(env, async move {
            let at = at(&role.workspace, &role.project);
            tenancy::invite(&e, &org, &subject, at, &role.role, secs).await
        })
    }

    /// Accept an invitation by its token; resolves to the membership.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn accept_invitation<'env>(
        &self,
        env: &'env Env,
        token: String,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        let e = self.engine.clone();
        promise(
            env,
            async move { tenancy::accept_invitation(&e, &token).await },
        )
    }

    /// A kubeconfig (YAML text) for a member, scoped to one workspace.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn scoped_kubeconfig<'env>(
        &self,
        env: &'env Env,
        org: String,
        workspace: String,
        subject: String,
        options: Option<KubeconfigOptions>,
    ) -> napi::Result<PromiseRaw<'env, String>> {
        let e = self.engine.clone();
        let o = options.unwrap_or_default();
        promise(env, async move {
            let at = [&*org, &*workspace, &*subject];
            let (server, ca) = (o.server.as_deref(), o.certificate_authority.as_deref());
            tenancy::scoped_kubeconfig(&e, at, server, ca).await
        })
    }

    /// One organization.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn get_organization<'env>(
        &self,
        env: &'env Env,
        name: String,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        let e = self.engine.clone();
        promise(env, async move { tenancy::organization(&e, &name).await })
    }

    /// Every organization.
    #[napi(ts_return_type = "Promise<Array<any>>")]
    pub fn list_organizations<'env>(
        &self,
        env: &'env Env,
    ) -> napi::Result<PromiseRaw<'env, Vec<Value>>> {
        let e = self.engine.clone();
        promise(env, async move { tenancy::organizations(&e).await })
    }

    /// Delete an organization (`{cascade: true}`: with everything in it); resolves to whether
    /// it is fully gone.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn delete_organization<'env>(
        &self,
        env: &'env Env,
        name: String,
        options: Option<DeleteOptions>,
    ) -> napi::Result<PromiseRaw<'env, bool>> {
        let e = self.engine.clone();
        let c = cascade(options);
        promise(env, async move {
            tenancy::delete_organization(&e, &name, c).await
        })
    }

    /// One workspace.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn get_workspace<'env>(
        &self,
        env: &'env Env,
        org: String,
        name: String,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        let e = self.engine.clone();
        promise(
            env,
            async move { tenancy::workspace(&e, &org, &name).await },
        )
    }

    /// The workspaces of an organization.
    #[napi(ts_return_type = "Promise<Array<any>>")]
    pub fn list_workspaces<'env>(
        &self,
        env: &'env Env,
        org: String,
    ) -> napi::Result<PromiseRaw<'env, Vec<Value>>> {
        let e = self.engine.clone();
        promise(env, async move { tenancy::workspaces(&e, &org).await })
    }

    /// Delete a workspace (`{cascade: true}`: with its projects); resolves to whether it
    /// is fully gone.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn delete_workspace<'env>(
        &self,
        env: &'env Env,
        org: String,
        name: String,
        options: Option<DeleteOptions>,
    ) -> napi::Result<PromiseRaw<'env, bool>> {
        let e = self.engine.clone();
        let c = cascade(options);
        promise(env, async move {
            tenancy::delete_workspace(&e, &org, &name, c).await
        })
    }

    /// One project.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn get_project<'env>(
        &self,
        env: &'env Env,
        org: String,
        workspace: String,
        name: String,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        let e = self.engine.clone();
        promise(env, async move {
            tenancy::project(&e, &org, &workspace, &name).await
        })
    }

    /// The projects of a workspace.
    #[napi(ts_return_type = "Promise<Array<any>>")]
    pub fn list_projects<'env>(
        &self,
        env: &'env Env,
        org: String,
        workspace: String,
    ) -> napi::Result<PromiseRaw<'env, Vec<Value>>> {
        let e = self.engine.clone();
        promise(
            env,
            async move { tenancy::projects(&e, &org, &workspace).await },
        )
    }

    /// Delete a project (`{cascade: true}`: with its sub-projects); resolves to whether it
    /// is fully gone.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn delete_project<'env>(
        &self,
        env: &'env Env,
        org: String,
        workspace: String,
        name: String,
        options: Option<DeleteOptions>,
    ) -> napi::Result<PromiseRaw<'env, bool>> {
        let e = self.engine.clone();
        let c = cascade(options);
        promise(env, async move {
            tenancy::delete_project(&e, [&*org, &*workspace, &*name], c).await
        })
    }

    /// The applications of a project.
    #[napi(ts_return_type = "Promise<Array<any>>")]
    pub fn list_apps<'env>(
        &self,
        env: &'env Env,
        org: String,
        workspace: String,
        project: String,
    ) -> napi::Result<PromiseRaw<'env, Vec<Value>>> {
        let e = self.engine.clone();
        promise(env, async move {
            tenancy::apps(&e, [&*org, &*workspace, &*project]).await
        })
    }

    /// Set an application's replica count (quota-checked).
    #[napi(ts_return_type = "Promise<any>")]
    pub fn scale_app<'env>(
        &self,
        env: &'env Env,
        org: String,
        workspace: String,
        project: String,
        name: String,
        replicas: f64,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        let n = int_arg(replicas, "replicas")?;
        let n = i32::try_from(n)
            .map_err(|_| hxb::Error::invalid("replicas", format!("{n} is out of range")))
            .napi()?;
        self.change_app(env, [org, workspace, project, name], AppAction::Scale(n))
    }

    /// Roll an application's pods.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn restart_app<'env>(
        &self,
        env: &'env Env,
        org: String,
        workspace: String,
        project: String,
        name: String,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.change_app(env, [org, workspace, project, name], AppAction::Restart)
    }

    /// Scale an application to zero, keeping its desired count.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn stop_app<'env>(
        &self,
        env: &'env Env,
        org: String,
        workspace: String,
        project: String,
        name: String,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.change_app(env, [org, workspace, project, name], AppAction::Stop)
    }

    /// Start a stopped application again.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn start_app<'env>(
        &self,
        env: &'env Env,
        org: String,
        workspace: String,
        project: String,
        name: String,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.change_app(env, [org, workspace, project, name], AppAction::Start)
    }

    /// Delete an application.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn delete_app<'env>(
        &self,
        env: &'env Env,
        org: String,
        workspace: String,
        project: String,
        name: String,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        let e = self.engine.clone();
        promise(env, async move {
            tenancy::delete_app(&e, [&*org, &*workspace, &*project, &*name]).await
        })
    }

    /// Sample every project's current usage into the usage ledger; resolves to the number of
    /// samples.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn record_usage<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, u32>> {
        let e = self.engine.clone();
        promise(env, async move {
            let n = tenancy::record_usage(&e).await?;
            Ok(u32::try_from(n).unwrap_or(u32::MAX))
        })
    }

    /// Usage and cost of an organization over `[from, to)` (RFC 3339 text, e.g.
    /// `date.toISOString()`), by project, workspace and in total.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn usage<'env>(
        &self,
        env: &'env Env,
        org: String,
        from: String,
        to: String,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        let e = self.engine.clone();
        promise(env, async move {
            let (from, to) = (
                tenancy::timestamp(&from, "from")?,
                tenancy::timestamp(&to, "to")?,
            );
            tenancy::usage(&e, &org, from, to).await
        })
    }

    /// Reconcile every tenant's desired state into the cluster; resolves to the report
    /// (`writes` is 0 when nothing had drifted).
    #[napi(ts_return_type = "Promise<any>")]
    pub fn reconcile<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, Value>> {
        let e = self.engine.clone();
        promise(env, async move { tenancy::reconcile(&e).await })
    }
}
