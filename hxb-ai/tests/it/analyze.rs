//! Analyzers against the embedded cluster and against hand-made snapshots.

use std::collections::BTreeMap;
use std::sync::Arc;

use hxb_ai::analyze::{FindingSeverity, Snapshot, analyze};
use hxb_core::cluster::Api;
use hxb_core::{ClusterBackend, EmbeddedCluster, ResourceList};
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec,
    HorizontalPodAutoscalerStatus,
};
use k8s_openapi::api::batch::v1::{Job, JobCondition, JobStatus};
use k8s_openapi::api::core::v1::{
    Container, ContainerState, ContainerStateTerminated, ContainerStateWaiting, ContainerStatus,
    Namespace, Pod, PodSpec, PodStatus, ResourceQuota, ResourceQuotaSpec, ResourceRequirements,
    Service, ServiceSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

fn meta(name: &str, ns: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: Some(ns.into()),
        ..Default::default()
    }
}

fn pod(name: &str, ns: &str, cpu: &str, labels: &[(&str, &str)]) -> Pod {
    let mut m = meta(name, ns);
    m.labels = Some(
        labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    Pod {
        metadata: m,
        spec: Some(PodSpec {
            containers: vec![Container {
                name: "app".into(),
                image: Some("app:1".into()),
                resources: Some(ResourceRequirements {
                    requests: Some(
                        ResourceList::parse([("cpu", cpu), ("memory", "64Mi")])
                            .unwrap()
                            .to_k8s(),
                    ),
                    ..Default::default()
                }),
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    }
}

async fn cluster_with_namespace(ns: &str) -> Arc<dyn ClusterBackend> {
    let c = EmbeddedCluster::builder()
        .nodes(2)
        .seed(1)
        .build()
        .into_backend();
    Api::<Namespace>::all(c.clone())
        .create(&Namespace {
            metadata: ObjectMeta {
                name: Some(ns.into()),
                ..Default::default()
            },
            ..Default::default()
        })
        .await
        .unwrap();
    c
}

#[tokio::test]
async fn finds_unschedulable_pods_crash_loops_and_empty_services() {
    let c = cluster_with_namespace("shop").await;
    let pods: Api<Pod> = Api::namespaced(c.clone(), "shop");
    pods.create(&pod("huge", "shop", "64", &[("app", "batch")]))
        .await
        .unwrap();
    let mut web = pods
        .create(&pod("web-1", "shop", "100m", &[("app", "web")]))
        .await
        .unwrap();
    // The web container crash-loops after OOM kills.
    web.status
        .get_or_insert_with(PodStatus::default)
        .container_statuses = Some(vec![ContainerStatus {
        name: "app".into(),
        restart_count: 5,
        state: Some(ContainerState {
            waiting: Some(ContainerStateWaiting {
                reason: Some("CrashLoopBackOff".into()),
                ..Default::default()
            }),
            ..Default::default()
        }),
        last_state: Some(ContainerState {
            terminated: Some(ContainerStateTerminated {
                reason: Some("OOMKilled".into()),
                exit_code: 137,
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }]);
    pods.replace_status(&web).await.unwrap();
    Api::<Service>::namespaced(c.clone(), "shop")
        .create(&Service {
            metadata: meta("checkout", "shop"),
            spec: Some(ServiceSpec {
                selector: Some(BTreeMap::from([(
                    "app".to_string(),
                    "checkout".to_string(),
                )])),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap();

    let snap = Snapshot::collect(&c, Some("shop")).await.unwrap();
    let findings = analyze(&snap);
    let by: BTreeMap<&str, _> = findings.iter().map(|f| (f.analyzer.as_str(), f)).collect();
    let pending = by["pending_pod"];
    assert_eq!(pending.object.name, "huge");
    assert!(
        pending.explanation.contains("Insufficient cpu"),
        "{}",
        pending.explanation
    );
    assert!(pending.hints[0].contains("capacity"));
    let crash = by["crash_loop"];
    assert_eq!(
        (crash.reason.as_str(), crash.severity),
        ("OOMKilled", FindingSeverity::Critical)
    );
    let svc = by["service_endpoints"];
    assert_eq!(svc.object.name, "checkout");
    assert!(svc.explanation.contains("no pod has those labels"));
    // Most severe first.
    assert_eq!(findings[0].severity, FindingSeverity::Critical);
}

#[tokio::test]
async fn healthy_namespace_has_no_findings() {
    let c = cluster_with_namespace("calm").await;
    let pods: Api<Pod> = Api::namespaced(c.clone(), "calm");
    pods.create(&pod("web-1", "calm", "100m", &[("app", "web")]))
        .await
        .unwrap();
    Api::<Service>::namespaced(c.clone(), "calm")
        .create(&Service {
            metadata: meta("web", "calm"),
            spec: Some(ServiceSpec {
                selector: Some(BTreeMap::from([("app".to_string(), "web".to_string())])),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    let snap = Snapshot::collect(&c, Some("calm")).await.unwrap();
    assert_eq!(analyze(&snap), vec![]);
}

#[tokio::test]
async fn quota_pressure_from_live_accounting() {
    let c = cluster_with_namespace("tight").await;
    Api::<ResourceQuota>::namespaced(c.clone(), "tight")
        .create(&ResourceQuota {
            metadata: meta("q", "tight"),
            spec: Some(ResourceQuotaSpec {
                hard: Some(
                    ResourceList::parse([("requests.cpu", "1"), ("requests.memory", "1Gi")])
                        .unwrap()
                        .to_k8s(),
                ),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    Api::<Pod>::namespaced(c.clone(), "tight")
        .create(&pod("p", "tight", "950m", &[]))
        .await
        .unwrap();
    let f = analyze(&Snapshot::collect(&c, Some("tight")).await.unwrap());
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].reason, "QuotaNearlyFull");
    assert!(
        f[0].explanation.contains("requests.cpu 950m of 1"),
        "{}",
        f[0].explanation
    );
}

#[test]
fn failed_cron_jobs_and_pinned_autoscalers() {
    let mut job = Job {
        metadata: meta("nightly-123", "ops"),
        ..Default::default()
    };
    job.metadata.owner_references = Some(vec![OwnerReference {
        api_version: "batch/v1".into(),
        kind: "CronJob".into(),
        name: "nightly".into(),
        uid: "u".into(),
        ..Default::default()
    }]);
    job.status = Some(JobStatus {
        failed: Some(3),
        conditions: Some(vec![JobCondition {
            type_: "Failed".into(),
            status: "True".into(),
            ..Default::default()
        }]),
        ..Default::default()
    });
    let hpa = HorizontalPodAutoscaler {
        metadata: meta("web", "ops"),
        spec: Some(HorizontalPodAutoscalerSpec {
            max_replicas: 10,
            scale_target_ref: CrossVersionObjectReference {
                kind: "Deployment".into(),
                name: "web".into(),
                ..Default::default()
            },
            ..Default::default()
        }),
        status: Some(HorizontalPodAutoscalerStatus {
            current_replicas: Some(10),
            desired_replicas: 12,
            ..Default::default()
        }),
    };
    let snap = Snapshot {
        jobs: vec![job],
        autoscalers: vec![hpa],
        ..Default::default()
    };
    let f = analyze(&snap);
    assert_eq!(f.len(), 2);
    assert_eq!(
        (f[0].object.kind.as_str(), f[0].object.name.as_str()),
        ("CronJob", "nightly")
    );
    assert_eq!(f[1].reason, "ScalingLimited");
}
