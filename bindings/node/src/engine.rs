//! `Engine`: one method per facade operation; async ones return Promises.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::task::{Context, Poll, Waker};

use hxb_bindings_common::ops::{self, EngineOptions};
use hxb_bindings_common::{join_error, panic_error};
use napi::Env;
use napi::bindgen_prelude::{PromiseRaw, ToNapiValue};
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
fn promise<T, F>(env: &Env, fut: F) -> napi::Result<PromiseRaw<'_, T>>
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
    engine: hxb::Engine,
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
}
