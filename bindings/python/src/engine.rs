//! `hxb._native.Engine`: one method per facade operation.

use std::collections::BTreeMap;

use hxb_bindings_common::guard;
use hxb_bindings_common::ops::{self, EngineOptions};
use hxb_bindings_common::platform::{self, AppOptions};
use pyo3::prelude::*;

use crate::convert::Json;
use crate::errors::Res;
use crate::runtime::{block_on, enter, run};

/// The hxb engine (see `hxb.Engine` in the stubs).
#[pyclass(module = "hxb._native", frozen)]
pub struct Engine {
    engine: hxb::Engine,
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

    /// Deploy a stateless application in a project.
    #[pyo3(signature = (org, workspace, project, name, *, image, replicas=None, port=None, requests=None))]
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
    ) -> Res<Json> {
        let e = self.engine.clone();
        let opts = AppOptions {
            replicas,
            port,
            requests: requests.unwrap_or_default(),
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

    /// Forecast the next `horizon` values of a series (pure, synchronous, GIL released).
    #[pyo3(signature = (history, horizon, *, season))]
    fn forecast(
        &self,
        py: Python<'_>,
        history: Vec<f64>,
        horizon: usize,
        season: usize,
    ) -> Res<Vec<f64>> {
        let e = &self.engine;
        Ok(py.detach(|| guard(|| e.forecast(&history, horizon, season)))?)
    }

    /// Anomaly scores of a series given as timestamps (ms) and values (GIL released).
    fn detect_anomalies(
        &self,
        py: Python<'_>,
        timestamps: Vec<i64>,
        values: Vec<f64>,
    ) -> Res<Vec<f64>> {
        let e = &self.engine;
        Ok(py.detach(|| guard(|| platform::detect_anomalies(e, &timestamps, &values)))?)
    }

    /// Read-only diagnosis of the cluster or one namespace.
    #[pyo3(signature = (namespace=None))]
    async fn analyze(&self, namespace: Option<String>) -> Res<Vec<Json>> {
        let e = self.engine.clone();
        let fut = async move { platform::analyze(&e, namespace.as_deref()).await };
        Ok(run(fut).await?.into_iter().map(Json).collect())
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
}
