//! Invitations, kubeconfig and applications over HTTP.

use hxb::tenancy::engine::credentials::service_account_name;
use k8s_openapi::api::core::v1::Secret;
use reqwest::Method;
use serde_json::json;

use crate::support::Server;

async fn setup(s: &Server) {
    let post = |path: &'static str, body| s.call(Some("owner@x"), Method::POST, path, Some(body));
    assert_eq!(
        post(
            "/api/v1/organizations",
            json!({"name": "acme", "plan": "professional"})
        )
        .await
        .0,
        201
    );
    assert_eq!(
        post(
            "/api/v1/organizations/acme/workspaces",
            json!({"name": "dev"})
        )
        .await
        .0,
        201
    );
    let (st, b) = post("/api/v1/organizations/acme/workspaces/dev/projects",
        json!({"name": "web", "quota": {"requests.cpu": "2", "requests.memory": "4Gi", "limits.cpu": "2", "limits.memory": "4Gi", "pods": "10"}})).await;
    assert_eq!(st, 201, "{b}");
}

#[tokio::test]
async fn invitations_are_accepted_by_their_subject_only() {
    let s = Server::start().await;
    setup(&s).await;
    let (st, inv) = s
        .call(
            Some("owner@x"),
            Method::POST,
            "/api/v1/organizations/acme/invitations",
            Some(json!({"subject": "dan@x", "role": "developer", "workspace": "dev"})),
        )
        .await;
    assert_eq!(st, 201, "{inv}");
    let accept = format!(
        "/api/v1/invitations/{}/accept",
        inv["token"].as_str().unwrap()
    );
    let (st, e) = s.call(Some("eve@x"), Method::POST, &accept, None).await;
    assert_eq!((st, e["code"].as_str()), (403, Some("forbidden")));
    let t = s.engine.tenancy().unwrap();
    assert_eq!(
        t.members("acme").await.unwrap().len(),
        1,
        "refused acceptance adds nobody"
    );
    let (st, m) = s.call(Some("dan@x"), Method::POST, &accept, None).await;
    assert_eq!(st, 200, "{m}");
    assert_eq!(m["role"]["role"], "developer");
    let (st, e) = s.call(Some("dan@x"), Method::POST, &accept, None).await;
    assert_eq!((st, e["code"].as_str()), (409, Some("failed_precondition")));
    let (st, _) = s
        .call(
            Some("dan@x"),
            Method::POST,
            "/api/v1/invitations/nope/accept",
            None,
        )
        .await;
    assert_eq!(st, 404);
    // A developer cannot invite.
    let (st, _) = s
        .call(
            Some("dan@x"),
            Method::POST,
            "/api/v1/organizations/acme/invitations",
            Some(json!({"subject": "x@x", "role": "admin", "workspace": "dev"})),
        )
        .await;
    assert_eq!(st, 403);
}

#[tokio::test]
async fn applications_follow_developer_and_viewer_roles() {
    let s = Server::start().await;
    setup(&s).await;
    for (who, role) in [("dev@x", "developer"), ("view@x", "viewer")] {
        let (st, _) = s
            .call(
                Some("owner@x"),
                Method::POST,
                "/api/v1/organizations/acme/members",
                Some(json!({"subject": who, "role": role, "workspace": "dev", "project": "web"})),
            )
            .await;
        assert_eq!(st, 201);
    }
    let apps = "/api/v1/organizations/acme/workspaces/dev/projects/web/applications";
    let body = json!({"name": "site", "image": "nginx", "replicas": 2,
        "requests": {"cpu": "100m", "memory": "128Mi"}});
    let (st, _) = s
        .call(Some("view@x"), Method::POST, apps, Some(body.clone()))
        .await;
    assert_eq!(st, 403);
    let (st, app) = s.call(Some("dev@x"), Method::POST, apps, Some(body)).await;
    assert_eq!(st, 201, "{app}");
    let (st, list) = s.call(Some("view@x"), Method::GET, apps, None).await;
    assert_eq!((st, list.as_array().unwrap().len()), (200, 1));
    let (st, e) = s
        .call(
            Some("dev@x"),
            Method::POST,
            &format!("{apps}/site/scale"),
            Some(json!({"replicas": 100})),
        )
        .await;
    assert_eq!(
        (st, e["code"].as_str()),
        (422, Some("quota_exceeded")),
        "{e}"
    );
    let (st, a) = s
        .call(
            Some("dev@x"),
            Method::POST,
            &format!("{apps}/site/scale"),
            Some(json!({"replicas": 3})),
        )
        .await;
    assert_eq!((st, &a["replicas"]), (200, &json!(3)), "{a}");
    let (st, u) = s
        .call(
            Some("owner@x"),
            Method::GET,
            "/api/v1/organizations/acme/workspaces/dev/usage",
            None,
        )
        .await;
    assert_eq!(st, 200, "{u}");
    assert!(u["quota"].is_object() && u["used"].is_object(), "{u}");
    assert_eq!(
        s.call(
            Some("view@x"),
            Method::GET,
            "/api/v1/organizations/acme/workspaces/dev/usage",
            None
        )
        .await
        .0,
        403
    );
    let (st, e) = s
        .call(
            Some("dev@x"),
            Method::POST,
            apps,
            Some(json!({"name": "x", "image": "i", "kind": "stateful"})),
        )
        .await;
    assert_eq!((st, e["code"].as_str()), (400, Some("invalid_input")));
    assert_eq!(
        s.call(
            Some("view@x"),
            Method::DELETE,
            &format!("{apps}/site"),
            None
        )
        .await
        .0,
        403
    );
    assert_eq!(
        s.call(Some("dev@x"), Method::DELETE, &format!("{apps}/site"), None)
            .await
            .0,
        204
    );
    assert!(
        s.engine
            .tenancy()
            .unwrap()
            .apps("acme", "dev", "web")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn kubeconfig_for_members_only() {
    let s = Server::start().await;
    setup(&s).await;
    s.call(
        Some("owner@x"),
        Method::POST,
        "/api/v1/organizations/acme/members",
        Some(json!({"subject": "dev@x", "role": "developer", "workspace": "dev"})),
    )
    .await;
    let path = "/api/v1/organizations/acme/workspaces/dev/kubeconfig";
    // The embedded cluster issues bound tokens (TokenRequest): the kubeconfig comes at once.
    let resp = s
        .client
        .get(format!("{}{path}", s.base))
        .header("x-user", "dev@x")
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    let sa = service_account_name(&hxb::core::Subject::new("dev@x").unwrap());
    assert!(
        text.contains("kind: Config")
            && text.contains("token: hxb-embedded.")
            && text.contains(&sa),
        "{text}"
    );
    // No long-lived token Secret is made when TokenRequest works.
    let secrets = s.engine.api::<Secret>(Some("acme-dev-web")).unwrap();
    assert!(
        secrets
            .get_opt(&format!("{sa}-token"))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(s.call(Some("eve@x"), Method::GET, path, None).await.0, 403);
}
