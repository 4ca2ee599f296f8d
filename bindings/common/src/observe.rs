//! Plain-data forms of the engine's observation and operation calls: the event stream, alert
//! rules and alerts, health, signals and incidents, function invocation and pod logs.
//!
//! Inputs are JSON values (every binding converts its dicts/objects/JSON text to one) checked
//! against the serde forms below; results are the facade's own serde forms (the shapes the
//! HTTP API and the `/events` WebSocket use). Nothing here decides anything the facade does
//! not: each function forwards to one [`hxb::Engine`] or [`hxb::Tenancy`] call.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use hxb::ai::incidents::{Signal, SignalKind};
use hxb::core::cluster::{LogOptions, ProxyResponse};
use hxb::core::metrics::alerts::{Alert, AlertRule, Comparison, Severity};
use hxb::events::{Delivery, EventReceiver};
use hxb::{AlertEvaluation, Engine, Error, Result};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::{Mutex, Notify};

use crate::ErrorInfo;
use crate::platform::json;
use crate::tenancy::timestamp;

// ---- events ----

/// One subscription to the engine's events, shared by a binding's iterator object.
///
/// [`next`](Self::next) yields each event as its serde form (`{"type": "status_changed", …}`)
/// or `{"type": "lagged", "missed": n}` when this subscription fell behind and `n` events
/// were dropped for it; `None` once the subscription or the engine is closed.
#[derive(Debug)]
pub struct Subscription {
    rx: Mutex<Option<EventReceiver>>,
    closed: AtomicBool,
    wake: Notify,
}

impl Subscription {
    /// Subscribe to `engine`'s events (those published from now on).
    pub fn new(engine: &Engine) -> Self {
        Subscription {
            rx: Mutex::new(Some(engine.subscribe())),
            closed: AtomicBool::new(false),
            wake: Notify::new(),
        }
    }

    /// The next delivery as JSON; `None` once closed. Calls made at the same time take turns.
    pub async fn next(&self) -> Result<Option<Value>> {
        let closing = self.wake.notified();
        tokio::pin!(closing);
        closing.as_mut().enable();
        if self.is_closed() {
            return Ok(None);
        }
        let mut rx = tokio::select! {
            rx = self.rx.lock() => rx,
            () = &mut closing => return Ok(None),
        };
        let Some(r) = rx.as_mut() else {
            return Ok(None);
        };
        let delivery = tokio::select! {
            biased;
            () = &mut closing => None,
            d = r.recv() => d,
        };
        match delivery {
            Some(d) => delivery_json(d).map(Some),
            None => {
                *rx = None; // ended: stop holding a place on the bus
                Ok(None)
            }
        }
    }

    /// End the subscription (idempotent): a waiting [`next`](Self::next) returns `None`.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.wake.notify_waiters();
        if let Ok(mut rx) = self.rx.try_lock() {
            *rx = None;
        }
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}

/// A delivery as JSON: the event's serde form, or `{"type": "lagged", "missed": n}`.
pub fn delivery_json(d: Delivery) -> Result<Value> {
    match d {
        Delivery::Event(e) => json(e),
        Delivery::Lagged { missed } => Ok(json!({"type": "lagged", "missed": missed})),
        other => Err(Error::internal(format!("unknown delivery {other:?}"))),
    }
}

// ---- alerts ----

/// The plain-data form of an alert rule, as the bindings take it:
/// `{"name", "query", "comparison"?, "threshold"?, "for"?, "severity"?}` (defaults `above`,
/// `0`, `"0s"`, `warning`). `comparison` is a name (`above`, `at_least`, `below`, `at_most`,
/// `equal`, `not_equal`) or a symbol (`>`, `>=`, `<`, `<=`, `==`, `!=`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Rule name (`[A-Za-z0-9_.-]`, 1–128).
    pub name: String,
    /// PromQL query.
    pub query: String,
    /// How the value is compared with the threshold.
    #[serde(default)]
    pub comparison: Option<String>,
    /// The threshold (finite).
    #[serde(default)]
    pub threshold: Option<f64>,
    /// How long the condition must hold before the alert fires (`"5m"`, `"1h30m"`).
    #[serde(default, rename = "for")]
    pub for_duration: Option<String>,
    /// `info`, `warning` or `critical`.
    #[serde(default)]
    pub severity: Option<Severity>,
}

