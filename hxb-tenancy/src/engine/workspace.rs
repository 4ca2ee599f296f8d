//! Workspaces: create, get, list, update (plan, quota), delete (with cascade).
//!
//! A workspace's quota is carved out of its organization's plan quota: Σ workspace quotas ≤
//! organization plan quota, checked under the organization lock. A plan change between shared
//! and dedicated re-renders every project namespace (node selector and toleration
//! annotations) in the same reconcile.

use hxb_core::store::{Batch, Precondition};
use hxb_core::{EntityStatus, Error, ResourceList, Result, Workspace};

use super::state::{self, ORGS, OrgSnapshot, WORKSPACES, decode, encode};
use super::sync::Part;
use super::{SYSTEM_ACTOR, Tenancy, name_arg};
use crate::ledger::{check_carve, check_shrink};
use crate::plans::{PlanUsage, check_plan_change};

impl Tenancy {
    /// Start creating workspace `name` in organization `org`.
    pub fn create_workspace(&self, org: &str, name: &str) -> CreateWorkspace<'_> {
        CreateWorkspace {
            t: self,
            org: org.into(),
            name: name.into(),
            plan: None,
            quota: None,
            actor: SYSTEM_ACTOR.into(),
        }
    }

    /// One workspace.
    pub async fn workspace(&self, org: &str, name: &str) -> Result<Workspace> {
        let key = format!("{org}/{name}");
        let r = self
            .store()
            .get(WORKSPACES, &key)
            .await?
            .ok_or_else(|| Error::not_found("workspace", key))?;
        decode(&r)
    }

    /// Workspaces of an organization, by name.
    pub async fn workspaces(&self, org: &str) -> Result<Vec<Workspace>> {
        if self.store().get(ORGS, org).await?.is_none() {
            return Err(Error::not_found("organization", org));
        }
        self.store()
            .list(WORKSPACES, &format!("{org}/"))
            .await?
            .iter()
            .map(decode)
            .collect()
    }

    /// Start updating a workspace.
    pub fn update_workspace(&self, org: &str, name: &str) -> UpdateWorkspace<'_> {
        UpdateWorkspace {
            t: self,
            org: org.into(),
            name: name.into(),
            plan: None,
            quota: None,
            actor: SYSTEM_ACTOR.into(),
        }
    }

    /// Start deleting a workspace.
    pub fn delete_workspace(&self, org: &str, name: &str) -> DeleteWorkspace<'_> {
        DeleteWorkspace {
            t: self,
            org: org.into(),
            name: name.into(),
            cascade: false,
            actor: SYSTEM_ACTOR.into(),
        }
    }
}

fn live_org(snap: &OrgSnapshot) -> Result<()> {
    if snap.org.0.status == EntityStatus::Deleting {
        return Err(Error::precondition(format!(
            "organization {} is being deleted",
            snap.org.0.name
        )));
    }
    Ok(())
}

/// Check `quota` for workspace `ws` against the organization plan, the other workspaces'
/// quotas counted (its own old quota excluded).
fn check_org_room(t: &Tenancy, snap: &OrgSnapshot, ws: &str, quota: &ResourceList) -> Result<()> {
    let org_plan = t.plans().get(snap.org.0.plan.as_str())?;
    let siblings: Vec<&ResourceList> = snap
        .workspaces
        .values()
        .filter(|(w, _)| w.name.as_str() != ws)
        .map(|(w, _)| &w.quota)
        .collect();
    check_carve(
        &format!("organization {} plan {}", snap.org.0.name, org_plan.id),
        &org_plan.quota,
        &siblings,
        &ResourceList::new(),
        quota,
    )
}

/// Builder of [`Tenancy::create_workspace`].
#[must_use = "call .execute().await"]
pub struct CreateWorkspace<'a> {
    t: &'a Tenancy,
    org: String,
    name: String,
    plan: Option<String>,
    quota: Option<ResourceList>,
    actor: String,
}

