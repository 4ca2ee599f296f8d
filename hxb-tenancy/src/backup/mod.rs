//! Backup and restore of a project's objects (crate feature `backup`).
//!
//! A [`Snapshot`] is a versioned manifest of one project: the hxb application records from the
//! store plus the project's objects read from the cluster, cleaned of cluster-managed fields,
//! in a canonical form with a SHA-256 content hash. Snapshots go to a pluggable
//! [`SnapshotStore`] ([`DirectoryStore`] by default, [`MemorySnapshotStore`] for tests), are
//! restored into the same or another project with a dry-run [`RestorePlan`], and are taken on a
//! schedule by per-application [`BackupPolicy`]s with retention.
//!
//! What a snapshot holds (see `docs/backup.md`):
//!
//! | included | how it is restored |
//! |---|---|
//! | application records (`applications/<org>/<ws>/<p>/<app>`) | recorded in the store; reconcile renders their objects |
//! | objects hxb renders for them (Deployment, StatefulSet, Service, CronJob; `rendered`) | kept as the record of what was live; the restored records re-render them |
//! | the namespace's other ConfigMaps, Services, PVCs, Deployments, StatefulSets, CronJobs | created when absent |
//! | Secrets | only with `include_secrets(true)`; the snapshot is then flagged |
//!
//! A snapshot filtered to some applications (what a [`BackupPolicy`] takes) holds their
//! records, their rendered objects, and the objects hxb does not manage that carry their
//! `hxb.io/app=<name>` label (how a user ties a ConfigMap or PVC to an application).
//!
//! Left out: what the tenancy renderer owns and re-creates (Namespace, ResourceQuota,
//! LimitRange, NetworkPolicies, Roles, RoleBindings, ServiceAccount, credential Secrets — every
//! `managed-by=hxb` object without `hxb.io/app`), objects a controller owns (an
//! `ownerReference` with `controller: true`), cluster-provided ones (`kube-root-ca.crt`,
//! service-account tokens), and cluster-managed fields ([`canonical::clean`]).
//!
//! The pure parts: [`canonical`] (cleaning, canonical JSON, hashes), [`cron`] (schedules),
//! [`retention`] (which snapshots to prune), [`plan`] (restore diff). The operations are on
//! [`Backups`] (`Tenancy::backups`).

pub mod canonical;
pub mod cron;
pub mod plan;
pub mod retention;
pub mod store;

use hxb_core::{Error, Name, Result, Timestamp};
use serde::{Deserialize, Serialize};

use crate::apps::Application;
use crate::engine::state::encode;

pub use cron::CronSchedule;
pub use plan::{Action, AppChange, ObjectChange, PlanCounts, RestorePlan};
pub use retention::Retention;
pub use store::{DirectoryStore, MemorySnapshotStore, SnapshotCorrupt, SnapshotStore};

pub use crate::engine::backup::{
    BackupPolicy, Backups, DueReport, Restore, RestoreOutcome, SetPolicy, TakeSnapshot,
};

/// The snapshot format this version writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Where a snapshot came from and what it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotMeta {
    /// Organization.
    pub organization: Name,
    /// Workspace.
    pub workspace: Name,
    /// Project.
    pub project: Name,
    /// The project's namespace when the snapshot was taken.
    pub namespace: String,
    /// When it was taken.
    pub taken_at: Timestamp,
    /// Only these applications (and no unowned objects) when set; the whole project when not.
    pub apps: Option<Vec<Name>>,
    /// Whether Secrets are included (their data is in the snapshot, base64 as in the API).
    pub includes_secrets: bool,
    /// The policy that took it (`<org>/<ws>/<project>/<app>`), if scheduled.
    pub policy: Option<String>,
    /// Version of the engine that took it.
    pub engine_version: String,
    /// SHA-256 of the canonical content (applications and objects) alone: equal content,
    /// equal hash, whenever and wherever it was taken.
    pub content_hash: String,
}

/// One object in a snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotObject {
    /// The application it belongs to (its `hxb.io/app` label), if any.
    pub app: Option<Name>,
    /// Whether hxb renders it from the application's record (restored by recording the
    /// application, not by applying this copy).
    pub rendered: bool,
    /// The cleaned object (`apiVersion`, `kind`, `metadata`, spec…).
    pub object: serde_json::Value,
}

impl SnapshotObject {
    /// `(apiVersion, kind, namespace, name)`: its identity and sort key.
    pub fn key(&self) -> (String, String, String, String) {
        let s = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
        let o = &self.object;
        (
            s(&o["apiVersion"]),
            s(&o["kind"]),
            s(&o["metadata"]["namespace"]),
            s(&o["metadata"]["name"]),
        )
    }
}

/// A manifest snapshot of one project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Format version ([`FORMAT_VERSION`]).
    pub format: u32,
    /// Identifier: `<org>.<ws>.<project>.<YYYYMMDDTHHMMSSZ>.<12 hex digits of the hash>`.
    pub id: String,
    /// Metadata.
    pub meta: SnapshotMeta,
    /// Application records, by name.
    pub apps: Vec<Application>,
    /// Objects, ordered by `(apiVersion, kind, namespace, name)`.
    pub objects: Vec<SnapshotObject>,
    /// `sha256:<hex>` of the canonical form of everything above: checked on every read.
    pub hash: String,
}

