//! The embedded cluster's minimal Deployment and StatefulSet controllers.

use std::sync::Arc;

use hxb_core::cluster::{Api, ListOptions};
use hxb_core::{EmbeddedCluster, ErrorKind, ManualClock, Selector};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Event, Namespace, Pod, ResourceQuota};
use serde_json::json;

async fn setup(ns: &str) -> (EmbeddedCluster, Arc<dyn hxb_core::ClusterBackend>) {
    let c = EmbeddedCluster::builder()
        .nodes(3)
        .seed(5)
        .clock(Arc::new(ManualClock::at_epoch()))
        .build();
    let b = c.clone().into_backend();
    let n: Namespace = serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap();
    Api::<Namespace>::all(b.clone()).create(&n).await.unwrap();
    (c, b)
}

fn workload<K: serde::de::DeserializeOwned>(
    kind: &str,
    name: &str,
    replicas: i32,
    image: &str,
) -> K {
    serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": kind,
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": image, "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}
            }
        }
    }))
    .unwrap()
}

async fn pod_names(b: &Arc<dyn hxb_core::ClusterBackend>, ns: &str, app: &str) -> Vec<String> {
    Api::<Pod>::namespaced(b.clone(), ns)
        .list(&ListOptions::labels(
            Selector::parse(&format!("app={app}")).unwrap(),
        ))
        .await
        .unwrap()
        .into_iter()
        .filter_map(|p| p.metadata.name)
        .collect()
}

#[tokio::test]
async fn deployment_matches_replicas_and_tracks_status() {
    let (_c, b) = setup("apps").await;
    let deployments: Api<Deployment> = Api::namespaced(b.clone(), "apps");
    let pods: Api<Pod> = Api::namespaced(b.clone(), "apps");
    let d = deployments
        .create(&workload("Deployment", "web", 3, "nginx:1"))
        .await
        .unwrap();
    let status = d.status.clone().unwrap();
    assert_eq!((status.replicas, status.ready_replicas), (Some(3), Some(3)));
    let names = pod_names(&b, "apps", "web").await;
    assert_eq!(names.len(), 3);
    let first = pods.get(&names[0]).await.unwrap();
    assert!(
        first.spec.unwrap().node_name.is_some(),
        "controller pods are scheduled"
    );
    assert_eq!(
        first.metadata.owner_references.unwrap()[0].kind,
        "Deployment"
    );

    // a deleted pod is replaced
    pods.delete(&names[0]).await.unwrap();
    let after = pod_names(&b, "apps", "web").await;
    assert_eq!(after.len(), 3);
    assert!(!after.contains(&names[0]));

    // scale down
    let mut d = deployments.get("web").await.unwrap();
    d.spec.as_mut().unwrap().replicas = Some(1);
    deployments.replace(&d).await.unwrap();
    assert_eq!(pod_names(&b, "apps", "web").await.len(), 1);
    assert_eq!(
        deployments
            .get("web")
            .await
            .unwrap()
            .status
            .unwrap()
            .replicas,
        Some(1)
    );

    // a template change replaces the pods
    let old = pod_names(&b, "apps", "web").await;
    let mut d = deployments.get("web").await.unwrap();
    d.spec
        .as_mut()
        .unwrap()
        .template
        .spec
        .as_mut()
        .unwrap()
        .containers[0]
        .image = Some("nginx:2".into());
    let d = deployments.replace(&d).await.unwrap();
    assert_eq!(d.metadata.generation, Some(3));
    let new = pod_names(&b, "apps", "web").await;
    assert_eq!(new.len(), 1);
    assert_ne!(new, old);
    assert_eq!(
        pods.get(&new[0]).await.unwrap().spec.unwrap().containers[0]
            .image
            .as_deref(),
        Some("nginx:2")
    );
    assert_eq!(d.status.unwrap().observed_generation, Some(3));

    // deleting the deployment deletes its pods
    deployments.delete("web").await.unwrap();
    assert!(pod_names(&b, "apps", "web").await.is_empty());
}