impl RuleSpec {
    /// Read the plain-data form (`InvalidInput` naming what is wrong).
    pub fn from_json(v: Value) -> Result<Self> {
        serde_json::from_value(v).map_err(|e| Error::invalid("alert rule", e.to_string()))
    }

    /// The rule (validated by [`AlertRule::new`] and its builders).
    pub fn build(self) -> Result<AlertRule> {
        let comparison = match self.comparison.as_deref() {
            None => Comparison::Above,
            Some(s) => Comparison::parse(s).or_else(|e| {
                serde_json::from_value::<Comparison>(Value::String(s.to_owned())).map_err(|_| e)
            })?,
        };
        let mut rule = AlertRule::new(&self.name, &self.query)?
            .when(comparison, self.threshold.unwrap_or(0.0));
        if let Some(d) = &self.for_duration {
            rule = rule.for_duration(d)?;
        }
        if let Some(s) = self.severity {
            rule = rule.severity(s);
        }
        Ok(rule)
    }
}

/// An alert as JSON with its `id` (what [`acknowledge_alert`] takes), as the HTTP API lists it.
pub fn alert_json(a: &Alert) -> Result<Value> {
    let mut v = json(a)?;
    if let Value::Object(m) = &mut v {
        m.insert("id".into(), Value::String(a.id()));
    }
    Ok(v)
}

/// Add (or replace) the rule `rule` (a [`RuleSpec`]) in `scope`; the rule as stored.
pub async fn add_alert_rule(engine: &Engine, scope: &str, rule: Value) -> Result<Value> {
    let rule = RuleSpec::from_json(rule)?.build()?;
    engine.add_alert_rule(scope, rule.clone()).await?;
    json(rule)
}

/// Remove a rule and its alerts (`NotFound` if there is none).
pub async fn remove_alert_rule(engine: &Engine, scope: &str, name: &str) -> Result<()> {
    engine.remove_alert_rule(scope, name).await
}

/// The rules of `scope`.
pub async fn alert_rules(engine: &Engine, scope: &str) -> Result<Vec<Value>> {
    engine.alert_rules(scope).await?.iter().map(json).collect()
}

/// The JSON form of an evaluation: `{fired, resolved, errors: [{scope, rule, error}]}` with
/// each error as the [`ErrorInfo`] record.
pub fn evaluation_json(ev: &AlertEvaluation) -> Result<Value> {
    let alerts = |v: &[Alert]| v.iter().map(alert_json).collect::<Result<Vec<_>>>();
    let errors: Vec<Value> = ev
        .errors
        .iter()
        .map(|(scope, rule, e)| {
            json!({"scope": scope, "rule": rule, "error": ErrorInfo::from_error(e).to_json()})
        })
        .collect();
    Ok(json!({"fired": alerts(&ev.fired)?, "resolved": alerts(&ev.resolved)?, "errors": errors}))
}

/// Evaluate every rule now ([`evaluation_json`]).
pub async fn evaluate_alerts(engine: &Engine) -> Result<Value> {
    evaluation_json(&engine.evaluate_alerts().await?)
}

/// Every alert (pending, firing and resolved), each with its `id`.
pub async fn alerts(engine: &Engine) -> Result<Vec<Value>> {
    engine.alerts().await?.iter().map(alert_json).collect()
}

/// Acknowledge an alert by id as `who`; the alert.
pub async fn acknowledge_alert(engine: &Engine, id: &str, who: &str) -> Result<Value> {
    alert_json(&engine.acknowledge_alert(id, who).await?)
}

