//! Functions answer through their Service (the embedded cluster's service proxy over
//! in-process image handlers), so deploys and rollbacks change which version answers; and
//! application operations record their actor in the audit log.

use std::sync::Arc;

use hxb_core::cluster::{ProxyRequest, ProxyResponse};
use hxb_core::embedded::POD_HEADER;
use hxb_core::store::MemoryStore;
use hxb_core::{EmbeddedCluster, ErrorKind, ResourceList, StateStore};
use hxb_tenancy::{AuditEntry, Tenancy};

use crate::engine::{seed, store_dump};

fn answer(version: &'static str) -> impl Fn(ProxyRequest) -> std::future::Ready<ProxyResponse> {
    move |req: ProxyRequest| {
        let pod = req.headers.get(POD_HEADER).cloned().unwrap_or_default();
        std::future::ready(
            ProxyResponse::ok(format!("{version}: {}", String::from_utf8_lossy(&req.body)))
                .header("x-pod", &pod),
        )
    }
}

struct World {
    t: Tenancy,
    cluster: EmbeddedCluster,
    store: Arc<dyn StateStore>,
}

fn world() -> World {
    let cluster = EmbeddedCluster::builder()
        .nodes(3)
        .seed(4)
        .serve_image("hello:1", answer("v1"))
        .serve_image("hello:2", answer("v2"))
        .build();
    let store: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let t = Tenancy::new(cluster.clone().into_backend(), store.clone());
    World { t, cluster, store }
}

fn req(cpu: &str, mem: &str) -> ResourceList {
    ResourceList::parse([("cpu", cpu), ("memory", mem)]).unwrap()
}

async fn invoke(t: &Tenancy, payload: &str) -> hxb_core::Result<ProxyResponse> {
    t.invoke_function("acme", "dev", "api", "hello", payload)
        .execute()
        .await
}

#[tokio::test]
async fn the_active_version_answers_through_the_service_and_rollback_switches_it() {
    let w = world();
    let t = &w.t;
    seed(t).await;
    t.create_app("acme", "dev", "api", "hello")
        .function("hello:1")
        .replicas(2)
        .requests(req("100m", "64Mi"))
        .execute()
        .await
        .unwrap();
    let r = invoke(t, "ada").await.unwrap();
    assert_eq!((r.status, r.text().as_str()), (200, "v1: ada"));
    // two replicas behind the Service: consecutive calls reach both
    let other = invoke(t, "ada").await.unwrap();
    assert_ne!(r.headers["x-pod"], other.headers["x-pod"]);

    assert_eq!(
        t.deploy_function("acme", "dev", "api", "hello", "hello:2")
            .await
            .unwrap(),
        2
    );
    assert_eq!(invoke(t, "bob").await.unwrap().text(), "v2: bob");
    t.rollback_function("acme", "dev", "api", "hello", 1)
        .await
        .unwrap();
    assert_eq!(invoke(t, "cy").await.unwrap().text(), "v1: cy");
    let r = t
        .invoke_function("acme", "dev", "api", "hello", "")
        .method("GET")
        .path("/healthz?deep=1")
        .header("Accept", "text/plain")
        .execute()
        .await
        .unwrap();
    assert_eq!(r.status, 200);

    // stopped: no ready endpoint, like the API server's 503
    t.stop_app("acme", "dev", "api", "hello").await.unwrap();
    let err = invoke(t, "x").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert!(err.to_string().contains("no endpoints available"), "{err}");
    t.start_app("acme", "dev", "api", "hello").await.unwrap();
    assert_eq!(invoke(t, "x").await.unwrap().text(), "v1: x");
    // a version whose image nothing serves refuses the connection
    t.deploy_function("acme", "dev", "api", "hello", "hello:3")
        .await
        .unwrap();
    let err = invoke(t, "x").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert!(err.to_string().contains("hello:3"), "{err}");
    t.rollback_function("acme", "dev", "api", "hello", 2)
        .await
        .unwrap();
    assert_eq!(invoke(t, "x").await.unwrap().text(), "v2: x");

    // bad input: typed errors, nothing changed
    t.create_app("acme", "dev", "api", "shop")
        .stateless("shop:1")
        .requests(req("100m", "64Mi"))
        .execute()
        .await
        .unwrap();
    let (store_before, objects_before) = (store_dump(w.store.as_ref()).await, w.cluster.objects());
    let cases = [
        t.invoke_function("acme", "dev", "api", "ghost", "x"),
        t.invoke_function("acme", "dev", "api", "shop", "x"),
        t.invoke_function("acme", "dev", "nope", "hello", "x"),
        t.invoke_function("acme", "dev", "api", "Bad_Name", "x"),
        t.invoke_function("acme", "dev", "api", "hello", "x")
            .method("BREW"),
        t.invoke_function("acme", "dev", "api", "hello", "x")
            .path("no-slash"),
        t.invoke_function("acme", "dev", "api", "hello", "x")
            .path("/../../etc"),
    ];
    let mut kinds = Vec::new();
    for c in cases {
        kinds.push(c.execute().await.unwrap_err().kind());
    }
    assert_eq!(
        kinds,
        [
            ErrorKind::NotFound,
            ErrorKind::InvalidInput,
            ErrorKind::NotFound,
            ErrorKind::InvalidInput,
            ErrorKind::InvalidInput,
            ErrorKind::InvalidInput,
            ErrorKind::InvalidInput,
        ]
    );
    assert_eq!(store_dump(w.store.as_ref()).await, store_before);
    assert_eq!(w.cluster.objects(), objects_before);
}

