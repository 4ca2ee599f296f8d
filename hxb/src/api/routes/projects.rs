//! Projects (nested), and their usage.

use crate::core::Project;
use crate::{ResourceList, Tenancy};
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

/// Body of `createProject`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NewProject {
    name: String,
    #[serde(default)]
    parent: Option<String>,
    #[serde(default)]
    #[schemars(with = "Option<std::collections::BTreeMap<String, String>>")]
    quota: Option<ResourceList>,
}

/// Parent, grand-parent, … of `project` (parent first).
pub(super) async fn ancestors(t: &Tenancy, org: &str, ws: &str, project: &str) -> Res<Vec<String>> {
    Ok(ancestors_in(&t.projects(org, ws).await?, project))
}

/// Parent, grand-parent, … of `project` among `all` (the projects of its workspace).
pub(crate) fn ancestors_in(all: &[Project], project: &str) -> Vec<String> {
    let parent_of = |name: &str| {
        all.iter()
            .find(|p| p.name.as_str() == name)
            .and_then(|p| p.parent.as_ref().map(|n| n.to_string()))
    };
    let mut out = Vec::new();
    let mut cur = parent_of(project);
    while let Some(p) = cur {
        if out.contains(&p) || out.len() > all.len() {
            break;
        }
        cur = parent_of(&p);
        out.push(p);
    }
    out
}

/// Ancestors of `project` when the workspace is readable at all; empty otherwise (so a
/// missing workspace is refused like an unreadable one).
pub(crate) async fn ancestors_or_none(
    t: &Tenancy,
    org: &str,
    ws: &str,
    project: &str,
) -> Res<Vec<String>> {
    match ancestors(t, org, ws, project).await {
        Ok(a) => Ok(a),
        Err(e) if e.status == StatusCode::NOT_FOUND || e.status == StatusCode::BAD_REQUEST => {
            Ok(Vec::new())
        }
        Err(e) => Err(e),
    }
}

pub(super) fn list() -> MethodRouter<ApiState> {
    get_(
        async |State(s): State<ApiState>,
               Caller(id): Caller,
               Path((org, ws)): Path<(String, String)>|
               -> Res<Json<Vec<Project>>> {
            let ms = authorize(
                &s.tenancy,
                &id,
                Action::Read,
                &Target::Organization { org: &org },
            )
            .await?;
            let all = s.tenancy.projects(&org, &ws).await?;
            let mut out = Vec::new();
            for p in &all {
                let anc = ancestors(&s.tenancy, &org, &ws, p.name.as_str()).await?;
                let target = Target::Project {
                    org: &org,
                    ws: &ws,
                    project: p.name.as_str(),
                    ancestors: &anc,
                };
                if is_allowed(&ms, &id, Action::Read, &target) {
                    out.push(p.clone());
                }
            }
            Ok(Json(out))
        },
    )
}

pub(super) fn create() -> MethodRouter<ApiState> {
    post(
        async |State(s): State<ApiState>,
               Caller(id): Caller,
               Path((org, ws)): Path<(String, String)>,
               Body(b): Body<NewProject>|
               -> Res<(StatusCode, Json<Project>)> {
            let t = &s.tenancy;
            match &b.parent {
                None => {
                    authorize(
                        t,
                        &id,
                        Action::Manage,
                        &Target::Workspace { org: &org, ws: &ws },
                    )
                    .await?
                }
                Some(parent) => {
                    let anc = ancestors_or_none(t, &org, &ws, parent).await?;
                    let target = Target::Project {
                        org: &org,
                        ws: &ws,
                        project: parent,
                        ancestors: &anc,
                    };
                    authorize(t, &id, Action::Manage, &target).await?
                }
            };
            let mut op = t.create_project(&org, &ws, &b.name).actor(&id.subject);
            if let Some(p) = &b.parent {
                op = op.parent(p);
            }
            if let Some(q) = b.quota {
                op = op.quota(q);
            }
            Ok((StatusCode::CREATED, Json(op.execute().await?)))
        },
    )
}

/// Authorise `action` on the project `org/ws/project`.
pub(super) async fn on_project(
    s: &ApiState,
    id: &crate::api::Identity,
    action: Action,
    org: &str,
    ws: &str,
    project: &str,
) -> Res<()> {
    let anc = ancestors_or_none(&s.tenancy, org, ws, project).await?;
    let target = Target::Project {
        org,
        ws,
        project,
        ancestors: &anc,
    };
    authorize(&s.tenancy, id, action, &target).await.map(drop)
}

pub(super) fn get() -> MethodRouter<ApiState> {
    get_(
        async |State(s): State<ApiState>,
               Caller(id): Caller,
               Path((org, ws, p)): Path<(String, String, String)>|
               -> Res<Json<Project>> {
            on_project(&s, &id, Action::Read, &org, &ws, &p).await?;
            Ok(Json(s.tenancy.project(&org, &ws, &p).await?))
        },
    )
}

pub(super) fn delete() -> MethodRouter<ApiState> {
    del(
        async |State(s): State<ApiState>,
               Caller(id): Caller,
               Path((org, ws, p)): Path<(String, String, String)>,
               Params(q): Params<Cascade>|
               -> Res<StatusCode> {
            on_project(&s, &id, Action::Manage, &org, &ws, &p).await?;
            s.tenancy
                .delete_project(&org, &ws, &p)
                .cascade(q.cascade)
                .actor(&id.subject)
                .execute()
                .await?;
            Ok(StatusCode::NO_CONTENT)
        },
    )
}

pub(super) fn usage() -> MethodRouter<ApiState> {
    get_(
        async |State(s): State<ApiState>,
               Caller(id): Caller,
               Path((org, ws, p)): Path<(String, String, String)>|
               -> Res<Json<ResourceList>> {
            on_project(&s, &id, Action::Read, &org, &ws, &p).await?;
            let prj = s.tenancy.project(&org, &ws, &p).await?;
            Ok(Json(s.tenancy.live_usage(&prj.namespace).await?))
        },
    )
}
