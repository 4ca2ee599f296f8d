//! The facade's optional parts on `Engine`: backup and restore (the `Backups` handle of
//! `engine.backups(directory)`), plan policy (manifest review and admission, a workspace's
//! Pod Security Standards level) and the multi-cluster fleet (members of `Engine.open({fleet})`,
//! placement, load, moves). Each async call returns a Promise of plain data.

use std::collections::HashMap;

use hxb_bindings_common::platform_ext::backup::{self, BackupSet, PolicyOptions};
use hxb_bindings_common::platform_ext::fleet::{self, FleetMemberOptions, Placement};
use hxb_bindings_common::platform_ext::policy;
use hxb_bindings_common::{ErrorInfo, join_error};
use napi::Env;
use napi::bindgen_prelude::PromiseRaw;
use napi_derive::napi;
use serde_json::Value;

use crate::engine::{Engine, promise};
use crate::errors::{guard, info_to_napi, to_napi};
use crate::values::int_in;

/// A member cluster of `Engine.open({fleet})`: an embedded cluster of `nodes` nodes, or a
/// kubeconfig context when `kubeconfig` is set.
#[napi(object)]
pub struct FleetMember {
    /// The member's name in the fleet (a DNS label).
    pub name: String,
    /// Nodes of an embedded member (default 3).
    pub nodes: Option<f64>,
    /// A kubeconfig file: the member is that real cluster.
    pub kubeconfig: Option<String>,
    /// The kubeconfig context (default: the file's current context).
    pub context: Option<String>,
    /// The region label (`topology.kubernetes.io/region`).
    pub region: Option<String>,
    /// Other labels placement can match.
    pub labels: Option<HashMap<String, String>>,
    /// Reserve the member for one organization.
    pub dedicated_to: Option<String>,
}

/// The plain-data members of `Engine.open`'s `fleet` option.
pub(crate) fn fleet_members(
    list: Option<Vec<FleetMember>>,
) -> napi::Result<Vec<FleetMemberOptions>> {
    let mut out = Vec::new();
    for m in list.unwrap_or_default() {
        let nodes = int_in(m.nodes, "fleet.nodes")?;
        out.push(FleetMemberOptions {
            name: m.name,
            nodes,
            kubeconfig: m.kubeconfig,
            context: m.context,
            region: m.region,
            labels: m.labels.unwrap_or_default().into_iter().collect(),
            dedicated_to: m.dedicated_to,
        });
    }
    Ok(out)
}

/// Options of `placeWorkspace`.
#[napi(object)]
#[derive(Default)]
pub struct PlaceOptions {
    /// Required region.
    pub region: Option<String>,
    /// Required cluster labels, as a label selector (`tier=gold`).
    pub require: Option<String>,
    /// Preferred cluster labels, as a label selector.
    pub prefer: Option<String>,
    /// This member exactly.
    pub cluster: Option<String>,
}

/// A project to restore into.
#[napi(object)]
pub struct ProjectRef {
    /// Organization.
    pub org: String,
    /// Workspace.
    pub workspace: String,
    /// Project.
    pub project: String,
}

/// Options of `Backups.planRestore` / `restore`.
#[napi(object)]
#[derive(Default)]
pub struct RestoreOptions {
    /// Restore into this project instead of the snapshot's own.
    pub into: Option<ProjectRef>,
}

/// Options of `Backups.snapshot`.
#[napi(object)]
#[derive(Default)]
pub struct SnapshotOptions {
    /// Only these applications (and what they own).
    pub apps: Option<Vec<String>>,
    /// Include Secrets (default false).
    pub include_secrets: Option<bool>,
}

/// A backup policy (`Backups.setPolicy`).
#[napi(object)]
pub struct BackupPolicyOptions {
    /// Five-field cron schedule in UTC (`"0 3 * * *"`, `"@daily"`).
    pub schedule: String,
    /// Keep at most this many snapshots.
    pub keep_last: Option<f64>,
    /// Prune snapshots older than this many seconds.
    pub max_age_seconds: Option<f64>,
    /// Include the application's Secrets (default false).
    pub include_secrets: Option<bool>,
}

/// Backup and restore of projects, snapshots as files in one directory
/// (`engine.backups(directory)`).
#[napi]
pub struct Backups {
    set: BackupSet,
}

