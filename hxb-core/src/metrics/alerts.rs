//! Alert rules: query, comparison, threshold, for-duration, severity. Alerts go
//! pending → firing → resolved, can be acknowledged, and roll up into health summaries.
//!
//! Evaluation is a plain function of a [`MetricsSource`] and a time, so a caller's loop (or a
//! simulation with a [`ManualClock`](crate::ManualClock)) drives it. A rule whose query fails
//! keeps its alerts as they were and reports the error in [`Evaluation::errors`]; the other
//! rules still evaluate.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> hxb_core::Result<()> {
//! use hxb_core::metrics::{EmbeddedMetrics, labels};
//! use hxb_core::metrics::alerts::{AlertManager, AlertRule, Severity};
//! let m = EmbeddedMetrics::default();
//! let mut alerts = AlertManager::default();
//! alerts.add_rule("acme/dev", AlertRule::new("HighCpu", "cpu_usage")?.above(0.9).for_duration("1m")?.severity(Severity::Critical))?;
//! for s in 0..5 {
//!     m.write(&labels("cpu_usage", &[("pod", "web")]), s * 30_000, 0.95)?;
//!     let ev = alerts.evaluate(&m, jiff::Timestamp::from_millisecond(s * 30_000).unwrap()).await;
//!     assert!(ev.errors.is_empty());
//! }
//! assert_eq!(alerts.firing().count(), 1);
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::promql::{self, Expr, MatchOp};
use super::{Labels, MetricsSource};
use crate::error::{Error, Result};
use crate::model::{Subject, Timestamp};

/// How a value is compared with the threshold.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    /// `>`
    Above,
    /// `>=`
    AtLeast,
    /// `<`
    Below,
    /// `<=`
    AtMost,
    /// `==`
    Equal,
    /// `!=`
    NotEqual,
}

impl Comparison {
    /// Whether `v` breaches `threshold`.
    pub fn holds(self, v: f64, threshold: f64) -> bool {
        match self {
            Comparison::Above => v > threshold,
            Comparison::AtLeast => v >= threshold,
            Comparison::Below => v < threshold,
            Comparison::AtMost => v <= threshold,
            Comparison::Equal => v == threshold,
            Comparison::NotEqual => v != threshold,
        }
    }

    /// Parse `>`, `>=`, `<`, `<=`, `==`, `!=`.
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            ">" => Comparison::Above,
            ">=" => Comparison::AtLeast,
            "<" => Comparison::Below,
            "<=" => Comparison::AtMost,
            "==" => Comparison::Equal,
            "!=" => Comparison::NotEqual,
            _ => {
                return Err(Error::invalid(
                    "comparison",
                    format!("{s:?} is not one of > >= < <= == !="),
                ));
            }
        })
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Comparison::Above => ">",
            Comparison::AtLeast => ">=",
            Comparison::Below => "<",
            Comparison::AtMost => "<=",
            Comparison::Equal => "==",
            Comparison::NotEqual => "!=",
        })
    }
}

/// How urgent an alert is.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Informational.
    Info,
    /// Needs attention.
    Warning,
    /// Needs action now.
    Critical,
}

/// An alert rule. Serialises as `{name, query, comparison, threshold, for, severity}` with
/// `for` a duration text (`"90s"`, `"250ms"`) that [`AlertRule::for_duration`] reads back.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertRule {
    name: String,
    query: String,
    #[serde(skip)]
    expr: Expr,
    comparison: Comparison,
    threshold: f64,
    #[serde(rename = "for", serialize_with = "duration_text")]
    for_duration: Duration,
    severity: Severity,
}

/// A duration as the text [`promql::parse_duration`] reads: whole seconds, else milliseconds.
fn duration_text<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    let ms = d.as_millis();
    if ms.is_multiple_of(1_000) {
        s.collect_str(&format_args!("{}s", ms / 1_000))
    } else {
        s.collect_str(&format_args!("{ms}ms"))
    }
}

