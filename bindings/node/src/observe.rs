//! `Engine`'s observation and operation calls: the event stream (`subscribe()` →
//! [`EventSubscription`]), alert rules, alerts and health, signals and incidents, function
//! invocation and pod logs. Rules and signals go in as plain objects, results come back as
//! plain objects.

use std::collections::HashMap;
use std::sync::Arc;

use hxb::core::cluster::ProxyResponse;
use hxb_bindings_common::observe::{self, Invocation, Subscription};
use napi::Env;
use napi::bindgen_prelude::{Buffer, Either, PromiseRaw};
use napi_derive::napi;
use serde_json::Value;

use crate::engine::{Engine, promise};
use crate::errors::guard;
use crate::values::int_arg;

/// The engine's events from `Engine.subscribe()`: `await sub.next()` is the next event (an
/// object with a `type`), `{type: 'lagged', missed}` when this subscription fell behind and
/// `missed` events were dropped for it, or `null` once closed (by `close()` or by closing the
/// engine). `for await (const ev of engine.subscribe())` iterates the same (see `index.js`).
#[napi]
pub struct EventSubscription {
    sub: Arc<Subscription>,
}

#[napi]
impl EventSubscription {
    /// The next event, or `null` once the subscription ended.
    #[napi(ts_return_type = "Promise<any | null>")]
    pub fn next<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, Option<Value>>> {
        let sub = self.sub.clone();
        promise(env, async move { sub.next().await })
    }

    /// End the subscription (idempotent): a pending `next()` resolves to `null`.
    #[napi]
    pub fn close(&self) {
        self.sub.close();
    }

    /// Whether `close()` was called.
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.sub.is_closed()
    }
}

/// Options of `invokeFunction` (default: `POST /`, no headers, actor `system`).
#[napi(object)]
#[derive(Default)]
pub struct InvokeOptions {
    /// HTTP method.
    pub method: Option<String>,
    /// Path (and query) at the function.
    pub path: Option<String>,
    /// Request headers.
    pub headers: Option<HashMap<String, String>>,
    /// Who asks (recorded in the audit log).
    pub actor: Option<String>,
}

/// A function's answer.
#[napi(object)]
pub struct FunctionResponse {
    /// HTTP status code.
    pub status: u32,
    /// Response headers (lower-case names).
    pub headers: HashMap<String, String>,
    /// Response body.
    pub body: Buffer,
}

impl From<ProxyResponse> for FunctionResponse {
    fn from(r: ProxyResponse) -> Self {
        FunctionResponse {
            status: u32::from(r.status),
            headers: r.headers.into_iter().collect(),
            body: r.body.into(),
        }
    }
}

/// Options of `logs`.
#[napi(object)]
#[derive(Default)]
pub struct LogsOptions {
    /// The container (needed when the pod has several).
    pub container: Option<String>,
    /// Only the last this many lines.
    pub tail_lines: Option<f64>,
    /// At most this many bytes.
    pub limit_bytes: Option<f64>,
}

#[napi]
impl Engine {
    /// Subscribe to the engine's events from now on.
    #[napi]
    pub fn subscribe(&self) -> EventSubscription {
        EventSubscription {
            sub: Arc::new(Subscription::new(&self.engine)),
        }
    }

