//! The simulated day: one-minute ticks of a manual clock, traffic from load profiles, metrics
//! into the embedded time-series store, HPA + predictive scaling every five minutes, anomaly
//! detection, incident grouping and guarded remediation, usage metering.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use hxb::core::Subject;
use hxb::core::metrics::alerts::{AlertEvent, AlertManager, AlertRule, Severity};
use hxb::core::metrics::{EmbeddedMetrics, MetricsSource, TsdbConfig, labels};
use hxb::prelude::*;
use hxb::remediation::{Action, Decision, Guard, Policy, WorkloadKind};
use hxb::{Clock, ManualClock, Tenancy};
use hxb_ai::detect::{Composite, Detector};
use hxb_ai::incidents::{IncidentGrouper, Signal, SignalKind};
use hxb_core::Timestamp;
use hxb_scaling::forecast::{Fallback, Forecaster, SeasonalEnsemble};
use hxb_scaling::hpa::{
    self, ControllerConfig, HpaSpec, HpaState, MetricSource, MetricValues, Observation, PodInfo,
    PodMetricSample,
};
use hxb_scaling::predictive::PredictiveScaler;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;

use crate::tour::progress::Progress;
use crate::tour::setup::{AppSpec, DAY_MS, HISTORY_DAYS, PEOPLE};

/// Minutes in the simulated day.
pub const MINUTES: usize = 1440;
/// Autoscaling period (minutes); also the forecast step.
pub const PERIOD: usize = 5;
/// Pod start-up time (minutes): new replicas serve traffic only after it.
pub const STARTUP: usize = 5;
/// HPA target cpu utilization (% of requests).
const TARGET_UTILIZATION: i32 = 70;
/// Anomaly score above which a point becomes a signal.
const ANOMALY_LEVEL: f64 = 0.5;

/// What happened to one application during the day.
#[derive(Debug, Clone, Default)]
pub struct AppTrace {
    /// `org/project/app`.
    pub label: String,
    /// Requests per second, per minute.
    pub rps: Vec<f64>,
    /// One-step-ahead forecast of requests per second (made one period earlier).
    pub forecast: Vec<(usize, f64)>,
    /// Replicas running, per minute.
    pub replicas: Vec<i32>,
    /// HPA desired replicas per period.
    pub hpa: Vec<(usize, i32)>,
    /// Predictive replicas per period.
    pub predictive: Vec<(usize, u32)>,
    /// Memory working set (MiB) per minute.
    pub memory: Vec<f64>,
    /// Highest anomaly score of the app's metrics, per minute.
    pub score: Vec<f64>,
    /// Minutes where cpu demand exceeded what ready replicas could serve at 100 %.
    pub saturated_minutes: usize,
}

/// One incident of the day.
#[derive(Debug, Clone)]
pub struct IncidentSpan {
    /// Incident id.
    pub id: u64,
    /// `org/ws`.
    pub scope: String,
    /// First and last signal (minute of the day).
    pub start: usize,
    /// Last signal.
    pub end: usize,
    /// Signals grouped.
    pub signals: usize,
    /// Top root cause.
    pub cause: String,
    /// Object of the top cause.
    pub object: String,
    /// What the guard did, in order.
    pub remediation: Vec<String>,
}

/// Quota use of one project over the day.
#[derive(Debug, Clone)]
pub struct QuotaTrace {
    /// `org/ws/project`.
    pub label: String,
    /// (minute, cpu requested, cpu quota).
    pub cpu: Vec<(usize, f64, f64)>,
}

/// Usage and cost of one organization.
#[derive(Debug, Clone)]
pub struct TenantCost {
    /// Organization.
    pub org: String,
    /// (`ws/project`, cpu-hours, memory GiB-hours).
    pub projects: Vec<(String, f64, f64)>,
    /// Plan share for the day.
    pub plan: f64,
    /// Dedicated node pools per workspace for the day.
    pub nodes: Vec<(String, f64)>,
    /// Total for the day.
    pub total: f64,
}

