//! Projects (and sub-projects): create, get, list, update (quota), delete (with cascade).
//!
//! A project's quota is carved from its parent — the workspace for a top-level project, the
//! parent project for a sub-project — so Σ children quotas ≤ parent quota at every level. A
//! parent project's own namespace keeps `quota − Σ sub-project quotas`, and carving is refused
//! when what the parent's namespace already uses (live, from its ResourceQuota status) would
//! no longer fit.

use hxb_core::cluster::ResourceType;
use hxb_core::store::{Batch, Precondition};
use hxb_core::{EntityStatus, Error, ErrorKind, Name, Project, ResourceList, Result};
use k8s_openapi::api::core::v1::ResourceQuota;

use super::state::{self, NAMESPACES, OrgSnapshot, PROJECTS, WORKSPACES, decode, encode};
use super::sync::Part;
use super::{SYSTEM_ACTOR, Tenancy, name_arg};
use crate::ledger::{check_carve, check_shrink};
use crate::naming::project_namespace;
use crate::reconcile::retry;

impl Tenancy {
    /// Start creating project `name` in workspace `ws` of `org`.
    pub fn create_project(&self, org: &str, ws: &str, name: &str) -> CreateProject<'_> {
        CreateProject {
            t: self,
            org: org.into(),
            ws: ws.into(),
            name: name.into(),
            parent: None,
            quota: None,
            actor: SYSTEM_ACTOR.into(),
        }
    }

    /// One project.
    pub async fn project(&self, org: &str, ws: &str, name: &str) -> Result<Project> {
        let key = format!("{org}/{ws}/{name}");
        let r = self
            .store()
            .get(PROJECTS, &key)
            .await?
            .ok_or_else(|| Error::not_found("project", key))?;
        decode(&r)
    }

    /// Projects of a workspace (sub-projects included), by name.
    pub async fn projects(&self, org: &str, ws: &str) -> Result<Vec<Project>> {
        if self
            .store()
            .get(WORKSPACES, &format!("{org}/{ws}"))
            .await?
            .is_none()
        {
            return Err(Error::not_found("workspace", format!("{org}/{ws}")));
        }
        self.store()
            .list(PROJECTS, &format!("{org}/{ws}/"))
            .await?
            .iter()
            .map(decode)
            .collect()
    }

    /// Start updating a project's quota.
    pub fn update_project(&self, org: &str, ws: &str, name: &str) -> UpdateProject<'_> {
        UpdateProject {
            t: self,
            org: org.into(),
            ws: ws.into(),
            name: name.into(),
            quota: None,
            actor: SYSTEM_ACTOR.into(),
        }
    }

    /// Start deleting a project.
    pub fn delete_project(&self, org: &str, ws: &str, name: &str) -> DeleteProject<'_> {
        DeleteProject {
            t: self,
            org: org.into(),
            ws: ws.into(),
            name: name.into(),
            cascade: false,
            actor: SYSTEM_ACTOR.into(),
        }
    }

    /// What a namespace uses now, from its hxb ResourceQuota's status (empty if none yet).
    pub async fn live_usage(&self, namespace: &str) -> Result<ResourceList> {
        let ty = ResourceType::of::<ResourceQuota>();
        match retry(self.inner.retry, || {
            self.cluster().get(&ty, Some(namespace), "hxb-quota")
        })
        .await
        {
            Ok(obj) => {
                let rq: ResourceQuota = serde_json::from_value(
                    serde_json::to_value(obj).map_err(|e| Error::internal(e.to_string()))?,
                )
                .map_err(|e| Error::backend("cannot decode ResourceQuota", e))?;
                match rq.status.and_then(|s| s.used) {
                    Some(used) => ResourceList::from_k8s(&used),
                    None => Ok(ResourceList::new()),
                }
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(ResourceList::new()),
            Err(e) => Err(e),
        }
    }
}

