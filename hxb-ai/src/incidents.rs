//! Incidents: co-occurring anomalies and cluster events of one workspace grouped together, with
//! ranked root-cause hints.
//!
//! A [`Signal`] is anything noteworthy — an anomaly on a metric, a cluster event (restart,
//! OOM kill, pending pod, quota refusal, failed job), an analyzer finding. The
//! [`IncidentGrouper`] puts a signal into the open incident of its scope when it arrives within
//! `window` of that incident's latest signal, and opens a new incident otherwise. Each incident
//! ranks candidate root causes by what kind of signal points at them (a memory leak explains
//! latency, not the other way round), by how early they appeared and by how much evidence
//! agrees.

use std::collections::BTreeMap;
use std::time::Duration;

use hxb_core::Timestamp;
use serde::{Deserialize, Serialize};

/// What a signal is.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SignalKind {
    /// A metric anomaly with its score in [0, 1].
    Anomaly {
        /// Metric name.
        metric: String,
        /// Anomaly score.
        score: f64,
    },
    /// A Kubernetes event or analyzer finding, by reason (`OOMKilled`, `CrashLoopBackOff`,
    /// `FailedScheduling`, `QuotaExceeded`, `BackOff`, `JobFailed`…).
    Event {
        /// Reason.
        reason: String,
    },
}

/// One noteworthy observation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    /// When it was observed.
    pub at: Timestamp,
    /// The scope it belongs to (a workspace, `org/workspace`).
    pub scope: String,
    /// The object it concerns (`Deployment team-a/web`).
    pub object: String,
    /// What it is.
    pub kind: SignalKind,
    /// Human-readable detail.
    pub message: String,
}

/// A candidate root cause.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RootCause {
    /// The object most likely at fault.
    pub object: String,
    /// The cause, in plain language.
    pub cause: String,
    /// Relative confidence; the candidates of an incident sum to 1.
    pub confidence: f64,
    /// The signals that point at it.
    pub evidence: Vec<String>,
    /// What to do.
    pub hint: String,
}

/// Whether an incident is still collecting signals.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    /// Collecting signals.
    Open,
    /// Quiet for longer than the window.
    Closed,
}

/// A group of related signals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// Sequence number, from 1.
    pub id: u64,
    /// Scope.
    pub scope: String,
    /// First signal time.
    pub opened_at: Timestamp,
    /// Latest signal time.
    pub last_signal_at: Timestamp,
    /// Status.
    pub status: IncidentStatus,
    /// The signals, in arrival order.
    pub signals: Vec<Signal>,
    /// Candidate root causes, most likely first.
    pub root_causes: Vec<RootCause>,
}

impl Incident {
    /// A one-line summary: the top cause and the signal count.
    pub fn summary(&self) -> String {
        match self.root_causes.first() {
            Some(c) => format!(
                "incident #{} in {}: {} on {} ({:.0}% likely; {} signals)",
                self.id,
                self.scope,
                c.cause,
                c.object,
                c.confidence * 100.0,
                self.signals.len()
            ),
            None => format!(
                "incident #{} in {}: {} signals",
                self.id,
                self.scope,
                self.signals.len()
            ),
        }
    }
}

/// What a signal says about causes: (cause, prior weight, hint). Symptoms get low weight.
fn interpret(kind: &SignalKind) -> (&'static str, f64, &'static str) {
    match kind {
        SignalKind::Event { reason } => match reason.as_str() {
            "OOMKilled" => (
                "memory exhaustion (leak or limit too low)",
                0.9,
                "raise the memory limit or fix the leak; restart the workload to recover now",
            ),
            "CrashLoopBackOff" | "BackOff" => (
                "the container crashes at start-up",
                0.8,
                "roll back to the last good version or fix the configuration",
            ),
            "QuotaExceeded" | "FailedCreate" => (
                "the project quota is exhausted",
                0.85,
                "raise the project quota within the workspace's headroom",
            ),
            "FailedScheduling" | "Unschedulable" => (
                "not enough cluster capacity",
                0.7,
                "add nodes to the pool or lower requests",
            ),
            "JobFailed" => (
                "a batch job fails",
                0.6,
                "inspect the job's logs and inputs",
            ),
            "ScalingLimited" => (
                "the autoscaler is at its maximum",
                0.5,
                "raise maxReplicas within quota",
            ),
            _ => ("cluster event", 0.3, "inspect the object's events"),
        },
        SignalKind::Anomaly { metric, .. } => {
            let m = metric.to_ascii_lowercase();
            if m.contains("latency") || m.contains("error") || m.contains("duration") {
                (
                    "degraded responses (a symptom)",
                    0.25,
                    "look for the cause among the other signals",
                )
            } else if m.contains("memory") || m.contains("mem_") {
                (
                    "memory growth (possible leak)",
                    0.85,
                    "compare memory with the limit; restart the workload if it approaches it",
                )
            } else if m.contains("request") || m.contains("rps") || m.contains("traffic") {
                (
                    "a traffic surge",
                    0.75,
                    "scale up ahead of the surge; check the source of the traffic",
                )
            } else if m.contains("restart") {
                ("repeated restarts", 0.7, "look at why the containers exit")
            } else if m.contains("cpu") {
                ("CPU saturation", 0.6, "scale out or raise the CPU request")
            } else {
                (
                    "unusual metric behaviour",
                    0.4,
                    "inspect the metric around the incident start",
                )
            }
        }
    }
}

