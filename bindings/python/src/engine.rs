//! `hxb._native.Engine`: one method per facade operation.

use std::collections::BTreeMap;

use hxb_bindings_common::ops::{self, EngineOptions};
use hxb_bindings_common::platform::{self, AppOptions};
use hxb_bindings_common::tenancy::{self, AppAction, At};
use hxb_bindings_common::{ai, guard, observe};
use pyo3::prelude::*;

use crate::convert::{Instant, Json};
use crate::errors::{Error, Res, from_info};
use crate::observe::{Answer, EventStream, Payload};
use crate::platform_ext::Backups;
use crate::runtime::{block_on, enter, run};
use crate::series::{Floats, Stamps, floats_out};
use hxb_bindings_common::platform_ext::{
    backup as ext_backup, fleet as ext_fleet, policy as ext_policy,
};

/// The hxb engine (see `hxb.Engine` in the stubs).
#[pyclass(module = "hxb._native", frozen)]
pub struct Engine {
    engine: hxb::Engine,
}

fn at<'a>(workspace: &'a Option<String>, project: &'a Option<String>) -> At<'a> {
    At {
        workspace: workspace.as_deref(),
        project: project.as_deref(),
    }
}

/// A count from Python: negative or beyond `u32` is `InvalidInputError` (not `OverflowError`).
fn non_negative<T: TryFrom<i64>>(n: i64, field: &str) -> Res<T> {
    T::try_from(n).map_err(|_| hxb::Error::invalid(field, format!("{n} is out of range")).into())
}

fn json_list(list: Vec<serde_json::Value>) -> Res<Vec<Json>> {
    Ok(list.into_iter().map(Json).collect())
}

impl Engine {
    /// Scale, restart, stop or start application `at`.
    async fn change_app(&self, at: [String; 4], action: AppAction) -> Res<Json> {
        let e = self.engine.clone();
        let fut = async move {
            let [o, w, p, n] = &at;
            tenancy::change_app(&e, [o, w, p, n], action).await
        };
        Ok(Json(run(fut).await?))
    }
}

#[pymethods]
impl Engine {
    /// An engine on the embedded, in-process cluster (sync: nothing to wait for).
    #[staticmethod]
    #[pyo3(signature = (*, nodes=None, seed=None, state_file=None))]
    fn embedded(
        py: Python<'_>,
        nodes: Option<u32>,
        seed: Option<u64>,
        state_file: Option<std::path::PathBuf>,
    ) -> Res<Self> {
        let engine = if nodes.is_none() && seed.is_none() && state_file.is_none() {
            enter(py, hxb::Engine::embedded)?
        } else {
            let opts = EngineOptions {
                nodes,
                seed,
                state_file: state_file.map(|p| p.to_string_lossy().into_owned()),
                ..EngineOptions::default()
            };
            block_on(py, ops::open(opts))?
        };
        Ok(Engine { engine })
    }

    /// An engine on a real cluster from a kubeconfig file.
    #[staticmethod]
    #[pyo3(signature = (kubeconfig, *, context=None))]
    async fn connect(kubeconfig: std::path::PathBuf, context: Option<String>) -> Res<Self> {
        let opts = EngineOptions {
            kubeconfig: Some(kubeconfig.to_string_lossy().into_owned()),
            context,
            ..EngineOptions::default()
        };
        let engine = run(ops::open(opts)).await?;
        Ok(Engine { engine })
    }

    /// Close the engine; later calls raise `ClosedError`. Idempotent.
    fn close(&self) {
        self.engine.close();
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.engine.is_closed()
    }

    /// Create an object from a manifest.
    async fn create(&self, manifest: Json) -> Res<Json> {
        let e = self.engine.clone();
        Ok(Json(run(async move { e.create(manifest.0).await }).await?))
    }

    /// Server-side apply a manifest.
    async fn apply(&self, manifest: Json) -> Res<Json> {
        let e = self.engine.clone();
        Ok(Json(run(async move { e.apply(manifest.0).await }).await?))
    }