/// Everything the summary and the report show.
#[derive(Debug, Clone, Default)]
pub struct Recording {
    /// Per application.
    pub apps: Vec<AppTrace>,
    /// Incidents.
    pub incidents: Vec<IncidentSpan>,
    /// Per project.
    pub quotas: Vec<QuotaTrace>,
    /// Per organization.
    pub costs: Vec<TenantCost>,
    /// Scale operations performed.
    pub scale_ops: usize,
    /// Pods refused by quota (FailedCreate) episodes.
    pub quota_refusals: usize,
    /// Samples written to the metrics store.
    pub samples: usize,
    /// Alert rule events (`HH:MM fired|resolved rule scope value`).
    pub alerts: Vec<String>,
    /// Health of each workspace at the end of the day.
    pub health: Vec<(String, String)>,
}

struct AppState {
    spec: AppSpec,
    namespace: String,
    leak_from: Option<i64>,
    last_restarts: u32,
    hpa: HpaSpec,
    hpa_state: HpaState,
    scaler: PredictiveScaler,
    /// Requests/s every `PERIOD` minutes, history days included.
    history: Vec<f64>,
    det_rps: Composite,
    det_mem: Composite,
    spec_replicas: i32,
    running: i32,
    short_of_quota: bool,
    trace: AppTrace,
}

/// Run the day. `day_start` is midnight of the simulated day.
pub async fn run(
    engine: &Engine,
    clock: &Arc<ManualClock>,
    apps: &[AppSpec],
    progress: &mut Progress,
) -> Result<Recording> {
    let t = engine.tenancy()?;
    let day_start = clock.now();
    let metrics = Arc::new(EmbeddedMetrics::with_config(TsdbConfig::default())?);
    let forecaster = SeasonalEnsemble::builder()
        .periods(&[DAY_MS as usize / 60_000 / PERIOD])
        .validation(24)
        .fallback(Fallback::NonSeasonal)
        .build()?;
    let mut states = Vec::new();
    for a in apps {
        states.push(prepare(&t, a).await?);
    }
    // The engine's guard: RBAC from the tenancy, quota raises within the workspace's headroom.
    engine.set_remediation_policy(Policy::default())?;
    let guard = engine.remediation_guard()?;
    let mut alerts = alert_rules(apps)?;
    let mut grouper = IncidentGrouper::new(Duration::from_secs(20 * 60));
    let mut remediated: BTreeSet<u64> = BTreeSet::new();
    let mut rec = Recording::default();
    let mut actions: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    let mut quotas: BTreeMap<String, QuotaTrace> = BTreeMap::new();

    for minute in 0..MINUTES {
        let now = day_start + Duration::from_secs(60 * minute as u64);
        clock.set(now);
        let t_ms = HISTORY_DAYS * DAY_MS + minute as i64 * 60_000;
        for s in states.iter_mut() {
            let signals = observe(s, &metrics, minute, t_ms, now)?;
            rec.samples += 3;
            for sig in signals {
                grouper.ingest(sig);
            }
        }
        if minute.is_multiple_of(PERIOD) {
            for s in states.iter_mut() {
                let before = s.spec_replicas;
                for sig in autoscale(engine, &t, s, &metrics, &forecaster, minute, now).await? {
                    if matches!(&sig.kind, SignalKind::Event { .. }) {
                        rec.quota_refusals += 1;
                    }
                    grouper.ingest(sig);
                }
                if s.spec_replicas != before {
                    rec.scale_ops += 1;
                }
            }
            let evaluation = alerts.evaluate(metrics.as_ref(), now).await;
            if let Some((scope, rule, e)) = evaluation.errors.first() {
                return Err(Error::internal(format!(
                    "alert rule {scope}/{rule} failed: {e}"
                )));
            }
            for ev in evaluation.events {
                let (what, a) = match ev {
                    AlertEvent::Fired(a) => ("fired", a),
                    AlertEvent::Resolved(a) => ("resolved", a),
                    _ => continue,
                };
                rec.alerts.push(format!(
                    "{:02}:{:02} {what:<8} {:<16} {:<10} {:.0}",
                    minute / 60,
                    minute % 60,
                    a.rule,
                    a.scope,
                    a.value
                ));
            }
            t.record_usage().await?;
            sample_quotas(&t, &mut quotas, minute).await?;
            grouper.close_idle(now);
            remediate(
                &guard,
                &mut grouper,
                &mut remediated,
                &mut actions,
                &mut states,
                t_ms,
            )
            .await?;
        }
        progress.set(minute + 1);
    }
    clock.set(day_start + Duration::from_secs(MINUTES as u64 * 60));
    let end = clock.now();

    let minute_of = |ts: Timestamp| {
        ((ts.as_millisecond() - day_start.as_millisecond()) / 60_000).clamp(0, MINUTES as i64)
            as usize
    };
    for i in grouper.incidents() {
        let top = i.root_causes.first();
        rec.incidents.push(IncidentSpan {
            id: i.id,
            scope: i.scope.clone(),
            start: minute_of(i.opened_at),
            end: minute_of(i.last_signal_at),
            signals: i.signals.len(),
            cause: top.map(|c| c.cause.clone()).unwrap_or_default(),
            object: top.map(|c| c.object.clone()).unwrap_or_default(),
            remediation: actions.remove(&i.id).unwrap_or_default(),
        });
    }
    let scopes: BTreeSet<String> = apps.iter().map(|a| format!("{}/{}", a.org, a.ws)).collect();
    for scope in scopes {
        let h = alerts.health(&scope);
        rec.health.push((
            scope,
            format!(
                "{:?} (firing {}, pending {})",
                h.health,
                h.firing.values().sum::<usize>(),
                h.pending
            ),
        ));
    }
    rec.quotas = quotas.into_values().collect();
    for org in ["acme", "globex"] {
        let (usage, cost) = t.usage(org, day_start, end).await?;
        rec.costs.push(TenantCost {
            org: org.into(),
            projects: usage
                .projects
                .iter()
                .map(|((w, p), u)| (format!("{w}/{p}"), u.cpu_hours, u.memory_gib_hours))
                .collect(),
            plan: cost.plan.as_f64(),
            nodes: cost
                .nodes
                .iter()
                .map(|(w, q)| (w.clone(), q.as_f64()))
                .collect(),
            total: cost.total.as_f64(),
        });
    }
    rec.apps = states.into_iter().map(|s| s.trace).collect();
    Ok(rec)
}

