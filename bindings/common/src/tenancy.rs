//! Plain-data forms of the tenancy operations a portal calls after creating things: members
//! and invitations, a member's scoped kubeconfig, reading and deleting organizations,
//! workspaces and projects, the application lifecycle, usage and cost, reconcile.
//!
//! Every function forwards to one [`hxb::Tenancy`] call (no domain logic here); stored
//! entities come back as JSON values, like the creating calls of [`crate::platform`].

use std::time::Duration;

use hxb::core::Timestamp;
use hxb::tenancy::ReconcileReport;
use hxb::{Engine, Error, Result};
use serde_json::{Value, json};

use crate::platform::json;

/// Where a membership or an invitation applies: the organization itself (both `None`), one of
/// its workspaces, or a project of a workspace (`project` needs `workspace`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct At<'a> {
    /// The workspace.
    pub workspace: Option<&'a str>,
    /// The project (in `workspace`).
    pub project: Option<&'a str>,
}

/// Add (or change the role of) a member of `org` at `at`; returns the membership.
pub async fn add_member(
    engine: &Engine,
    org: &str,
    subject: &str,
    at: At<'_>,
    role: &str,
) -> Result<Value> {
    let t = engine.tenancy()?;
    let mut b = t.add_member(org, subject).role(role);
    if let Some(ws) = at.workspace {
        b = b.workspace(ws);
    }
    if let Some(p) = at.project {
        b = b.project(p);
    }
    json(b.execute().await?)
}

/// Remove the membership of `subject` at `at`.
pub async fn remove_member(engine: &Engine, org: &str, subject: &str, at: At<'_>) -> Result<()> {
    let t = engine.tenancy()?;
    let mut b = t.remove_member(org, subject);
    if let Some(ws) = at.workspace {
        b = b.workspace(ws);
    }
    if let Some(p) = at.project {
        b = b.project(p);
    }
    b.execute().await
}

/// The memberships of `org` (every scope).
pub async fn members(engine: &Engine, org: &str) -> Result<Vec<Value>> {
    engine
        .tenancy()?
        .members(org)
        .await?
        .into_iter()
        .map(json)
        .collect()
}

/// Invite `subject` to `org` at `at` as `role`; returns the invitation with its `token`.
/// `valid_for_secs`: how long the token stays valid (default: the engine's, 7 days).
pub async fn invite(
    engine: &Engine,
    org: &str,
    subject: &str,
    at: At<'_>,
    role: &str,
    valid_for_secs: Option<u64>,
) -> Result<Value> {
    let t = engine.tenancy()?;
    let mut b = t.invite(org, subject).role(role);
    if let Some(ws) = at.workspace {
        b = b.workspace(ws);
    }
    if let Some(p) = at.project {
        b = b.project(p);
    }
    if let Some(s) = valid_for_secs {
        b = b.valid_for(Duration::from_secs(s));
    }
    json(b.execute().await?)
}

/// Accept an invitation by its token; returns the new membership.
pub async fn accept_invitation(engine: &Engine, token: &str) -> Result<Value> {
    json(engine.tenancy()?.accept_invitation(token).await?)
}

/// A kubeconfig (YAML) for `subject`, scoped to workspace `org/ws`. `server` defaults to the
/// in-cluster API address; `ca` is the base64 PEM of the cluster CA.
pub async fn scoped_kubeconfig(
    engine: &Engine,
    at: [&str; 3],
    server: Option<&str>,
    ca: Option<&str>,
) -> Result<String> {
    let [org, ws, subject] = at;
    let t = engine.tenancy()?;
    let mut b = t.scoped_kubeconfig(org, ws, subject);
    if let Some(s) = server {
        b = b.server(s);
    }
    if let Some(c) = ca {
        b = b.certificate_authority(c);
    }
    b.execute().await
}

/// One organization.
pub async fn organization(engine: &Engine, name: &str) -> Result<Value> {
    json(engine.tenancy()?.organization(name).await?)
}

/// Every organization.
pub async fn organizations(engine: &Engine) -> Result<Vec<Value>> {
    let list = engine.tenancy()?.organizations().await?;
    list.into_iter().map(json).collect()
}

/// Delete an organization (`cascade`: with its workspaces and projects; without it, one that
/// still has workspaces is refused with `failed_precondition`). Whether it is fully gone.
pub async fn delete_organization(engine: &Engine, name: &str, cascade: bool) -> Result<bool> {
    let t = engine.tenancy()?;
    t.delete_organization(name).cascade(cascade).execute().await
}

/// One workspace.
pub async fn workspace(engine: &Engine, org: &str, name: &str) -> Result<Value> {
    json(engine.tenancy()?.workspace(org, name).await?)
}

