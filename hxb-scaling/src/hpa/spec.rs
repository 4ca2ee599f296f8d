//! The autoscaler specification: replica bounds, metrics with their targets, scaling behavior.
//!
//! Mirrors `autoscaling/v2` `HorizontalPodAutoscalerSpec` after API defaulting and validation
//! (`pkg/apis/autoscaling/v2/defaults.go`, `pkg/apis/autoscaling/validation`).

use std::time::Duration;

use hxb_core::{Error, Quantity, Result};
use serde::{Deserialize, Serialize};

/// Default tolerance of the controller (`--horizontal-pod-autoscaler-tolerance`).
pub const DEFAULT_TOLERANCE: f64 = 0.1;
/// Longest stabilization window the API accepts (one hour).
pub const MAX_STABILIZATION_WINDOW_SECONDS: i32 = 3600;
/// Longest policy period the API accepts (30 minutes).
pub const MAX_POLICY_PERIOD_SECONDS: i32 = 1800;

/// What a resource metric is compared against.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceTarget {
    /// Average utilization in percent of the pods' requests (`averageUtilization`).
    Utilization(i32),
    /// Average raw value per pod (`averageValue`), e.g. `500m` cpu or `1Gi` memory.
    AverageValue(Quantity),
}

/// What an object or external metric is compared against.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueTarget {
    /// The metric's total value (`value`).
    Value(Quantity),
    /// The metric's total divided by the replica count (`averageValue`).
    AverageValue(Quantity),
}

/// One metric the autoscaler follows.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricSource {
    /// A resource (cpu, memory) of the pods, or of one container of the pods
    /// (`Resource` / `ContainerResource`).
    Resource {
        /// Resource name (`cpu`, `memory`).
        resource: String,
        /// The container to look at; `None` for the whole pod.
        container: Option<String>,
        /// The target.
        target: ResourceTarget,
    },
    /// A per-pod custom metric averaged over the pods (`Pods`, target `averageValue`).
    Pods {
        /// Metric name.
        metric: String,
        /// Average value per pod.
        target: Quantity,
    },
    /// A metric describing one object (`Object`), e.g. requests per second of an ingress.
    Object {
        /// Metric name.
        metric: String,
        /// The described object, `Kind/name` (for explanations only).
        described_object: String,
        /// The target.
        target: ValueTarget,
    },
    /// A metric from outside the cluster (`External`), e.g. a queue length.
    External {
        /// Metric name.
        metric: String,
        /// The target.
        target: ValueTarget,
    },
}

impl MetricSource {
    /// A cpu utilization target in percent of requests.
    pub fn cpu_utilization(percent: i32) -> Self {
        MetricSource::Resource {
            resource: "cpu".into(),
            container: None,
            target: ResourceTarget::Utilization(percent),
        }
    }

    /// A human-readable name, as the controller prints it in status messages.
    pub fn describe(&self) -> String {
        match self {
            MetricSource::Resource {
                resource,
                container: None,
                target,
            } => match target {
                ResourceTarget::Utilization(_) => {
                    format!("{resource} resource utilization (percentage of request)")
                }
                ResourceTarget::AverageValue(_) => format!("{resource} resource"),
            },
            MetricSource::Resource {
                resource,
                container: Some(_),
                target,
            } => match target {
                ResourceTarget::Utilization(_) => {
                    format!("{resource} container resource utilization (percentage of request)")
                }
                ResourceTarget::AverageValue(_) => format!("{resource} resource"),
            },
            MetricSource::Pods { metric, .. } => format!("pods metric {metric}"),
            MetricSource::Object {
                metric,
                described_object,
                ..
            } => {
                let kind = described_object.split('/').next().unwrap_or_default();
                format!("{kind} metric {metric}")
            }
            MetricSource::External { metric, .. } => format!("external metric {metric}"),
        }
    }