/// One alert rule per workspace: a replica's memory near its 1 GiB limit for 10 minutes.
fn alert_rules(apps: &[AppSpec]) -> Result<AlertManager> {
    let mut m = AlertManager::default().with_known_metrics([
        "container_memory_working_set_mib".to_string(),
        "http_requests_per_second".to_string(),
        "app_cpu_cores".to_string(),
    ]);
    let mut by_ws: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for a in apps {
        by_ws
            .entry(format!("{}/{}", a.org, a.ws))
            .or_default()
            .push(a.name.to_string());
    }
    for (scope, names) in by_ws {
        let query = format!(
            "max by (app) (container_memory_working_set_mib{{app=~\"{}\"}})",
            names.join("|")
        );
        let rule = AlertRule::new("MemoryNearLimit", &query)?
            .above(850.0)
            .for_duration("10m")?
            .severity(Severity::Critical);
        m.add_rule(&scope, rule)?;
    }
    Ok(m)
}

async fn prepare(t: &Tenancy, a: &AppSpec) -> Result<AppState> {
    let project = t.project(a.org, a.ws, a.project).await?;
    let hpa = HpaSpec::builder(a.max_replicas)
        .min_replicas(a.min_replicas)
        .metric(MetricSource::cpu_utilization(TARGET_UTILIZATION))
        .build()?;
    // A replica at the target utilization serves this many requests/s.
    let per_replica =
        (a.cpu_request * f64::from(TARGET_UTILIZATION) / 100.0 - 0.0) / cpu_per_request(a);
    let scaler = PredictiveScaler::builder(per_replica.max(1e-3))
        .lead_time(Duration::from_secs(60 * STARTUP as u64))
        .step(Duration::from_secs(60 * PERIOD as u64))
        .margin(0.1)
        .replicas(a.min_replicas as u32, a.max_replicas as u32)
        .build()?;
    let mut det_rps = Composite::default();
    let mut det_mem = Composite::default();
    let base = &a.base;
    let mut history = Vec::new();
    // The days before: the detectors learn normal, the forecaster gets its history.
    for m in 0..(HISTORY_DAYS * 1440) {
        let t_ms = m * 60_000;
        let p = base.at(t_ms);
        det_rps.update(t_ms, p.requests_per_s);
        det_mem.update(t_ms, p.memory_mib);
        if (m as usize).is_multiple_of(PERIOD) {
            history.push(p.requests_per_s);
        }
    }
    Ok(AppState {
        spec: a.clone(),
        namespace: project.namespace,
        leak_from: None,
        last_restarts: 0,
        hpa,
        hpa_state: HpaState::default(),
        scaler,
        history,
        det_rps,
        det_mem,
        spec_replicas: a.min_replicas,
        running: a.min_replicas,
        short_of_quota: false,
        trace: AppTrace {
            label: a.label(),
            ..AppTrace::default()
        },
    })
}

