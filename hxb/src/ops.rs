//! Scaling and AI operations of the [`Engine`] with plain arguments: thin wrappers over
//! `hxb-scaling` and `hxb-ai` that the bindings expose as they are. The logic lives in those
//! crates; each operation here only maps plain data onto their types and is instrumented
//! like every engine operation.

use std::time::Duration;

use hxb_ai::analyze::{self, Finding, Snapshot};
use hxb_ai::detect::{self, Composite, RangeHint};
use hxb_core::{Error, Quantity, ResourceList, ResourceName, Result, Timestamp};
use hxb_scaling::forecast::{Forecaster, SeasonalEnsemble};
use hxb_scaling::hpa::{
    self, ControllerConfig, HpaSpec, HpaState, MetricSource, MetricValues, Observation, PodInfo,
    PodMetricSample,
};
use serde::{Deserialize, Serialize};

use crate::Engine;

/// What [`Engine::recommend_replicas`] needs: a workload's CPU usage per pod against a CPU
/// utilization target, as a HorizontalPodAutoscaler with one `cpu` `Utilization` metric sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "api", derive(schemars::JsonSchema))]
pub struct ReplicaRequest {
    /// The workload's current replica count (`spec.replicas`).
    pub current_replicas: i32,
    /// Lower bound of the recommendation (`minReplicas`, at least 1).
    pub min_replicas: i32,
    /// Upper bound of the recommendation (`maxReplicas`).
    pub max_replicas: i32,
    /// Target average CPU utilization in percent of the request (`averageUtilization`).
    pub target_cpu_utilization: i32,
    /// CPU in use by each running, ready pod, in cores (e.g. `0.25`).
    pub cpu_usage: Vec<f64>,
    /// CPU request of each pod (a quantity such as `"500m"`), the same for every pod as in a
    /// Deployment's pod template.
    #[cfg_attr(feature = "api", schemars(with = "String"))]
    pub cpu_request: Quantity,
}

/// The answer of [`Engine::recommend_replicas`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "api", derive(schemars::JsonSchema))]
pub struct ReplicaRecommendation {
    /// The replica count to set.
    pub desired_replicas: i32,
    /// Whether it differs from the current count.
    pub rescale: bool,
    /// Why, in the HPA controller's words (empty when nothing changes).
    pub reason: String,
    /// The status conditions the HPA controller would set, as `Type=True|False: Reason: message`.
    pub conditions: Vec<String>,
}

impl Engine {
    fn ensure_open(&self) -> Result<()> {
        self.live().map(|_| ())
    }

    /// The replica count a HorizontalPodAutoscaler with a CPU utilization target would set,
    /// computed exactly as the Kubernetes controller does ([`hxb_scaling::hpa::recommend`]:
    /// 10 % tolerance, min/max clamping, scale-up limits; a first decision, so no
    /// stabilization history).
    ///
    /// Errors with `InvalidInput` for NaN, infinite or negative usage, an empty pod list, a
    /// non-positive request or target, or bounds with `min > max`.
    ///
    /// ```
    /// # fn main() -> hxb::Result<()> {
    /// let engine = hxb::Engine::embedded()?;
    /// let rec = engine.recommend_replicas(&hxb::scaling::ReplicaRequest {
    ///     current_replicas: 3, min_replicas: 1, max_replicas: 10, target_cpu_utilization: 50,
    ///     cpu_usage: vec![0.45, 0.40, 0.35], cpu_request: "500m".parse()?,
    /// })?;
    /// assert_eq!(rec.desired_replicas, 5); // 80 % used against a 50 % target: ceil(3 × 1.6)
    /// # Ok(()) }
    /// ```
    pub fn recommend_replicas(&self, req: &ReplicaRequest) -> Result<ReplicaRecommendation> {
        self.telemetry().observe_sync("recommend_replicas", || {
            self.ensure_open()?;
            replica_recommendation(req, self.clock().now())
        })
    }

    /// Forecast the next `horizon` values of a series with the production forecaster
    /// ([`SeasonalEnsemble`]) for one season length `season` (24 for hourly data with a
    /// daily cycle). The history must be finite, non-negative and at least one season long
    /// (`InvalidInput` otherwise).
    pub fn forecast(&self, history: &[f64], horizon: usize, season: usize) -> Result<Vec<f64>> {
        self.telemetry().observe_sync("forecast", || {
            self.ensure_open()?;
            let model = SeasonalEnsemble::builder().periods(&[season]).build()?;
            Ok(model.forecast(history, horizon)?.point)
        })
    }

    /// Anomaly scores in `[0, 1]` for a series of `(timestamp in ms, value)` points, one per
    /// point, from the default detector ([`Composite`], fresh for each call): statistical
    /// components while it learns (600 points and at least a day), then novelty of window
    /// shapes in the range of that learning period ([`hxb_ai::detect::Resonance`]; an alert
    /// may come a few points after its cause). 0.5 and above reads as an alert.
    ///
    /// Errors with `InvalidInput`, before any scoring, when a value is NaN or infinite or the
    /// timestamps are not strictly increasing.
    pub fn detect_anomalies(&self, points: &[(i64, f64)]) -> Result<Vec<f64>> {
        self.telemetry().observe_sync("detect_anomalies", || {
            self.ensure_open()?;
            detect::score_series(&mut Composite::default(), points)
        })
    }

