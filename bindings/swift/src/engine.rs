//! `Engine`: one method per facade operation; async ones are Swift `async throws`.

use std::future::Future;
use std::sync::Arc;

use hxb_bindings_common::join_error;
use hxb_bindings_common::ops;
use serde_json::Value;

use crate::error::{Res, guard};

/// How to open an engine; every field optional (all `nil` = the embedded engine).
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct EngineOptions {
    /// Simulated nodes of the embedded cluster (default 3).
    #[uniffi(default = None)]
    pub nodes: Option<u32>,
    /// Seed of the embedded cluster (default 0).
    #[uniffi(default = None)]
    pub seed: Option<u64>,
    /// SQLite file for the desired state (default: in memory).
    #[uniffi(default = None)]
    pub state_file: Option<String>,
    /// A kubeconfig file: use that real cluster instead of the embedded one.
    #[uniffi(default = None)]
    pub kubeconfig: Option<String>,
    /// The kubeconfig context (default: its current context).
    #[uniffi(default = None)]
    pub context: Option<String>,
}

impl From<EngineOptions> for ops::EngineOptions {
    fn from(o: EngineOptions) -> Self {
        ops::EngineOptions {
            nodes: o.nodes,
            seed: o.seed,
            state_file: o.state_file,
            kubeconfig: o.kubeconfig,
            context: o.context,
        }
    }
}

/// Run a facade future as its own task (a panic becomes an `internal` error).
async fn run<T, F>(fut: F) -> Res<T>
where
    F: Future<Output = hxb::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    Ok(tokio::spawn(fut).await.map_err(join_error)??)
}

fn parse(manifest_json: &str) -> Res<Value> {
    serde_json::from_str(manifest_json)
        .map_err(|e| hxb::Error::invalid("manifest", format!("not JSON: {e}")).into())
}

fn text(v: Value) -> String {
    v.to_string()
}

/// The hxb engine: one handle over the cluster, the state store and the clock.
#[derive(Debug, uniffi::Object)]
pub struct Engine {
    engine: hxb::Engine,
}

#[uniffi::export(async_runtime = "tokio")]
impl Engine {
    /// An engine on the embedded, in-process cluster (3 nodes, in-memory state).
    #[uniffi::constructor]
    pub fn embedded() -> Res<Arc<Self>> {
        Ok(Arc::new(Engine {
            engine: guard(hxb::Engine::embedded)?,
        }))
    }

    /// An engine configured by `options` (embedded unless `kubeconfig` is given).
    #[uniffi::constructor]
    pub async fn open(options: EngineOptions) -> Res<Arc<Self>> {
        let engine = run(ops::open(options.into())).await?;
        Ok(Arc::new(Engine { engine }))
    }

    /// Close the engine; later calls throw `HxbError.Closed`. Idempotent.
    pub fn close(&self) {
        self.engine.close();
    }

    /// Whether `close()` was called.
    pub fn is_closed(&self) -> bool {
        self.engine.is_closed()
    }

    /// Create an object from a JSON manifest; returns the stored object as JSON.
    pub async fn create(&self, manifest_json: String) -> Res<String> {
        let (e, m) = (self.engine.clone(), parse(&manifest_json)?);
        run(async move { e.create(m).await }).await.map(text)
    }

    /// Server-side apply a JSON manifest; returns the stored object as JSON.
    pub async fn apply(&self, manifest_json: String) -> Res<String> {
        let (e, m) = (self.engine.clone(), parse(&manifest_json)?);
        run(async move { e.apply(m).await }).await.map(text)
    }

    /// Get one object (as JSON) by kind, name and (for namespaced kinds) namespace.
    #[uniffi::method(default(namespace = None))]
    pub async fn get(&self, kind: String, name: String, namespace: Option<String>) -> Res<String> {
        let e = self.engine.clone();
        run(async move { e.get(&kind, &name, namespace.as_deref()).await })
            .await
            .map(text)
    }

    /// List objects of a kind (each as JSON), optionally in one namespace and matching a
    /// label selector.
    #[uniffi::method(default(namespace = None, selector = None))]
    pub async fn list(
        &self,
        kind: String,
        namespace: Option<String>,
        selector: Option<String>,
    ) -> Res<Vec<String>> {
        let e = self.engine.clone();
        let items = run(async move {
            e.list(&kind, namespace.as_deref(), selector.as_deref())
                .await
        })
        .await?;
        Ok(items.into_iter().map(text).collect())
    }

    /// Delete one object.
    #[uniffi::method(default(namespace = None))]
    pub async fn delete(&self, kind: String, name: String, namespace: Option<String>) -> Res<()> {
        let e = self.engine.clone();
        run(async move { e.delete(&kind, &name, namespace.as_deref()).await }).await
    }
}
