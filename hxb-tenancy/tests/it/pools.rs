//! Dedicated node pools: claimed, tainted, released, shared fairly between tenants.

use hxb_core::cluster::{Api, ListOptions};
use hxb_core::{EntityStatus, Selector};
use hxb_tenancy::plans::quota;
use k8s_openapi::api::core::v1::Node;

use crate::engine::env;

async fn pool_nodes(nodes: &Api<Node>, pool: &str) -> Vec<Node> {
    nodes
        .list(&ListOptions::labels(Selector::from_labels([(
            "hxb.io/pool",
            pool,
        )])))
        .await
        .unwrap()
}

#[tokio::test]
async fn dedicated_workspaces_claim_taint_and_release_nodes() {
    let e = env(); // 3 plain nodes + 4 nodes of size M
    let t = &e.tenancy;
    let nodes: Api<Node> = Api::all(e.cluster.clone());
    let q = || quota("1", "1Gi", "1Gi", "5", "5", "1").unwrap();
    t.create_organization("acme")
        .plan("professional")
        .execute()
        .await
        .unwrap();
    t.create_organization("globex")
        .plan("professional")
        .execute()
        .await
        .unwrap();
    // professional-dedicated: 2 × M each
    let ws = t
        .create_workspace("acme", "dev")
        .plan("professional-dedicated")
        .quota(q())
        .execute()
        .await
        .unwrap();
    assert_eq!(ws.status, EntityStatus::Active);
    let acme = pool_nodes(&nodes, "acme.dev").await;
    assert_eq!(acme.len(), 2);
    for n in &acme {
        let taints = n.spec.as_ref().unwrap().taints.clone().unwrap();
        assert!(taints.iter().any(|t| t.key == "dedicated"
            && t.value.as_deref() == Some("acme.dev")
            && t.effect == "NoSchedule"));
    }
    t.create_workspace("globex", "w")
        .plan("professional-dedicated")
        .quota(q())
        .execute()
        .await
        .unwrap();
    let globex = pool_nodes(&nodes, "globex.w").await;
    assert_eq!(globex.len(), 2);
    assert!(
        globex
            .iter()
            .all(|g| acme.iter().all(|a| a.metadata.name != g.metadata.name))
    );
    // capacity exhausted: the third dedicated workspace is recorded but in Error, saying why
    let third = t
        .create_workspace("acme", "prod")
        .plan("professional-dedicated")
        .quota(q())
        .execute()
        .await
        .unwrap();
    let EntityStatus::Error { reason } = &third.status else {
        panic!("{:?}", third.status)
    };
    assert!(reason.contains("no free dedicated node"), "{reason}");
    // a no-op reconcile of the healthy part writes nothing to nodes
    let before = e.counting.writes();
    t.reconcile_organization("globex").await.unwrap();
    assert_eq!(e.counting.writes(), before);
    // acme/dev goes shared: its nodes are released, and acme/prod can now get them
    t.update_workspace("acme", "dev")
        .plan("professional")
        .execute()
        .await
        .unwrap();
    assert!(pool_nodes(&nodes, "acme.dev").await.is_empty());
    let freed = nodes
        .get(acme[0].metadata.name.as_deref().unwrap())
        .await
        .unwrap();
    assert!(
        freed
            .spec
            .and_then(|s| s.taints)
            .unwrap_or_default()
            .iter()
            .all(|t| t.key != "dedicated")
    );
    t.reconcile().await.unwrap();
    assert_eq!(
        t.workspace("acme", "prod").await.unwrap().status,
        EntityStatus::Active
    );
    assert_eq!(pool_nodes(&nodes, "acme.prod").await.len(), 2);
    // an out-of-band untaint is repaired
    let mut n = pool_nodes(&nodes, "acme.prod").await.remove(0);
    n.spec.as_mut().unwrap().taints = None;
    nodes.replace(&n).await.unwrap();
    t.reconcile().await.unwrap();
    let n = nodes
        .get(n.metadata.name.as_deref().unwrap())
        .await
        .unwrap();
    assert!(
        n.spec
            .unwrap()
            .taints
            .unwrap()
            .iter()
            .any(|t| t.key == "dedicated")
    );
    // deleting the organization releases its pools
    t.delete_organization("acme")
        .cascade(true)
        .execute()
        .await
        .unwrap();
    assert!(pool_nodes(&nodes, "acme.prod").await.is_empty());
    assert_eq!(pool_nodes(&nodes, "globex.w").await.len(), 2);
}