/// Object-count quotas (`pods`, `services`, `count/…`) hold whole objects: a share such as
/// `392m` pods admits none, so shares of counts are rounded up to whole numbers.
fn whole_counts(quota: ResourceList) -> Result<ResourceList> {
    let mut out = ResourceList::new();
    for (name, q) in quota.iter() {
        let n = name.as_str();
        let counted = n.starts_with("count/")
            || matches!(
                n,
                "pods"
                    | "services"
                    | "services.loadbalancers"
                    | "services.nodeports"
                    | "persistentvolumeclaims"
                    | "configmaps"
                    | "secrets"
                    | "replicationcontrollers"
                    | "resourcequotas"
            );
        let q = if counted {
            hxb_core::Quantity::parse(&q.to_int_ceil().to_string())
                .map_err(|e| Error::internal(e.to_string()))?
        } else {
            *q
        };
        out.set(name.clone(), q)?;
    }
    Ok(out)
}

/// The room check for giving `quota` to project `name` (its old quota, if any, excluded).
async fn check_parent_room(
    t: &Tenancy,
    snap: &OrgSnapshot,
    ws: &Name,
    parent: Option<&Name>,
    name: &Name,
    quota: &ResourceList,
) -> Result<()> {
    let siblings: Vec<&ResourceList> = snap
        .children(ws, parent)
        .filter(|p| &p.name != name)
        .map(|p| &p.quota)
        .collect();
    let (label, limit, own_usage) = match parent {
        None => (
            format!("workspace {}/{ws}", snap.org.0.name),
            snap.workspace(ws)?.0.quota.clone(),
            ResourceList::new(),
        ),
        Some(p) => {
            let parent = &snap.project(ws, p)?.0;
            let usage = t.live_usage(&parent.namespace).await?;
            (
                format!("project {}/{ws}/{p}", snap.org.0.name),
                parent.quota.clone(),
                usage,
            )
        }
    };
    check_carve(&label, &limit, &siblings, &own_usage, quota)
}

/// Builder of [`Tenancy::create_project`].
#[must_use = "call .execute().await"]
pub struct CreateProject<'a> {
    t: &'a Tenancy,
    org: String,
    ws: String,
    name: String,
    parent: Option<String>,
    quota: Option<ResourceList>,
    actor: String,
}

impl CreateProject<'_> {
    /// Make it a sub-project of `parent` (same workspace).
    pub fn parent(mut self, parent: &str) -> Self {
        self.parent = Some(parent.into());
        self
    }

    /// Quota carved from the parent. Default: the parent's quota divided by the workspace
    /// plan's project limit, object counts (`pods`, `services`, …) rounded up to whole
    /// objects (so the last of that many may be refused for want of room; give a quota then).
    pub fn quota(mut self, q: ResourceList) -> Self {
        self.quota = Some(q);
        self
    }

    /// Who asks.
    pub fn actor(mut self, actor: &str) -> Self {
        self.actor = actor.into();
        self
    }

    /// Validate, record, reconcile.
    pub async fn execute(self) -> Result<Project> {
        let (t, actor, target) = (
            self.t,
            self.actor.clone(),
            format!("{}/{}/{}", self.org, self.ws, self.name),
        );
        t.audited(&actor, "create_project", &target, self.run())
            .await
    }

    async fn run(self) -> Result<Project> {
        let (ws_name, name) = (name_arg(&self.ws)?, name_arg(&self.name)?);
        let parent = self.parent.as_deref().map(name_arg).transpose()?;
        let _guard = self.t.lock(&self.org).await;
        let snap = OrgSnapshot::load(self.t.store().as_ref(), &self.org).await?;
        let (ws, ws_rev) = snap.workspace(&ws_name)?.clone();
        if snap.org.0.status == EntityStatus::Deleting || ws.status == EntityStatus::Deleting {
            return Err(Error::precondition(format!(
                "workspace {}/{ws_name} is being deleted",
                self.org
            )));
        }
        if snap.projects.contains_key(&(ws_name.clone(), name.clone())) {
            return Err(Error::already_exists(
                "project",
                format!("{}/{ws_name}/{name}", self.org),
            ));
        }
        let parent_quota = match &parent {
            Some(p) => {
                let pp = &snap.project(&ws_name, p)?.0;
                if pp.status == EntityStatus::Deleting {
                    return Err(Error::precondition(format!(
                        "parent project {p} is being deleted"
                    )));
                }
                pp.quota.clone()
            }
            None => ws.quota.clone(),
        };
        let plan = self.t.plans().get(ws.plan.as_str())?;
        let count = snap.projects_of(&ws_name).count();
        if count >= plan.limits.max_projects_per_workspace as usize {
            return Err(Error::precondition(format!(
                "workspace {}/{ws_name} has reached its plan's limit of {} projects",
                self.org, plan.limits.max_projects_per_workspace
            )));
        }
        let quota = match self.quota {
            Some(q) => q,
            None => whole_counts(
                parent_quota
                    .checked_scale(1, i64::from(plan.limits.max_projects_per_workspace.max(1)))?,
            )?,
        };
        check_parent_room(self.t, &snap, &ws_name, parent.as_ref(), &name, &quota).await?;
        let namespace = project_namespace(&snap.org.0.name, &ws_name, &name);
        if let Some(owner) = self.t.store().get(NAMESPACES, &namespace).await? {
            return Err(Error::already_exists(
                "namespace",
                format!(
                    "{namespace} (the name project {}/{ws_name}/{name} maps to is owned by {})",
                    self.org, owner.value
                ),
            ));
        }
        let prj = Project {
            organization: snap.org.0.name.clone(),
            workspace: ws_name.clone(),
            name,
            parent,
            quota,
            namespace: namespace.clone(),
            status: EntityStatus::Pending,
            created_at: self.t.now(),
        };
        let key = state::project_key(&prj.organization, &prj.workspace, &prj.name);
        let owner = serde_json::json!({
            "organization": prj.organization, "workspace": prj.workspace, "project": prj.name,
        });
        let batch = Batch::new()
            .put(PROJECTS, &key, encode(&prj)?, Precondition::Absent)
            .put(NAMESPACES, &namespace, owner, Precondition::Absent)
            .put(
                WORKSPACES,
                &state::ws_key(&ws.organization, &ws.name),
                encode(&ws)?,
                Precondition::Revision(ws_rev),
            );
        self.t
            .commit(batch, &self.actor, "create_project", &key)
            .await?;
        self.t.sync(&self.org, Part::Workspace(ws_name)).await?;
        self.t.project(&self.org, &self.ws, prj.name.as_str()).await
    }
}

