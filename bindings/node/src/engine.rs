//! `Engine`: one method per facade operation; async ones return Promises.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::task::{Context, Poll, Waker};

use std::collections::HashMap;

use hxb_bindings_common::guard as guard_common;
use hxb_bindings_common::ops::{self, EngineOptions};
use hxb_bindings_common::platform::{self, AppOptions};
use hxb_bindings_common::{join_error, panic_error};
use napi::Env;
use napi::bindgen_prelude::{
    BigInt64Array, Either, Either3, Float64Array, PromiseRaw, ToNapiValue,
};
use napi_derive::napi;
use serde_json::Value;

use crate::errors::{IntoNapi, guard, to_napi};
use crate::values::int_arg;

/// Options of `Engine.embedded` / `Engine.open`.
#[napi(object)]
#[derive(Default)]
pub struct Options {
    /// Simulated nodes of the embedded cluster (default 3).
    pub nodes: Option<f64>,
    /// Seed of the embedded cluster (default 0).
    pub seed: Option<f64>,
    /// SQLite file for the desired state (default: in memory).
    pub state_file: Option<String>,
    /// A kubeconfig file: use that real cluster instead of the embedded one.
    pub kubeconfig: Option<String>,
    /// The kubeconfig context (default: its current context).
    pub context: Option<String>,
    /// Member clusters: the engine's cluster is then a multi-cluster fleet of these.
    pub fleet: Option<Vec<crate::platform_ext::FleetMember>>,
}

impl TryFrom<Options> for EngineOptions {
    type Error = napi::Error;

    fn try_from(o: Options) -> napi::Result<Self> {
        let count = |v: Option<f64>, field: &str| -> napi::Result<Option<i64>> {
            let n = v.map(|v| int_arg(v, field)).transpose()?;
            match n {
                Some(n) if n < 0 => Err(hxb::Error::invalid(field, "must not be negative")).napi(),
                _ => Ok(n),
            }
        };
        Ok(EngineOptions {
            nodes: count(o.nodes, "nodes")?.map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
            seed: count(o.seed, "seed")?.map(|n| n as u64),
            state_file: o.state_file,
            kubeconfig: o.kubeconfig,
            context: o.context,
            fleet: crate::platform_ext::fleet_members(o.fleet)?,
        })
    }
}

/// Run a facade future as its own task (a panic becomes an `internal` error).
async fn run<T, F>(fut: F) -> napi::Result<T>
where
    F: Future<Output = hxb::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    tokio::spawn(fut)
        .await
        .map_err(join_error)
        .and_then(|r| r)
        .napi()
}

/// A Promise of a facade future. The future is polled once right away, on the JavaScript
/// thread inside the runtime's context: a call that completes without waiting (the embedded
/// cluster) settles the Promise with no thread hop; otherwise the same future goes on on
/// napi's tokio runtime.
pub(crate) fn promise<T, F>(env: &Env, fut: F) -> napi::Result<PromiseRaw<'_, T>>
where
    F: Future<Output = hxb::Result<T>> + Send + 'static,
    T: ToNapiValue + Send + 'static,
{
    let mut fut = Box::pin(fut);
    let mut cx = Context::from_waker(Waker::noop());
    let first = napi::bindgen_prelude::within_runtime_if_available(|| {
        catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(&mut cx)))
    });
    match first {
        Ok(Poll::Ready(Ok(v))) => PromiseRaw::resolve(env, v),
        Ok(Poll::Ready(Err(e))) => PromiseRaw::reject(env, to_napi(e)),
        Ok(Poll::Pending) => env.spawn_future(run(fut)),
        Err(p) => PromiseRaw::reject(env, to_napi(panic_error(p.as_ref()))),
    }
}

/// The hxb engine: one handle over the cluster, the state store and the clock.
#[napi]
pub struct Engine {
    pub(crate) engine: hxb::Engine,
}

#[napi]
impl Engine {
    /// An engine on the embedded, in-process cluster (3 nodes, in-memory state).
    #[napi(factory)]
    pub fn embedded() -> napi::Result<Engine> {
        Ok(Engine {
            engine: guard(hxb::Engine::embedded)?,
        })
    }

    /// An engine configured by `options` (embedded unless `kubeconfig` is given).
    #[napi]
    pub async fn open(options: Option<Options>) -> napi::Result<Engine> {
        let opts = EngineOptions::try_from(options.unwrap_or_default())?;
        Ok(Engine {
            engine: run(ops::open(opts)).await?,
        })
    }

    /// Close the engine; later calls reject with code `closed`. Idempotent.
    #[napi]
    pub fn close(&self) {
        self.engine.close();
    }