fn rank(signals: &[Signal]) -> Vec<RootCause> {
    let start = signals.iter().map(|s| s.at).min();
    let end = signals.iter().map(|s| s.at).max();
    let span = match (start, end) {
        (Some(a), Some(b)) => (b.as_millisecond() - a.as_millisecond()).max(1) as f64,
        _ => 1.0,
    };
    let mut cands: BTreeMap<(String, &'static str), (f64, Vec<String>, &'static str)> =
        BTreeMap::new();
    for s in signals {
        let (cause, prior, hint) = interpret(&s.kind);
        let strength = match &s.kind {
            SignalKind::Anomaly { score, .. } => score.clamp(0.0, 1.0).max(0.1),
            SignalKind::Event { .. } => 1.0,
        };
        // Earlier signals are likelier causes: weight falls from 1 to 0.5 over the incident.
        let lateness = start.map_or(0.0, |a| {
            (s.at.as_millisecond() - a.as_millisecond()) as f64 / span
        });
        let w = prior * strength * (1.0 - 0.5 * lateness);
        let e = cands
            .entry((s.object.clone(), cause))
            .or_insert((0.0, Vec::new(), hint));
        // More agreeing evidence raises the candidate, with diminishing returns.
        e.0 = 1.0 - (1.0 - e.0) * (1.0 - w);
        e.1.push(s.message.clone());
    }
    let total: f64 = cands
        .values()
        .map(|c| c.0)
        .sum::<f64>()
        .max(f64::MIN_POSITIVE);
    let mut out: Vec<RootCause> = cands
        .into_iter()
        .map(|((object, cause), (w, evidence, hint))| RootCause {
            object,
            cause: cause.into(),
            confidence: w / total,
            evidence,
            hint: hint.into(),
        })
        .collect();
    out.sort_by(|a, b| {
        b.confidence
            .total_cmp(&a.confidence)
            .then_with(|| a.object.cmp(&b.object))
    });
    out
}

/// Groups signals into incidents.
#[derive(Debug)]
pub struct IncidentGrouper {
    window: Duration,
    incidents: Vec<Incident>,
}

impl Default for IncidentGrouper {
    fn default() -> Self {
        IncidentGrouper::new(Duration::from_secs(15 * 60))
    }
}

impl IncidentGrouper {
    /// Signals of one scope within `window` of each other belong to one incident.
    pub fn new(window: Duration) -> Self {
        IncidentGrouper {
            window,
            incidents: Vec::new(),
        }
    }

    /// Add a signal; returns the id of the incident it joined or opened.
    pub fn ingest(&mut self, s: Signal) -> u64 {
        let w = self.window.as_millis() as i64;
        let open = self.incidents.iter_mut().rev().find(|i| {
            i.status == IncidentStatus::Open
                && i.scope == s.scope
                && (s.at.as_millisecond() - i.last_signal_at.as_millisecond()).abs() <= w
        });
        match open {
            Some(i) => {
                if s.at > i.last_signal_at {
                    i.last_signal_at = s.at;
                }
                if s.at < i.opened_at {
                    i.opened_at = s.at;
                }
                i.signals.push(s);
                i.root_causes = rank(&i.signals);
                i.id
            }
            None => {
                let id = self.incidents.len() as u64 + 1;
                let root_causes = rank(std::slice::from_ref(&s));
                self.incidents.push(Incident {
                    id,
                    scope: s.scope.clone(),
                    opened_at: s.at,
                    last_signal_at: s.at,
                    status: IncidentStatus::Open,
                    signals: vec![s],
                    root_causes,
                });
                id
            }
        }
    }

