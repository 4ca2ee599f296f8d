//! Store → cluster: render an organization's desired objects, reconcile them, record statuses,
//! finalize deletions.

use hxb_core::cluster::{ListOptions, ResourceType};
use hxb_core::store::{Batch, Precondition};
use hxb_core::{EntityStatus, ErrorKind, Name, ResourceList, Result, Selector};
use k8s_openapi::api::core::v1::Namespace;

use super::Tenancy;
use super::state::{self, NAMESPACES, ORGS, OrgSnapshot, PROJECTS, WORKSPACES, encode};
use crate::naming::{LABEL_ORG, LABEL_WORKSPACE, MANAGED_BY, MANAGER};
use crate::reconcile::{ReconcileReport, managed_types, reconcile_objects, retry};
use crate::render::{DesiredObject, ProjectInput, render_project};

/// Which part of an organization a reconcile covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    /// Everything.
    All,
    /// One workspace.
    Workspace(Name),
}

fn live(s: &EntityStatus) -> bool {
    !matches!(s, EntityStatus::Deleting)
}

impl Tenancy {
    /// The objects the store says should exist for `part` of a snapshot.
    pub(crate) fn render_snapshot(
        &self,
        snap: &OrgSnapshot,
        part: &Part,
    ) -> Result<Vec<DesiredObject>> {
        let org = &snap.org.0;
        let mut out = Vec::new();
        if !live(&org.status) {
            return Ok(out);
        }
        for (ws, _) in snap.workspaces.values() {
            if !live(&ws.status) || matches!(part, Part::Workspace(w) if *w != ws.name) {
                continue;
            }
            let plan = self.plans().get(ws.plan.as_str())?;
            for p in snap.projects_of(&ws.name) {
                if !live(&p.status) {
                    continue;
                }
                let carved = snap.carved(&ws.name, Some(&p.name))?;
                let own: ResourceList = p.quota.saturating_sub(&carved)?;
                let ancestors = snap.ancestors(&ws.name, p);
                let input = ProjectInput {
                    organization: org,
                    workspace: ws,
                    project: p,
                    ancestors: &ancestors,
                    members: &snap.members,
                    plan,
                    namespace_quota: &own,
                };
                let mut objects = render_project(&input, &self.inner.render)?;
                let labels =
                    crate::naming::project_labels(&org.name, &ws.name, &p.name, p.parent.as_ref());
                let (node_selector, tolerations) =
                    crate::render::placement(&org.name, &ws.name, plan);
                let place = crate::apps::Placement {
                    node_selector,
                    tolerations,
                };
                for ((w, pn, _), (app, _)) in &snap.apps {
                    if *w == ws.name && *pn == p.name {
                        objects.extend(crate::apps::render_app(
                            app,
                            &p.namespace,
                            &labels,
                            &place,
                        )?);
                    }
                }
                #[cfg(feature = "policy")]
                {
                    let policy = self.plans().policy(plan.id.as_str())?;
                    crate::policy::label_namespace(&mut objects, &policy);
                    crate::policy::harden(&mut objects, policy.level);
                }
                out.extend(objects);
            }
            let creds: Vec<_> = snap
                .credentials
                .iter()
                .filter(|c| c.workspace == ws.name)
                .cloned()
                .collect();
            if !creds.is_empty()
                && let Some(home) = snap
                    .children(&ws.name, None)
                    .filter(|p| live(&p.status))
                    .min_by_key(|p| p.name.clone())
            {
                let labels = crate::naming::project_labels(&org.name, &ws.name, &home.name, None);
                super::credentials::bind_credentials(snap, &ws.name, &creds, &labels, &mut out)?;
            }
        }
        Ok(out)
    }

    /// The desired objects of one organization, as reconcile would write them.
    pub async fn desired_objects(&self, org: &str) -> Result<Vec<DesiredObject>> {
        let snap = OrgSnapshot::load(self.store().as_ref(), org).await?;
        self.render_snapshot(&snap, &Part::All)
    }

