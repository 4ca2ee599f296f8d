//! `Engine`: one method per facade operation; async ones are Swift `async throws`.

use std::future::Future;
use std::sync::Arc;

use hxb_bindings_common::join_error;
use hxb_bindings_common::ops;
use hxb_bindings_common::platform::{self, AppOptions};
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
    /// Member clusters: the engine's cluster is then a multi-cluster fleet of these.
    #[uniffi(default = None)]
    pub fleet: Option<Vec<crate::platform_ext::FleetMember>>,
}

impl From<EngineOptions> for ops::EngineOptions {
    fn from(o: EngineOptions) -> Self {
        ops::EngineOptions {
            nodes: o.nodes,
            seed: o.seed,
            state_file: o.state_file,
            kubeconfig: o.kubeconfig,
            context: o.context,
            fleet: o.fleet.into_iter().flatten().map(Into::into).collect(),
        }
    }
}

/// Run a facade future as its own task (a panic becomes an `internal` error).
pub(crate) async fn run<T, F>(fut: F) -> Res<T>
where
    F: Future<Output = hxb::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    Ok(tokio::spawn(fut).await.map_err(join_error)??)
}

/// JSON text from Swift (`what`: the argument, named in the `InvalidInput` error).
pub(crate) fn parse(json: &str, what: &str) -> Res<Value> {
    serde_json::from_str(json)
        .map_err(|e| hxb::Error::invalid(what, format!("not JSON: {e}")).into())
}

/// A value as JSON text for Swift.
pub(crate) fn text(v: Value) -> String {
    v.to_string()
}

/// Values as JSON texts for Swift.
pub(crate) fn texts(list: Vec<Value>) -> Vec<String> {
    list.iter().map(Value::to_string).collect()
}

/// The hxb engine: one handle over the cluster, the state store and the clock.
#[derive(Debug, uniffi::Object)]
pub struct Engine {
    pub(crate) engine: hxb::Engine,
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
        let (e, m) = (self.engine.clone(), parse(&manifest_json, "manifest")?);
        run(async move { e.create(m).await }).await.map(text)
    }

    /// Server-side apply a JSON manifest; returns the stored object as JSON.
    pub async fn apply(&self, manifest_json: String) -> Res<String> {
        let (e, m) = (self.engine.clone(), parse(&manifest_json, "manifest")?);
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

    /// Create an organization; returns it as JSON.
    #[uniffi::method(default(plan = None, display_name = None))]
    pub async fn create_organization(
        &self,
        name: String,
        plan: Option<String>,
        display_name: Option<String>,
    ) -> Res<String> {
        let e = self.engine.clone();
        run(async move {
            platform::create_organization(&e, &name, plan.as_deref(), display_name.as_deref()).await
        })
        .await
        .map(text)
    }

    /// Create a workspace in an organization; returns it as JSON.
    #[uniffi::method(default(plan = None))]
    pub async fn create_workspace(
        &self,
        org: String,
        name: String,
        plan: Option<String>,
    ) -> Res<String> {
        let e = self.engine.clone();
        run(async move { platform::create_workspace(&e, &org, &name, plan.as_deref()).await })
            .await
            .map(text)
    }

    /// Create a project in a workspace; returns it as JSON.
    pub async fn create_project(
        &self,
        org: String,
        workspace: String,
        name: String,
    ) -> Res<String> {
        let e = self.engine.clone();
        run(async move { platform::create_project(&e, &org, &workspace, &name).await })
            .await
            .map(text)
    }

    /// Deploy an application in a project (stateless; stateful with `spec.storage`, a cron
    /// job with `spec.schedule`); returns it as JSON.
    pub async fn create_app(
        &self,
        org: String,
        workspace: String,
        project: String,
        name: String,
        spec: AppSpec,
    ) -> Res<String> {
        let e = self.engine.clone();
        let opts = AppOptions {
            replicas: spec.replicas,
            port: spec.port,
            requests: spec.requests.unwrap_or_default().into_iter().collect(),
            storage: spec.storage,
            schedule: spec.schedule,
        };
        run(async move {
            let at = [&*org, &*workspace, &*project, &*name];
            platform::create_app(&e, at, &spec.image, opts).await
        })
        .await
        .map(text)
    }

    /// The replica count a CPU-utilization HPA would set.
    pub fn recommend_replicas(&self, request: ReplicaRequest) -> Res<ReplicaRecommendation> {
        let rec = guard(|| {
            platform::recommend_replicas(
                &self.engine,
                (
                    request.current_replicas,
                    request.min_replicas,
                    request.max_replicas,
                ),
                request.target_cpu_utilization,
                request.cpu_usage,
                &request.cpu_request,
            )
        })?;
        Ok(ReplicaRecommendation {
            desired_replicas: rec.desired_replicas,
            rescale: rec.rescale,
            reason: rec.reason,
            conditions: rec.conditions,
        })
    }

    /// Forecast the next `horizon` values of a series with season length `season`.
    pub fn forecast(&self, history: Vec<f64>, horizon: u32, season: u32) -> Res<Vec<f64>> {
        guard(|| {
            self.engine
                .forecast(&history, horizon as usize, season as usize)
        })
    }

    /// Anomaly scores in `[0, 1]` of a series given as timestamps (ms) and values; `range`:
    /// the range the values are expected to stay in, known in advance (a range hint).
    #[uniffi::method(default(range = None))]
    pub fn detect_anomalies(
        &self,
        timestamps: Vec<i64>,
        values: Vec<f64>,
        range: Option<ValueRange>,
    ) -> Res<Vec<f64>> {
        let range = range.map(|r| (r.min, r.max));
        guard(|| platform::detect_anomalies(&self.engine, &timestamps, &values, range))
    }

    /// Read-only diagnosis of the cluster or one namespace; each finding as JSON.
    #[uniffi::method(default(namespace = None))]
    pub async fn analyze(&self, namespace: Option<String>) -> Res<Vec<String>> {
        let e = self.engine.clone();
        let items = run(async move { platform::analyze(&e, namespace.as_deref()).await }).await?;
        Ok(items.into_iter().map(text).collect())
    }
}