impl CreateWorkspace<'_> {
    /// The workspace plan (default: the organization's); its kind decides shared or dedicated
    /// nodes, its limits the project count.
    pub fn plan(mut self, plan: &str) -> Self {
        self.plan = Some(plan.into());
        self
    }

    /// Quota carved from the organization (default: the workspace plan's quota).
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
    pub async fn execute(self) -> Result<Workspace> {
        let (t, actor, target) = (
            self.t,
            self.actor.clone(),
            format!("{}/{}", self.org, self.name),
        );
        t.audited(&actor, "create_workspace", &target, self.run())
            .await
    }

    async fn run(self) -> Result<Workspace> {
        let name = name_arg(&self.name)?;
        let _guard = self.t.lock(&self.org).await;
        let snap = OrgSnapshot::load(self.t.store().as_ref(), &self.org).await?;
        live_org(&snap)?;
        let org = &snap.org.0;
        if snap.workspaces.contains_key(&name) {
            return Err(Error::already_exists(
                "workspace",
                format!("{}/{name}", org.name),
            ));
        }
        let org_plan = self.t.plans().get(org.plan.as_str())?;
        if snap.workspaces.len() >= org_plan.limits.max_workspaces as usize {
            return Err(Error::precondition(format!(
                "organization {} has reached its plan's limit of {} workspaces",
                org.name, org_plan.limits.max_workspaces
            )));
        }
        let plan = self
            .t
            .plans()
            .get(self.plan.as_deref().unwrap_or(org.plan.as_str()))?;
        let quota = self.quota.unwrap_or_else(|| plan.quota.clone());
        check_org_room(self.t, &snap, name.as_str(), &quota)?;
        let ws = Workspace {
            organization: org.name.clone(),
            name,
            plan: plan.id.clone(),
            quota,
            status: EntityStatus::Pending,
            created_at: self.t.now(),
        };
        let key = state::ws_key(&ws.organization, &ws.name);
        let batch = Batch::new()
            .put(WORKSPACES, &key, encode(&ws)?, Precondition::Absent)
            // compare-and-swap on the parent: a concurrent writer elsewhere forces a re-check
            .put(
                ORGS,
                org.name.as_str(),
                encode(org)?,
                Precondition::Revision(snap.org.1),
            );
        self.t
            .commit(batch, &self.actor, "create_workspace", &key)
            .await?;
        self.t
            .sync(&self.org, Part::Workspace(ws.name.clone()))
            .await?;
        self.t.workspace(&self.org, ws.name.as_str()).await
    }
}

/// Builder of [`Tenancy::update_workspace`].
#[must_use = "call .execute().await"]
pub struct UpdateWorkspace<'a> {
    t: &'a Tenancy,
    org: String,
    name: String,
    plan: Option<String>,
    quota: Option<ResourceList>,
    actor: String,
}

