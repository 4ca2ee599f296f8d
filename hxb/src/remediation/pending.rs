//! Remediations waiting for approval, kept in the engine's state store, and the audit trail.

use hxb_core::store::{Batch, Precondition};
use hxb_core::{Error, ErrorKind, Result, Subject, Timestamp};
use serde::{Deserialize, Serialize};

use super::{Action, Decision, Outcome, Remediation};
use crate::Engine;

/// The state-store collection of pending remediations.
const PENDING: &str = "remediation_pending";
/// The audit log the guard and the tenancy write to.
const AUDIT_LOG: &str = "audit";
/// Audit entries about remediation.
const AUDITED: [&str; 3] = ["remediate", "approve_remediation", "reject_remediation"];

/// An action the guard accepted but the policy does not run without a second person's
/// approval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingRemediation {
    /// Id to approve it with ([`Engine::approve_remediation`]).
    pub id: String,
    /// The action.
    pub action: Action,
    /// Who asked.
    pub requested_by: String,
    /// When.
    pub requested_at: Timestamp,
    /// Pods it would disrupt, as planned when asked.
    pub disrupted_pods: u32,
    /// What it would change, as planned when asked.
    pub description: String,
}

/// One remediation entry of the engine's audit log: every request (denied, dry run,
/// awaiting approval, executed), every approval and every rejection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Position in the audit log.
    pub seq: u64,
    /// When.
    pub at: Option<Timestamp>,
    /// Who (the requester; for an approval, the approver).
    pub actor: String,
    /// `remediate`, `approve_remediation` or `reject_remediation`.
    pub action: String,
    /// The action, in words (with the pending id for approvals).
    pub target: String,
    /// `ok`, `dry-run`, `awaiting approval`, `rejected` or `refused: <kind>: <reason>`.
    pub result: String,
}

/// Record `outcome` (awaiting approval) as pending; returns the record.
pub(super) async fn record(
    engine: &Engine,
    subject: &Subject,
    outcome: &Outcome,
) -> Result<PendingRemediation> {
    let store = engine.store()?;
    for _ in 0..8 {
        let id = format!("rem-{}", store.revision().await? + 1);
        let rec = PendingRemediation {
            id: id.clone(),
            action: outcome.action.clone(),
            requested_by: subject.as_str().to_owned(),
            requested_at: engine.clock().now(),
            disrupted_pods: outcome.disrupted_pods,
            description: outcome.description.clone(),
        };
        let batch = Batch::new().put(PENDING, &id, encode(&rec)?, Precondition::Absent);
        match store.commit(batch).await {
            Ok(_) => return Ok(rec),
            // Another writer took this revision: try the next one.
            Err(e) if matches!(e.kind(), ErrorKind::Conflict | ErrorKind::AlreadyExists) => {}
            Err(e) => return Err(e),
        }
    }
    Err(Error::unavailable(
        "could not record the pending remediation: the store is too busy",
        None,
    ))
}

fn encode<T: Serialize>(v: &T) -> Result<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| Error::internal(e.to_string()))
}

fn decode<T: for<'de> Deserialize<'de>>(v: serde_json::Value) -> Result<T> {
    serde_json::from_value(v).map_err(|e| Error::internal(format!("stored record: {e}")))
}

impl Engine {
    /// Remediations waiting for approval, oldest first.
    pub async fn pending_remediations(&self) -> Result<Vec<PendingRemediation>> {
        let mut out: Vec<PendingRemediation> = self
            .store()?
            .list(PENDING, "")
            .await?
            .into_iter()
            .map(|r| decode(r.value))
            .collect::<Result<_>>()?;
        out.sort_by_key(|p| (p.requested_at, p.id.clone()));
        Ok(out)
    }

