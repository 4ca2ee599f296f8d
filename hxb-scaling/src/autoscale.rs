//! The acting autoscaler: one pass over the cluster's `HorizontalPodAutoscaler` objects that
//! reads each target (Deployment or StatefulSet), its pods and their metrics, decides with
//! [`hpa::recommend`], scales through the [`ClusterBackend`] and
//! writes the HPA status — what kube-controller-manager's HPA controller does once per sync
//! period. The caller drives it (one call per period) and owns the [`AutoscalerMemory`].
//!
//! Metrics come from a [`MetricsSource`] by instant queries built from [`MetricQueries`]
//! templates; per-pod series carry a `pod` label.
//!
//! ```no_run
//! # async fn demo(cluster: std::sync::Arc<dyn hxb_core::ClusterBackend>,
//! #               metrics: std::sync::Arc<dyn hxb_core::MetricsSource>) -> hxb_core::Result<()> {
//! use hxb_scaling::autoscale::{AutoscaleConfig, AutoscalerMemory, autoscale_tick};
//! let mut memory = AutoscalerMemory::default();
//! let reports = autoscale_tick(cluster, metrics, &mut memory, &AutoscaleConfig::default(),
//!     hxb_core::Timestamp::now()).await?;
//! for r in reports { println!("{}: {:?}", r.hpa, r.result.map(|o| o.desired_replicas)); }
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use hxb_core::cluster::{Api, ListOptions};
use hxb_core::{ClusterBackend, Error, MetricsSource, ResourceList, Result, Selector, Timestamp};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::autoscaling::v2::{
    ContainerResourceMetricStatus, ExternalMetricStatus, HorizontalPodAutoscaler,
    HorizontalPodAutoscalerCondition, HorizontalPodAutoscalerStatus, MetricSpec, MetricStatus,
    MetricValueStatus, ObjectMetricStatus, PodsMetricStatus, ResourceMetricStatus,
};
use k8s_openapi::api::core::v1::{Container, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, Time};

use crate::hpa::{
    self, ControllerConfig, HpaSpec, HpaState, MetricSource, MetricValues, Observation, Outcome,
    PodInfo, PodMetricSample, PodPhase, ReadyCondition,
};

/// Query templates. `{namespace}`, `{resource}`, `{container}`, `{metric}` and `{object}`
/// (`kind/name`) are substituted, and the metric's `selector.matchLabels` as `{matchers}`
/// (`,k="v"…`, to extend a matcher list) or `{selector}` (`{k="v",…}`, empty without labels).
/// `matchExpressions` are not translated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricQueries {
    /// Per-pod usage of a resource (cpu in cores, memory in bytes), one series per `pod`.
    pub resource: String,
    /// Per-pod usage of a resource by one container, one series per `pod`.
    pub container_resource: String,
    /// A per-pod custom metric, one series per `pod`.
    pub pods: String,
    /// An object metric: one series.
    pub object: String,
    /// An external metric: every series is summed.
    pub external: String,
}

impl Default for MetricQueries {
    fn default() -> Self {
        MetricQueries {
            resource: r#"pod_{resource}_usage{namespace="{namespace}"}"#.into(),
            container_resource:
                r#"container_{resource}_usage{namespace="{namespace}",container="{container}"}"#
                    .into(),
            pods: r#"{metric}{namespace="{namespace}"{matchers}}"#.into(),
            object: r#"{metric}{namespace="{namespace}",object="{object}"{matchers}}"#.into(),
            external: "{metric}{selector}".into(),
        }
    }
}

/// Settings of the acting loop.
#[derive(Debug, Clone, PartialEq)]
pub struct AutoscaleConfig {
    /// Controller settings (tolerance, cpu initialization, stabilization).
    pub controller: ControllerConfig,
    /// How metrics are queried.
    pub queries: MetricQueries,
    /// Only this namespace; `None` for all.
    pub namespace: Option<String>,
    /// The window a per-pod sample covers (the metrics pipeline's resolution).
    pub metric_window: Duration,
}

impl Default for AutoscaleConfig {
    fn default() -> Self {
        AutoscaleConfig {
            controller: ControllerConfig::default(),
            queries: MetricQueries::default(),
            namespace: None,
            metric_window: Duration::from_secs(30),
        }
    }
}

