//! The Kubernetes backend against a scripted API server (a tower mock transport): the exact
//! HTTP requests it sends, how it maps answers onto errors, and how it retries.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use http::{Request, Response};
use hxb_core::cluster::{
    ApplyOptions, ClusterBackend, DynamicObject, ListOptions, ResourceType, WatchEvent,
    WatchOptions,
};
use hxb_core::kube_backend::{RetryAfterLayer, RetryPolicy};
use hxb_core::{Error, ErrorKind, KubeBackend, Quantity, Selector};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod};
use kube::client::Body;
use serde_json::{Value, json};
use tower_test::mock;

/// One request the scripted server received.
#[derive(Debug)]
struct Seen {
    method: String,
    path: String,
    query: BTreeMap<String, String>,
    content_type: Option<String>,
    body: Option<Value>,
}

/// What the scripted server does with one request.
enum Reply {
    /// Answer with this status code and JSON body.
    Json(u16, Value),
    /// Answer 200 with this raw body (watch streams).
    Raw(String),
    /// Answer with this status, content type and body (an application behind a proxy).
    Http(u16, &'static str, Vec<u8>),
    /// Fail the transport.
    Transport,
    /// Never answer.
    Hang,
    /// 429 with a plain-text body and `Retry-After: <secs>`, as API priority and fairness
    /// answers.
    Throttle(u32),
}

fn ok(v: Value) -> Reply {
    Reply::Json(200, v)
}

fn status(code: u16, reason: &str, message: &str) -> Reply {
    Reply::Json(
        code,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": message, "reason": reason, "code": code}),
    )
}

fn fast() -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(4)
        .base_backoff(Duration::from_millis(1))
        .max_backoff(Duration::from_millis(4))
}

/// A backend whose transport is a script: the returned task answers each request with the
/// next reply and, once the backend is dropped, yields every request it saw. A request beyond
/// the script fails the test.
fn scripted(
    policy: RetryPolicy,
    replies: Vec<Reply>,
) -> (KubeBackend, tokio::task::JoinHandle<Vec<Seen>>) {
    let (svc, handle) = mock::pair::<Request<Body>, Response<Body>>();
    let backend = KubeBackend::new(kube::Client::new(svc, "default")).with_retry_policy(policy);
    (backend, serve(handle, replies))
}

/// Like [`scripted`], with [`RetryAfterLayer`] in the client stack as the constructors build it.
fn scripted_with_layer(
    policy: RetryPolicy,
    replies: Vec<Reply>,
) -> (KubeBackend, tokio::task::JoinHandle<Vec<Seen>>) {
    let (svc, handle) = mock::pair::<Request<Body>, Response<Body>>();
    let client = kube::Client::new(tower_layer::Layer::layer(&RetryAfterLayer, svc), "default");
    let backend = KubeBackend::new(client).with_retry_policy(policy);
    (backend, serve(handle, replies))
}

fn serve(
    mut handle: mock::Handle<Request<Body>, Response<Body>>,
    replies: Vec<Reply>,
) -> tokio::task::JoinHandle<Vec<Seen>> {
    tokio::spawn(async move {
        let mut seen = Vec::new();
        let mut replies = replies.into_iter();
        let mut hung = Vec::new();
        while let Some((req, send)) = handle.next_request().await {
            let (parts, body) = req.into_parts();
            let bytes = body.collect_bytes().await.unwrap();
            let query = parts
                .uri
                .query()
                .unwrap_or_default()
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (k.to_owned(), v.to_owned())
                })
                .collect();
            let req = Seen {
                method: parts.method.to_string(),
                path: parts.uri.path().to_owned(),
                query,
                content_type: parts
                    .headers
                    .get(http::header::CONTENT_TYPE)
                    .map(|v| v.to_str().unwrap().to_owned()),
                body: (!bytes.is_empty()).then(|| serde_json::from_slice(&bytes).unwrap()),
            };
            let Some(reply) = replies.next() else {
                panic!("unexpected request {} {}", req.method, req.path);
            };
            seen.push(req);
            match reply {
                Reply::Json(code, v) => send.send_response(
                    Response::builder()
                        .status(code)
                        .header("content-type", "application/json")
                        .body(Body::from(serde_json::to_vec(&v).unwrap()))
                        .unwrap(),
                ),
                Reply::Raw(text) => send.send_response(
                    Response::builder()
                        .status(200)
                        .body(Body::from(text.into_bytes()))
                        .unwrap(),
                ),
                Reply::Http(code, ct, body) => send.send_response(
                    Response::builder()
                        .status(code)
                        .header("content-type", ct)
                        .header("x-app", "fn")
                        .body(Body::from(body))
                        .unwrap(),
                ),
                Reply::Transport => send.send_error(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "connection reset by peer",
                )),
                Reply::Hang => hung.push(send),
                Reply::Throttle(secs) => send.send_response(
                    Response::builder()
                        .status(429)
                        .header("content-type", "text/plain; charset=utf-8")
                        .header("retry-after", secs.to_string())
                        .body(Body::from(
                            b"Too many requests, please try again later.\n".to_vec(),
                        ))
                        .unwrap(),
                ),
            }
        }
        assert!(
            replies.next().is_none(),
            "the script expected more requests"
        );
        seen
    })
}

