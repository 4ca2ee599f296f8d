//! `hxb._native.Engine`: one method per facade operation.

use hxb_bindings_common::ops::{self, EngineOptions};
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
