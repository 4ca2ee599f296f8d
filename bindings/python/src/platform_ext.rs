//! `hxb._native.Backups`: backup and restore of projects into a snapshot directory, the
//! handle `Engine.backups(directory)` returns (see `hxb.Backups` in the stubs). The engine's
//! own backup, policy and fleet methods are in [`crate::engine`] (one `#[pymethods]` block per
//! class).

use std::time::Duration;

use hxb_bindings_common::platform_ext::backup::{self, BackupSet, PolicyOptions};
use pyo3::prelude::*;

use crate::convert::Json;
use crate::errors::Res;
use crate::runtime::run;

/// Backup and restore with snapshots as files in one directory.
#[pyclass(module = "hxb._native", frozen)]
pub struct Backups {
    pub(crate) set: BackupSet,
    pub(crate) directory: String,
}

type Into3 = Option<(String, String, String)>;

impl Backups {
    async fn restore_into(&self, id: String, into: Into3, dry_run: bool) -> Res<Json> {
        let b = self.set.clone();
        let fut = async move {
            let into = into.as_ref().map(|(o, w, p)| [&**o, &**w, &**p]);
            backup::restore(&b, &id, into, dry_run).await
        };
        Ok(Json(run(fut).await?))
    }
}

#[pymethods]
impl Backups {
    /// Snapshot a project (only `apps` and what they own when given); the summary.
    #[pyo3(signature = (org, workspace, project, *, apps=None, include_secrets=false))]
    async fn snapshot(
        &self,
        org: String,
        workspace: String,
        project: String,
        apps: Option<Vec<String>>,
        include_secrets: bool,
    ) -> Res<Json> {
        let b = self.set.clone();
        let fut = async move {
            let at = [&*org, &*workspace, &*project];
            backup::snapshot(&b, at, apps, include_secrets).await
        };
        Ok(Json(run(fut).await?))
    }

    /// The snapshots of a project, oldest first.
    async fn list(&self, org: String, workspace: String, project: String) -> Res<Vec<Json>> {
        let b = self.set.clone();
        let fut = async move { backup::list(&b, [&*org, &*workspace, &*project]).await };
        Ok(run(fut).await?.into_iter().map(Json).collect())
    }

    /// Delete a snapshot.
    async fn delete(&self, id: String) -> Res<()> {
        let b = self.set.clone();
        run(async move { backup::delete(&b, &id).await }).await
    }

    /// What restoring snapshot `id` (into its project, or `into=(org, workspace, project)`)
    /// would do; changes nothing.
    #[pyo3(signature = (id, *, into=None))]
    async fn plan_restore(&self, id: String, into: Into3) -> Res<Json> {
        self.restore_into(id, into, true).await
    }

    /// Restore snapshot `id` (into its project, or `into=(org, workspace, project)`); a
    /// conflict or a quota excess refuses the whole restore with nothing changed.
    #[pyo3(signature = (id, *, into=None))]
    async fn restore(&self, id: String, into: Into3) -> Res<Json> {
        self.restore_into(id, into, false).await
    }

    /// Set (or replace) the backup policy of an application.
    #[pyo3(signature = (org, workspace, project, app, *, schedule, keep_last=None, max_age=None, include_secrets=false))]
    #[allow(clippy::too_many_arguments)] // keyword-only arguments of the Python API
    async fn set_policy(
        &self,
        org: String,
        workspace: String,
        project: String,
        app: String,
        schedule: String,
        keep_last: Option<u32>,
        max_age: Option<Duration>,
        include_secrets: bool,
    ) -> Res<Json> {
        let b = self.set.clone();
        let opts = PolicyOptions {
            schedule,
            keep_last,
            max_age_secs: max_age.map(|d| d.as_secs()),
            include_secrets,
        };
        let fut = async move {
            let at = [&*org, &*workspace, &*project, &*app];
            backup::set_policy(&b, at, opts).await
        };
        Ok(Json(run(fut).await?))
    }

    /// The backup policies of an organization.
    async fn policies(&self, org: String) -> Res<Vec<Json>> {
        let b = self.set.clone();
        let fut = async move { backup::policies(&b, &org).await };
        Ok(run(fut).await?.into_iter().map(Json).collect())
    }

    /// Remove an application's backup policy (its snapshots stay).
    async fn remove_policy(
        &self,
        org: String,
        workspace: String,
        project: String,
        app: String,
    ) -> Res<()> {
        let b = self.set.clone();
        let fut =
            async move { backup::remove_policy(&b, [&*org, &*workspace, &*project, &*app]).await };
        run(fut).await
    }

    /// One scheduling pass at the engine clock's now: take the due policy snapshots, prune.
    async fn run_due(&self) -> Res<Json> {
        let b = self.set.clone();
        Ok(Json(run(async move { backup::run_due(&b).await }).await?))
    }

    fn __repr__(&self) -> String {
        format!("Backups(directory={:?})", self.directory)
    }
}
