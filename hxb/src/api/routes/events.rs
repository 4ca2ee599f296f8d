//! `GET /api/v1/events`: the engine's event bus as a WebSocket stream of JSON messages,
//! filtered by what the caller may read.
//!
//! Each text message is one [`EngineEvent`] as serialised by serde (`{"type":
//! "status_changed", …}`), or `{"type": "lagged", "missed": n}` when the connection fell
//! behind the bus and `n` events were dropped for it. An event is sent only when the caller
//! may read its hierarchy path (an entity, or the scope of an alert or incident) under the
//! same role model as the REST routes, checked against the memberships current when the event
//! is sent.

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{MethodRouter, get};
use serde::Deserialize;

use super::{ApiState, memberships, path_ancestors, path_target};
use crate::api::authz::{Action, is_allowed};
use crate::api::error::ApiError;
use crate::api::extract::Params;
use crate::api::identity::{Caller, Identity};
use crate::events::{Delivery, EngineEvent, EntityPath};

/// Query of `streamEvents`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventQuery {
    /// Comma-separated event types (`status_changed,alert_fired`); all when absent.
    kinds: Option<String>,
    /// Only events of this organization.
    organization: Option<String>,
    /// Only events of this workspace (needs `organization`).
    workspace: Option<String>,
}

/// A validated filter.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filter {
    kinds: Option<Vec<&'static str>>,
    organization: Option<String>,
    workspace: Option<String>,
}

impl Filter {
    fn parse(q: EventQuery) -> Result<Filter, ApiError> {
        let kinds = q
            .kinds
            .map(|k| {
                k.split(',')
                    .filter(|s| !s.is_empty())
                    .map(|s| {
                        EngineEvent::TYPE_NAMES
                            .into_iter()
                            .find(|n| *n == s)
                            .ok_or_else(|| {
                                ApiError::invalid(format!(
                                    "unknown event kind {s:?}; known: {}",
                                    EngineEvent::TYPE_NAMES.join(", ")
                                ))
                            })
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        if q.workspace.is_some() && q.organization.is_none() {
            return Err(ApiError::invalid("`workspace` needs `organization`"));
        }
        Ok(Filter {
            kinds,
            organization: q.organization,
            workspace: q.workspace,
        })
    }

    fn matches(&self, e: &EngineEvent, path: &EntityPath) -> bool {
        self.kinds
            .as_ref()
            .is_none_or(|k| k.contains(&e.type_name()))
            && self
                .organization
                .as_ref()
                .is_none_or(|o| *o == path.organization)
            && self
                .workspace
                .as_ref()
                .is_none_or(|w| path.workspace.as_ref() == Some(w))
    }
}

pub(super) fn stream() -> MethodRouter<ApiState> {
    get(
        async |State(s): State<ApiState>,
               Caller(id): Caller,
               Params(q): Params<EventQuery>,
               req: axum::extract::Request|
               -> Result<Response, ApiError> {
            let filter = Filter::parse(q)?;
            let (mut parts, _) = req.into_parts();
            let upgrade = WebSocketUpgrade::from_request_parts(&mut parts, &s)
                .await
                .map_err(|r| {
                    let status = r.status();
                    let status = if status == StatusCode::BAD_REQUEST {
                        StatusCode::UPGRADE_REQUIRED
                    } else {
                        status
                    };
                    ApiError::new(status, "websocket_upgrade_required", r.body_text())
                })?;
            // Subscribe before the handshake completes, so nothing published after the
            // response is lost.
            let rx = s.engine.subscribe();
            Ok(upgrade.on_upgrade(move |socket| pump(socket, s, id, filter, rx)))
        },
    )
}

/// Forward events to the socket until either side goes away.
async fn pump(
    mut socket: WebSocket,
    s: ApiState,
    id: Identity,
    filter: Filter,
    mut rx: crate::events::EventReceiver,
) {
    loop {
        tokio::select! {
            delivery = rx.recv() => {
                let text = match delivery {
                    None => break,
                    Some(Delivery::Lagged { missed }) => {
                        serde_json::json!({"type": "lagged", "missed": missed}).to_string()
                    }
                    Some(Delivery::Event(e)) => {
                        let path = e.path();
                        if !filter.matches(&e, &path) || !may_read(&s, &id, &path).await {
                            continue;
                        }
                        match serde_json::to_string(&e) {
                            Ok(t) => t,
                            Err(_) => continue,
                        }
                    }
                };
                if socket.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
            }
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                Some(Ok(_)) => {} // pings are answered by the protocol layer; text is ignored
            },
        }
    }
}

/// Whether `id` may read what lives at `path` (memberships read now, not at connect time).
async fn may_read(s: &ApiState, id: &Identity, path: &EntityPath) -> bool {
    let Ok(ms) = memberships(&s.tenancy, id, &path.organization).await else {
        return false;
    };
    let ancestors = path_ancestors(&s.tenancy, path).await.unwrap_or_default();
    is_allowed(&ms, id, Action::Read, &path_target(path, &ancestors))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_validation() {
        let q = |k: Option<&str>, o: Option<&str>, w: Option<&str>| EventQuery {
            kinds: k.map(Into::into),
            organization: o.map(Into::into),
            workspace: w.map(Into::into),
        };
        assert!(Filter::parse(q(Some("alert_fired,status_changed"), None, None)).is_ok());
        let e = Filter::parse(q(Some("alert_fired,nope"), None, None)).unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(Filter::parse(q(None, None, Some("dev"))).is_err());
    }
}
