//! Horizontal pod autoscaling, computed exactly as the Kubernetes controller does
//! (`pkg/controller/podautoscaler`), as a pure function.
//!
//! [`recommend`] takes the [`HpaSpec`], the controller settings, what was observed (replica
//! counts, pods, metric values), the remembered [`HpaState`] and `now`, and returns the
//! desired replica count, the status conditions, one [`MetricProposal`] per metric and the
//! next state. Nothing is read from a clock or a cluster.
//!
//! ```
//! use hxb_core::{ResourceList, Timestamp};
//! use hxb_scaling::hpa::{self, ControllerConfig, HpaSpec, HpaState, MetricSource, MetricValues,
//!     Observation, PodInfo, PodMetricSample};
//! # fn main() -> hxb_core::Result<()> {
//! let spec = HpaSpec::builder(10).metric(MetricSource::cpu_utilization(30)).build()?;
//! let now = Timestamp::from_second(1_000_000).unwrap();
//! let started = Timestamp::from_second(0).unwrap();
//! let req = ResourceList::parse([("cpu", "1")])?;
//! let pods: Vec<_> = (0..3).map(|i| PodInfo::running(format!("p{i}"), started, req.clone())).collect();
//! let samples = [0.3, 0.5, 0.7].iter().enumerate().map(|(i, v)| PodMetricSample {
//!     pod: format!("p{i}"), value: *v, timestamp: now, window: std::time::Duration::from_secs(60),
//! }).collect();
//! let obs = Observation { spec_replicas: 3, status_replicas: 3, pods,
//!     metrics: vec![MetricValues::PerPod(samples)] };
//! let out = hpa::recommend(&spec, &ControllerConfig::default(), &obs, &HpaState::default(), now)?;
//! assert_eq!(out.desired_replicas, 5); // 50 % used against a 30 % target
//! # Ok(()) }
//! ```

mod conditions;
mod k8s;
mod normalize;
mod replicas;
mod spec;

use hxb_core::{Error, Result, Timestamp};
use serde::{Deserialize, Serialize};

pub use conditions::{Condition, ConditionType, Reason};
pub use normalize::{
    HpaState, SCALE_UP_LIMIT_FACTOR, SCALE_UP_LIMIT_MINIMUM, ScaleEvent, TimestampedRecommendation,
    convert_with_rules, replicas_change_per_period, scale_down_limit, scale_up_limit,
    scale_up_limit_without_behavior,
};
pub use replicas::{MetricValues, PodInfo, PodMetricSample, PodPhase, Proposal, ReadyCondition};
pub use spec::{
    Behavior, ControllerConfig, DEFAULT_TOLERANCE, HpaSpec, HpaSpecBuilder,
    MAX_POLICY_PERIOD_SECONDS, MAX_STABILIZATION_WINDOW_SECONDS, MetricSource, PolicyKind,
    ResourceTarget, ScalingPolicy, ScalingRules, SelectPolicy, Tolerances, ValueTarget,
};

use conditions::set;
use replicas::{
    per_pod_total_replicas, plain_metric_replicas, resource_utilization_replicas, sum_saturating,
    to_milli, usage_ratio_replicas,
};

/// What was observed for one autoscaler run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// The target's `spec.replicas` (the controller's "current replicas").
    pub spec_replicas: i32,
    /// The target's `status.replicas` (used by `AverageValue` object/external targets).
    pub status_replicas: i32,
    /// The pods selected by the target's selector.
    pub pods: Vec<PodInfo>,
    /// One entry per metric of the spec, in order.
    pub metrics: Vec<MetricValues>,
}

/// The outcome for one metric, for explanations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricProposal {
    /// The metric, as the controller names it (e.g. `cpu resource utilization (percentage of request)`).
    pub metric: String,
    /// The proposal, or why the metric is invalid this time.
    pub result: std::result::Result<Proposal, String>,
}

/// The autoscaler's decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// The current replica count (`spec.replicas` of the target).
    pub current_replicas: i32,
    /// The replica count to set.
    pub desired_replicas: i32,
    /// Whether the target should be rescaled (`desired != current`, and scaling is active).
    pub rescale: bool,
    /// Why (upstream's event reason text), empty when nothing changes.
    pub reason: String,
    /// The largest proposal over valid metrics before normalization, if any.
    pub metric_desired_replicas: Option<i32>,
    /// One entry per metric, in spec order.
    pub proposals: Vec<MetricProposal>,
    /// Status conditions (AbleToScale, ScalingActive, ScalingLimited where set). When
    /// `rescale` is true, AbleToScale reads `SucceededRescale`, assuming the update succeeds.
    pub conditions: Vec<Condition>,
    /// The state to keep for the next run. It records the scale event of this decision, so
    /// keep the previous state's events if applying the new scale fails.
    pub next_state: HpaState,
}

impl Outcome {
    /// The condition of the given type, if set.
    pub fn condition(&self, t: ConditionType) -> Option<&Condition> {
        self.conditions.iter().find(|c| c.type_ == t)
    }
}

