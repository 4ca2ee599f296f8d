//! `Engine`'s tenancy operations after creation: members and invitations, scoped kubeconfigs,
//! reading and deleting organizations, workspaces and projects, the application lifecycle,
//! usage and cost, reconcile. Entities cross as JSON text, like the creating calls.

use std::time::SystemTime;

use hxb_bindings_common::tenancy::{self, AppAction, At};

use crate::engine::{Engine, run, texts};
use crate::error::Res;

fn at<'a>(workspace: &'a Option<String>, project: &'a Option<String>) -> At<'a> {
    At {
        workspace: workspace.as_deref(),
        project: project.as_deref(),
    }
}

impl Engine {
    async fn change_app(&self, at: [String; 4], action: AppAction) -> Res<String> {
        let e = self.engine.clone();
        run(async move {
            let [o, w, p, n] = &at;
            tenancy::change_app(&e, [o, w, p, n], action).await
        })
        .await
        .map(|v| v.to_string())
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl Engine {
    /// Add (or change the role of) a member at the organization, a workspace or a project;
    /// returns the membership as JSON.
    #[uniffi::method(default(workspace = None, project = None))]
    pub async fn add_member(
        &self,
        org: String,
        subject: String,
        role: String,
        workspace: Option<String>,
        project: Option<String>,
    ) -> Res<String> {
        let e = self.engine.clone();
        run(async move {
            let at = at(&workspace, &project);
            tenancy::add_member(&e, &org, &subject, at, &role).await
        })
        .await
        .map(|v| v.to_string())
    }

    /// Remove a membership.
    #[uniffi::method(default(workspace = None, project = None))]
    pub async fn remove_member(
        &self,
        org: String,
        subject: String,
        workspace: Option<String>,
        project: Option<String>,
    ) -> Res<()> {
        let e = self.engine.clone();
        run(async move {
            tenancy::remove_member(&e, &org, &subject, at(&workspace, &project)).await
        })
        .await
    }

    /// The memberships of an organization (JSON each).
    pub async fn members(&self, org: String) -> Res<Vec<String>> {
        let e = self.engine.clone();
        run(async move { tenancy::members(&e, &org).await })
            .await
            .map(texts)
    }

    /// Invite a subject; returns the invitation (with its `token`) as JSON.
    #[uniffi::method(default(workspace = None, project = None, valid_for_seconds = None))]
    pub async fn invite(
        &self,
        org: String,
        subject: String,
        role: String,
        workspace: Option<String>,
        project: Option<String>,
        valid_for_seconds: Option<u64>,
    ) -> Res<String> {
        let e = self.engine.clone();
        run(async move {
            let at = at(&workspace, &project);
            tenancy::invite(&e, &org, &subject, at, &role, valid_for_seconds).await
        })
        .await
        .map(|v| v.to_string())
    }

    /// Accept an invitation by its token; returns the membership as JSON.
    pub async fn accept_invitation(&self, token: String) -> Res<String> {
        let e = self.engine.clone();
        run(async move { tenancy::accept_invitation(&e, &token).await })
            .await
            .map(|v| v.to_string())
    }

    /// A kubeconfig (YAML text) for a member, scoped to one workspace.
    #[uniffi::method(default(server = None, certificate_authority = None))]
    pub async fn scoped_kubeconfig(
        &self,
        org: String,
        workspace: String,
        subject: String,
        server: Option<String>,
        certificate_authority: Option<String>,
    ) -> Res<String> {
        let e = self.engine.clone();
        run(async move {
            let at = [&*org, &*workspace, &*subject];
            tenancy::scoped_kubeconfig(&e, at, server.as_deref(), certificate_authority.as_deref())
                .await
        })
        .await
    }

    /// One organization as JSON.
    pub async fn get_organization(&self, name: String) -> Res<String> {
        let e = self.engine.clone();
        run(async move { tenancy::organization(&e, &name).await })
            .await
            .map(|v| v.to_string())
    }

    /// Every organization (JSON each).
    pub async fn list_organizations(&self) -> Res<Vec<String>> {
        let e = self.engine.clone();
        run(async move { tenancy::organizations(&e).await })
            .await
            .map(texts)
    }

    /// Delete an organization (`cascade`: with everything in it); whether it is fully gone.
    #[uniffi::method(default(cascade = false))]
    pub async fn delete_organization(&self, name: String, cascade: bool) -> Res<bool> {
        let e = self.engine.clone();
        run(async move { tenancy::delete_organization(&e, &name, cascade).await }).await
    }

    /// One workspace as JSON.
    pub async fn get_workspace(&self, org: String, name: String) -> Res<String> {
        let e = self.engine.clone();
        run(async move { tenancy::workspace(&e, &org, &name).await })
            .await
            .map(|v| v.to_string())
    }

    /// The workspaces of an organization (JSON each).
    pub async fn list_workspaces(&self, org: String) -> Res<Vec<String>> {
        let e = self.engine.clone();
        run(async move { tenancy::workspaces(&e, &org).await })
            .await
            .map(texts)
    }

    /// Delete a workspace (`cascade`: with its projects); whether it is fully gone.
    #[uniffi::method(default(cascade = false))]
    pub async fn delete_workspace(&self, org: String, name: String, cascade: bool) -> Res<bool> {
        let e = self.engine.clone();
        run(async move { tenancy::delete_workspace(&e, &org, &name, cascade).await }).await
    }

    /// One project as JSON.
    pub async fn get_project(&self, org: String, workspace: String, name: String) -> Res<String> {
        let e = self.engine.clone();
        run(async move { tenancy::project(&e, &org, &workspace, &name).await })
            .await
            .map(|v| v.to_string())
    }

    /// The projects of a workspace (JSON each).
    pub async fn list_projects(&self, org: String, workspace: String) -> Res<Vec<String>> {
        let e = self.engine.clone();
        run(async move { tenancy::projects(&e, &org, &workspace).await })
            .await
            .map(texts)
    }

    /// Delete a project (`cascade`: with its sub-projects); whether it is fully gone.
    #[uniffi::method(default(cascade = false))]
    pub async fn delete_project(
        &self,
        org: String,
        workspace: String,
        name: String,
        cascade: bool,
    ) -> Res<bool> {
        let e = self.engine.clone();
        run(async move { tenancy::delete_project(&e, [&*org, &*workspace, &*name], cascade).await })
            .await
    }

    /// The applications of a project (JSON each).
    pub async fn list_apps(
        &self,
        org: String,
        workspace: String,
        project: String,
    ) -> Res<Vec<String>> {
        let e = self.engine.clone();
        run(async move { tenancy::apps(&e, [&*org, &*workspace, &*project]).await })
            .await
            .map(texts)
    }

    /// Set an application's replica count (quota-checked); returns it as JSON.
    pub async fn scale_app(
        &self,
        org: String,
        workspace: String,
        project: String,
        name: String,
        replicas: i32,
    ) -> Res<String> {
        self.change_app([org, workspace, project, name], AppAction::Scale(replicas))
            .await
    }

    /// Roll an application's pods; returns it as JSON.
    pub async fn restart_app(
        &self,
        org: String,
        workspace: String,
        project: String,
        name: String,
    ) -> Res<String> {
        self.change_app([org, workspace, project, name], AppAction::Restart)
            .await
    }

    /// Scale an application to zero, keeping its desired count; returns it as JSON.
    pub async fn stop_app(
        &self,
        org: String,
        workspace: String,
        project: String,
        name: String,
    ) -> Res<String> {
        self.change_app([org, workspace, project, name], AppAction::Stop)
            .await
    }

    /// Start a stopped application again; returns it as JSON.
    pub async fn start_app(
        &self,
        org: String,
        workspace: String,
        project: String,
        name: String,
    ) -> Res<String> {
        self.change_app([org, workspace, project, name], AppAction::Start)
            .await
    }

    /// Delete an application.
    pub async fn delete_app(
        &self,
        org: String,
        workspace: String,
        project: String,
        name: String,
    ) -> Res<()> {
        let e = self.engine.clone();
        run(async move { tenancy::delete_app(&e, [&*org, &*workspace, &*project, &*name]).await })
            .await
    }

    /// Sample every project's current usage into the usage ledger; the number of samples.
    pub async fn record_usage(&self) -> Res<u64> {
        let e = self.engine.clone();
        run(async move { tenancy::record_usage(&e).await.map(|n| n as u64) }).await
    }

    /// Usage and cost of an organization over `[from, to)`, by project, workspace and in
    /// total, as JSON.
    pub async fn usage(&self, org: String, from: SystemTime, to: SystemTime) -> Res<String> {
        let e = self.engine.clone();
        let (from, to) = (
            tenancy::from_system_time(from, "from")?,
            tenancy::from_system_time(to, "to")?,
        );
        run(async move { tenancy::usage(&e, &org, from, to).await })
            .await
            .map(|v| v.to_string())
    }

    /// Reconcile every tenant's desired state into the cluster; the report as JSON (`writes`
    /// is 0 when nothing had drifted).
    pub async fn reconcile(&self) -> Res<String> {
        let e = self.engine.clone();
        run(async move { tenancy::reconcile(&e).await })
            .await
            .map(|v| v.to_string())
    }
}