/// Cpu cores per request/s of an app, measured from its noiseless profile between the
/// quietest and the busiest hour of a day.
fn cpu_per_request(a: &AppSpec) -> f64 {
    let p = a.base.clone().noise(0.0);
    let hours: Vec<_> = (0..24).map(|h| p.at(h * 3_600_000)).collect();
    let lo = hours
        .iter()
        .min_by(|x, y| x.requests_per_s.total_cmp(&y.requests_per_s));
    let hi = hours
        .iter()
        .max_by(|x, y| x.requests_per_s.total_cmp(&y.requests_per_s));
    match (lo, hi) {
        (Some(lo), Some(hi)) if hi.requests_per_s - lo.requests_per_s > 1e-9 => {
            (hi.cpu_cores - lo.cpu_cores) / (hi.requests_per_s - lo.requests_per_s)
        }
        _ => 0.01,
    }
}

fn ready_replicas(s: &AppState, minute: usize) -> i32 {
    let r = &s.trace.replicas;
    let now = r.last().copied().unwrap_or(s.running);
    let earlier = if minute >= STARTUP {
        r[minute - STARTUP]
    } else {
        s.spec.min_replicas
    };
    now.min(earlier).max(0)
}

fn observe(
    s: &mut AppState,
    metrics: &EmbeddedMetrics,
    minute: usize,
    t_ms: i64,
    now: Timestamp,
) -> Result<Vec<Signal>> {
    let p = s.spec.profile(s.leak_from).at(t_ms);
    s.trace.replicas.push(s.running);
    s.trace.rps.push(p.requests_per_s);
    s.trace.memory.push(p.memory_mib);
    let ready = ready_replicas(s, minute);
    if p.cpu_cores > f64::from(ready) * s.spec.cpu_request {
        s.trace.saturated_minutes += 1;
    }
    let at = now.as_millisecond();
    let l = |m: &str| labels(m, &[("namespace", &s.namespace), ("app", s.spec.name)]);
    metrics.write(&l("http_requests_per_second"), at, p.requests_per_s)?;
    metrics.write(&l("app_cpu_cores"), at, p.cpu_cores)?;
    metrics.write(&l("container_memory_working_set_mib"), at, p.memory_mib)?;

    let object = format!("Deployment {}/{}", s.namespace, s.spec.name);
    let mut out = Vec::new();
    let r = s.det_rps.update(t_ms, p.requests_per_s);
    let m = s.det_mem.update(t_ms, p.memory_mib);
    s.trace.score.push(r.max(m));
    for (metric, score) in [
        ("http_requests_per_second", r),
        ("container_memory_working_set", m),
    ] {
        if score > ANOMALY_LEVEL {
            out.push(Signal {
                at: now,
                scope: s.spec.scope(),
                object: object.clone(),
                kind: SignalKind::Anomaly {
                    metric: metric.into(),
                    score,
                },
                message: format!("{metric} anomalous (score {score:.2})"),
            });
        }
    }
    if p.restarts > s.last_restarts {
        out.push(Signal {
            at: now,
            scope: s.spec.scope(),
            object: object.clone(),
            kind: SignalKind::Event {
                reason: "OOMKilled".into(),
            },
            message: format!("container OOM-killed at {:.0} MiB", p.memory_mib),
        });
    }
    s.last_restarts = p.restarts;
    Ok(out)
}