/// Compute one autoscaler decision (upstream `reconcileAutoscaler` minus the API calls).
///
/// Errors with [`hxb_core::ErrorKind::InvalidInput`] when the observation does not match
/// the spec (metric count, metric kind) or carries NaN, infinite or negative values, or
/// negative replica counts; nothing is computed then.
pub fn recommend(
    spec: &HpaSpec,
    config: &ControllerConfig,
    obs: &Observation,
    state: &HpaState,
    now: Timestamp,
) -> Result<Outcome> {
    config.validate()?;
    validate_observation(spec, obs)?;
    let current = obs.spec_replicas;
    let (min, max) = (spec.min_replicas(), spec.max_replicas());
    let mut next = state.clone();
    next.record_initial(current, now);
    let mut conds = vec![Condition::new(
        ConditionType::AbleToScale,
        true,
        Reason::SucceededGetScale,
        "the HPA controller was able to get the target's current scale",
    )];
    let mut out = Outcome {
        current_replicas: current,
        desired_replicas: current,
        rescale: false,
        reason: String::new(),
        metric_desired_replicas: None,
        proposals: Vec::new(),
        conditions: Vec::new(),
        next_state: HpaState::default(),
    };

    let desired;
    if current == 0 && min != 0 {
        set(
            &mut conds,
            Condition::new(
                ConditionType::ScalingActive,
                false,
                Reason::ScalingDisabled,
                "scaling is disabled since the replica count of the target is zero",
            ),
        );
        out.conditions = conds;
        out.next_state = next;
        return Ok(out);
    } else if current > max {
        out.reason = "Current number of replicas above Spec.MaxReplicas".into();
        desired = max;
    } else if current < min {
        out.reason = "Current number of replicas below Spec.MinReplicas".into();
        desired = min;
    } else {
        let tolerances = Tolerances::for_spec(spec, config);
        let proposals = compute_proposals(spec, config, obs, tolerances, now)?;
        let (metric_desired, failure) = combine(&proposals, spec, current);
        out.proposals = proposals.into_iter().map(|(p, _)| p).collect();
        match failure {
            Some(cond) => {
                set(&mut conds, cond);
                out.conditions = conds;
                out.next_state = next;
                return Ok(out);
            }
            None => {
                let name = out
                    .proposals
                    .iter()
                    .find(|p| {
                        p.result
                            .as_ref()
                            .is_ok_and(|r| r.replicas == metric_desired)
                    })
                    .map(|p| p.metric.clone())
                    .unwrap_or_default();
                set(
                    &mut conds,
                    Condition::new(
                        ConditionType::ScalingActive,
                        true,
                        Reason::ValidMetricFound,
                        format!(
                            "the HPA was able to successfully calculate a replica count from {name}"
                        ),
                    ),
                );
                out.metric_desired_replicas = Some(metric_desired);
                let pre = metric_desired.max(0);
                if pre > current {
                    out.reason = format!("{name} above target");
                } else if pre < current {
                    out.reason = "All metrics below target".into();
                }
                let n = match spec.behavior() {
                    None => normalize::normalize_without_behavior(
                        &mut next,
                        current,
                        pre,
                        min,
                        max,
                        i64::try_from(config.downscale_stabilization_window.as_secs())
                            .unwrap_or(i64::MAX),
                        now,
                    ),
                    Some(b) => normalize::normalize_with_behavior(
                        &mut next, b, current, pre, min, max, now,
                    ),
                };
                set(&mut conds, n.able_to_scale);
                set(&mut conds, n.scaling_limited);
                desired = n.desired;
            }
        }
    }

    out.desired_replicas = desired;
    out.rescale = desired != current;
    if out.rescale {
        set(
            &mut conds,
            Condition::new(
                ConditionType::AbleToScale,
                true,
                Reason::SucceededRescale,
                format!("the HPA controller was able to update the target scale to {desired}"),
            ),
        );
        next.record_scale(spec.behavior(), current, desired, now);
    } else {
        out.reason.clear();
    }
    out.conditions = conds;
    out.next_state = next;
    Ok(out)
}

fn validate_observation(spec: &HpaSpec, obs: &Observation) -> Result<()> {
    if obs.spec_replicas < 0 || obs.status_replicas < 0 {
        return Err(Error::invalid(
            "observation.replicas",
            "replica counts must not be negative",
        ));
    }
    if obs.metrics.len() != spec.metrics().len() {
        return Err(Error::invalid(
            "observation.metrics",
            format!(
                "expected {} metric observations, got {}",
                spec.metrics().len(),
                obs.metrics.len()
            ),
        ));
    }
    for (i, (m, v)) in spec.metrics().iter().zip(&obs.metrics).enumerate() {
        let field = format!("observation.metrics[{i}]");
        let ok = matches!(
            (m, v),
            (_, MetricValues::Unavailable(_))
                | (
                    MetricSource::Resource { .. } | MetricSource::Pods { .. },
                    MetricValues::PerPod(_)
                )
                | (MetricSource::Object { .. }, MetricValues::Object(_))
                | (MetricSource::External { .. }, MetricValues::External(_))
        );
        if !ok {
            return Err(Error::invalid(
                field,
                format!("values do not match the metric kind of {}", m.describe()),
            ));
        }
        match v {
            MetricValues::PerPod(s) => {
                for (j, x) in s.iter().enumerate() {
                    to_milli(x.value, &format!("{field}[{j}]"))?;
                }
            }
            MetricValues::Object(x) => {
                to_milli(*x, &field)?;
            }
            MetricValues::External(xs) => {
                for (j, x) in xs.iter().enumerate() {
                    to_milli(*x, &format!("{field}[{j}]"))?;
                }
            }
            MetricValues::Unavailable(_) => {}
        }
    }
    Ok(())
}

