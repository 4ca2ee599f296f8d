//! The state store: where the engine keeps desired state (organizations, workspaces, projects,
//! members, invitations) and its audit log.
//!
//! A small, transactional document store: JSON records addressed by `(collection, key)`, each
//! carrying a store-wide monotonically increasing revision. [`StateStore::commit`] applies a
//! [`Batch`] atomically — every precondition holds and every write lands, or nothing changes —
//! which is what lets multi-object operations never be left half-made.
//!
//! Implementations: [`SqliteStore`](crate::store::SqliteStore) (durable, the default) and
//! [`MemoryStore`](crate::store::MemoryStore) (tests).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::Result;

mod check;
mod memory;
mod sqlite;

pub use memory::MemoryStore;
pub use sqlite::SqliteStore;

/// One stored document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Collection (`organizations`, `workspaces`…).
    pub collection: String,
    /// Key within the collection.
    pub key: String,
    /// The document.
    pub value: serde_json::Value,
    /// Store revision at which this document was last written.
    pub revision: u64,
}

/// What must be true of a record for a write to proceed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precondition {
    /// Nothing.
    #[default]
    None,
    /// The record must not exist (create).
    Absent,
    /// The record must exist with exactly this revision (compare-and-swap).
    Revision(u64),
    /// The record must exist.
    Exists,
}

/// One write in a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Insert or replace a document.
    Put {
        /// Collection.
        collection: String,
        /// Key.
        key: String,
        /// Document.
        value: serde_json::Value,
        /// Condition.
        expect: Precondition,
    },
    /// Remove a document.
    Delete {
        /// Collection.
        collection: String,
        /// Key.
        key: String,
        /// Condition.
        expect: Precondition,
    },
    /// Append to an append-only log (the audit log); never conflicts.
    Append {
        /// Log name.
        log: String,
        /// Entry.
        entry: serde_json::Value,
    },
}

/// An atomic group of writes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    /// The writes, applied in order.
    pub ops: Vec<Op>,
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Self {
        Batch::default()
    }

    /// Put `value` at `(collection, key)` under `expect`.
    pub fn put(
        mut self,
        collection: &str,
        key: &str,
        value: serde_json::Value,
        expect: Precondition,
    ) -> Self {
        self.ops.push(Op::Put {
            collection: collection.into(),
            key: key.into(),
            value,
            expect,
        });
        self
    }

    /// Delete `(collection, key)` under `expect`.
    pub fn delete(mut self, collection: &str, key: &str, expect: Precondition) -> Self {
        self.ops.push(Op::Delete {
            collection: collection.into(),
            key: key.into(),
            expect,
        });
        self
    }

    /// Append `entry` to `log`.
    pub fn append(mut self, log: &str, entry: serde_json::Value) -> Self {
        self.ops.push(Op::Append {
            log: log.into(),
            entry,
        });
        self
    }

    /// Whether the batch has no writes.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

/// One entry of an append-only log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Sequence number, increasing within the log, starting at 1.
    pub seq: u64,
    /// The entry.
    pub entry: serde_json::Value,
}

/// Durable desired state.
#[async_trait]
pub trait StateStore: Send + Sync + 'static {
    /// One record, `None` if absent.
    async fn get(&self, collection: &str, key: &str) -> Result<Option<Record>>;

    /// Records of a collection whose key starts with `prefix`, ordered by key.
    async fn list(&self, collection: &str, prefix: &str) -> Result<Vec<Record>>;

    /// Apply a batch atomically. On a failed precondition nothing is written and the error is a
    /// [`Conflict`](crate::ErrorKind::Conflict) (or [`AlreadyExists`](crate::ErrorKind::AlreadyExists)
    /// / [`NotFound`](crate::ErrorKind::NotFound) for `Absent` / `Exists`). Returns the store
    /// revision the batch committed at.
    async fn commit(&self, batch: Batch) -> Result<u64>;

    /// Entries of `log` with `seq > after`, at most `limit`, in order.
    async fn read_log(&self, log: &str, after: u64, limit: usize) -> Result<Vec<LogEntry>>;

    /// The current store revision (0 when empty).
    async fn revision(&self) -> Result<u64>;
}
