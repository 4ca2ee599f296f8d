//! Per-metric replica proposals: a port of upstream `replica_calculator.go`
//! (`GetResourceReplicas`, `GetRawResourceReplicas`, `GetMetricReplicas`,
//! `GetObjectMetricReplicas`, `GetObjectPerPodMetricReplicas`, `GetExternalMetricReplicas`,
//! `GetExternalPerPodMetricReplicas`, `groupPods`).
//!
//! Like upstream, every value is handled in milli-units (`Quantity::MilliValue`, rounded up)
//! and averages use integer division, so results match the controller to the replica.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use hxb_core::{Error, ResourceList, Result, Timestamp};
use serde::{Deserialize, Serialize};

use super::spec::{ControllerConfig, Tolerances};

/// Lifecycle phase of a pod (`PodPhase`).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum PodPhase {
    /// Accepted, not all containers running yet.
    Pending,
    /// Bound and running.
    #[default]
    Running,
    /// All containers terminated successfully.
    Succeeded,
    /// All containers terminated, at least one failed.
    Failed,
    /// State unknown.
    Unknown,
}

/// The pod's `Ready` condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadyCondition {
    /// Whether the condition is `True`.
    pub ready: bool,
    /// When it last changed.
    pub last_transition: Timestamp,
}

/// What the calculator needs to know about one pod selected by the target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PodInfo {
    /// Pod name (metrics refer to it).
    pub name: String,
    /// Phase.
    pub phase: PodPhase,
    /// Whether a deletion timestamp is set.
    pub deleting: bool,
    /// `status.startTime`.
    pub start_time: Option<Timestamp>,
    /// The `Ready` condition, if reported.
    pub ready: Option<ReadyCondition>,
    /// Pod requests (sum over containers, or pod-level requests).
    pub requests: ResourceList,
    /// Requests of each container, for container resource metrics.
    pub container_requests: BTreeMap<String, ResourceList>,
}

impl PodInfo {
    /// A running, ready pod started at `started` with `requests`.
    pub fn running(name: impl Into<String>, started: Timestamp, requests: ResourceList) -> Self {
        PodInfo {
            name: name.into(),
            phase: PodPhase::Running,
            deleting: false,
            start_time: Some(started),
            ready: Some(ReadyCondition {
                ready: true,
                last_transition: started,
            }),
            requests,
            container_requests: BTreeMap::new(),
        }
    }

    fn is_running_and_ready(&self) -> bool {
        self.phase == PodPhase::Running && self.ready.is_some_and(|r| r.ready)
    }
}

/// One per-pod metric sample (resource usage or a custom pods metric).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PodMetricSample {
    /// The pod.
    pub pod: String,
    /// Value in natural units (cores for cpu, bytes for memory, the metric's own unit).
    pub value: f64,
    /// End of the sampling window.
    pub timestamp: Timestamp,
    /// Length of the sampling window.
    pub window: Duration,
}

/// Observed values for one metric of the spec, in the same order as the spec's metrics.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MetricValues {
    /// Per-pod samples, for `Resource` and `Pods` metrics.
    PerPod(Vec<PodMetricSample>),
    /// The object's metric value, for `Object` metrics.
    Object(f64),
    /// Every matching series' value (summed), for `External` metrics.
    External(Vec<f64>),
    /// The metric could not be fetched; the reason ends up in the `ScalingActive` condition.
    Unavailable(String),
}

/// Convert a metric value to milli-units like `Quantity::MilliValue` (round to the nano,
/// then up to the milli). Refuses NaN, infinities, negatives and out-of-range values.
pub(crate) fn to_milli(v: f64, field: &str) -> Result<i64> {
    if !v.is_finite() || v < 0.0 {
        return Err(Error::invalid(
            field,
            format!("metric value must be finite and non-negative, got {v}"),
        ));
    }
    let nanos = (v * 1e9).round();
    if nanos >= 9.0e27 {
        return Err(Error::invalid(
            field,
            format!("metric value {v} is out of range"),
        ));
    }
    let milli = (nanos as i128 + 999_999).div_euclid(1_000_000);
    i64::try_from(milli)
        .map_err(|_| Error::invalid(field, format!("metric value {v} is out of range")))
}