fn milli(q: &hxb_core::Quantity) -> i64 {
    i64::try_from(q.to_milli_ceil()).unwrap_or(i64::MAX)
}

fn failure_reason(m: &MetricSource) -> Reason {
    match m {
        MetricSource::Resource {
            container: None, ..
        } => Reason::FailedGetResourceMetric,
        MetricSource::Resource {
            container: Some(_), ..
        } => Reason::FailedGetContainerResourceMetric,
        MetricSource::Pods { .. } => Reason::FailedGetPodsMetric,
        MetricSource::Object { .. } => Reason::FailedGetObjectMetric,
        MetricSource::External { .. } => Reason::FailedGetExternalMetric,
    }
}

/// `computeReplicasForMetric` for every metric.
fn compute_proposals(
    spec: &HpaSpec,
    config: &ControllerConfig,
    obs: &Observation,
    tol: Tolerances,
    now: Timestamp,
) -> Result<Vec<(MetricProposal, Reason)>> {
    let current = obs.spec_replicas;
    let mut out = Vec::with_capacity(spec.metrics().len());
    for (m, values) in spec.metrics().iter().zip(&obs.metrics) {
        let result = match (m, values) {
            (_, MetricValues::Unavailable(why)) => Err(why.clone()),
            (
                MetricSource::Resource {
                    resource,
                    container,
                    target,
                },
                MetricValues::PerPod(s),
            ) => match target {
                ResourceTarget::Utilization(t) => resource_utilization_replicas(
                    current,
                    *t,
                    resource,
                    container.as_deref(),
                    tol,
                    &obs.pods,
                    s,
                    now,
                    config,
                )?,
                ResourceTarget::AverageValue(q) => plain_metric_replicas(
                    current,
                    milli(q),
                    resource == "cpu",
                    tol,
                    &obs.pods,
                    s,
                    now,
                    config,
                )?,
            },
            (MetricSource::Pods { target, .. }, MetricValues::PerPod(s)) => plain_metric_replicas(
                current,
                milli(target),
                false,
                tol,
                &obs.pods,
                s,
                now,
                config,
            )?,
            (MetricSource::Object { target, .. }, MetricValues::Object(v)) => {
                let usage = to_milli(*v, "object metric")?;
                object_or_external(current, obs, usage, target, tol)
            }
            (MetricSource::External { target, .. }, MetricValues::External(vs)) => {
                let vals = vs
                    .iter()
                    .map(|v| to_milli(*v, "external metric"))
                    .collect::<Result<Vec<_>>>()?;
                object_or_external(current, obs, sum_saturating(&vals), target, tol)
            }
            _ => return Err(Error::internal("metric kind mismatch after validation")),
        };
        out.push((
            MetricProposal {
                metric: m.describe(),
                result,
            },
            failure_reason(m),
        ));
    }
    Ok(out)
}

fn object_or_external(
    current: i32,
    obs: &Observation,
    usage: i64,
    target: &ValueTarget,
    tol: Tolerances,
) -> std::result::Result<Proposal, String> {
    match target {
        ValueTarget::Value(q) => {
            let ratio = usage as f64 / milli(q) as f64;
            usage_ratio_replicas(current, ratio, tol, &obs.pods).map(|replicas| Proposal {
                replicas,
                usage_milli: usage,
                utilization: None,
            })
        }
        ValueTarget::AverageValue(q) => Ok(per_pod_total_replicas(
            obs.status_replicas,
            usage,
            milli(q),
            tol,
        )),
    }
}

/// `computeReplicasForMetrics`: the maximum over valid metrics; fail when every metric is
/// invalid, or when some are and the valid ones would scale down.
fn combine(
    proposals: &[(MetricProposal, Reason)],
    spec: &HpaSpec,
    current: i32,
) -> (i32, Option<Condition>) {
    let mut replicas = 0;
    let mut invalid = 0;
    let mut first: Option<Condition> = None;
    for (p, reason) in proposals {
        match &p.result {
            Ok(r) => {
                if replicas == 0 || r.replicas > replicas {
                    replicas = r.replicas;
                }
            }
            Err(e) => {
                if first.is_none() {
                    first = Some(Condition::new(
                        ConditionType::ScalingActive,
                        false,
                        *reason,
                        format!("the HPA was unable to compute the replica count: {e}"),
                    ));
                }
                invalid += 1;
            }
        }
    }
    if invalid >= spec.metrics().len() || (invalid > 0 && replicas < current) {
        return (-1, first);
    }
    (replicas, None)
}

#[cfg(test)]
mod tests;
