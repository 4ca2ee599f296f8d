use reqwest::Method;
use serde_json::json;

use crate::api::support::Server;

const ORG: &str = "/api/v1/organizations";

async fn acme(s: &Server) {
    let (st, org) = s
        .call(
            Some("owner@x"),
            Method::POST,
            ORG,
            Some(json!({"name": "acme", "plan": "professional"})),
        )
        .await;
    assert_eq!(st, 201, "{org}");
    assert_eq!(org["name"], "acme");
    let (st, ws) = s
        .call(
            Some("owner@x"),
            Method::POST,
            "/api/v1/organizations/acme/workspaces",
            Some(json!({"name": "dev"})),
        )
        .await;
    assert_eq!(st, 201, "{ws}");
}

#[tokio::test]
async fn hierarchy_crud_with_roles() {
    let s = Server::start().await;
    acme(&s).await;
    let p = "/api/v1/organizations/acme/workspaces/dev/projects";
    let (st, web) = s
        .call(
            Some("owner@x"),
            Method::POST,
            p,
            Some(json!({"name": "web"})),
        )
        .await;
    assert_eq!(st, 201, "{web}");
    assert_eq!(web["namespace"], "acme-dev-web");
    let (st, api) = s
        .call(
            Some("owner@x"),
            Method::POST,
            p,
            Some(json!({"name": "api", "parent": "web"})),
        )
        .await;
    assert_eq!(st, 201, "{api}");
    let (st, _) = s
        .call(
            Some("owner@x"),
            Method::POST,
            p,
            Some(json!({"name": "db"})),
        )
        .await;
    assert_eq!(st, 201);

    // A project admin of `web` reaches web and its sub-project, not `db`, not the workspace.
    let (st, m) = s
        .call(
            Some("owner@x"),
            Method::POST,
            "/api/v1/organizations/acme/members",
            Some(
                json!({"subject": "pat@x", "role": "admin", "workspace": "dev", "project": "web"}),
            ),
        )
        .await;
    assert_eq!(st, 201, "{m}");
    let (st, list) = s.call(Some("pat@x"), Method::GET, p, None).await;
    assert_eq!(st, 200);
    let mut names: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["api", "web"]);
    assert_eq!(
        s.call(Some("pat@x"), Method::GET, &format!("{p}/api"), None)
            .await
            .0,
        200
    );
    assert_eq!(
        s.call(Some("pat@x"), Method::GET, &format!("{p}/db"), None)
            .await
            .0,
        403
    );
    assert_eq!(
        s.call(
            Some("pat@x"),
            Method::GET,
            "/api/v1/organizations/acme/workspaces/dev",
            None
        )
        .await
        .0,
        403
    );
    assert_eq!(
        s.call(
            Some("pat@x"),
            Method::GET,
            "/api/v1/organizations/acme",
            None
        )
        .await
        .0,
        200
    );
    let (st, _) = s
        .call(
            Some("pat@x"),
            Method::POST,
            p,
            Some(json!({"name": "cache", "parent": "api"})),
        )
        .await;
    assert_eq!(
        st, 201,
        "a project admin creates sub-projects of its subtree"
    );
    let (st, e) = s
        .call(Some("pat@x"), Method::POST, p, Some(json!({"name": "top"})))
        .await;
    assert_eq!((st, e["code"].as_str()), (403, Some("forbidden")));
    let (st, usage) = s
        .call(Some("pat@x"), Method::GET, &format!("{p}/web/usage"), None)
        .await;
    assert_eq!(st, 200, "{usage}");
    assert!(usage.is_object());

    // A stranger sees nothing and changes nothing.
    let (st, orgs) = s.call(Some("eve@x"), Method::GET, ORG, None).await;
    assert_eq!((st, orgs), (200, json!([])));
    assert_eq!(
        s.call(
            Some("eve@x"),
            Method::GET,
            "/api/v1/organizations/acme",
            None
        )
        .await
        .0,
        403
    );
    assert_eq!(
        s.call(
            Some("eve@x"),
            Method::GET,
            "/api/v1/organizations/nope",
            None
        )
        .await
        .0,
        403
    );
    assert_eq!(
        s.call(Some("eve@x"), Method::DELETE, &format!("{p}/db"), None)
            .await
            .0,
        403
    );
    assert_eq!(
        s.call(
            Some("eve@x"),
            Method::POST,
            "/api/v1/organizations/acme/members",
            Some(json!({"subject": "eve@x", "role": "owner"}))
        )
        .await
        .0,
        403
    );
    let t = s.engine.tenancy().unwrap();
    assert_eq!(t.projects("acme", "dev").await.unwrap().len(), 4);
    assert_eq!(t.members("acme").await.unwrap().len(), 2);

    // An org admin manages but cannot delete the organization or grant owner.
    s.call(
        Some("owner@x"),
        Method::POST,
        "/api/v1/organizations/acme/members",
        Some(json!({"subject": "group:ops", "role": "admin"})),
    )
    .await;
    let ops = |m: Method, path: &str, body: Option<serde_json::Value>| {
        let rb = s
            .client
            .request(m, format!("{}{path}", s.base))
            .header("x-user", "olga@x")
            .header("x-groups", "ops");
        let rb = match body {
            Some(b) => rb.json(&b),
            None => rb,
        };
        async move { rb.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(ops(Method::DELETE, &format!("{p}/db"), None).await, 204);
    assert_eq!(
        ops(
            Method::DELETE,
            "/api/v1/organizations/acme?cascade=true",
            None
        )
        .await,
        403
    );
    assert_eq!(
        ops(
            Method::POST,
            "/api/v1/organizations/acme/members",
            Some(json!({"subject": "olga@x", "role": "owner"}))
        )
        .await,
        403
    );
    assert_eq!(t.projects("acme", "dev").await.unwrap().len(), 3);

    // Members, removal, then owner deletes everything.
    let (st, ms) = s
        .call(
            Some("owner@x"),
            Method::GET,
            "/api/v1/organizations/acme/members",
            None,
        )
        .await;
    assert_eq!((st, ms.as_array().unwrap().len()), (200, 3));
    let st = s
        .call(
            Some("owner@x"),
            Method::DELETE,
            "/api/v1/organizations/acme/members/pat@x?workspace=dev&project=web",
            None,
        )
        .await
        .0;
    assert_eq!(st, 204);
    assert_eq!(
        s.call(Some("pat@x"), Method::GET, &format!("{p}/web"), None)
            .await
            .0,
        403
    );
    assert_eq!(
        s.call(
            Some("owner@x"),
            Method::DELETE,
            "/api/v1/organizations/acme?cascade=true",
            None
        )
        .await
        .0,
        204
    );
    assert_eq!(
        s.call(Some("owner@x"), Method::GET, ORG, None).await.1,
        json!([])
    );
}

#[tokio::test]
async fn engine_errors_keep_their_kind() {
    let s = Server::start().await;
    acme(&s).await;
    let (st, e) = s
        .call(
            Some("owner@x"),
            Method::POST,
            ORG,
            Some(json!({"name": "acme"})),
        )
        .await;
    assert_eq!((st, e["code"].as_str()), (409, Some("already_exists")));
    let (st, e) = s
        .call(
            Some("owner@x"),
            Method::POST,
            ORG,
            Some(json!({"name": "Not_A_Name"})),
        )
        .await;
    assert_eq!((st, e["code"].as_str()), (400, Some("invalid_input")));
    let (st, e) = s
        .call(
            Some("owner@x"),
            Method::GET,
            "/api/v1/organizations/acme/workspaces/nope",
            None,
        )
        .await;
    assert_eq!((st, e["code"].as_str()), (404, Some("not_found")));
    let (st, e) = s
        .call(
            Some("owner@x"),
            Method::POST,
            "/api/v1/organizations/acme/workspaces",
            Some(json!({"name": "huge", "quota": {"requests.cpu": "100000"}})),
        )
        .await;
    assert_eq!(
        (st, e["code"].as_str()),
        (422, Some("quota_exceeded")),
        "{e}"
    );
    let (st, e) = s
        .call(
            Some("owner@x"),
            Method::DELETE,
            "/api/v1/organizations/acme",
            None,
        )
        .await;
    assert_eq!(
        (st, e["code"].as_str()),
        (409, Some("failed_precondition")),
        "{e}"
    );
    let t = s.engine.tenancy().unwrap();
    assert_eq!(t.organizations().await.unwrap().len(), 1);
    assert_eq!(t.workspaces("acme").await.unwrap().len(), 1);
}

#[tokio::test]
async fn bad_input_is_typed_and_changes_nothing() {
    let s = Server::start_with_limit(1024).await;
    let t = s.engine.tenancy().unwrap();
    let big = format!(
        "{{\"name\": \"a\", \"display_name\": \"{}\"}}",
        "x".repeat(4096)
    );
    let json = "application/json";
    for (ctype, body, want) in [
        (json, b"{\"name\": ".to_vec(), (400, "invalid_input")),
        (
            json,
            b"{\"name\": \"a\", \"extra\": 1}".to_vec(),
            (400, "invalid_input"),
        ),
        (
            "text/plain",
            b"{\"name\": \"a\"}".to_vec(),
            (415, "unsupported_media_type"),
        ),
        (json, big.into_bytes(), (413, "payload_too_large")),
    ] {
        let (st, e) = s.raw("u@x", Method::POST, ORG, ctype, body).await;
        assert_eq!((st, e["code"].as_str()), (want.0, Some(want.1)), "{e}");
    }
    let (st, e) = s
        .call(Some("u@x"), Method::GET, "/api/v1/nothing/here", None)
        .await;
    assert_eq!((st, e["code"].as_str()), (404, Some("unknown_route")));
    let (st, e) = s.call(Some("u@x"), Method::PUT, ORG, None).await;
    assert_eq!((st, e["code"].as_str()), (405, Some("method_not_allowed")));
    let (st, e) = s
        .call(None, Method::POST, ORG, Some(json!({"name": "a"})))
        .await;
    assert_eq!((st, e["code"].as_str()), (401, Some("unauthenticated")));
    assert!(t.organizations().await.unwrap().is_empty());
}