impl AlertRule {
    /// A rule named `name` over `query` (parsed and validated now). Defaults: `> 0`, for 0 s,
    /// severity warning.
    pub fn new(name: &str, query: &str) -> Result<Self> {
        if name.is_empty()
            || name.len() > 128
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            return Err(Error::invalid(
                "alert rule name",
                format!("{name:?} must be 1-128 of [A-Za-z0-9_.-]"),
            ));
        }
        let expr = promql::parse(query)?;
        Ok(AlertRule {
            name: name.to_owned(),
            query: query.to_owned(),
            expr,
            comparison: Comparison::Above,
            threshold: 0.0,
            for_duration: Duration::ZERO,
            severity: Severity::Warning,
        })
    }

    /// Fire when the value is above `t`.
    pub fn above(self, t: f64) -> Self {
        self.when(Comparison::Above, t)
    }

    /// Fire when the value is below `t`.
    pub fn below(self, t: f64) -> Self {
        self.when(Comparison::Below, t)
    }

    /// Fire when `value <comparison> threshold`.
    pub fn when(mut self, comparison: Comparison, threshold: f64) -> Self {
        self.comparison = comparison;
        self.threshold = threshold;
        self
    }

    /// Fire only after the condition held this long (`"5m"`, `"1h30m"`).
    pub fn for_duration(mut self, d: &str) -> Result<Self> {
        self.for_duration = promql::parse_duration(d)?;
        Ok(self)
    }

    /// Severity.
    pub fn severity(mut self, s: Severity) -> Self {
        self.severity = s;
        self
    }

    /// Name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Query text.
    pub fn query(&self) -> &str {
        &self.query
    }

    /// Metric names the query reads.
    pub fn metrics(&self) -> Vec<String> {
        fn walk(e: &Expr, out: &mut Vec<String>) {
            match e {
                Expr::Selector(m) | Expr::Range { matchers: m, .. } => out.extend(
                    m.iter()
                        .filter(|x| x.label == "__name__" && x.op == MatchOp::Eq)
                        .map(|x| x.value.clone()),
                ),
                Expr::Aggregate { expr, .. } => walk(expr, out),
                Expr::Binary { lhs, rhs, .. } => {
                    walk(lhs, out);
                    walk(rhs, out);
                }
                _ => {}
            }
        }
        let mut out = Vec::new();
        walk(&self.expr, &mut out);
        out.sort();
        out.dedup();
        out
    }

    fn validate(&self) -> Result<()> {
        if !self.threshold.is_finite() {
            return Err(Error::invalid(
                "alert rule threshold",
                format!("{} is not finite", self.threshold),
            ));
        }
        Ok(())
    }
}

/// Where an alert is in its life.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    /// The condition holds, for less than the rule's for-duration.
    Pending,
    /// The condition has held for the for-duration.
    Firing,
    /// It fired and the condition no longer holds.
    Resolved,
}

/// One alert: a rule × a series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Scope (e.g. `organization/workspace`).
    pub scope: String,
    /// Rule name.
    pub rule: String,
    /// Labels of the offending series.
    pub labels: Labels,
    /// State.
    pub state: AlertState,
    /// Severity.
    pub severity: Severity,
    /// Latest value.
    pub value: f64,
    /// When the condition started holding.
    pub active_since: Timestamp,
    /// When it fired.
    pub fired_at: Option<Timestamp>,
    /// When it resolved.
    pub resolved_at: Option<Timestamp>,
    /// Who acknowledged it.
    pub acknowledged_by: Option<Subject>,
}

impl Alert {
    /// A stable identifier: `scope/rule{labels}`.
    pub fn id(&self) -> String {
        let l: Vec<String> = self
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v:?}"))
            .collect();
        format!("{}/{}{{{}}}", self.scope, self.rule, l.join(","))
    }
}

/// A change produced by an evaluation.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub enum AlertEvent {
    /// An alert started firing.
    Fired(Alert),
    /// A firing alert resolved.
    Resolved(Alert),
}

/// What one evaluation did.
#[derive(Debug, Default)]
pub struct Evaluation {
    /// Alerts that fired or resolved.
    pub events: Vec<AlertEvent>,
    /// `(scope, rule, error)` for rules whose query failed (their alerts are left as they were).
    pub errors: Vec<(String, String, Error)>,
}

/// Overall health of a scope.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// Nothing firing.
    Healthy,
    /// Warnings or info firing.
    Degraded,
    /// Something critical firing.
    Critical,
}