/// What `createApp` deploys: a stateless application.
#[derive(Debug, Clone, uniffi::Record)]
pub struct AppSpec {
    /// Container image.
    pub image: String,
    /// Replica count (default 1).
    #[uniffi(default = None)]
    pub replicas: Option<i32>,
    /// Container port exposed through a Service.
    #[uniffi(default = None)]
    pub port: Option<i32>,
    /// Requests per pod, `{resource: quantity}`.
    #[uniffi(default = None)]
    pub requests: Option<std::collections::HashMap<String, String>>,
    /// A stateful application (StatefulSet) with a volume of this size per replica.
    #[uniffi(default = None)]
    pub storage: Option<String>,
    /// A cron job on this schedule (e.g. `"*/5 * * * *"`).
    #[uniffi(default = None)]
    pub schedule: Option<String>,
}

/// The input of `recommendReplicas`.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ReplicaRequest {
    /// CPU in use by each pod, in cores.
    pub cpu_usage: Vec<f64>,
    /// CPU request of each pod (a quantity such as `"500m"`).
    pub cpu_request: String,
    /// Target average CPU utilization, percent of the request.
    pub target_cpu_utilization: i32,
    /// Current replica count.
    pub current_replicas: i32,
    /// Lower bound.
    #[uniffi(default = 1)]
    pub min_replicas: i32,
    /// Upper bound.
    pub max_replicas: i32,
}

/// The answer of `recommendReplicas`.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ReplicaRecommendation {
    /// The replica count to set.
    pub desired_replicas: i32,
    /// Whether it differs from the current count.
    pub rescale: bool,
    /// Why, in the HPA controller's words (empty when nothing changes).
    pub reason: String,
    /// The status conditions the HPA controller would set.
    pub conditions: Vec<String>,
}

/// The range a series' values are expected to stay in, known in advance.
#[derive(uniffi::Record)]
pub struct ValueRange {
    /// Lowest expected value.
    pub min: f64,
    /// Highest expected value (above `min`).
    pub max: f64,
}