fn find<'a>(log: &'a [AuditEntry], action: &str) -> Vec<&'a AuditEntry> {
    log.iter().filter(|e| e.action == action).collect()
}

#[tokio::test]
async fn application_operations_record_their_actor() {
    let w = world();
    let t = &w.t;
    seed(t).await;
    let start = t.audit_log(0, 10_000).await.unwrap().len() as u64;
    t.create_app("acme", "dev", "api", "hello")
        .function("hello:1")
        .requests(req("100m", "64Mi"))
        .actor("alice")
        .execute()
        .await
        .unwrap();
    t.create_app("acme", "dev", "api", "nightly")
        .cron_job("batch:1", "0 3 * * *")
        .requests(req("100m", "64Mi"))
        .execute()
        .await
        .unwrap();
    let f = ("acme", "dev", "api", "hello");
    t.scale_app(f.0, f.1, f.2, f.3, 2)
        .actor("bob")
        .await
        .unwrap();
    t.restart_app(f.0, f.1, f.2, f.3)
        .actor("bob")
        .execute()
        .await
        .unwrap();
    t.stop_app(f.0, f.1, f.2, f.3).actor("carol").await.unwrap();
    t.start_app(f.0, f.1, f.2, f.3)
        .actor("carol")
        .await
        .unwrap();
    t.deploy_function(f.0, f.1, f.2, f.3, "hello:2")
        .actor("dave")
        .await
        .unwrap();
    t.rollback_function(f.0, f.1, f.2, f.3, 1)
        .actor("dave")
        .await
        .unwrap();
    t.invoke_function(f.0, f.1, f.2, f.3, "hi")
        .actor("erin")
        .execute()
        .await
        .unwrap();
    let job = t
        .trigger_cron_job("acme", "dev", "api", "nightly")
        .actor("frank")
        .await
        .unwrap();
    // a refusal records its actor too
    let err = t
        .scale_app(f.0, f.1, f.2, f.3, -1)
        .actor("mallory")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    t.delete_app("acme", "dev", "api", "nightly")
        .actor("grace")
        .await
        .unwrap();

    let log = t.audit_log(start, 10_000).await.unwrap();
    let who = |action: &str| -> Vec<(String, String, String)> {
        find(&log, action)
            .into_iter()
            .map(|e| (e.actor.clone(), e.target.clone(), e.result.clone()))
            .collect()
    };
    let ok = |actor: &str, target: &str| (actor.to_owned(), target.to_owned(), "ok".to_owned());
    let hello = "acme/dev/api/hello";
    assert_eq!(
        who("create_app"),
        [ok("alice", hello), ok("system", "acme/dev/api/nightly")]
    );
    let scale = who("scale_app");
    assert_eq!(scale[0], ok("bob", hello));
    assert_eq!(scale[1].0, "mallory");
    assert!(
        scale[1].2.starts_with("refused: invalid_input"),
        "{:?}",
        scale[1]
    );
    assert_eq!(who("restart_app"), [ok("bob", hello)]);
    assert_eq!(who("stop_app"), [ok("carol", hello)]);
    assert_eq!(who("start_app"), [ok("carol", hello)]);
    assert_eq!(who("deploy_function"), [ok("dave", hello)]);
    assert_eq!(who("rollback_function"), [ok("dave", hello)]);
    // the invocation names the version that answered
    assert_eq!(who("invoke_function"), [ok("erin", "acme/dev/api/hello@1")]);
    assert_eq!(
        who("trigger_cron_job"),
        [ok("frank", &format!("acme/dev/api/nightly/{job}"))]
    );
    assert_eq!(who("delete_app"), [ok("grace", "acme/dev/api/nightly")]);
}
