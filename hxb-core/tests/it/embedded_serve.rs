//! The embedded cluster's service proxy over in-process image handlers, and its bound
//! ServiceAccount tokens.

use std::sync::Arc;
use std::time::Duration;

use hxb_core::cluster::{Api, ProxyRequest, ProxyResponse};
use hxb_core::embedded::POD_HEADER;
use hxb_core::{Clock, ClusterBackend, EmbeddedCluster, ErrorKind, ManualClock};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Pod, Service, ServiceAccount};
use serde_json::json;

fn named<K: serde::de::DeserializeOwned>(v: serde_json::Value) -> K {
    serde_json::from_value(v).unwrap()
}

async fn setup(clock: &ManualClock) -> (EmbeddedCluster, Arc<dyn ClusterBackend>) {
    let c = EmbeddedCluster::builder()
        .nodes(2)
        .seed(9)
        .clock(Arc::new(clock.clone()))
        .serve_image("echo:1", |req| async move {
            let pod = req.headers.get(POD_HEADER).cloned().unwrap_or_default();
            ProxyResponse::ok(format!(
                "{} {} {} from {pod}",
                req.method,
                req.path,
                String::from_utf8_lossy(&req.body)
            ))
            .header("X-Version", "1")
        })
        .build();
    let b = c.clone().into_backend();
    Api::<Namespace>::all(b.clone())
        .create(&named(json!({"metadata": {"name": "team"}})))
        .await
        .unwrap();
    (c, b)
}

fn deployment(name: &str, replicas: i32, image: &str) -> Deployment {
    named(json!({
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": image,
                    "ports": [{"name": "http", "containerPort": 8080}]}]}
            }
        }
    }))
}

fn service(name: &str, selector: Option<&str>) -> Service {
    let mut spec = json!({"ports": [
        {"name": "web", "port": 80, "targetPort": "http"},
        {"name": "alt", "port": 8080}
    ]});
    if let Some(app) = selector {
        spec["selector"] = json!({"app": app});
    }
    named(json!({"metadata": {"name": name}, "spec": spec}))
}

#[tokio::test]
async fn requests_reach_ready_pods_round_robin_through_the_service() {
    let clock = ManualClock::at_epoch();
    let (_c, b) = setup(&clock).await;
    Api::<Deployment>::namespaced(b.clone(), "team")
        .create(&deployment("echo", 2, "echo:1"))
        .await
        .unwrap();
    Api::<Service>::namespaced(b.clone(), "team")
        .create(&service("echo", Some("echo")))
        .await
        .unwrap();
    let mut pods: Vec<String> = Api::<Pod>::namespaced(b.clone(), "team")
        .list(&Default::default())
        .await
        .unwrap()
        .into_iter()
        .filter_map(|p| p.metadata.name)
        .collect();
    pods.sort();
    assert_eq!(pods.len(), 2);
    let mut answered = Vec::new();
    // by port name (named target port) and by port number (numeric target port)
    for port in ["web", "80", "alt", "8080"] {
        let r = b
            .proxy_service(
                "team",
                "echo",
                port,
                ProxyRequest::post("/invoke?x=1", "hi"),
            )
            .await
            .unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.headers["x-version"], "1");
        let text = r.text();
        assert!(text.starts_with("POST /invoke?x=1 hi from "), "{text}");
        answered.push(text.rsplit(' ').next().unwrap().to_owned());
    }
    // each service port turns over both endpoints, in pod-name order
    assert_eq!(
        answered,
        [&pods[0], &pods[1], &pods[0], &pods[1]].map(String::clone)
    );
}