    fn validate(&self, i: usize) -> Result<()> {
        let field = |f: &str| format!("spec.metrics[{i}].{f}");
        let positive = |q: &Quantity, f: &str| {
            if q.nanos() <= 0 {
                Err(Error::invalid(
                    field(f),
                    format!("target must be positive, got {q}"),
                ))
            } else {
                Ok(())
            }
        };
        match self {
            MetricSource::Resource {
                resource,
                container,
                target,
            } => {
                if resource.is_empty() {
                    return Err(Error::invalid(field("resource.name"), "must not be empty"));
                }
                if container.as_deref() == Some("") {
                    return Err(Error::invalid(
                        field("containerResource.container"),
                        "must not be empty",
                    ));
                }
                match target {
                    ResourceTarget::Utilization(p) if *p <= 0 => Err(Error::invalid(
                        field("target.averageUtilization"),
                        format!("must be greater than 0, got {p}"),
                    )),
                    ResourceTarget::Utilization(_) => Ok(()),
                    ResourceTarget::AverageValue(q) => positive(q, "target.averageValue"),
                }
            }
            MetricSource::Pods { metric, target } => {
                non_empty(metric, &field("pods.metric.name"))?;
                positive(target, "target.averageValue")
            }
            MetricSource::Object { metric, target, .. }
            | MetricSource::External { metric, target } => {
                non_empty(metric, &field("metric.name"))?;
                match target {
                    ValueTarget::Value(q) => positive(q, "target.value"),
                    ValueTarget::AverageValue(q) => positive(q, "target.averageValue"),
                }
            }
        }
    }
}

fn non_empty(s: &str, field: &str) -> Result<()> {
    if s.is_empty() {
        Err(Error::invalid(field, "must not be empty"))
    } else {
        Ok(())
    }
}

/// How a scaling policy measures change.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyKind {
    /// An absolute number of pods (`Pods`).
    Pods,
    /// A percentage of the replicas at the start of the period (`Percent`).
    Percent,
}

/// One scaling policy: at most `value` pods (or percent) per `period_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScalingPolicy {
    /// Pods or percent.
    pub kind: PolicyKind,
    /// Amount of change allowed (> 0).
    pub value: i32,
    /// Length of the period the change is counted over, 1..=1800 s.
    pub period_seconds: i32,
}

impl ScalingPolicy {
    /// `value` pods per `period_seconds`.
    pub const fn pods(value: i32, period_seconds: i32) -> Self {
        ScalingPolicy {
            kind: PolicyKind::Pods,
            value,
            period_seconds,
        }
    }

    /// `value` percent per `period_seconds`.
    pub const fn percent(value: i32, period_seconds: i32) -> Self {
        ScalingPolicy {
            kind: PolicyKind::Percent,
            value,
            period_seconds,
        }
    }
}

/// Which policy wins when several apply (`selectPolicy`).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SelectPolicy {
    /// The policy allowing the largest change (the default).
    #[default]
    Max,
    /// The policy allowing the smallest change.
    Min,
    /// Scaling in this direction is disabled.
    Disabled,
}

/// Scaling rules for one direction (`HPAScalingRules`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalingRules {
    /// Stabilization window in seconds, 0..=3600.
    pub stabilization_window_seconds: i32,
    /// Policy selection.
    pub select_policy: SelectPolicy,
    /// The policies (at least one).
    pub policies: Vec<ScalingPolicy>,
    /// Tolerance for this direction (`HPAConfigurableTolerance`); `None` uses the
    /// controller-wide tolerance.
    pub tolerance: Option<f64>,
}

impl ScalingRules {
    /// The API default for scale up: no stabilization, the larger of 100 % and 4 pods per 15 s.
    pub fn default_scale_up() -> Self {
        ScalingRules {
            stabilization_window_seconds: 0,
            select_policy: SelectPolicy::Max,
            policies: vec![ScalingPolicy::pods(4, 15), ScalingPolicy::percent(100, 15)],
            tolerance: None,
        }
    }

