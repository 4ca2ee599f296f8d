//! Where snapshots are kept: the [`SnapshotStore`] trait, a directory of files
//! ([`DirectoryStore`], the default) and an in-memory store ([`MemorySnapshotStore`], tests).
//!
//! Every read checks the snapshot's hash: a file changed on disk is a [`SnapshotCorrupt`]
//! error (an [`Error::Backend`] whose source it is), never a silently different restore.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use hxb_core::{Error, Result};
use parking_lot::Mutex;

use super::{Snapshot, SnapshotInfo};

/// A stored snapshot failed its integrity check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("snapshot {id} is corrupt: expected {expected}, found {actual}")]
pub struct SnapshotCorrupt {
    /// The snapshot.
    pub id: String,
    /// The hash it claims (or the id asked for).
    pub expected: String,
    /// What its content hashes to (or why it could not be read).
    pub actual: String,
}

impl From<SnapshotCorrupt> for Error {
    fn from(c: SnapshotCorrupt) -> Error {
        Error::backend(format!("snapshot {} failed its integrity check", c.id), c)
    }
}

/// A place to keep snapshots. Implementations must make `put` atomic (a reader sees the whole
/// snapshot or none) and must [`verify`](Snapshot::verify) on `get`.
#[async_trait]
pub trait SnapshotStore: Send + Sync + 'static {
    /// Store a snapshot (replacing one with the same id).
    async fn put(&self, snapshot: &Snapshot) -> Result<()>;

    /// A snapshot by id, verified; [`NotFound`](hxb_core::ErrorKind::NotFound) if absent.
    async fn get(&self, id: &str) -> Result<Snapshot>;

    /// Every snapshot, oldest first (ties by id).
    async fn list(&self) -> Result<Vec<SnapshotInfo>>;

    /// Remove a snapshot; [`NotFound`](hxb_core::ErrorKind::NotFound) if absent.
    async fn delete(&self, id: &str) -> Result<()>;
}

/// Snapshot ids are file names: ASCII letters, digits, `-`, `.`; no leading dot, no `..`.
pub fn validate_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 255
        && !id.starts_with('.')
        && !id.contains("..")
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "snapshot",
            format!("{id:?} is not a snapshot id"),
        ))
    }
}

fn sort_infos(v: &mut [SnapshotInfo]) {
    v.sort_by(|a, b| {
        a.meta
            .taken_at
            .cmp(&b.meta.taken_at)
            .then_with(|| a.id.cmp(&b.id))
    });
}

/// Snapshots in memory (tests, short-lived engines).
#[derive(Debug, Default)]
pub struct MemorySnapshotStore {
    items: Mutex<BTreeMap<String, Snapshot>>,
}

impl MemorySnapshotStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl SnapshotStore for MemorySnapshotStore {
    async fn put(&self, snapshot: &Snapshot) -> Result<()> {
        validate_id(&snapshot.id)?;
        self.items
            .lock()
            .insert(snapshot.id.clone(), snapshot.clone());
        Ok(())
    }

    async fn get(&self, id: &str) -> Result<Snapshot> {
        validate_id(id)?;
        let s = self
            .items
            .lock()
            .get(id)
            .cloned()
            .ok_or_else(|| Error::not_found("snapshot", id))?;
        s.verify()?;
        Ok(s)
    }

    async fn list(&self) -> Result<Vec<SnapshotInfo>> {
        let mut v: Vec<_> = self.items.lock().values().map(Snapshot::info).collect();
        sort_infos(&mut v);
        Ok(v)
    }

    async fn delete(&self, id: &str) -> Result<()> {
        validate_id(id)?;
        self.items
            .lock()
            .remove(id)
            .map(|_| ())
            .ok_or_else(|| Error::not_found("snapshot", id))
    }
}

/// Snapshots as JSON files `<dir>/<id>.json`, written atomically (a temporary file in the
/// same directory, flushed to disk, then renamed over the target). Files are created readable
/// by their owner only on Unix, since a snapshot may carry Secrets.
#[derive(Debug)]
pub struct DirectoryStore {
    dir: PathBuf,
    seq: AtomicU64,
}

