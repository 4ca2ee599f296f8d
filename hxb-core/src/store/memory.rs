//! [`MemoryStore`]: the in-memory [`StateStore`] for tests and throw-away engines.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use parking_lot::Mutex;

use super::check::check;
use super::{Batch, LogEntry, Op, Record, StateStore};
use crate::error::Result;

/// An in-memory [`StateStore`]: ordered maps under one mutex.
///
/// It has exactly the semantics of [`SqliteStore`](super::SqliteStore) (the integration tests
/// and a property test run both side by side) and forgets everything when dropped.
///
/// ```
/// use hxb_core::store::{Batch, MemoryStore, Precondition, StateStore};
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hxb_core::Result<()> {
/// let store = MemoryStore::new();
/// let rev = store
///     .commit(Batch::new().put("orgs", "acme", serde_json::json!({"plan": "starter"}), Precondition::Absent))
///     .await?;
/// assert_eq!(store.get("orgs", "acme").await?.unwrap().revision, rev);
/// # Ok(()) }
/// ```
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// collection -> key -> (value, revision)
    records: BTreeMap<String, BTreeMap<String, (serde_json::Value, u64)>>,
    /// log -> entries; an entry's seq is its index + 1.
    logs: BTreeMap<String, Vec<serde_json::Value>>,
    revision: u64,
}

impl MemoryStore {
    /// An empty store at revision 0.
    pub fn new() -> Self {
        MemoryStore::default()
    }
}

impl Inner {
    fn current(&self, collection: &str, key: &str) -> Option<u64> {
        self.records
            .get(collection)
            .and_then(|c| c.get(key))
            .map(|(_, rev)| *rev)
    }

    fn commit(&mut self, batch: Batch) -> Result<u64> {
        if batch.is_empty() {
            return Ok(self.revision);
        }
        let next = self.revision + 1;
        // Check every precondition against the state earlier ops of this batch leave behind,
        // before touching anything.
        let mut staged: HashMap<(&str, &str), Option<u64>> = HashMap::new();
        for op in &batch.ops {
            let (collection, key, expect, after) = match op {
                Op::Put {
                    collection,
                    key,
                    expect,
                    ..
                } => (collection, key, *expect, Some(next)),
                Op::Delete {
                    collection,
                    key,
                    expect,
                } => (collection, key, *expect, None),
                Op::Append { .. } => continue,
            };
            let current = match staged.get(&(collection.as_str(), key.as_str())) {
                Some(state) => *state,
                None => self.current(collection, key),
            };
            check(collection, key, expect, current)?;
            staged.insert((collection, key), after);
        }
        for op in batch.ops {
            match op {
                Op::Put {
                    collection,
                    key,
                    value,
                    ..
                } => {
                    self.records
                        .entry(collection)
                        .or_default()
                        .insert(key, (value, next));
                }
                Op::Delete {
                    collection, key, ..
                } => {
                    if let Some(c) = self.records.get_mut(&collection) {
                        c.remove(&key);
                        if c.is_empty() {
                            self.records.remove(&collection);
                        }
                    }
                }
                Op::Append { log, entry } => self.logs.entry(log).or_default().push(entry),
            }
        }
        self.revision = next;
        Ok(next)
    }
}

#[async_trait]
impl StateStore for MemoryStore {
    async fn get(&self, collection: &str, key: &str) -> Result<Option<Record>> {
        let inner = self.inner.lock();
        Ok(inner
            .records
            .get(collection)
            .and_then(|c| c.get(key))
            .map(|(value, revision)| Record {
                collection: collection.to_owned(),
                key: key.to_owned(),
                value: value.clone(),
                revision: *revision,
            }))
    }

    async fn list(&self, collection: &str, prefix: &str) -> Result<Vec<Record>> {
        let inner = self.inner.lock();
        let Some(c) = inner.records.get(collection) else {
            return Ok(Vec::new());
        };
        Ok(c.range::<str, _>((
            std::ops::Bound::Included(prefix),
            std::ops::Bound::Unbounded,
        ))
        .take_while(|(k, _)| k.starts_with(prefix))
        .map(|(key, (value, revision))| Record {
            collection: collection.to_owned(),
            key: key.clone(),
            value: value.clone(),
            revision: *revision,
        })
        .collect())
    }

    async fn commit(&self, batch: Batch) -> Result<u64> {
        self.inner.lock().commit(batch)
    }

    async fn read_log(&self, log: &str, after: u64, limit: usize) -> Result<Vec<LogEntry>> {
        let inner = self.inner.lock();
        let Some(entries) = inner.logs.get(log) else {
            return Ok(Vec::new());
        };
        let start = usize::try_from(after)
            .unwrap_or(usize::MAX)
            .min(entries.len());
        Ok(entries[start..]
            .iter()
            .take(limit)
            .enumerate()
            .map(|(i, entry)| LogEntry {
                seq: (start + i + 1) as u64,
                entry: entry.clone(),
            })
            .collect())
    }

    async fn revision(&self) -> Result<u64> {
        Ok(self.inner.lock().revision)
    }
}
