//! Restore: a snapshot into the same or another project.
//!
//! 1. Read the snapshot (hash verified) and, under the target organization's lock, the target
//!    project, its applications and its live objects.
//! 2. Rewrite to the target: application records get the target's organization, workspace
//!    and project; other objects the target namespace and, where they carry them, the target's
//!    owner labels. The applications' objects are rendered for the target (its labels and its
//!    workspace's placement), exactly as reconcile will write them.
//! 3. Plan ([`crate::backup::plan`]) and check quota: the target's other applications plus
//!    the restored ones must fit the project's namespace quota, as for `create_app`.
//!    A dry run returns the plan here and changes nothing.
//! 4. Refuse the whole restore — nothing changed — on any conflict (a typed
//!    [`Conflict`](hxb_core::ErrorKind::Conflict) listing the objects) or quota excess
//!    ([`QuotaExceeded`](hxb_core::ErrorKind::QuotaExceeded)).
//! 5. Create the absent objects hxb does not manage (ConfigMaps, Secrets, PVCs… first, since
//!    workloads refer to them), then record every application and the audit entry in one
//!    atomic store batch, then reconcile the workspace, which renders the applications.
//!
//! Every step is idempotent, so a restore that failed mid-way (a lost response, a server
//! error) converges when retried: what it already created now shows as unchanged.

use std::collections::BTreeMap;

use hxb_core::cluster::{DynamicObject, ListOptions, ResourceType};
use hxb_core::store::{Batch, Precondition};
use hxb_core::{EntityStatus, Error, ErrorKind, Name, ResourceList, Result};
use serde_json::Value;

use super::super::state::{self, APPS, OrgSnapshot, encode};
use super::super::sync::Part;
use super::super::{SYSTEM_ACTOR, name_arg};
use super::{Backups, backed_up_types};
use crate::apps::{Application, Placement, render_app};
use crate::backup::plan::{Action, AppChange, ObjectChange, RestorePlan, Target, object_action};
use crate::backup::{Snapshot, SnapshotObject};
use crate::naming::{LABEL_ORG, LABEL_PARENT, LABEL_PROJECT, LABEL_WORKSPACE, project_labels};
use crate::reconcile::{ReconcileReport, diff::contains, retry};

/// Builder of [`Backups::restore`].
#[must_use = "call .execute().await"]
pub struct Restore<'a> {
    b: &'a Backups,
    id: String,
    target: Option<(String, String, String)>,
    dry_run: bool,
    actor: String,
}

/// What a restore did (or, for a dry run, would do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreOutcome {
    /// The plan.
    pub plan: RestorePlan,
    /// Whether it was applied (`false` for a dry run).
    pub applied: bool,
    /// The reconcile that rendered the restored applications (`None` for a dry run).
    pub reconcile: Option<ReconcileReport>,
}

impl Backups {
    /// Start restoring snapshot `id` (into its own project unless
    /// [`into_project`](Restore::into_project) says otherwise).
    pub fn restore(&self, id: &str) -> Restore<'_> {
        Restore {
            b: self,
            id: id.into(),
            target: None,
            dry_run: false,
            actor: SYSTEM_ACTOR.into(),
        }
    }
}

/// One object the restore wants, rewritten to the target.
struct Wanted {
    ty: ResourceType,
    object: Value,
    app: Option<Name>,
    rendered: bool,
}

impl Wanted {
    fn name(&self) -> &str {
        self.object["metadata"]["name"].as_str().unwrap_or_default()
    }
}

