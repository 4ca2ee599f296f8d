//! Feature `fleet` through the facade: an engine over several embedded clusters.

use std::sync::Arc;

use hxb::core::cluster::ResourceType;
use hxb::core::store::MemoryStore;
use hxb::fleet::FleetMember;
use hxb::{Engine, ErrorKind, StateStore};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};

async fn engine(store: Arc<dyn StateStore>) -> Engine {
    Engine::builder()
        .store(store)
        .fleet_member(FleetMember::embedded("eu-1", 3).region("eu"))
        .fleet_member(FleetMember::embedded("us-1", 2).region("us"))
        .fleet_member(FleetMember::embedded("acme-only", 1).dedicated_to("acme"))
        .build()
        .await
        .unwrap()
}

fn q() -> hxb::ResourceList {
    hxb::tenancy::plans::quota("1", "2Gi", "5Gi", "10", "5", "2").unwrap()
}

async fn has_namespace(engine: &Engine, member: &str, ns: &str) -> bool {
    engine
        .fleet()
        .unwrap()
        .member(member)
        .unwrap()
        .get(&ResourceType::of::<Namespace>(), None, ns)
        .await
        .is_ok()
}

#[tokio::test]
async fn an_engine_over_a_fleet_places_routes_and_moves() {
    let store: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let engine = engine(store.clone()).await;
    let fleet = engine.fleet().unwrap();
    let t = engine.tenancy().unwrap();
    t.create_organization("beta")
        .plan("professional")
        .execute()
        .await
        .unwrap();
    t.create_workspace("beta", "dev")
        .quota(q())
        .execute()
        .await
        .unwrap();
    assert_eq!(
        fleet
            .place_workspace("beta", "dev")
            .region("us")
            .execute()
            .await
            .unwrap(),
        "us-1"
    );
    t.create_project("beta", "dev", "web")
        .quota(q())
        .execute()
        .await
        .unwrap();
    assert!(has_namespace(&engine, "us-1", "beta-dev-web").await);
    assert!(!has_namespace(&engine, "eu-1", "beta-dev-web").await);
    // a manifest applied through the engine lands beside its namespace
    engine
        .apply(serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": "beta-dev-web"},
            "data": {"mode": "blue"}}))
        .await
        .unwrap();
    let cm = |m: &str| hxb::Api::<ConfigMap>::namespaced(fleet.member(m).unwrap(), "beta-dev-web");
    assert!(cm("us-1").get_opt("settings").await.unwrap().is_some());
    // capacity per member
    let infos = fleet.clusters().await.unwrap();
    let us = infos.iter().find(|c| c.name == "us-1").unwrap();
    assert_eq!(us.workspaces, vec!["beta/dev".to_owned()]);
    assert_eq!(us.used.get("cpu").unwrap().to_string(), "1");
    // move: the application object (not hxb's) travels with the namespace
    let r = engine.move_workspace("beta", "dev", "eu-1").await.unwrap();
    assert_eq!(r.from, "us-1");
    assert!(has_namespace(&engine, "eu-1", "beta-dev-web").await);
    assert!(!has_namespace(&engine, "us-1", "beta-dev-web").await);
    let moved = cm("eu-1").get("settings").await.unwrap();
    assert_eq!(moved.data.unwrap()["mode"], "blue");
    assert_eq!(engine.reconcile().await.unwrap().writes(), 0);
    // refused moves change nothing
    let err = fleet
        .move_workspace("beta", "dev", "acme-only")
        .execute()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::FailedPrecondition);
    assert_eq!(fleet.assignment("beta", "dev").unwrap().cluster, "eu-1");
    // the engine's list merges members
    let list = engine.list("Namespace", None, None).await.unwrap();
    let names: Vec<&str> = list
        .iter()
        .filter_map(|n| n["metadata"]["name"].as_str())
        .collect();
    assert!(names.contains(&"beta-dev-web"), "{names:?}");
    // a second engine over the same store sees the same placements
    let again = Engine::builder()
        .store(store)
        .fleet()
        .build()
        .await
        .unwrap();
    assert_eq!(again.fleet().unwrap().assignments(), fleet.assignments());
}