    /// The API default for scale down: 300 s stabilization, 100 % per 15 s.
    pub fn default_scale_down() -> Self {
        ScalingRules {
            stabilization_window_seconds: 300,
            select_policy: SelectPolicy::Max,
            policies: vec![ScalingPolicy::percent(100, 15)],
            tolerance: None,
        }
    }

    /// The longest policy period (how long scale events must be remembered).
    pub fn longest_period_seconds(&self) -> i32 {
        self.policies
            .iter()
            .map(|p| p.period_seconds)
            .max()
            .unwrap_or(0)
    }

    fn validate(&self, field: &str) -> Result<()> {
        if !(0..=MAX_STABILIZATION_WINDOW_SECONDS).contains(&self.stabilization_window_seconds) {
            return Err(Error::invalid(
                format!("{field}.stabilizationWindowSeconds"),
                format!(
                    "must be within 0..=3600, got {}",
                    self.stabilization_window_seconds
                ),
            ));
        }
        if self.policies.is_empty() {
            return Err(Error::invalid(
                format!("{field}.policies"),
                "must specify at least one policy",
            ));
        }
        for (i, p) in self.policies.iter().enumerate() {
            if p.value <= 0 {
                return Err(Error::invalid(
                    format!("{field}.policies[{i}].value"),
                    format!("must be greater than 0, got {}", p.value),
                ));
            }
            if !(1..=MAX_POLICY_PERIOD_SECONDS).contains(&p.period_seconds) {
                return Err(Error::invalid(
                    format!("{field}.policies[{i}].periodSeconds"),
                    format!("must be within 1..=1800, got {}", p.period_seconds),
                ));
            }
        }
        if let Some(t) = self.tolerance {
            validate_tolerance(t, &format!("{field}.tolerance"))?;
        }
        Ok(())
    }
}

pub(crate) fn validate_tolerance(t: f64, field: &str) -> Result<()> {
    if !t.is_finite() || t < 0.0 {
        return Err(Error::invalid(
            field,
            format!("must be a finite, non-negative number, got {t}"),
        ));
    }
    Ok(())
}

/// Scaling behavior for both directions (`HorizontalPodAutoscalerBehavior`, fully defaulted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Behavior {
    /// Rules when adding pods.
    pub scale_up: ScalingRules,
    /// Rules when removing pods.
    pub scale_down: ScalingRules,
}

impl Default for Behavior {
    fn default() -> Self {
        Behavior {
            scale_up: ScalingRules::default_scale_up(),
            scale_down: ScalingRules::default_scale_down(),
        }
    }
}

/// A validated autoscaler specification. Build it with [`HpaSpec::builder`] or convert an
/// `autoscaling/v2` spec with `TryFrom`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HpaSpec {
    min_replicas: i32,
    max_replicas: i32,
    metrics: Vec<MetricSource>,
    behavior: Option<Behavior>,
}

impl HpaSpec {
    /// Start a builder with `max_replicas`; `min_replicas` defaults to 1 and the metrics to
    /// cpu utilization 80 % (the API defaults).
    pub fn builder(max_replicas: i32) -> HpaSpecBuilder {
        HpaSpecBuilder {
            min_replicas: 1,
            max_replicas,
            metrics: Vec::new(),
            behavior: None,
        }
    }

    /// Lower bound on replicas (0 enables scale to zero, as with `HPAScaleToZero`).
    pub fn min_replicas(&self) -> i32 {
        self.min_replicas
    }

    /// Upper bound on replicas.
    pub fn max_replicas(&self) -> i32 {
        self.max_replicas
    }

    /// The metrics, in spec order.
    pub fn metrics(&self) -> &[MetricSource] {
        &self.metrics
    }

    /// The behavior; `None` selects the controller's behavior-less path (scale-down
    /// stabilization only and the `max(2 × current, 4)` scale-up limit).
    pub fn behavior(&self) -> Option<&Behavior> {
        self.behavior.as_ref()
    }
}

