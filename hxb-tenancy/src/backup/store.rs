//! Where snapshots are kept: the [`SnapshotStore`] trait, a directory of files
//! ([`DirectoryStore`], the default) and an in-memory store ([`MemorySnapshotStore`], tests).
//!
//! Every read checks the snapshot's hash: a file changed on disk is a [`SnapshotCorrupt`]
//! error (an [`Error::Backend`] whose source it is), never a silently different restore.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use hxb_core::{Error, Result};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

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
///
/// Beside each snapshot, `<dir>/<id>.summary` holds what [`list`](SnapshotStore::list)
/// returns for it (a [`SnapshotInfo`] and the snapshot file's length), so a listing reads a
/// few hundred bytes per snapshot instead of the whole file. A summary is a cache: one that is
/// missing (a snapshot written before summaries existed, or a crash between the two writes),
/// unreadable, or taken from a file of another length is ignored, the snapshot itself is read
/// and the summary written again. `put` removes the old summary before replacing a snapshot
/// and `delete` removes it after the snapshot; `list` removes summaries left without one.
#[derive(Debug)]
pub struct DirectoryStore {
    dir: PathBuf,
}

/// Ends the name of a snapshot's summary file (never `.json`, so never taken for a snapshot).
const SUMMARY_SUFFIX: &str = ".summary";

/// What [`DirectoryStore::list`] reads instead of a snapshot.
#[derive(Debug, Serialize, Deserialize)]
struct Summary {
    /// Length of the snapshot file it describes: another length means a stale summary.
    bytes: u64,
    /// The listing entry.
    info: SnapshotInfo,
}

/// Numbers temporary file names (unique per process, whatever the number of stores).
static TMP_SEQ: AtomicU64 = AtomicU64::new(0);