/// What the autoscaler remembers between passes, per HPA (`namespace/name`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AutoscalerMemory {
    states: BTreeMap<String, HpaState>,
}

impl AutoscalerMemory {
    /// The remembered state of one HPA.
    pub fn state(&self, key: &str) -> Option<&HpaState> {
        self.states.get(key)
    }

    /// How many HPAs are remembered.
    pub fn len(&self) -> usize {
        self.states.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }
}

/// The result of one HPA in a pass.
#[derive(Debug)]
pub struct TickReport {
    /// `namespace/name` of the HPA.
    pub hpa: String,
    /// The decision, or why none could be made (bad spec, missing target, backend error).
    pub result: Result<Outcome>,
    /// Whether the target's replica count was changed.
    pub scaled: bool,
    /// Why the HPA status could not be written, if it could not (the decision still stands).
    pub status_error: Option<Error>,
}

/// One autoscaler pass at `now`. Fails only when the HPAs cannot be listed; each HPA's own
/// failure is in its [`TickReport`], and the pass goes on with the next one.
pub async fn autoscale_tick(
    cluster: Arc<dyn ClusterBackend>,
    metrics: Arc<dyn MetricsSource>,
    memory: &mut AutoscalerMemory,
    config: &AutoscaleConfig,
    now: Timestamp,
) -> Result<Vec<TickReport>> {
    let hpas: Api<HorizontalPodAutoscaler> = match &config.namespace {
        Some(ns) => Api::namespaced(cluster.clone(), ns),
        None => Api::all(cluster.clone()),
    };
    let list = hpas.list(&ListOptions::default()).await?;
    let mut seen = BTreeSet::new();
    let mut reports = Vec::with_capacity(list.len());
    for hpa in list {
        let ns = hpa.metadata.namespace.clone().unwrap_or_default();
        let key = format!("{ns}/{}", hpa.metadata.name.as_deref().unwrap_or_default());
        seen.insert(key.clone());
        let state = memory.states.get(&key).cloned().unwrap_or_default();
        let (result, scaled, status_error) =
            match reconcile(&cluster, &metrics, &hpa, &ns, &state, config, now).await {
                Ok((outcome, scaled, status_error)) => {
                    memory
                        .states
                        .insert(key.clone(), outcome.next_state.clone());
                    (Ok(outcome), scaled, status_error)
                }
                Err(e) => (Err(e), false, None),
            };
        reports.push(TickReport {
            hpa: key,
            result,
            scaled,
            status_error,
        });
    }
    // Forget HPAs that are gone (upstream deletes their recommendations and events).
    memory.states.retain(|k, _| {
        seen.contains(k)
            || config
                .namespace
                .as_ref()
                .is_some_and(|ns| !k.starts_with(&format!("{ns}/")))
    });
    Ok(reports)
}

enum Target {
    Deployment(Api<Deployment>, Deployment),
    StatefulSet(Api<StatefulSet>, StatefulSet),
}

impl Target {
    fn replicas(&self) -> (i32, i32, Option<&LabelSelector>) {
        match self {
            Target::Deployment(_, d) => {
                let spec = d.spec.as_ref();
                (
                    spec.and_then(|s| s.replicas).unwrap_or(1),
                    d.status.as_ref().and_then(|s| s.replicas).unwrap_or(0),
                    spec.map(|s| &s.selector),
                )
            }
            Target::StatefulSet(_, s) => {
                let spec = s.spec.as_ref();
                (
                    spec.and_then(|s| s.replicas).unwrap_or(1),
                    s.status.as_ref().map(|s| s.replicas).unwrap_or(0),
                    spec.map(|s| &s.selector),
                )
            }
        }
    }

    async fn scale(self, replicas: i32) -> Result<()> {
        match self {
            Target::Deployment(api, mut d) => {
                d.spec.get_or_insert_with(Default::default).replicas = Some(replicas);
                api.replace(&d).await.map(drop)
            }
            Target::StatefulSet(api, mut s) => {
                s.spec.get_or_insert_with(Default::default).replicas = Some(replicas);
                api.replace(&s).await.map(drop)
            }
        }
    }
}