/// Health of one scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthSummary {
    /// Scope.
    pub scope: String,
    /// Overall health.
    pub health: Health,
    /// Firing alerts per severity.
    pub firing: BTreeMap<Severity, usize>,
    /// Pending alerts.
    pub pending: usize,
    /// Firing alerts not yet acknowledged.
    pub unacknowledged: usize,
}

/// Rules and alerts of many scopes (workspaces, projects).
#[derive(Debug, Default)]
pub struct AlertManager {
    rules: BTreeMap<(String, String), AlertRule>,
    alerts: BTreeMap<String, Alert>,
    known_metrics: Option<Vec<String>>,
}

impl AlertManager {
    /// Refuse rules that read metrics outside `names` (e.g. what the metrics source exposes).
    pub fn with_known_metrics(mut self, names: impl IntoIterator<Item = String>) -> Self {
        let mut v: Vec<String> = names.into_iter().collect();
        v.sort();
        self.known_metrics = Some(v);
        self
    }

    /// Add or replace a rule in `scope`. Validates the rule (threshold, known metrics) first.
    pub fn add_rule(&mut self, scope: &str, rule: AlertRule) -> Result<()> {
        if scope.is_empty() {
            return Err(Error::invalid("scope", "must not be empty"));
        }
        rule.validate()?;
        if let Some(known) = &self.known_metrics {
            for m in rule.metrics() {
                if known.binary_search(&m).is_err() {
                    return Err(Error::invalid(
                        "alert rule query",
                        format!("unknown metric {m:?} in {:?}", rule.query),
                    ));
                }
            }
        }
        self.rules
            .insert((scope.to_owned(), rule.name.clone()), rule);
        Ok(())
    }

    /// Remove a rule and its alerts.
    pub fn remove_rule(&mut self, scope: &str, name: &str) -> Result<()> {
        self.rules
            .remove(&(scope.to_owned(), name.to_owned()))
            .ok_or_else(|| Error::not_found("alert rule", format!("{scope}/{name}")))?;
        self.alerts
            .retain(|_, a| !(a.scope == scope && a.rule == name));
        Ok(())
    }

    /// Rules of a scope.
    pub fn rules(&self, scope: &str) -> impl Iterator<Item = &AlertRule> {
        self.rules
            .iter()
            .filter(move |((s, _), _)| s == scope)
            .map(|(_, r)| r)
    }

    /// Evaluate every rule at `now`.
    pub async fn evaluate(&mut self, source: &dyn MetricsSource, now: Timestamp) -> Evaluation {
        let mut out = Evaluation::default();
        let rules: Vec<_> = self
            .rules
            .iter()
            .map(|(k, r)| (k.clone(), r.clone()))
            .collect();
        for ((scope, name), rule) in rules {
            let values = match source.instant(&rule.query, now).await {
                Ok(v) => v,
                Err(e) => {
                    out.errors.push((scope, name, e));
                    continue;
                }
            };
            let mut breaching = BTreeMap::new();
            for (labels, v) in values {
                if v.is_finite() && rule.comparison.holds(v, rule.threshold) {
                    breaching.insert(labels, v);
                }
            }
            // Existing alerts of this rule: advance or resolve.
            let ids: Vec<String> = self
                .alerts
                .iter()
                .filter(|(_, a)| {
                    a.scope == scope && a.rule == name && a.state != AlertState::Resolved
                })
                .map(|(id, _)| id.clone())
                .collect();
            for id in ids {
                let a = self.alerts.get_mut(&id).expect("present");
                match breaching.remove(&a.labels) {
                    Some(v) => {
                        a.value = v;
                        if a.state == AlertState::Pending
                            && elapsed(a.active_since, now) >= rule.for_duration
                        {
                            a.state = AlertState::Firing;
                            a.fired_at = Some(now);
                            out.events.push(AlertEvent::Fired(a.clone()));
                        }
                    }
                    None if a.state == AlertState::Firing => {
                        a.state = AlertState::Resolved;
                        a.resolved_at = Some(now);
                        out.events.push(AlertEvent::Resolved(a.clone()));
                    }
                    None => {
                        self.alerts.remove(&id);
                    }
                }
            }
            // New alerts.
            for (labels, v) in breaching {
                let mut a = Alert {
                    scope: scope.clone(),
                    rule: name.clone(),
                    labels,
                    state: AlertState::Pending,
                    severity: rule.severity,
                    value: v,
                    active_since: now,
                    fired_at: None,
                    resolved_at: None,
                    acknowledged_by: None,
                };
                if rule.for_duration.is_zero() {
                    a.state = AlertState::Firing;
                    a.fired_at = Some(now);
                    out.events.push(AlertEvent::Fired(a.clone()));
                }
                self.alerts.insert(a.id(), a);
            }
        }
        out
    }

