//! Organizations: create, get, list, update (plan, display name), delete (with cascade).

use hxb_core::store::{Batch, Precondition};
use hxb_core::{EntityStatus, Error, Organization, ResourceList, Result};

use super::state::{self, ORGS, OrgSnapshot, decode, encode};
use super::sync::Part;
use super::{SYSTEM_ACTOR, Tenancy, name_arg};
use crate::plans::{PlanUsage, check_plan_change};

impl Tenancy {
    /// Start creating organization `name`.
    pub fn create_organization(&self, name: &str) -> CreateOrganization<'_> {
        CreateOrganization {
            t: self,
            name: name.to_owned(),
            plan: "starter".to_owned(),
            display_name: None,
            actor: SYSTEM_ACTOR.to_owned(),
        }
    }

    /// One organization.
    pub async fn organization(&self, name: &str) -> Result<Organization> {
        let r = self
            .store()
            .get(ORGS, name)
            .await?
            .ok_or_else(|| Error::not_found("organization", name))?;
        decode(&r)
    }

    /// Every organization, by name.
    pub async fn organizations(&self) -> Result<Vec<Organization>> {
        self.store()
            .list(ORGS, "")
            .await?
            .iter()
            .map(decode)
            .collect()
    }

    /// Start updating organization `name`.
    pub fn update_organization(&self, name: &str) -> UpdateOrganization<'_> {
        UpdateOrganization {
            t: self,
            name: name.to_owned(),
            plan: None,
            display_name: None,
            actor: SYSTEM_ACTOR.to_owned(),
        }
    }

    /// Start deleting organization `name`.
    pub fn delete_organization(&self, name: &str) -> DeleteOrganization<'_> {
        DeleteOrganization {
            t: self,
            name: name.to_owned(),
            cascade: false,
            actor: SYSTEM_ACTOR.to_owned(),
        }
    }
}

/// Builder of [`Tenancy::create_organization`].
#[must_use = "call .execute().await"]
pub struct CreateOrganization<'a> {
    t: &'a Tenancy,
    name: String,
    plan: String,
    display_name: Option<String>,
    actor: String,
}

impl CreateOrganization<'_> {
    /// The plan id (default `starter`).
    pub fn plan(mut self, plan: &str) -> Self {
        self.plan = plan.to_owned();
        self
    }

    /// Display name (default: the name).
    pub fn display_name(mut self, d: &str) -> Self {
        self.display_name = Some(d.to_owned());
        self
    }

    /// Who asks (recorded in the audit log).
    pub fn actor(mut self, actor: &str) -> Self {
        self.actor = actor.to_owned();
        self
    }

    /// Validate, record, reconcile.
    pub async fn execute(self) -> Result<Organization> {
        let (t, actor, target) = (self.t, self.actor.clone(), self.name.clone());
        t.audited(&actor, "create_organization", &target, self.run())
            .await
    }

    async fn run(self) -> Result<Organization> {
        let name = name_arg(&self.name)?;
        let plan = self.t.plans().get(&self.plan)?.id.clone();
        let _guard = self.t.lock(name.as_str()).await;
        let org = Organization {
            display_name: self.display_name.unwrap_or_else(|| name.to_string()),
            name,
            plan,
            status: EntityStatus::Pending,
            created_at: self.t.now(),
        };
        let batch = Batch::new().put(ORGS, org.name.as_str(), encode(&org)?, Precondition::Absent);
        self.t
            .commit(batch, &self.actor, "create_organization", org.name.as_str())
            .await?;
        self.t.sync(org.name.as_str(), Part::All).await?;
        self.t.organization(org.name.as_str()).await
    }
}

/// Builder of [`Tenancy::update_organization`].
#[must_use = "call .execute().await"]
pub struct UpdateOrganization<'a> {
    t: &'a Tenancy,
    name: String,
    plan: Option<String>,
    display_name: Option<String>,
    actor: String,
}

