//! Invitations: expiring, single-use tokens that become memberships when accepted.
//!
//! A token is 128 bits from SipHash keyed with the process's random `RandomState` keys over a
//! counter and the clock — unpredictable without the key, but not a vetted CSPRNG; embedders
//! with stricter needs should deliver tokens over an authenticated channel anyway. Acceptance
//! marks the invitation used and adds the member in one atomic batch with a compare-and-swap
//! on the invitation, so two concurrent acceptances cannot both succeed.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hxb_core::store::{Batch, Precondition};
use hxb_core::{EntityStatus, Error, Member, Result, Role, Scope, Subject, Timestamp};
use serde::{Deserialize, Serialize};

use super::state::{self, MEMBERS, ORGS, OrgSnapshot, decode, encode};
use super::sync::Part;
use super::{SYSTEM_ACTOR, Tenancy};

/// Collection of invitations (keyed by token).
pub const INVITATIONS: &str = "invitations";

/// A pending (or spent) invitation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    /// The secret token.
    pub token: String,
    /// Who is invited.
    pub subject: Subject,
    /// Where.
    pub scope: Scope,
    /// As what.
    pub role: Role,
    /// Valid until.
    pub expires_at: Timestamp,
    /// Whether it was accepted.
    pub used: bool,
}

fn new_token(now: Timestamp) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let state = RandomState::new();
    let a = state.hash_one((n, now.as_nanosecond(), 0u8));
    let b = state.hash_one((n, now.as_nanosecond(), 1u8));
    format!("{a:016x}{b:016x}")
}

impl Tenancy {
    /// Start inviting `subject` into organization `org` (narrow with `.workspace()` /
    /// `.project()`, give a `.role()`).
    pub fn invite(&self, org: &str, subject: &str) -> Invite<'_> {
        Invite {
            inner: self.add_member(org, subject),
            valid_for: Duration::from_secs(7 * 24 * 3600),
        }
    }

    /// Accept an invitation: the invited subject becomes a member. An unknown token is
    /// [`NotFound`](hxb_core::ErrorKind::NotFound); an expired or already used one is
    /// [`FailedPrecondition`](hxb_core::ErrorKind::FailedPrecondition); nothing changes then.
    pub async fn accept_invitation(&self, token: &str) -> Result<Member> {
        self.audited(
            SYSTEM_ACTOR,
            "accept_invitation",
            "invitation",
            self.accept(token),
        )
        .await
    }

    async fn accept(&self, token: &str) -> Result<Member> {
        let rec = self
            .store()
            .get(INVITATIONS, token)
            .await?
            .ok_or_else(|| Error::not_found("invitation", "(token)"))?;
        let mut inv: Invitation = decode(&rec)?;
        let org = inv.scope.organization().to_string();
        let _guard = self.lock(&org).await;
        let now = self.now();
        if inv.used {
            return Err(Error::precondition("invitation already used"));
        }
        if now >= inv.expires_at {
            return Err(Error::precondition(format!(
                "invitation expired at {}",
                inv.expires_at
            )));
        }
        let snap = OrgSnapshot::load(self.store().as_ref(), &org).await?;
        if snap.org.0.status == EntityStatus::Deleting {
            return Err(Error::precondition(format!(
                "organization {org} is being deleted"
            )));
        }
        let part = match &inv.scope {
            Scope::Workspace { workspace, .. } | Scope::Project { workspace, .. } => {
                snap.workspace(workspace)?;
                Part::Workspace(workspace.clone())
            }
            _ => Part::All,
        };
        let member = Member {
            subject: inv.subject.clone(),
            scope: inv.scope.clone(),
            role: inv.role,
            added_at: now,
        };
        inv.used = true;
        let batch = Batch::new()
            .put(
                INVITATIONS,
                token,
                encode(&inv)?,
                Precondition::Revision(rec.revision),
            )
            .put(
                MEMBERS,
                &state::member_key(&member),
                encode(&member)?,
                Precondition::None,
            )
            .put(
                ORGS,
                &org,
                encode(&snap.org.0)?,
                Precondition::Revision(snap.org.1),
            );
        self.commit(
            batch,
            inv.subject.as_str(),
            "accept_invitation",
            &format!("{} as {}", state::member_key(&member), member.role),
        )
        .await?;
        self.sync(&org, part).await?;
        Ok(member)
    }
}

/// Builder of [`Tenancy::invite`].
#[must_use = "call .execute().await"]
pub struct Invite<'a> {
    inner: super::AddMember<'a>,
    valid_for: Duration,
}

impl Invite<'_> {
    /// Scope to a workspace.
    pub fn workspace(mut self, ws: &str) -> Self {
        self.inner = self.inner.workspace(ws);
        self
    }

    /// Scope to a project (with `.workspace()`).
    pub fn project(mut self, p: &str) -> Self {
        self.inner = self.inner.project(p);
        self
    }

    /// The role at the scope's level (required).
    pub fn role(mut self, role: &str) -> Self {
        self.inner = self.inner.role(role);
        self
    }

    /// How long the token stays valid (default 7 days).
    pub fn valid_for(mut self, d: Duration) -> Self {
        self.valid_for = d;
        self
    }

    /// Who invites.
    pub fn actor(mut self, actor: &str) -> Self {
        self.inner = self.inner.actor(actor);
        self
    }

    /// Validate (scope, role, member limit) and record the invitation; returns it with its
    /// token.
    pub async fn execute(self) -> Result<Invitation> {
        let t = self.inner.tenancy();
        let (actor, target) = (self.inner.actor_name().to_owned(), self.inner.target());
        t.audited(&actor, "invite", &target, self.run()).await
    }

    async fn run(self) -> Result<Invitation> {
        let t = self.inner.tenancy();
        let (member, _) = self.inner.validate().await?;
        let now = t.now();
        let expires_at = now
            .checked_add(self.valid_for)
            .map_err(|e| Error::invalid("valid_for", e.to_string()))?;
        let inv = Invitation {
            token: new_token(now),
            subject: member.subject,
            scope: member.scope,
            role: member.role,
            expires_at,
            used: false,
        };
        let target = format!("{} as {}", inv.subject, inv.role);
        let batch = Batch::new().put(INVITATIONS, &inv.token, encode(&inv)?, Precondition::Absent);
        t.commit(batch, self.inner.actor_name(), "invite", &target)
            .await?;
        Ok(inv)
    }
}