async fn reconcile(
    cluster: &Arc<dyn ClusterBackend>,
    metrics: &Arc<dyn MetricsSource>,
    hpa: &HorizontalPodAutoscaler,
    ns: &str,
    state: &HpaState,
    config: &AutoscaleConfig,
    now: Timestamp,
) -> Result<(Outcome, bool, Option<Error>)> {
    let k8s_spec = hpa
        .spec
        .as_ref()
        .ok_or_else(|| Error::invalid("spec", "missing"))?;
    let spec = HpaSpec::from_k8s(k8s_spec, &config.controller)?;
    let target_ref = &k8s_spec.scale_target_ref;
    let target = match (target_ref.kind.as_str(), target_ref.api_version.as_deref()) {
        ("Deployment", Some("apps/v1") | None) => {
            let api: Api<Deployment> = Api::namespaced(cluster.clone(), ns);
            let d = api.get(&target_ref.name).await?;
            Target::Deployment(api, d)
        }
        ("StatefulSet", Some("apps/v1") | None) => {
            let api: Api<StatefulSet> = Api::namespaced(cluster.clone(), ns);
            let s = api.get(&target_ref.name).await?;
            Target::StatefulSet(api, s)
        }
        (kind, v) => {
            return Err(Error::invalid(
                "spec.scaleTargetRef",
                format!("unsupported scale target {kind} ({})", v.unwrap_or("")),
            ));
        }
    };
    let (spec_replicas, status_replicas, selector) = target.replicas();
    let selector = Selector::from_label_selector(
        selector.ok_or_else(|| Error::invalid("scaleTargetRef", "the target has no selector"))?,
    )?;
    let pods: Api<Pod> = Api::namespaced(cluster.clone(), ns);
    let pods: Vec<PodInfo> = pods
        .list(&ListOptions::labels(selector))
        .await?
        .iter()
        .map(pod_info)
        .collect();
    let mut values = Vec::with_capacity(spec.metrics().len());
    let k8s_metrics = k8s_spec.metrics.as_deref().unwrap_or_default();
    for (i, m) in spec.metrics().iter().enumerate() {
        let labels = k8s_metrics.get(i).map(match_labels).unwrap_or_default();
        values.push(fetch(metrics.as_ref(), m, ns, &labels, &pods, config, now).await);
    }
    let obs = Observation {
        spec_replicas,
        status_replicas,
        pods,
        metrics: values,
    };
    let outcome = hpa::recommend(&spec, &config.controller, &obs, state, now)?;
    let scaled = outcome.rescale;
    if scaled {
        target.scale(outcome.desired_replicas).await?;
    }
    // As upstream, a failed status update does not undo the decision.
    let status_error = write_status(cluster, hpa, ns, &outcome, now).await.err();
    Ok((outcome, scaled, status_error))
}

fn fill(template: &str, pairs: &[(&str, &str)]) -> String {
    pairs.iter().fold(template.to_owned(), |acc, (k, v)| {
        acc.replace(&format!("{{{k}}}"), v)
    })
}

