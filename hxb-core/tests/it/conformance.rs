//! One conformance suite for every [`ClusterBackend`]: the embedded cluster always, a real
//! cluster when `HXB_TEST_KUBECONFIG` is set.
//!
//! Only API-server semantics are used (no embedded-only knobs), every namespace created
//! starts with the given prefix, and all of them are deleted at the end.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use hxb_core::cluster::{Api, ChangeKind, ListOptions, WatchOptions};
use hxb_core::{ClusterBackend, ErrorKind, Selector};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, ResourceQuota, ResourceQuotaSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;

const WAIT: Duration = Duration::from_secs(60);

fn namespace(name: &str) -> Namespace {
    let mut ns = Namespace::default();
    ns.metadata.name = Some(name.into());
    ns
}

fn config_map(name: &str, labels: &[(&str, &str)]) -> ConfigMap {
    let mut cm = ConfigMap::default();
    cm.metadata.name = Some(name.into());
    if !labels.is_empty() {
        cm.metadata.labels = Some(
            labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
    }
    cm.data = Some(BTreeMap::from([("k".to_owned(), "v".to_owned())]));
    cm
}

/// Poll `check` until it returns `true` (real clusters are eventually consistent).
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Run every conformance check against `backend`, creating only namespaces whose names start
/// with `prefix` (and deleting them afterwards).
pub async fn run_all(backend: Arc<dyn ClusterBackend>, prefix: &str) {
    let namespaces: Api<Namespace> = Api::all(backend.clone());
    let main = format!("{prefix}-conf");
    let doomed = format!("{prefix}-conf-del");
    for ns in [&main, &doomed] {
        namespaces
            .create(&namespace(ns))
            .await
            .expect("create namespace");
    }
    crud_and_concurrency(&backend, &main).await;
    apply_is_idempotent(&backend, &main).await;
    selectors(&backend, &main).await;
    watch_sees_changes(&backend, &main).await;
    bad_input(&backend, &main, prefix).await;
    finalizers(&backend, &main).await;
    quota_counts(&backend, &main).await;
    namespace_deletion(&backend, &doomed).await;
    let _ = namespaces.delete(&main).await;
    eventually("namespace cleanup", || async {
        namespaces.get_opt(&main).await.ok().flatten().is_none()
    })
    .await;
}

async fn crud_and_concurrency(backend: &Arc<dyn ClusterBackend>, ns: &str) {
    let namespaces: Api<Namespace> = Api::all(backend.clone());
    let err = namespaces.create(&namespace(ns)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{err}");
    assert_eq!(
        namespaces
            .get(ns)
            .await
            .unwrap()
            .status
            .and_then(|s| s.phase)
            .as_deref(),
        Some("Active")
    );

    let cms: Api<ConfigMap> = Api::namespaced(backend.clone(), ns);
    let created = cms.create(&config_map("crud", &[])).await.unwrap();
    let rv1 = created
        .metadata
        .resource_version
        .clone()
        .expect("resourceVersion");
    assert!(created.metadata.uid.is_some());
    assert!(created.metadata.creation_timestamp.is_some());
    assert_eq!(cms.get("crud").await.unwrap().data, created.data);
    assert_eq!(
        cms.create(&config_map("crud", &[]))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::AlreadyExists
    );

    let mut changed = created.clone();
    changed
        .data
        .get_or_insert_default()
        .insert("k".into(), "v2".into());
    let updated = cms.replace(&changed).await.unwrap();
    let rv2 = updated.metadata.resource_version.clone().unwrap();
    assert_ne!(rv1, rv2);
    // `changed` still carries rv1: stale
    let err = cms.replace(&changed).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert_eq!(
        cms.get("crud").await.unwrap().metadata.resource_version,
        Some(rv2.clone())
    );
    // without a resourceVersion the update is unconditional
    let mut blind = config_map("crud", &[]);
    blind.data = Some(BTreeMap::from([("k".to_owned(), "v3".to_owned())]));
    let blind = cms.replace(&blind).await.unwrap();
    assert_eq!(blind.data.unwrap()["k"], "v3");

    let err = cms.get("absent").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    // NotFound reads as the API server says it: `<resource>.<group> "<name>" not found`
    assert_eq!(err.to_string(), "configmaps \"absent\" not found");
    let deployments: Api<Deployment> = Api::namespaced(backend.clone(), ns);
    assert_eq!(
        deployments.get("absent").await.unwrap_err().to_string(),
        "deployments.apps \"absent\" not found"
    );
    assert!(cms.get_opt("absent").await.unwrap().is_none());
    assert_eq!(
        cms.delete("absent").await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    cms.delete("crud").await.unwrap();
    eventually("configmap deletion", || async {
        cms.get_opt("crud").await.unwrap().is_none()
    })
    .await;
}

async fn apply_is_idempotent(backend: &Arc<dyn ClusterBackend>, ns: &str) {
    let cms: Api<ConfigMap> = Api::namespaced(backend.clone(), ns);
    cms.create(&config_map("applied", &[("owner", "create")]))
        .await
        .unwrap();
    let mut desired = config_map("applied", &[("app", "web")]);
    desired.data = Some(BTreeMap::from([("k".to_owned(), "applied".to_owned())]));
    let first = cms.apply(&desired).await.unwrap();
    let labels = first.metadata.labels.clone().unwrap();
    assert_eq!(labels.get("app").map(String::as_str), Some("web"));
    assert_eq!(
        labels.get("owner").map(String::as_str),
        Some("create"),
        "fields of other managers stay"
    );
    assert_eq!(first.data.as_ref().unwrap()["k"], "applied");
    let second = cms.apply(&desired).await.unwrap();
    assert_eq!(
        second.metadata.resource_version, first.metadata.resource_version,
        "a no-op apply writes nothing"
    );
    // apply also creates
    let fresh = cms.apply(&config_map("applied-new", &[])).await.unwrap();
    assert!(fresh.metadata.uid.is_some());
}

async fn selectors(backend: &Arc<dyn ClusterBackend>, ns: &str) {
    let cms: Api<ConfigMap> = Api::namespaced(backend.clone(), ns);
    for (name, tier) in [("sel-a", "front"), ("sel-b", "back"), ("sel-c", "front")] {
        cms.create(&config_map(name, &[("suite", "sel"), ("tier", tier)]))
            .await
            .unwrap();
    }
    let names = |list: Vec<ConfigMap>| {
        list.into_iter()
            .filter_map(|c| c.metadata.name)
            .collect::<Vec<_>>()
    };
    let front = cms
        .list(&ListOptions::labels(
            Selector::parse("suite=sel,tier=front").unwrap(),
        ))
        .await
        .unwrap();
    assert_eq!(names(front), ["sel-a", "sel-c"]);
    let not_front = cms
        .list(&ListOptions::labels(
            Selector::parse("suite=sel,tier!=front").unwrap(),
        ))
        .await
        .unwrap();
    assert_eq!(names(not_front), ["sel-b"]);
    let set = cms
        .list(&ListOptions::labels(
            Selector::parse("tier in (back,edge)").unwrap(),
        ))
        .await
        .unwrap();
    assert_eq!(names(set), ["sel-b"]);
    let all: Api<ConfigMap> = Api::all(backend.clone());
    let across = all
        .list(&ListOptions::labels(Selector::parse("suite=sel").unwrap()))
        .await
        .unwrap();
    assert!(across.len() >= 3);
}

async fn next_event(
    stream: &mut futures::stream::BoxStream<'static, hxb_core::Result<(ChangeKind, ConfigMap)>>,
) -> (ChangeKind, String) {
    let ev = tokio::time::timeout(WAIT, stream.next())
        .await
        .expect("watch event in time");
    let (kind, cm) = ev.expect("stream open").expect("event ok");
    (kind, cm.metadata.name.unwrap_or_default())
}

async fn watch_sees_changes(backend: &Arc<dyn ClusterBackend>, ns: &str) {
    let cms: Api<ConfigMap> = Api::namespaced(backend.clone(), ns);
    let list = backend
        .list(cms.resource_type(), Some(ns), &ListOptions::default())
        .await
        .unwrap();
    let opts = WatchOptions {
        label_selector: Some(Selector::parse("suite=watch").unwrap()),
        resource_version: Some(list.resource_version),
    };
    let mut stream = cms.watch(&opts).await.unwrap();
    cms.create(&config_map("w-ignored", &[("suite", "other")]))
        .await
        .unwrap();
    let created = cms
        .create(&config_map("w-1", &[("suite", "watch")]))
        .await
        .unwrap();
    assert_eq!(
        next_event(&mut stream).await,
        (ChangeKind::Added, "w-1".into())
    );
    let mut changed = created.clone();
    changed.data = Some(BTreeMap::from([("k".to_owned(), "changed".to_owned())]));
    cms.replace(&changed).await.unwrap();
    assert_eq!(
        next_event(&mut stream).await,
        (ChangeKind::Modified, "w-1".into())
    );
    cms.delete("w-1").await.unwrap();
    assert_eq!(
        next_event(&mut stream).await,
        (ChangeKind::Deleted, "w-1".into())
    );
}

async fn bad_input(backend: &Arc<dyn ClusterBackend>, ns: &str, prefix: &str) {
    let cms: Api<ConfigMap> = Api::namespaced(backend.clone(), ns);
    let before = cms.list(&ListOptions::default()).await.unwrap();
    for bad in ["Upper-Case", "under_score", "-leading", &"x".repeat(254)] {
        let err = cms.create(&config_map(bad, &[])).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}: {err}");
    }
    let namespaces: Api<Namespace> = Api::all(backend.clone());
    let err = namespaces
        .create(&namespace("Not.A.Label"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    let missing: Api<ConfigMap> =
        Api::namespaced(backend.clone(), &format!("{prefix}-conf-missing"));
    let err = missing
        .create(&config_map("orphan", &[]))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    let after = cms.list(&ListOptions::default()).await.unwrap();
    let key = |l: &[ConfigMap]| {
        l.iter()
            .map(|c| (c.metadata.name.clone(), c.metadata.resource_version.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(key(&before), key(&after), "refused requests change nothing");
}

async fn finalizers(backend: &Arc<dyn ClusterBackend>, ns: &str) {
    let cms: Api<ConfigMap> = Api::namespaced(backend.clone(), ns);
    let mut cm = config_map("guarded", &[]);
    cm.metadata.finalizers = Some(vec!["hxb.io/conformance".into()]);
    cms.create(&cm).await.unwrap();
    cms.delete("guarded").await.unwrap();
    let held = cms.get("guarded").await.expect("held by its finalizer");
    assert!(held.metadata.deletion_timestamp.is_some());
    let mut released = held.clone();
    released.metadata.finalizers = Some(Vec::new());
    cms.replace(&released).await.unwrap();
    eventually("finalized object removal", || async {
        cms.get_opt("guarded").await.unwrap().is_none()
    })
    .await;
}

async fn quota_counts(backend: &Arc<dyn ClusterBackend>, ns: &str) {
    let cms: Api<ConfigMap> = Api::namespaced(backend.clone(), ns);
    let quotas: Api<ResourceQuota> = Api::namespaced(backend.clone(), ns);
    let existing = cms.list(&ListOptions::default()).await.unwrap().len();
    let mut q = ResourceQuota::default();
    q.metadata.name = Some("conformance".into());
    q.spec = Some(ResourceQuotaSpec {
        hard: Some(BTreeMap::from([(
            "count/configmaps".to_owned(),
            K8sQuantity((existing + 1).to_string()),
        )])),
        ..Default::default()
    });
    quotas.create(&q).await.unwrap();
    eventually("quota status", || async {
        let q = quotas.get("conformance").await.unwrap();
        q.status.and_then(|s| s.used).is_some_and(|u| {
            u.get("count/configmaps").map(|q| q.0.clone()) == Some(existing.to_string())
        })
    })
    .await;
    cms.create(&config_map("q-1", &[])).await.unwrap();
    let err = cms.create(&config_map("q-2", &[])).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::QuotaExceeded, "{err}");
    assert!(cms.get_opt("q-2").await.unwrap().is_none());
    quotas.delete("conformance").await.unwrap();
}

async fn namespace_deletion(backend: &Arc<dyn ClusterBackend>, ns: &str) {
    let namespaces: Api<Namespace> = Api::all(backend.clone());
    let cms: Api<ConfigMap> = Api::namespaced(backend.clone(), ns);
    cms.create(&config_map("doomed", &[])).await.unwrap();
    namespaces.delete(ns).await.unwrap();
    match namespaces.get_opt(ns).await.unwrap() {
        None => {}
        Some(n) => assert_eq!(
            n.status.and_then(|s| s.phase).as_deref(),
            Some("Terminating")
        ),
    }
    let err = cms.create(&config_map("late", &[])).await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Forbidden | ErrorKind::NotFound),
        "{err}"
    );
    eventually("namespace removal", || async {
        namespaces.get_opt(ns).await.unwrap().is_none()
    })
    .await;
    assert!(cms.get_opt("doomed").await.unwrap().is_none());
}
