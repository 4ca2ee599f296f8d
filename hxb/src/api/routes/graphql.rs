//! `POST /api/v1/graphql`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{MethodRouter, post};

use super::ApiState;
use crate::api::error::ApiError;
use crate::api::extract::Body;
use crate::api::graphql::RequestCtx;
use crate::api::identity::Caller;

pub(super) fn query() -> MethodRouter<ApiState> {
    post(
        async |State(s): State<ApiState>,
               Caller(id): Caller,
               Body(req): Body<async_graphql::Request>|
               -> Result<Json<async_graphql::Response>, ApiError> {
            let schema = s.graphql.clone();
            let resp = schema.execute(req.data(RequestCtx::new(s, id))).await;
            // Refused before execution (syntax, unknown fields, depth or complexity): every
            // error is unattached to a field and no data was produced.
            if resp.data == async_graphql::Value::Null
                && !resp.errors.is_empty()
                && resp.errors.iter().all(|e| e.path.is_empty())
            {
                let msg: Vec<String> = resp.errors.iter().map(|e| e.message.clone()).collect();
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_query",
                    msg.join("; "),
                ));
            }
            Ok(Json(resp))
        },
    )
}