    /// Acknowledge a firing or pending alert.
    pub fn acknowledge(&mut self, id: &str, who: Subject) -> Result<&Alert> {
        let a = self
            .alerts
            .get_mut(id)
            .ok_or_else(|| Error::not_found("alert", id))?;
        if a.state == AlertState::Resolved {
            return Err(Error::precondition(format!(
                "alert {id} is already resolved"
            )));
        }
        a.acknowledged_by = Some(who);
        Ok(a)
    }

    /// Every alert (resolved ones stay until [`prune_resolved`](Self::prune_resolved)).
    pub fn alerts(&self) -> impl Iterator<Item = &Alert> {
        self.alerts.values()
    }

    /// Firing alerts.
    pub fn firing(&self) -> impl Iterator<Item = &Alert> {
        self.alerts
            .values()
            .filter(|a| a.state == AlertState::Firing)
    }

    /// Forget resolved alerts.
    pub fn prune_resolved(&mut self) {
        self.alerts.retain(|_, a| a.state != AlertState::Resolved);
    }

    /// Health of `scope` and every scope under it (`acme` covers `acme/dev`).
    pub fn health(&self, scope: &str) -> HealthSummary {
        let within = |s: &str| s == scope || s.starts_with(&format!("{scope}/"));
        let mut firing = BTreeMap::new();
        let (mut pending, mut unack) = (0, 0);
        for a in self.alerts.values().filter(|a| within(&a.scope)) {
            match a.state {
                AlertState::Firing => {
                    *firing.entry(a.severity).or_insert(0) += 1;
                    if a.acknowledged_by.is_none() {
                        unack += 1;
                    }
                }
                AlertState::Pending => pending += 1,
                AlertState::Resolved => {}
            }
        }
        let health = if firing.contains_key(&Severity::Critical) {
            Health::Critical
        } else if firing.is_empty() {
            Health::Healthy
        } else {
            Health::Degraded
        };
        HealthSummary {
            scope: scope.to_owned(),
            health,
            firing,
            pending,
            unacknowledged: unack,
        }
    }
}

