//! Backup and restore operations: [`Backups`] (`Tenancy::backups(store)`).
//!
//! * [`Backups::snapshot`] reads a project (under its organization's lock, so the records and
//!   the objects are one consistent view), cleans and hashes it, writes it to the
//!   [`SnapshotStore`] and audits `backup`.
//! * [`Backups::restore`] plans (a dry run stops there) and then applies, refusing the whole
//!   restore on any conflict or quota excess with nothing changed — see [`restore`].
//! * [`Backups::set_policy`] / [`Backups::run_due_backups`]: per-application schedules and
//!   retention — see [`policy`].

pub mod policy;
pub mod restore;

use std::sync::Arc;

use hxb_core::cluster::{ListOptions, ResourceType};
use hxb_core::store::Batch;
use hxb_core::{EntityStatus, Error, Name, Result, Timestamp};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Secret, Service};
use serde_json::Value;

use super::state::{OrgSnapshot, encode};
use super::{SYSTEM_ACTOR, Tenancy, name_arg};
use crate::apps::{Application, LABEL_APP};
use crate::backup::canonical::clean;
use crate::backup::{Snapshot, SnapshotInfo, SnapshotMeta, SnapshotObject, SnapshotStore};
use crate::naming::{MANAGED_BY, MANAGER};
use crate::reconcile::retry;

pub use policy::{BackupPolicy, DueReport, SetPolicy};
pub use restore::{Restore, RestoreOutcome};

/// The kinds a snapshot reads from a project's namespace, in restore order (what others
/// refer to first).
pub fn backed_up_types() -> Vec<ResourceType> {
    vec![
        ResourceType::of::<ConfigMap>(),
        ResourceType::of::<Secret>(),
        ResourceType::of::<PersistentVolumeClaim>(),
        ResourceType::of::<Service>(),
        ResourceType::of::<Deployment>(),
        ResourceType::of::<StatefulSet>(),
        ResourceType::of::<CronJob>(),
    ]
}

/// Backup and restore of projects into a [`SnapshotStore`]. Cheap to clone.
#[derive(Clone)]
pub struct Backups {
    t: Tenancy,
    store: Arc<dyn SnapshotStore>,
}

impl std::fmt::Debug for Backups {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backups").finish_non_exhaustive()
    }
}

impl Tenancy {
    /// Backup and restore of this engine's projects, keeping snapshots in `store`
    /// ([`DirectoryStore`](crate::backup::DirectoryStore) for files).
    pub fn backups(&self, store: Arc<dyn SnapshotStore>) -> Backups {
        Backups {
            t: self.clone(),
            store,
        }
    }
}

impl Backups {
    /// The snapshot store.
    pub fn store(&self) -> &Arc<dyn SnapshotStore> {
        &self.store
    }

    /// Start a snapshot of project `org/ws/project`.
    pub fn snapshot(&self, org: &str, ws: &str, project: &str) -> TakeSnapshot<'_> {
        TakeSnapshot {
            b: self,
            at: (org.into(), ws.into(), project.into()),
            apps: None,
            include_secrets: false,
            actor: SYSTEM_ACTOR.into(),
        }
    }

    /// Snapshots of one project, oldest first.
    pub async fn list(&self, org: &str, ws: &str, project: &str) -> Result<Vec<SnapshotInfo>> {
        Ok(self
            .store
            .list()
            .await?
            .into_iter()
            .filter(|s| {
                s.meta.organization.as_str() == org
                    && s.meta.workspace.as_str() == ws
                    && s.meta.project.as_str() == project
            })
            .collect())
    }

    /// One snapshot, verified.
    pub async fn get(&self, id: &str) -> Result<Snapshot> {
        self.store.get(id).await
    }

    /// Delete a snapshot (audited `delete_backup`).
    pub async fn delete(&self, id: &str) -> Result<()> {
        let t = &self.t;
        t.audited(SYSTEM_ACTOR, "delete_backup", id, async {
            self.store.delete(id).await?;
            t.commit(Batch::new(), SYSTEM_ACTOR, "delete_backup", id)
                .await?;
            Ok(())
        })
        .await
    }

    /// Take and store a snapshot; the caller has validated the arguments.
    pub(crate) async fn take(&self, req: SnapshotRequest) -> Result<Snapshot> {
        let snapshot = {
            let _guard = self.t.lock(req.org.as_str()).await;
            self.collect(&req).await?
        };
        self.store.put(&snapshot).await?;
        let target = format!("{}/{}/{}", req.org, req.ws, req.project);
        self.t
            .commit(
                Batch::new(),
                &req.actor,
                "backup",
                &format!("{target} as {}", snapshot.id),
            )
            .await?;
        Ok(snapshot)
    }

    /// Read the project's records and objects into a sealed snapshot.
    async fn collect(&self, req: &SnapshotRequest) -> Result<Snapshot> {
        let snap = OrgSnapshot::load(self.t.store().as_ref(), req.org.as_str()).await?;
        let (prj, _) = snap.project(&req.ws, &req.project)?;
        if prj.status == EntityStatus::Deleting {
            return Err(Error::precondition(format!(
                "project {} is being deleted",
                prj.name
            )));
        }
        let records: Vec<Application> = snap
            .apps
            .values()
            .map(|(a, _)| a)
            .filter(|a| a.workspace == req.ws && a.project == req.project)
            .cloned()
            .collect();
        if let Some(filter) = &req.apps {
            for name in filter {
                if !records.iter().any(|a| &a.name == name) {
                    return Err(Error::not_found(
                        "application",
                        format!("{}/{}/{}/{name}", req.org, req.ws, req.project),
                    ));
                }
            }
        }
        let wanted = |app: Option<&str>| match (&req.apps, app) {
            (None, _) => true,
            (Some(f), Some(a)) => f.iter().any(|n| n.as_str() == a),
            (Some(_), None) => false,
        };
        let apps: Vec<Application> = records
            .iter()
            .filter(|a| wanted(Some(a.name.as_str())))
            .cloned()
            .collect();
        let mut objects = Vec::new();
        let all = ListOptions::default();
        for ty in backed_up_types() {
            if ty.kind == "Secret" && !req.include_secrets {
                continue;
            }
            let retry_policy = self.t.inner.retry;
            let cluster = self.t.cluster();
            let list = retry(retry_policy, || {
                cluster.list(&ty, Some(&prj.namespace), &all)
            })
            .await?;
            for o in list.items {
                let v = encode(&o)?;
                let Some(entry) = classify(&v, &records) else {
                    continue;
                };
                if wanted(entry.app.as_ref().map(Name::as_str)) {
                    objects.push(entry);
                }
            }
        }
        let meta = SnapshotMeta {
            organization: req.org.clone(),
            workspace: req.ws.clone(),
            project: req.project.clone(),
            namespace: prj.namespace.clone(),
            taken_at: req.at,
            apps: req.apps.clone(),
            includes_secrets: req.include_secrets,
            policy: req.policy.clone(),
            engine_version: env!("CARGO_PKG_VERSION").to_owned(),
            content_hash: String::new(),
        };
        Snapshot::seal(meta, apps, objects)
    }
}