#[tokio::test]
async fn an_engine_without_a_fleet_says_so() {
    let engine = Engine::embedded().unwrap();
    assert_eq!(
        engine.fleet().unwrap_err().kind(),
        ErrorKind::FailedPrecondition
    );
}

#[tokio::test]
async fn dedicated_plans_may_share_clusters_when_configured() {
    use hxb::core::embedded::NodePool;
    let with_m_nodes = |prefix: &str| {
        hxb::EmbeddedCluster::builder()
            .nodes(2)
            .node_pool(
                NodePool::new(prefix)
                    .count(2)
                    .cpu("8")
                    .memory("32Gi")
                    .label("hxb.io/node-size", "m"),
            )
            .build()
            .into_backend()
    };
    let engine = Engine::builder()
        .fleet_dedicated_clusters(false)
        .fleet_member(FleetMember::backend("a", with_m_nodes("a-m")).region("eu"))
        .fleet_member(FleetMember::backend("b", with_m_nodes("b-m")).region("us"))
        .build()
        .await
        .unwrap();
    let t = engine.tenancy().unwrap();
    t.create_organization("beta")
        .plan("enterprise")
        .execute()
        .await
        .unwrap();
    let ws = t
        .create_workspace("beta", "secure")
        .plan("professional-dedicated")
        .quota(q())
        .execute()
        .await
        .unwrap();
    assert_eq!(
        ws.status,
        hxb::core::EntityStatus::Active,
        "{:?}",
        ws.status
    );
    let fleet = engine.fleet().unwrap();
    let claimed = |m: &'static str| {
        let api = hxb::Api::<k8s_openapi::api::core::v1::Node>::all(fleet.member(m).unwrap());
        async move {
            api.list(&hxb::core::cluster::ListOptions::labels(
                hxb::Selector::parse("hxb.io/pool=beta.secure").unwrap(),
            ))
            .await
            .unwrap()
            .len()
        }
    };
    // its pool's nodes were claimed in its cluster only
    let home = fleet.assignment("beta", "secure").unwrap().cluster;
    let other = if home == "a" { "b" } else { "a" };
    let home: &'static str = if home == "a" { "a" } else { "b" };
    assert_eq!((claimed(home).await, claimed(other).await), (2, 0));
    // a move releases them at the source and claims as many at the target
    t.create_project("beta", "secure", "web")
        .quota(q())
        .execute()
        .await
        .unwrap();
    let r = engine
        .move_workspace("beta", "secure", other)
        .await
        .unwrap();
    assert_eq!(r.released_nodes, 2);
    assert_eq!((claimed(home).await, claimed(other).await), (0, 2));
    let ws = t.workspace("beta", "secure").await.unwrap();
    assert_eq!(
        ws.status,
        hxb::core::EntityStatus::Active,
        "{:?}",
        ws.status
    );
    assert_eq!(engine.reconcile().await.unwrap().writes(), 0);
}

#[tokio::test]
async fn placement_knows_the_engines_own_plans() {
    let mut plans = hxb::tenancy::PlanCatalog::defaults();
    let mut custom = plans.get("professional").unwrap().clone();
    custom.id = hxb::Name::new("team-custom").unwrap();
    plans.insert(custom).unwrap();
    let engine = Engine::builder()
        .plans(plans)
        .fleet_member(FleetMember::embedded("eu-1", 2).region("eu"))
        .build()
        .await
        .unwrap();
    let t = engine.tenancy().unwrap();
    t.create_organization("beta")
        .plan("team-custom")
        .execute()
        .await
        .unwrap();
    t.create_workspace("beta", "dev")
        .plan("team-custom")
        .quota(q())
        .execute()
        .await
        .unwrap();
    let fleet = engine.fleet().unwrap();
    let placed = fleet
        .place_workspace("beta", "dev")
        .execute()
        .await
        .unwrap();
    assert_eq!(placed, "eu-1");
}
