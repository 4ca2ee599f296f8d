//! Remediation playbooks behind a guard.
//!
//! An [`Action`] (restart a workload, scale it, roll back a function version, raise a project
//! quota, cordon a node) goes through the [`Guard`], which, in order:
//!
//! 1. validates the action;
//! 2. checks the caller's RBAC through an [`Authorizer`] (the same role model as the engine:
//!    an agent acting for a user can never do more than that user);
//! 3. reads the target and computes the blast radius — pods disrupted — and refuses anything
//!    over the [`Policy`] budget (at most N pods per hour overall, at most X% of one workload
//!    per hour, scale-ups at most ×F);
//! 4. dry-runs by default: the [`Outcome`] says what would change and nothing changes;
//! 5. executes only actions the policy marks automatic, or that carry an approval from a
//!    second, authorized person;
//! 6. audits every decision — denied, dry-run, awaiting approval, executed — to the state
//!    store's `audit` log.
//!
//! ```no_run
//! # async fn demo(guard: hxb_ai::remediate::Guard) -> hxb_core::Result<()> {
//! use hxb_ai::remediate::{Action, WorkloadKind};
//! use hxb_core::Subject;
//! let alice = Subject::new("alice@acme.example")?;
//! let restart = Action::Restart { kind: WorkloadKind::Deployment, namespace: "shop".into(), name: "api".into() };
//! let preview = guard.remediate(&alice, restart.clone()).execute().await?; // dry run
//! println!("{}", preview.description);
//! let done = guard.remediate(&alice, restart).apply().execute().await?;
//! # Ok(()) }
//! ```

mod action;
mod guard;

pub use action::{Action, ActionKind, WorkloadKind};
pub use guard::{
    Authorizer, Decision, Guard, Outcome, PlatformActions, Policy, RemediationRequest,
};
