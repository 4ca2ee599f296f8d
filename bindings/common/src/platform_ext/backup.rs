//! Backup and restore over plain data: a [`Backups`] handle on a snapshot directory
//! ([`Engine::backups`]), snapshots, listings, restore plans (dry runs) and restores into the
//! same or another project, per-application policies and [`Engine::run_due_backups`].
//!
//! Snapshot summaries, plans and policies come back as JSON. A restore with a conflicting
//! object is `conflict`, one over the project's quota `quota_exceeded`; either way nothing
//! changed (the facade's guarantee).

use std::time::Duration;

use hxb::backup::{Backups, DueReport, RestoreOutcome};
use hxb::{Engine, Error, Result};
use serde_json::{Value, json};

use crate::platform::json;
use crate::tenancy::report;

/// A backup set bound to the engine it came from: once that engine is closed every call is
/// refused with `closed`, like the engine's own calls.
#[derive(Debug, Clone)]
pub struct BackupSet {
    engine: Engine,
    backups: Backups,
}

impl BackupSet {
    fn live(&self) -> Result<&Backups> {
        if self.engine.is_closed() {
            return Err(Error::Closed);
        }
        Ok(&self.backups)
    }
}

/// Backup and restore with snapshots as files in `dir` (created if missing).
pub fn open(engine: &Engine, dir: &str) -> Result<BackupSet> {
    Ok(BackupSet {
        engine: engine.clone(),
        backups: engine.backups(dir)?,
    })
}

/// Snapshot project `org/ws/project` (only applications `apps` and what they own when
/// given; Secrets only with `include_secrets`); returns the snapshot's summary
/// (`{id, meta, apps, objects, hash}`).
pub async fn snapshot(
    set: &BackupSet,
    at: [&str; 3],
    apps: Option<Vec<String>>,
    include_secrets: bool,
) -> Result<Value> {
    let [org, ws, project] = at;
    let mut b = set
        .live()?
        .snapshot(org, ws, project)
        .include_secrets(include_secrets);
    if let Some(apps) = apps {
        b = b.apps(apps);
    }
    json(b.execute().await?)
}

/// The snapshots of project `org/ws/project`, oldest first (summaries).
pub async fn list(set: &BackupSet, at: [&str; 3]) -> Result<Vec<Value>> {
    let [org, ws, project] = at;
    set.live()?
        .list(org, ws, project)
        .await?
        .into_iter()
        .map(json)
        .collect()
}

/// Delete a snapshot.
pub async fn delete(set: &BackupSet, id: &str) -> Result<()> {
    set.live()?.delete(id).await
}

/// Restore snapshot `id` into its own project (`into: None`) or into project
/// `[org, ws, project]`. With `dry_run` nothing changes and the answer is the plan alone.
///
/// Returns `{plan, counts, applied, reconcile}`: `plan` lists each application record and
/// object with its `action` (`create`, `update`, `unchanged`, `delete`, `conflict` with a
/// `reason`), `counts` the objects per action, `reconcile` the report of the reconcile that
/// rendered the restored applications (`null` for a dry run).
pub async fn restore(
    set: &BackupSet,
    id: &str,
    into: Option<[&str; 3]>,
    dry_run: bool,
) -> Result<Value> {
    let mut r = set.live()?.restore(id);
    if let Some([org, ws, project]) = into {
        r = r.into_project(org, ws, project);
    }
    if dry_run {
        r = r.dry_run();
    }
    outcome(&r.execute().await?)
}

fn outcome(o: &RestoreOutcome) -> Result<Value> {
    Ok(json!({
        "plan": json(&o.plan)?,
        "counts": json(o.plan.counts())?,
        "applied": o.applied,
        "reconcile": o.reconcile.as_ref().map(report),
    }))
}

/// A backup policy of one application.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyOptions {
    /// Five-field cron schedule in UTC (`"0 3 * * *"`, `@daily`).
    pub schedule: String,
    /// Keep at most this many snapshots.
    pub keep_last: Option<u32>,
    /// Prune snapshots older than this many seconds.
    pub max_age_secs: Option<u64>,
    /// Include the application's Secrets.
    pub include_secrets: bool,
}

/// Set (or replace) the backup policy of application `[org, ws, project, app]`; returns the
/// policy.
pub async fn set_policy(set: &BackupSet, at: [&str; 4], opts: PolicyOptions) -> Result<Value> {
    let [org, ws, project, app] = at;
    let mut b = set
        .live()?
        .set_policy(org, ws, project, app)
        .schedule(&opts.schedule)
        .include_secrets(opts.include_secrets);
    if let Some(n) = opts.keep_last {
        b = b.keep_last(n);
    }
    if let Some(s) = opts.max_age_secs {
        b = b.max_age(Duration::from_secs(s));
    }
    json(b.execute().await?)
}