    /// Close incidents quiet for longer than the window at `now`.
    pub fn close_idle(&mut self, now: Timestamp) {
        let w = self.window.as_millis() as i64;
        for i in &mut self.incidents {
            if i.status == IncidentStatus::Open
                && now.as_millisecond() - i.last_signal_at.as_millisecond() > w
            {
                i.status = IncidentStatus::Closed;
            }
        }
    }

    /// All incidents, oldest first.
    pub fn incidents(&self) -> &[Incident] {
        &self.incidents
    }

    /// One incident.
    pub fn get(&self, id: u64) -> Option<&Incident> {
        self.incidents.iter().find(|i| i.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(min: i64, scope: &str, object: &str, kind: SignalKind) -> Signal {
        Signal {
            at: Timestamp::from_second(min * 60).unwrap(),
            scope: scope.into(),
            object: object.into(),
            message: format!("{kind:?} on {object}"),
            kind,
        }
    }

    fn anomaly(metric: &str, score: f64) -> SignalKind {
        SignalKind::Anomaly {
            metric: metric.into(),
            score,
        }
    }

    fn event(reason: &str) -> SignalKind {
        SignalKind::Event {
            reason: reason.into(),
        }
    }

    #[test]
    fn a_memory_leak_outranks_its_symptoms() {
        let mut g = IncidentGrouper::default();
        let a = g.ingest(sig(
            0,
            "acme/prod",
            "Deployment prod/api",
            anomaly("container_memory_working_set_bytes", 0.9),
        ));
        let b = g.ingest(sig(
            4,
            "acme/prod",
            "Deployment prod/web",
            anomaly("http_request_latency_p99", 0.95),
        ));
        let c = g.ingest(sig(
            6,
            "acme/prod",
            "Deployment prod/api",
            event("OOMKilled"),
        ));
        assert!(a == b && b == c);
        let inc = g.get(a).unwrap();
        assert_eq!(inc.signals.len(), 3);
        assert_eq!(inc.root_causes[0].object, "Deployment prod/api");
        assert!(inc.root_causes[0].cause.contains("memory"));
        let sum: f64 = inc.root_causes.iter().map(|c| c.confidence).sum();
        assert!((sum - 1.0).abs() < 1e-9);
        assert!(
            inc.summary().contains("Deployment prod/api"),
            "{}",
            inc.summary()
        );
    }

    #[test]
    fn scopes_and_time_gaps_separate_incidents() {
        let mut g = IncidentGrouper::new(Duration::from_secs(600));
        let a = g.ingest(sig(0, "acme/prod", "x", event("BackOff")));
        let b = g.ingest(sig(1, "acme/dev", "y", event("BackOff")));
        let c = g.ingest(sig(30, "acme/prod", "x", event("BackOff")));
        assert_ne!(a, b);
        assert_ne!(a, c);
        g.close_idle(Timestamp::from_second(60 * 60).unwrap());
        assert!(
            g.incidents()
                .iter()
                .all(|i| i.status == IncidentStatus::Closed)
        );
        // A signal after closing opens a new incident.
        let d = g.ingest(sig(61, "acme/prod", "x", event("BackOff")));
        assert_eq!(d, 4);
    }

    #[test]
    fn traffic_spike_explains_cpu_and_latency() {
        let mut g = IncidentGrouper::default();
        let id = g.ingest(sig(
            0,
            "w",
            "Deployment p/web",
            anomaly("http_requests_per_second", 0.8),
        ));
        g.ingest(sig(
            2,
            "w",
            "Deployment p/web",
            anomaly("cpu_usage_cores", 0.7),
        ));
        g.ingest(sig(
            3,
            "w",
            "Deployment p/web",
            anomaly("request_latency_seconds", 0.9),
        ));
        let inc = g.get(id).unwrap();
        assert!(
            inc.root_causes[0].cause.contains("traffic"),
            "{:?}",
            inc.root_causes
        );
        // Latency is read as a symptom, ranked last.
        assert!(inc.root_causes.last().unwrap().cause.contains("symptom"));
    }
}