    /// Reconcile every organization: create what is missing, repair drift, delete orphans,
    /// finalize deletions, record statuses. An unchanged world costs zero cluster writes.
    pub async fn reconcile(&self) -> Result<ReconcileReport> {
        self.reconcile_observed(|_| {}).await
    }

    /// [`reconcile`](Self::reconcile), telling `pending` how many organizations are still
    /// waiting before each one is reconciled and once more (0) at the end — the reconcile
    /// queue depth an embedder exports as a metric.
    pub async fn reconcile_observed(
        &self,
        mut pending: impl FnMut(usize) + Send,
    ) -> Result<ReconcileReport> {
        let mut report = ReconcileReport::default();
        let orgs: Vec<String> = self
            .store()
            .list(ORGS, "")
            .await?
            .into_iter()
            .map(|r| r.key)
            .collect();
        for (i, org) in orgs.iter().enumerate() {
            pending(orgs.len() - i);
            let _guard = self.lock(org).await;
            report.merge(self.sync(org, Part::All).await?);
        }
        pending(0);
        report.merge(self.delete_foreign_namespaces().await?);
        Ok(report)
    }

    /// Reconcile one organization.
    pub async fn reconcile_organization(&self, org: &str) -> Result<ReconcileReport> {
        let _guard = self.lock(org).await;
        self.sync(org, Part::All).await
    }

    /// Reconcile `part` of `org`; the caller holds the organization lock.
    pub(crate) async fn sync(&self, org: &str, part: Part) -> Result<ReconcileReport> {
        let snap = match OrgSnapshot::load(self.store().as_ref(), org).await {
            Ok(s) => s,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(ReconcileReport::default()),
            Err(e) => return Err(e),
        };
        let desired = self.render_snapshot(&snap, &part)?;
        let mut sel = Selector::from_labels([(MANAGED_BY, MANAGER), (LABEL_ORG, org)]);
        if let Part::Workspace(ws) = &part {
            sel = Selector::from_labels([
                (MANAGED_BY, MANAGER),
                (LABEL_ORG, org),
                (LABEL_WORKSPACE, ws.as_str()),
            ]);
        }
        let mut report = reconcile_objects(
            self.cluster().as_ref(),
            &desired,
            &sel,
            &managed_types(),
            self.inner.retry,
        )
        .await;
        report.merge(self.sync_pools(&snap, &part).await);
        self.record_outcome(&snap, &part, &report).await?;
        Ok(report)
    }