/// `int32(math.Ceil(x))`, saturating like the newer upstream overflow guards.
pub(crate) fn ceil_i32(x: f64) -> i32 {
    let c = x.ceil();
    if c.is_nan() {
        0
    } else if c >= i32::MAX as f64 {
        i32::MAX
    } else if c <= i32::MIN as f64 {
        i32::MIN
    } else {
        c as i32
    }
}

/// A per-metric result: the proposal and the usage the status would report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    /// Proposed replica count.
    pub replicas: i32,
    /// Current value in milli-units (average per pod, or the object/external total).
    pub usage_milli: i64,
    /// Current utilization in percent of requests, for utilization targets.
    pub utilization: Option<i32>,
}

/// Pods grouped as upstream `groupPods` does.
#[derive(Debug, Default)]
struct Grouped {
    ready: usize,
    unready: BTreeSet<String>,
    missing: BTreeSet<String>,
    ignored: BTreeSet<String>,
}

fn group_pods(
    pods: &[PodInfo],
    metrics: &BTreeMap<String, (i64, &PodMetricSample)>,
    cpu: bool,
    now: Timestamp,
    cfg: &ControllerConfig,
) -> Grouped {
    let ms = |t: Timestamp| t.as_millisecond();
    let dur = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
    let mut g = Grouped::default();
    for pod in pods {
        if pod.deleting || pod.phase == PodPhase::Failed {
            g.ignored.insert(pod.name.clone());
            continue;
        }
        if pod.phase == PodPhase::Pending {
            g.unready.insert(pod.name.clone());
            continue;
        }
        let Some((_, sample)) = metrics.get(&pod.name) else {
            g.missing.insert(pod.name.clone());
            continue;
        };
        if cpu {
            let unready = match (pod.ready, pod.start_time) {
                (Some(cond), Some(start)) => {
                    let init_end = ms(start).saturating_add(dur(cfg.cpu_initialization_period));
                    if init_end > ms(now) {
                        // Within the initialization period: ignore the sample if the pod is
                        // unready, or if no full metric window has passed since it turned ready.
                        !cond.ready
                            || ms(sample.timestamp)
                                < ms(cond.last_transition).saturating_add(dur(sample.window))
                    } else {
                        // Afterwards: ignore it only if the pod is unready and never was ready.
                        !cond.ready
                            && ms(start).saturating_add(dur(cfg.delay_of_initial_readiness_status))
                                > ms(cond.last_transition)
                    }
                }
                _ => true,
            };
            if unready {
                g.unready.insert(pod.name.clone());
                continue;
            }
        }
        g.ready += 1;
    }
    g
}

fn collect_samples(
    samples: &[PodMetricSample],
) -> Result<BTreeMap<String, (i64, &PodMetricSample)>> {
    let mut m = BTreeMap::new();
    for (i, s) in samples.iter().enumerate() {
        let v = to_milli(s.value, &format!("metrics[{i}].value"))?;
        m.insert(s.pod.clone(), (v, s));
    }
    Ok(m)
}

/// Why one metric produced no proposal (upstream returns an error and marks the metric
/// invalid).
pub(crate) type MetricFailure = String;

fn pod_request(
    pod: &PodInfo,
    resource: &str,
    container: Option<&str>,
) -> std::result::Result<i64, MetricFailure> {
    let list = match container {
        Some(c) => pod
            .container_requests
            .get(c)
            .ok_or_else(|| format!("container {c} not found in Pod {}", pod.name))?,
        None => &pod.requests,
    };
    let q = list
        .get(resource)
        .ok_or_else(|| format!("missing request for {resource} in Pod {}", pod.name))?;
    i64::try_from(q.to_milli_ceil()).map_err(|_| format!("request for {resource} out of range"))
}

