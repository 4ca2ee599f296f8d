//! Workspaces.

use crate::ResourceList;
use crate::core::Workspace;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{MethodRouter, delete as del, get as get_, post};
use serde::Deserialize;

use super::{ApiState, Cascade, authorize};
use crate::api::authz::{Action, Target, is_allowed};
use crate::api::error::ApiError;
use crate::api::extract::{Body, Params};
use crate::api::identity::Caller;

type Res<T> = Result<T, ApiError>;

/// Body of `createWorkspace`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NewWorkspace {
    name: String,
    #[serde(default)]
    plan: Option<String>,
    #[serde(default)]
    #[schemars(with = "Option<std::collections::BTreeMap<String, String>>")]
    quota: Option<ResourceList>,
}

pub(super) fn list() -> MethodRouter<ApiState> {
    get_(
        async |State(s): State<ApiState>,
               Caller(id): Caller,
               Path(org): Path<String>|
               -> Res<Json<Vec<Workspace>>> {
            let ms = authorize(
                &s.tenancy,
                &id,
                Action::Read,
                &Target::Organization { org: &org },
            )
            .await?;
            let all = s.tenancy.workspaces(&org).await?;
            Ok(Json(
                all.into_iter()
                    .filter(|w| {
                        is_allowed(
                            &ms,
                            &id,
                            Action::Read,
                            &Target::Workspace {
                                org: &org,
                                ws: w.name.as_str(),
                            },
                        )
                    })
                    .collect(),
            ))
        },
    )
}

pub(super) fn create() -> MethodRouter<ApiState> {
    post(
        async |State(s): State<ApiState>,
               Caller(id): Caller,
               Path(org): Path<String>,
               Body(b): Body<NewWorkspace>|
               -> Res<(StatusCode, Json<Workspace>)> {
            authorize(
                &s.tenancy,
                &id,
                Action::Manage,
                &Target::Organization { org: &org },
            )
            .await?;
            let mut op = s.tenancy.create_workspace(&org, &b.name).actor(&id.subject);
            if let Some(p) = &b.plan {
                op = op.plan(p);
            }
            if let Some(q) = b.quota {
                op = op.quota(q);
            }
            Ok((StatusCode::CREATED, Json(op.execute().await?)))
        },
    )
}

pub(super) fn get() -> MethodRouter<ApiState> {
    get_(
        async |State(s): State<ApiState>,
               Caller(id): Caller,
               Path((org, ws)): Path<(String, String)>|
               -> Res<Json<Workspace>> {
            authorize(
                &s.tenancy,
                &id,
                Action::Read,
                &Target::Workspace { org: &org, ws: &ws },
            )
            .await?;
            Ok(Json(s.tenancy.workspace(&org, &ws).await?))
        },
    )
}

pub(super) fn delete() -> MethodRouter<ApiState> {
    del(
        async |State(s): State<ApiState>,
               Caller(id): Caller,
               Path((org, ws)): Path<(String, String)>,
               Params(q): Params<Cascade>|
               -> Res<StatusCode> {
            authorize(
                &s.tenancy,
                &id,
                Action::Manage,
                &Target::Organization { org: &org },
            )
            .await?;
            s.tenancy
                .delete_workspace(&org, &ws)
                .cascade(q.cascade)
                .actor(&id.subject)
                .execute()
                .await?;
            Ok(StatusCode::NO_CONTENT)
        },
    )
}

/// What the workspace uses now: the sum over its projects' namespaces (each project, nested
/// ones included, counts its own namespace once) and the workspace quota beside it.
#[derive(Debug, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub(super) struct WorkspaceUsage {
    #[schemars(with = "std::collections::BTreeMap<String, String>")]
    quota: ResourceList,
    #[schemars(with = "std::collections::BTreeMap<String, String>")]
    used: ResourceList,
}

pub(super) fn usage() -> MethodRouter<ApiState> {
    get_(
        async |State(s): State<ApiState>,
               Caller(id): Caller,
               Path((org, ws)): Path<(String, String)>|
               -> Res<Json<WorkspaceUsage>> {
            authorize(
                &s.tenancy,
                &id,
                Action::Read,
                &Target::Workspace { org: &org, ws: &ws },
            )
            .await?;
            let w = s.tenancy.workspace(&org, &ws).await?;
            let mut used = ResourceList::new();
            for p in s.tenancy.projects(&org, &ws).await? {
                used = used.checked_add(&s.tenancy.live_usage(&p.namespace).await?)?;
            }
            Ok(Json(WorkspaceUsage {
                quota: w.quota,
                used,
            }))
        },
    )
}
