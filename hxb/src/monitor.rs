//! Monitoring and incident operations of the [`Engine`]: alert rules evaluated against the
//! engine's metrics source, and signals grouped into incidents. Both publish their
//! transitions on the engine's event bus ([`crate::events`]). The logic lives in
//! [`hxb_core::metrics::alerts`] and [`hxb_ai::incidents`]; the engine only owns their state.

use std::sync::Arc;

use hxb_ai::incidents::{Incident, IncidentGrouper, IncidentStatus, Signal};
use hxb_core::metrics::alerts::{Alert, AlertEvent, AlertManager, AlertRule, HealthSummary};
use hxb_core::metrics::{EmbeddedMetrics, MetricsSource};
use hxb_core::model::Subject;
use hxb_core::{Error, Result};

use crate::Engine;
use crate::events::EngineEvent;

/// Alert and incident state of one engine.
pub(crate) struct Monitor {
    metrics: parking_lot::RwLock<Arc<dyn MetricsSource>>,
    alerts: tokio::sync::Mutex<AlertManager>,
    incidents: parking_lot::Mutex<IncidentGrouper>,
}

impl Default for Monitor {
    fn default() -> Self {
        Monitor {
            metrics: parking_lot::RwLock::new(Arc::new(EmbeddedMetrics::default())),
            alerts: tokio::sync::Mutex::new(AlertManager::default()),
            incidents: parking_lot::Mutex::new(IncidentGrouper::default()),
        }
    }
}

/// What one [`Engine::evaluate_alerts`] did.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct AlertEvaluation {
    /// Alerts that started firing.
    pub fired: Vec<Alert>,
    /// Alerts that resolved.
    pub resolved: Vec<Alert>,
    /// `(scope, rule, error)` of rules whose query failed (their alerts are left as they were).
    pub errors: Vec<(String, String, Error)>,
}

/// Check that `scope` is `org`, `org/workspace` or `org/workspace/project` of valid names.
fn check_scope(scope: &str) -> Result<()> {
    let parts: Vec<&str> = scope.split('/').collect();
    if parts.len() > 3 || parts.iter().any(|p| hxb_core::Name::new(*p).is_err()) {
        return Err(Error::invalid(
            "scope",
            format!("{scope:?} is not org, org/workspace or org/workspace/project"),
        ));
    }
    Ok(())
}

impl Engine {
    fn monitor(&self) -> Result<&Monitor> {
        Ok(&self.live()?.monitor)
    }

    /// The metrics source alert rules are evaluated against (default: an embedded
    /// time-series buffer, [`EmbeddedMetrics`]).
    pub fn metrics_source(&self) -> Result<Arc<dyn MetricsSource>> {
        Ok(self.monitor()?.metrics.read().clone())
    }

    /// Evaluate alert rules against `source` from now on (a
    /// [`PrometheusSource`](hxb_core::metrics::PrometheusSource) on a real cluster).
    pub fn use_metrics_source(&self, source: Arc<dyn MetricsSource>) -> Result<()> {
        *self.monitor()?.metrics.write() = source;
        Ok(())
    }

    /// Add (or replace) an alert rule in `scope` (`org`, `org/workspace` or
    /// `org/workspace/project`; anything else is `InvalidInput`).
    pub async fn add_alert_rule(&self, scope: &str, rule: AlertRule) -> Result<()> {
        check_scope(scope)?;
        self.monitor()?.alerts.lock().await.add_rule(scope, rule)
    }

    /// Remove an alert rule and its alerts (`NotFound` if there is none).
    pub async fn remove_alert_rule(&self, scope: &str, name: &str) -> Result<()> {
        check_scope(scope)?;
        self.monitor()?.alerts.lock().await.remove_rule(scope, name)
    }

    /// The alert rules of `scope`.
    pub async fn alert_rules(&self, scope: &str) -> Result<Vec<AlertRule>> {
        check_scope(scope)?;
        Ok(self
            .monitor()?
            .alerts
            .lock()
            .await
            .rules(scope)
            .cloned()
            .collect())
    }

