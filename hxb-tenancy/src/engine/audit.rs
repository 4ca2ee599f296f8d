//! The audit log: who did what, when, with what result.
//!
//! A successful change is recorded in the same atomic store batch as the change itself, so
//! the log never claims a change that did not happen nor misses one that did. A refused
//! request is recorded on its own (result `refused`), changing nothing else.

use hxb_core::store::Batch;
use hxb_core::{Error, Result, StateStore, Timestamp};
use serde::{Deserialize, Serialize};

use super::state::{AUDIT, encode};

/// One audit record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Sequence number in the log (filled in when read).
    #[serde(default)]
    pub seq: u64,
    /// When.
    pub at: Timestamp,
    /// Who (a subject, or `system`).
    pub actor: String,
    /// What, e.g. `create_workspace`.
    pub action: String,
    /// On what, e.g. `acme/dev`.
    pub target: String,
    /// `ok`, or `refused: <error kind>: <message>`.
    pub result: String,
}

impl AuditEntry {
    /// A successful change.
    pub fn ok(at: Timestamp, actor: &str, action: &str, target: &str) -> Self {
        AuditEntry {
            seq: 0,
            at,
            actor: actor.to_owned(),
            action: action.to_owned(),
            target: target.to_owned(),
            result: "ok".to_owned(),
        }
    }

    /// A refused request.
    pub fn refused(at: Timestamp, actor: &str, action: &str, target: &str, e: &Error) -> Self {
        AuditEntry {
            result: format!("refused: {}: {e}", e.kind()),
            ..Self::ok(at, actor, action, target)
        }
    }

    /// Append this entry to `batch`.
    pub fn append_to(&self, batch: Batch) -> Result<Batch> {
        Ok(batch.append(AUDIT, encode(self)?))
    }
}

/// Read the audit log after `after` (0 for the start), at most `limit` entries.
pub async fn read(store: &dyn StateStore, after: u64, limit: usize) -> Result<Vec<AuditEntry>> {
    store
        .read_log(AUDIT, after, limit)
        .await?
        .into_iter()
        .map(|e| {
            let mut a: AuditEntry = serde_json::from_value(e.entry)
                .map_err(|err| Error::internal(format!("corrupt audit entry {}: {err}", e.seq)))?;
            a.seq = e.seq;
            Ok(a)
        })
        .collect()
}