fn elapsed(since: Timestamp, now: Timestamp) -> Duration {
    Duration::from_millis((now.as_millisecond() - since.as_millisecond()).max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use crate::metrics::{EmbeddedMetrics, labels};

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(s).unwrap()
    }

    #[test]
    fn a_rule_serialises_to_the_fields_it_was_built_from() {
        let r = AlertRule::new("HighCpu", "cpu_usage")
            .unwrap()
            .when(Comparison::AtLeast, 0.9)
            .for_duration("1m30s")
            .unwrap()
            .severity(Severity::Critical);
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            serde_json::json!({"name": "HighCpu", "query": "cpu_usage", "comparison": "at_least",
                "threshold": 0.9, "for": "90s", "severity": "critical"})
        );
        let r = r.for_duration("1500ms").unwrap();
        assert_eq!(serde_json::to_value(&r).unwrap()["for"], "1500ms");
        assert_eq!(
            promql::parse_duration("1500ms").unwrap(),
            Duration::from_millis(1500)
        );
    }

    #[tokio::test]
    async fn pending_firing_resolved_with_for_duration() {
        let m = EmbeddedMetrics::default();
        let mut am = AlertManager::default();
        let rule = AlertRule::new("MemHigh", "mem")
            .unwrap()
            .above(100.0)
            .for_duration("2m")
            .unwrap();
        am.add_rule("acme/dev", rule).unwrap();
        let l = labels("mem", &[("pod", "a")]);
        let mut fired = 0;
        let mut resolved = 0;
        for (s, v) in [
            (0, 150.0),
            (60, 150.0),
            (120, 160.0),
            (180, 170.0),
            (240, 50.0),
        ] {
            m.write(&l, s * 1000, v).unwrap();
            for e in am.evaluate(&m, t(s)).await.events {
                match e {
                    AlertEvent::Fired(a) => {
                        fired += 1;
                        assert_eq!(a.fired_at, Some(t(120)));
                    }
                    AlertEvent::Resolved(a) => {
                        resolved += 1;
                        assert_eq!(a.resolved_at, Some(t(240)));
                    }
                }
            }
        }
        assert_eq!((fired, resolved), (1, 1));
        assert_eq!(am.health("acme").health, Health::Healthy);
    }

    #[tokio::test]
    async fn pending_that_clears_never_fires_and_ack_works() {
        let m = EmbeddedMetrics::default();
        let mut am = AlertManager::default();
        am.add_rule(
            "w",
            AlertRule::new("X", "x")
                .unwrap()
                .above(1.0)
                .for_duration("5m")
                .unwrap(),
        )
        .unwrap();
        am.add_rule(
            "w",
            AlertRule::new("Y", "x")
                .unwrap()
                .above(1.0)
                .severity(Severity::Critical),
        )
        .unwrap();
        let l = labels("x", &[]);
        m.write(&l, 0, 5.0).unwrap();
        let ev = am.evaluate(&m, t(0)).await;
        assert_eq!(ev.events.len(), 1); // Y fires at once, X pending
        let h = am.health("w");
        assert_eq!(
            (h.health, h.pending, h.unacknowledged),
            (Health::Critical, 1, 1)
        );
        let id = am.firing().next().unwrap().id();
        am.acknowledge(&id, Subject::new("oncall@acme").unwrap())
            .unwrap();
        assert_eq!(am.health("w").unacknowledged, 0);
        assert_eq!(
            am.acknowledge("nope", Subject::new("a").unwrap())
                .unwrap_err()
                .kind(),
            ErrorKind::NotFound
        );
        m.write(&l, 60_000, 0.0).unwrap();
        let ev = am.evaluate(&m, t(60)).await;
        assert_eq!(ev.events.len(), 1); // Y resolves; X pending is dropped silently
        assert!(am.alerts().all(|a| a.state == AlertState::Resolved));
    }

    #[tokio::test]
    async fn bad_rules_are_refused_and_failing_queries_do_not_stop_others() {
        assert_eq!(
            AlertRule::new("", "x").unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            AlertRule::new("a", "rate(x)").unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        assert!(
            AlertRule::new("a", "x")
                .unwrap()
                .for_duration("5 minutes")
                .is_err()
        );
        let mut am = AlertManager::default().with_known_metrics(["cpu".to_string()]);
        let e = am
            .add_rule("w", AlertRule::new("a", "mem").unwrap())
            .unwrap_err();
        assert!(e.to_string().contains("unknown metric \"mem\""), "{e}");
        assert!(
            am.add_rule("w", AlertRule::new("a", "cpu").unwrap().above(f64::NAN))
                .is_err()
        );
        assert_eq!(am.rules("w").count(), 0);

        struct Failing;
        #[async_trait::async_trait]
        impl MetricsSource for Failing {
            async fn instant(&self, q: &str, _: Timestamp) -> Result<Vec<(Labels, f64)>> {
                if q == "bad" {
                    Err(Error::Timeout {
                        operation: "q".into(),
                    })
                } else {
                    Ok(vec![(Labels::new(), 2.0)])
                }
            }
            async fn range(
                &self,
                _: &str,
                _: Timestamp,
                _: Timestamp,
                _: Duration,
            ) -> Result<Vec<super::super::Series>> {
                Ok(vec![])
            }
        }
        let mut am = AlertManager::default();
        am.add_rule("w", AlertRule::new("bad", "bad").unwrap())
            .unwrap();
        am.add_rule("w", AlertRule::new("good", "good").unwrap().above(1.0))
            .unwrap();
        let ev = am.evaluate(&Failing, t(0)).await;
        assert_eq!(ev.errors.len(), 1);
        assert_eq!(ev.errors[0].2.kind(), ErrorKind::Timeout);
        assert_eq!(ev.events.len(), 1);
    }
}