/// `GetResourceReplicas`: utilization targets in percent of requests.
#[allow(clippy::too_many_arguments)]
pub(crate) fn resource_utilization_replicas(
    current: i32,
    target_utilization: i32,
    resource: &str,
    container: Option<&str>,
    tolerances: Tolerances,
    pods: &[PodInfo],
    samples: &[PodMetricSample],
    now: Timestamp,
    cfg: &ControllerConfig,
) -> Result<std::result::Result<Proposal, MetricFailure>> {
    let with_samples = collect_samples(samples)?;
    let mut metrics: BTreeMap<String, i64> = with_samples
        .iter()
        .map(|(k, (v, _))| (k.clone(), *v))
        .collect();
    if pods.is_empty() {
        return Ok(Err(
            "no pods returned by selector while calculating replica count".into(),
        ));
    }
    let g = group_pods(pods, &with_samples, resource == "cpu", now, cfg);
    for name in g.ignored.iter().chain(&g.unready) {
        metrics.remove(name);
    }
    if metrics.is_empty() {
        return Ok(Err(
            "did not receive metrics for targeted pods (pods might be unready)".into(),
        ));
    }
    let mut requests = BTreeMap::new();
    for pod in pods {
        match pod_request(pod, resource, container) {
            Ok(r) => {
                requests.insert(pod.name.clone(), r);
            }
            Err(e) => return Ok(Err(e)),
        }
    }
    let ratio_of =
        |metrics: &BTreeMap<String, i64>| utilization_ratio(metrics, &requests, target_utilization);
    let (usage_ratio, utilization, raw) = match ratio_of(&metrics) {
        Ok(v) => v,
        Err(e) => return Ok(Err(e)),
    };
    let proposal = |replicas| {
        Ok(Ok(Proposal {
            replicas,
            usage_milli: raw,
            utilization: Some(utilization),
        }))
    };

    let scale_up_with_unready = !g.unready.is_empty() && usage_ratio > 1.0;
    if !scale_up_with_unready && g.missing.is_empty() {
        if tolerances.is_within(usage_ratio) {
            return proposal(current);
        }
        return proposal(ceil_i32(usage_ratio * g.ready as f64));
    }
    if !g.missing.is_empty() {
        if usage_ratio < 1.0 {
            // On a scale-down, missing pods use 100 % of their request (or the target, if higher).
            let fallback = i64::from(target_utilization.max(100));
            for name in &g.missing {
                let r = requests.get(name).copied().unwrap_or(0);
                metrics.insert(name.clone(), r.saturating_mul(fallback) / 100);
            }
        } else if usage_ratio > 1.0 {
            for name in &g.missing {
                metrics.insert(name.clone(), 0);
            }
        }
    }
    if scale_up_with_unready {
        for name in &g.unready {
            metrics.insert(name.clone(), 0);
        }
    }
    let new_ratio = match ratio_of(&metrics) {
        Ok((r, _, _)) => r,
        Err(e) => return Ok(Err(e)),
    };
    if tolerances.is_within(new_ratio)
        || (usage_ratio < 1.0 && new_ratio > 1.0)
        || (usage_ratio > 1.0 && new_ratio < 1.0)
    {
        return proposal(current);
    }
    let new_replicas = ceil_i32(new_ratio * metrics.len() as f64);
    if (new_ratio < 1.0 && new_replicas > current) || (new_ratio > 1.0 && new_replicas < current) {
        return proposal(current);
    }
    proposal(new_replicas)
}

/// `GetResourceUtilizationRatio`: `(ratio, utilization %, raw average milli)`.
fn utilization_ratio(
    metrics: &BTreeMap<String, i64>,
    requests: &BTreeMap<String, i64>,
    target: i32,
) -> std::result::Result<(f64, i32, i64), MetricFailure> {
    let (mut total, mut req_total, mut n) = (0i128, 0i128, 0i128);
    for (name, v) in metrics {
        if let Some(r) = requests.get(name) {
            total += i128::from(*v);
            req_total += i128::from(*r);
            n += 1;
        }
    }
    if req_total == 0 {
        return Err("no metrics returned matched known pods".into());
    }
    let pct = (total * 100 / req_total).clamp(i128::from(i32::MIN), i128::from(i32::MAX)) as i32;
    let raw = (total / n) as i64;
    Ok((f64::from(pct) / f64::from(target), pct, raw))
}