/// The backup policies of an organization.
pub async fn policies(set: &BackupSet, org: &str) -> Result<Vec<Value>> {
    set.live()?
        .policies(org)
        .await?
        .into_iter()
        .map(json)
        .collect()
}

/// Remove the backup policy of application `[org, ws, project, app]` (its snapshots stay).
pub async fn remove_policy(set: &BackupSet, at: [&str; 4]) -> Result<()> {
    let [org, ws, project, app] = at;
    set.live()?.remove_policy(org, ws, project, app).await
}

/// One scheduling pass at the engine clock's now ([`Engine::run_due_backups`]): returns
/// `{taken: [summary…], pruned: [id…], failed: [{policy, error}…]}`.
pub async fn run_due(set: &BackupSet) -> Result<Value> {
    due(&set.engine.run_due_backups(set.live()?).await?)
}

fn due(r: &DueReport) -> Result<Value> {
    let failed: Vec<Value> = r
        .failed
        .iter()
        .map(|(policy, error)| json!({"policy": policy, "error": error}))
        .collect();
    Ok(json!({
        "taken": r.taken.iter().map(json).collect::<Result<Vec<_>>>()?,
        "pruned": r.pruned,
        "failed": failed,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::create_workspace;
    use crate::platform::{AppOptions, create_app, create_organization, create_project};
    use hxb::ErrorKind;

    async fn tenant(e: &Engine) {
        create_organization(e, "acme", None, None).await.unwrap();
        create_workspace(e, "acme", "dev", None).await.unwrap();
        create_project(e, "acme", "dev", "web").await.unwrap();
        create_project(e, "acme", "dev", "copy").await.unwrap();
        let opts = AppOptions {
            port: Some(8080),
            ..AppOptions::default()
        };
        create_app(e, ["acme", "dev", "web", "shop"], "shop:1", opts)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn snapshot_plan_restore_and_refusals_over_plain_data() {
        let e = Engine::embedded().unwrap();
        tenant(&e).await;
        let dir = tempfile::tempdir().unwrap();
        let b = open(&e, dir.path().to_str().unwrap()).unwrap();
        let snap = snapshot(&b, ["acme", "dev", "web"], None, false)
            .await
            .unwrap();
        let id = snap["id"].as_str().unwrap().to_owned();
        assert_eq!(snap["apps"], 1);
        assert_eq!(list(&b, ["acme", "dev", "web"]).await.unwrap().len(), 1);
        // a dry run into another project: two creates, nothing applied
        let into = Some(["acme", "dev", "copy"]);
        let plan = restore(&b, &id, into, true).await.unwrap();
        assert_eq!(plan["applied"], false);
        assert_eq!(plan["counts"]["create"], 2);
        assert_eq!(plan["plan"]["objects"][0]["action"], "create");
        assert!(plan["reconcile"].is_null());
        let done = restore(&b, &id, into, false).await.unwrap();
        assert_eq!(done["applied"], true);
        let apps = crate::tenancy::apps(&e, ["acme", "dev", "copy"])
            .await
            .unwrap();
        assert_eq!(apps.len(), 1);
        // a conflicting unmanaged object: refused, nothing changed
        let cm = |mode: &str| {
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "settings", "namespace": "acme-dev-web"},
                "data": {"mode": mode}})
        };
        e.apply(cm("blue")).await.unwrap();
        let id2 = snapshot(&b, ["acme", "dev", "web"], None, false)
            .await
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        e.apply(cm("red")).await.unwrap();
        let err = restore(&b, &id2, None, false).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Conflict);
        let live = e.get("ConfigMap", "settings", Some("acme-dev-web")).await;
        assert_eq!(live.unwrap()["data"]["mode"], "red");
        // policies
        let opts = PolicyOptions {
            schedule: "0 3 * * *".into(),
            keep_last: Some(3),
            ..PolicyOptions::default()
        };
        let p = set_policy(&b, ["acme", "dev", "web", "shop"], opts.clone())
            .await
            .unwrap();
        assert_eq!(p["schedule"], "0 3 * * *");
        assert_eq!(policies(&b, "acme").await.unwrap().len(), 1);
        let bad = PolicyOptions {
            schedule: "every day".into(),
            ..opts
        };
        let err = set_policy(&b, ["acme", "dev", "web", "shop"], bad)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert_eq!(policies(&b, "acme").await.unwrap()[0], p);
        let r = run_due(&b).await.unwrap();
        assert_eq!(r["taken"].as_array().unwrap().len(), 0); // not due yet
        remove_policy(&b, ["acme", "dev", "web", "shop"])
            .await
            .unwrap();
        assert!(policies(&b, "acme").await.unwrap().is_empty());
        // a closed engine's backup set refuses like the engine
        e.close();
        let err = list(&b, ["acme", "dev", "web"]).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Closed);
        assert_eq!(run_due(&b).await.unwrap_err().kind(), ErrorKind::Closed);
    }
}
