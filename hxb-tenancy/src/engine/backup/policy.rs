//! Per-application backup policies: a cron schedule and retention, stored as
//! `backup_policies/<org>/<ws>/<project>/<app>`.
//!
//! [`Backups::run_due_backups`] is one pass, driven by the caller's clock (the engine's
//! [`Clock`](hxb_core::Clock); a `ManualClock` in tests): every policy whose next firing
//! time after its last run (or its creation) is at or before `now` takes one snapshot of its
//! application — missed firings collapse into one — and every policy's snapshots are pruned
//! by its [`Retention`]. There is no background thread: the embedder owns the loop (call it
//! every minute, or after advancing a simulated clock). A failed snapshot is recorded on the
//! policy (`last_error`) and retried on the next pass; the others proceed.

use std::time::Duration;

use hxb_core::store::{Batch, Precondition};
use hxb_core::{Error, Name, Result, Timestamp};
use serde::{Deserialize, Serialize};

use super::super::state::{self, OrgSnapshot, decode, encode};
use super::super::{SYSTEM_ACTOR, name_arg};
use super::{Backups, SnapshotRequest};
use crate::backup::{CronSchedule, Retention, SnapshotInfo};

/// Collection of backup policies.
pub const POLICIES: &str = "backup_policies";

/// A scheduled backup of one application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupPolicy {
    /// Organization.
    pub organization: Name,
    /// Workspace.
    pub workspace: Name,
    /// Project.
    pub project: Name,
    /// Application.
    pub app: Name,
    /// When to take snapshots (UTC).
    pub schedule: CronSchedule,
    /// Which snapshots to keep.
    pub retention: Retention,
    /// Whether snapshots include the application's Secrets.
    pub include_secrets: bool,
    /// When the policy was set (the schedule counts from here until the first run).
    pub created_at: Timestamp,
    /// When it last took a snapshot.
    pub last_run: Option<Timestamp>,
    /// Why the last attempt failed, if it did.
    pub last_error: Option<String>,
}

impl BackupPolicy {
    /// `<org>/<ws>/<project>/<app>`: the policy's key, and the `policy` of its snapshots.
    pub fn key(&self) -> String {
        state::app_key(
            &self.organization,
            &self.workspace,
            &self.project,
            &self.app,
        )
    }

    /// Whether a snapshot is due at `now`.
    pub fn is_due(&self, now: Timestamp) -> bool {
        let since = self.last_run.unwrap_or(self.created_at);
        self.schedule.next_after(since).is_some_and(|t| t <= now)
    }
}

/// What one [`Backups::run_due_backups`] pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DueReport {
    /// Snapshots taken.
    pub taken: Vec<SnapshotInfo>,
    /// Snapshot ids pruned by retention.
    pub pruned: Vec<String>,
    /// Policies that failed: `(policy key, error)`.
    pub failed: Vec<(String, String)>,
}

impl Backups {
    /// Start setting (creating or replacing) the backup policy of application
    /// `org/ws/project/app`.
    pub fn set_policy(&self, org: &str, ws: &str, project: &str, app: &str) -> SetPolicy<'_> {
        SetPolicy {
            b: self,
            at: (org.into(), ws.into(), project.into(), app.into()),
            schedule: None,
            retention: Retention::default(),
            include_secrets: false,
            actor: SYSTEM_ACTOR.into(),
        }
    }

    /// The backup policies of an organization.
    pub async fn policies(&self, org: &str) -> Result<Vec<BackupPolicy>> {
        self.t
            .store()
            .list(POLICIES, &format!("{org}/"))
            .await?
            .iter()
            .map(decode)
            .collect()
    }

    /// Remove an application's backup policy (its snapshots stay).
    pub async fn remove_policy(&self, org: &str, ws: &str, project: &str, app: &str) -> Result<()> {
        let key = format!("{org}/{ws}/{project}/{app}");
        let t = &self.t;
        t.audited(SYSTEM_ACTOR, "remove_backup_policy", &key, async {
            let batch = Batch::new().delete(POLICIES, &key, Precondition::Exists);
            t.commit(batch, SYSTEM_ACTOR, "remove_backup_policy", &key)
                .await
                .map(|_| ())
        })
        .await
    }

    /// [`run_due_backups`](Self::run_due_backups) at the engine clock's now.
    pub async fn run_due_backups_now(&self) -> Result<DueReport> {
        self.run_due_backups(self.t.now()).await
    }

    /// Take every due scheduled snapshot and prune by retention, as of `now`. See the module
    /// documentation.
    pub async fn run_due_backups(&self, now: Timestamp) -> Result<DueReport> {
        let mut report = DueReport::default();
        let records = self.t.store().list(POLICIES, "").await?;
        let all = self.store.list().await?;
        for rec in records {
            let mut policy: BackupPolicy = decode(&rec)?;
            let key = policy.key();
            let mut fresh = None;
            if policy.is_due(now) {
                let req = SnapshotRequest {
                    org: policy.organization.clone(),
                    ws: policy.workspace.clone(),
                    project: policy.project.clone(),
                    apps: Some(vec![policy.app.clone()]),
                    include_secrets: policy.include_secrets,
                    policy: Some(key.clone()),
                    at: now,
                    actor: SYSTEM_ACTOR.into(),
                };
                let res = self.take(req).await;
                match &res {
                    Ok(s) => {
                        policy.last_run = Some(now);
                        policy.last_error = None;
                        fresh = Some((s.id.clone(), s.meta.taken_at));
                        report.taken.push(s.info());
                    }
                    Err(e) => {
                        policy.last_error = Some(e.to_string());
                        report.failed.push((key.clone(), e.to_string()));
                    }
                }
                let batch = Batch::new().put(
                    POLICIES,
                    &key,
                    encode(&policy)?,
                    Precondition::Revision(rec.revision),
                );
                // a concurrent change to the policy wins; this run's snapshot stays
                if let Err(e) = self.t.store().commit(batch).await
                    && e.kind() != hxb_core::ErrorKind::Conflict
                {
                    return Err(e);
                }
            }
            let mut mine: Vec<(String, Timestamp)> = all
                .iter()
                .filter(|s| s.meta.policy.as_deref() == Some(key.as_str()))
                .map(|s| (s.id.clone(), s.meta.taken_at))
                .collect();
            // the snapshot just taken (unless it replaced one of the same id)
            if let Some(f) = fresh.filter(|f| !mine.iter().any(|m| m.0 == f.0)) {
                mine.push(f);
            }
            let gone: Vec<String> = policy
                .retention
                .prune(&mine, now)
                .into_iter()
                .map(str::to_owned)
                .collect();
            if gone.is_empty() {
                continue;
            }
            let mut deleted = Vec::new();
            for id in gone {
                match self.store.delete(&id).await {
                    Ok(()) => deleted.push(id),
                    Err(e) if e.kind() == hxb_core::ErrorKind::NotFound => {}
                    Err(e) => report.failed.push((key.clone(), e.to_string())),
                }
            }
            if !deleted.is_empty() {
                self.t
                    .commit(
                        Batch::new(),
                        SYSTEM_ACTOR,
                        "prune_backups",
                        &format!("{key}: {}", deleted.join(", ")),
                    )
                    .await?;
                report.pruned.extend(deleted);
            }
        }
        Ok(report)
    }
}

