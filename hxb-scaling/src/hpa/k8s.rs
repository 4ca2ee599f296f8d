//! Conversion from the `autoscaling/v2` API types, applying the API server's defaulting
//! (`SetDefaults_HorizontalPodAutoscaler`, `GenerateHPAScaleUpRules`,
//! `GenerateHPAScaleDownRules`) and the controller's `maybeInitScaleDownStabilizationWindow`.

use hxb_core::{Error, Quantity, Result};
use k8s_openapi::api::autoscaling::v2 as api;

use super::spec::{
    Behavior, ControllerConfig, HpaSpec, MetricSource, ResourceTarget, ScalingPolicy, ScalingRules,
    SelectPolicy, ValueTarget,
};

impl TryFrom<&api::HorizontalPodAutoscalerSpec> for HpaSpec {
    type Error = Error;

    fn try_from(s: &api::HorizontalPodAutoscalerSpec) -> Result<Self> {
        HpaSpec::from_k8s(s, &ControllerConfig::default())
    }
}

impl TryFrom<&api::HorizontalPodAutoscaler> for HpaSpec {
    type Error = Error;

    fn try_from(h: &api::HorizontalPodAutoscaler) -> Result<Self> {
        let spec = h
            .spec
            .as_ref()
            .ok_or_else(|| Error::invalid("spec", "missing"))?;
        HpaSpec::try_from(spec)
    }
}

impl HpaSpec {
    /// Convert an `autoscaling/v2` spec; an unset scale-down stabilization window takes the
    /// controller's `downscale_stabilization_window`, as upstream does.
    pub fn from_k8s(
        s: &api::HorizontalPodAutoscalerSpec,
        config: &ControllerConfig,
    ) -> Result<Self> {
        let mut b = HpaSpec::builder(s.max_replicas).min_replicas(s.min_replicas.unwrap_or(1));
        for (i, m) in s.metrics.iter().flatten().enumerate() {
            b = b.metric(metric(m, i)?);
        }
        if let Some(beh) = &s.behavior {
            let down_window =
                i32::try_from(config.downscale_stabilization_window.as_secs()).unwrap_or(i32::MAX);
            b = b.behavior(Behavior {
                scale_up: rules(
                    beh.scale_up.as_ref(),
                    ScalingRules::default_scale_up(),
                    None,
                    "scaleUp",
                )?,
                scale_down: rules(
                    beh.scale_down.as_ref(),
                    ScalingRules::default_scale_down(),
                    Some(down_window),
                    "scaleDown",
                )?,
            });
        }
        b.build()
    }
}

fn quantity(
    q: &k8s_openapi::apimachinery::pkg::api::resource::Quantity,
    field: &str,
) -> Result<Quantity> {
    Quantity::try_from(q).map_err(|e| Error::invalid(field, e.to_string()))
}

fn value_target(t: &api::MetricTarget, field: &str) -> Result<ValueTarget> {
    match (t.type_.as_str(), &t.value, &t.average_value) {
        ("Value", Some(v), _) => Ok(ValueTarget::Value(quantity(v, field)?)),
        ("AverageValue", _, Some(v)) => Ok(ValueTarget::AverageValue(quantity(v, field)?)),
        _ => Err(Error::invalid(
            field,
            "neither a value target nor an average value target was set",
        )),
    }
}

fn resource_target(t: &api::MetricTarget, field: &str) -> Result<ResourceTarget> {
    match (t.type_.as_str(), t.average_utilization, &t.average_value) {
        ("Utilization", Some(u), _) => Ok(ResourceTarget::Utilization(u)),
        ("AverageValue", _, Some(v)) => Ok(ResourceTarget::AverageValue(quantity(v, field)?)),
        _ => Err(Error::invalid(
            field,
            "neither an average utilization target nor an average value (usage) target was set",
        )),
    }
}

fn metric(m: &api::MetricSpec, i: usize) -> Result<MetricSource> {
    let field = format!("spec.metrics[{i}]");
    let missing = || {
        Error::invalid(
            format!("{field}.type"),
            format!("{} source missing", m.type_),
        )
    };
    Ok(match m.type_.as_str() {
        "Resource" => {
            let r = m.resource.as_ref().ok_or_else(missing)?;
            MetricSource::Resource {
                resource: r.name.clone(),
                container: None,
                target: resource_target(&r.target, &format!("{field}.resource.target"))?,
            }
        }
        "ContainerResource" => {
            let r = m.container_resource.as_ref().ok_or_else(missing)?;
            MetricSource::Resource {
                resource: r.name.clone(),
                container: Some(r.container.clone()),
                target: resource_target(&r.target, &format!("{field}.containerResource.target"))?,
            }
        }
        "Pods" => {
            let p = m.pods.as_ref().ok_or_else(missing)?;
            let target = p.target.average_value.as_ref().ok_or_else(|| {
                Error::invalid(format!("{field}.pods.target"), "averageValue is required")
            })?;
            MetricSource::Pods {
                metric: p.metric.name.clone(),
                target: quantity(target, &field)?,
            }
        }
        "Object" => {
            let o = m.object.as_ref().ok_or_else(missing)?;
            MetricSource::Object {
                metric: o.metric.name.clone(),
                described_object: format!(
                    "{}/{}",
                    o.described_object.kind, o.described_object.name
                ),
                target: value_target(&o.target, &format!("{field}.object.target"))?,
            }
        }
        "External" => {
            let e = m.external.as_ref().ok_or_else(missing)?;
            MetricSource::External {
                metric: e.metric.name.clone(),
                target: value_target(&e.target, &format!("{field}.external.target"))?,
            }
        }
        other => {
            return Err(Error::invalid(
                format!("{field}.type"),
                format!("unknown metric source type {other:?}"),
            ));
        }
    })
}