async fn finish(backend: KubeBackend, server: tokio::task::JoinHandle<Vec<Seen>>) -> Vec<Seen> {
    drop(backend);
    server.await.unwrap()
}

fn ty_of<K>() -> ResourceType
where
    K: kube::Resource<DynamicType = ()>,
    K::Scope: hxb_core::cluster::ScopeInfo,
{
    ResourceType::of::<K>()
}

fn object(ns: Option<&str>, name: &str) -> DynamicObject {
    let mut v = json!({"metadata": {"name": name}, "data": {"k": "v"}});
    if let Some(ns) = ns {
        v["metadata"]["namespace"] = json!(ns);
    }
    serde_json::from_value(v).unwrap()
}

fn configmap_json(rv: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": "cfg", "namespace": "team-a", "resourceVersion": rv},
           "data": {"k": "v"}})
}

#[tokio::test]
async fn apply_is_server_side_apply_as_hxb() {
    let (backend, server) = scripted(fast(), vec![ok(configmap_json("7"))]);
    let mut obj = object(Some("team-a"), "cfg");
    obj.metadata.managed_fields = Some(vec![Default::default()]);
    let got = backend
        .apply(&ty_of::<ConfigMap>(), obj, &ApplyOptions::default())
        .await
        .unwrap();
    assert_eq!(got.metadata.resource_version.as_deref(), Some("7"));
    let seen = finish(backend, server).await;
    assert_eq!(seen.len(), 1);
    let r = &seen[0];
    assert_eq!(r.method, "PATCH");
    assert_eq!(r.path, "/api/v1/namespaces/team-a/configmaps/cfg");
    assert_eq!(r.query.get("fieldManager").map(String::as_str), Some("hxb"));
    assert_eq!(r.query.get("force").map(String::as_str), Some("true"));
    assert_eq!(
        r.content_type.as_deref(),
        Some("application/apply-patch+yaml")
    );
    let body = r.body.as_ref().unwrap();
    assert_eq!(body["apiVersion"], "v1");
    assert_eq!(body["kind"], "ConfigMap");
    assert_eq!(body["data"]["k"], "v");
    assert!(body["metadata"].get("managedFields").is_none(), "{body}");
}

#[tokio::test]
async fn apply_without_force_and_in_a_named_group() {
    let deploy = json!({"apiVersion": "apps/v1", "kind": "Deployment",
                        "metadata": {"name": "web", "namespace": "team-a"}, "spec": {}});
    let (backend, server) = scripted(fast(), vec![ok(deploy)]);
    let opts = ApplyOptions {
        field_manager: "hxb".into(),
        force: false,
    };
    backend
        .apply(&ty_of::<Deployment>(), object(Some("team-a"), "web"), &opts)
        .await
        .unwrap();
    let seen = finish(backend, server).await;
    assert_eq!(
        seen[0].path,
        "/apis/apps/v1/namespaces/team-a/deployments/web"
    );
    assert_eq!(seen[0].query.get("force"), None);
    assert_eq!(seen[0].body.as_ref().unwrap()["apiVersion"], "apps/v1");
}