#[napi]
impl Backups {
    /// Snapshot a project; resolves to the snapshot's summary (`{id, meta, apps, objects,
    /// hash}`).
    #[napi(ts_return_type = "Promise<any>")]
    pub fn snapshot<'env>(
        &self,
        env: &'env Env,
        org: String,
        workspace: String,
        project: String,
        options: Option<SnapshotOptions>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        let b = self.set.clone();
        let o = options.unwrap_or_default();
        promise(env, async move {
            let at = [&*org, &*workspace, &*project];
            backup::snapshot(&b, at, o.apps, o.include_secrets.unwrap_or(false)).await
        })
    }

    /// The snapshots of a project, oldest first.
    #[napi(ts_return_type = "Promise<Array<any>>")]
    pub fn list<'env>(
        &self,
        env: &'env Env,
        org: String,
        workspace: String,
        project: String,
    ) -> napi::Result<PromiseRaw<'env, Vec<Value>>> {
        let b = self.set.clone();
        promise(env, async move {
            backup::list(&b, [&*org, &*workspace, &*project]).await
        })
    }

    /// Delete a snapshot.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn delete<'env>(&self, env: &'env Env, id: String) -> napi::Result<PromiseRaw<'env, ()>> {
        let b = self.set.clone();
        promise(env, async move { backup::delete(&b, &id).await })
    }

    /// What restoring snapshot `id` would do (`{plan, counts, applied: false}`); changes
    /// nothing.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn plan_restore<'env>(
        &self,
        env: &'env Env,
        id: String,
        options: Option<RestoreOptions>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.restore_with(env, id, options, true)
    }

    /// Restore snapshot `id`; a conflict or a quota excess refuses the whole restore with
    /// nothing changed.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn restore<'env>(
        &self,
        env: &'env Env,
        id: String,
        options: Option<RestoreOptions>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.restore_with(env, id, options, false)
    }

    /// Set (or replace) the backup policy of an application; resolves to the policy.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn set_policy<'env>(
        &self,
        env: &'env Env,
        org: String,
        workspace: String,
        project: String,
        app: String,
        policy: BackupPolicyOptions,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        let b = self.set.clone();
        let keep_last = int_in(policy.keep_last, "keepLast")?;
        let opts = PolicyOptions {
            schedule: policy.schedule,
            keep_last,
            max_age_secs: int_in(policy.max_age_seconds, "maxAgeSeconds")?,
            include_secrets: policy.include_secrets.unwrap_or(false),
        };
        promise(env, async move {
            let at = [&*org, &*workspace, &*project, &*app];
            backup::set_policy(&b, at, opts).await
        })
    }

    /// The backup policies of an organization.
    #[napi(ts_return_type = "Promise<Array<any>>")]
    pub fn policies<'env>(
        &self,
        env: &'env Env,
        org: String,
    ) -> napi::Result<PromiseRaw<'env, Vec<Value>>> {
        let b = self.set.clone();
        promise(env, async move { backup::policies(&b, &org).await })
    }

    /// Remove an application's backup policy (its snapshots stay).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn remove_policy<'env>(
        &self,
        env: &'env Env,
        org: String,
        workspace: String,
        project: String,
        app: String,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        let b = self.set.clone();
        promise(env, async move {
            backup::remove_policy(&b, [&*org, &*workspace, &*project, &*app]).await
        })
    }

    /// One scheduling pass at the engine clock's now: `{taken, pruned, failed}`.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn run_due<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, Value>> {
        let b = self.set.clone();
        promise(env, async move { backup::run_due(&b).await })
    }
}

impl Backups {
    fn restore_with<'env>(
        &self,
        env: &'env Env,
        id: String,
        options: Option<RestoreOptions>,
        dry_run: bool,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        let b = self.set.clone();
        let into = options.unwrap_or_default().into;
        promise(env, async move {
            let into = into.as_ref().map(|p| [&*p.org, &*p.workspace, &*p.project]);
            backup::restore(&b, &id, into, dry_run).await
        })
    }
}

#[napi]
impl Engine {
    /// Backup and restore with snapshots as files in `directory` (created if missing).
    #[napi]
    pub fn backups(&self, directory: String) -> napi::Result<Backups> {
        let set = guard(|| backup::open(&self.engine, &directory))?;
        Ok(Backups { set })
    }

    /// What the engine's admission says about a manifest (its workspace plan's policy):
    /// `{governed, admitted, plan, level, violations: [{object, path, message}], …}`; writes
    /// nothing.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn check_manifest<'env>(
        &self,
        env: &'env Env,
        manifest: Value,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        let e = self.engine.clone();
        promise(
            env,
            async move { policy::check_manifest(&e, manifest).await },
        )
    }

    /// Admit a manifest as `create`/`apply` would, writing nothing: the review, or a
    /// `ForbiddenError` whose `details.violations` lists each field path.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn admit_manifest<'env>(
        &self,
        env: &'env Env,
        manifest: Value,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        let e = self.engine.clone();
        env.spawn_future(async move {
            let outcome = tokio::spawn(async move { policy::admit_manifest(&e, manifest).await })
                .await
                .map_err(|j| to_napi(join_error(j)))?;
            outcome.map_err(|info: ErrorInfo| info_to_napi(&info))
        })
    }

    /// The policy (Pod Security Standards `level`, labels, registries…) of a workspace's plan.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn workspace_policy<'env>(
        &self,
        env: &'env Env,
        org: String,
        workspace: String,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        let e = self.engine.clone();
        promise(env, async move {
            policy::workspace_policy(&e, &org, &workspace).await
        })
    }

    /// Place a workspace on a fleet member; resolves to the member's name.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn place_workspace<'env>(
        &self,
        env: &'env Env,
        org: String,
        workspace: String,
        options: Option<PlaceOptions>,
    ) -> napi::Result<PromiseRaw<'env, String>> {
        let e = self.engine.clone();
        let o = options.unwrap_or_default();
        let at = Placement {
            region: o.region,
            require: o.require,
            prefer: o.prefer,
            cluster: o.cluster,
        };
        promise(env, async move {
            fleet::place_workspace(&e, &org, &workspace, at).await
        })
    }

    /// The fleet's members with their load (`allocatable`, `used`, `free`, `workspaces`).
    #[napi(ts_return_type = "Promise<Array<any>>")]
    pub fn fleet_members<'env>(
        &self,
        env: &'env Env,
    ) -> napi::Result<PromiseRaw<'env, Vec<Value>>> {
        let e = self.engine.clone();
        promise(env, async move { fleet::members(&e).await })
    }

    /// Where a workspace is placed (`null`: not yet).
    #[napi(ts_return_type = "any | null")]
    pub fn workspace_assignment(
        &self,
        org: String,
        workspace: String,
    ) -> napi::Result<Option<Value>> {
        guard(|| fleet::assignment(&self.engine, &org, &workspace))
    }

    /// Move a workspace with its namespaces and applications to fleet member `target`; a
    /// target without room or not allowed is refused with nothing changed.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn move_workspace<'env>(
        &self,
        env: &'env Env,
        org: String,
        workspace: String,
        target: String,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        let e = self.engine.clone();
        promise(env, async move {
            fleet::move_workspace(&e, &org, &workspace, &target).await
        })
    }
}