#[allow(clippy::too_many_arguments)]
async fn fetch(
    metrics: &dyn MetricsSource,
    m: &MetricSource,
    ns: &str,
    labels: &BTreeMap<String, String>,
    pods: &[PodInfo],
    config: &AutoscaleConfig,
    now: Timestamp,
) -> MetricValues {
    let q = &config.queries;
    let matchers: String = labels
        .iter()
        .map(|(k, v)| format!(",{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    let selector = if matchers.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", &matchers[1..])
    };
    let fill = |template: &str, pairs: &[(&str, &str)]| {
        let mut all = pairs.to_vec();
        all.extend([
            ("matchers", matchers.as_str()),
            ("selector", selector.as_str()),
        ]);
        fill(template, &all)
    };
    let query = match m {
        MetricSource::Resource {
            resource,
            container: None,
            ..
        } => fill(&q.resource, &[("namespace", ns), ("resource", resource)]),
        MetricSource::Resource {
            resource,
            container: Some(c),
            ..
        } => fill(
            &q.container_resource,
            &[("namespace", ns), ("resource", resource), ("container", c)],
        ),
        MetricSource::Pods { metric, .. } => {
            fill(&q.pods, &[("namespace", ns), ("metric", metric)])
        }
        MetricSource::Object {
            metric,
            described_object,
            ..
        } => fill(
            &q.object,
            &[
                ("namespace", ns),
                ("metric", metric),
                ("object", described_object),
            ],
        ),
        MetricSource::External { metric, .. } => {
            fill(&q.external, &[("namespace", ns), ("metric", metric)])
        }
    };
    let rows = match metrics.instant(&query, now).await {
        Ok(r) => r,
        Err(e) => return MetricValues::Unavailable(format!("unable to get metric {query}: {e}")),
    };
    match m {
        MetricSource::Resource { .. } | MetricSource::Pods { .. } => {
            let names: BTreeSet<&str> = pods.iter().map(|p| p.name.as_str()).collect();
            let samples: Vec<PodMetricSample> = rows
                .into_iter()
                .filter_map(|(labels, v)| {
                    let pod = labels.get("pod")?;
                    (names.contains(pod.as_str()) && v.is_finite() && v >= 0.0).then(|| {
                        PodMetricSample {
                            pod: pod.clone(),
                            value: v,
                            timestamp: now,
                            window: config.metric_window,
                        }
                    })
                })
                .collect();
            if samples.is_empty() {
                MetricValues::Unavailable(format!("no per-pod series for {query}"))
            } else {
                MetricValues::PerPod(samples)
            }
        }
        MetricSource::Object { .. } => match rows.first() {
            Some((_, v)) if v.is_finite() && *v >= 0.0 => MetricValues::Object(*v),
            _ => MetricValues::Unavailable(format!("no value for {query}")),
        },
        MetricSource::External { .. } => {
            let vals: Vec<f64> = rows
                .into_iter()
                .map(|(_, v)| v)
                .filter(|v| v.is_finite() && *v >= 0.0)
                .collect();
            if vals.is_empty() {
                MetricValues::Unavailable(format!("no series for {query}"))
            } else {
                MetricValues::External(vals)
            }
        }
    }
}

/// Requests of a pod: the sum over its containers and restartable init containers, keeping
/// only resources every one of them requests (upstream fails the metric otherwise).
fn pod_info(p: &Pod) -> PodInfo {
    let spec = p.spec.as_ref();
    let containers: Vec<&Container> = spec
        .map(|s| {
            s.containers
                .iter()
                .chain(
                    s.init_containers
                        .iter()
                        .flatten()
                        .filter(|c| c.restart_policy.as_deref() == Some("Always")),
                )
                .collect()
        })
        .unwrap_or_default();
    let mut container_requests = BTreeMap::new();
    let mut lists = Vec::new();
    for c in &containers {
        let l = c
            .resources
            .as_ref()
            .and_then(|r| r.requests.as_ref())
            .and_then(|r| ResourceList::from_k8s(r).ok());
        let l = l.unwrap_or_default();
        container_requests.insert(c.name.clone(), l.clone());
        lists.push(l);
    }
    let mut requests = ResourceList::checked_sum(&lists).unwrap_or_default();
    let names: Vec<String> = requests.iter().map(|(k, _)| k.to_string()).collect();
    for n in names {
        if lists.iter().any(|l| l.get(&n).is_none()) {
            requests.remove(&n);
        }
    }
    let status = p.status.as_ref();
    let start_time = status.and_then(|s| s.start_time.as_ref()).map(|t| t.0);
    let ready = status
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"))
        .map(|c| ReadyCondition {
            ready: c.status == "True",
            last_transition: c
                .last_transition_time
                .as_ref()
                .map(|t| t.0)
                .or(start_time)
                .unwrap_or_default(),
        });
    let phase = match status.and_then(|s| s.phase.as_deref()) {
        Some("Pending") | None => PodPhase::Pending,
        Some("Running") => PodPhase::Running,
        Some("Succeeded") => PodPhase::Succeeded,
        Some("Failed") => PodPhase::Failed,
        Some(_) => PodPhase::Unknown,
    };
    PodInfo {
        name: p.metadata.name.clone().unwrap_or_default(),
        phase,
        deleting: p.metadata.deletion_timestamp.is_some(),
        start_time,
        ready,
        requests,
        container_requests,
    }
}