/// Builder of [`Tenancy::update_project`].
#[must_use = "call .execute().await"]
pub struct UpdateProject<'a> {
    t: &'a Tenancy,
    org: String,
    ws: String,
    name: String,
    quota: Option<ResourceList>,
    actor: String,
}

impl UpdateProject<'_> {
    /// New quota: at least what its sub-projects and its namespace hold, at most its
    /// parent's room.
    pub fn quota(mut self, q: ResourceList) -> Self {
        self.quota = Some(q);
        self
    }

    /// Who asks.
    pub fn actor(mut self, actor: &str) -> Self {
        self.actor = actor.into();
        self
    }

    /// Validate, record, reconcile.
    pub async fn execute(self) -> Result<Project> {
        let (t, actor, target) = (
            self.t,
            self.actor.clone(),
            format!("{}/{}/{}", self.org, self.ws, self.name),
        );
        t.audited(&actor, "update_project", &target, self.run())
            .await
    }

    async fn run(self) -> Result<Project> {
        let (ws_name, name) = (name_arg(&self.ws)?, name_arg(&self.name)?);
        let _guard = self.t.lock(&self.org).await;
        let snap = OrgSnapshot::load(self.t.store().as_ref(), &self.org).await?;
        let (mut prj, rev) = snap.project(&ws_name, &name)?.clone();
        if prj.status == EntityStatus::Deleting {
            return Err(Error::precondition(format!(
                "project {} is being deleted",
                prj.name
            )));
        }
        if let Some(q) = self.quota {
            let held = snap
                .carved(&ws_name, Some(&name))?
                .checked_add(&self.t.live_usage(&prj.namespace).await?)?;
            check_shrink(
                &format!(
                    "project {}/{ws_name}/{name} (held by sub-projects and workloads)",
                    self.org
                ),
                &held,
                &q,
            )?;
            check_parent_room(self.t, &snap, &ws_name, prj.parent.as_ref(), &name, &q).await?;
            prj.quota = q;
        }
        prj.status = EntityStatus::Updating;
        let key = state::project_key(&prj.organization, &prj.workspace, &prj.name);
        let (ws, ws_rev) = snap.workspace(&ws_name)?;
        let batch = Batch::new()
            .put(PROJECTS, &key, encode(&prj)?, Precondition::Revision(rev))
            .put(
                WORKSPACES,
                &state::ws_key(&ws.organization, &ws.name),
                encode(ws)?,
                Precondition::Revision(*ws_rev),
            );
        self.t
            .commit(batch, &self.actor, "update_project", &key)
            .await?;
        self.t.sync(&self.org, Part::Workspace(ws_name)).await?;
        self.t.project(&self.org, &self.ws, &self.name).await
    }
}