#[tokio::test]
async fn apply_retries_a_conflict_when_forced() {
    let (backend, server) = scripted(
        fast(),
        vec![
            status(
                409,
                "Conflict",
                "Operation cannot be fulfilled: the object has been modified",
            ),
            ok(configmap_json("9")),
        ],
    );
    let got = backend
        .apply(
            &ty_of::<ConfigMap>(),
            object(Some("team-a"), "cfg"),
            &ApplyOptions::default(),
        )
        .await;
    assert_eq!(got.unwrap().metadata.resource_version.as_deref(), Some("9"));
    assert_eq!(finish(backend, server).await.len(), 2);
}

#[tokio::test]
async fn apply_does_not_retry_a_field_ownership_conflict_without_force() {
    let (backend, server) = scripted(
        fast(),
        vec![status(
            409,
            "Conflict",
            "Apply failed with 1 conflict: conflict with \"kubectl\"",
        )],
    );
    let opts = ApplyOptions {
        field_manager: "hxb".into(),
        force: false,
    };
    let err = backend
        .apply(&ty_of::<ConfigMap>(), object(Some("team-a"), "cfg"), &opts)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(finish(backend, server).await.len(), 1);
}

#[tokio::test]
async fn create_posts_and_never_retries_already_exists() {
    let (backend, server) = scripted(
        fast(),
        vec![status(
            409,
            "AlreadyExists",
            "namespaces \"team-a\" already exists",
        )],
    );
    let err = backend
        .create(&ty_of::<Namespace>(), object(None, "team-a"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{err}");
    assert!(
        matches!(&err, Error::AlreadyExists { kind, name } if kind == "Namespace" && name == "team-a")
    );
    let seen = finish(backend, server).await;
    assert_eq!(seen.len(), 1, "AlreadyExists must not be retried");
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].path, "/api/v1/namespaces");
    assert_eq!(seen[0].content_type.as_deref(), Some("application/json"));
    assert_eq!(seen[0].body.as_ref().unwrap()["kind"], "Namespace");
}

#[tokio::test]
async fn replace_never_retries_a_stale_resource_version() {
    let (backend, server) = scripted(
        fast(),
        vec![status(
            409,
            "Conflict",
            "Operation cannot be fulfilled on configmaps \"cfg\": the object has been modified",
        )],
    );
    let mut obj = object(Some("team-a"), "cfg");
    obj.metadata.resource_version = Some("3".into());
    let err = backend
        .replace(&ty_of::<ConfigMap>(), obj)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    let seen = finish(backend, server).await;
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "PUT");
    assert_eq!(seen[0].path, "/api/v1/namespaces/team-a/configmaps/cfg");
    assert_eq!(
        seen[0].body.as_ref().unwrap()["metadata"]["resourceVersion"],
        "3"
    );
}

#[tokio::test]
async fn replace_status_puts_the_status_subresource() {
    let (backend, server) = scripted(fast(), vec![ok(configmap_json("4"))]);
    backend
        .replace_status(&ty_of::<ConfigMap>(), object(Some("team-a"), "cfg"))
        .await
        .unwrap();
    let seen = finish(backend, server).await;
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("PUT", "/api/v1/namespaces/team-a/configmaps/cfg/status")
    );
}

#[tokio::test]
async fn get_maps_404_to_not_found() {
    let (backend, server) = scripted(
        fast(),
        vec![status(404, "NotFound", "configmaps \"cfg\" not found")],
    );
    let err = backend
        .get(&ty_of::<ConfigMap>(), Some("team-a"), "cfg")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::NotFound { kind, name } if kind == "configmaps" && name == "cfg"),
        "{err}"
    );
    let seen = finish(backend, server).await;
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("GET", "/api/v1/namespaces/team-a/configmaps/cfg")
    );
}

