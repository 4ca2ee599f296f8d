//! [`SqliteStore`]: the durable default [`StateStore`], one SQLite file.
//!
//! Layout (schema version 1):
//!
//! | table | columns | holds |
//! |---|---|---|
//! | `hxb_schema` | `version` | applied migrations (one row per version) |
//! | `hxb_meta` | `id = 0`, `revision` | the store revision |
//! | `hxb_records` | `collection`, `key`, `value` (JSON text), `revision` | documents |
//! | `hxb_logs` | `log`, `seq`, `entry` (JSON text) | append-only logs |
//!
//! Durability: the file runs in WAL mode with `synchronous = FULL`, so every committed batch
//! is fsynced before [`commit`](StateStore::commit) returns and survives a process crash *and*
//! a power loss or kernel panic. (`NORMAL` would only survive a process crash: the last
//! transactions could roll back after a power loss, and this store holds the platform's desired
//! state, written at human rates, where one fsync per commit is cheap.)
//!
//! Concurrency: one connection behind a mutex, and every call runs on tokio's blocking pool
//! (`spawn_blocking`) so an fsync never stalls the async worker threads. SQLite admits a single
//! writer anyway, so one connection loses nothing for writes; reads are short indexed lookups.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use parking_lot::Mutex;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::check::check;
use super::{Batch, LogEntry, Op, Record, StateStore};
use crate::error::{Error, Result};

/// Migrations; the schema version after applying `MIGRATIONS[i]` is `i + 1`.
const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE hxb_meta (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    revision INTEGER NOT NULL
);
INSERT INTO hxb_meta (id, revision) VALUES (0, 0);
CREATE TABLE hxb_records (
    collection TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    revision INTEGER NOT NULL,
    PRIMARY KEY (collection, key)
) WITHOUT ROWID;
CREATE TABLE hxb_logs (
    log TEXT NOT NULL,
    seq INTEGER NOT NULL,
    entry TEXT NOT NULL,
    PRIMARY KEY (log, seq)
) WITHOUT ROWID;
"#];

/// The schema version this build reads and writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// A durable [`StateStore`] in one SQLite file (rusqlite, SQLite bundled).
///
/// ```
/// use hxb_core::store::{Batch, Precondition, SqliteStore, StateStore};
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hxb_core::Result<()> {
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("hxb.db");
/// let store = SqliteStore::open(&path)?;
/// store.commit(Batch::new().put("orgs", "acme", serde_json::json!({}), Precondition::Absent)).await?;
/// drop(store);
/// let reopened = SqliteStore::open(&path)?;
/// assert!(reopened.get("orgs", "acme").await?.is_some());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    path: Option<PathBuf>,
}

impl SqliteStore {
    /// Open (or create) the store file at `path`, creating or migrating its schema.
    ///
    /// This does blocking file I/O; call it at start-up. A path that cannot be opened or
    /// created, or a file that is not an SQLite database, gives a
    /// [`Backend`](crate::ErrorKind::Backend) error naming the path; a file written by a newer
    /// hxb gives [`FailedPrecondition`](crate::ErrorKind::FailedPrecondition).
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let at = |e: rusqlite::Error| {
            Error::backend(
                format!("cannot open the state store at {}", path.display()),
                e,
            )
        };
        let conn = Connection::open(path).map_err(at)?;
        // WAL: readers never block the writer; FULL: fsync at every commit (see module docs).
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(at)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(at)?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(at)?;
        Self::init(conn, Some(path.to_owned()))
    }

    /// A store in memory (nothing survives dropping it), with the same SQL as the file store.
    pub fn in_memory() -> Result<Self> {
        let conn = Connection::open_in_memory()
            .map_err(|e| Error::backend("cannot open an in-memory SQLite database", e))?;
        Self::init(conn, None)
    }

    /// The file this store lives in (`None` in memory).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn init(mut conn: Connection, path: Option<PathBuf>) -> Result<Self> {
        migrate(&mut conn, path.as_deref())?;
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
            path,
        })
    }

    /// Run `f` on the connection off the async worker threads (or inline outside tokio).
    async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => handle
                .spawn_blocking(move || f(&mut conn.lock()))
                .await
                .map_err(|e| Error::internal(format!("state store task failed: {e}")))?,
            Err(_) => f(&mut conn.lock()),
        }
    }
}

