//! `POST /api/v1/graphql` over loopback HTTP.

use std::sync::Arc;

use hxb::core::metrics::alerts::AlertRule;
use hxb::core::metrics::{EmbeddedMetrics, labels};
use reqwest::Method;
use serde_json::{Value, json};

use crate::api::support::Server;

const Q: &str = r#"{ organization(name: "acme") {
    name status
    usage { quota { name quantity } used { name quantity } }
    alerts { id scope state severity }
    workspaces { name status quota { name quantity } usage { used { name quantity } }
      projects { name parent namespace quota { name } usage { used { name quantity } } } } } }"#;

async fn post(s: &Server, user: &str, path: &str, body: Value) {
    let (st, b) = s.call(Some(user), Method::POST, path, Some(body)).await;
    assert_eq!(st, 201, "{path}: {b}");
}

async fn gql(s: &Server, user: &str, query: &str) -> (u16, Value) {
    s.call(
        Some(user),
        Method::POST,
        "/api/v1/graphql",
        Some(json!({"query": query})),
    )
    .await
}

async fn acme(s: &Server) {
    let o = "/api/v1/organizations";
    post(
        s,
        "owner@x",
        o,
        json!({"name": "acme", "plan": "professional"}),
    )
    .await;
    let small = json!({"requests.cpu": "2", "requests.memory": "4Gi", "pods": "20"});
    let ws = "/api/v1/organizations/acme/workspaces";
    post(s, "owner@x", ws, json!({"name": "dev", "quota": small})).await;
    post(s, "owner@x", ws, json!({"name": "prod", "quota": small})).await;
    let p = "/api/v1/organizations/acme/workspaces/dev/projects";
    post(s, "owner@x", p, json!({"name": "web"})).await;
    post(s, "owner@x", p, json!({"name": "api", "parent": "web"})).await;
    let p = "/api/v1/organizations/acme/workspaces/prod/projects";
    post(s, "owner@x", p, json!({"name": "db"})).await;
    post(
        s,
        "owner@x",
        "/api/v1/organizations/acme/members",
        json!({"subject": "dev@x", "role": "developer", "workspace": "dev"}),
    )
    .await;
    // One firing alert per workspace.
    let m = Arc::new(EmbeddedMetrics::default());
    s.engine.use_metrics_source(m.clone()).unwrap();
    let now = hxb::core::Timestamp::now().as_millisecond();
    for ws in ["dev", "prod"] {
        let rule = AlertRule::new("HighCpu", &format!("cpu{{workspace=\"{ws}\"}}"))
            .unwrap()
            .above(0.9);
        s.engine
            .add_alert_rule(&format!("acme/{ws}"), rule)
            .await
            .unwrap();
        m.write(&labels("cpu", &[("workspace", ws)]), now - 1000, 0.95)
            .unwrap();
    }
    assert_eq!(s.engine.evaluate_alerts().await.unwrap().fired.len(), 2);
}

fn names(v: &Value) -> Vec<String> {
    let mut n: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap().to_owned())
        .collect();
    n.sort();
    n
}

#[tokio::test]
async fn hierarchy_in_one_request_authorised_per_field() {
    let s = Server::start().await;
    acme(&s).await;

    let (st, r) = gql(&s, "owner@x", Q).await;
    assert_eq!(st, 200, "{r}");
    assert!(r.get("errors").is_none(), "{r}");
    let org = &r["data"]["organization"];
    assert_eq!(org["name"], "acme");
    assert_eq!(names(&org["workspaces"]), ["dev", "prod"]);
    assert_eq!(org["alerts"].as_array().unwrap().len(), 2);
    assert!(!org["usage"]["quota"].as_array().unwrap().is_empty());
    let dev = &org["workspaces"][0];
    assert_eq!(names(&dev["projects"]), ["api", "web"]);
    let api = dev["projects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "api")
        .unwrap();
    assert_eq!(
        (&api["parent"], &api["namespace"]),
        (&json!("web"), &json!("acme-dev-api"))
    );
    assert!(
        dev["quota"]
            .as_array()
            .unwrap()
            .iter()
            .any(|q| q["name"] == "pods" && q["quantity"] == "20")
    );

    // A workspace developer: only dev, only dev's alert, no organization usage.
    let (st, r) = gql(&s, "dev@x", Q).await;
    assert_eq!(st, 200, "{r}");
    let org = &r["data"]["organization"];
    assert_eq!(names(&org["workspaces"]), ["dev"]);
    let alerts = org["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["scope"], "acme/dev");
    assert_eq!(alerts[0]["state"], "firing");
    assert!(org["usage"].is_null());
    let errs = r["errors"].as_array().unwrap();
    assert_eq!(errs.len(), 1, "{r}");
    assert_eq!(errs[0]["extensions"]["code"], "forbidden");
    assert_eq!(errs[0]["path"], json!(["organization", "usage"]));

    // A stranger: nothing, a forbidden error, same as for an organization that does not exist.
    for name in ["acme", "nope"] {
        let q = format!(r#"{{ organization(name: "{name}") {{ name }} }}"#);
        let (st, r) = gql(&s, "eve@x", &q).await;
        assert_eq!(st, 200);
        assert!(r["data"]["organization"].is_null());
        assert_eq!(r["errors"][0]["extensions"]["code"], "forbidden");
    }
    let (_, r) = gql(&s, "eve@x", "{ organizations { name } }").await;
    assert_eq!(r["data"]["organizations"], json!([]));
}

#[tokio::test]
async fn bad_queries_are_400_and_change_nothing() {
    let s = Server::start().await;
    acme(&s).await;
    let before = s
        .engine
        .tenancy()
        .unwrap()
        .audit_log(0, 10_000)
        .await
        .unwrap()
        .len();
    let wide: String = (0..500)
        .map(|i| format!("a{i}: organizations {{ name }} "))
        .collect();
    for (q, why) in [
        (
            r#"{ organization(name: "acme") { name "#.to_owned(),
            "syntax",
        ),
        (
            "{ organization(name: \"acme\") { secret } }".to_owned(),
            "unknown field",
        ),
        ("mutation { deleteOrganization }".to_owned(), "no mutations"),
        (format!("{{ {wide} }}"), "complexity"),
    ] {
        let (st, r) = gql(&s, "owner@x", &q).await;
        assert_eq!(
            (st, r["code"].as_str()),
            (400, Some("invalid_query")),
            "{why}: {r}"
        );
        if why == "complexity" {
            assert!(r["message"].as_str().unwrap().contains("complex"), "{r}");
        }
    }
    // Not JSON, not a GraphQL request: the REST error codes.
    let (st, r) = s
        .raw(
            "owner@x",
            Method::POST,
            "/api/v1/graphql",
            "application/json",
            b"{".to_vec(),
        )
        .await;
    assert_eq!((st, r["code"].as_str()), (400, Some("invalid_input")));
    let (st, r) = s
        .call(
            None,
            Method::POST,
            "/api/v1/graphql",
            Some(json!({"query": "{ organizations { name } }"})),
        )
        .await;
    assert_eq!((st, r["code"].as_str()), (401, Some("unauthenticated")));
    let after = s
        .engine
        .tenancy()
        .unwrap()
        .audit_log(0, 10_000)
        .await
        .unwrap()
        .len();
    assert_eq!(before, after);
}