    /// Get one object.
    #[pyo3(signature = (kind, name, namespace=None))]
    async fn get(&self, kind: String, name: String, namespace: Option<String>) -> Res<Json> {
        let e = self.engine.clone();
        let fut = async move { e.get(&kind, &name, namespace.as_deref()).await };
        Ok(Json(run(fut).await?))
    }

    /// List objects of a kind.
    #[pyo3(signature = (kind, namespace=None, selector=None))]
    async fn list(
        &self,
        kind: String,
        namespace: Option<String>,
        selector: Option<String>,
    ) -> Res<Vec<Json>> {
        let e = self.engine.clone();
        let fut = async move {
            e.list(&kind, namespace.as_deref(), selector.as_deref())
                .await
        };
        Ok(run(fut).await?.into_iter().map(Json).collect())
    }

    /// Delete one object.
    #[pyo3(signature = (kind, name, namespace=None))]
    async fn delete(&self, kind: String, name: String, namespace: Option<String>) -> Res<()> {
        let e = self.engine.clone();
        run(async move { e.delete(&kind, &name, namespace.as_deref()).await }).await
    }

    /// Create an organization.
    #[pyo3(signature = (name, *, plan=None, display_name=None))]
    async fn create_organization(
        &self,
        name: String,
        plan: Option<String>,
        display_name: Option<String>,
    ) -> Res<Json> {
        let e = self.engine.clone();
        let fut = async move {
            platform::create_organization(&e, &name, plan.as_deref(), display_name.as_deref()).await
        };
        Ok(Json(run(fut).await?))
    }

    /// Create a workspace in an organization.
    #[pyo3(signature = (org, name, *, plan=None))]
    async fn create_workspace(&self, org: String, name: String, plan: Option<String>) -> Res<Json> {
        let e = self.engine.clone();
        let fut = async move { platform::create_workspace(&e, &org, &name, plan.as_deref()).await };
        Ok(Json(run(fut).await?))
    }

    /// Create a project in a workspace.
    async fn create_project(&self, org: String, workspace: String, name: String) -> Res<Json> {
        let e = self.engine.clone();
        let fut = async move { platform::create_project(&e, &org, &workspace, &name).await };
        Ok(Json(run(fut).await?))
    }

    /// Deploy an application in a project: stateless, stateful (`storage=`) or a cron job
    /// (`schedule=`).
    #[pyo3(signature = (org, workspace, project, name, *, image, replicas=None, port=None, requests=None, storage=None, schedule=None))]
    #[allow(clippy::too_many_arguments)]
    async fn create_app(
        &self,
        org: String,
        workspace: String,
        project: String,
        name: String,
        image: String,
        replicas: Option<i32>,
        port: Option<i32>,
        requests: Option<BTreeMap<String, String>>,
        storage: Option<String>,
        schedule: Option<String>,
    ) -> Res<Json> {
        let e = self.engine.clone();
        let opts = AppOptions {
            replicas,
            port,
            requests: requests.unwrap_or_default(),
            storage,
            schedule,
        };
        let fut = async move {
            let at = [&*org, &*workspace, &*project, &*name];
            platform::create_app(&e, at, &image, opts).await
        };
        Ok(Json(run(fut).await?))
    }

    /// The replica count a CPU-utilization HPA would set (pure, synchronous).
    #[pyo3(signature = (*, cpu_usage, cpu_request, target_cpu_utilization, current_replicas, max_replicas, min_replicas=1))]
    #[allow(clippy::too_many_arguments)] // keyword-only arguments of the Python API
    fn recommend_replicas(
        &self,
        py: Python<'_>,
        cpu_usage: Vec<f64>,
        cpu_request: String,
        target_cpu_utilization: i32,
        current_replicas: i32,
        max_replicas: i32,
        min_replicas: i32,
    ) -> Res<Json> {
        let e = &self.engine;
        let rec = py.detach(|| {
            guard(|| {
                platform::recommend_replicas(
                    e,
                    (current_replicas, min_replicas, max_replicas),
                    target_cpu_utilization,
                    cpu_usage,
                    &cpu_request,
                )
            })
        })?;
        Ok(Json(
            serde_json::to_value(rec).map_err(|e| hxb::Error::internal(e.to_string()))?,
        ))
    }