    /// Set statuses after a reconcile and finalize entities whose cluster objects are gone.
    async fn record_outcome(
        &self,
        snap: &OrgSnapshot,
        part: &Part,
        report: &ReconcileReport,
    ) -> Result<()> {
        let outcome = match report.errors.first() {
            None => EntityStatus::Active,
            Some((obj, e)) => EntityStatus::Error {
                reason: format!("{obj}: {e}"),
            },
        };
        let in_part = |ws: &Name| !matches!(part, Part::Workspace(w) if w != ws);
        let org_name = snap.org.0.name.clone();
        let mut batch = Batch::new();
        let mut finalized = Vec::new();
        // projects
        let mut removed_projects: Vec<(Name, Name)> = Vec::new();
        for ((ws, p), (prj, rev)) in &snap.projects {
            if !in_part(ws) {
                continue;
            }
            let key = state::project_key(&org_name, ws, p);
            if live(&prj.status) {
                if prj.status != outcome {
                    let mut next = prj.clone();
                    next.status = outcome.clone();
                    batch = batch.put(PROJECTS, &key, encode(&next)?, Precondition::Revision(*rev));
                }
            } else if report.is_clean()
                && self.namespace_gone(&prj.namespace).await.unwrap_or(false)
            {
                batch = batch
                    .delete(PROJECTS, &key, Precondition::Revision(*rev))
                    .delete(NAMESPACES, &prj.namespace, Precondition::None);
                for ((w, pn, a), (_, arev)) in &snap.apps {
                    if w == ws && pn == p {
                        let k = state::app_key(&org_name, w, pn, a);
                        batch = batch.delete(state::APPS, &k, Precondition::Revision(*arev));
                    }
                }
                removed_projects.push((ws.clone(), p.clone()));
                finalized.push(format!("project {key}"));
            }
        }
        // workspaces
        let mut removed_ws = Vec::new();
        for (ws, (w, rev)) in &snap.workspaces {
            if !in_part(ws) {
                continue;
            }
            let key = state::ws_key(&org_name, ws);
            if live(&w.status) {
                if w.status != outcome {
                    let mut next = w.clone();
                    next.status = outcome.clone();
                    batch = batch.put(
                        WORKSPACES,
                        &key,
                        encode(&next)?,
                        Precondition::Revision(*rev),
                    );
                }
            } else if snap
                .projects_of(ws)
                .all(|p| removed_projects.contains(&(ws.clone(), p.name.clone())))
            {
                batch = batch.delete(WORKSPACES, &key, Precondition::Revision(*rev));
                for c in snap.credentials.iter().filter(|c| &c.workspace == ws) {
                    batch = batch.delete(
                        super::credentials::CREDENTIALS,
                        &super::credentials::credential_key(c),
                        Precondition::None,
                    );
                }
                removed_ws.push(ws.clone());
                finalized.push(format!("workspace {key}"));
            }
        }
        // the organization
        let (org, rev) = &snap.org;
        if *part == Part::All {
            if live(&org.status) {
                if org.status != outcome {
                    let mut next = org.clone();
                    next.status = outcome.clone();
                    batch = batch.put(
                        ORGS,
                        org.name.as_str(),
                        encode(&next)?,
                        Precondition::Revision(*rev),
                    );
                }
            } else if snap.workspaces.keys().all(|w| removed_ws.contains(w)) {
                batch = batch.delete(ORGS, org.name.as_str(), Precondition::Revision(*rev));
                for m in &snap.members {
                    batch = batch.delete(state::MEMBERS, &state::member_key(m), Precondition::None);
                }
                finalized.push(format!("organization {}", org.name));
            }
        }
        if batch.is_empty() {
            return Ok(());
        }
        let res = if finalized.is_empty() {
            self.store().commit(batch).await
        } else {
            self.commit(
                batch,
                super::SYSTEM_ACTOR,
                "finalize",
                &finalized.join(", "),
            )
            .await
        };
        match res {
            // a concurrent change moved a record on: the next reconcile records the outcome
            Err(e) if e.kind() == ErrorKind::Conflict => Ok(()),
            other => other.map(|_| ()),
        }
    }

    /// Whether a namespace no longer exists (an error reading it counts as "not yet": the
    /// next reconcile asks again).
    async fn namespace_gone(&self, ns: &str) -> Result<bool> {
        let ty = ResourceType::of::<Namespace>();
        match retry(self.inner.retry, || self.cluster().get(&ty, None, ns)).await {
            Ok(_) => Ok(false),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(true),
            Err(e) => Err(e),
        }
    }

    /// Managed namespaces whose organization the store no longer knows (left over when a
    /// process died between deleting a record and the cluster catching up): delete them.
    async fn delete_foreign_namespaces(&self) -> Result<ReconcileReport> {
        let ty = ResourceType::of::<Namespace>();
        let opts = ListOptions::labels(Selector::from_labels([(MANAGED_BY, MANAGER)]));
        let list = retry(self.inner.retry, || self.cluster().list(&ty, None, &opts)).await?;
        let mut report = ReconcileReport::default();
        for ns in list.items {
            let Some(org) = ns
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(LABEL_ORG))
                .cloned()
            else {
                continue;
            };
            let _guard = self.lock(&org).await;
            if self.store().get(ORGS, &org).await?.is_some() {
                continue; // its organization's reconcile owns it
            }
            let name = ns.metadata.name.clone().unwrap_or_default();
            match retry(self.inner.retry, || self.cluster().delete(&ty, None, &name)).await {
                Ok(()) => report.deleted += 1,
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => report
                    .errors
                    .push((format!("delete Namespace {name}"), e.to_string())),
            }
        }
        Ok(report)
    }
}
