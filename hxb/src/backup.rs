//! Backup and restore of a project's objects (feature `backup`).
//!
//! Versioned manifest snapshots with a SHA-256 content hash, kept in a [`SnapshotStore`]
//! (a [`DirectoryStore`] by default); restore into the same or another project with a dry-run
//! [`RestorePlan`]; per-application [`BackupPolicy`]s with cron schedules and retention, run by
//! [`Engine::run_due_backups`] on the engine's clock (the caller owns the loop). Design notes:
//! `docs/backup.md`.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> hxb::Result<()> {
//! let engine = hxb::Engine::embedded()?;
//! let t = engine.tenancy()?;
//! t.create_organization("acme").plan("starter").display_name("Acme").execute().await?;
//! t.create_workspace("acme", "dev").execute().await?;
//! t.create_project("acme", "dev", "web").execute().await?;
//! t.create_app("acme", "dev", "web", "shop").stateless("shop:1").port(8080).execute().await?;
//!
//! let dir = std::env::temp_dir().join(format!("hxb-backup-doc-{}", std::process::id()));
//! let backups = engine.backups(&dir)?;
//! let snap = backups.snapshot("acme", "dev", "web").execute().await?;
//! t.delete_app("acme", "dev", "web", "shop").await?;
//! let plan = backups.restore(&snap.id).dry_run().execute().await?.plan;
//! assert_eq!(plan.counts(), hxb::backup::PlanCounts::creates(2)); // Deployment + Service
//! backups.restore(&snap.id).execute().await?;
//! assert_eq!(t.apps("acme", "dev", "web").await?.len(), 1);
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok(()) }
//! ```

use std::path::PathBuf;
use std::sync::Arc;

use crate::{Engine, Result};

#[doc(inline)]
pub use hxb_tenancy::backup::{
    Action, AppChange, BackupPolicy, Backups, CronSchedule, DirectoryStore, DueReport,
    FORMAT_VERSION, MemorySnapshotStore, ObjectChange, PlanCounts, Restore, RestoreOutcome,
    RestorePlan, Retention, SetPolicy, Snapshot, SnapshotCorrupt, SnapshotInfo, SnapshotMeta,
    SnapshotObject, SnapshotStore, TakeSnapshot,
};

impl Engine {
    /// Backup and restore with snapshots as files in `dir` (created if missing).
    pub fn backups(&self, dir: impl Into<PathBuf>) -> Result<Backups> {
        self.backups_with(Arc::new(DirectoryStore::new(dir)?))
    }

    /// Backup and restore with snapshots in any [`SnapshotStore`].
    pub fn backups_with(&self, store: Arc<dyn SnapshotStore>) -> Result<Backups> {
        Ok(self.tenancy()?.backups(store))
    }

    /// One scheduling pass at the engine clock's now: take every due policy snapshot and
    /// prune by retention. Call it periodically (or after advancing a simulated clock).
    /// After [`Engine::close`] it takes nothing and answers `Closed`.
    pub async fn run_due_backups(&self, backups: &Backups) -> Result<DueReport> {
        self.live()?;
        let now = self.clock().now();
        self.telemetry()
            .observe("run_due_backups", backups.run_due_backups(now))
            .await
    }
}
