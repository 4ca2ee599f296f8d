//! Status changes of organizations, workspaces and projects, observed where every tenancy
//! operation ends: the atomic commit of its store batch.
//!
//! The tenancy engine writes an entity's status (`Pending` on create, `Updating`, `Deleting`,
//! then `Active` or `Error` after reconcile) and removes its record when deletion is final,
//! always through [`StateStore::commit`]. [`ObservedStore`] wraps the store handed to the
//! tenancy: while somebody subscribes, it reads the previous phase of each entity record a
//! batch touches and, once the batch has committed, publishes one [`StatusChange`] per entity
//! whose phase changed. With no subscriber it forwards calls untouched. A batch that fails
//! publishes nothing.

use std::sync::Arc;

use async_trait::async_trait;
use hxb_core::Result;
use hxb_core::model::EntityStatus;
use hxb_core::store::{Batch, LogEntry, Op, Record, StateStore};
use hxb_tenancy::engine::state::{ORGS, PROJECTS, WORKSPACES};

use super::{EngineEvent, EntityKind, EntityPath, EventBus, StatusChange};

/// A [`StateStore`] that publishes entity status changes on an [`EventBus`].
pub(crate) struct ObservedStore {
    inner: Arc<dyn StateStore>,
    bus: EventBus,
}

impl ObservedStore {
    pub(crate) fn wrap(inner: Arc<dyn StateStore>, bus: EventBus) -> Arc<dyn StateStore> {
        Arc::new(ObservedStore { inner, bus })
    }
}

fn kind_of(collection: &str) -> Option<EntityKind> {
    match collection {
        ORGS => Some(EntityKind::Organization),
        WORKSPACES => Some(EntityKind::Workspace),
        PROJECTS => Some(EntityKind::Project),
        _ => None,
    }
}

/// The status held in an entity document (`None` if it has none that parses).
fn status_of(doc: &serde_json::Value) -> Option<EntityStatus> {
    serde_json::from_value(doc.get("status")?.clone()).ok()
}

/// The change from `before` to `after`, if the phase (or the error reason) differs.
pub(crate) fn change(
    kind: EntityKind,
    key: &str,
    before: Option<EntityStatus>,
    after: Option<EntityStatus>,
) -> Option<StatusChange> {
    if before == after {
        return None;
    }
    let reason = match &after {
        Some(EntityStatus::Error { reason }) => Some(reason.clone()),
        _ => None,
    };
    Some(StatusChange {
        kind,
        path: EntityPath::from_key(key),
        from: before.map(|s| s.phase().to_owned()),
        to: after.map(|s| s.phase().to_owned()),
        reason,
    })
}

#[async_trait]
impl StateStore for ObservedStore {
    async fn get(&self, collection: &str, key: &str) -> Result<Option<Record>> {
        self.inner.get(collection, key).await
    }

    async fn list(&self, collection: &str, prefix: &str) -> Result<Vec<Record>> {
        self.inner.list(collection, prefix).await
    }

    async fn commit(&self, batch: Batch) -> Result<u64> {
        if !self.bus.is_observed() {
            return self.inner.commit(batch).await;
        }
        // (kind, key, status before, status after) of each entity record in the batch.
        let mut touched = Vec::new();
        for op in &batch.ops {
            let (collection, key, after) = match op {
                Op::Put {
                    collection,
                    key,
                    value,
                    ..
                } => (collection, key, status_of(value)),
                Op::Delete {
                    collection, key, ..
                } => (collection, key, None),
                _ => continue,
            };
            let Some(kind) = kind_of(collection) else {
                continue;
            };
            // A failed read must not fail the write: the change is then reported as from
            // an unknown (`None`) phase.
            let before = match self.inner.get(collection, key).await {
                Ok(r) => r.and_then(|r| status_of(&r.value)),
                Err(_) => None,
            };
            touched.push((kind, key.clone(), before, after));
        }
        let revision = self.inner.commit(batch).await?;
        for (kind, key, before, after) in touched {
            if let Some(c) = change(kind, &key, before, after) {
                self.bus.publish(EngineEvent::StatusChanged(c));
            }
        }
        Ok(revision)
    }

    async fn read_log(&self, log: &str, after: u64, limit: usize) -> Result<Vec<LogEntry>> {
        self.inner.read_log(log, after, limit).await
    }

    async fn revision(&self) -> Result<u64> {
        self.inner.revision().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Delivery;
    use hxb_core::store::{MemoryStore, Precondition};
    use serde_json::json;

    fn doc(phase: &str) -> serde_json::Value {
        json!({"name": "x", "status": {"phase": phase}})
    }

    #[tokio::test]
    async fn publishes_phase_changes_after_commit_and_nothing_on_failure() {
        let bus = EventBus::default();
        let store = ObservedStore::wrap(Arc::new(MemoryStore::default()), bus.clone());
        let mut rx = bus.subscribe();
        let put = |phase: &str, expect| {
            Batch::new()
                .put(WORKSPACES, "acme/dev", doc(phase), expect)
                .put("members", "acme/alice", json!({}), Precondition::None)
        };
        store
            .commit(put("Pending", Precondition::Absent))
            .await
            .unwrap();
        store
            .commit(put("Pending", Precondition::None))
            .await
            .unwrap(); // no change
        store
            .commit(put("Active", Precondition::None))
            .await
            .unwrap();
        // A refused batch (the record exists) publishes nothing.
        assert!(
            store
                .commit(put("Error", Precondition::Absent))
                .await
                .is_err()
        );
        store
            .commit(Batch::new().delete(WORKSPACES, "acme/dev", Precondition::None))
            .await
            .unwrap();
        let mut seen = Vec::new();
        while let Some(Delivery::Event(EngineEvent::StatusChanged(c))) = rx.try_recv() {
            assert_eq!(c.kind, EntityKind::Workspace);
            assert_eq!(c.path.workspace.as_deref(), Some("dev"));
            seen.push((c.from, c.to));
        }
        let s = |x: &str| Some(x.to_owned());
        assert_eq!(
            seen,
            [
                (None, s("Pending")),
                (s("Pending"), s("Active")),
                (s("Active"), None)
            ]
        );
    }

    #[test]
    fn error_carries_its_reason() {
        let c = change(
            EntityKind::Project,
            "a/b/c",
            Some(EntityStatus::Active),
            Some(EntityStatus::Error {
                reason: "quota".into(),
            }),
        )
        .unwrap();
        assert_eq!(
            (c.to.as_deref(), c.reason.as_deref()),
            (Some("Error"), Some("quota"))
        );
        assert!(change(EntityKind::Project, "a", None, None).is_none());
    }
}