    /// Approve the pending remediation `id` as `approver` and run it through the guard again
    /// (the approver must be allowed to do it too and, with four eyes, be someone other than
    /// the requester; the blast-radius budget is checked at this moment). On success the
    /// record is gone; on any refusal (`Forbidden`, `NotFound`, …) the record stays and
    /// nothing changes. An unknown id is `NotFound`.
    pub async fn approve_remediation(&self, id: &str, approver: &str) -> Result<Remediation> {
        self.telemetry()
            .observe("approve_remediation", async {
                let approver = Subject::new(approver)?;
                let store = self.store()?;
                let rec = store
                    .get(PENDING, id)
                    .await?
                    .ok_or_else(|| Error::not_found("pending remediation", id))?;
                let pending: PendingRemediation = decode(rec.value.clone())?;
                let requester = Subject::new(pending.requested_by.clone())?;
                let guard = self.remediation_guard()?;
                // Claim the record first, so two approvals cannot both run the action.
                store
                    .commit(Batch::new().delete(PENDING, id, Precondition::Revision(rec.revision)))
                    .await?;
                let result = guard
                    .remediate(&requester, pending.action.clone())
                    .apply()
                    .approved_by(approver.clone())
                    .execute()
                    .await;
                let verdict = match &result {
                    Ok(o) if o.decision == Decision::Executed => "ok".to_owned(),
                    Ok(o) => format!("{:?}", o.decision),
                    Err(e) => format!("refused: {}: {e}", e.kind()),
                };
                let mut batch = Batch::new().append(
                    AUDIT_LOG,
                    serde_json::json!({
                        "at": self.clock().now(),
                        "actor": approver.as_str(),
                        "action": "approve_remediation",
                        "target": format!("{id}: {}", pending.action),
                        "result": verdict,
                    }),
                );
                if result.is_err() {
                    // Refused: the record goes back as it was.
                    batch = batch.put(PENDING, id, rec.value, Precondition::Absent);
                }
                store.commit(batch).await?;
                Ok(Remediation {
                    outcome: result?,
                    pending: None,
                })
            })
            .await
    }

    /// Decline the pending remediation `id` as `who`: the requester may withdraw their own
    /// request; anyone else needs the rights the action itself needs (those of an approver).
    /// The record is removed and the rejection audited; the removed record is returned.
    /// `NotFound` for an unknown id, `Forbidden` for someone without the rights (nothing
    /// changes), `Conflict` if the record changed meanwhile (approved or rejected by someone
    /// else).
    pub async fn reject_remediation(&self, id: &str, who: &str) -> Result<PendingRemediation> {
        self.telemetry()
            .observe("reject_remediation", async {
                let who = Subject::new(who)?;
                let store = self.store()?;
                let rec = store
                    .get(PENDING, id)
                    .await?
                    .ok_or_else(|| Error::not_found("pending remediation", id))?;
                let pending: PendingRemediation = decode(rec.value)?;
                if pending.requested_by != who.as_str() {
                    let (verb, group, resource) = pending.action.permission();
                    let ns = pending.action.namespace();
                    let authorizer = self.remediation_guard()?.authorizer();
                    if !authorizer.allows(&who, verb, group, resource, ns).await? {
                        return Err(Error::forbidden(format!(
                            "{who} may not reject {id}: rejecting needs the rights to {}",
                            pending.action
                        )));
                    }
                }
                let entry = serde_json::json!({
                    "at": self.clock().now(),
                    "actor": who.as_str(),
                    "action": "reject_remediation",
                    "target": format!("{id}: {}", pending.action),
                    "result": "rejected",
                });
                let batch = Batch::new()
                    .delete(PENDING, id, Precondition::Revision(rec.revision))
                    .append(AUDIT_LOG, entry);
                store.commit(batch).await?;
                Ok(pending)
            })
            .await
    }

    /// The remediation entries of the audit log (requests, approvals and rejections), oldest first;
    /// at most the last `limit`.
    pub async fn remediation_audit(&self, limit: usize) -> Result<Vec<AuditRecord>> {
        let store = self.store()?;
        let mut out = std::collections::VecDeque::new();
        let mut after = 0;
        loop {
            let page = store.read_log(AUDIT_LOG, after, 1000).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for e in page {
                let action = e.entry["action"].as_str().unwrap_or_default();
                if !AUDITED.contains(&action) {
                    continue;
                }
                let text = |k: &str| e.entry[k].as_str().unwrap_or_default().to_owned();
                out.push_back(AuditRecord {
                    seq: e.seq,
                    at: serde_json::from_value(e.entry["at"].clone()).ok(),
                    actor: text("actor"),
                    action: action.to_owned(),
                    target: text("target"),
                    result: text("result"),
                });
                if out.len() > limit {
                    out.pop_front();
                }
            }
        }
        Ok(out.into())
    }
}
