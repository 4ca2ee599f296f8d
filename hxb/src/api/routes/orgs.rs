//! Organizations and members.

use crate::core::{Member, Organization};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{MethodRouter, delete as del, get as get_, post};
use serde::Deserialize;

use super::{ApiState, Cascade, authorize, memberships};
use crate::api::authz::{Action, Target};
use crate::api::error::ApiError;
use crate::api::extract::{Body, Params};
use crate::api::identity::Caller;

type Res<T> = Result<T, ApiError>;

/// Body of `createOrganization`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NewOrganization {
    name: String,
    #[serde(default)]
    plan: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
}

/// Body of `addMember`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NewMember {
    subject: String,
    role: String,
    #[serde(default)]
    workspace: Option<String>,
    #[serde(default)]
    project: Option<String>,
}

/// Query of `removeMember`.
#[derive(Debug, Default, Deserialize)]
struct MemberScope {
    workspace: Option<String>,
    project: Option<String>,
}

pub(super) fn list() -> MethodRouter<ApiState> {
    get_(
        async |State(s): State<ApiState>, Caller(id): Caller| -> Res<Json<Vec<Organization>>> {
            let mut out = Vec::new();
            for org in s.tenancy.organizations().await? {
                let ms = memberships(&s.tenancy, &id, org.name.as_str()).await?;
                let target = Target::Organization {
                    org: org.name.as_str(),
                };
                if crate::api::authz::is_allowed(&ms, &id, Action::Read, &target) {
                    out.push(org);
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
               Body(b): Body<NewOrganization>|
               -> Res<(StatusCode, Json<Organization>)> {
            let t = &s.tenancy;
            let mut op = t.create_organization(&b.name).actor(&id.subject);
            if let Some(p) = &b.plan {
                op = op.plan(p);
            }
            if let Some(d) = &b.display_name {
                op = op.display_name(d);
            }
            let org = op.execute().await?;
            let owner = t
                .add_member(&b.name, &id.subject)
                .role("owner")
                .actor(&id.subject)
                .execute()
                .await;
            if let Err(e) = owner {
                // Leave nothing behind: an organization without its owner is unusable.
                let _ = t
                    .delete_organization(&b.name)
                    .cascade(true)
                    .actor(&id.subject)
                    .execute()
                    .await;
                return Err(e.into());
            }
            Ok((StatusCode::CREATED, Json(org)))
        },
    )
}

pub(super) fn get() -> MethodRouter<ApiState> {
    get_(
        async |State(s): State<ApiState>,
               Caller(id): Caller,
               Path(org): Path<String>|
               -> Res<Json<Organization>> {
            authorize(
                &s.tenancy,
                &id,
                Action::Read,
                &Target::Organization { org: &org },
            )
            .await?;
            Ok(Json(s.tenancy.organization(&org).await?))
        },
    )
}

pub(super) fn delete() -> MethodRouter<ApiState> {
    del(
        async |State(s): State<ApiState>,
               Caller(id): Caller,
               Path(org): Path<String>,
               Params(q): Params<Cascade>|
               -> Res<StatusCode> {
            authorize(
                &s.tenancy,
                &id,
                Action::Own,
                &Target::Organization { org: &org },
            )
            .await?;
            s.tenancy
                .delete_organization(&org)
                .cascade(q.cascade)
                .actor(&id.subject)
                .execute()
                .await?;
            Ok(StatusCode::NO_CONTENT)
        },
    )
}

pub(super) fn members() -> MethodRouter<ApiState> {
    get_(
        async |State(s): State<ApiState>,
               Caller(id): Caller,
               Path(org): Path<String>|
               -> Res<Json<Vec<Member>>> {
            let ms = authorize(
                &s.tenancy,
                &id,
                Action::Read,
                &Target::Organization { org: &org },
            )
            .await?;
            Ok(Json(ms))
        },
    )
}

/// The target whose management grants the right to change memberships at this scope.
pub(super) async fn scope_target<'a>(
    s: &ApiState,
    org: &'a str,
    ws: Option<&'a str>,
    project: Option<&'a str>,
    ancestors: &'a mut Vec<String>,
) -> Res<Target<'a>> {
    Ok(match (ws, project) {
        (None, None) => Target::Organization { org },
        (Some(ws), None) => Target::Workspace { org, ws },
        (Some(ws), Some(project)) => {
            *ancestors = super::projects::ancestors_or_none(&s.tenancy, org, ws, project).await?;
            Target::Project {
                org,
                ws,
                project,
                ancestors,
            }
        }
        (None, Some(_)) => {
            return Err(ApiError::invalid(
                "a project membership needs its workspace",
            ));
        }
    })
}

pub(super) fn add_member() -> MethodRouter<ApiState> {
    post(
        async |State(s): State<ApiState>,
               Caller(id): Caller,
               Path(org): Path<String>,
               Body(b): Body<NewMember>|
               -> Res<(StatusCode, Json<Member>)> {
            let mut anc = Vec::new();
            let target = scope_target(
                &s,
                &org,
                b.workspace.as_deref(),
                b.project.as_deref(),
                &mut anc,
            )
            .await?;
            let action = if b.role == "owner" {
                Action::Own
            } else {
                Action::Manage
            };
            authorize(&s.tenancy, &id, action, &target).await?;
            let mut op = s
                .tenancy
                .add_member(&org, &b.subject)
                .role(&b.role)
                .actor(&id.subject);
            if let Some(w) = &b.workspace {
                op = op.workspace(w);
            }
            if let Some(p) = &b.project {
                op = op.project(p);
            }
            Ok((StatusCode::CREATED, Json(op.execute().await?)))
        },
    )
}

pub(super) fn remove_member() -> MethodRouter<ApiState> {
    del(
        async |State(s): State<ApiState>,
               Caller(id): Caller,
               Path((org, subject)): Path<(String, String)>,
               Params(q): Params<MemberScope>|
               -> Res<StatusCode> {
            let mut anc = Vec::new();
            let target = scope_target(
                &s,
                &org,
                q.workspace.as_deref(),
                q.project.as_deref(),
                &mut anc,
            )
            .await?;
            authorize(&s.tenancy, &id, Action::Manage, &target).await?;
            let mut op = s.tenancy.remove_member(&org, &subject).actor(&id.subject);
            if let Some(w) = &q.workspace {
                op = op.workspace(w);
            }
            if let Some(p) = &q.project {
                op = op.project(p);
            }
            op.execute().await?;
            Ok(StatusCode::NO_CONTENT)
        },
    )
}
