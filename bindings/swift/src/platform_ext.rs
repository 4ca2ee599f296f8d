//! The facade's optional parts on `Engine`: backup and restore (the `Backups` object of
//! `engine.backups(directory:)`), plan policy (manifest review and admission, a workspace's
//! Pod Security Standards level) and the multi-cluster fleet (members of
//! `Engine.open(options:)`'s `fleet`, placement, load, moves). Data crosses as JSON text.

use std::collections::HashMap;
use std::sync::Arc;

use hxb_bindings_common::join_error;
use hxb_bindings_common::platform_ext::backup::{self, BackupSet, PolicyOptions};
use hxb_bindings_common::platform_ext::fleet::{self, FleetMemberOptions, Placement};
use hxb_bindings_common::platform_ext::policy;

use crate::engine::{Engine, parse, run, text, texts};
use crate::error::{HxbError, Res, guard};

/// A member cluster of an engine's fleet (`EngineOptions.fleet`): an embedded cluster of
/// `nodes` nodes, or a kubeconfig context when `kubeconfig` is set.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct FleetMember {
    /// The member's name in the fleet (a DNS label).
    pub name: String,
    /// Nodes of an embedded member (default 3).
    #[uniffi(default = None)]
    pub nodes: Option<u32>,
    /// A kubeconfig file: the member is that real cluster.
    #[uniffi(default = None)]
    pub kubeconfig: Option<String>,
    /// The kubeconfig context (default: the file's current context).
    #[uniffi(default = None)]
    pub context: Option<String>,
    /// The region label (`topology.kubernetes.io/region`).
    #[uniffi(default = None)]
    pub region: Option<String>,
    /// Other labels placement can match.
    #[uniffi(default = None)]
    pub labels: Option<HashMap<String, String>>,
    /// Reserve the member for one organization.
    #[uniffi(default = None)]
    pub dedicated_to: Option<String>,
}

impl From<FleetMember> for FleetMemberOptions {
    fn from(m: FleetMember) -> Self {
        FleetMemberOptions {
            name: m.name,
            nodes: m.nodes,
            kubeconfig: m.kubeconfig,
            context: m.context,
            region: m.region,
            labels: m.labels.unwrap_or_default().into_iter().collect(),
            dedicated_to: m.dedicated_to,
        }
    }
}

/// A project (to restore into).
#[derive(Debug, Clone, uniffi::Record)]
pub struct ProjectRef {
    /// Organization.
    pub org: String,
    /// Workspace.
    pub workspace: String,
    /// Project.
    pub project: String,
}

/// Backup and restore of projects, snapshots as files in one directory
/// (`engine.backups(directory:)`).
#[derive(Debug, uniffi::Object)]
pub struct Backups {
    set: BackupSet,
}