    /// Forecast the next `horizon` values of a series (pure, synchronous, GIL released). A
    /// buffer `history` (e.g. `array('d')`, numpy) is read in one copy and the forecast comes
    /// back as `array('d')`; a list gives a list.
    #[pyo3(signature = (history, horizon, *, season))]
    fn forecast<'py>(
        &self,
        py: Python<'py>,
        history: Floats,
        horizon: usize,
        season: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        let e = &self.engine;
        let out = py
            .detach(|| guard(|| e.forecast(&history.values, horizon, season)))
            .map_err(Error)?;
        floats_out(py, out, history.buffer)
    }

    /// Anomaly scores of a series given as timestamps (ms) and values (GIL released). Buffers
    /// (`array('q')`/`array('d')`, numpy `int64`/`float64`) are read in one copy each and the
    /// scores come back as `array('d')` when `values` is a buffer; lists give a list.
    /// `value_range=(min, max)`: the range the values are expected to stay in, known in advance
    /// (a range hint, see `Engine::detect_anomalies_in_range`).
    #[pyo3(signature = (timestamps, values, *, value_range=None))]
    fn detect_anomalies<'py>(
        &self,
        py: Python<'py>,
        timestamps: Stamps,
        values: Floats,
        value_range: Option<(f64, f64)>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let e = &self.engine;
        let (ts, vs) = (&timestamps.0, &values.values);
        let scores = py
            .detach(|| guard(|| platform::detect_anomalies(e, ts, vs, value_range)))
            .map_err(Error)?;
        floats_out(py, scores, values.buffer)
    }

    /// Read-only diagnosis of the cluster or one namespace.
    #[pyo3(signature = (namespace=None))]
    async fn analyze(&self, namespace: Option<String>) -> Res<Vec<Json>> {
        let e = self.engine.clone();
        let fut = async move { platform::analyze(&e, namespace.as_deref()).await };
        Ok(run(fut).await?.into_iter().map(Json).collect())
    }

    /// Add (or change the role of) a member at the organization, a workspace or a project.
    #[pyo3(signature = (org, subject, *, role, workspace=None, project=None))]
    async fn add_member(
        &self,
        org: String,
        subject: String,
        role: String,
        workspace: Option<String>,
        project: Option<String>,
    ) -> Res<Json> {
        let e = self.engine.clone();
        let fut = async move {
            let at = at(&workspace, &project);
            tenancy::add_member(&e, &org, &subject, at, &role).await
        };
        Ok(Json(run(fut).await?))
    }

    /// Remove a membership.
    #[pyo3(signature = (org, subject, *, workspace=None, project=None))]
    async fn remove_member(
        &self,
        org: String,
        subject: String,
        workspace: Option<String>,
        project: Option<String>,
    ) -> Res<()> {
        let e = self.engine.clone();
        let fut = async move {
            tenancy::remove_member(&e, &org, &subject, at(&workspace, &project)).await
        };
        run(fut).await
    }

    /// The memberships of an organization.
    async fn members(&self, org: String) -> Res<Vec<Json>> {
        let e = self.engine.clone();
        json_list(run(async move { tenancy::members(&e, &org).await }).await?)
    }

    /// Invite a subject; returns the invitation with its `token`.
    #[pyo3(signature = (org, subject, *, role, workspace=None, project=None, valid_for=None))]
    #[allow(clippy::too_many_arguments)] // keyword-only arguments of the Python API
    async fn invite(
        &self,
        org: String,
        subject: String,
        role: String,
        workspace: Option<String>,
        project: Option<String>,
        valid_for: Option<std::time::Duration>,
    ) -> Res<Json> {
        let e = self.engine.clone();
        let fut = async move {
            let at = at(&workspace, &project);
            let secs = valid_for.map(|d| d.as_secs());
            tenancy::invite(&e, &org, &subject, at, &role, secs).await
        };
        Ok(Json(run(fut).await?))
    }

    /// Accept an invitation by its token; returns the membership.
    async fn accept_invitation(&self, token: String) -> Res<Json> {
        let e = self.engine.clone();
        Ok(Json(
            run(async move { tenancy::accept_invitation(&e, &token).await }).await?,
        ))
    }

    /// A kubeconfig (YAML text) for a member, scoped to one workspace.
    #[pyo3(signature = (org, workspace, subject, *, server=None, certificate_authority=None))]
    async fn scoped_kubeconfig(
        &self,
        org: String,
        workspace: String,
        subject: String,
        server: Option<String>,
        certificate_authority: Option<String>,
    ) -> Res<String> {
        let e = self.engine.clone();
        let fut = async move {
            let at = [&*org, &*workspace, &*subject];
            tenancy::scoped_kubeconfig(&e, at, server.as_deref(), certificate_authority.as_deref())
                .await
        };
        run(fut).await
    }

    /// One organization.
    async fn get_organization(&self, name: String) -> Res<Json> {
        let e = self.engine.clone();
        Ok(Json(
            run(async move { tenancy::organization(&e, &name).await }).await?,
        ))
    }

    /// Every organization.
    async fn list_organizations(&self) -> Res<Vec<Json>> {
        let e = self.engine.clone();
        json_list(run(async move { tenancy::organizations(&e).await }).await?)
    }

    /// Delete an organization (`cascade=True`: with everything in it); whether it is fully gone.
    #[pyo3(signature = (name, *, cascade=false))]
    async fn delete_organization(&self, name: String, cascade: bool) -> Res<bool> {
        let e = self.engine.clone();
        run(async move { tenancy::delete_organization(&e, &name, cascade).await }).await
    }

    /// One workspace.
    async fn get_workspace(&self, org: String, name: String) -> Res<Json> {
        let e = self.engine.clone();
        Ok(Json(
            run(async move { tenancy::workspace(&e, &org, &name).await }).await?,
        ))
    }

    /// The workspaces of an organization.
    async fn list_workspaces(&self, org: String) -> Res<Vec<Json>> {
        let e = self.engine.clone();
        json_list(run(async move { tenancy::workspaces(&e, &org).await }).await?)
    }

    /// Delete a workspace (`cascade=True`: with its projects); whether it is fully gone.
    #[pyo3(signature = (org, name, *, cascade=false))]
    async fn delete_workspace(&self, org: String, name: String, cascade: bool) -> Res<bool> {
        let e = self.engine.clone();
        run(async move { tenancy::delete_workspace(&e, &org, &name, cascade).await }).await
    }

    /// One project.
    async fn get_project(&self, org: String, workspace: String, name: String) -> Res<Json> {
        let e = self.engine.clone();
        let fut = async move { tenancy::project(&e, &org, &workspace, &name).await };
        Ok(Json(run(fut).await?))
    }

    /// The projects of a workspace.
    async fn list_projects(&self, org: String, workspace: String) -> Res<Vec<Json>> {
        let e = self.engine.clone();
        json_list(run(async move { tenancy::projects(&e, &org, &workspace).await }).await?)
    }

    /// Delete a project (`cascade=True`: with its sub-projects); whether it is fully gone.
    #[pyo3(signature = (org, workspace, name, *, cascade=false))]
    async fn delete_project(
        &self,
        org: String,
        workspace: String,
        name: String,
        cascade: bool,
    ) -> Res<bool> {
        let e = self.engine.clone();
        let fut =
            async move { tenancy::delete_project(&e, [&*org, &*workspace, &*name], cascade).await };
        run(fut).await
    }

    /// The applications of a project.
    async fn list_apps(&self, org: String, workspace: String, project: String) -> Res<Vec<Json>> {
        let e = self.engine.clone();
        let fut = async move { tenancy::apps(&e, [&*org, &*workspace, &*project]).await };
        json_list(run(fut).await?)
    }

    /// Set an application's replica count (quota-checked).
    async fn scale_app(
        &self,
        org: String,
        workspace: String,
        project: String,
        name: String,
        replicas: i32,
    ) -> Res<Json> {
        self.change_app([org, workspace, project, name], AppAction::Scale(replicas))
            .await
    }

    /// Roll an application's pods.
    async fn restart_app(
        &self,
        org: String,
        workspace: String,
        project: String,
        name: String,
    ) -> Res<Json> {
        self.change_app([org, workspace, project, name], AppAction::Restart)
            .await
    }

    /// Scale an application to zero, keeping its desired count.
    async fn stop_app(
        &self,
        org: String,
        workspace: String,
        project: String,
        name: String,
    ) -> Res<Json> {
        self.change_app([org, workspace, project, name], AppAction::Stop)
            .await
    }

    /// Start a stopped application again.
    async fn start_app(
        &self,
        org: String,
        workspace: String,
        project: String,
        name: String,
    ) -> Res<Json> {
        self.change_app([org, workspace, project, name], AppAction::Start)
            .await
    }

    /// Delete an application.
    async fn delete_app(
        &self,
        org: String,
        workspace: String,
        project: String,
        name: String,
    ) -> Res<()> {
        let e = self.engine.clone();
        let fut =
            async move { tenancy::delete_app(&e, [&*org, &*workspace, &*project, &*name]).await };
        run(fut).await
    }

    /// Sample every project's current usage into the usage ledger; the number of samples.
    async fn record_usage(&self) -> Res<usize> {
        let e = self.engine.clone();
        run(async move { tenancy::record_usage(&e).await }).await
    }

    /// Usage and cost of an organization over `[start, end)` (RFC 3339 text or aware
    /// `datetime`s), by project, workspace and in total.
    async fn usage(&self, org: String, start: Instant, end: Instant) -> Res<Json> {
        let e = self.engine.clone();
        let fut = async move {
            let (from, to) = (
                tenancy::timestamp(&start.0, "start")?,
                tenancy::timestamp(&end.0, "end")?,
            );
            tenancy::usage(&e, &org, from, to).await
        };
        Ok(Json(run(fut).await?))
    }

    /// Reconcile every tenant's desired state into the cluster; the report (`writes` is 0
    /// when nothing had drifted).
    async fn reconcile(&self) -> Res<Json> {
        let e = self.engine.clone();
        Ok(Json(
            run(async move { tenancy::reconcile(&e).await }).await?,
        ))
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.engine.close();
        false
    }

    async fn __aenter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    async fn __aexit__(&self, _args: Py<pyo3::types::PyTuple>) -> bool {
        self.engine.close();
        false
    }

    fn __repr__(&self) -> String {
        format!(
            "Engine(closed={})",
            if self.engine.is_closed() {
                "True"
            } else {
                "False"
            }
        )
    }

    // --- events, alerts, incidents, invoke, logs ---

    /// The engine's events from now on, as an async iterator of dicts.
    fn events(&self) -> EventStream {
        EventStream::new(&self.engine)
    }

    /// Add (or replace) an alert rule (`{"name", "query", "comparison", "threshold", "for",
    /// "severity"}`) in `scope`; the rule as stored.
    async fn add_alert_rule(&self, scope: String, rule: Json) -> Res<Json> {
        let e = self.engine.clone();
        let fut = async move { observe::add_alert_rule(&e, &scope, rule.0).await };
        Ok(Json(run(fut).await?))
    }

    /// Remove an alert rule and its alerts.
    async fn remove_alert_rule(&self, scope: String, name: String) -> Res<()> {
        let e = self.engine.clone();
        run(async move { observe::remove_alert_rule(&e, &scope, &name).await }).await
    }

    /// The alert rules of `scope`.
    async fn alert_rules(&self, scope: String) -> Res<Vec<Json>> {
        let e = self.engine.clone();
        json_list(run(async move { observe::alert_rules(&e, &scope).await }).await?)
    }

    /// Evaluate every alert rule now: `{"fired", "resolved", "errors"}`.
    async fn evaluate_alerts(&self) -> Res<Json> {
        let e = self.engine.clone();
        Ok(Json(
            run(async move { observe::evaluate_alerts(&e).await }).await?,
        ))
    }

    /// Every alert (pending, firing, resolved), each with its `id`.
    async fn alerts(&self) -> Res<Vec<Json>> {
        let e = self.engine.clone();
        json_list(run(async move { observe::alerts(&e).await }).await?)
    }

    /// Acknowledge an alert by `id` as `who`; the alert.
    async fn acknowledge_alert(&self, id: String, who: String) -> Res<Json> {
        let e = self.engine.clone();
        let fut = async move { observe::acknowledge_alert(&e, &id, &who).await };
        Ok(Json(run(fut).await?))
    }

    /// Health of `scope` and every scope under it.
    async fn health(&self, scope: String) -> Res<Json> {
        let e = self.engine.clone();
        Ok(Json(
            run(async move { observe::health(&e, &scope).await }).await?,
        ))
    }

    /// Add a signal (`{"scope", "object", "kind", "message", "at"}`) to the incident of its
    /// scope (sync); the incident.
    fn record_signal(&self, py: Python<'_>, signal: Json) -> Res<Json> {
        let e = &self.engine;
        Ok(Json(enter(py, || observe::record_signal(e, signal.0))?))
    }

    /// Close incidents quiet for longer than their window (sync); the ones closed.
    fn close_idle_incidents(&self, py: Python<'_>) -> Res<Vec<Json>> {
        let e = &self.engine;
        json_list(enter(py, || observe::close_idle_incidents(e))?)
    }

    /// Every incident, oldest first (sync).
    fn incidents(&self, py: Python<'_>) -> Res<Vec<Json>> {
        let e = &self.engine;
        json_list(enter(py, || observe::incidents(e))?)
    }

    /// Invoke a function with `payload` (`bytes` or `str`); its answer as
    /// `{"status", "headers", "body": bytes}`.
    #[pyo3(signature = (org, workspace, project, name, payload=Payload(Vec::new()), *, method=None, path=None, headers=None, actor=None))]
    #[allow(clippy::too_many_arguments)] // keyword-only arguments of the Python API
    async fn invoke_function(
        &self,
        org: String,
        workspace: String,
        project: String,
        name: String,
        payload: Payload,
        method: Option<String>,
        path: Option<String>,
        headers: Option<BTreeMap<String, String>>,
        actor: Option<String>,
    ) -> Res<Answer> {
        let e = self.engine.clone();
        let inv = observe::Invocation {
            method,
            path,
            headers: headers.unwrap_or_default(),
            actor,
        };
        let fut = async move {
            let at = [&*org, &*workspace, &*project, &*name];
            observe::invoke_function(&e, at, payload.0, inv).await
        };
        Ok(Answer(run(fut).await?))
    }

    /// The log of a pod's container (`container`: needed when the pod has several).
    #[pyo3(signature = (namespace, pod, *, container=None, tail_lines=None, limit_bytes=None))]
    async fn logs(
        &self,
        namespace: String,
        pod: String,
        container: Option<String>,
        tail_lines: Option<i64>,
        limit_bytes: Option<i64>,
    ) -> Res<String> {
        let e = self.engine.clone();
        let fut = async move {
            observe::logs(&e, &namespace, &pod, container, tail_lines, limit_bytes).await
        };
        run(fut).await
    }

    // --- remediation and agent ---

    /// Plan a remediation as `subject` (a user as the tenancy knows them): a dry run unless
    /// `apply=True`; with `apply=True` actions the policy does not run automatically become
    /// pending approvals (`pending` holds the id). The action is a dict, e.g.
    /// `{"action": "restart", "namespace": ns, "name": "api"}`.
    #[pyo3(signature = (subject, action, *, apply=false))]
    async fn remediate(&self, subject: String, action: Json, apply: bool) -> Res<Json> {
        let e = self.engine.clone();
        let fut = async move { ai::remediate(&e, &subject, action.0, apply).await };
        Ok(Json(run(fut).await?))
    }

    /// Approve a pending remediation as `approver`, running it through the guard again.
    async fn approve_remediation(&self, id: String, approver: String) -> Res<Json> {
        let e = self.engine.clone();
        let fut = async move { ai::approve_remediation(&e, &id, &approver).await };
        Ok(Json(run(fut).await?))
    }

    /// Decline a pending remediation as `who` (the requester, or someone with the action's
    /// rights); the removed record.
    async fn reject_remediation(&self, id: String, who: String) -> Res<Json> {
        let e = self.engine.clone();
        let fut = async move { ai::reject_remediation(&e, &id, &who).await };
        Ok(Json(run(fut).await?))
    }

    /// Remediations waiting for approval, oldest first.
    async fn pending_remediations(&self) -> Res<Vec<Json>> {
        let e = self.engine.clone();
        json_list(run(async move { ai::pending_remediations(&e).await }).await?)
    }

    /// The remediation entries of the audit log (the last `limit`), oldest first.
    #[pyo3(signature = (limit=100))]
    async fn remediation_audit(&self, limit: i64) -> Res<Vec<Json>> {
        let limit = non_negative(limit, "limit")?;
        let e = self.engine.clone();
        json_list(run(async move { ai::remediation_audit(&e, Some(limit)).await }).await?)
    }

    /// Replace the remediation policy (unset arguments: the defaults). Synchronous.
    #[pyo3(signature = (*, automatic=None, max_pods_per_hour=None, max_workload_fraction_per_hour=None, max_scale_up_factor=None, four_eyes=None))]
    fn set_remediation_policy(
        &self,
        automatic: Option<Vec<String>>,
        max_pods_per_hour: Option<i64>,
        max_workload_fraction_per_hour: Option<f64>,
        max_scale_up_factor: Option<f64>,
        four_eyes: Option<bool>,
    ) -> Res<()> {
        let max_pods_per_hour = max_pods_per_hour
            .map(|n| non_negative(n, "max_pods_per_hour"))
            .transpose()?;
        let o = ai::PolicyOptions {
            automatic,
            max_pods_per_hour,
            max_workload_fraction_per_hour,
            max_scale_up_factor,
            four_eyes,
        };
        Ok(guard(|| ai::set_remediation_policy(&self.engine, o))?)
    }

    /// The remediation policy in force, as a dict.
    fn remediation_policy(&self) -> Res<Json> {
        let p = guard(|| ai::remediation_policy(&self.engine))?;
        Ok(Json(serde_json::json!({
            "automatic": p.automatic,
            "max_pods_per_hour": p.max_pods_per_hour,
            "max_workload_fraction_per_hour": p.max_workload_fraction_per_hour,
            "max_scale_up_factor": p.max_scale_up_factor,
            "four_eyes": p.four_eyes,
        })))
    }

    /// Ask the operations agent a question as `subject`; the answer with its tool-call
    /// transcript. `provider`: `"offline"` (no model), `"openai"` (`base_url`, `model`,
    /// `api_key`) or `"ollama"` (`model`, `base_url`).
    #[pyo3(signature = (subject, question, *, provider=None, base_url=None, model=None, api_key=None, namespaces=None, write=None, timeout=None, max_tool_calls=None))]
    #[allow(clippy::too_many_arguments)] // keyword-only arguments of the Python API
    async fn ask(
        &self,
        subject: String,
        question: String,
        provider: Option<String>,
        base_url: Option<String>,
        model: Option<String>,
        api_key: Option<String>,
        namespaces: Option<Vec<String>>,
        write: Option<String>,
        timeout: Option<f64>,
        max_tool_calls: Option<i64>,
    ) -> Res<Json> {
        let max_tool_calls = max_tool_calls
            .map(|n| non_negative(n, "max_tool_calls"))
            .transpose()?;
        let e = self.engine.clone();
        let o = ai::AskOptions {
            provider,
            base_url,
            model,
            api_key,
            namespaces,
            write,
            timeout_secs: timeout,
            max_tool_calls,
        };
        let fut = async move { ai::ask(&e, &subject, &question, &o).await };
        Ok(Json(run(fut).await?))
    }

    // --- backup, policy, fleet ---

    /// An engine configured by keywords: the embedded cluster (`nodes`, `seed`), the state
    /// file, and `fleet` member clusters (`[{"name", "nodes", "region", "labels",
    /// "dedicated_to", "kubeconfig", "context"}]`: the engine's cluster is then a fleet).
    #[staticmethod]
    #[pyo3(signature = (*, nodes=None, seed=None, state_file=None, fleet=None))]
    async fn open(
        nodes: Option<u32>,
        seed: Option<u64>,
        state_file: Option<std::path::PathBuf>,
        fleet: Option<Json>,
    ) -> Res<Self> {
        let fleet = match fleet {
            Some(v) => ext_fleet::members_from_json(v.0)?,
            None => Vec::new(),
        };
        let opts = EngineOptions {
            nodes,
            seed,
            state_file: state_file.map(|p| p.to_string_lossy().into_owned()),
            fleet,
            ..EngineOptions::default()
        };
        let engine = run(ops::open(opts)).await?;
        Ok(Engine { engine })
    }

    /// Backup and restore with snapshots as files in `directory` (created if missing).
    fn backups(&self, py: Python<'_>, directory: std::path::PathBuf) -> Res<Backups> {
        let directory = directory.to_string_lossy().into_owned();
        let e = &self.engine;
        let set = enter(py, || ext_backup::open(e, &directory))?;
        Ok(Backups { set, directory })
    }

    /// What the engine's admission says about a manifest (its workspace plan's policy),
    /// violations with their field paths included; writes nothing.
    async fn check_manifest(&self, manifest: Json) -> Res<Json> {
        let e = self.engine.clone();
        let fut = async move { ext_policy::check_manifest(&e, manifest.0).await };
        Ok(Json(run(fut).await?))
    }

    /// Admit a manifest as `create`/`apply` would, writing nothing: the review, or
    /// `ForbiddenError` whose `details["violations"]` lists each field path.
    async fn admit_manifest(&self, manifest: Json) -> PyResult<Json> {
        let e = self.engine.clone();
        let fut = async move { Ok(ext_policy::admit_manifest(&e, manifest.0).await) };
        let review = run(fut).await?.map_err(|info| from_info(&info))?;
        Ok(Json(review))
    }

    /// The policy (Pod Security Standards `level`, labels, registries…) of a workspace's plan.
    async fn workspace_policy(&self, org: String, workspace: String) -> Res<Json> {
        let e = self.engine.clone();
        let fut = async move { ext_policy::workspace_policy(&e, &org, &workspace).await };
        Ok(Json(run(fut).await?))
    }

    /// Place a workspace on a fleet member; the member's name.
    #[pyo3(signature = (org, workspace, *, region=None, require=None, prefer=None, cluster=None))]
    async fn place_workspace(
        &self,
        org: String,
        workspace: String,
        region: Option<String>,
        require: Option<String>,
        prefer: Option<String>,
        cluster: Option<String>,
    ) -> Res<String> {
        let e = self.engine.clone();
        let at = ext_fleet::Placement {
            region,
            require,
            prefer,
            cluster,
        };
        run(async move { ext_fleet::place_workspace(&e, &org, &workspace, at).await }).await
    }

    /// The fleet's members with their load (allocatable, used, free, workspaces).
    async fn fleet_members(&self) -> Res<Vec<Json>> {
        let e = self.engine.clone();
        json_list(run(async move { ext_fleet::members(&e).await }).await?)
    }

    /// Where a workspace is placed (`None`: not yet).
    fn workspace_assignment(&self, org: &str, workspace: &str) -> Res<Option<Json>> {
        let found = guard(|| ext_fleet::assignment(&self.engine, org, workspace))?;
        Ok(found.map(Json))
    }

    /// Move a workspace with its namespaces and applications to fleet member `target`; a
    /// target without room or not allowed is refused with nothing changed.
    async fn move_workspace(&self, org: String, workspace: String, target: String) -> Res<Json> {
        let e = self.engine.clone();
        let fut = async move { ext_fleet::move_workspace(&e, &org, &workspace, &target).await };
        Ok(Json(run(fut).await?))
    }
}