fn rules(
    r: Option<&api::HPAScalingRules>,
    default: ScalingRules,
    window: Option<i32>,
    dir: &str,
) -> Result<ScalingRules> {
    let field = format!("spec.behavior.{dir}");
    let Some(r) = r else {
        return Ok(ScalingRules {
            stabilization_window_seconds: window.unwrap_or(default.stabilization_window_seconds),
            ..default
        });
    };
    let select_policy = match r.select_policy.as_deref() {
        None | Some("Max") => SelectPolicy::Max,
        Some("Min") => SelectPolicy::Min,
        Some("Disabled") => SelectPolicy::Disabled,
        Some(o) => {
            return Err(Error::invalid(
                format!("{field}.selectPolicy"),
                format!("unknown value {o:?}"),
            ));
        }
    };
    let policies = match &r.policies {
        None => default.policies,
        Some(ps) => ps
            .iter()
            .enumerate()
            .map(|(i, p)| match p.type_.as_str() {
                "Pods" => Ok(ScalingPolicy::pods(p.value, p.period_seconds)),
                "Percent" => Ok(ScalingPolicy::percent(p.value, p.period_seconds)),
                o => Err(Error::invalid(
                    format!("{field}.policies[{i}].type"),
                    format!("unknown value {o:?}"),
                )),
            })
            .collect::<Result<_>>()?,
    };
    let tolerance = match &r.tolerance {
        None => None,
        Some(q) => Some(quantity(q, &format!("{field}.tolerance"))?.as_f64()),
    };
    Ok(ScalingRules {
        stabilization_window_seconds: r
            .stabilization_window_seconds
            .or(window)
            .unwrap_or(default.stabilization_window_seconds),
        select_policy,
        policies,
        tolerance,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hxb_core::ErrorKind;
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQ;

    fn base() -> api::HorizontalPodAutoscalerSpec {
        api::HorizontalPodAutoscalerSpec {
            max_replicas: 10,
            ..Default::default()
        }
    }

    #[test]
    fn empty_behavior_is_defaulted_like_the_api_server() {
        // GenerateHPAScaleUpRules / GenerateHPAScaleDownRules + maybeInitScaleDownStabilizationWindow.
        let mut s = base();
        s.behavior = Some(api::HorizontalPodAutoscalerBehavior {
            scale_up: Some(api::HPAScalingRules {
                tolerance: Some(K8sQ("0.05".into())),
                ..Default::default()
            }),
            scale_down: None,
        });
        let spec = HpaSpec::try_from(&s).unwrap();
        let b = spec.behavior().unwrap();
        assert_eq!(b.scale_up.stabilization_window_seconds, 0);
        assert_eq!(
            b.scale_up.policies,
            ScalingRules::default_scale_up().policies
        );
        assert_eq!(b.scale_up.tolerance, Some(0.05));
        assert_eq!(b.scale_down, ScalingRules::default_scale_down());
        assert_eq!(spec.metrics(), &[MetricSource::cpu_utilization(80)]);
    }

    #[test]
    fn metrics_convert_with_their_targets() {
        let mut s = base();
        s.min_replicas = Some(2);
        s.metrics = Some(vec![
            api::MetricSpec {
                type_: "Resource".into(),
                resource: Some(api::ResourceMetricSource {
                    name: "memory".into(),
                    target: api::MetricTarget {
                        type_: "AverageValue".into(),
                        average_value: Some(K8sQ("512Mi".into())),
                        ..Default::default()
                    },
                }),
                ..Default::default()
            },
            api::MetricSpec {
                type_: "External".into(),
                external: Some(api::ExternalMetricSource {
                    metric: api::MetricIdentifier {
                        name: "queue".into(),
                        selector: None,
                    },
                    target: api::MetricTarget {
                        type_: "Value".into(),
                        value: Some(K8sQ("30".into())),
                        ..Default::default()
                    },
                }),
                ..Default::default()
            },
        ]);
        let spec = HpaSpec::try_from(&s).unwrap();
        assert_eq!(spec.min_replicas(), 2);
        assert_eq!(
            spec.metrics()[0],
            MetricSource::Resource {
                resource: "memory".into(),
                container: None,
                target: ResourceTarget::AverageValue(Quantity::parse("512Mi").unwrap())
            }
        );
        assert_eq!(
            spec.metrics()[1],
            MetricSource::External {
                metric: "queue".into(),
                target: ValueTarget::Value(Quantity::from_int(30))
            }
        );
    }

    #[test]
    fn invalid_api_objects_are_refused() {
        let mut s = base();
        s.min_replicas = Some(11);
        assert_eq!(
            HpaSpec::try_from(&s).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        let mut s = base();
        s.metrics = Some(vec![api::MetricSpec {
            type_: "Resource".into(),
            ..Default::default()
        }]);
        assert_eq!(
            HpaSpec::try_from(&s).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        let mut s = base();
        s.behavior = Some(api::HorizontalPodAutoscalerBehavior {
            scale_up: Some(api::HPAScalingRules {
                select_policy: Some("Sometimes".into()),
                ..Default::default()
            }),
            scale_down: None,
        });
        assert_eq!(
            HpaSpec::try_from(&s).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }
}