impl Restore<'_> {
    /// Restore into project `org/ws/project` (which must exist) instead of the snapshot's own.
    pub fn into_project(mut self, org: &str, ws: &str, project: &str) -> Self {
        self.target = Some((org.into(), ws.into(), project.into()));
        self
    }

    /// Only plan: report what would change, change nothing.
    pub fn dry_run(mut self) -> Self {
        self.dry_run = true;
        self
    }

    /// Who asks (recorded in the audit log).
    pub fn actor(mut self, actor: &str) -> Self {
        self.actor = actor.into();
        self
    }

    /// Plan, and unless this is a dry run, apply.
    pub async fn execute(self) -> Result<RestoreOutcome> {
        let t = &self.b.t;
        let action = if self.dry_run {
            "restore_plan"
        } else {
            "restore"
        };
        let target_text = match &self.target {
            Some((o, w, p)) => format!("{o}/{w}/{p} from {}", self.id),
            None => format!("{} into its project", self.id),
        };
        t.audited(&self.actor, action, &target_text, self.run(action))
            .await
    }

    async fn run(&self, action: &str) -> Result<RestoreOutcome> {
        let t = &self.b.t;
        let snapshot = self.b.store.get(&self.id).await?;
        let (org, ws, project) = match &self.target {
            Some((o, w, p)) => (name_arg(o)?, name_arg(w)?, name_arg(p)?),
            None => (
                snapshot.meta.organization.clone(),
                snapshot.meta.workspace.clone(),
                snapshot.meta.project.clone(),
            ),
        };
        let _guard = t.lock(org.as_str()).await;
        let snap = OrgSnapshot::load(t.store().as_ref(), org.as_str()).await?;
        let (prj, prj_rev) = snap.project(&ws, &project)?;
        if prj.status == EntityStatus::Deleting {
            return Err(Error::precondition(format!(
                "project {org}/{ws}/{project} is being deleted"
            )));
        }
        let prepared = self.prepare(&snapshot, &snap, prj).await?;
        let audit_target = format!("{org}/{ws}/{project} from {}", snapshot.id);
        if self.dry_run {
            t.commit(Batch::new(), &self.actor, action, &audit_target)
                .await?;
            return Ok(RestoreOutcome {
                plan: prepared.plan,
                applied: false,
                reconcile: None,
            });
        }
        let conflicts: Vec<String> = prepared.plan.conflicts().map(ToString::to_string).collect();
        if !conflicts.is_empty() {
            return Err(Error::conflict(
                "restore",
                format!("{org}/{ws}/{project}"),
                format!(
                    "{} conflicting object(s): {}",
                    conflicts.len(),
                    conflicts.join(", ")
                ),
            ));
        }
        prepared.quota?;
        #[cfg(feature = "policy")]
        t.admit_restore(
            &snap,
            &ws,
            &prepared.apps,
            prepared
                .wanted
                .iter()
                .filter(|w| !w.rendered)
                .map(|w| &w.object),
        )?;
        // 1. objects hxb does not manage, in type order (what workloads refer to first)
        for ty in backed_up_types() {
            for (w, change) in prepared.wanted.iter().zip(&prepared.plan.objects) {
                if w.ty == ty && !w.rendered && change.action == Action::Create {
                    create_or_match(self.b, w).await?;
                }
            }
        }
        // 2. the application records and the audit entry, atomically
        let mut batch = Batch::new();
        for (a, change) in prepared.apps.iter().zip(&prepared.plan.apps) {
            let key = state::app_key(&org, &ws, &project, &a.name);
            let expect = match (
                &change.action,
                snap.apps
                    .get(&(ws.clone(), project.clone(), a.name.clone())),
            ) {
                (Action::Unchanged, _) => continue,
                (_, Some((_, rev))) => Precondition::Revision(*rev),
                (_, None) => Precondition::Absent,
            };
            batch = batch.put(APPS, &key, encode(a)?, expect);
        }
        if !batch.is_empty() {
            let pkey = state::project_key(&org, &ws, &project);
            batch = batch.put(
                state::PROJECTS,
                &pkey,
                encode(prj)?,
                Precondition::Revision(*prj_rev),
            );
        }
        t.commit(batch, &self.actor, action, &audit_target).await?;
        // 3. render them
        let report = t.sync(org.as_str(), Part::Workspace(ws.clone())).await?;
        if let Some(e) = report.to_error() {
            return Err(e);
        }
        Ok(RestoreOutcome {
            plan: prepared.plan,
            applied: true,
            reconcile: Some(report),
        })
    }

    /// Rewrite the snapshot to the target, read the target's live objects, plan, check quota.
    async fn prepare(
        &self,
        snapshot: &Snapshot,
        snap: &OrgSnapshot,
        prj: &hxb_core::Project,
    ) -> Result<Prepared> {
        let t = &self.b.t;
        let (org, ws, project) = (&prj.organization, &prj.workspace, &prj.name);
        let (wsrec, _) = snap.workspace(ws)?;
        let (node_selector, tolerations) =
            crate::render::placement(org, ws, t.plans().get(wsrec.plan.as_str())?);
        let place = Placement {
            node_selector,
            tolerations,
        };
        let labels = project_labels(org, ws, project, prj.parent.as_ref());
        let apps = rewrite_apps(snapshot, org, ws, project);
        let mut wanted = Vec::new();
        for a in &apps {
            for d in render_app(a, &prj.namespace, &labels, &place)? {
                wanted.push(Wanted {
                    ty: d.ty,
                    object: encode(&d.object)?,
                    app: Some(a.name.clone()),
                    rendered: true,
                });
            }
        }
        for o in snapshot.objects.iter().filter(|o| !o.rendered) {
            wanted.push(rewrite_object(o, &prj.namespace, &labels)?);
        }
        let live = self.live_objects(&prj.namespace, &wanted).await?;
        let target = Target {
            organization: org,
            workspace: ws,
            project,
        };
        let mut objects: Vec<ObjectChange> = wanted
            .iter()
            .map(|w| ObjectChange {
                kind: w.ty.kind.clone(),
                namespace: prj.namespace.clone(),
                name: w.name().to_owned(),
                app: w.app.clone(),
                action: object_action(
                    &w.object,
                    w.app.as_ref().filter(|_| w.rendered),
                    live.get(&(w.ty.kind.clone(), w.name().to_owned())),
                    target,
                ),
            })
            .collect();
        let existing = |name: &Name| {
            snap.apps
                .get(&(ws.clone(), project.clone(), name.clone()))
                .map(|(a, _)| a)
        };
        let mut app_changes = Vec::new();
        for a in &apps {
            let action = match existing(&a.name) {
                None => Action::Create,
                Some(cur) if cur == a => Action::Unchanged,
                Some(cur) => {
                    // objects of the replaced version the restored one no longer renders
                    for d in render_app(cur, &prj.namespace, &labels, &place)? {
                        let name = d.object.metadata.name.clone().unwrap_or_default();
                        if !wanted.iter().any(|w| w.ty == d.ty && w.name() == name) {
                            objects.push(ObjectChange {
                                kind: d.ty.kind.clone(),
                                namespace: prj.namespace.clone(),
                                name,
                                app: Some(a.name.clone()),
                                action: Action::Delete,
                            });
                        }
                    }
                    Action::Update
                }
            };
            app_changes.push(AppChange {
                name: a.name.clone(),
                action,
            });
        }
        let quota = check_quota(snap, prj, &apps);
        let plan = RestorePlan {
            snapshot: snapshot.id.clone(),
            organization: org.clone(),
            workspace: ws.clone(),
            project: project.clone(),
            namespace: prj.namespace.clone(),
            apps: app_changes,
            objects,
            quota_problem: quota.as_ref().err().map(ToString::to_string),
        };
        Ok(Prepared {
            plan,
            wanted,
            apps,
            quota,
        })
    }

    /// The target namespace's objects of the types the restore touches, by `(kind, name)`.
    async fn live_objects(
        &self,
        namespace: &str,
        wanted: &[Wanted],
    ) -> Result<BTreeMap<(String, String), Value>> {
        let t = &self.b.t;
        let mut live = BTreeMap::new();
        let all = ListOptions::default();
        for ty in backed_up_types() {
            if !wanted.iter().any(|w| w.ty == ty) {
                continue;
            }
            let list = retry(t.inner.retry, || {
                t.cluster().list(&ty, Some(namespace), &all)
            })
            .await?;
            for o in list.items {
                let name = o.metadata.name.clone().unwrap_or_default();
                let v = encode(&o)?;
                live.insert((ty.kind.clone(), name), v);
            }
        }
        Ok(live)
    }
}