/// Builder for [`HpaSpec`]; [`build`](HpaSpecBuilder::build) validates.
#[derive(Debug, Clone)]
#[must_use]
pub struct HpaSpecBuilder {
    min_replicas: i32,
    max_replicas: i32,
    metrics: Vec<MetricSource>,
    behavior: Option<Behavior>,
}

impl HpaSpecBuilder {
    /// Set the lower bound (default 1).
    pub fn min_replicas(mut self, n: i32) -> Self {
        self.min_replicas = n;
        self
    }

    /// Add a metric.
    pub fn metric(mut self, m: MetricSource) -> Self {
        self.metrics.push(m);
        self
    }

    /// Set the behavior (see [`Behavior::default`] for the API defaults).
    pub fn behavior(mut self, b: Behavior) -> Self {
        self.behavior = Some(b);
        self
    }

    /// Validate and build.
    pub fn build(mut self) -> Result<HpaSpec> {
        if self.max_replicas < 1 {
            return Err(Error::invalid(
                "spec.maxReplicas",
                format!(
                    "must be greater than or equal to 1, got {}",
                    self.max_replicas
                ),
            ));
        }
        if self.min_replicas < 0 {
            return Err(Error::invalid(
                "spec.minReplicas",
                format!(
                    "must be greater than or equal to 0, got {}",
                    self.min_replicas
                ),
            ));
        }
        if self.min_replicas > self.max_replicas {
            return Err(Error::invalid(
                "spec.minReplicas",
                format!(
                    "must be less than or equal to maxReplicas ({} > {})",
                    self.min_replicas, self.max_replicas
                ),
            ));
        }
        if self.metrics.is_empty() {
            self.metrics.push(MetricSource::cpu_utilization(80));
        }
        for (i, m) in self.metrics.iter().enumerate() {
            m.validate(i)?;
        }
        if let Some(b) = &self.behavior {
            b.scale_up.validate("spec.behavior.scaleUp")?;
            b.scale_down.validate("spec.behavior.scaleDown")?;
        }
        Ok(HpaSpec {
            min_replicas: self.min_replicas,
            max_replicas: self.max_replicas,
            metrics: self.metrics,
            behavior: self.behavior,
        })
    }
}

/// Controller-wide settings (`kube-controller-manager` flags), with upstream defaults.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ControllerConfig {
    /// `--horizontal-pod-autoscaler-tolerance` (0.1).
    pub tolerance: f64,
    /// `--horizontal-pod-autoscaler-cpu-initialization-period` (5 min).
    pub cpu_initialization_period: Duration,
    /// `--horizontal-pod-autoscaler-initial-readiness-delay` (30 s).
    pub delay_of_initial_readiness_status: Duration,
    /// `--horizontal-pod-autoscaler-downscale-stabilization` (5 min).
    pub downscale_stabilization_window: Duration,
}

impl Default for ControllerConfig {
    fn default() -> Self {
        ControllerConfig {
            tolerance: DEFAULT_TOLERANCE,
            cpu_initialization_period: Duration::from_secs(300),
            delay_of_initial_readiness_status: Duration::from_secs(30),
            downscale_stabilization_window: Duration::from_secs(300),
        }
    }
}

impl ControllerConfig {
    pub(crate) fn validate(&self) -> Result<()> {
        validate_tolerance(self.tolerance, "config.tolerance")
    }
}

/// Scale-up and scale-down tolerances: no change while
/// `1 - down <= ratio <= 1 + up` (upstream `Tolerances.isWithin`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Tolerances {
    /// Tolerance below a ratio of 1.
    pub scale_down: f64,
    /// Tolerance above a ratio of 1.
    pub scale_up: f64,
}

impl Tolerances {
    /// The same tolerance both ways.
    pub const fn both(t: f64) -> Self {
        Tolerances {
            scale_down: t,
            scale_up: t,
        }
    }