async fn write_status(
    cluster: &Arc<dyn ClusterBackend>,
    hpa: &HorizontalPodAutoscaler,
    ns: &str,
    out: &Outcome,
    now: Timestamp,
) -> Result<()> {
    let api: Api<HorizontalPodAutoscaler> = Api::namespaced(cluster.clone(), ns);
    let mut updated = hpa.clone();
    let old = hpa.status.clone().unwrap_or_default();
    let old_conditions = old.conditions.unwrap_or_default();
    let conditions = out
        .conditions
        .iter()
        .map(|c| {
            let status = if c.status { "True" } else { "False" };
            // Keep the transition time while the status does not change (upstream setConditionInList).
            let since = old_conditions
                .iter()
                .find(|o| o.type_ == c.type_.as_str() && o.status == status)
                .and_then(|o| o.last_transition_time.clone())
                .unwrap_or(Time(now));
            HorizontalPodAutoscalerCondition {
                type_: c.type_.as_str().into(),
                status: status.into(),
                reason: Some(c.reason.as_str().into()),
                message: Some(c.message.clone()),
                last_transition_time: Some(since),
            }
        })
        .collect();
    updated.status = Some(HorizontalPodAutoscalerStatus {
        current_replicas: Some(out.current_replicas),
        desired_replicas: out.desired_replicas,
        last_scale_time: if out.rescale {
            Some(Time(now))
        } else {
            old.last_scale_time
        },
        conditions: Some(conditions),
        current_metrics: if out.proposals.is_empty() {
            old.current_metrics
        } else {
            let specs = hpa
                .spec
                .as_ref()
                .and_then(|s| s.metrics.clone())
                .unwrap_or_default();
            Some(metric_statuses(&specs, out))
        },
        observed_generation: hpa.metadata.generation,
    });
    api.replace_status(&updated).await.map(drop)
}

/// `status.currentMetrics` as upstream fills it, for the metrics that produced a proposal.
fn metric_statuses(specs: &[MetricSpec], out: &Outcome) -> Vec<MetricStatus> {
    let q = |milli: i64| Some(hxb_core::Quantity::from_milli(milli).to_k8s());
    specs
        .iter()
        .zip(&out.proposals)
        .filter_map(|(spec, p)| {
            let p = p.result.as_ref().ok()?;
            let mut st = MetricStatus {
                type_: spec.type_.clone(),
                ..Default::default()
            };
            let average = |util: Option<i32>| MetricValueStatus {
                average_utilization: util,
                average_value: q(p.usage_milli),
                value: None,
            };
            let value_or_average = |t: &k8s_openapi::api::autoscaling::v2::MetricTarget| {
                if t.type_ == "Value" {
                    MetricValueStatus {
                        value: q(p.usage_milli),
                        ..Default::default()
                    }
                } else {
                    average(None)
                }
            };
            match spec.type_.as_str() {
                "Resource" => {
                    let r = spec.resource.as_ref()?;
                    st.resource = Some(ResourceMetricStatus {
                        name: r.name.clone(),
                        current: average(p.utilization),
                    });
                }
                "ContainerResource" => {
                    let r = spec.container_resource.as_ref()?;
                    st.container_resource = Some(ContainerResourceMetricStatus {
                        name: r.name.clone(),
                        container: r.container.clone(),
                        current: average(p.utilization),
                    });
                }
                "Pods" => {
                    let m = spec.pods.as_ref()?;
                    st.pods = Some(PodsMetricStatus {
                        metric: m.metric.clone(),
                        current: average(None),
                    });
                }
                "Object" => {
                    let o = spec.object.as_ref()?;
                    st.object = Some(ObjectMetricStatus {
                        described_object: o.described_object.clone(),
                        metric: o.metric.clone(),
                        current: value_or_average(&o.target),
                    });
                }
                "External" => {
                    let e = spec.external.as_ref()?;
                    st.external = Some(ExternalMetricStatus {
                        metric: e.metric.clone(),
                        current: value_or_average(&e.target),
                    });
                }
                _ => return None,
            }
            Some(st)
        })
        .collect()
}

/// `selector.matchLabels` of a metric's identifier.
fn match_labels(m: &MetricSpec) -> BTreeMap<String, String> {
    let id = match m.type_.as_str() {
        "Pods" => m.pods.as_ref().map(|p| &p.metric),
        "Object" => m.object.as_ref().map(|o| &o.metric),
        "External" => m.external.as_ref().map(|e| &e.metric),
        _ => None,
    };
    id.and_then(|i| i.selector.as_ref())
        .and_then(|s| s.match_labels.clone())
        .unwrap_or_default()
}