    /// Whether `close()` was called.
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.engine.is_closed()
    }

    /// Create an object from a manifest.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn create<'env>(
        &self,
        env: &'env Env,
        manifest: Value,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        let e = self.engine.clone();
        promise(env, async move { e.create(manifest).await })
    }

    /// Server-side apply a manifest.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn apply<'env>(
        &self,
        env: &'env Env,
        manifest: Value,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        let e = self.engine.clone();
        promise(env, async move { e.apply(manifest).await })
    }

    /// Get one object by kind, name and (for namespaced kinds) namespace.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn get<'env>(
        &self,
        env: &'env Env,
        kind: String,
        name: String,
        namespace: Option<String>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        let e = self.engine.clone();
        promise(env, async move {
            e.get(&kind, &name, namespace.as_deref()).await
        })
    }

    /// List objects of a kind, optionally in one namespace and matching a label selector.
    #[napi(ts_return_type = "Promise<Array<any>>")]
    pub fn list<'env>(
        &self,
        env: &'env Env,
        kind: String,
        namespace: Option<String>,
        selector: Option<String>,
    ) -> napi::Result<PromiseRaw<'env, Vec<Value>>> {
        let e = self.engine.clone();
        promise(env, async move {
            e.list(&kind, namespace.as_deref(), selector.as_deref())
                .await
        })
    }

    /// Delete one object.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn delete<'env>(
        &self,
        env: &'env Env,
        kind: String,
        name: String,
        namespace: Option<String>,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        let e = self.engine.clone();
        promise(env, async move {
            e.delete(&kind, &name, namespace.as_deref()).await
        })
    }

    /// Create an organization.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn create_organization<'env>(
        &self,
        env: &'env Env,
        name: String,
        options: Option<OrganizationOptions>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        let e = self.engine.clone();
        let o = options.unwrap_or_default();
        promise(env, async move {
            platform::create_organization(&e, &name, o.plan.as_deref(), o.display_name.as_deref())
                .await
        })
    }

    /// Create a workspace in an organization.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn create_workspace<'env>(
        &self,
        env: &'env Env,
        org: String,
        name: String,
        options: Option<WorkspaceOptions>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        let e = self.engine.clone();
        let plan = options.and_then(|o| o.plan);
        promise(env, async move {
            platform::create_workspace(&e, &org, &name, plan.as_deref()).await
        })
    }

    /// Create a project in a workspace.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn create_project<'env>(
        &self,
        env: &'env Env,
        org: String,
        workspace: String,
        name: String,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        let e = self.engine.clone();
        promise(env, async move {
            platform::create_project(&e, &org, &workspace, &name).await
        })
    }

    /// Deploy an application in a project: stateless, stateful (`storage`) or a cron job
    /// (`schedule`).
    #[napi(ts_return_type = "Promise<any>")]
    pub fn create_app<'env>(
        &self,
        env: &'env Env,
        org: String,
        workspace: String,
        project: String,
        name: String,
        options: AppSpec,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        let e = self.engine.clone();
        let small = |v: Option<f64>, field: &str| -> napi::Result<Option<i32>> {
            v.map(|v| {
                let n = int_arg(v, field)?;
                i32::try_from(n)
                    .map_err(|_| hxb::Error::invalid(field, format!("{n} is out of range")))
                    .napi()
            })
            .transpose()
        };
        let opts = AppOptions {
            replicas: small(options.replicas, "replicas")?,
            port: small(options.port, "port")?,
            requests: options.requests.unwrap_or_default().into_iter().collect(),
            storage: options.storage,
            schedule: options.schedule,
        };
        let image = options.image;
        promise(env, async move {
            let at = [&*org, &*workspace, &*project, &*name];
            platform::create_app(&e, at, &image, opts).await
        })
    }

    /// The replica count a CPU-utilization HPA would set (synchronous).
    #[napi]
    pub fn recommend_replicas(
        &self,
        request: ReplicaRequest,
    ) -> napi::Result<ReplicaRecommendation> {
        let int = |v: f64, field: &str| -> napi::Result<i32> {
            let n = int_arg(v, field)?;
            i32::try_from(n)
                .map_err(|_| hxb::Error::invalid(field, format!("{n} is out of range")))
                .napi()
        };
        let replicas = (
            int(request.current_replicas, "currentReplicas")?,
            int(request.min_replicas.unwrap_or(1.0), "minReplicas")?,
            int(request.max_replicas, "maxReplicas")?,
        );
        let target = int(request.target_cpu_utilization, "targetCpuUtilization")?;
        let rec = guard_common(|| {
            platform::recommend_replicas(
                &self.engine,
                replicas,
                target,
                request.cpu_usage,
                &request.cpu_request,
            )
        })
        .napi()?;
        Ok(ReplicaRecommendation {
            desired_replicas: rec.desired_replicas,
            rescale: rec.rescale,
            reason: rec.reason,
            conditions: rec.conditions,
        })
    }

    /// Forecast the next `horizon` values of a series (synchronous). A `Float64Array` history
    /// is read in place and the forecast comes back as a `Float64Array`; an array gives an array.
    #[napi(ts_return_type = "Float64Array | Array<number>")]
    pub fn forecast(
        &self,
        history: Either<Float64Array, Vec<f64>>,
        horizon: f64,
        season: f64,
    ) -> napi::Result<Either<Float64Array, Vec<f64>>> {
        let count = |v: f64, field: &str| -> napi::Result<usize> {
            let n = int_arg(v, field)?;
            usize::try_from(n)
                .map_err(|_| hxb::Error::invalid(field, "must not be negative"))
                .napi()
        };
        let (horizon, season) = (count(horizon, "horizon")?, count(season, "season")?);
        let out =
            guard_common(|| self.engine.forecast(series(&history), horizon, season)).napi()?;
        Ok(same_form(&history, out))
    }

    /// Anomaly scores of a series given as timestamps (ms: an array of numbers, a
    /// `Float64Array` or a `BigInt64Array`) and values (an array of numbers or a
    /// `Float64Array`), synchronous. Typed arrays are read in place; the scores come back as a
    /// `Float64Array` when `values` is one (over the Rust buffer, no copy), else as an array.
    /// `range`: `{min, max}`, the range the values are expected to stay in, known in advance
    /// (a range hint, see `Engine::detect_anomalies_in_range`).
    #[napi(ts_return_type = "Float64Array | Array<number>")]
    pub fn detect_anomalies(
        &self,
        timestamps: Either3<BigInt64Array, Float64Array, Vec<f64>>,
        values: Either<Float64Array, Vec<f64>>,
        range: Option<ValueRange>,
    ) -> napi::Result<Either<Float64Array, Vec<f64>>> {
        let doubles = |ts: &[f64]| {
            ts.iter()
                .map(|&t| int_arg(t, "timestamps"))
                .collect::<napi::Result<Vec<i64>>>()
        };
        let converted;
        let ts: &[i64] = match &timestamps {
            Either3::A(big) => big,
            Either3::B(a) => {
                converted = doubles(a)?;
                &converted
            }
            Either3::C(v) => {
                converted = doubles(v)?;
                &converted
            }
        };
        let range = range.map(|r| (r.min, r.max));
        let scores =
            guard_common(|| platform::detect_anomalies(&self.engine, ts, series(&values), range))
                .napi()?;
        Ok(same_form(&values, scores))
    }

    /// Read-only diagnosis of the cluster or one namespace.
    #[napi(ts_return_type = "Promise<Array<any>>")]
    pub fn analyze<'env>(
        &self,
        env: &'env Env,
        namespace: Option<String>,
    ) -> napi::Result<PromiseRaw<'env, Vec<Value>>> {
        let e = self.engine.clone();
        promise(env, async move {
            platform::analyze(&e, namespace.as_deref()).await
        })
    }
}

