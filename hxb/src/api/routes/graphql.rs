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

/// Body of `graphql`: the usual GraphQL-over-HTTP request (other members, such as
/// `extensions`, are ignored).
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct GraphQlBody {
    /// The query document.
    query: String,
    /// Values of the query's variables.
    #[serde(default)]
    variables: Option<serde_json::Map<String, serde_json::Value>>,
    /// Which operation of the document to run.
    #[serde(default)]
    operation_name: Option<String>,
}

pub(super) fn query() -> MethodRouter<ApiState> {
    post(
        async |State(s): State<ApiState>,
               Caller(id): Caller,
               Body(b): Body<GraphQlBody>|
               -> Result<Json<async_graphql::Response>, ApiError> {
            let mut req = async_graphql::Request::new(b.query);
            if let Some(v) = b.variables {
                req = req.variables(async_graphql::Variables::from_json(v.into()));
            }
            if let Some(op) = b.operation_name {
                req = req.operation_name(op);
            }
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