#[tokio::test]
async fn a_namespaced_get_without_namespace_is_refused_locally() {
    let (backend, server) = scripted(fast(), vec![]);
    let err = backend
        .get(&ty_of::<ConfigMap>(), None, "cfg")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let err = backend
        .create(&ty_of::<ConfigMap>(), object(None, "cfg"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(finish(backend, server).await.is_empty());
}

#[tokio::test]
async fn quota_refusals_become_quota_exceeded() {
    let msg = "pods \"web-0\" is forbidden: exceeded quota: compute, requested: requests.cpu=2, \
               used: requests.cpu=1, limited: requests.cpu=2";
    let (backend, server) = scripted(fast(), vec![status(403, "Forbidden", msg)]);
    let err = backend
        .create(&ty_of::<Pod>(), object(Some("team-a"), "web-0"))
        .await
        .unwrap_err();
    let Error::QuotaExceeded(q) = &err else {
        panic!("{err}")
    };
    assert_eq!(q.quota, "team-a/compute");
    assert_eq!(q.exceeded.len(), 1);
    assert_eq!(q.exceeded[0].resource.as_str(), "requests.cpu");
    assert_eq!(q.exceeded[0].requested, Quantity::parse("2").unwrap());
    assert_eq!(q.exceeded[0].used, Quantity::parse("1").unwrap());
    assert_eq!(q.exceeded[0].limit, Quantity::parse("2").unwrap());
    assert_eq!(
        finish(backend, server).await.len(),
        1,
        "quota refusals are not retried"
    );
}

#[tokio::test]
async fn other_forbidden_answers_are_forbidden() {
    let (backend, server) = scripted(
        fast(),
        vec![status(
            403,
            "Forbidden",
            "configmaps is forbidden: User \"x\" cannot create resource",
        )],
    );
    let err = backend
        .create(&ty_of::<ConfigMap>(), object(Some("team-a"), "cfg"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    finish(backend, server).await;
}

#[tokio::test(start_paused = true)]
async fn throttling_is_retried_after_the_servers_retry_after() {
    let throttled = Reply::Json(
        429,
        json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "TooManyRequests",
               "message": "too many requests", "code": 429, "details": {"retryAfterSeconds": 2}}),
    );
    let (backend, server) = scripted(fast(), vec![throttled, ok(configmap_json("5"))]);
    let start = tokio::time::Instant::now();
    let got = backend
        .get(&ty_of::<ConfigMap>(), Some("team-a"), "cfg")
        .await
        .unwrap();
    assert_eq!(got.metadata.resource_version.as_deref(), Some("5"));
    assert!(
        start.elapsed() >= Duration::from_secs(2),
        "waited only {:?}",
        start.elapsed()
    );
    assert_eq!(finish(backend, server).await.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn the_retry_after_header_of_plain_text_throttling_is_honoured() {
    let (backend, server) =
        scripted_with_layer(fast(), vec![Reply::Throttle(3), ok(configmap_json("6"))]);
    let start = tokio::time::Instant::now();
    backend
        .get(&ty_of::<ConfigMap>(), Some("team-a"), "cfg")
        .await
        .unwrap();
    assert!(
        start.elapsed() >= Duration::from_secs(3),
        "waited only {:?}",
        start.elapsed()
    );
    assert_eq!(finish(backend, server).await.len(), 2);

    // Exhausted, the error still reads as throttling.
    let (backend, server) = scripted_with_layer(fast().max_attempts(1), vec![Reply::Throttle(1)]);
    let err = backend
        .get(&ty_of::<ConfigMap>(), Some("team-a"), "cfg")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert!(err.to_string().contains("Too many requests"), "{err}");
    finish(backend, server).await;
}

#[tokio::test]
async fn the_layer_passes_other_answers_through() {
    let (backend, server) = scripted_with_layer(
        fast(),
        vec![status(404, "NotFound", "nope"), ok(configmap_json("8"))],
    );
    let err = backend
        .get(&ty_of::<ConfigMap>(), Some("team-a"), "cfg")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let got = backend
        .get(&ty_of::<ConfigMap>(), Some("team-a"), "cfg")
        .await
        .unwrap();
    assert_eq!(got.metadata.resource_version.as_deref(), Some("8"));
    finish(backend, server).await;
}

#[tokio::test]
async fn persistent_server_errors_exhaust_the_retries() {
    let replies = (0..4)
        .map(|_| status(500, "InternalError", "etcdserver: request timed out"))
        .collect();
    let (backend, server) = scripted(fast(), replies);
    let err = backend
        .list(
            &ty_of::<ConfigMap>(),
            Some("team-a"),
            &ListOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert!(
        std::error::Error::source(&err).is_some(),
        "the kube error is kept as the source"
    );
    assert_eq!(
        finish(backend, server).await.len(),
        4,
        "exactly max_attempts requests"
    );
}

#[tokio::test]
async fn transport_failures_are_retried() {
    let (backend, server) = scripted(
        fast(),
        vec![Reply::Transport, Reply::Transport, ok(configmap_json("1"))],
    );
    backend
        .get(&ty_of::<ConfigMap>(), Some("team-a"), "cfg")
        .await
        .unwrap();
    assert_eq!(finish(backend, server).await.len(), 3);

    let (backend, server) = scripted(
        fast().max_attempts(2),
        vec![Reply::Transport, Reply::Transport],
    );
    let err = backend
        .get(&ty_of::<ConfigMap>(), Some("team-a"), "cfg")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    finish(backend, server).await;
}

#[tokio::test(start_paused = true)]
async fn an_unanswered_call_times_out() {
    let policy = fast()
        .max_attempts(1)
        .attempt_timeout(Some(Duration::from_secs(30)));
    let (backend, server) = scripted(policy, vec![Reply::Hang]);
    let err = backend
        .get(&ty_of::<ConfigMap>(), Some("team-a"), "cfg")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    finish(backend, server).await;
}

#[tokio::test]
async fn delete_uses_background_propagation_and_maps_not_found() {
    let (backend, server) = scripted(
        fast(),
        vec![ok(configmap_json("2")), status(404, "NotFound", "gone")],
    );
    backend
        .delete(&ty_of::<ConfigMap>(), Some("team-a"), "cfg")
        .await
        .unwrap();
    let err = backend
        .delete(&ty_of::<ConfigMap>(), Some("team-a"), "cfg")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let seen = finish(backend, server).await;
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("DELETE", "/api/v1/namespaces/team-a/configmaps/cfg")
    );
    assert_eq!(
        seen[0].body.as_ref().unwrap()["propagationPolicy"],
        "Background"
    );
}

#[tokio::test]
async fn a_delete_whose_answer_was_lost_succeeds_on_the_retried_404() {
    let (backend, server) = scripted(
        fast(),
        vec![
            status(503, "ServiceUnavailable", "down"),
            status(404, "NotFound", "gone"),
        ],
    );
    backend
        .delete(&ty_of::<Namespace>(), None, "team-a")
        .await
        .unwrap();
    let seen = finish(backend, server).await;
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].path, "/api/v1/namespaces/team-a");
}

#[tokio::test]
async fn list_pages_with_the_label_selector_and_sorts() {
    let cm = |ns: &str, name: &str| json!({"metadata": {"name": name, "namespace": ns}});
    let page1 = json!({"apiVersion": "v1", "kind": "ConfigMapList",
                       "metadata": {"resourceVersion": "100", "continue": "tok1"},
                       "items": [cm("b", "x"), cm("a", "z")]});
    let page2 = json!({"apiVersion": "v1", "kind": "ConfigMapList",
                       "metadata": {"resourceVersion": "100"}, "items": [cm("a", "y")]});
    let (backend, server) = scripted(fast(), vec![ok(page1), ok(page2)]);
    let opts = ListOptions::labels(Selector::parse("app=web").unwrap());
    let list = backend
        .list(&ty_of::<ConfigMap>(), None, &opts)
        .await
        .unwrap();
    assert_eq!(list.resource_version, "100");
    let names: Vec<_> = list
        .items
        .iter()
        .map(|o| {
            format!(
                "{}/{}",
                o.metadata.namespace.as_deref().unwrap(),
                o.metadata.name.as_deref().unwrap()
            )
        })
        .collect();
    assert_eq!(names, ["a/y", "a/z", "b/x"]);
    let seen = finish(backend, server).await;
    assert_eq!(seen[0].path, "/api/v1/configmaps", "all namespaces");
    assert_eq!(
        seen[0].query.get("labelSelector").map(String::as_str),
        Some("app%3Dweb")
    );
    assert_eq!(seen[0].query.get("continue"), None);
    assert_eq!(
        seen[1].query.get("continue").map(String::as_str),
        Some("tok1")
    );
    assert_eq!(
        seen[1].query.get("labelSelector").map(String::as_str),
        Some("app%3Dweb")
    );
}

fn watch_line(kind: &str, object: Value) -> String {
    format!("{}\n", json!({"type": kind, "object": object}))
}

#[tokio::test]
async fn watch_starts_now_maps_events_skips_bookmarks_and_resumes() {
    let cm = |rv: &str| {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
                               "metadata": {"name": "cfg", "namespace": "team-a", "resourceVersion": rv}})
    };
    let first = [
        watch_line("ADDED", cm("11")),
        watch_line(
            "BOOKMARK",
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"resourceVersion": "12"}}),
        ),
        watch_line("MODIFIED", cm("13")),
        watch_line(
            "BOOKMARK",
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"resourceVersion": "15"}}),
        ),
    ]
    .concat();
    let second = [
        watch_line("DELETED", cm("16")),
        watch_line(
            "ERROR",
            json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 410,
                   "reason": "Expired", "message": "too old resource version: 16 (20)"}),
        ),
    ]
    .concat();
    let list = json!({"apiVersion": "v1", "kind": "ConfigMapList", "metadata": {"resourceVersion": "10"}, "items": []});
    let (backend, server) = scripted(
        fast(),
        vec![ok(list), Reply::Raw(first), Reply::Raw(second)],
    );
    let stream = backend
        .watch(
            &ty_of::<ConfigMap>(),
            Some("team-a"),
            &WatchOptions::default(),
        )
        .await
        .unwrap();
    let events: Vec<_> = stream.collect().await;
    assert_eq!(events.len(), 4, "{events:?}");
    let rv = |e: &hxb_core::Result<WatchEvent>| {
        e.as_ref()
            .unwrap()
            .object()
            .metadata
            .resource_version
            .clone()
            .unwrap()
    };
    assert!(matches!(events[0], Ok(WatchEvent::Added(_))));
    assert_eq!(rv(&events[0]), "11");
    assert!(matches!(events[1], Ok(WatchEvent::Modified(_))));
    assert!(matches!(events[2], Ok(WatchEvent::Deleted(_))));
    assert_eq!(rv(&events[2]), "16");
    assert_eq!(
        events[3].as_ref().unwrap_err().kind(),
        ErrorKind::Conflict,
        "410 Gone ends the watch"
    );
    drop(events);
    let seen = finish(backend, server).await;
    assert_eq!(seen[0].query.get("limit").map(String::as_str), Some("1"));
    assert_eq!(seen[1].path, "/api/v1/namespaces/team-a/configmaps");
    assert_eq!(seen[1].query.get("watch").map(String::as_str), Some("true"));
    assert_eq!(
        seen[1].query.get("allowWatchBookmarks").map(String::as_str),
        Some("true")
    );
    assert_eq!(
        seen[1].query.get("resourceVersion").map(String::as_str),
        Some("10")
    );
    assert_eq!(
        seen[2].query.get("resourceVersion").map(String::as_str),
        Some("15"),
        "resumed from the last bookmark"
    );
}

