//! `Engine`'s observation and operation calls: the event stream (`subscribe()` →
//! [`EventSubscription`]), alert rules, alerts and health, signals and incidents, function
//! invocation and pod logs. Rules, signals, events, alerts and incidents cross as JSON text,
//! like manifests.

use std::collections::HashMap;
use std::sync::Arc;

use hxb_bindings_common::observe::{self, Invocation, Subscription};

use crate::engine::{Engine, parse, run, texts};
use crate::error::{Res, guard};

/// The engine's events from `Engine.subscribe()`: `try await next()` is the next event as
/// JSON text (an object with a `type`), `{"type":"lagged","missed":n}` when this subscription
/// fell behind and `n` events were dropped for it, or `nil` once closed (by `close()` or by
/// closing the engine).
#[derive(Debug, uniffi::Object)]
pub struct EventSubscription {
    sub: Arc<Subscription>,
}

#[uniffi::export(async_runtime = "tokio")]
impl EventSubscription {
    /// The next event as JSON text, or `nil` once the subscription ended.
    pub async fn next(&self) -> Res<Option<String>> {
        let sub = self.sub.clone();
        Ok(run(async move { sub.next().await })
            .await?
            .map(|v| v.to_string()))
    }

    /// End the subscription (idempotent): a waiting `next()` returns `nil`.
    pub fn close(&self) {
        self.sub.close();
    }

    /// Whether `close()` was called.
    pub fn is_closed(&self) -> bool {
        self.sub.is_closed()
    }
}

/// A function's answer.
#[derive(Debug, Clone, uniffi::Record)]
pub struct FunctionResponse {
    /// HTTP status code.
    pub status: u16,
    /// Response headers (lower-case names).
    pub headers: HashMap<String, String>,
    /// Response body.
    pub body: Vec<u8>,
}

#[uniffi::export(async_runtime = "tokio")]
impl Engine {
    /// Subscribe to the engine's events from now on.
    pub fn subscribe(&self) -> Arc<EventSubscription> {
        Arc::new(EventSubscription {
            sub: Arc::new(Subscription::new(&self.engine)),
        })
    }

    /// Add (or replace) an alert rule (JSON `{"name", "query", "comparison", "threshold",
    /// "for", "severity"}`) in `scope`; the rule as stored (JSON).
    pub async fn add_alert_rule(&self, scope: String, rule_json: String) -> Res<String> {
        let rule = parse(&rule_json, "alert rule")?;
        let e = self.engine.clone();
        run(async move { observe::add_alert_rule(&e, &scope, rule).await })
            .await
            .map(|v| v.to_string())
    }

    /// Remove an alert rule and its alerts.
    pub async fn remove_alert_rule(&self, scope: String, name: String) -> Res<()> {
        let e = self.engine.clone();
        run(async move { observe::remove_alert_rule(&e, &scope, &name).await }).await
    }

    /// The alert rules of `scope` (JSON).
    pub async fn alert_rules(&self, scope: String) -> Res<Vec<String>> {
        let e = self.engine.clone();
        run(async move { observe::alert_rules(&e, &scope).await })
            .await
            .map(texts)
    }

    /// Evaluate every alert rule now: `{"fired", "resolved", "errors"}` (JSON).
    pub async fn evaluate_alerts(&self) -> Res<String> {
        let e = self.engine.clone();
        run(async move { observe::evaluate_alerts(&e).await })
            .await
            .map(|v| v.to_string())
    }

    /// Every alert (pending, firing, resolved), each with its `id` (JSON).
    pub async fn alerts(&self) -> Res<Vec<String>> {
        let e = self.engine.clone();
        run(async move { observe::alerts(&e).await })
            .await
            .map(texts)
    }

    /// Acknowledge an alert by `id` as `who`; the alert (JSON).
    pub async fn acknowledge_alert(&self, id: String, who: String) -> Res<String> {
        let e = self.engine.clone();
        run(async move { observe::acknowledge_alert(&e, &id, &who).await })
            .await
            .map(|v| v.to_string())
    }

    /// Health of `scope` and every scope under it (JSON).
    pub async fn health(&self, scope: String) -> Res<String> {
        let e = self.engine.clone();
        run(async move { observe::health(&e, &scope).await })
            .await
            .map(|v| v.to_string())
    }

    /// Add a signal (JSON `{"scope", "object", "kind", "message", "at"}`) to the incident of
    /// its scope; the incident (JSON).
    pub fn record_signal(&self, signal_json: String) -> Res<String> {
        let signal = parse(&signal_json, "signal")?;
        guard(|| observe::record_signal(&self.engine, signal)).map(|v| v.to_string())
    }

    /// Close incidents quiet for longer than their window; the ones closed (JSON).
    pub fn close_idle_incidents(&self) -> Res<Vec<String>> {
        guard(|| observe::close_idle_incidents(&self.engine)).map(texts)
    }

    /// Every incident, oldest first (JSON).
    pub fn incidents(&self) -> Res<Vec<String>> {
        guard(|| observe::incidents(&self.engine)).map(texts)
    }

    /// Invoke a function with `payload` (default `POST /`, no headers, actor `system`); its
    /// answer.
    #[uniffi::method(default(method = None, path = None, headers = None, actor = None))]
    #[allow(clippy::too_many_arguments)] // the call's arguments, as Swift sees them
    pub async fn invoke_function(
        &self,
        org: String,
        workspace: String,
        project: String,
        name: String,
        payload: Vec<u8>,
        method: Option<String>,
        path: Option<String>,
        headers: Option<HashMap<String, String>>,
        actor: Option<String>,
    ) -> Res<FunctionResponse> {
        let inv = Invocation {
            method,
            path,
            headers: headers.unwrap_or_default().into_iter().collect(),
            actor,
        };
        let e = self.engine.clone();
        let r = run(async move {
            let at = [&*org, &*workspace, &*project, &*name];
            observe::invoke_function(&e, at, payload, inv).await
        })
        .await?;
        Ok(FunctionResponse {
            status: r.status,
            headers: r.headers.into_iter().collect(),
            body: r.body,
        })
    }

    /// The log of a pod's container (`container`: needed when the pod has several).
    #[uniffi::method(default(container = None, tail_lines = None, limit_bytes = None))]
    pub async fn logs(
        &self,
        namespace: String,
        pod: String,
        container: Option<String>,
        tail_lines: Option<i64>,
        limit_bytes: Option<i64>,
    ) -> Res<String> {
        let e = self.engine.clone();
        run(async move {
            observe::logs(&e, &namespace, &pod, container, tail_lines, limit_bytes).await
        })
        .await
    }
}
