//! Members: add (or change the role of), remove, list. Roles are checked against the level of
//! the scope (`owner`/`admin`/`member` for an organization, `admin`/`developer`/`viewer` for a
//! workspace or project); the cluster side follows from [`crate::rbac::mapping`].

use hxb_core::store::{Batch, Precondition};
use hxb_core::{EntityStatus, Error, Member, Name, Result, Role, Scope, Subject};

use super::state::{self, MEMBERS, ORGS, OrgSnapshot, decode, encode};
use super::sync::Part;
use super::{SYSTEM_ACTOR, Tenancy, name_arg};

impl Tenancy {
    /// Start adding `subject` to organization `org` (narrow with `.workspace()` /
    /// `.project()`, then give a `.role()`).
    pub fn add_member(&self, org: &str, subject: &str) -> AddMember<'_> {
        AddMember {
            t: self,
            org: org.into(),
            subject: subject.into(),
            workspace: None,
            project: None,
            role: None,
            actor: SYSTEM_ACTOR.into(),
        }
    }

    /// Start removing a membership.
    pub fn remove_member(&self, org: &str, subject: &str) -> RemoveMember<'_> {
        RemoveMember {
            t: self,
            org: org.into(),
            subject: subject.into(),
            workspace: None,
            project: None,
            actor: SYSTEM_ACTOR.into(),
        }
    }

    /// Every membership of an organization.
    pub async fn members(&self, org: &str) -> Result<Vec<Member>> {
        if self.store().get(ORGS, org).await?.is_none() {
            return Err(Error::not_found("organization", org));
        }
        self.store()
            .list(MEMBERS, &format!("{org}/"))
            .await?
            .iter()
            .map(decode)
            .collect()
    }
}

/// Build and check a scope against a snapshot.
fn scope_of(
    snap: &OrgSnapshot,
    ws: Option<&str>,
    project: Option<&str>,
) -> Result<(Scope, &'static str, Part)> {
    let organization = snap.org.0.name.clone();
    match (ws, project) {
        (None, None) => Ok((
            Scope::Organization { organization },
            "organization",
            Part::All,
        )),
        (Some(w), None) => {
            let workspace = name_arg(w)?;
            snap.workspace(&workspace)?;
            Ok((
                Scope::Workspace {
                    organization,
                    workspace: workspace.clone(),
                },
                "workspace",
                Part::Workspace(workspace),
            ))
        }
        (Some(w), Some(p)) => {
            let (workspace, project): (Name, Name) = (name_arg(w)?, name_arg(p)?);
            snap.project(&workspace, &project)?;
            Ok((
                Scope::Project {
                    organization,
                    workspace: workspace.clone(),
                    project,
                },
                "project",
                Part::Workspace(workspace),
            ))
        }
        (None, Some(_)) => Err(Error::invalid(
            "scope",
            "a project scope needs its workspace",
        )),
    }
}

/// Builder of [`Tenancy::add_member`].
#[must_use = "call .execute().await"]
pub struct AddMember<'a> {
    t: &'a Tenancy,
    org: String,
    subject: String,
    workspace: Option<String>,
    project: Option<String>,
    role: Option<String>,
    actor: String,
}

impl<'a> AddMember<'a> {
    /// Scope the membership to a workspace.
    pub fn workspace(mut self, ws: &str) -> Self {
        self.workspace = Some(ws.into());
        self
    }

    /// Scope the membership to a project (with `.workspace()`).
    pub fn project(mut self, p: &str) -> Self {
        self.project = Some(p.into());
        self
    }

    /// The role at the scope's level (required).
    pub fn role(mut self, role: &str) -> Self {
        self.role = Some(role.into());
        self
    }

    /// Who asks.
    pub fn actor(mut self, actor: &str) -> Self {
        self.actor = actor.into();
        self
    }

    /// Validate, record, reconcile the bindings.
    pub async fn execute(self) -> Result<Member> {
        let (t, actor, target) = (
            self.t,
            self.actor.clone(),
            format!("{}:{}", self.org, self.subject),
        );
        t.audited(&actor, "add_member", &target, self.run()).await
    }