    /// The tolerances that apply to `spec` (upstream `tolerancesForHpa`): the controller-wide
    /// value, overridden per direction by `behavior.scale{Up,Down}.tolerance`.
    pub fn for_spec(spec: &HpaSpec, config: &ControllerConfig) -> Self {
        let mut t = Tolerances::both(config.tolerance);
        if let Some(b) = spec.behavior() {
            if let Some(d) = b.scale_down.tolerance {
                t.scale_down = d;
            }
            if let Some(u) = b.scale_up.tolerance {
                t.scale_up = u;
            }
        }
        t
    }

    /// Whether `ratio` is close enough to 1 to leave the replica count alone.
    pub fn is_within(&self, ratio: f64) -> bool {
        (1.0 - self.scale_down) <= ratio && ratio <= (1.0 + self.scale_up)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hxb_core::ErrorKind;

    #[test]
    fn builder_defaults_mirror_api_defaulting() {
        // pkg/apis/autoscaling/v2/defaults.go: minReplicas 1, cpu 80 % when no metric is given.
        let s = HpaSpec::builder(10).build().unwrap();
        assert_eq!(s.min_replicas(), 1);
        assert_eq!(s.metrics(), &[MetricSource::cpu_utilization(80)]);
        assert!(s.behavior().is_none());
    }

    #[test]
    fn bad_specs_are_invalid_input() {
        let cases: Vec<(HpaSpecBuilder, &str)> = vec![
            (HpaSpec::builder(2).min_replicas(3), "spec.minReplicas"),
            (HpaSpec::builder(0), "spec.maxReplicas"),
            (HpaSpec::builder(2).min_replicas(-1), "spec.minReplicas"),
            (
                HpaSpec::builder(2).metric(MetricSource::cpu_utilization(0)),
                "averageUtilization",
            ),
            (
                HpaSpec::builder(2).metric(MetricSource::Pods {
                    metric: "qps".into(),
                    target: Quantity::ZERO,
                }),
                "averageValue",
            ),
            (
                HpaSpec::builder(2).metric(MetricSource::External {
                    metric: "q".into(),
                    target: ValueTarget::Value(Quantity::from_int(-1)),
                }),
                "target.value",
            ),
            (
                HpaSpec::builder(2).behavior(Behavior {
                    scale_up: ScalingRules {
                        tolerance: Some(f64::NAN),
                        ..ScalingRules::default_scale_up()
                    },
                    scale_down: ScalingRules::default_scale_down(),
                }),
                "tolerance",
            ),
            (
                HpaSpec::builder(2).behavior(Behavior {
                    scale_up: ScalingRules {
                        policies: vec![],
                        ..ScalingRules::default_scale_up()
                    },
                    scale_down: ScalingRules::default_scale_down(),
                }),
                "policies",
            ),
            (
                HpaSpec::builder(2).behavior(Behavior {
                    scale_up: ScalingRules::default_scale_up(),
                    scale_down: ScalingRules {
                        policies: vec![ScalingPolicy::pods(1, 1801)],
                        ..ScalingRules::default_scale_down()
                    },
                }),
                "periodSeconds",
            ),
        ];
        for (b, field) in cases {
            let e = b.build().unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput);
            assert!(e.to_string().contains(field), "{e} should name {field}");
        }
    }

    #[test]
    fn tolerances_per_direction_override_the_controller_value() {
        // KEP-4951 (HPAConfigurableTolerance): unset directions keep the controller tolerance.
        let spec = HpaSpec::builder(5)
            .behavior(Behavior {
                scale_up: ScalingRules {
                    tolerance: Some(0.0),
                    ..ScalingRules::default_scale_up()
                },
                scale_down: ScalingRules::default_scale_down(),
            })
            .build()
            .unwrap();
        let t = Tolerances::for_spec(&spec, &ControllerConfig::default());
        assert_eq!(
            t,
            Tolerances {
                scale_down: 0.1,
                scale_up: 0.0
            }
        );
        assert!(t.is_within(0.9) && t.is_within(1.0) && !t.is_within(1.0001) && !t.is_within(0.89));
    }
}