/// The workspaces of an organization.
pub async fn workspaces(engine: &Engine, org: &str) -> Result<Vec<Value>> {
    let list = engine.tenancy()?.workspaces(org).await?;
    list.into_iter().map(json).collect()
}

/// Delete a workspace (`cascade`: with its projects). Whether it is fully gone.
pub async fn delete_workspace(
    engine: &Engine,
    org: &str,
    name: &str,
    cascade: bool,
) -> Result<bool> {
    let t = engine.tenancy()?;
    t.delete_workspace(org, name)
        .cascade(cascade)
        .execute()
        .await
}

/// One project.
pub async fn project(engine: &Engine, org: &str, ws: &str, name: &str) -> Result<Value> {
    json(engine.tenancy()?.project(org, ws, name).await?)
}

/// The projects of a workspace.
pub async fn projects(engine: &Engine, org: &str, ws: &str) -> Result<Vec<Value>> {
    let list = engine.tenancy()?.projects(org, ws).await?;
    list.into_iter().map(json).collect()
}

/// Delete a project (`cascade`: with its sub-projects; without it, one that has sub-projects
/// is refused with `failed_precondition`). Whether it is fully gone (on a real cluster a
/// namespace may take longer to terminate; a later reconcile finishes).
pub async fn delete_project(engine: &Engine, at: [&str; 3], cascade: bool) -> Result<bool> {
    let [org, ws, name] = at;
    let t = engine.tenancy()?;
    t.delete_project(org, ws, name)
        .cascade(cascade)
        .execute()
        .await
}

/// The applications of project `org/ws/project`.
pub async fn apps(engine: &Engine, at: [&str; 3]) -> Result<Vec<Value>> {
    let [org, ws, project] = at;
    let list = engine.tenancy()?.apps(org, ws, project).await?;
    list.into_iter().map(json).collect()
}

/// A change to a running application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AppAction {
    /// Set the replica count (quota-checked).
    Scale(i32),
    /// Roll its pods.
    Restart,
    /// Scale to zero, keeping the desired count.
    Stop,
    /// Undo `Stop`.
    Start,
}

/// Apply `action` to application `org/ws/project/name`; returns the application.
pub async fn change_app(engine: &Engine, at: [&str; 4], action: AppAction) -> Result<Value> {
    let [org, ws, project, name] = at;
    let t = engine.tenancy()?;
    let app = match action {
        AppAction::Scale(n) => t.scale_app(org, ws, project, name, n).await?,
        AppAction::Restart => t.restart_app(org, ws, project, name).await?,
        AppAction::Stop => t.stop_app(org, ws, project, name).await?,
        AppAction::Start => t.start_app(org, ws, project, name).await?,
    };
    json(app)
}

/// Delete application `org/ws/project/name`.
pub async fn delete_app(engine: &Engine, at: [&str; 4]) -> Result<()> {
    let [org, ws, project, name] = at;
    engine.tenancy()?.delete_app(org, ws, project, name).await
}

/// Sample current usage of every project into the usage ledger (what a metering tick does);
/// returns the number of samples written.
pub async fn record_usage(engine: &Engine) -> Result<usize> {
    engine.tenancy()?.record_usage().await
}

/// An RFC 3339 timestamp (`"2026-01-01T00:00:00Z"`, any offset); anything else is
/// `invalid_input` on `field`.
pub fn timestamp(s: &str, field: &str) -> Result<Timestamp> {
    s.parse::<Timestamp>()
        .map_err(|e| Error::invalid(field, format!("not an RFC 3339 timestamp: {e}")))
}

/// A point in time from the platform clock type (Swift's `Date` arrives as one).
pub fn from_system_time(t: std::time::SystemTime, field: &str) -> Result<Timestamp> {
    Timestamp::try_from(t).map_err(|e| Error::invalid(field, e.to_string()))
}

/// Usage and cost of organization `org` over `[from, to)`:
/// `{from, to, organization, workspaces: {ws: usage}, projects: [{workspace, project, …usage}],
/// cost: {plan, nodes, total}}`, usage being `{cpu_hours, memory_gib_hours, storage_gib_days}`.
/// Use [`timestamp`] for RFC 3339 text.
pub async fn usage(engine: &Engine, org: &str, from: Timestamp, to: Timestamp) -> Result<Value> {
    let (report, cost) = engine.tenancy()?.usage(org, from, to).await?;
    let projects = report
        .projects
        .iter()
        .map(|((ws, p), u)| {
            let mut v = json(u)?;
            v["workspace"] = json!(ws);
            v["project"] = json!(p);
            Ok(v)
        })
        .collect::<Result<Vec<Value>>>()?;
    Ok(json!({
        "from": from.to_string(),
        "to": to.to_string(),
        "organization": json(report.organization)?,
        "workspaces": json(report.workspaces)?,
        "projects": projects,
        "cost": json(cost)?,
    }))
}