    /// Evaluate every alert rule at the engine clock's now; alerts that fire or resolve are
    /// published as [`EngineEvent::AlertFired`] / [`EngineEvent::AlertResolved`].
    pub async fn evaluate_alerts(&self) -> Result<AlertEvaluation> {
        let monitor = self.monitor()?;
        let source = self.metrics_source()?;
        let now = self.clock().now();
        let ev = self
            .telemetry()
            .observe("evaluate_alerts", async {
                Ok(monitor.alerts.lock().await.evaluate(&*source, now).await)
            })
            .await?;
        let mut out = AlertEvaluation {
            errors: ev.errors,
            ..AlertEvaluation::default()
        };
        for e in ev.events {
            match e {
                AlertEvent::Fired(a) => {
                    self.publish(EngineEvent::AlertFired(a.clone()));
                    out.fired.push(a);
                }
                AlertEvent::Resolved(a) => {
                    self.publish(EngineEvent::AlertResolved(a.clone()));
                    out.resolved.push(a);
                }
                _ => {}
            }
        }
        Ok(out)
    }

    /// Every alert (pending, firing and resolved).
    pub async fn alerts(&self) -> Result<Vec<Alert>> {
        Ok(self
            .monitor()?
            .alerts
            .lock()
            .await
            .alerts()
            .cloned()
            .collect())
    }

    /// Acknowledge a pending or firing alert by id ([`Alert::id`]).
    pub async fn acknowledge_alert(&self, id: &str, who: &str) -> Result<Alert> {
        let who = Subject::new(who)?;
        Ok(self
            .monitor()?
            .alerts
            .lock()
            .await
            .acknowledge(id, who)?
            .clone())
    }

    /// Health of `scope` and every scope under it.
    pub async fn health(&self, scope: &str) -> Result<HealthSummary> {
        check_scope(scope)?;
        Ok(self.monitor()?.alerts.lock().await.health(scope))
    }

    /// Add a signal (an anomaly, a cluster event, a finding) to the incident of its scope,
    /// opening one if none is open within the grouping window; publishes
    /// [`EngineEvent::IncidentOpened`] or [`EngineEvent::IncidentUpdated`].
    pub fn record_signal(&self, signal: Signal) -> Result<Incident> {
        check_scope(&signal.scope)?;
        let mut g = self.monitor()?.incidents.lock();
        let before = g.incidents().len();
        let id = g.ingest(signal);
        let opened = g.incidents().len() > before;
        let incident = g
            .get(id)
            .cloned()
            .ok_or_else(|| Error::internal("the incident of a signal just added is gone"))?;
        drop(g);
        self.publish(if opened {
            EngineEvent::IncidentOpened(incident.clone())
        } else {
            EngineEvent::IncidentUpdated(incident.clone())
        });
        Ok(incident)
    }

    /// Close incidents quiet for longer than their window at the engine clock's now; returns
    /// them and publishes [`EngineEvent::IncidentClosed`] for each.
    pub fn close_idle_incidents(&self) -> Result<Vec<Incident>> {
        let now = self.clock().now();
        let mut g = self.monitor()?.incidents.lock();
        let open: Vec<u64> = g
            .incidents()
            .iter()
            .filter(|i| i.status == IncidentStatus::Open)
            .map(|i| i.id)
            .collect();
        g.close_idle(now);
        let closed: Vec<Incident> = open
            .into_iter()
            .filter_map(|id| g.get(id))
            .filter(|i| i.status == IncidentStatus::Closed)
            .cloned()
            .collect();
        drop(g);
        for i in &closed {
            self.publish(EngineEvent::IncidentClosed(i.clone()));
        }
        Ok(closed)
    }