fn series(v: &Either<Float64Array, Vec<f64>>) -> &[f64] {
    match v {
        Either::A(a) => a,
        Either::B(b) => b,
    }
}

/// `out` in the form of `input`: a `Float64Array` (owning the Rust buffer) or an array.
fn same_form(
    input: &Either<Float64Array, Vec<f64>>,
    out: Vec<f64>,
) -> Either<Float64Array, Vec<f64>> {
    match input {
        Either::A(_) => Either::A(Float64Array::new(out)),
        Either::B(_) => Either::B(out),
    }
}

/// Options of `createOrganization`.
#[napi(object)]
#[derive(Default)]
pub struct OrganizationOptions {
    /// Plan name (default: the default plan).
    pub plan: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
}

/// Options of `createWorkspace`.
#[napi(object)]
#[derive(Default)]
pub struct WorkspaceOptions {
    /// Plan name (default: the organization's).
    pub plan: Option<String>,
}

/// What `createApp` deploys.
#[napi(object)]
pub struct AppSpec {
    /// Container image.
    pub image: String,
    /// Replica count (default 1).
    pub replicas: Option<f64>,
    /// Container port exposed through a Service.
    pub port: Option<f64>,
    /// Requests per pod, `{resource: quantity}`.
    pub requests: Option<HashMap<String, String>>,
    /// A stateful application (StatefulSet) with a volume of this size per replica.
    pub storage: Option<String>,
    /// A cron job on this schedule (e.g. `"*/5 * * * *"`).
    pub schedule: Option<String>,
}

/// The input of `recommendReplicas`.
#[napi(object)]
pub struct ReplicaRequest {
    /// CPU in use by each pod, in cores.
    pub cpu_usage: Vec<f64>,
    /// CPU request of each pod (a quantity such as `"500m"`).
    pub cpu_request: String,
    /// Target average CPU utilization, percent of the request.
    pub target_cpu_utilization: f64,
    /// Current replica count.
    pub current_replicas: f64,
    /// Lower bound (default 1).
    pub min_replicas: Option<f64>,
    /// Upper bound.
    pub max_replicas: f64,
}

/// The answer of `recommendReplicas`.
#[napi(object)]
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
#[napi(object)]
pub struct ValueRange {
    /// Lowest expected value.
    pub min: f64,
    /// Highest expected value (above `min`).
    pub max: f64,
}