fn migrate(conn: &mut Connection, path: Option<&Path>) -> Result<()> {
    let at = |e: rusqlite::Error| {
        let place = path.map_or_else(|| "memory".to_owned(), |p| p.display().to_string());
        Error::backend(format!("cannot initialise the state store at {place}"), e)
    };
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(at)?;
    tx.execute_batch("CREATE TABLE IF NOT EXISTS hxb_schema (version INTEGER PRIMARY KEY)")
        .map_err(at)?;
    let current: u32 = tx
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM hxb_schema",
            [],
            |r| r.get(0),
        )
        .map_err(at)?;
    if current > SCHEMA_VERSION {
        return Err(Error::precondition(format!(
            "the state store schema version is {current}, newer than the {SCHEMA_VERSION} this \
             version of hxb supports"
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        tx.execute_batch(sql).map_err(at)?;
        tx.execute(
            "INSERT INTO hxb_schema (version) VALUES (?1)",
            [i as i64 + 1],
        )
        .map_err(at)?;
    }
    tx.commit().map_err(at)
}

/// Map an SQLite failure during normal operation.
fn sql(e: rusqlite::Error) -> Error {
    use rusqlite::ErrorCode::{DatabaseBusy, DatabaseLocked};
    match e.sqlite_error_code() {
        Some(DatabaseBusy | DatabaseLocked) => Error::unavailable(
            "the state store is locked by another writer",
            Some(e.into()),
        ),
        _ => Error::backend("state store operation failed", e),
    }
}

fn decode(what: &str, text: &str) -> Result<serde_json::Value> {
    serde_json::from_str(text)
        .map_err(|e| Error::backend(format!("corrupt {what} in the state store"), e))
}

fn encode(value: &serde_json::Value) -> Result<String> {
    serde_json::to_string(value)
        .map_err(|e| Error::internal(format!("cannot encode a JSON value: {e}")))
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn current_revision(conn: &Connection, collection: &str, key: &str) -> Result<Option<u64>> {
    conn.prepare_cached("SELECT revision FROM hxb_records WHERE collection = ?1 AND key = ?2")
        .and_then(|mut s| {
            s.query_row(params![collection, key], |r| r.get::<_, i64>(0))
                .optional()
        })
        .map(|r| r.map(|n| n as u64))
        .map_err(sql)
}

fn commit(conn: &mut Connection, batch: Batch) -> Result<u64> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql)?;
    let revision: i64 = tx
        .query_row("SELECT revision FROM hxb_meta WHERE id = 0", [], |r| {
            r.get(0)
        })
        .map_err(sql)?;
    let revision = revision as u64;
    if batch.is_empty() {
        return Ok(revision);
    }
    let next = revision + 1;
    // Each precondition is checked against the state earlier ops of this batch left; the first
    // failure returns, dropping `tx`, which rolls everything back.
    for op in batch.ops {
        match op {
            Op::Put {
                collection,
                key,
                value,
                expect,
            } => {
                check(
                    &collection,
                    &key,
                    expect,
                    current_revision(&tx, &collection, &key)?,
                )?;
                let value = encode(&value)?;
                tx.prepare_cached(
                    "INSERT INTO hxb_records (collection, key, value, revision) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (collection, key) DO UPDATE SET value = ?3, revision = ?4",
                )
                .and_then(|mut s| s.execute(params![collection, key, value, to_i64(next)]))
                .map_err(sql)?;
            }
            Op::Delete {
                collection,
                key,
                expect,
            } => {
                check(
                    &collection,
                    &key,
                    expect,
                    current_revision(&tx, &collection, &key)?,
                )?;
                tx.prepare_cached("DELETE FROM hxb_records WHERE collection = ?1 AND key = ?2")
                    .and_then(|mut s| s.execute(params![collection, key]))
                    .map_err(sql)?;
            }
            Op::Append { log, entry } => {
                let entry = encode(&entry)?;
                tx.prepare_cached(
                    "INSERT INTO hxb_logs (log, seq, entry)
                     SELECT ?1, COALESCE(MAX(seq), 0) + 1, ?2 FROM hxb_logs WHERE log = ?1",
                )
                .and_then(|mut s| s.execute(params![log, entry]))
                .map_err(sql)?;
            }
        }
    }
    tx.execute(
        "UPDATE hxb_meta SET revision = ?1 WHERE id = 0",
        [to_i64(next)],
    )
    .map_err(sql)?;
    tx.commit().map_err(sql)?;
    Ok(next)
}

#[async_trait]
impl StateStore for SqliteStore {
    async fn get(&self, collection: &str, key: &str) -> Result<Option<Record>> {
        let (collection, key) = (collection.to_owned(), key.to_owned());
        self.run(move |conn| {
            let row = conn
                .prepare_cached(
                    "SELECT value, revision FROM hxb_records WHERE collection = ?1 AND key = ?2",
                )
                .and_then(|mut s| {
                    s.query_row(params![collection, key], |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
                    })
                    .optional()
                })
                .map_err(sql)?;
            row.map(|(value, revision)| {
                Ok(Record {
                    value: decode("record", &value)?,
                    revision: revision as u64,
                    collection,
                    key,
                })
            })
            .transpose()
        })
        .await
    }

    async fn list(&self, collection: &str, prefix: &str) -> Result<Vec<Record>> {
        let (collection, prefix) = (collection.to_owned(), prefix.to_owned());
        self.run(move |conn| {
            // TEXT compares bytewise (BINARY collation), the same order as Rust's `str`, so the
            // keys with the prefix form one contiguous run starting at the prefix.
            let mut stmt = conn
                .prepare_cached(
                    "SELECT key, value, revision FROM hxb_records
                     WHERE collection = ?1 AND key >= ?2 ORDER BY key",
                )
                .map_err(sql)?;
            let mut rows = stmt.query(params![collection, prefix]).map_err(sql)?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().map_err(sql)? {
                let key: String = row.get(0).map_err(sql)?;
                if !key.starts_with(&prefix) {
                    break;
                }
                let value: String = row.get(1).map_err(sql)?;
                let revision: i64 = row.get(2).map_err(sql)?;
                out.push(Record {
                    collection: collection.clone(),
                    key,
                    value: decode("record", &value)?,
                    revision: revision as u64,
                });
            }
            Ok(out)
        })
        .await
    }

    async fn commit(&self, batch: Batch) -> Result<u64> {
        self.run(move |conn| commit(conn, batch)).await
    }

    async fn read_log(&self, log: &str, after: u64, limit: usize) -> Result<Vec<LogEntry>> {
        let log = log.to_owned();
        self.run(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT seq, entry FROM hxb_logs WHERE log = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
                )
                .map_err(sql)?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let mut rows = stmt.query(params![log, to_i64(after), limit]).map_err(sql)?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().map_err(sql)? {
                let seq: i64 = row.get(0).map_err(sql)?;
                let entry: String = row.get(1).map_err(sql)?;
                out.push(LogEntry { seq: seq as u64, entry: decode("log entry", &entry)? });
            }
            Ok(out)
        })
        .await
    }

    async fn revision(&self) -> Result<u64> {
        self.run(|conn| {
            conn.query_row("SELECT revision FROM hxb_meta WHERE id = 0", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|r| r as u64)
            .map_err(sql)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        drop(SqliteStore::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.execute(
            "INSERT INTO hxb_schema (version) VALUES (?1)",
            [SCHEMA_VERSION + 1],
        )
        .unwrap();
        drop(conn);
        let err = SqliteStore::open(&path).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::FailedPrecondition, "{err}");
    }

    #[test]
    fn reopening_does_not_rerun_migrations() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        drop(SqliteStore::open(&path).unwrap());
        drop(SqliteStore::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        let versions: Vec<u32> = conn
            .prepare("SELECT version FROM hxb_schema ORDER BY version")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(versions, (1..=SCHEMA_VERSION).collect::<Vec<_>>());
    }

    #[test]
    fn the_file_runs_in_wal_mode_with_full_sync() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("s.db")).unwrap();
        let conn = store.conn.lock();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        let sync: i64 = conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(sync, 2, "synchronous = FULL");
    }
}