impl DirectoryStore {
    /// A store in `dir` (created if missing).
    pub fn new(dir: impl Into<PathBuf>) -> Result<DirectoryStore> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::backend(format!("cannot create snapshot directory {dir:?}"), e))?;
        Ok(DirectoryStore {
            dir,
            seq: AtomicU64::new(0),
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of snapshot `id`.
    pub fn path_of(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::internal(format!("snapshot I/O task failed: {e}")))?
}

fn io_err(what: &str, path: &Path, e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::NotFound {
        return Error::not_found("snapshot", path.display().to_string());
    }
    Error::backend(format!("cannot {what} {}", path.display()), e)
}

fn write_atomically(dir: &Path, target: &Path, tmp_name: &str, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let tmp = dir.join(tmp_name);
    let res = (|| {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, target)?;
        // make the rename durable; not every platform can open a directory
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    res.map_err(|e: std::io::Error| {
        let _ = std::fs::remove_file(&tmp);
        Error::backend(format!("cannot write {}", target.display()), e)
    })
}

fn read_file(path: &Path, id: &str) -> Result<Snapshot> {
    let bytes = std::fs::read(path).map_err(|e| io_err("read", path, e))?;
    let s: Snapshot = serde_json::from_slice(&bytes).map_err(|e| SnapshotCorrupt {
        id: id.to_owned(),
        expected: "a snapshot document".into(),
        actual: format!("unreadable: {e}"),
    })?;
    if s.id != id {
        return Err(SnapshotCorrupt {
            id: id.to_owned(),
            expected: id.to_owned(),
            actual: format!("a file holding snapshot {}", s.id),
        }
        .into());
    }
    s.verify()?;
    Ok(s)
}

#[async_trait]
impl SnapshotStore for DirectoryStore {
    async fn put(&self, snapshot: &Snapshot) -> Result<()> {
        validate_id(&snapshot.id)?;
        let bytes =
            serde_json::to_vec_pretty(snapshot).map_err(|e| Error::internal(e.to_string()))?;
        let dir = self.dir.clone();
        let target = self.path_of(&snapshot.id);
        let tmp = format!(
            ".{}.tmp-{}-{}",
            snapshot.id,
            std::process::id(),
            self.seq.fetch_add(1, Ordering::Relaxed)
        );
        blocking(move || write_atomically(&dir, &target, &tmp, &bytes)).await
    }

    async fn get(&self, id: &str) -> Result<Snapshot> {
        validate_id(id)?;
        let path = self.path_of(id);
        let id = id.to_owned();
        blocking(move || read_file(&path, &id)).await
    }

    async fn list(&self) -> Result<Vec<SnapshotInfo>> {
        let dir = self.dir.clone();
        blocking(move || {
            let mut out = Vec::new();
            let entries = std::fs::read_dir(&dir).map_err(|e| io_err("list", &dir, e))?;
            for entry in entries {
                let entry = entry.map_err(|e| io_err("list", &dir, e))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                let Some(id) = name.strip_suffix(".json") else {
                    continue;
                };
                if validate_id(id).is_err() {
                    continue; // temporary files and strangers
                }
                match std::fs::read(entry.path())
                    .ok()
                    .and_then(|b| serde_json::from_slice::<Snapshot>(&b).ok())
                {
                    Some(s) => out.push(s.info()),
                    None => tracing::warn!(file = %name, "skipping an unreadable snapshot file"),
                }
            }
            sort_infos(&mut out);
            Ok(out)
        })
        .await
    }

    async fn delete(&self, id: &str) -> Result<()> {
        validate_id(id)?;
        let path = self.path_of(id);
        blocking(move || std::fs::remove_file(&path).map_err(|e| io_err("delete", &path, e))).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backup::tests::sample;
    use hxb_core::ErrorKind;

    async fn contract(store: &dyn SnapshotStore) {
        let (a, b) = (sample("web", 1_767_236_400), sample("api", 1_767_200_000));
        store.put(&a).await.unwrap();
        store.put(&b).await.unwrap();
        store.put(&a).await.unwrap(); // idempotent
        let ids: Vec<String> = store
            .list()
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.id)
            .collect();
        assert_eq!(ids, [b.id.clone(), a.id.clone()], "oldest first");
        assert_eq!(store.get(&a.id).await.unwrap(), a);
        store.delete(&b.id).await.unwrap();
        assert_eq!(
            store.get(&b.id).await.unwrap_err().kind(),
            ErrorKind::NotFound
        );
        assert_eq!(
            store.delete(&b.id).await.unwrap_err().kind(),
            ErrorKind::NotFound
        );
        assert_eq!(store.list().await.unwrap().len(), 1);
        let mut bad = a.clone();
        bad.id = "../escape".into();
        assert_eq!(
            store.put(&bad).await.unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }

    #[tokio::test]
    async fn memory_store_keeps_the_contract() {
        contract(&MemorySnapshotStore::new()).await;
    }

    #[tokio::test]
    async fn directory_store_keeps_the_contract_and_leaves_no_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = DirectoryStore::new(dir.path().join("nested")).unwrap();
        contract(&store).await;
        let names: Vec<String> = std::fs::read_dir(store.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        assert!(names[0].ends_with(".json") && !names[0].starts_with('.'));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(store.dir().join(&names[0]))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "owner-only");
        }
        // strangers and unreadable files are skipped by list, reported by get
        std::fs::write(store.dir().join("notes.txt"), "x").unwrap();
        std::fs::write(store.dir().join("broken.json"), "{").unwrap();
        assert_eq!(store.list().await.unwrap().len(), 1);
        let e = store.get("broken").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Backend);
        // a file renamed to another id is caught
        let only = store.list().await.unwrap().remove(0).id;
        std::fs::copy(store.path_of(&only), store.path_of("acme.dev.x")).unwrap();
        let e = store.get("acme.dev.x").await.unwrap_err();
        assert!(
            std::error::Error::source(&e)
                .and_then(|x| x.downcast_ref::<SnapshotCorrupt>())
                .is_some_and(|c| c.actual.contains(&only))
        );
    }

    #[test]
    fn ids_cannot_escape_the_directory() {
        for bad in ["", "../x", ".hidden", "a/b", "a\\b", "a..b", "a b", "é"] {
            assert!(validate_id(bad).is_err(), "{bad:?}");
        }
        validate_id("acme.dev.web.20260101T000000Z.0123456789ab").unwrap();
    }
}