async fn autoscale(
    engine: &Engine,
    t: &Tenancy,
    s: &mut AppState,
    metrics: &EmbeddedMetrics,
    forecaster: &SeasonalEnsemble,
    minute: usize,
    now: Timestamp,
) -> Result<Vec<Signal>> {
    let q = format!(
        r#"app_cpu_cores{{namespace="{}",app="{}"}}"#,
        s.namespace, s.spec.name
    );
    let cpu: f64 = metrics.instant(&q, now).await?.iter().map(|(_, v)| v).sum();
    let rps = *s.trace.rps.last().unwrap_or(&0.0);
    s.history.push(rps);

    let prefix = format!("{}-", s.spec.name);
    let pods: Vec<Pod> = engine
        .api::<Pod>(Some(&s.namespace))?
        .list(&Default::default())
        .await?
        .into_iter()
        .filter(|p| {
            p.metadata
                .name
                .as_deref()
                .is_some_and(|n| n.starts_with(&prefix))
        })
        .collect();
    let ready = ready_replicas(s, minute).max(1);
    let requests = ResourceList::parse([(
        "cpu",
        format!("{}m", (s.spec.cpu_request * 1000.0).round()).as_str(),
    )])?;
    let started = now - Duration::from_secs(3600);
    let infos: Vec<PodInfo> = pods
        .iter()
        .map(|p| {
            PodInfo::running(
                p.metadata.name.clone().unwrap_or_default(),
                started,
                requests.clone(),
            )
        })
        .collect();
    let samples = infos
        .iter()
        .map(|p| PodMetricSample {
            pod: p.name.clone(),
            value: cpu / f64::from(ready),
            timestamp: now,
            window: Duration::from_secs(60),
        })
        .collect();
    let obs = Observation {
        spec_replicas: s.spec_replicas,
        status_replicas: s.running,
        pods: infos,
        metrics: vec![MetricValues::PerPod(samples)],
    };
    let outcome = hpa::recommend(
        &s.hpa,
        &ControllerConfig::default(),
        &obs,
        &s.hpa_state,
        now,
    )?;
    s.hpa_state = outcome.next_state.clone();
    let hpa_replicas = outcome.desired_replicas.max(0) as u32;
    // Forecast the requests of the next lead window from the history so far (5-minute
    // steps), and size for it ahead of time; never below what the HPA asks.
    let fc = forecaster.forecast(&s.history, s.scaler.window())?;
    let rec = s.scaler.recommend(&fc.point, hpa_replicas)?;
    if let Some(next) = fc.point.first() {
        s.trace.forecast.push((minute + PERIOD, *next));
    }
    s.trace.hpa.push((minute, outcome.desired_replicas));
    s.trace.predictive.push((minute, rec.predictive));

    let desired = (rec.replicas as i32).clamp(s.spec.min_replicas, s.spec.max_replicas);
    // Scale through the tenancy engine, which refuses what the project quota cannot hold:
    // then take the most that fits.
    let mut target = desired;
    let mut refused = None;
    while target != s.spec_replicas {
        match t
            .scale_app(s.spec.org, s.spec.ws, s.spec.project, s.spec.name, target)
            .await
        {
            Ok(_) => {
                s.spec_replicas = target;
                break;
            }
            Err(e) if e.kind() == ErrorKind::QuotaExceeded && target > s.spec_replicas => {
                refused.get_or_insert(e.to_string());
                target -= 1;
            }
            Err(e) => return Err(e),
        }
    }
    let d = engine
        .api::<Deployment>(Some(&s.namespace))?
        .get(s.spec.name)
        .await?;
    s.running = d.status.and_then(|st| st.replicas).unwrap_or(0);
    let mut out = Vec::new();
    let short = refused.is_some() || s.running < s.spec_replicas;
    if short && !s.short_of_quota {
        out.push(Signal {
            at: now,
            scope: s.spec.scope(),
            object: format!("Deployment {}/{}", s.namespace, s.spec.name),
            kind: SignalKind::Event {
                reason: "QuotaExceeded".into(),
            },
            message: format!(
                "wanted {desired} replicas, {} fit: {}",
                s.spec_replicas,
                refused.as_deref().unwrap_or("pods refused by quota")
            ),
        });
    }
    s.short_of_quota = short && s.spec_replicas < desired;
    Ok(out)
}

