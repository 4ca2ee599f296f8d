//! LimitRange (type `Container`): defaulting and min/max validation of pod containers, as
//! the API server's LimitRanger admission plugin does.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, LimitRange, LimitRangeItem, ResourceRequirements};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;

use super::json;
use crate::cluster::DynamicObject;
use crate::error::{Error, Result};
use crate::quantity::Quantity;

type Map = BTreeMap<String, K8sQuantity>;

/// Validate a LimitRange before it is stored: every quantity must parse.
pub(crate) fn validate_limit_range(obj: &DynamicObject) -> Result<()> {
    let lr: LimitRange = json::to_typed(obj, "LimitRange")?;
    for item in lr.spec.iter().flat_map(|s| s.limits.iter()) {
        for m in [
            &item.default,
            &item.default_request,
            &item.max,
            &item.min,
            &item.max_limit_request_ratio,
        ]
        .into_iter()
        .flatten()
        {
            for (k, v) in m {
                Quantity::parse_non_negative(&v.0).map_err(|e| {
                    Error::invalid(format!("spec.limits[{}].{k}", item.type_), e.to_string())
                })?;
            }
        }
    }
    Ok(())
}

/// The API's defaults of a `Container` item: `default` from `max`, `defaultRequest` from
/// `default`, then from `min`.
fn effective(item: &LimitRangeItem) -> (Map, Map) {
    let mut default = item.default.clone().unwrap_or_default();
    let mut default_request = item.default_request.clone().unwrap_or_default();
    for (k, v) in item.max.iter().flatten() {
        default.entry(k.clone()).or_insert_with(|| v.clone());
    }
    for (k, v) in default.iter().chain(item.min.iter().flatten()) {
        default_request
            .entry(k.clone())
            .or_insert_with(|| v.clone());
    }
    (default, default_request)
}

fn q(v: &K8sQuantity) -> Result<Quantity> {
    Ok(Quantity::parse_non_negative(&v.0)?)
}

/// Pod defaulting done before admission: a container limit with no request makes the request
/// equal to the limit.
pub(crate) fn default_requests_from_limits(c: &mut Container) {
    let Some(r) = c.resources.as_mut() else {
        return;
    };
    let Some(limits) = r.limits.clone() else {
        return;
    };
    let requests = r.requests.get_or_insert_default();
    for (k, v) in limits {
        requests.entry(k).or_insert(v);
    }
}