/// `calcPlainMetricReplicas`: average-value targets of resource and pods metrics.
#[allow(clippy::too_many_arguments)]
pub(crate) fn plain_metric_replicas(
    current: i32,
    target_milli: i64,
    cpu: bool,
    tolerances: Tolerances,
    pods: &[PodInfo],
    samples: &[PodMetricSample],
    now: Timestamp,
    cfg: &ControllerConfig,
) -> Result<std::result::Result<Proposal, MetricFailure>> {
    let with_samples = collect_samples(samples)?;
    let mut metrics: BTreeMap<String, i64> = with_samples
        .iter()
        .map(|(k, (v, _))| (k.clone(), *v))
        .collect();
    if pods.is_empty() {
        return Ok(Err(
            "no pods returned by selector while calculating replica count".into(),
        ));
    }
    let g = group_pods(pods, &with_samples, cpu, now, cfg);
    for name in g.ignored.iter().chain(&g.unready) {
        metrics.remove(name);
    }
    if metrics.is_empty() {
        return Ok(Err(
            "did not receive metrics for targeted pods (pods might be unready)".into(),
        ));
    }
    let (usage_ratio, usage) = usage_ratio(&metrics, target_milli);
    let proposal = |replicas| {
        Ok(Ok(Proposal {
            replicas,
            usage_milli: usage,
            utilization: None,
        }))
    };

    let scale_up_with_unready = !g.unready.is_empty() && usage_ratio > 1.0;
    if !scale_up_with_unready && g.missing.is_empty() {
        if tolerances.is_within(usage_ratio) {
            return proposal(current);
        }
        return proposal(ceil_i32(usage_ratio * g.ready as f64));
    }
    if !g.missing.is_empty() {
        let fill = if usage_ratio < 1.0 {
            Some(target_milli)
        } else if usage_ratio > 1.0 {
            Some(0)
        } else {
            None
        };
        if let Some(v) = fill {
            for name in &g.missing {
                metrics.insert(name.clone(), v);
            }
        }
    }
    if scale_up_with_unready {
        for name in &g.unready {
            metrics.insert(name.clone(), 0);
        }
    }
    let (new_ratio, _) = self::usage_ratio(&metrics, target_milli);
    if tolerances.is_within(new_ratio)
        || (usage_ratio < 1.0 && new_ratio > 1.0)
        || (usage_ratio > 1.0 && new_ratio < 1.0)
    {
        return proposal(current);
    }
    let new_replicas = ceil_i32(new_ratio * metrics.len() as f64);
    if (new_ratio < 1.0 && new_replicas > current) || (new_ratio > 1.0 && new_replicas < current) {
        return proposal(current);
    }
    proposal(new_replicas)
}

/// `GetMetricUsageRatio`: integer average, then the ratio to the target.
fn usage_ratio(metrics: &BTreeMap<String, i64>, target_milli: i64) -> (f64, i64) {
    let total: i128 = metrics.values().map(|v| i128::from(*v)).sum();
    let usage = (total / metrics.len().max(1) as i128) as i64;
    (usage as f64 / target_milli as f64, usage)
}

/// `getUsageRatioReplicaCount`: object and external `Value` targets.
pub(crate) fn usage_ratio_replicas(
    current: i32,
    usage_ratio: f64,
    tolerances: Tolerances,
    pods: &[PodInfo],
) -> std::result::Result<i32, MetricFailure> {
    if current == 0 {
        // Scale to zero, or to n pods, from zero: no tolerance, no ready count.
        return Ok(ceil_i32(usage_ratio));
    }
    if tolerances.is_within(usage_ratio) {
        return Ok(current);
    }
    if pods.is_empty() {
        return Err("unable to calculate ready pods: no pods returned by selector while calculating replica count".into());
    }
    let ready = pods.iter().filter(|p| p.is_running_and_ready()).count();
    Ok(ceil_i32(usage_ratio * ready as f64))
}

/// `GetObjectPerPodMetricReplicas` / `GetExternalPerPodMetricReplicas`: `AverageValue`
/// targets divide the total by the target, using the status replica count for tolerance.
pub(crate) fn per_pod_total_replicas(
    status_replicas: i32,
    usage_total: i64,
    target_per_pod: i64,
    tolerances: Tolerances,
) -> Proposal {
    let mut replicas = status_replicas;
    let ratio = usage_total as f64 / (target_per_pod as f64 * f64::from(status_replicas));
    if !tolerances.is_within(ratio) {
        replicas = ceil_i32(usage_total as f64 / target_per_pod as f64);
    }
    let per_pod = if status_replicas > 0 {
        (usage_total as f64 / f64::from(status_replicas)).ceil() as i64
    } else {
        usage_total
    };
    Proposal {
        replicas,
        usage_milli: per_pod,
        utilization: None,
    }
}

/// Sum of external series, saturating at `i64::MAX` like upstream.
pub(crate) fn sum_saturating(values: &[i64]) -> i64 {
    values.iter().fold(0i64, |acc, v| acc.saturating_add(*v))
}