impl Backups {
    async fn restore_with(
        &self,
        id: String,
        into: Option<ProjectRef>,
        dry_run: bool,
    ) -> Res<String> {
        let b = self.set.clone();
        run(async move {
            let into = into.as_ref().map(|p| [&*p.org, &*p.workspace, &*p.project]);
            backup::restore(&b, &id, into, dry_run).await
        })
        .await
        .map(text)
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl Backups {
    /// Snapshot a project (only `apps` and what they own when given); the summary as JSON
    /// (`{id, meta, apps, objects, hash}`).
    #[uniffi::method(default(apps = None, include_secrets = false))]
    pub async fn snapshot(
        &self,
        org: String,
        workspace: String,
        project: String,
        apps: Option<Vec<String>>,
        include_secrets: bool,
    ) -> Res<String> {
        let b = self.set.clone();
        run(async move {
            let at = [&*org, &*workspace, &*project];
            backup::snapshot(&b, at, apps, include_secrets).await
        })
        .await
        .map(text)
    }

    /// The snapshots of a project, oldest first (summaries as JSON).
    pub async fn list(&self, org: String, workspace: String, project: String) -> Res<Vec<String>> {
        let b = self.set.clone();
        run(async move { backup::list(&b, [&*org, &*workspace, &*project]).await })
            .await
            .map(texts)
    }

    /// Delete a snapshot.
    pub async fn delete(&self, id: String) -> Res<()> {
        let b = self.set.clone();
        run(async move { backup::delete(&b, &id).await }).await
    }

    /// What restoring snapshot `id` (into its project, or `into`) would do, as JSON
    /// (`{plan, counts, applied: false}`); changes nothing.
    #[uniffi::method(default(into = None))]
    pub async fn plan_restore(&self, id: String, into: Option<ProjectRef>) -> Res<String> {
        self.restore_with(id, into, true).await
    }

    /// Restore snapshot `id` (into its project, or `into`); a conflict or a quota excess
    /// refuses the whole restore with nothing changed.
    #[uniffi::method(default(into = None))]
    pub async fn restore(&self, id: String, into: Option<ProjectRef>) -> Res<String> {
        self.restore_with(id, into, false).await
    }

    /// Set (or replace) the backup policy of an application; the policy as JSON.
    #[uniffi::method(default(keep_last = None, max_age_seconds = None, include_secrets = false))]
    #[allow(clippy::too_many_arguments)] // labelled arguments of the Swift API
    pub async fn set_policy(
        &self,
        org: String,
        workspace: String,
        project: String,
        app: String,
        schedule: String,
        keep_last: Option<u32>,
        max_age_seconds: Option<u64>,
        include_secrets: bool,
    ) -> Res<String> {
        let b = self.set.clone();
        let opts = PolicyOptions {
            schedule,
            keep_last,
            max_age_secs: max_age_seconds,
            include_secrets,
        };
        run(async move {
            let at = [&*org, &*workspace, &*project, &*app];
            backup::set_policy(&b, at, opts).await
        })
        .await
        .map(text)
    }

    /// The backup policies of an organization (JSON).
    pub async fn policies(&self, org: String) -> Res<Vec<String>> {
        let b = self.set.clone();
        run(async move { backup::policies(&b, &org).await })
            .await
            .map(texts)
    }

    /// Remove an application's backup policy (its snapshots stay).
    pub async fn remove_policy(
        &self,
        org: String,
        workspace: String,
        project: String,
        app: String,
    ) -> Res<()> {
        let b = self.set.clone();
        run(async move { backup::remove_policy(&b, [&*org, &*workspace, &*project, &*app]).await })
            .await
    }

    /// One scheduling pass at the engine clock's now: `{taken, pruned, failed}` as JSON.
    pub async fn run_due(&self) -> Res<String> {
        let b = self.set.clone();
        run(async move { backup::run_due(&b).await })
            .await
            .map(text)
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl Engine {
    /// Backup and restore with snapshots as files in `directory` (created if missing).
    pub fn backups(&self, directory: String) -> Res<Arc<Backups>> {
        let set = guard(|| backup::open(&self.engine, &directory))?;
        Ok(Arc::new(Backups { set }))
    }

    /// What the engine's admission says about a JSON manifest (its workspace plan's policy),
    /// as JSON: `{governed, admitted, plan, level, violations: [{object, path, message}], …}`;
    /// writes nothing.
    pub async fn check_manifest(&self, manifest_json: String) -> Res<String> {
        let (e, m) = (self.engine.clone(), parse(&manifest_json, "manifest")?);
        run(async move { policy::check_manifest(&e, m).await })
            .await
            .map(text)
    }

    /// Admit a JSON manifest as `create`/`apply` would, writing nothing: the review as JSON,
    /// or `HxbError.Forbidden` whose `detailsJson` has `violations` with each field path.
    pub async fn admit_manifest(&self, manifest_json: String) -> Res<String> {
        let (e, m) = (self.engine.clone(), parse(&manifest_json, "manifest")?);
        let outcome = tokio::spawn(async move { policy::admit_manifest(&e, m).await })
            .await
            .map_err(join_error)?;
        outcome.map(text).map_err(HxbError::from)
    }

    /// The policy of a workspace's plan as JSON (`level`, `labels`, registries…).
    pub async fn workspace_policy(&self, org: String, workspace: String) -> Res<String> {
        let e = self.engine.clone();
        run(async move { policy::workspace_policy(&e, &org, &workspace).await })
            .await
            .map(text)
    }

    /// Place a workspace on a fleet member; the member's name.
    #[uniffi::method(default(region = None, require = None, prefer = None, cluster = None))]
    pub async fn place_workspace(
        &self,
        org: String,
        workspace: String,
        region: Option<String>,
        require: Option<String>,
        prefer: Option<String>,
        cluster: Option<String>,
    ) -> Res<String> {
        let e = self.engine.clone();
        let at = Placement {
            region,
            require,
            prefer,
            cluster,
        };
        run(async move { fleet::place_workspace(&e, &org, &workspace, at).await }).await
    }

    /// The fleet's members with their load (`allocatable`, `used`, `free`, `workspaces`), as
    /// JSON.
    pub async fn fleet_members(&self) -> Res<Vec<String>> {
        let e = self.engine.clone();
        run(async move { fleet::members(&e).await })
            .await
            .map(texts)
    }

    /// Where a workspace is placed, as JSON (`nil`: not yet).
    pub fn workspace_assignment(&self, org: String, workspace: String) -> Res<Option<String>> {
        Ok(guard(|| fleet::assignment(&self.engine, &org, &workspace))?.map(text))
    }

    /// Move a workspace with its namespaces and applications to fleet member `target`; the
    /// report as JSON. A target without room or not allowed is refused with nothing changed.
    pub async fn move_workspace(
        &self,
        org: String,
        workspace: String,
        target: String,
    ) -> Res<String> {
        let e = self.engine.clone();
        run(async move { fleet::move_workspace(&e, &org, &workspace, &target).await })
            .await
            .map(text)
    }
}