    pub(crate) fn tenancy(&self) -> &'a Tenancy {
        self.t
    }

    pub(crate) fn actor_name(&self) -> &str {
        &self.actor
    }

    pub(crate) fn target(&self) -> String {
        format!("{}:{}", self.org, self.subject)
    }

    /// Check subject, scope, role and the member limit; returns the membership and the part
    /// of the organization to reconcile. Takes the organization lock while checking.
    pub(crate) async fn validate(&self) -> Result<(Member, Part)> {
        let subject = Subject::new(self.subject.clone())?;
        let _guard = self.t.lock(&self.org).await;
        let snap = OrgSnapshot::load(self.t.store().as_ref(), &self.org).await?;
        self.check(&snap, subject)
    }

    fn check(&self, snap: &OrgSnapshot, subject: Subject) -> Result<(Member, Part)> {
        if snap.org.0.status == EntityStatus::Deleting {
            return Err(Error::precondition(format!(
                "organization {} is being deleted",
                self.org
            )));
        }
        let (scope, level, part) =
            scope_of(snap, self.workspace.as_deref(), self.project.as_deref())?;
        let role: Role = Role::parse(
            level,
            self.role
                .as_deref()
                .ok_or_else(|| Error::invalid("role", "required"))?,
        )?;
        let plan = self.t.plans().get(snap.org.0.plan.as_str())?;
        let is_new_subject = !snap.members.iter().any(|m| m.subject == subject);
        if is_new_subject && snap.member_count() >= plan.limits.max_members {
            return Err(Error::precondition(format!(
                "organization {} has reached its plan's limit of {} members",
                self.org, plan.limits.max_members
            )));
        }
        Ok((
            Member {
                subject,
                scope,
                role,
                added_at: self.t.now(),
            },
            part,
        ))
    }

    async fn run(self) -> Result<Member> {
        let subject = Subject::new(self.subject.clone())?;
        let _guard = self.t.lock(&self.org).await;
        let snap = OrgSnapshot::load(self.t.store().as_ref(), &self.org).await?;
        let (member, part) = self.check(&snap, subject)?;
        let key = state::member_key(&member);
        let batch = Batch::new()
            .put(MEMBERS, &key, encode(&member)?, Precondition::None)
            .put(
                ORGS,
                snap.org.0.name.as_str(),
                encode(&snap.org.0)?,
                Precondition::Revision(snap.org.1),
            );
        self.t
            .commit(
                batch,
                &self.actor,
                "add_member",
                &format!("{key} as {}", member.role),
            )
            .await?;
        self.t.sync(&self.org, part).await?;
        Ok(member)
    }
}

/// Builder of [`Tenancy::remove_member`].
#[must_use = "call .execute().await"]
pub struct RemoveMember<'a> {
    t: &'a Tenancy,
    org: String,
    subject: String,
    workspace: Option<String>,
    project: Option<String>,
    actor: String,
}

impl RemoveMember<'_> {
    /// The membership is at a workspace.
    pub fn workspace(mut self, ws: &str) -> Self {
        self.workspace = Some(ws.into());
        self
    }

    /// The membership is at a project (with `.workspace()`).
    pub fn project(mut self, p: &str) -> Self {
        self.project = Some(p.into());
        self
    }

    /// Who asks.
    pub fn actor(mut self, actor: &str) -> Self {
        self.actor = actor.into();
        self
    }

    /// Remove, reconcile (the subject's bindings go).
    pub async fn execute(self) -> Result<()> {
        let (t, actor, target) = (
            self.t,
            self.actor.clone(),
            format!("{}:{}", self.org, self.subject),
        );
        t.audited(&actor, "remove_member", &target, self.run())
            .await
    }

    async fn run(self) -> Result<()> {
        let subject = Subject::new(self.subject.clone())?;
        let _guard = self.t.lock(&self.org).await;
        let snap = OrgSnapshot::load(self.t.store().as_ref(), &self.org).await?;
        let (scope, _, part) = scope_of(&snap, self.workspace.as_deref(), self.project.as_deref())?;
        let found = snap
            .members
            .iter()
            .find(|m| m.subject == subject && m.scope == scope)
            .ok_or_else(|| Error::not_found("member", format!("{subject} in {}", self.org)))?;
        let key = state::member_key(found);
        let batch = Batch::new().delete(MEMBERS, &key, Precondition::Exists);
        self.t
            .commit(batch, &self.actor, "remove_member", &key)
            .await?;
        self.t.sync(&self.org, part).await?;
        Ok(())
    }
}