#[tokio::test]
async fn no_ready_endpoint_is_unavailable_and_bad_targets_are_typed_errors() {
    let clock = ManualClock::at_epoch();
    let (c, b) = setup(&clock).await;
    let services: Api<Service> = Api::namespaced(b.clone(), "team");
    services
        .create(&service("echo", Some("echo")))
        .await
        .unwrap();
    services.create(&service("manual", None)).await.unwrap();
    let call = |svc: &'static str, port: &'static str| {
        let b = b.clone();
        async move {
            b.proxy_service("team", svc, port, ProxyRequest::new("GET", "/"))
                .await
        }
    };
    // no pods yet, and a Service without selector: no endpoints, like the API server's 503
    for svc in ["echo", "manual"] {
        let err = call(svc, "web").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
        assert!(
            err.to_string()
                .contains(&format!("no endpoints available for service \"{svc}\"")),
            "{err}"
        );
    }
    let deployments: Api<Deployment> = Api::namespaced(b.clone(), "team");
    deployments
        .create(&deployment("echo", 1, "echo:1"))
        .await
        .unwrap();
    assert_eq!(call("echo", "web").await.unwrap().status, 200);
    // a pod that is not Ready is no endpoint
    let pods: Api<Pod> = Api::namespaced(b.clone(), "team");
    let mut pod = pods.list(&Default::default()).await.unwrap().remove(0);
    let status = pod.status.as_mut().unwrap();
    for cond in status.conditions.as_mut().unwrap() {
        if cond.type_ == "Ready" {
            cond.status = "False".into();
        }
    }
    pods.replace_status(&pod).await.unwrap();
    assert_eq!(
        call("echo", "web").await.unwrap_err().kind(),
        ErrorKind::Unavailable
    );
    // a ready pod of an image nothing serves refuses the connection
    deployments
        .replace(&deployment("echo", 1, "other:1"))
        .await
        .unwrap();
    let err = call("echo", "web").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert!(err.to_string().contains("other:1"), "{err}");
    c.serve_image("other:1", |_| async {
        ProxyResponse::new(500, "app failed")
    });
    // the application's own error status is an answer, not an error
    let r = call("echo", "web").await.unwrap();
    assert_eq!((r.status, r.text().as_str()), (500, "app failed"));
    assert!(c.unserve_image("other:1"));
    assert!(!c.unserve_image("other:1"));

    let before = c.objects();
    let err = call("ghost", "web").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.to_string(), "services \"ghost\" not found");
    assert_eq!(
        call("echo", "grpc").await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        call("echo", "").await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    for bad in [
        ProxyRequest::new("FETCH", "/"),
        ProxyRequest::new("GET", "relative"),
        ProxyRequest::new("GET", "/a/../secret"),
        ProxyRequest::new("GET", "/a/%2E%2e/secret"),
        ProxyRequest::new("GET", "/./x"),
        ProxyRequest::new("GET", "/a b"),
        ProxyRequest::new("GET", "/").header("bad name", "x"),
    ] {
        let err = b
            .proxy_service("team", "echo", "web", bad.clone())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}: {err}");
    }
    for (ns, svc) in [("Team", "echo"), ("team", "1echo"), ("team", "echo.x")] {
        let err = b
            .proxy_service(ns, svc, "web", ProxyRequest::new("GET", "/"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{ns}/{svc}: {err}");
    }
    assert_eq!(c.objects(), before, "refused requests change nothing");
}

#[tokio::test]
async fn bound_tokens_authenticate_as_their_service_account_until_they_expire() {
    let clock = ManualClock::at_epoch();
    let (c, b) = setup(&clock).await;
    let sas: Api<ServiceAccount> = Api::namespaced(b.clone(), "team");
    sas.create(&named(json!({"metadata": {"name": "robot"}})))
        .await
        .unwrap();
    let aud = vec!["hxb".to_owned()];
    let tok = b.request_token("team", "robot", &aud, 3600).await.unwrap();
    assert!(
        !format!("{tok:?}").contains(&tok.token),
        "redacted in Debug"
    );
    assert_eq!(
        tok.expires_at,
        clock
            .now()
            .checked_add(jiff::SignedDuration::from_secs(3600))
            .unwrap()
    );
    let user = c.authenticate(&tok.token).unwrap();
    assert_eq!(user.username, "system:serviceaccount:team:robot");
    assert!(
        user.groups
            .contains(&"system:serviceaccounts:team".to_owned())
    );
    assert_eq!(user.audiences, aud);
    let other = b.request_token("team", "robot", &[], 600).await.unwrap();
    assert_ne!(other.token, tok.token);

    // bad input: typed errors, nothing issued, nothing changed
    let before = c.objects();
    for (ns, sa, exp, kind) in [
        ("team", "robot", 599, ErrorKind::InvalidInput),
        ("team", "robot", (1i64 << 32) + 1, ErrorKind::InvalidInput),
        ("Team", "robot", 3600, ErrorKind::InvalidInput),
        ("team", "ghost", 3600, ErrorKind::NotFound),
        ("nowhere", "robot", 3600, ErrorKind::NotFound),
    ] {
        let err = b.request_token(ns, sa, &[], exp).await.unwrap_err();
        assert_eq!(err.kind(), kind, "{ns}/{sa} {exp}: {err}");
    }
    assert_eq!(
        b.request_token("team", "robot", &[" ".into()], 3600)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(c.objects(), before);
    assert_eq!(
        c.authenticate("hxb-embedded.nonsense").unwrap_err().kind(),
        ErrorKind::Forbidden
    );

    // expiry: the 10-minute token goes first, then the hour one
    clock.advance(Duration::from_secs(600));
    let err = c.authenticate(&other.token).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    assert!(err.to_string().contains("expired"), "{err}");
    assert!(c.authenticate(&tok.token).is_ok());
    // deleting the ServiceAccount invalidates its tokens (re-creating it does not revive them)
    sas.delete("robot").await.unwrap();
    sas.create(&named(json!({"metadata": {"name": "robot"}})))
        .await
        .unwrap();
    assert_eq!(
        c.authenticate(&tok.token).unwrap_err().kind(),
        ErrorKind::Forbidden
    );
}
