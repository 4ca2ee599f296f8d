//! Guarded remediation and the operations agent, wired to the engine.
//!
//! hxb-ai's [`Guard`] decides every change an operator, an automation or an LLM agent asks
//! for: RBAC of the caller, blast radius, dry run by default, approval, audit. The engine
//! supplies what the guard needs — the caller's RBAC from the tenancy
//! ([`TenancyAuthorizer`]), quota raises within the workspace's headroom and function
//! rollbacks ([`TenancyPlatform`]) — keeps one guard (and so one hourly disruption budget)
//! per engine under a [`Policy`] set with [`Engine::set_remediation_policy`], and keeps the
//! actions waiting for approval in its state store.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> hxb::Result<()> {
//! use hxb::remediation::{Action, Decision, WorkloadKind};
//! let engine = hxb::Engine::embedded()?;
//! let t = engine.tenancy()?;
//! t.create_organization("acme").execute().await?;
//! t.create_workspace("acme", "dev").execute().await?;
//! t.create_project("acme", "dev", "web").execute().await?;
//! t.add_member("acme", "dev@acme.example").workspace("dev").role("developer").execute().await?;
//! t.add_member("acme", "lead@acme.example").workspace("dev").role("admin").execute().await?;
//! t.create_app("acme", "dev", "web", "api").stateless("nginx").execute().await?;
//!
//! let restart = Action::Restart {
//!     kind: WorkloadKind::Deployment, namespace: "acme-dev-web".into(), name: "api".into(),
//! };
//! // A dry run by default; with `.apply()` the default policy asks for an approval.
//! let preview = engine.remediate("dev@acme.example", restart.clone()).execute().await?;
//! assert_eq!(preview.outcome.decision, Decision::DryRun);
//! let asked = engine.remediate("dev@acme.example", restart).apply().execute().await?;
//! let id = asked.pending.expect("waiting for approval");
//! let done = engine.approve_remediation(&id, "lead@acme.example").await?;
//! assert_eq!(done.outcome.decision, Decision::Executed);
//! assert!(engine.pending_remediations().await?.is_empty());
//! # Ok(()) }
//! ```

mod adapters;
mod agent;
mod pending;

pub use adapters::{TenancyAuthorizer, TenancyPlatform};
pub use agent::{AgentOptions, AgentReply, OLLAMA_URL, Provider, ProviderOptions};
pub use hxb_ai::agent::{AgentAnswer, StopReason, ToolTrace, WriteMode};
pub use hxb_ai::remediate::{Action, ActionKind, Decision, Guard, Outcome, Policy, WorkloadKind};
pub use pending::{AuditRecord, PendingRemediation};

use std::sync::Arc;

use hxb_core::{Result, Subject};
use parking_lot::Mutex;
use serde::Serialize;

use crate::Engine;

/// The engine's remediation state: the policy and the guard built from it (lazily, so an
/// engine that never remediates never builds one).
#[derive(Default)]
pub(crate) struct State {
    policy: Mutex<Policy>,
    guard: Mutex<Option<Guard>>,
}

/// What [`Engine::remediate`] and [`Engine::approve_remediation`] return.
#[derive(Debug, Clone, Serialize)]
pub struct Remediation {
    /// The guard's decision and what changed (or would).
    #[serde(flatten)]
    pub outcome: Outcome,
    /// When the decision is [`Decision::NeedsApproval`]: the id of the pending record to
    /// approve with [`Engine::approve_remediation`].
    pub pending: Option<String>,
}

/// A remediation being prepared; see [`Engine::remediate`].
#[must_use = "call .execute().await"]
#[derive(Debug)]
pub struct RemediateRequest<'a> {
    engine: &'a Engine,
    subject: String,
    action: Action,
    apply: bool,
}

impl RemediateRequest<'_> {
    /// Really do it (the default is a dry run). Actions the policy does not run
    /// automatically are recorded as pending instead and wait for an approval.
    pub fn apply(mut self) -> Self {
        self.apply = true;
        self
    }

    /// Run the guard (RBAC, blast radius, policy, audit) and, when it allows, the action.
    /// A refusal is `Forbidden` (RBAC, blast radius, scale-up limit), `InvalidInput` (the
    /// action) or `NotFound` (the target), and nothing changes.
    pub async fn execute(self) -> Result<Remediation> {
        let engine = self.engine;
        engine
            .telemetry()
            .observe("remediate", async {
                let subject = Subject::new(self.subject)?;
                let guard = engine.remediation_guard()?;
                let req = guard.remediate(&subject, self.action);
                let outcome = if self.apply { req.apply() } else { req }.execute().await?;
                let pending = if outcome.decision == Decision::NeedsApproval {
                    Some(pending::record(engine, &subject, &outcome).await?.id)
                } else {
                    None
                };
                Ok(Remediation { outcome, pending })
            })
            .await
    }
}

impl Engine {
    /// The guard every remediation of this engine goes through: RBAC from the tenancy,
    /// quota raises and function rollbacks through it, audit to the engine's store, the
    /// policy of [`set_remediation_policy`](Self::set_remediation_policy). One per engine,
    /// shared by clones (so is its hourly disruption budget).
    pub fn remediation_guard(&self) -> Result<Guard> {
        let inner = self.live()?;
        let state = &inner.remediation;
        let mut guard = state.guard.lock();
        if let Some(g) = guard.as_ref() {
            return Ok(g.clone());
        }
        let t = self.tenancy()?;
        let g = Guard::new(
            self.cluster()?,
            Arc::new(TenancyAuthorizer(t.clone())),
            self.store()?,
            self.clock(),
            state.policy.lock().clone(),
        )
        .with_platform(Arc::new(TenancyPlatform(t)));
        *guard = Some(g.clone());
        Ok(g)
    }

    /// Which actions run without approval and how much may be disrupted (default
    /// [`Policy::default`]: everything needs approval, at most 20 pods per hour, one
    /// workload's pods once per hour, scale-ups at most ×2, four eyes). The disruption
    /// already spent this hour carries over. `InvalidInput` for a limit that is not a
    /// finite, non-negative number (nothing changes).
    pub fn set_remediation_policy(&self, policy: Policy) -> Result<()> {
        let inner = self.live()?;
        check_policy(&policy)?;
        let state = &inner.remediation;
        let mut guard = state.guard.lock();
        if let Some(g) = guard.as_mut() {
            *g = g.with_policy(policy.clone());
        }
        *state.policy.lock() = policy;
        Ok(())
    }

    /// The remediation policy in force.
    pub fn remediation_policy(&self) -> Result<Policy> {
        Ok(self.live()?.remediation.policy.lock().clone())
    }

    /// Prepare `action` on behalf of `subject` (a user as the tenancy knows them): a dry run
    /// unless `.apply()`; see [`RemediateRequest::execute`].
    pub fn remediate(&self, subject: &str, action: Action) -> RemediateRequest<'_> {
        RemediateRequest {
            engine: self,
            subject: subject.to_owned(),
            action,
            apply: false,
        }
    }
}

fn check_policy(p: &Policy) -> Result<()> {
    for (field, v) in [
        (
            "max_workload_fraction_per_hour",
            p.max_workload_fraction_per_hour,
        ),
        ("max_scale_up_factor", p.max_scale_up_factor),
    ] {
        if !v.is_finite() || v < 0.0 {
            return Err(hxb_core::Error::invalid(
                field,
                format!("{v} is not a finite, non-negative number"),
            ));
        }
    }
    Ok(())
}