impl Snapshot {
    /// Assemble a snapshot: sort, hash, name.
    pub fn seal(
        mut meta: SnapshotMeta,
        mut apps: Vec<Application>,
        mut objects: Vec<SnapshotObject>,
    ) -> Result<Snapshot> {
        apps.sort_by(|a, b| a.name.cmp(&b.name));
        objects.sort_by_cached_key(SnapshotObject::key);
        meta.content_hash = canonical::content_hash(&apps, &objects)?;
        let mut s = Snapshot {
            format: FORMAT_VERSION,
            id: String::new(),
            meta,
            apps,
            objects,
            hash: String::new(),
        };
        s.hash = s.compute_hash()?;
        let hex = s.hash.trim_start_matches("sha256:");
        s.id = format!(
            "{}.{}.{}.{}.{}",
            s.meta.organization,
            s.meta.workspace,
            s.meta.project,
            s.meta.taken_at.strftime("%Y%m%dT%H%M%SZ"),
            &hex[..12]
        );
        Ok(s)
    }

    /// The hash of this snapshot's canonical form (without `id` and `hash`).
    pub fn compute_hash(&self) -> Result<String> {
        let body = serde_json::json!({
            "format": self.format,
            "meta": encode(&self.meta)?,
            "apps": encode(&self.apps)?,
            "objects": encode(&self.objects)?,
        });
        Ok(canonical::sha256(&body))
    }

    /// Check the format version and the hash; a mismatch is [`SnapshotCorrupt`] (as an
    /// [`Error::Backend`] whose source it is).
    pub fn verify(&self) -> Result<()> {
        if self.format != FORMAT_VERSION {
            return Err(Error::invalid(
                "format",
                format!(
                    "snapshot {} has format {}; this engine reads {FORMAT_VERSION}",
                    self.id, self.format
                ),
            ));
        }
        let actual = self.compute_hash()?;
        let content = canonical::content_hash(&self.apps, &self.objects)?;
        if actual != self.hash || content != self.meta.content_hash {
            return Err(SnapshotCorrupt {
                id: self.id.clone(),
                expected: self.hash.clone(),
                actual,
            }
            .into());
        }
        Ok(())
    }

    /// A summary for listings.
    pub fn info(&self) -> SnapshotInfo {
        SnapshotInfo {
            id: self.id.clone(),
            meta: self.meta.clone(),
            apps: self.apps.len(),
            objects: self.objects.len(),
            hash: self.hash.clone(),
        }
    }
}

/// A snapshot without its content, as listed by a store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotInfo {
    /// Identifier.
    pub id: String,
    /// Metadata.
    pub meta: SnapshotMeta,
    /// Number of application records.
    pub apps: usize,
    /// Number of objects.
    pub objects: usize,
    /// `sha256:<hex>`.
    pub hash: String,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use hxb_core::ErrorKind;
    use serde_json::json;

    pub(crate) fn sample(project: &str, at_second: i64) -> Snapshot {
        let n = |s: &str| Name::new(s).unwrap();
        let meta = SnapshotMeta {
            organization: n("acme"),
            workspace: n("dev"),
            project: n(project),
            namespace: format!("acme-dev-{project}"),
            taken_at: Timestamp::from_second(at_second).unwrap(),
            apps: None,
            includes_secrets: false,
            policy: None,
            engine_version: "0.1.0".into(),
            content_hash: String::new(),
        };
        let cm = |name: &str| SnapshotObject {
            app: None,
            rendered: false,
            object: json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": name, "namespace": format!("acme-dev-{project}")},
                "data": {"k": "v"}}),
        };
        Snapshot::seal(meta, vec![], vec![cm("b"), cm("a")]).unwrap()
    }

    #[test]
    fn sealing_sorts_names_and_verifies() {
        let s = sample("web", 1_767_236_400);
        assert_eq!(s.objects[0].key().3, "a", "objects sorted by identity");
        assert!(
            s.id.starts_with("acme.dev.web.20260101T030000Z."),
            "{}",
            s.id
        );
        assert_eq!(s.id.len(), "acme.dev.web.20260101T030000Z.".len() + 12);
        s.verify().unwrap();
        // same content elsewhere and later: same content hash, different snapshot hash
        let later = sample("web", 1_767_236_400 + 86_400);
        assert_eq!(later.meta.content_hash, s.meta.content_hash);
        assert_ne!(later.hash, s.hash);
    }

    #[test]
    fn tampering_is_detected_and_other_formats_refused() {
        let s = sample("web", 1_767_236_400);
        let mut meta = s.clone();
        meta.meta.includes_secrets = true;
        let mut object = s.clone();
        object.objects[1].object["data"]["k"] = json!("w");
        let mut both = object.clone();
        both.hash = both.compute_hash().unwrap(); // a consistent outer hash, stale content hash
        for bad in [meta, object, both] {
            let e = bad.verify().unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Backend);
            assert!(
                std::error::Error::source(&e)
                    .and_then(|x| x.downcast_ref::<SnapshotCorrupt>())
                    .is_some()
            );
        }
        let mut future = s;
        future.format = FORMAT_VERSION + 1;
        assert_eq!(future.verify().unwrap_err().kind(), ErrorKind::InvalidInput);
    }
}