/// What to snapshot.
pub(crate) struct SnapshotRequest {
    pub org: Name,
    pub ws: Name,
    pub project: Name,
    pub apps: Option<Vec<Name>>,
    pub include_secrets: bool,
    pub policy: Option<String>,
    pub at: Timestamp,
    pub actor: String,
}

/// Whether and how a live object goes into a snapshot: `None` for what the tenancy renderer
/// owns, what a controller owns, what the cluster provides, and objects of applications
/// that have no record.
fn classify(v: &Value, records: &[Application]) -> Option<SnapshotObject> {
    let meta = &v["metadata"];
    let controlled = meta["ownerReferences"]
        .as_array()
        .is_some_and(|refs| refs.iter().any(|r| r["controller"] == Value::Bool(true)));
    if controlled {
        return None;
    }
    let kind = v["kind"].as_str().unwrap_or_default();
    let name = meta["name"].as_str().unwrap_or_default();
    if (kind == "ConfigMap" && name == "kube-root-ca.crt")
        || (kind == "Secret" && v["type"] == "kubernetes.io/service-account-token")
    {
        return None;
    }
    let managed = meta["labels"][MANAGED_BY].as_str() == Some(MANAGER);
    let app = meta["labels"][LABEL_APP]
        .as_str()
        .and_then(|a| Name::new(a).ok());
    if managed {
        // rendered from an application record, or the project's own (renderer) object
        let app = app.filter(|a| records.iter().any(|r| &r.name == a))?;
        return Some(SnapshotObject {
            app: Some(app),
            rendered: true,
            object: clean(v),
        });
    }
    Some(SnapshotObject {
        app,
        rendered: false,
        object: clean(v),
    })
}

/// Builder of [`Backups::snapshot`].
#[must_use = "call .execute().await"]
pub struct TakeSnapshot<'a> {
    b: &'a Backups,
    at: (String, String, String),
    apps: Option<Vec<String>>,
    include_secrets: bool,
    actor: String,
}

impl TakeSnapshot<'_> {
    /// Only these applications (their records, rendered objects and the objects labelled
    /// `hxb.io/app=<name>`).
    pub fn apps<I, S>(mut self, apps: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.apps = Some(apps.into_iter().map(Into::into).collect());
        self
    }

    /// Include Secrets (default: no). Their data lands in the snapshot as the API returns it
    /// (base64, not encrypted); the snapshot is flagged `includes_secrets`.
    pub fn include_secrets(mut self, on: bool) -> Self {
        self.include_secrets = on;
        self
    }

    /// Who asks (recorded in the audit log).
    pub fn actor(mut self, actor: &str) -> Self {
        self.actor = actor.into();
        self
    }

    /// Take the snapshot, store it, audit it.
    pub async fn execute(self) -> Result<SnapshotInfo> {
        let (org, ws, project) = &self.at;
        let target = format!("{org}/{ws}/{project}");
        let t = &self.b.t;
        t.audited(&self.actor, "backup", &target, async {
            let mut apps = self
                .apps
                .as_ref()
                .map(|v| v.iter().map(|a| name_arg(a)).collect::<Result<Vec<_>>>())
                .transpose()?;
            if let Some(a) = apps.as_mut() {
                a.sort();
                a.dedup();
            }
            let req = SnapshotRequest {
                org: name_arg(org)?,
                ws: name_arg(ws)?,
                project: name_arg(project)?,
                apps,
                include_secrets: self.include_secrets,
                policy: None,
                at: t.now(),
                actor: self.actor.clone(),
            };
            Ok(self.b.take(req).await?.info())
        })
        .await
    }
}