impl UpdateOrganization<'_> {
    /// Move to another plan. A downgrade current usage would violate is refused with
    /// [`QuotaExceeded`](hxb_core::ErrorKind::QuotaExceeded) listing the offending resources.
    pub fn plan(mut self, plan: &str) -> Self {
        self.plan = Some(plan.to_owned());
        self
    }

    /// New display name.
    pub fn display_name(mut self, d: &str) -> Self {
        self.display_name = Some(d.to_owned());
        self
    }

    /// Who asks.
    pub fn actor(mut self, actor: &str) -> Self {
        self.actor = actor.to_owned();
        self
    }

    /// Validate, record, reconcile.
    pub async fn execute(self) -> Result<Organization> {
        let (t, actor, target) = (self.t, self.actor.clone(), self.name.clone());
        t.audited(&actor, "update_organization", &target, self.run())
            .await
    }

    async fn run(self) -> Result<Organization> {
        let _guard = self.t.lock(&self.name).await;
        let snap = OrgSnapshot::load(self.t.store().as_ref(), &self.name).await?;
        let (mut org, rev) = snap.org.clone();
        if org.status == EntityStatus::Deleting {
            return Err(Error::precondition(format!(
                "organization {} is being deleted",
                org.name
            )));
        }
        if let Some(p) = &self.plan {
            let plan = self.t.plans().get(p)?;
            let usage = PlanUsage {
                resources: ResourceList::checked_sum(
                    snap.workspaces.values().map(|(w, _)| &w.quota),
                )?,
                workspaces: u32::try_from(snap.workspaces.len()).unwrap_or(u32::MAX),
                projects_per_workspace: 0, // a workspace's project count is bounded by its own plan
                members: snap.member_count(),
            };
            check_plan_change(&format!("organization {}", org.name), &usage, plan)?;
            org.plan = plan.id.clone();
        }
        if let Some(d) = self.display_name {
            org.display_name = d;
        }
        let batch = Batch::new().put(
            ORGS,
            org.name.as_str(),
            encode(&org)?,
            Precondition::Revision(rev),
        );
        self.t
            .commit(batch, &self.actor, "update_organization", org.name.as_str())
            .await?;
        self.t.sync(org.name.as_str(), Part::All).await?;
        self.t.organization(org.name.as_str()).await
    }
}

/// Builder of [`Tenancy::delete_organization`].
#[must_use = "call .execute().await"]
pub struct DeleteOrganization<'a> {
    t: &'a Tenancy,
    name: String,
    cascade: bool,
    actor: String,
}

impl DeleteOrganization<'_> {
    /// Also delete its workspaces and projects. Without it, an organization that still has
    /// workspaces is refused with [`FailedPrecondition`](hxb_core::ErrorKind::FailedPrecondition).
    pub fn cascade(mut self, yes: bool) -> Self {
        self.cascade = yes;
        self
    }

    /// Who asks.
    pub fn actor(mut self, actor: &str) -> Self {
        self.actor = actor.to_owned();
        self
    }

    /// Mark everything `Deleting`, reconcile (removes cluster objects), finalize what is gone.
    /// Returns whether the organization is fully gone (on a real cluster namespaces may take
    /// longer to terminate; a later reconcile finishes).
    pub async fn execute(self) -> Result<bool> {
        let (t, actor, target) = (self.t, self.actor.clone(), self.name.clone());
        t.audited(&actor, "delete_organization", &target, self.run())
            .await
    }

    async fn run(self) -> Result<bool> {
        let _guard = self.t.lock(&self.name).await;
        let snap = OrgSnapshot::load(self.t.store().as_ref(), &self.name).await?;
        if !snap.workspaces.is_empty() && !self.cascade {
            return Err(Error::precondition(format!(
                "organization {} still has {} workspace(s); delete them first or cascade",
                self.name,
                snap.workspaces.len()
            )));
        }
        let mut batch = Batch::new();
        let (mut org, rev) = snap.org.clone();
        org.status = EntityStatus::Deleting;
        batch = batch.put(
            ORGS,
            org.name.as_str(),
            encode(&org)?,
            Precondition::Revision(rev),
        );
        for (w, rev) in snap.workspaces.values() {
            let mut w = w.clone();
            w.status = EntityStatus::Deleting;
            batch = batch.put(
                state::WORKSPACES,
                &state::ws_key(&w.organization, &w.name),
                encode(&w)?,
                Precondition::Revision(*rev),
            );
        }
        for (p, rev) in snap.projects.values() {
            let mut p = p.clone();
            p.status = EntityStatus::Deleting;
            let key = state::project_key(&p.organization, &p.workspace, &p.name);
            batch = batch.put(
                state::PROJECTS,
                &key,
                encode(&p)?,
                Precondition::Revision(*rev),
            );
        }
        self.t
            .commit(batch, &self.actor, "delete_organization", org.name.as_str())
            .await?;
        self.t.sync(org.name.as_str(), Part::All).await?;
        Ok(self.t.store().get(ORGS, org.name.as_str()).await?.is_none())
    }
}
