//! Monitoring, scaling and AI operations of a workspace: alerts, health, incidents, replica
//! recommendations, forecasts, anomaly scores and cluster analysis.

use axum::Json;
use axum::extract::{Path, State};
use axum::routing::{MethodRouter, get, post};
use hxb_ai::analyze::Finding;
use hxb_ai::incidents::Incident;
use hxb_core::metrics::alerts::{Alert, HealthSummary};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::projects::on_project;
use super::{ApiState, authorize, within};
use crate::api::authz::{Action, Target};
use crate::api::error::ApiError;
use crate::api::extract::Body;
use crate::api::identity::Caller;
use crate::scaling::{ReplicaRecommendation, ReplicaRequest};

type Res<T> = Result<T, ApiError>;
type P2 = Path<(String, String)>;

/// Longest forecast horizon accepted (points).
pub const MAX_HORIZON: usize = 10_000;

/// Body of `forecast`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ForecastRequest {
    /// The series so far (finite, non-negative, at least one season long).
    history: Vec<f64>,
    /// How many points to forecast (at most 10 000).
    horizon: usize,
    /// Season length in points (24 for hourly data with a daily cycle).
    season: usize,
}

/// Answer of `forecast`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub(super) struct ForecastResponse {
    /// The next `horizon` points.
    forecast: Vec<f64>,
}

/// One point of a series.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Point {
    /// Unix time in milliseconds (strictly increasing).
    t: i64,
    /// The value (finite).
    value: f64,
}

/// Body of `detectAnomalies`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct AnomalyRequest {
    /// The series.
    points: Vec<Point>,
}

/// Answer of `detectAnomalies`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub(super) struct AnomalyResponse {
    /// One score in [0, 1] per point; 0.5 reads as a one-in-10⁵ event.
    scores: Vec<f64>,
}

/// Body of `acknowledgeAlert`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Acknowledge {
    /// The alert's id (as listed).
    id: String,
}

/// An alert with its id (what `acknowledgeAlert` takes).
#[derive(Debug, Serialize)]
pub(super) struct AlertView {
    /// Stable id: `scope/rule{labels}`.
    id: String,
    #[serde(flatten)]
    alert: Alert,
}

impl From<Alert> for AlertView {
    fn from(alert: Alert) -> Self {
        AlertView {
            id: alert.id(),
            alert,
        }
    }
}

fn ws_target<'a>(org: &'a str, ws: &'a str) -> Target<'a> {
    Target::Workspace { org, ws }
}

pub(super) fn recommend() -> MethodRouter<ApiState> {
    post(
        async |State(s): State<ApiState>,
               Caller(id): Caller,
               Path((org, ws)): P2,
               Body(req): Body<ReplicaRequest>|
               -> Res<Json<ReplicaRecommendation>> {
            authorize(&s.tenancy, &id, Action::Read, &ws_target(&org, &ws)).await?;
            Ok(Json(s.engine.recommend_replicas(&req)?))
        },
    )
}

pub(super) fn forecast() -> MethodRouter<ApiState> {
    post(
        async |State(s): State<ApiState>,
               Caller(id): Caller,
               Path((org, ws)): P2,
               Body(req): Body<ForecastRequest>|
               -> Res<Json<ForecastResponse>> {
            authorize(&s.tenancy, &id, Action::Read, &ws_target(&org, &ws)).await?;
            if req.horizon > MAX_HORIZON {
                return Err(
                    crate::Error::invalid("horizon", format!("at most {MAX_HORIZON}")).into(),
                );
            }
            let forecast = s.engine.forecast(&req.history, req.horizon, req.season)?;
            Ok(Json(ForecastResponse { forecast }))
        },
    )
}

pub(super) fn anomalies() -> MethodRouter<ApiState> {
    post(
        async |State(s): State<ApiState>,
               Caller(id): Caller,
               Path((org, ws)): P2,
               Body(req): Body<AnomalyRequest>|
               -> Res<Json<AnomalyResponse>> {
            authorize(&s.tenancy, &id, Action::Read, &ws_target(&org, &ws)).await?;
            let points: Vec<(i64, f64)> = req.points.iter().map(|p| (p.t, p.value)).collect();
            let scores = s.engine.detect_anomalies(&points)?;
            Ok(Json(AnomalyResponse { scores }))
        },
    )
}

pub(super) fn analysis() -> MethodRouter<ApiState> {
    get(
        async |State(s): State<ApiState>,
               Caller(id): Caller,
               Path((org, ws, p)): Path<(String, String, String)>|
               -> Res<Json<Vec<Finding>>> {
            on_project(&s, &id, Action::Read, &org, &ws, &p).await?;
            let project = s.tenancy.project(&org, &ws, &p).await?;
            Ok(Json(s.engine.analyze(Some(&project.namespace)).await?))
        },
    )
}

pub(super) fn alerts() -> MethodRouter<ApiState> {
    get(
        async |State(s): State<ApiState>,
               Caller(id): Caller,
               Path((org, ws)): P2|
               -> Res<Json<Vec<AlertView>>> {
            authorize(&s.tenancy, &id, Action::Read, &ws_target(&org, &ws)).await?;
            let scope = format!("{org}/{ws}");
            let all = s.engine.alerts().await?;
            Ok(Json(
                all.into_iter()
                    .filter(|a| within(&a.scope, &scope))
                    .map(AlertView::from)
                    .collect(),
            ))
        },
    )
}

pub(super) fn acknowledge() -> MethodRouter<ApiState> {
    post(
        async |State(s): State<ApiState>,
               Caller(id): Caller,
               Path((org, ws)): P2,
               Body(b): Body<Acknowledge>|
               -> Res<Json<AlertView>> {
            authorize(&s.tenancy, &id, Action::Operate, &ws_target(&org, &ws)).await?;
            // An alert of another workspace is "not found" here, whether it exists or not.
            let scope = format!("{org}/{ws}");
            let known = s.engine.alerts().await?;
            if !known
                .iter()
                .any(|a| a.id() == b.id && within(&a.scope, &scope))
            {
                return Err(crate::Error::not_found("alert", b.id).into());
            }
            let alert = s.engine.acknowledge_alert(&b.id, &id.subject).await?;
            Ok(Json(alert.into()))
        },
    )
}

pub(super) fn health() -> MethodRouter<ApiState> {
    get(
        async |State(s): State<ApiState>,
               Caller(id): Caller,
               Path((org, ws)): P2|
               -> Res<Json<HealthSummary>> {
            authorize(&s.tenancy, &id, Action::Read, &ws_target(&org, &ws)).await?;
            Ok(Json(s.engine.health(&format!("{org}/{ws}")).await?))
        },
    )
}

pub(super) fn incidents() -> MethodRouter<ApiState> {
    get(
        async |State(s): State<ApiState>,
               Caller(id): Caller,
               Path((org, ws)): P2|
               -> Res<Json<Vec<Incident>>> {
            authorize(&s.tenancy, &id, Action::Read, &ws_target(&org, &ws)).await?;
            let scope = format!("{org}/{ws}");
            Ok(Json(
                s.engine
                    .incidents()?
                    .into_iter()
                    .filter(|i| within(&i.scope, &scope))
                    .collect(),
            ))
        },
    )
}