/// [`Engine::reconcile`] as `{created, updated, deleted, unchanged, writes, errors: [{object,
/// error}]}`.
pub async fn reconcile(engine: &Engine) -> Result<Value> {
    Ok(report(&engine.reconcile().await?))
}

pub(crate) fn report(r: &ReconcileReport) -> Value {
    let errors: Vec<Value> = r
        .errors
        .iter()
        .map(|(object, error)| json!({"object": object, "error": error}))
        .collect();
    json!({
        "created": r.created,
        "updated": r.updated,
        "deleted": r.deleted,
        "unchanged": r.unchanged,
        "writes": r.writes(),
        "errors": errors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::{create_organization, create_project, create_workspace};
    use hxb::ErrorKind;

    async fn setup() -> Engine {
        let e = Engine::embedded().unwrap();
        create_organization(&e, "acme", None, None).await.unwrap();
        create_workspace(&e, "acme", "dev", None).await.unwrap();
        create_project(&e, "acme", "dev", "web").await.unwrap();
        e
    }

    #[tokio::test]
    async fn members_and_invitations_over_plain_data() {
        let e = setup().await;
        let ws = At {
            workspace: Some("dev"),
            project: None,
        };
        let m = add_member(&e, "acme", "alice@example.com", ws, "developer")
            .await
            .unwrap();
        assert_eq!(m["subject"], "alice@example.com");
        assert_eq!(members(&e, "acme").await.unwrap().len(), 1);
        let bad = add_member(&e, "acme", "bob@example.com", ws, "emperor").await;
        assert_eq!(bad.unwrap_err().kind(), ErrorKind::InvalidInput);
        assert_eq!(members(&e, "acme").await.unwrap().len(), 1);
        let inv = invite(
            &e,
            "acme",
            "carol@example.com",
            At::default(),
            "member",
            None,
        )
        .await
        .unwrap();
        let token = inv["token"].as_str().unwrap().to_owned();
        accept_invitation(&e, &token).await.unwrap();
        assert_eq!(members(&e, "acme").await.unwrap().len(), 2);
        let again = accept_invitation(&e, &token).await.unwrap_err();
        assert_ne!(again.kind(), ErrorKind::Internal);
        // The embedded cluster issues bound ServiceAccount tokens (TokenRequest).
        let at = ["acme", "dev", "alice@example.com"];
        let kc = scoped_kubeconfig(&e, at, Some("https://k8s.example:6443"), None)
            .await
            .unwrap();
        assert!(kc.contains("https://k8s.example:6443"), "{kc}");
        assert!(kc.contains("token: hxb-embedded."), "{kc}");
        remove_member(&e, "acme", "alice@example.com", ws)
            .await
            .unwrap();
        assert_eq!(members(&e, "acme").await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn read_and_delete_entities_and_reconcile() {
        let e = setup().await;
        assert_eq!(organization(&e, "acme").await.unwrap()["name"], "acme");
        assert_eq!(organizations(&e).await.unwrap().len(), 1);
        assert_eq!(workspaces(&e, "acme").await.unwrap().len(), 1);
        assert_eq!(projects(&e, "acme", "dev").await.unwrap().len(), 1);
        assert_eq!(reconcile(&e).await.unwrap()["writes"], 0);
        let refused = delete_organization(&e, "acme", false).await.unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::FailedPrecondition);
        assert!(workspace(&e, "acme", "dev").await.is_ok());
        assert!(delete_organization(&e, "acme", true).await.unwrap());
        let gone = project(&e, "acme", "dev", "web").await.unwrap_err();
        assert_eq!(gone.kind(), ErrorKind::NotFound);
    }

    #[tokio::test]
    async fn usage_period_must_be_rfc3339_and_ordered() {
        let e = setup().await;
        assert_eq!(
            timestamp("yesterday", "from").unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        let (from, to) = (
            timestamp("2026-01-01T00:00:00Z", "from").unwrap(),
            timestamp("2026-01-02T00:00:00+09:00", "to").unwrap(),
        );
        let bad = usage(&e, "acme", to, from).await.unwrap_err();
        assert_eq!(bad.kind(), ErrorKind::InvalidInput);
        let u = usage(&e, "acme", from, to).await.unwrap();
        assert!(u["cost"]["total"].is_string(), "{u}");
        assert_eq!(u["to"], "2026-01-01T15:00:00Z");
        let epoch = from_system_time(std::time::UNIX_EPOCH, "from").unwrap();
        assert_eq!(epoch.to_string(), "1970-01-01T00:00:00Z");
    }
}