fn default_container(c: &mut Container, default: &Map, default_request: &Map) {
    let r = c
        .resources
        .get_or_insert_with(ResourceRequirements::default);
    if !default.is_empty() {
        let limits = r.limits.get_or_insert_default();
        for (k, v) in default {
            limits.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    if !default_request.is_empty() {
        let requests = r.requests.get_or_insert_default();
        for (k, v) in default_request {
            requests.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
}

fn check_container(c: &Container, item: &LimitRangeItem, errors: &mut Vec<String>) -> Result<()> {
    let empty = Map::new();
    let r = c.resources.as_ref();
    let requests = r.and_then(|r| r.requests.as_ref()).unwrap_or(&empty);
    let limits = r.and_then(|r| r.limits.as_ref()).unwrap_or(&empty);
    for (k, min) in item.min.iter().flatten() {
        let min_q = q(min)?;
        match requests.get(k) {
            None => errors.push(format!(
                "minimum {k} usage per Container is {}.  No request is specified",
                min.0
            )),
            Some(v) if q(v)? < min_q => errors.push(format!(
                "minimum {k} usage per Container is {}, but request is {}",
                min.0, v.0
            )),
            _ => {}
        }
        if let Some(v) = limits.get(k)
            && q(v)? < min_q
        {
            errors.push(format!(
                "minimum {k} usage per Container is {}, but limit is {}",
                min.0, v.0
            ));
        }
    }
    for (k, max) in item.max.iter().flatten() {
        let max_q = q(max)?;
        match limits.get(k) {
            None => errors.push(format!(
                "maximum {k} usage per Container is {}.  No limit is specified",
                max.0
            )),
            Some(v) if q(v)? > max_q => errors.push(format!(
                "maximum {k} usage per Container is {}, but limit is {}",
                max.0, v.0
            )),
            _ => {}
        }
    }
    for (k, ratio) in item.max_limit_request_ratio.iter().flatten() {
        if let (Some(l), Some(r)) = (limits.get(k), requests.get(k)) {
            let (l, r, ratio) = (q(l)?, q(r)?, q(ratio)?);
            if !r.is_zero() && l.as_f64() / r.as_f64() > ratio.as_f64() {
                errors.push(format!(
                    "{k} max limit to request ratio per Container is {ratio}, but provided ratio is {:.6}",
                    l.as_f64() / r.as_f64()
                ));
            }
        }
    }
    Ok(())
}

/// Apply the `Container` items of `ranges` to every container of a pod: defaults first,
/// then min/max/ratio checks. A violation is `Forbidden`, like the API server's 403.
pub(crate) fn admit_containers(
    pod_name: &str,
    containers: &mut [&mut Container],
    ranges: &[LimitRange],
) -> Result<()> {
    let items: Vec<&LimitRangeItem> = ranges
        .iter()
        .flat_map(|lr| lr.spec.iter().flat_map(|s| s.limits.iter()))
        .filter(|i| i.type_ == "Container")
        .collect();
    if items.is_empty() {
        return Ok(());
    }
    for item in &items {
        let (default, default_request) = effective(item);
        for c in containers.iter_mut() {
            default_container(c, &default, &default_request);
        }
    }
    let mut errors = Vec::new();
    for item in &items {
        for c in containers.iter() {
            check_container(c, item, &mut errors)?;
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::forbidden(format!(
            "pods \"{pod_name}\" is forbidden: [{}]",
            errors.join(", ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lr(item: serde_json::Value) -> LimitRange {
        serde_json::from_value(json!({"metadata": {"name": "lr"}, "spec": {"limits": [item]}}))
            .unwrap()
    }

    fn container(res: serde_json::Value) -> Container {
        serde_json::from_value(json!({"name": "c", "resources": res})).unwrap()
    }

    #[test]
    fn defaults_fill_missing_requests_and_limits() {
        let ranges = [lr(
            json!({"type": "Container", "default": {"cpu": "500m", "memory": "256Mi"}, "defaultRequest": {"cpu": "100m"}}),
        )];
        let mut c = container(json!({}));
        admit_containers("p", &mut [&mut c], &ranges).unwrap();
        let r = c.resources.unwrap();
        assert_eq!(r.limits.unwrap()["cpu"].0, "500m");
        let req = r.requests.unwrap();
        assert_eq!(req["cpu"].0, "100m");
        // defaultRequest for memory defaults to the default limit
        assert_eq!(req["memory"].0, "256Mi");
    }

    #[test]
    fn request_defaults_to_limit() {
        let mut c = container(json!({"limits": {"cpu": "2"}}));
        default_requests_from_limits(&mut c);
        assert_eq!(c.resources.unwrap().requests.unwrap()["cpu"].0, "2");
    }

    #[test]
    fn max_and_min_are_enforced() {
        let ranges = [lr(
            json!({"type": "Container", "max": {"cpu": "1"}, "min": {"cpu": "100m"}}),
        )];
        let mut big = container(json!({"limits": {"cpu": "2"}, "requests": {"cpu": "2"}}));
        let e = admit_containers("p", &mut [&mut big], &ranges).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Forbidden);
        assert!(
            e.to_string()
                .contains("maximum cpu usage per Container is 1, but limit is 2"),
            "{e}"
        );
        let mut small = container(json!({"limits": {"cpu": "50m"}, "requests": {"cpu": "50m"}}));
        let e = admit_containers("p", &mut [&mut small], &ranges).unwrap_err();
        assert!(
            e.to_string()
                .contains("minimum cpu usage per Container is 100m, but request is 50m"),
            "{e}"
        );
        // no limit given: defaulted from max, so it passes
        let mut none = container(json!({}));
        admit_containers("p", &mut [&mut none], &ranges).unwrap();
        assert_eq!(none.resources.unwrap().limits.unwrap()["cpu"].0, "1");
    }
}