#[tokio::test]
async fn statefulset_uses_ordinals() {
    let (_c, b) = setup("db").await;
    let sets: Api<StatefulSet> = Api::namespaced(b.clone(), "db");
    sets.create(&workload("StatefulSet", "pg", 2, "postgres"))
        .await
        .unwrap();
    assert_eq!(pod_names(&b, "db", "pg").await, ["pg-0", "pg-1"]);
    let mut s = sets.get("pg").await.unwrap();
    s.spec.as_mut().unwrap().replicas = Some(3);
    sets.replace(&s).await.unwrap();
    assert_eq!(pod_names(&b, "db", "pg").await, ["pg-0", "pg-1", "pg-2"]);
    let mut s = sets.get("pg").await.unwrap();
    s.spec.as_mut().unwrap().replicas = Some(1);
    let s = sets.replace(&s).await.unwrap();
    assert_eq!(pod_names(&b, "db", "pg").await, ["pg-0"]);
    assert_eq!(s.status.unwrap().ready_replicas, Some(1));
}

#[tokio::test]
async fn quota_refusals_become_events_and_conditions() {
    let (_c, b) = setup("tight").await;
    let q: ResourceQuota =
        serde_json::from_value(json!({"metadata": {"name": "q"}, "spec": {"hard": {"pods": "2"}}}))
            .unwrap();
    let quotas: Api<ResourceQuota> = Api::namespaced(b.clone(), "tight");
    quotas.create(&q).await.unwrap();
    let deployments: Api<Deployment> = Api::namespaced(b.clone(), "tight");
    let d = deployments
        .create(&workload("Deployment", "api", 3, "api:1"))
        .await
        .unwrap();
    assert_eq!(pod_names(&b, "tight", "api").await.len(), 2);
    let status = d.status.unwrap();
    assert_eq!(status.replicas, Some(2));
    let failure = status
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "ReplicaFailure")
        .expect("ReplicaFailure");
    assert_eq!(
        (failure.status.as_str(), failure.reason.as_deref()),
        ("True", Some("FailedCreate"))
    );
    assert!(failure.message.unwrap().contains("exceeded quota"));
    let events = Api::<Event>::namespaced(b.clone(), "tight")
        .list(&ListOptions::default())
        .await
        .unwrap();
    let failed: Vec<_> = events
        .iter()
        .filter(|e| e.reason.as_deref() == Some("FailedCreate"))
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        failed[0].involved_object.kind.as_deref(),
        Some("Deployment")
    );

    // raising the quota lets the controller finish
    let mut q = quotas.get("q").await.unwrap();
    q.spec.as_mut().unwrap().hard.as_mut().unwrap().insert(
        "pods".into(),
        k8s_openapi::apimachinery::pkg::api::resource::Quantity("3".into()),
    );
    quotas.replace(&q).await.unwrap();
    assert_eq!(pod_names(&b, "tight", "api").await.len(), 3);
    let status = deployments.get("api").await.unwrap().status.unwrap();
    assert_eq!(status.ready_replicas, Some(3));
    assert!(
        status
            .conditions
            .unwrap()
            .iter()
            .all(|c| c.type_ != "ReplicaFailure")
    );
}

#[tokio::test]
async fn invalid_workloads_are_refused() {
    let (c, b) = setup("inv").await;
    let before = (
        serde_json::to_string(&c.objects()).unwrap(),
        c.resource_version(),
    );
    let mut d: Deployment = workload("Deployment", "web", 1, "x");
    d.spec.as_mut().unwrap().selector.match_labels =
        Some([("app".to_owned(), "other".to_owned())].into());
    let err = Api::<Deployment>::namespaced(b.clone(), "inv")
        .create(&d)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(
        (
            serde_json::to_string(&c.objects()).unwrap(),
            c.resource_version()
        ),
        before
    );
}