    /// Every incident, oldest first.
    pub fn incidents(&self) -> Result<Vec<Incident>> {
        Ok(self.monitor()?.incidents.lock().incidents().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use hxb_ai::incidents::SignalKind;
    use hxb_core::metrics::labels;
    use hxb_core::store::MemoryStore;
    use hxb_core::{Clock, ManualClock};

    use super::*;
    use crate::events::Delivery;

    fn engine() -> (Engine, Arc<ManualClock>, Arc<EmbeddedMetrics>) {
        let clock = Arc::new(ManualClock::new(
            hxb_core::Timestamp::from_second(1_000_000).unwrap(),
        ));
        let engine = Engine::from_parts(
            hxb_core::EmbeddedCluster::builder().build().into_backend(),
            Arc::new(MemoryStore::default()),
            clock.clone(),
        );
        let m = Arc::new(EmbeddedMetrics::default());
        engine.use_metrics_source(m.clone()).unwrap();
        (engine, clock, m)
    }

    #[tokio::test]
    async fn alerts_fire_and_resolve_on_the_bus() {
        let (engine, clock, m) = engine();
        let mut rx = engine.subscribe();
        engine
            .add_alert_rule(
                "acme/dev",
                AlertRule::new("HighCpu", "cpu_usage").unwrap().above(0.9),
            )
            .await
            .unwrap();
        let series = labels("cpu_usage", &[("pod", "web")]);
        let t = clock.now().as_millisecond();
        m.write(&series, t, 0.95).unwrap();
        let ev = engine.evaluate_alerts().await.unwrap();
        assert_eq!((ev.fired.len(), ev.resolved.len()), (1, 0));
        clock.advance(Duration::from_secs(30));
        m.write(&series, t + 30_000, 0.1).unwrap();
        let ev = engine.evaluate_alerts().await.unwrap();
        assert_eq!((ev.fired.len(), ev.resolved.len()), (0, 1));
        let kinds: Vec<_> = std::iter::from_fn(|| match rx.try_recv() {
            Some(Delivery::Event(e)) => Some(e.type_name()),
            _ => None,
        })
        .collect();
        assert_eq!(kinds, ["alert_fired", "alert_resolved"]);
        assert_eq!(engine.health("acme").await.unwrap().pending, 0);
        let rule = AlertRule::new("Other", "cpu_usage").unwrap();
        for scope in ["", "acme/Dev", "a/b/c/d"] {
            let err = engine
                .add_alert_rule(scope, rule.clone())
                .await
                .unwrap_err();
            assert_eq!(err.kind(), hxb_core::ErrorKind::InvalidInput, "{scope:?}");
        }
        assert_eq!(
            engine.alert_rules("acme/dev").await.unwrap().len(),
            1,
            "nothing added"
        );
    }

    #[tokio::test]
    async fn incidents_open_update_and_close_on_the_bus() {
        let (engine, clock, _) = engine();
        let mut rx = engine.subscribe();
        let sig = |reason: &str| Signal {
            at: clock.now(),
            scope: "acme/dev".into(),
            object: "Deployment acme-dev-web/web".into(),
            kind: SignalKind::Event {
                reason: reason.into(),
            },
            message: String::new(),
        };
        let a = engine.record_signal(sig("OOMKilled")).unwrap();
        let b = engine.record_signal(sig("BackOff")).unwrap();
        assert_eq!((a.id, b.id, b.signals.len()), (1, 1, 2));
        assert!(engine.close_idle_incidents().unwrap().is_empty());
        clock.advance(Duration::from_secs(3600));
        assert_eq!(engine.close_idle_incidents().unwrap().len(), 1);
        assert!(
            engine.close_idle_incidents().unwrap().is_empty(),
            "closed once"
        );
        let kinds: Vec<_> = std::iter::from_fn(|| match rx.try_recv() {
            Some(Delivery::Event(e)) => Some(e.type_name()),
            _ => None,
        })
        .collect();
        assert_eq!(
            kinds,
            ["incident_opened", "incident_updated", "incident_closed"]
        );
        for scope in ["", "acme/", "Acme", "a/b/c/d", "acme//dev"] {
            let mut bad = sig("x");
            bad.scope = scope.into();
            assert_eq!(
                engine.record_signal(bad).unwrap_err().kind(),
                hxb_core::ErrorKind::InvalidInput,
                "{scope:?}"
            );
        }
        assert_eq!(engine.incidents().unwrap().len(), 1, "nothing changed");
    }
}