impl UpdateWorkspace<'_> {
    /// Move to another plan (a shared ⇄ dedicated change moves the workspace's namespaces to
    /// or off its node pool). A downgrade its projects would violate is refused, listing them.
    pub fn plan(mut self, plan: &str) -> Self {
        self.plan = Some(plan.into());
        self
    }

    /// New quota: at least what its projects hold, at most the organization's room.
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
    pub async fn execute(self) -> Result<Workspace> {
        let (t, actor, target) = (
            self.t,
            self.actor.clone(),
            format!("{}/{}", self.org, self.name),
        );
        t.audited(&actor, "update_workspace", &target, self.run())
            .await
    }

    async fn run(self) -> Result<Workspace> {
        let name = name_arg(&self.name)?;
        let _guard = self.t.lock(&self.org).await;
        let snap = OrgSnapshot::load(self.t.store().as_ref(), &self.org).await?;
        live_org(&snap)?;
        let (mut ws, rev) = snap.workspace(&name)?.clone();
        if ws.status == EntityStatus::Deleting {
            return Err(Error::precondition(format!(
                "workspace {}/{name} is being deleted",
                self.org
            )));
        }
        let held = snap.carved(&name, None)?;
        let count = u32::try_from(snap.projects_of(&name).count()).unwrap_or(u32::MAX);
        if let Some(p) = &self.plan {
            let plan = self.t.plans().get(p)?;
            let usage = PlanUsage {
                resources: held.clone(),
                workspaces: 0,
                projects_per_workspace: count,
                members: 0,
            };
            // the workspace's projects must fit the target plan's quota and project limit
            let mut target = plan.clone();
            target.quota = self.quota.clone().unwrap_or_else(|| ws.quota.clone());
            check_plan_change(&format!("workspace {}/{name}", self.org), &usage, &target)?;
            #[cfg(feature = "policy")]
            self.t.check_plan_policy(&snap, &name, plan.id.as_str())?;
            ws.plan = plan.id.clone();
        }
        if let Some(q) = self.quota {
            check_shrink(
                &format!("workspace {}/{name} (held by its projects)", self.org),
                &held,
                &q,
            )?;
            check_org_room(self.t, &snap, name.as_str(), &q)?;
            ws.quota = q;
        }
        ws.status = EntityStatus::Updating;
        let key = state::ws_key(&ws.organization, &ws.name);
        let batch = Batch::new()
            .put(WORKSPACES, &key, encode(&ws)?, Precondition::Revision(rev))
            .put(
                ORGS,
                snap.org.0.name.as_str(),
                encode(&snap.org.0)?,
                Precondition::Revision(snap.org.1),
            );
        self.t
            .commit(batch, &self.actor, "update_workspace", &key)
            .await?;
        self.t
            .sync(&self.org, Part::Workspace(name.clone()))
            .await?;
        self.t.workspace(&self.org, name.as_str()).await
    }
}

/// Builder of [`Tenancy::delete_workspace`].
#[must_use = "call .execute().await"]
pub struct DeleteWorkspace<'a> {
    t: &'a Tenancy,
    org: String,
    name: String,
    cascade: bool,
    actor: String,
}

impl DeleteWorkspace<'_> {
    /// Also delete its projects (otherwise a workspace with projects is refused).
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
            format!("{}/{}", self.org, self.name),
        );
        t.audited(&actor, "delete_workspace", &target, self.run())
            .await
    }

    async fn run(self) -> Result<bool> {
        let name = name_arg(&self.name)?;
        let _guard = self.t.lock(&self.org).await;
        let snap = OrgSnapshot::load(self.t.store().as_ref(), &self.org).await?;
        let (mut ws, rev) = snap.workspace(&name)?.clone();
        let projects: Vec<_> = snap
            .projects
            .values()
            .filter(|(p, _)| p.workspace == name)
            .collect();
        if !projects.is_empty() && !self.cascade {
            return Err(Error::precondition(format!(
                "workspace {}/{name} still has {} project(s); delete them first or cascade",
                self.org,
                projects.len()
            )));
        }
        ws.status = EntityStatus::Deleting;
        let key = state::ws_key(&ws.organization, &ws.name);
        let mut batch =
            Batch::new().put(WORKSPACES, &key, encode(&ws)?, Precondition::Revision(rev));
        for (p, rev) in projects {
            let mut p = p.clone();
            p.status = EntityStatus::Deleting;
            let k = state::project_key(&p.organization, &p.workspace, &p.name);
            batch = batch.put(
                state::PROJECTS,
                &k,
                encode(&p)?,
                Precondition::Revision(*rev),
            );
        }
        self.t
            .commit(batch, &self.actor, "delete_workspace", &key)
            .await?;
        self.t.sync(&self.org, Part::Workspace(name)).await?;
        Ok(self.t.store().get(WORKSPACES, &key).await?.is_none())
    }
}
