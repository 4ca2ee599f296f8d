//! Plain-data forms of the platform operations the bindings expose: tenancy (organization,
//! workspace, project, application with the builders' common arguments), replica
//! recommendations, forecasting, anomaly detection and cluster analysis.
//!
//! Stored entities and findings come back as JSON values (every binding converts JSON);
//! numeric series stay numeric.

use std::collections::BTreeMap;

use hxb::scaling::{ReplicaRecommendation, ReplicaRequest};
use hxb::{Engine, Error, Quantity, Result};
use serde_json::Value;

use crate::ops::resource_list;

/// `v` as a JSON value (a serialization failure is an `internal` error).
pub(crate) fn json<T: serde::Serialize>(v: T) -> Result<Value> {
    serde_json::to_value(v).map_err(|e| Error::internal(e.to_string()))
}

/// Create an organization (`plan` default: the tenancy engine's default plan).
pub async fn create_organization(
    engine: &Engine,
    name: &str,
    plan: Option<&str>,
    display_name: Option<&str>,
) -> Result<Value> {
    let t = engine.tenancy()?;
    let mut b = t.create_organization(name);
    if let Some(p) = plan {
        b = b.plan(p);
    }
    if let Some(d) = display_name {
        b = b.display_name(d);
    }
    json(b.execute().await?)
}

/// Create a workspace in an organization (`plan` default: the organization's).
pub async fn create_workspace(
    engine: &Engine,
    org: &str,
    name: &str,
    plan: Option<&str>,
) -> Result<Value> {
    let t = engine.tenancy()?;
    let mut b = t.create_workspace(org, name);
    if let Some(p) = plan {
        b = b.plan(p);
    }
    json(b.execute().await?)
}

/// Create a project (a namespace `org-ws-name`) in a workspace.
pub async fn create_project(engine: &Engine, org: &str, ws: &str, name: &str) -> Result<Value> {
    json(
        engine
            .tenancy()?
            .create_project(org, ws, name)
            .execute()
            .await?,
    )
}

/// Where an application goes and what it runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppOptions {
    /// Replica count (default 1).
    pub replicas: Option<i32>,
    /// Container port to expose through a Service.
    pub port: Option<i32>,
    /// Requests per pod, `{resource: quantity}` (e.g. `{"cpu": "250m"}`).
    pub requests: BTreeMap<String, String>,
    /// A stateful application (a StatefulSet) with a volume of this size per replica.
    pub storage: Option<String>,
    /// A cron job on this schedule (e.g. `"*/5 * * * *"`).
    pub schedule: Option<String>,
}

/// Deploy an application of `image` in project `org/ws/project`, quota-checked: stateless (a
/// Deployment) by default, stateful with `opts.storage`, a cron job with `opts.schedule`.
pub async fn create_app(
    engine: &Engine,
    at: [&str; 4],
    image: &str,
    opts: AppOptions,
) -> Result<Value> {
    let [org, ws, project, name] = at;
    let t = engine.tenancy()?;
    let b = t.create_app(org, ws, project, name);
    let mut b = match (&opts.storage, &opts.schedule) {
        (None, None) => b.stateless(image),
        (Some(size), None) => b.stateful(image, Quantity::parse(size)?),
        (None, Some(schedule)) => b.cron_job(image, schedule),
        (Some(_), Some(_)) => {
            return Err(Error::invalid(
                "schedule",
                "an application is stateful (storage) or a cron job (schedule), not both",
            ));
        }
    };
    if let Some(n) = opts.replicas {
        b = b.replicas(n);
    }
    if let Some(p) = opts.port {
        b = b.port(p);
    }
    if !opts.requests.is_empty() {
        b = b.requests(resource_list(&opts.requests)?);
    }
    json(b.execute().await?)
}

/// [`Engine::recommend_replicas`] with the request quantity as text.
pub fn recommend_replicas(
    engine: &Engine,
    replicas: (i32, i32, i32),
    target_cpu_utilization: i32,
    cpu_usage: Vec<f64>,
    cpu_request: &str,
) -> Result<ReplicaRecommendation> {
    let (current_replicas, min_replicas, max_replicas) = replicas;
    engine.recommend_replicas(&ReplicaRequest {
        current_replicas,
        min_replicas,
        max_replicas,
        target_cpu_utilization,
        cpu_usage,
        cpu_request: Quantity::parse(cpu_request)?,
    })
}

/// [`Engine::detect_anomalies`] over parallel arrays of timestamps (ms) and values; with
/// `range` (the `(min, max)` the values are expected to stay in),
/// [`Engine::detect_anomalies_in_range`].
pub fn detect_anomalies(
    engine: &Engine,
    timestamps: &[i64],
    values: &[f64],
    range: Option<(f64, f64)>,
) -> Result<Vec<f64>> {
    if timestamps.len() != values.len() {
        return Err(Error::invalid(
            "values",
            format!(
                "{} values for {} timestamps",
                values.len(),
                timestamps.len()
            ),
        ));
    }
    let points: Vec<(i64, f64)> = timestamps
        .iter()
        .copied()
        .zip(values.iter().copied())
        .collect();
    match range {
        None => engine.detect_anomalies(&points),
        Some((min, max)) => engine.detect_anomalies_in_range(&points, min, max),
    }
}

/// [`Engine::analyze`] with each finding as JSON.
pub async fn analyze(engine: &Engine, namespace: Option<&str>) -> Result<Vec<Value>> {
    engine
        .analyze(namespace)
        .await?
        .into_iter()
        .map(json)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_story_over_plain_data() {
        let e = Engine::embedded().unwrap();
        let org = create_organization(&e, "acme", Some("starter"), Some("Acme"))
            .await
            .unwrap();
        assert_eq!(org["name"], "acme");
        create_workspace(&e, "acme", "dev", None).await.unwrap();
        let p = create_project(&e, "acme", "dev", "web").await.unwrap();
        assert_eq!(p["namespace"], "acme-dev-web");
        let opts = AppOptions {
            replicas: Some(2),
            requests: [("cpu".to_owned(), "100m".to_owned())].into(),
            ..AppOptions::default()
        };
        let app = create_app(&e, ["acme", "dev", "web", "api"], "nginx", opts)
            .await
            .unwrap();
        assert_eq!(app["replicas"], 2);
        let rec = recommend_replicas(&e, (2, 1, 5), 50, vec![0.1, 0.1], "100m").unwrap();
        assert_eq!(rec.desired_replicas, 4);
        let bad = recommend_replicas(&e, (2, 1, 5), 50, vec![0.1], "lots").unwrap_err();
        assert_eq!(bad.kind(), hxb::ErrorKind::InvalidInput);
        let err = detect_anomalies(&e, &[1, 2], &[1.0], None).unwrap_err();
        assert_eq!(err.kind(), hxb::ErrorKind::InvalidInput);
        assert_eq!(
            detect_anomalies(&e, &[1, 2], &[1.0, 1.0], None)
                .unwrap()
                .len(),
            2
        );
        let hinted = detect_anomalies(&e, &[1, 2], &[1.0, 1.0], Some((0.0, 2.0))).unwrap();
        assert_eq!(hinted.len(), 2);
        let err = detect_anomalies(&e, &[1, 2], &[1.0, 1.0], Some((2.0, 2.0))).unwrap_err();
        assert_eq!(err.kind(), hxb::ErrorKind::InvalidInput);
        assert!(analyze(&e, Some("acme-dev-web")).await.is_ok());
    }
}