    /// Like [`Engine::detect_anomalies`], with a value range hint: the range the series is
    /// expected to stay in, known in advance (0–100 for a utilisation in percent, or an
    /// operator's expected range). The detector places values in the hint ([`RangeHint`])
    /// instead of the range of its learning period; values outside are clamped. It helps
    /// most when the hint is close to the values' real range.
    ///
    /// Errors with `InvalidInput`, before any scoring, when `min`/`max` are not finite or
    /// `min >= max`, or the series is invalid as for [`Engine::detect_anomalies`].
    pub fn detect_anomalies_in_range(
        &self,
        points: &[(i64, f64)],
        min: f64,
        max: f64,
    ) -> Result<Vec<f64>> {
        self.telemetry()
            .observe_sync("detect_anomalies_in_range", || {
                self.ensure_open()?;
                let hint = RangeHint::new(min, max)?;
                let mut det = Composite::builder().range_hint(Some(hint)).build();
                detect::score_series(&mut det, points)
            })
    }

    /// Read-only diagnosis of the cluster (or one namespace): crash loops, pending pods,
    /// quota refusals, failed jobs, services without endpoints, autoscalers at their maximum,
    /// quota pressure ([`hxb_ai::analyze`]).
    pub async fn analyze(&self, namespace: Option<&str>) -> Result<Vec<Finding>> {
        self.telemetry()
            .observe("analyze", async {
                let snapshot = Snapshot::collect(&self.cluster()?, namespace).await?;
                Ok(analyze::analyze(&snapshot))
            })
            .await
    }
}

/// The HPA decision for `req` at `now` (pure).
fn replica_recommendation(req: &ReplicaRequest, now: Timestamp) -> Result<ReplicaRecommendation> {
    if req.cpu_usage.is_empty() {
        return Err(Error::invalid("cpu_usage", "at least one pod is needed"));
    }
    if req.cpu_request <= Quantity::ZERO {
        return Err(Error::invalid("cpu_request", "must be positive"));
    }
    let spec = HpaSpec::builder(req.max_replicas)
        .min_replicas(req.min_replicas)
        .metric(MetricSource::cpu_utilization(req.target_cpu_utilization))
        .build()?;
    // Pods started long before `now`, so none is still in its CPU initialization period.
    let started = now
        .checked_sub(Duration::from_secs(3600))
        .map_err(|e| Error::internal(e.to_string()))?;
    let mut requests = ResourceList::new();
    requests.set(ResourceName::new(ResourceName::CPU)?, req.cpu_request)?;
    let pods = (0..req.cpu_usage.len())
        .map(|i| PodInfo::running(format!("pod-{i}"), started, requests.clone()))
        .collect();
    let samples = req
        .cpu_usage
        .iter()
        .enumerate()
        .map(|(i, &value)| PodMetricSample {
            pod: format!("pod-{i}"),
            value,
            timestamp: now,
            window: Duration::from_secs(60),
        })
        .collect();
    let obs = Observation {
        spec_replicas: req.current_replicas,
        status_replicas: req.current_replicas,
        pods,
        metrics: vec![MetricValues::PerPod(samples)],
    };
    let out = hpa::recommend(
        &spec,
        &ControllerConfig::default(),
        &obs,
        &HpaState::default(),
        now,
    )?;
    Ok(ReplicaRecommendation {
        desired_replicas: out.desired_replicas,
        rescale: out.rescale,
        reason: out.reason,
        conditions: out
            .conditions
            .iter()
            .map(|c| {
                let status = if c.status { "True" } else { "False" };
                format!("{:?}={status}: {:?}: {}", c.type_, c.reason, c.message)
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(usage: &[f64]) -> ReplicaRequest {
        ReplicaRequest {
            current_replicas: usage.len() as i32,
            min_replicas: 1,
            max_replicas: 10,
            target_cpu_utilization: 50,
            cpu_usage: usage.to_vec(),
            cpu_request: "500m".parse().unwrap(),
        }
    }

    fn now() -> Timestamp {
        Timestamp::from_second(1_000_000).unwrap()
    }

    #[test]
    fn scales_by_the_utilization_ratio() {
        // 0.4 + 0.4 + 0.4 cores of 3 × 0.5 requested: 80 % against 50 % → ceil(3 × 1.6) = 5.
        let r = replica_recommendation(&req(&[0.4, 0.4, 0.4]), now()).unwrap();
        assert_eq!(r.desired_replicas, 5);
        assert!(r.rescale);
        assert!(!r.conditions.is_empty());
    }

    #[test]
    fn within_tolerance_keeps_the_count() {
        // 52 % against 50 %: ratio 1.04 is inside the 10 % tolerance.
        let r = replica_recommendation(&req(&[0.26, 0.26]), now()).unwrap();
        assert_eq!(r.desired_replicas, 2);
        assert!(!r.rescale);
    }

    #[test]
    fn bad_input_is_invalid() {
        for bad in [
            req(&[]),
            req(&[f64::NAN]),
            req(&[-1.0]),
            ReplicaRequest {
                cpu_request: "0".parse().unwrap(),
                ..req(&[0.1])
            },
            ReplicaRequest {
                min_replicas: 5,
                max_replicas: 2,
                ..req(&[0.1])
            },
        ] {
            let e = replica_recommendation(&bad, now()).unwrap_err();
            assert_eq!(e.kind(), hxb_core::ErrorKind::InvalidInput, "{bad:?}");
        }
    }
}