async fn sample_quotas(
    t: &Tenancy,
    quotas: &mut BTreeMap<String, QuotaTrace>,
    minute: usize,
) -> Result<()> {
    for org in ["acme", "globex"] {
        for ws in t.workspaces(org).await? {
            for p in t.projects(org, ws.name.as_str()).await? {
                let used = t.live_usage(&p.namespace).await?;
                let label = format!("{org}/{}/{}", ws.name, p.name);
                let hard = p.quota.get_or_zero("requests.cpu").as_f64();
                let used = used.get_or_zero("requests.cpu").as_f64();
                quotas
                    .entry(label.clone())
                    .or_insert_with(|| QuotaTrace {
                        label,
                        cpu: Vec::new(),
                    })
                    .cpu
                    .push((minute, used, hard));
            }
        }
    }
    Ok(())
}

/// Remediate the top cause of each incident once it has enough evidence: the viewer's request
/// is refused, the operator's needs approval, the approver's second pair of eyes executes it.
async fn remediate(
    guard: &Guard,
    grouper: &mut IncidentGrouper,
    done: &mut BTreeSet<u64>,
    actions: &mut BTreeMap<u64, Vec<String>>,
    states: &mut [AppState],
    t_ms: i64,
) -> Result<()> {
    let viewer = Subject::new(PEOPLE.viewer)?;
    let operator = Subject::new(PEOPLE.operator)?;
    let approver = Subject::new(PEOPLE.approver)?;
    let owner = Subject::new(PEOPLE.owner)?;
    for inc in grouper.incidents() {
        if done.contains(&inc.id) {
            continue;
        }
        let Some(top) = inc.root_causes.first() else {
            continue;
        };
        let Some(s) = states
            .iter_mut()
            .find(|s| top.object == format!("Deployment {}/{}", s.namespace, s.spec.name))
        else {
            continue;
        };
        let action = if top.cause.contains("memory") {
            Action::Restart {
                kind: WorkloadKind::Deployment,
                namespace: s.namespace.clone(),
                name: s.spec.name.into(),
            }
        } else if top.cause.contains("quota") {
            Action::RaiseQuota {
                namespace: s.namespace.clone(),
                add: ResourceList::parse([("requests.cpu", "1")])?,
            }
        } else {
            continue;
        };
        done.insert(inc.id);
        let log = actions.entry(inc.id).or_default();
        match guard
            .remediate(&viewer, action.clone())
            .apply()
            .execute()
            .await
        {
            Err(e) => log.push(format!("{}: refused ({})", PEOPLE.viewer, e.kind())),
            Ok(o) => log.push(format!("{}: {:?}", PEOPLE.viewer, o.decision)),
        }
        // The operator asks; when the action is beyond their role it goes to the admin,
        // and the second pair of eyes is always someone else with the right to do it.
        let (requester, second) = match guard
            .remediate(&operator, action.clone())
            .apply()
            .execute()
            .await
        {
            Ok(o) => {
                log.push(format!("{}: {:?}", PEOPLE.operator, o.decision));
                (&operator, &approver)
            }
            Err(e) => {
                log.push(format!("{}: refused ({})", PEOPLE.operator, e.kind()));
                (&approver, &owner)
            }
        };
        let done_ = match guard
            .remediate(requester, action)
            .apply()
            .approved_by(second.clone())
            .execute()
            .await
        {
            Ok(o) => o,
            Err(e) => {
                log.push(format!(
                    "{requester} with {second}'s approval: refused: {e}"
                ));
                continue;
            }
        };
        log.push(format!(
            "{requester}, approved by {second}: {:?}: {}",
            done_.decision, done_.description
        ));
        if done_.decision == Decision::Executed && top.cause.contains("memory") {
            // The restart frees the leaked memory; the leak itself is still in the code.
            s.leak_from = Some(t_ms);
            s.last_restarts = 0;
        }
    }
    Ok(())
}