/// Builder of [`Backups::set_policy`].
#[must_use = "call .execute().await"]
pub struct SetPolicy<'a> {
    b: &'a Backups,
    at: (String, String, String, String),
    schedule: Option<String>,
    retention: Retention,
    include_secrets: bool,
    actor: String,
}

impl SetPolicy<'_> {
    /// Cron schedule (five fields or a macro such as `@daily`; UTC). Required.
    pub fn schedule(mut self, cron: &str) -> Self {
        self.schedule = Some(cron.into());
        self
    }

    /// Keep the newest `n` snapshots.
    pub fn keep_last(mut self, n: u32) -> Self {
        self.retention.keep_last = Some(n);
        self
    }

    /// Keep no snapshot older than `age` (the newest is always kept).
    pub fn max_age(mut self, age: Duration) -> Self {
        self.retention.max_age_secs = Some(age.as_secs());
        self
    }

    /// Include the application's Secrets in its snapshots.
    pub fn include_secrets(mut self, on: bool) -> Self {
        self.include_secrets = on;
        self
    }

    /// Who asks (recorded in the audit log).
    pub fn actor(mut self, actor: &str) -> Self {
        self.actor = actor.into();
        self
    }

    /// Validate (the application exists, the schedule parses, the retention is sensible)
    /// and record.
    pub async fn execute(self) -> Result<BackupPolicy> {
        let (org, ws, project, app) = &self.at;
        let key = format!("{org}/{ws}/{project}/{app}");
        let t = &self.b.t;
        t.audited(&self.actor, "set_backup_policy", &key, async {
            let schedule = CronSchedule::parse(
                self.schedule
                    .as_deref()
                    .ok_or_else(|| Error::invalid("schedule", "a schedule is required"))?,
            )?;
            self.retention.validate()?;
            let (o, w, p, a) = (
                name_arg(org)?,
                name_arg(ws)?,
                name_arg(project)?,
                name_arg(app)?,
            );
            let snap = OrgSnapshot::load(t.store().as_ref(), org).await?;
            if !snap.apps.contains_key(&(w.clone(), p.clone(), a.clone())) {
                return Err(Error::not_found("application", key.clone()));
            }
            let previous = t.store().get(POLICIES, &key).await?;
            let policy = BackupPolicy {
                organization: o,
                workspace: w,
                project: p,
                app: a,
                schedule,
                retention: self.retention,
                include_secrets: self.include_secrets,
                created_at: t.now(),
                last_run: previous
                    .as_ref()
                    .and_then(|r| decode::<BackupPolicy>(r).ok())
                    .and_then(|p| p.last_run),
                last_error: None,
            };
            let expect = match &previous {
                Some(r) => Precondition::Revision(r.revision),
                None => Precondition::Absent,
            };
            let batch = Batch::new().put(POLICIES, &key, encode(&policy)?, expect);
            t.commit(batch, &self.actor, "set_backup_policy", &key)
                .await?;
            Ok(policy)
        })
        .await
    }
}
