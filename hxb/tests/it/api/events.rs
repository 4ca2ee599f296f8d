//! `GET /api/v1/events` over a real WebSocket on loopback.

use std::time::Duration;

use futures::StreamExt;
use hxb::ai::incidents::{Signal, SignalKind};
use reqwest::Method;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::api::support::Server;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(s: &Server, user: Option<&str>, query: &str) -> Result<Ws, u16> {
    let url = format!(
        "{}/api/v1/events{query}",
        s.base.replace("http://", "ws://")
    );
    let mut req = url.into_client_request().unwrap();
    if let Some(u) = user {
        req.headers_mut().insert("x-user", u.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(ws),
        Err(WsError::Http(resp)) => Err(resp.status().as_u16()),
        Err(e) => panic!("{e}"),
    }
}

/// Messages until `until` matches one (included), failing after 10 s.
async fn collect(ws: &mut Ws, until: impl Fn(&Value) -> bool) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .unwrap_or_else(|_| panic!("timed out; got {out:?}"))
            .expect("stream ended")
            .unwrap();
        if let Message::Text(t) = msg {
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            let done = until(&v);
            out.push(v);
            if done {
                return out;
            }
        }
    }
}

async fn post(s: &Server, user: &str, path: &str, body: Value) {
    let (st, b) = s.call(Some(user), Method::POST, path, Some(body)).await;
    assert_eq!(st, 201, "{path}: {b}");
}

fn small() -> Value {
    json!({"requests.cpu": "2", "requests.memory": "4Gi", "pods": "20"})
}

fn signal(scope: &str) -> Signal {
    Signal {
        at: hxb::core::Timestamp::now(),
        scope: scope.into(),
        object: "Deployment x/web".into(),
        kind: SignalKind::Event {
            reason: "OOMKilled".into(),
        },
        message: String::new(),
    }
}

#[tokio::test]
async fn events_are_streamed_to_those_who_may_read_them() {
    let s = Server::start().await;
    let orgs = "/api/v1/organizations";
    post(
        &s,
        "owner@x",
        orgs,
        json!({"name": "acme", "plan": "professional"}),
    )
    .await;
    post(
        &s,
        "owner@x",
        "/api/v1/organizations/acme/workspaces",
        json!({"name": "dev", "quota": small()}),
    )
    .await;
    post(
        &s,
        "owner@x",
        "/api/v1/organizations/acme/members",
        json!({"subject": "dev@x", "role": "developer", "workspace": "dev"}),
    )
    .await;
    post(&s, "other@x", orgs, json!({"name": "globex"})).await;

    let mut dev = connect(&s, Some("dev@x"), "?kinds=status_changed")
        .await
        .unwrap();
    let mut owner = connect(&s, Some("owner@x"), "?organization=acme")
        .await
        .unwrap();
    let mut incidents = connect(&s, Some("dev@x"), "?kinds=incident_opened")
        .await
        .unwrap();

    // Invisible to dev@x: another workspace, another organization.
    post(
        &s,
        "owner@x",
        "/api/v1/organizations/acme/workspaces",
        json!({"name": "prod", "quota": small()}),
    )
    .await;
    post(
        &s,
        "other@x",
        "/api/v1/organizations/globex/workspaces",
        json!({"name": "dev"}),
    )
    .await;
    s.engine.record_signal(signal("globex/dev")).unwrap();
    s.engine.record_signal(signal("acme/prod")).unwrap();
    // Visible: a project in dev@x's workspace, an incident in it.
    post(
        &s,
        "owner@x",
        "/api/v1/organizations/acme/workspaces/dev/projects",
        json!({"name": "web"}),
    )
    .await;
    s.engine.record_signal(signal("acme/dev")).unwrap();

    let is_web_active = |v: &Value| v["path"]["project"] == "web" && v["to"] == "Active";
    let seen = collect(&mut dev, is_web_active).await;
    for v in &seen {
        assert_eq!(v["type"], "status_changed", "{v}");
        assert_eq!(v["path"]["organization"], "acme", "{v}");
        assert_eq!(v["path"]["workspace"], "dev", "{v}");
    }
    assert_eq!(seen[0]["kind"], "project");
    assert_eq!(
        (&seen[0]["from"], &seen[0]["to"]),
        (&Value::Null, &json!("Pending"))
    );

    let seen = collect(&mut incidents, |v| v["scope"] == "acme/dev").await;
    assert_eq!(seen.len(), 1, "only acme/dev's incident: {seen:?}");
    assert_eq!(seen[0]["type"], "incident_opened");

    // The owner sees all of acme (prod included), nothing of globex.
    let seen = collect(&mut owner, is_web_active).await;
    assert!(
        seen.iter().any(|v| v["path"]["workspace"] == "prod"),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|v| v["type"] == "incident_opened" && v["scope"] == "acme/prod")
    );
    assert!(
        seen.iter().all(|v| v["path"]["organization"] == "acme"
            || v["scope"].as_str().is_some_and(|s| s.starts_with("acme/"))),
        "{seen:?}"
    );

    // Closing the socket ends the server side (a later event is simply not sent).
    dev.close(None).await.unwrap();
    s.engine.record_signal(signal("acme/dev")).unwrap();
}

#[tokio::test]
async fn refused_upgrades_are_typed() {
    let s = Server::start().await;
    assert_eq!(connect(&s, None, "").await.err(), Some(401));
    assert_eq!(
        connect(&s, Some("a@x"), "?kinds=nope").await.err(),
        Some(400)
    );
    assert_eq!(
        connect(&s, Some("a@x"), "?workspace=dev").await.err(),
        Some(400)
    );
    assert_eq!(connect(&s, Some("a@x"), "?bogus=1").await.err(), Some(400));
    // A plain GET (no upgrade) is 426 with the JSON error body.
    let (st, body) = s
        .call(Some("a@x"), Method::GET, "/api/v1/events", None)
        .await;
    assert_eq!(
        (st, body["code"].as_str()),
        (426, Some("websocket_upgrade_required"))
    );
    // A stranger connects but sees nothing of acme.
    post(
        &s,
        "owner@x",
        "/api/v1/organizations",
        json!({"name": "acme"}),
    )
    .await;
    let mut stranger = connect(&s, Some("eve@x"), "").await.unwrap();
    post(
        &s,
        "owner@x",
        "/api/v1/organizations/acme/workspaces",
        json!({"name": "dev"}),
    )
    .await;
    s.engine.record_signal(signal("acme/dev")).unwrap();
    let quiet = tokio::time::timeout(Duration::from_millis(300), stranger.next()).await;
    assert!(quiet.is_err(), "a stranger received {quiet:?}");
}