/// A planned restore and what applying it needs.
struct Prepared {
    plan: RestorePlan,
    /// In the order of `plan.objects` (which may add deletions after them).
    wanted: Vec<Wanted>,
    /// In the order of `plan.apps`.
    apps: Vec<Application>,
    quota: Result<()>,
}

/// Create an object; if it is already there (a retried restore whose earlier response was
/// lost, or a concurrent writer), accept it only when it holds what the snapshot says.
async fn create_or_match(b: &Backups, w: &Wanted) -> Result<()> {
    let t = &b.t;
    let obj: DynamicObject =
        serde_json::from_value(w.object.clone()).map_err(|e| Error::internal(e.to_string()))?;
    let ns = obj.metadata.namespace.clone();
    match retry(t.inner.retry, || t.cluster().create(&w.ty, obj.clone())).await {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            let live = retry(t.inner.retry, || {
                t.cluster().get(&w.ty, ns.as_deref(), w.name())
            })
            .await?;
            let live = encode(&live)?;
            if contains(&live, &w.object) {
                Ok(())
            } else {
                Err(Error::conflict(
                    w.ty.kind.clone(),
                    w.name().to_owned(),
                    "created concurrently with different content",
                ))
            }
        }
        Err(e) => Err(e),
    }
}

/// The snapshot's application records, moved to the target project.
fn rewrite_apps(s: &Snapshot, org: &Name, ws: &Name, project: &Name) -> Vec<Application> {
    s.apps
        .iter()
        .map(|a| Application {
            organization: org.clone(),
            workspace: ws.clone(),
            project: project.clone(),
            ..a.clone()
        })
        .collect()
}