#[tokio::test]
async fn watch_from_a_given_resource_version_skips_the_list() {
    let (backend, server) = scripted(fast(), vec![status(403, "Forbidden", "cannot watch")]);
    let opts = WatchOptions {
        resource_version: Some("42".into()),
        ..Default::default()
    };
    let err = backend
        .watch(&ty_of::<ConfigMap>(), None, &opts)
        .await
        .map(|_| ())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    let seen = finish(backend, server).await;
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].query.get("resourceVersion").map(String::as_str),
        Some("42")
    );
}

#[tokio::test]
async fn a_create_retried_after_a_lost_answer_reports_already_exists_to_the_caller() {
    let (backend, server) = scripted(
        fast(),
        vec![
            Reply::Transport,
            status(409, "AlreadyExists", "namespaces \"team-a\" already exists"),
        ],
    );
    let err = backend
        .create(&ty_of::<Namespace>(), object(None, "team-a"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    assert_eq!(finish(backend, server).await.len(), 2);
}

#[tokio::test]
async fn replace_is_retried_on_server_errors_but_not_on_501() {
    let (backend, server) = scripted(
        fast(),
        vec![
            status(503, "ServiceUnavailable", "etcd leader change"),
            ok(configmap_json("12")),
        ],
    );
    let got = backend
        .replace(&ty_of::<ConfigMap>(), object(Some("team-a"), "cfg"))
        .await
        .unwrap();
    assert_eq!(got.metadata.resource_version.as_deref(), Some("12"));
    assert_eq!(finish(backend, server).await.len(), 2);

    let (backend, server) = scripted(fast(), vec![status(501, "NotImplemented", "no")]);
    let err = backend
        .replace(&ty_of::<ConfigMap>(), object(Some("team-a"), "cfg"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Backend);
    assert_eq!(finish(backend, server).await.len(), 1);
}

/// A kubeconfig for a server that refuses connections (nothing listens on port 1).
const UNREACHABLE_KUBECONFIG: &str = r#"
apiVersion: v1
kind: Config
clusters:
- name: nowhere
  cluster:
    server: https://127.0.0.1:1
    insecure-skip-tls-verify: true
users:
- name: someone
  user:
    token: not-a-real-token
contexts:
- name: nowhere
  context: {cluster: nowhere, user: someone, namespace: team-a}
current-context: nowhere
"#;

#[tokio::test]
async fn from_kubeconfig_builds_a_real_client_that_reports_unreachable_servers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig");
    std::fs::write(&path, UNREACHABLE_KUBECONFIG).unwrap();
    let backend = KubeBackend::from_kubeconfig(&path, Some("nowhere"))
        .await
        .unwrap()
        .with_retry_policy(fast().max_attempts(2));
    assert_eq!(backend.kind(), hxb_core::cluster::BackendKind::Kubernetes);
    let err = backend
        .get(&ty_of::<ConfigMap>(), Some("team-a"), "cfg")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert!(std::error::Error::source(&err).is_some());
}

#[tokio::test]
async fn bad_kubeconfigs_are_invalid_input() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let err = KubeBackend::from_kubeconfig(&missing, None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(err.to_string().contains("missing"), "{err}");

    let path = dir.path().join("kubeconfig");
    std::fs::write(&path, UNREACHABLE_KUBECONFIG).unwrap();
    let err = KubeBackend::from_kubeconfig(&path, Some("no-such-context"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");

    std::fs::write(&path, "clusters: [oops").unwrap();
    let err = KubeBackend::from_kubeconfig(&path, None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
}

#[tokio::test]
async fn logs_read_the_pod_log_subresource_with_its_parameters() {
    let (backend, server) = scripted(
        fast(),
        vec![
            Reply::Raw("started\nlistening on :8080\n".into()),
            status(404, "NotFound", "pods \"gone\" not found"),
            status(
                400,
                "BadRequest",
                "a container name must be specified for pod two, choose one of: [app sidecar]",
            ),
        ],
    );
    let opts = hxb_core::cluster::LogOptions {
        container: Some("app".into()),
        tail_lines: Some(20),
        limit_bytes: Some(4096),
    };
    let text = backend.logs("team-a", "web-0", &opts).await.unwrap();
    assert_eq!(text, "started\nlistening on :8080\n");
    let e = backend
        .logs("team-a", "gone", &Default::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    let e = backend
        .logs("team-a", "two", &Default::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    let seen = finish(backend, server).await;
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].path, "/api/v1/namespaces/team-a/pods/web-0/log");
    assert_eq!(seen[0].query["container"], "app");
    assert_eq!(seen[0].query["tailLines"], "20");
    assert_eq!(seen[0].query["limitBytes"], "4096");
}

#[tokio::test]
async fn proxy_service_goes_through_the_api_server_service_proxy() {
    use hxb_core::cluster::ProxyRequest;
    let (backend, server) = scripted(
        fast(),
        vec![
            Reply::Http(200, "text/plain", b"v2 says hi".to_vec()),
            // the application's own failure is its answer
            Reply::Http(500, "application/json", br#"{"error":"boom"}"#.to_vec()),
            // the API server's refusals are typed errors
            status(
                503,
                "ServiceUnavailable",
                "no endpoints available for service \"fn\"",
            ),
            status(404, "NotFound", "services \"ghost\" not found"),
            status(
                403,
                "Forbidden",
                "services \"fn\" is forbidden: User cannot get services/proxy",
            ),
        ],
    );
    let req = ProxyRequest::post("/invoke?trace=1", br#"{"name":"ada"}"#.to_vec())
        .header("Content-Type", "application/json");
    let r = backend
        .proxy_service("team-a", "fn", "8080", req.clone())
        .await
        .unwrap();
    assert_eq!((r.status, r.text().as_str()), (200, "v2 says hi"));
    assert_eq!(r.headers["x-app"], "fn");
    let r = backend
        .proxy_service("team-a", "fn", "http", req.clone())
        .await
        .unwrap();
    assert_eq!(r.status, 500);
    let err = backend
        .proxy_service("team-a", "fn", "8080", req.clone())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert!(err.to_string().contains("no endpoints available"), "{err}");
    let err = backend
        .proxy_service("team-a", "ghost", "8080", req.clone())
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "services \"ghost\" not found");
    let err = backend
        .proxy_service("team-a", "fn", "8080", req.clone())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    // bad input never reaches the server (the script has no reply left for it)
    for (ns, svc, port, r) in [
        ("Team", "fn", "8080", req.clone()),
        ("team-a", "1fn", "8080", req.clone()),
        ("team-a", "fn", "0", req.clone()),
        ("team-a", "fn", "a/b", req.clone()),
        (
            "team-a",
            "fn",
            "8080",
            ProxyRequest::new("GET", "/../../api/v1/secrets"),
        ),
        ("team-a", "fn", "8080", ProxyRequest::new("BREW", "/")),
    ] {
        let err = backend.proxy_service(ns, svc, port, r).await.unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::InvalidInput,
            "{ns} {svc} {port}: {err}"
        );
    }
    let seen = finish(backend, server).await;
    assert_eq!(seen.len(), 5);
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        (
            "POST",
            "/api/v1/namespaces/team-a/services/fn:8080/proxy/invoke"
        )
    );
    assert_eq!(seen[0].query["trace"], "1");
    assert_eq!(seen[0].content_type.as_deref(), Some("application/json"));
    assert_eq!(seen[0].body, Some(json!({"name": "ada"})));
    assert_eq!(
        seen[1].path,
        "/api/v1/namespaces/team-a/services/fn:http/proxy/invoke"
    );
    // not retried: a proxied request need not be idempotent
    assert_eq!(seen[2].method, "POST");
}

#[tokio::test]
async fn request_token_posts_a_token_request() {
    let (backend, server) = scripted(
        fast(),
        vec![
            status(500, "InternalError", "etcd hiccup"),
            ok(json!({
                "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                "metadata": {"name": "robot", "namespace": "team-a"},
                "spec": {"audiences": ["hxb"], "expirationSeconds": 3600},
                "status": {"token": "eyJ.tok", "expirationTimestamp": "2026-11-23T13:00:00Z"}
            })),
            status(404, "NotFound", "serviceaccounts \"ghost\" not found"),
        ],
    );
    let tok = backend
        .request_token("team-a", "robot", &["hxb".to_owned()], 3600)
        .await
        .unwrap();
    assert_eq!(tok.token, "eyJ.tok");
    assert_eq!(tok.expires_at.to_string(), "2026-11-23T13:00:00Z");
    let err = backend
        .request_token("team-a", "ghost", &[], 3600)
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "serviceaccounts \"ghost\" not found");
    for (sa, exp) in [("robot", 60), ("Robot", 3600)] {
        assert_eq!(
            backend
                .request_token("team-a", sa, &[], exp)
                .await
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidInput
        );
    }
    let seen = finish(backend, server).await;
    assert_eq!(seen.len(), 3, "a 500 is retried; bad input sends nothing");
    assert_eq!(
        (seen[1].method.as_str(), seen[1].path.as_str()),
        (
            "POST",
            "/api/v1/namespaces/team-a/serviceaccounts/robot/token"
        )
    );
    let body = seen[1].body.as_ref().unwrap();
    assert_eq!(body["kind"], "TokenRequest");
    assert_eq!(body["spec"]["expirationSeconds"], 3600);
    assert_eq!(body["spec"]["audiences"], json!(["hxb"]));
}

#[tokio::test]
async fn not_found_reads_like_the_api_server() {
    let (backend, server) = scripted(
        fast(),
        vec![status(
            404,
            "NotFound",
            "deployments.apps \"web\" not found",
        )],
    );
    let err = backend
        .get(&ty_of::<Deployment>(), Some("team-a"), "web")
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "deployments.apps \"web\" not found");
    finish(backend, server).await;
}