fn tmp_name(file: &str) -> String {
    format!(
        ".{file}.tmp-{}-{}",
        std::process::id(),
        TMP_SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

impl DirectoryStore {
    /// A store in `dir` (created if missing).
    pub fn new(dir: impl Into<PathBuf>) -> Result<DirectoryStore> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::backend(format!("cannot create snapshot directory {dir:?}"), e))?;
        Ok(DirectoryStore { dir })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of snapshot `id`.
    pub fn path_of(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// The summary file of snapshot `id` (see the type's documentation).
    pub fn summary_path_of(&self, id: &str) -> PathBuf {
        summary_path(&self.dir, id)
    }
}

fn summary_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("{id}{SUMMARY_SUFFIX}"))
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

/// Write `bytes` to `target` through a temporary file renamed over it; with `durable` the file
/// and the directory are synced to disk as well.
fn write_atomically(
    dir: &Path,
    target: &Path,
    tmp_name: &str,
    bytes: &[u8],
    durable: bool,
) -> Result<()> {
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
        if durable {
            f.sync_all()?;
        }
        std::fs::rename(&tmp, target)?;
        // make the rename durable; not every platform can open a directory
        if durable && let Ok(d) = std::fs::File::open(dir) {
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

/// Remove a file, absent or not.
fn remove_if_present(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Write the summary of a snapshot whose file is `bytes` long. Best effort: without it `list`
/// reads the snapshot instead, so a failure is only logged.
fn write_summary(dir: &Path, info: SnapshotInfo, bytes: u64) {
    let target = summary_path(dir, &info.id);
    let tmp = tmp_name(&format!("{}{SUMMARY_SUFFIX}", info.id));
    let res = serde_json::to_vec(&Summary { bytes, info })
        .map_err(|e| Error::internal(e.to_string()))
        .and_then(|json| write_atomically(dir, &target, &tmp, &json, false));
    if let Err(e) = res {
        tracing::warn!(file = %target.display(), error = %e, "cannot write a snapshot summary");
    }
}

/// The listing entry of snapshot `id` from its summary, if the summary is readable, names this
/// snapshot and was taken from a file of the snapshot's current length.
fn read_summary(dir: &Path, id: &str, bytes: u64) -> Option<SnapshotInfo> {
    let raw = std::fs::read(summary_path(dir, id)).ok()?;
    let s: Summary = serde_json::from_slice(&raw).ok()?;
    (s.bytes == bytes && s.info.id == id).then_some(s.info)
}

/// The listing entry of snapshot `id` read from the snapshot itself (parsed, not verified:
/// `get` verifies), its summary written again. `None` for a file that is not this snapshot.
fn info_from_snapshot(dir: &Path, id: &str, path: &Path) -> Option<SnapshotInfo> {
    let raw = std::fs::read(path).ok()?;
    let s = serde_json::from_slice::<Snapshot>(&raw)
        .ok()
        .filter(|s| s.id == id)?;
    let info = s.info();
    write_summary(dir, info.clone(), raw.len() as u64);
    Some(info)
}

fn list_dir(dir: &Path) -> Result<Vec<SnapshotInfo>> {
    let mut snapshots = Vec::new();
    let mut summaries = HashSet::new();
    let entries = std::fs::read_dir(dir).map_err(|e| io_err("list", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io_err("list", dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        // temporary files (leading dot) and strangers fail `validate_id`
        if let Some(id) = name.strip_suffix(".json")
            && validate_id(id).is_ok()
        {
            snapshots.push((id.to_owned(), entry));
        } else if let Some(id) = name.strip_suffix(SUMMARY_SUFFIX)
            && validate_id(id).is_ok()
        {
            summaries.insert(id.to_owned());
        }
    }
    let mut out = Vec::with_capacity(snapshots.len());
    for (id, entry) in snapshots {
        let has_summary = summaries.remove(&id);
        let summary = match entry.metadata() {
            Ok(m) if has_summary => read_summary(dir, &id, m.len()),
            _ => None,
        };
        match summary.or_else(|| info_from_snapshot(dir, &id, &entry.path())) {
            Some(info) => out.push(info),
            None => tracing::warn!(snapshot = %id, "skipping an unreadable snapshot file"),
        }
    }
    // summaries whose snapshot is gone (a delete interrupted between the two removals)
    for id in summaries {
        let _ = remove_if_present(&summary_path(dir, &id));
    }
    sort_infos(&mut out);
    Ok(out)
}

#[async_trait]
impl SnapshotStore for DirectoryStore {
    async fn put(&self, snapshot: &Snapshot) -> Result<()> {
        validate_id(&snapshot.id)?;
        let bytes =
            serde_json::to_vec_pretty(snapshot).map_err(|e| Error::internal(e.to_string()))?;
        let info = snapshot.info();
        let dir = self.dir.clone();
        let target = self.path_of(&snapshot.id);
        let summary = self.summary_path_of(&snapshot.id);
        let tmp = tmp_name(&format!("{}.json", snapshot.id));
        blocking(move || {
            // a summary never outlives the snapshot it describes: when the snapshot is
            // replaced, its old summary goes first
            remove_if_present(&summary).map_err(|e| io_err("replace", &summary, e))?;
            write_atomically(&dir, &target, &tmp, &bytes, true)?;
            write_summary(&dir, info, bytes.len() as u64);
            Ok(())
        })
        .await
    }

    async fn get(&self, id: &str) -> Result<Snapshot> {
        validate_id(id)?;
        let path = self.path_of(id);
        let id = id.to_owned();
        blocking(move || read_file(&path, &id)).await
    }

    async fn list(&self) -> Result<Vec<SnapshotInfo>> {
        let dir = self.dir.clone();
        blocking(move || list_dir(&dir)).await
    }

    async fn delete(&self, id: &str) -> Result<()> {
        validate_id(id)?;
        let path = self.path_of(id);
        let summary = self.summary_path_of(id);
        blocking(move || {
            std::fs::remove_file(&path).map_err(|e| io_err("delete", &path, e))?;
            // the snapshot is gone; a summary left behind is swept by the next `list`
            if let Err(e) = remove_if_present(&summary) {
                tracing::warn!(file = %summary.display(), error = %e, "cannot remove a snapshot summary");
            }
            Ok(())
        })
        .await
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
        let id = store.list().await.unwrap().remove(0).id;
        let mut expected = vec![format!("{id}.json"), format!("{id}.summary")];
        let mut names = names;
        names.sort();
        expected.sort();
        assert_eq!(
            names, expected,
            "the snapshot and its summary, nothing else"
        );
        #[cfg(unix)]
        for name in &names {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(store.dir().join(name))
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

    fn names(store: &DirectoryStore) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(store.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[tokio::test]
    async fn list_reads_summaries_not_snapshots() {
        let dir = tempfile::tempdir().unwrap();
        let store = DirectoryStore::new(dir.path()).unwrap();
        let a = sample("web", 1_767_236_400);
        store.put(&a).await.unwrap();
        // Same length, other bytes: listing does not open the snapshot (a `get` still
        // verifies it and refuses it).
        let len = std::fs::metadata(store.path_of(&a.id)).unwrap().len();
        std::fs::write(store.path_of(&a.id), vec![b' '; len as usize]).unwrap();
        assert_eq!(store.list().await.unwrap(), [a.info()]);
        assert_eq!(
            store.get(&a.id).await.unwrap_err().kind(),
            ErrorKind::Backend
        );
    }

    #[tokio::test]
    async fn snapshots_without_a_usable_summary_still_list_and_get_a_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = DirectoryStore::new(dir.path()).unwrap();
        let (a, b) = (sample("web", 1_767_236_400), sample("api", 1_767_200_000));
        // written the way a store without summaries wrote it
        let old = serde_json::to_vec_pretty(&a).unwrap();
        std::fs::write(store.path_of(&a.id), &old).unwrap();
        store.put(&b).await.unwrap();
        let want = vec![b.info(), a.info()];
        assert_eq!(store.list().await.unwrap(), want);
        assert!(
            store.summary_path_of(&a.id).exists(),
            "summary written on first list"
        );
        // the summary now answers: same-length garbage in the snapshot does not change the list
        std::fs::write(store.path_of(&a.id), vec![b' '; old.len()]).unwrap();
        assert_eq!(store.list().await.unwrap(), want);
        std::fs::write(store.path_of(&a.id), &old).unwrap();
        // unreadable, foreign or stale summaries are ignored and replaced; the snapshot stays
        let foreign = std::fs::read(store.summary_path_of(&b.id)).unwrap();
        let stale = serde_json::to_vec(&Summary {
            bytes: old.len() as u64 + 1,
            info: b.info(),
        })
        .unwrap();
        let mut renamed = b.info();
        renamed.id = a.id.clone();
        let stale_len = serde_json::to_vec(&Summary {
            bytes: old.len() as u64 + 1,
            info: renamed,
        })
        .unwrap();
        for bad in [&b"{"[..], &b""[..], &foreign, &stale, &stale_len] {
            std::fs::write(store.summary_path_of(&a.id), bad).unwrap();
            assert_eq!(store.list().await.unwrap(), want);
            let fixed: Summary =
                serde_json::from_slice(&std::fs::read(store.summary_path_of(&a.id)).unwrap())
                    .unwrap();
            assert_eq!((fixed.bytes, fixed.info), (old.len() as u64, a.info()));
        }
        // a summary whose snapshot file is missing is no snapshot, and it is swept
        std::fs::remove_file(store.summary_path_of(&a.id)).unwrap();
        std::fs::remove_file(store.path_of(&a.id)).unwrap();
        std::fs::write(store.summary_path_of(&a.id), &foreign).unwrap();
        assert_eq!(store.list().await.unwrap(), [b.info()]);
        assert_eq!(
            names(&store),
            [format!("{}.json", b.id), format!("{}.summary", b.id)]
        );
    }

    #[tokio::test]
    async fn replacing_and_deleting_a_snapshot_keep_its_summary_in_step() {
        let dir = tempfile::tempdir().unwrap();
        let store = DirectoryStore::new(dir.path()).unwrap();
        let a = sample("web", 1_767_236_400);
        store.put(&a).await.unwrap();
        // a replacement with other content under the same id (the store allows it)
        let mut other = sample("web", 1_767_236_400);
        other.objects.pop();
        other.meta.content_hash =
            crate::backup::canonical::content_hash(&other.apps, &other.objects).unwrap();
        other.hash = other.compute_hash().unwrap();
        other.id = a.id.clone();
        store.put(&other).await.unwrap();
        assert_eq!(store.list().await.unwrap(), [other.info()]);
        assert_eq!(store.list().await.unwrap()[0].objects, 1);
        store.delete(&a.id).await.unwrap();
        assert!(names(&store).is_empty(), "{:?}", names(&store));
        assert!(store.list().await.unwrap().is_empty());
    }

    #[test]
    fn ids_cannot_escape_the_directory() {
        for bad in ["", "../x", ".hidden", "a/b", "a\\b", "a..b", "a b", "é"] {
            assert!(validate_id(bad).is_err(), "{bad:?}");
        }
        validate_id("acme.dev.web.20260101T000000Z.0123456789ab").unwrap();
    }
}