/// Builder of [`Tenancy::delete_project`].
#[must_use = "call .execute().await"]
pub struct DeleteProject<'a> {
    t: &'a Tenancy,
    org: String,
    ws: String,
    name: String,
    cascade: bool,
    actor: String,
}

impl DeleteProject<'_> {
    /// Also delete its sub-projects (otherwise a project with sub-projects is refused).
    pub fn cascade(mut self, yes: bool) -> Self {
        self.cascade = yes;
        self
    }

    /// Who asks.
    pub fn actor(mut self, actor: &str) -> Self {
        self.actor = actor.into();
        self
    }

    /// Mark `Deleting`, reconcile, finalize. Returns whether it is fully gone.
    pub async fn execute(self) -> Result<bool> {
        let (t, actor, target) = (
            self.t,
            self.actor.clone(),
            format!("{}/{}/{}", self.org, self.ws, self.name),
        );
        t.audited(&actor, "delete_project", &target, self.run())
            .await
    }

    async fn run(self) -> Result<bool> {
        let (ws_name, name) = (name_arg(&self.ws)?, name_arg(&self.name)?);
        let _guard = self.t.lock(&self.org).await;
        let snap = OrgSnapshot::load(self.t.store().as_ref(), &self.org).await?;
        let (prj, _) = snap.project(&ws_name, &name)?;
        // the subtree, root first
        let mut subtree = vec![prj.clone()];
        let mut i = 0;
        while i < subtree.len() {
            let children: Vec<Project> = snap
                .children(&ws_name, Some(&subtree[i].name))
                .cloned()
                .collect();
            subtree.extend(children);
            i += 1;
        }
        if subtree.len() > 1 && !self.cascade {
            return Err(Error::precondition(format!(
                "project {}/{ws_name}/{name} still has {} sub-project(s); delete them first or cascade",
                self.org,
                subtree.len() - 1
            )));
        }
        let mut batch = Batch::new();
        for mut p in subtree {
            let (_, rev) = snap.project(&ws_name, &p.name)?;
            p.status = EntityStatus::Deleting;
            let k = state::project_key(&p.organization, &p.workspace, &p.name);
            batch = batch.put(PROJECTS, &k, encode(&p)?, Precondition::Revision(*rev));
        }
        let key = state::project_key(&snap.org.0.name, &ws_name, &name);
        self.t
            .commit(batch, &self.actor, "delete_project", &key)
            .await?;
        self.t.sync(&self.org, Part::Workspace(ws_name)).await?;
        Ok(self.t.store().get(PROJECTS, &key).await?.is_none())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_shares_of_object_counts_are_whole_objects() {
        let parent = ResourceList::parse([
            ("pods", "2"),
            ("services", "20"),
            ("count/jobs.batch", "3"),
            ("requests.cpu", "2"),
            ("requests.memory", "1Gi"),
        ])
        .unwrap();
        let share = whole_counts(parent.checked_scale(1, 10).unwrap()).unwrap();
        let got = |n: &str| share.get(n).unwrap().to_string();
        assert_eq!(got("pods"), "1");
        assert_eq!(got("services"), "2");
        assert_eq!(got("count/jobs.batch"), "1");
        assert_eq!(got("requests.cpu"), "200m");
        assert_eq!(
            share.get("requests.memory").unwrap(),
            parent
                .checked_scale(1, 10)
                .unwrap()
                .get("requests.memory")
                .unwrap()
        );
    }
}