    /// Add (or replace) an alert rule (`{name, query, comparison, threshold, for, severity}`)
    /// in `scope`; the rule as stored.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn add_alert_rule<'env>(
        &self,
        env: &'env Env,
        scope: String,
        rule: Value,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        let e = self.engine.clone();
        promise(env, async move {
            observe::add_alert_rule(&e, &scope, rule).await
        })
    }

    /// Remove an alert rule and its alerts.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn remove_alert_rule<'env>(
        &self,
        env: &'env Env,
        scope: String,
        name: String,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        let e = self.engine.clone();
        promise(env, async move {
            observe::remove_alert_rule(&e, &scope, &name).await
        })
    }

    /// The alert rules of `scope`.
    #[napi(ts_return_type = "Promise<Array<any>>")]
    pub fn alert_rules<'env>(
        &self,
        env: &'env Env,
        scope: String,
    ) -> napi::Result<PromiseRaw<'env, Vec<Value>>> {
        let e = self.engine.clone();
        promise(env, async move { observe::alert_rules(&e, &scope).await })
    }

    /// Evaluate every alert rule now: `{fired, resolved, errors}`.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn evaluate_alerts<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, Value>> {
        let e = self.engine.clone();
        promise(env, async move { observe::evaluate_alerts(&e).await })
    }

    /// Every alert (pending, firing, resolved), each with its `id`.
    #[napi(ts_return_type = "Promise<Array<any>>")]
    pub fn alerts<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, Vec<Value>>> {
        let e = self.engine.clone();
        promise(env, async move { observe::alerts(&e).await })
    }

    /// Acknowledge an alert by `id` as `who`; the alert.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn acknowledge_alert<'env>(
        &self,
        env: &'env Env,
        id: String,
        who: String,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        let e = self.engine.clone();
        promise(env, async move {
            observe::acknowledge_alert(&e, &id, &who).await
        })
    }

    /// Health of `scope` and every scope under it.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn health<'env>(
        &self,
        env: &'env Env,
        scope: String,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        let e = self.engine.clone();
        promise(env, async move { observe::health(&e, &scope).await })
    }

    /// Add a signal (`{scope, object, kind, message, at}`) to the incident of its scope
    /// (sync); the incident.
    #[napi(ts_return_type = "any")]
    pub fn record_signal(&self, signal: Value) -> napi::Result<Value> {
        guard(|| observe::record_signal(&self.engine, signal))
    }

    /// Close incidents quiet for longer than their window (sync); the ones closed.
    #[napi(ts_return_type = "Array<any>")]
    pub fn close_idle_incidents(&self) -> napi::Result<Vec<Value>> {
        guard(|| observe::close_idle_incidents(&self.engine))
    }

    /// Every incident, oldest first (sync).
    #[napi(ts_return_type = "Array<any>")]
    pub fn incidents(&self) -> napi::Result<Vec<Value>> {
        guard(|| observe::incidents(&self.engine))
    }

    /// Invoke a function with `payload` (a Buffer or a string, sent as UTF-8); its answer.
    #[napi(ts_return_type = "Promise<FunctionResponse>")]
    #[allow(clippy::too_many_arguments)] // the call's arguments, as JavaScript sees them
    pub fn invoke_function<'env>(
        &self,
        env: &'env Env,
        org: String,
        workspace: String,
        project: String,
        name: String,
        payload: Option<Either<Buffer, String>>,
        options: Option<InvokeOptions>,
    ) -> napi::Result<PromiseRaw<'env, FunctionResponse>> {
        let body = match payload {
            None => Vec::new(),
            Some(Either::A(b)) => b.to_vec(),
            Some(Either::B(s)) => s.into_bytes(),
        };
        let o = options.unwrap_or_default();
        let inv = Invocation {
            method: o.method,
            path: o.path,
            headers: o.headers.unwrap_or_default().into_iter().collect(),
            actor: o.actor,
        };
        let e = self.engine.clone();
        promise(env, async move {
            let at = [&*org, &*workspace, &*project, &*name];
            observe::invoke_function(&e, at, body, inv)
                .await
                .map(FunctionResponse::from)
        })
    }

    /// The log of a pod's container.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn logs<'env>(
        &self,
        env: &'env Env,
        namespace: String,
        pod: String,
        options: Option<LogsOptions>,
    ) -> napi::Result<PromiseRaw<'env, String>> {
        let o = options.unwrap_or_default();
        let tail = o.tail_lines.map(|v| int_arg(v, "tailLines")).transpose()?;
        let limit = o
            .limit_bytes
            .map(|v| int_arg(v, "limitBytes"))
            .transpose()?;
        let e = self.engine.clone();
        promise(env, async move {
            observe::logs(&e, &namespace, &pod, o.container, tail, limit).await
        })
    }
}