/// An object hxb does not manage, moved to `namespace`; owner labels it carries are set to
/// the target project's.
fn rewrite_object(
    o: &SnapshotObject,
    namespace: &str,
    target_labels: &BTreeMap<String, String>,
) -> Result<Wanted> {
    let (api_version, kind, _, _) = o.key();
    let ty = ResourceType::for_kind(&api_version, &kind)?;
    let mut object = o.object.clone();
    object["metadata"]["namespace"] = Value::String(namespace.to_owned());
    if let Some(labels) = object["metadata"]
        .get_mut("labels")
        .and_then(Value::as_object_mut)
    {
        for k in [LABEL_ORG, LABEL_WORKSPACE, LABEL_PROJECT, LABEL_PARENT] {
            if labels.contains_key(k) {
                match target_labels.get(k) {
                    Some(v) => {
                        labels.insert(k.to_owned(), Value::String(v.clone()));
                    }
                    None => {
                        labels.remove(k);
                    }
                }
            }
        }
    }
    Ok(Wanted {
        ty,
        object,
        app: o.app.clone(),
        rendered: false,
    })
}

/// The target's other applications plus the restored ones must fit the project's own
/// namespace quota (its quota minus what sub-projects carved), as for `create_app`.
fn check_quota(snap: &OrgSnapshot, prj: &hxb_core::Project, apps: &[Application]) -> Result<()> {
    let own = prj
        .quota
        .saturating_sub(&snap.carved(&prj.workspace, Some(&prj.name))?)?;
    let others = snap
        .apps
        .values()
        .map(|(a, _)| a)
        .filter(|a| {
            a.workspace == prj.workspace
                && a.project == prj.name
                && !apps.iter().any(|r| r.name == a.name)
        })
        .map(Application::quota_need)
        .collect::<Result<Vec<_>>>()?;
    let restored = apps
        .iter()
        .map(Application::quota_need)
        .collect::<Result<Vec<_>>>()?;
    ResourceList::admit(
        &format!(
            "project {}/{}/{}",
            prj.organization, prj.workspace, prj.name
        ),
        &own,
        &ResourceList::checked_sum(others.iter())?,
        &ResourceList::checked_sum(restored.iter())?,
    )
}