/// Health of `scope` and every scope under it.
pub async fn health(engine: &Engine, scope: &str) -> Result<Value> {
    json(engine.health(scope).await?)
}

// ---- incidents ----

/// The plain-data form of a signal: `{"scope", "object", "kind": {"type": "event", "reason"}
/// | {"type": "anomaly", "metric", "score"}, "message"?, "at"?}` (`at`: RFC 3339, default the
/// engine clock's now).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignalSpec {
    /// The scope (`org/workspace`).
    pub scope: String,
    /// The object it concerns (`Deployment team-a/web`).
    pub object: String,
    /// What it is.
    pub kind: SignalKind,
    /// Human-readable detail.
    #[serde(default)]
    pub message: String,
    /// When it was observed (RFC 3339).
    #[serde(default)]
    pub at: Option<String>,
}

/// Add a signal (a [`SignalSpec`]) to the incident of its scope; the incident.
pub fn record_signal(engine: &Engine, signal: Value) -> Result<Value> {
    let s: SignalSpec =
        serde_json::from_value(signal).map_err(|e| Error::invalid("signal", e.to_string()))?;
    let at = match &s.at {
        Some(t) => timestamp(t, "at")?,
        None => engine.clock().now(),
    };
    json(engine.record_signal(Signal {
        at,
        scope: s.scope,
        object: s.object,
        kind: s.kind,
        message: s.message,
    })?)
}

/// Close incidents quiet for longer than their window; the ones closed.
pub fn close_idle_incidents(engine: &Engine) -> Result<Vec<Value>> {
    engine.close_idle_incidents()?.iter().map(json).collect()
}

/// Every incident, oldest first.
pub fn incidents(engine: &Engine) -> Result<Vec<Value>> {
    engine.incidents()?.iter().map(json).collect()
}

// ---- functions and logs ----

/// How to invoke a function beyond its payload (every field optional: `POST /`, no headers,
/// actor `system`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Invocation {
    /// HTTP method.
    pub method: Option<String>,
    /// Path (and query) at the function.
    pub path: Option<String>,
    /// Request headers.
    pub headers: BTreeMap<String, String>,
    /// Who asks (recorded in the audit log).
    pub actor: Option<String>,
}

/// Invoke function `at` (`[org, workspace, project, name]`) with `payload`; the function's
/// answer (its own error statuses included).
pub async fn invoke_function(
    engine: &Engine,
    at: [&str; 4],
    payload: Vec<u8>,
    inv: Invocation,
) -> Result<ProxyResponse> {
    let t = engine.tenancy()?;
    let [org, ws, project, name] = at;
    let mut b = t.invoke_function(org, ws, project, name, payload);
    if let Some(m) = &inv.method {
        b = b.method(m);
    }
    if let Some(p) = &inv.path {
        b = b.path(p);
    }
    for (k, v) in &inv.headers {
        b = b.header(k, v);
    }
    if let Some(a) = &inv.actor {
        b = b.actor(a);
    }
    b.execute().await
}

/// A count argument of the log options (`InvalidInput` when negative).
fn count(v: Option<i64>, field: &str) -> Result<Option<usize>> {
    v.map(|n| usize::try_from(n).map_err(|_| Error::invalid(field, "must not be negative")))
        .transpose()
}

/// The log of a pod's container (`container`: needed when the pod has several; `tail_lines`,
/// `limit_bytes`: non-negative).
pub async fn logs(
    engine: &Engine,
    namespace: &str,
    pod: &str,
    container: Option<String>,
    tail_lines: Option<i64>,
    limit_bytes: Option<i64>,
) -> Result<String> {
    let opts = LogOptions {
        container,
        tail_lines: count(tail_lines, "tail_lines")?,
        limit_bytes: count(limit_bytes, "limit_bytes")?,
    };
    engine.logs(namespace, pod, &opts).await
}

#[cfg(test)]
mod tests;
