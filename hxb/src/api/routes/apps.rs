//! Applications of a project: list, deploy (stateless, stateful, cron job), scale, delete.

use crate::tenancy::apps::Application;
use crate::{Quantity, ResourceList};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{MethodRouter, delete as del, get, post};
use serde::Deserialize;

use super::ApiState;
use super::projects::on_project;
use crate::api::authz::Action;
use crate::api::error::ApiError;
use crate::api::extract::Body;
use crate::api::identity::Caller;

type Res<T> = Result<T, ApiError>;

/// Body of `createApplication`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NewApp {
    name: String,
    image: String,
    /// `stateless` (default), `stateful` (with `storage`) or `cron_job` (with `schedule`).
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    storage: Option<String>,
    #[serde(default)]
    schedule: Option<String>,
    #[serde(default)]
    replicas: Option<i32>,
    #[serde(default)]
    port: Option<i32>,
    #[serde(default)]
    #[schemars(with = "Option<std::collections::BTreeMap<String, String>>")]
    requests: Option<ResourceList>,
}

/// Body of `scaleApplication`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Scale {
    replicas: i32,
}

type P3 = Path<(String, String, String)>;
type P4 = Path<(String, String, String, String)>;

pub(super) fn list() -> MethodRouter<ApiState> {
    get(
        async |State(s): State<ApiState>,
               Caller(id): Caller,
               Path((o, w, p)): P3|
               -> Res<Json<Vec<Application>>> {
            on_project(&s, &id, Action::Read, &o, &w, &p).await?;
            Ok(Json(s.tenancy.apps(&o, &w, &p).await?))
        },
    )
}

pub(super) fn create() -> MethodRouter<ApiState> {
    post(
        async |State(s): State<ApiState>,
               Caller(id): Caller,
               Path((o, w, p)): P3,
               Body(b): Body<NewApp>|
               -> Res<(StatusCode, Json<Application>)> {
            on_project(&s, &id, Action::Operate, &o, &w, &p).await?;
            let op = s.tenancy.create_app(&o, &w, &p, &b.name);
            let mut op = match (
                b.kind.as_deref().unwrap_or("stateless"),
                b.storage,
                b.schedule,
            ) {
                ("stateless", None, None) => op.stateless(&b.image),
                ("stateful", Some(st), None) => op.stateful(
                    &b.image,
                    Quantity::parse_non_negative(&st)
                        .map_err(|e| ApiError::invalid(format!("storage: {e}")))?,
                ),
                ("cron_job", None, Some(sc)) => op.cron_job(&b.image, &sc),
                (k, _, _) => {
                    return Err(ApiError::invalid(format!(
                        "kind {k:?}: stateless (no storage, no schedule), stateful (storage) or cron_job (schedule)"
                    )));
                }
            };
            if let Some(r) = b.replicas {
                op = op.replicas(r);
            }
            if let Some(port) = b.port {
                op = op.port(port);
            }
            if let Some(r) = b.requests {
                op = op.requests(r);
            }
            Ok((StatusCode::CREATED, Json(op.execute().await?)))
        },
    )
}

pub(super) fn scale() -> MethodRouter<ApiState> {
    post(
        async |State(s): State<ApiState>,
               Caller(id): Caller,
               Path((o, w, p, a)): P4,
               Body(b): Body<Scale>|
               -> Res<Json<Application>> {
            on_project(&s, &id, Action::Operate, &o, &w, &p).await?;
            Ok(Json(s.tenancy.scale_app(&o, &w, &p, &a, b.replicas).await?))
        },
    )
}

pub(super) fn delete() -> MethodRouter<ApiState> {
    del(
        async |State(s): State<ApiState>,
               Caller(id): Caller,
               Path((o, w, p, a)): P4|
               -> Res<StatusCode> {
            on_project(&s, &id, Action::Operate, &o, &w, &p).await?;
            s.tenancy.delete_app(&o, &w, &p, &a).await?;
            Ok(StatusCode::NO_CONTENT)
        },
    )
}
