//! Guarded remediation end to end on the embedded cluster.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hxb_ai::remediate::{Action, ActionKind, Authorizer, Decision, Guard, Policy, WorkloadKind};
use hxb_core::cluster::Api;
use hxb_core::store::{MemoryStore, StateStore};
use hxb_core::{
    ClusterBackend, EmbeddedCluster, ErrorKind, ManualClock, ResourceList, Result, Subject,
};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{Container, Namespace, Node, PodSpec, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

/// Grants `(subject, verb, resource, namespace)` tuples; `*` namespace = everywhere.
pub(crate) struct Table(BTreeSet<(String, String, String, String)>);

#[async_trait]
impl Authorizer for Table {
    async fn allows(
        &self,
        s: &Subject,
        verb: &str,
        _group: &str,
        resource: &str,
        ns: Option<&str>,
    ) -> Result<bool> {
        let key = |n: &str| {
            (
                s.as_str().to_owned(),
                verb.to_owned(),
                resource.to_owned(),
                n.to_owned(),
            )
        };
        Ok(self.0.contains(&key(ns.unwrap_or("-"))) || self.0.contains(&key("*")))
    }
}

pub(crate) fn grant(rows: &[(&str, &str, &str, &str)]) -> Arc<dyn Authorizer> {
    Arc::new(Table(
        rows.iter()
            .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
            .collect(),
    ))
}

pub(crate) fn who(s: &str) -> Subject {
    Subject::new(s).unwrap()
}

pub(crate) struct Fixture {
    pub(crate) cluster: Arc<dyn ClusterBackend>,
    /// The same cluster as a handle, to write container logs.
    pub(crate) embedded: EmbeddedCluster,
    pub(crate) store: Arc<dyn StateStore>,
    pub(crate) clock: ManualClock,
}

pub(crate) async fn fixture() -> Fixture {
    let clock = ManualClock::at_epoch();
    let embedded = EmbeddedCluster::builder()
        .nodes(2)
        .seed(5)
        .clock(Arc::new(clock.clone()))
        .build();
    let cluster = embedded.clone().into_backend();
    Api::<Namespace>::all(cluster.clone())
        .create(&Namespace {
            metadata: ObjectMeta {
                name: Some("shop".into()),
                ..Default::default()
            },
            ..Default::default()
        })
        .await
        .unwrap();
    let labels = Some([("app".to_string(), "api".to_string())].into());
    Api::<Deployment>::namespaced(cluster.clone(), "shop")
        .create(&Deployment {
            metadata: ObjectMeta {
                name: Some("api".into()),
                namespace: Some("shop".into()),
                ..Default::default()
            },
            spec: Some(DeploymentSpec {
                replicas: Some(4),
                selector: LabelSelector {
                    match_labels: labels.clone(),
                    ..Default::default()
                },
                template: PodTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels,
                        ..Default::default()
                    }),
                    spec: Some(PodSpec {
                        containers: vec![Container {
                            name: "api".into(),
                            image: Some("api:1".into()),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }),
                },
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    Fixture {
        cluster,
        embedded,
        store: Arc::new(MemoryStore::new()),
        clock,
    }
}

pub(crate) fn guard(f: &Fixture, authz: Arc<dyn Authorizer>, policy: Policy) -> Guard {
    Guard::new(
        f.cluster.clone(),
        authz,
        f.store.clone(),
        Arc::new(f.clock.clone()),
        policy,
    )
}

fn restart() -> Action {
    Action::Restart {
        kind: WorkloadKind::Deployment,
        namespace: "shop".into(),
        name: "api".into(),
    }
}

pub(crate) async fn deployment(f: &Fixture) -> Deployment {
    Api::<Deployment>::namespaced(f.cluster.clone(), "shop")
        .get("api")
        .await
        .unwrap()
}

pub(crate) async fn audit(f: &Fixture) -> Vec<String> {
    f.store
        .read_log("audit", 0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.entry["result"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn dry_run_by_default_then_approval_then_execution() {
    let f = fixture().await;
    let g = guard(
        &f,
        grant(&[
            ("alice", "patch", "deployments", "shop"),
            ("bob", "patch", "deployments", "shop"),
        ]),
        Policy::default(),
    );
    let before = deployment(&f).await;

    let o = g
        .remediate(&who("alice"), restart())
        .execute()
        .await
        .unwrap();
    assert_eq!((o.decision, o.disrupted_pods), (Decision::DryRun, 4));
    let o = g
        .remediate(&who("alice"), restart())
        .apply()
        .execute()
        .await
        .unwrap();
    assert_eq!(o.decision, Decision::NeedsApproval);
    assert_eq!(
        deployment(&f).await,
        before,
        "nothing changes without approval"
    );

    let e = g
        .remediate(&who("alice"), restart())
        .apply()
        .approved_by(who("alice"))
        .execute()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Forbidden);
    let e = g
        .remediate(&who("alice"), restart())
        .apply()
        .approved_by(who("mallory"))
        .execute()
        .await
        .unwrap_err();
    assert_eq!(
        e.kind(),
        ErrorKind::Forbidden,
        "the approver needs the permission too"
    );

    let o = g
        .remediate(&who("alice"), restart())
        .apply()
        .approved_by(who("bob"))
        .execute()
        .await
        .unwrap();
    assert_eq!(o.decision, Decision::Executed);
    let d = deployment(&f).await;
    let ann = d
        .spec
        .unwrap()
        .template
        .metadata
        .unwrap()
        .annotations
        .unwrap();
    assert!(ann.contains_key("kubectl.kubernetes.io/restartedAt"));
    let log = audit(&f).await;
    assert_eq!(log[0], "dry-run");
    assert_eq!(log[1], "awaiting approval");
    assert!(log[2].starts_with("refused: forbidden"));
    assert_eq!(log.last().unwrap(), "ok");
}

#[tokio::test]
async fn rbac_is_the_callers() {
    let f = fixture().await;
    let g = guard(
        &f,
        grant(&[("viewer", "get", "deployments", "shop")]),
        Policy::default().automatic([ActionKind::Restart]),
    );
    let before = deployment(&f).await;
    let e = g
        .remediate(&who("viewer"), restart())
        .apply()
        .execute()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Forbidden);
    assert!(
        e.to_string()
            .contains("may not patch deployments in namespace shop"),
        "{e}"
    );
    // Permission in another namespace does not help.
    let g = guard(
        &f,
        grant(&[("dev", "patch", "deployments", "other")]),
        Policy::default().automatic([ActionKind::Restart]),
    );
    assert_eq!(
        g.remediate(&who("dev"), restart())
            .apply()
            .execute()
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Forbidden
    );
    assert_eq!(deployment(&f).await, before);
}

#[tokio::test]
async fn blast_radius_per_hour() {
    let f = fixture().await;
    let policy = Policy {
        max_pods_per_hour: 6,
        ..Policy::default().automatic([ActionKind::Restart, ActionKind::Scale])
    };
    let g = guard(
        &f,
        grant(&[
            ("ops", "patch", "deployments", "*"),
            ("ops", "update", "deployments", "*"),
        ]),
        policy,
    );
    g.remediate(&who("ops"), restart())
        .apply()
        .execute()
        .await
        .unwrap();
    // A second full restart within the hour exceeds 100% of the workload.
    let e = g
        .remediate(&who("ops"), restart())
        .apply()
        .execute()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("blast radius"), "{e}");
    // Scaling down by 3 would make 7 pods this hour: over the global budget of 6.
    let down = Action::Scale {
        kind: WorkloadKind::Deployment,
        namespace: "shop".into(),
        name: "api".into(),
        replicas: 1,
    };
    let e = g
        .remediate(&who("ops"), down.clone())
        .apply()
        .execute()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("already disrupted this hour"), "{e}");
    // Scale-ups disrupt nothing but are bounded.
    let up = |n| Action::Scale {
        kind: WorkloadKind::Deployment,
        namespace: "shop".into(),
        name: "api".into(),
        replicas: n,
    };
    assert!(
        g.remediate(&who("ops"), up(9))
            .apply()
            .execute()
            .await
            .unwrap_err()
            .to_string()
            .contains("scale-up limit")
    );
    let o = g
        .remediate(&who("ops"), up(8))
        .apply()
        .execute()
        .await
        .unwrap();
    assert_eq!((o.decision, o.disrupted_pods), (Decision::Executed, 0));
    assert_eq!(deployment(&f).await.spec.unwrap().replicas, Some(8));
    // A restart of all 8 pods is over the hourly budget of 6 even when nothing was spent…
    f.clock.advance(Duration::from_secs(3601));
    assert!(
        g.remediate(&who("ops"), restart())
            .apply()
            .execute()
            .await
            .is_err()
    );
    // …but an hour after the first restart the budget is back for smaller steps.
    let o = g
        .remediate(&who("ops"), up(5))
        .apply()
        .execute()
        .await
        .unwrap();
    assert_eq!((o.decision, o.disrupted_pods), (Decision::Executed, 3));
}

#[tokio::test]
async fn cordon_and_bad_input() {
    let f = fixture().await;
    let g = guard(
        &f,
        grant(&[("ops", "patch", "nodes", "-")]),
        Policy::default().automatic([ActionKind::CordonNode]),
    );
    let nodes = Api::<Node>::all(f.cluster.clone());
    let node = nodes.list(&Default::default()).await.unwrap()[0]
        .metadata
        .name
        .clone()
        .unwrap();
    let o = g
        .remediate(&who("ops"), Action::CordonNode { node: node.clone() })
        .apply()
        .execute()
        .await
        .unwrap();
    assert_eq!(o.decision, Decision::Executed);
    assert_eq!(
        nodes.get(&node).await.unwrap().spec.unwrap().unschedulable,
        Some(true)
    );
    let e = g
        .remediate(
            &who("ops"),
            Action::CordonNode {
                node: "nope".into(),
            },
        )
        .apply()
        .execute()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    let bad = Action::Scale {
        kind: WorkloadKind::Deployment,
        namespace: "shop".into(),
        name: "api".into(),
        replicas: -1,
    };
    assert_eq!(
        g.remediate(&who("ops"), bad)
            .execute()
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    let bad = Action::Restart {
        kind: WorkloadKind::Deployment,
        namespace: "Shop".into(),
        name: "api".into(),
    };
    assert_eq!(
        g.remediate(&who("ops"), bad)
            .execute()
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    let quota = Action::RaiseQuota {
        namespace: "shop".into(),
        add: ResourceList::parse([("requests.cpu", "1")]).unwrap(),
    };
    let g = guard(
        &f,
        grant(&[("ops", "update", "resourcequotas", "shop")]),
        Policy::default(),
    );
    assert_eq!(
        g.remediate(&who("ops"), quota)
            .execute()
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::FailedPrecondition
    );
}
