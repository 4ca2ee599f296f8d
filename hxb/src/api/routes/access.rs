//! Invitations and a member's workspace kubeconfig.

use std::time::Duration;

use crate::core::Member;
use crate::tenancy::engine::invitations::{INVITATIONS, Invitation};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{MethodRouter, get, post};
use serde::Deserialize;

use super::orgs::scope_target;
use super::{ApiState, authorize};
use crate::api::authz::{Action, Target};
use crate::api::error::ApiError;
use crate::api::extract::Body;
use crate::api::identity::Caller;

type Res<T> = Result<T, ApiError>;

/// Body of `createInvitation`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NewInvitation {
    subject: String,
    role: String,
    #[serde(default)]
    workspace: Option<String>,
    #[serde(default)]
    project: Option<String>,
    /// Hours the invitation stays valid (default: the engine's).
    #[serde(default)]
    valid_hours: Option<u32>,
}

pub(super) fn invite() -> MethodRouter<ApiState> {
    post(
        async |State(s): State<ApiState>,
               Caller(id): Caller,
               Path(org): Path<String>,
               Body(b): Body<NewInvitation>|
               -> Res<(StatusCode, Json<Invitation>)> {
            let mut anc = Vec::new();
            let (ws, p) = (b.workspace.as_deref(), b.project.as_deref());
            let target = scope_target(&s, &org, ws, p, &mut anc).await?;
            let action = if b.role == "owner" {
                Action::Own
            } else {
                Action::Manage
            };
            authorize(&s.tenancy, &id, action, &target).await?;
            let mut op = s
                .tenancy
                .invite(&org, &b.subject)
                .role(&b.role)
                .actor(&id.subject);
            if let Some(w) = ws {
                op = op.workspace(w);
            }
            if let Some(p) = p {
                op = op.project(p);
            }
            if let Some(h) = b.valid_hours {
                op = op.valid_for(Duration::from_secs(u64::from(h) * 3600));
            }
            Ok((StatusCode::CREATED, Json(op.execute().await?)))
        },
    )
}

pub(super) fn accept() -> MethodRouter<ApiState> {
    post(
        async |State(s): State<ApiState>,
               Caller(id): Caller,
               Path(token): Path<String>|
               -> Res<Json<Member>> {
            // Only the invited subject (or a member of the invited group) may accept.
            let store = s.tenancy.store();
            let rec = store
                .get(INVITATIONS, &token)
                .await?
                .ok_or_else(|| crate::Error::not_found("invitation", "(token)"))?;
            let inv: Invitation = serde_json::from_value(rec.value)
                .map_err(|e| crate::Error::internal(format!("cannot decode invitation: {e}")))?;
            if !id.holds(inv.subject.as_str()) {
                return Err(ApiError::forbidden("the invitation is for another subject"));
            }
            Ok(Json(s.tenancy.accept_invitation(&token).await?))
        },
    )
}

pub(super) fn kubeconfig() -> MethodRouter<ApiState> {
    get(
        async |State(s): State<ApiState>,
               Caller(id): Caller,
               Path((org, ws)): Path<(String, String)>|
               -> Res<String> {
            authorize(
                &s.tenancy,
                &id,
                Action::Read,
                &Target::Organization { org: &org },
            )
            .await?;
            Ok(s.tenancy
                .scoped_kubeconfig(&org, &ws, &id.subject)
                .execute()
                .await?)
        },
    )
}
