//! Multi-cluster fleet on three embedded clusters: placement, routing, moves, faults.

mod moves;
mod placement;

use std::collections::BTreeSet;
use std::sync::Arc;

use hxb_core::cluster::{ListOptions, ResourceType};
use hxb_core::embedded::NodePool;
use hxb_core::store::MemoryStore;
use hxb_core::{EmbeddedCluster, ResourceList, Selector, StateStore};
use hxb_tenancy::Tenancy;
use hxb_tenancy::engine::pools::LABEL_NODE_SIZE;
use hxb_tenancy::fleet::Fleet;
use hxb_tenancy::naming::{MANAGED_BY, MANAGER};
use hxb_tenancy::plans::quota;
use hxb_tenancy::reconcile::{RetryPolicy, managed_types};
use hxb_tenancy::testing::FaultyBackend;
use k8s_openapi::api::core::v1::Namespace;

pub struct World {
    pub store: Arc<dyn StateStore>,
    pub fleet: Fleet,
    pub tenancy: Tenancy,
    /// `(name, the embedded cluster, the backend the fleet uses)`.
    pub members: Vec<(&'static str, EmbeddedCluster, Arc<FaultyBackend>)>,
}

fn cluster(prefix: &str, nodes: usize, cpu: &str, dedicated_m: usize) -> EmbeddedCluster {
    let mut b = EmbeddedCluster::builder()
        .node_pool(NodePool::new(prefix).count(nodes).cpu(cpu).memory("16Gi"));
    if dedicated_m > 0 {
        b = b.node_pool(
            NodePool::new(format!("{prefix}-m"))
                .count(dedicated_m)
                .cpu("8")
                .memory("32Gi")
                .label(LABEL_NODE_SIZE, "m"),
        );
    }
    b.seed(7).build()
}

/// eu-1: 3 × 4 cpu (region eu); us-1: 2 × 4 cpu (region us); ded: 1 × 4 cpu + 2 size-M
/// nodes, region eu, dedicated to `acme`. Every member sits behind a fault injector that
/// starts disabled.
pub async fn world() -> World {
    world_with(0, 0.0).await
}

/// The same world with injectors failing a fraction `rate` of calls once enabled.
pub async fn world_with(seed: u64, rate: f64) -> World {
    let store: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let retry = RetryPolicy {
        attempts: 6,
        backoff: std::time::Duration::from_millis(1),
    };
    let fleet = Fleet::builder(store.clone())
        .retry(retry)
        .open()
        .await
        .unwrap();
    let mut members = Vec::new();
    for (i, (name, c)) in [
        ("eu-1", cluster("eu1", 3, "4", 0)),
        ("us-1", cluster("us1", 2, "4", 0)),
        ("ded", cluster("ded", 1, "4", 2)),
    ]
    .into_iter()
    .enumerate()
    {
        let faulty = Arc::new(FaultyBackend::new(
            c.clone().into_backend(),
            seed * 10 + i as u64,
            rate,
        ));
        faulty.set_enabled(false);
        let add = fleet.add_cluster(name, faulty.clone());
        let add = match name {
            "us-1" => add.region("us"),
            "ded" => add.region("eu").dedicated_to("acme"),
            _ => add.region("eu"),
        };
        add.execute().await.unwrap();
        members.push((name, c, faulty));
    }
    let tenancy = Tenancy::builder(fleet.backend(), store.clone())
        .retry(retry)
        .build();
    World {
        store,
        fleet,
        tenancy,
        members,
    }
}

impl World {
    pub fn embedded(&self, name: &str) -> &EmbeddedCluster {
        &self.members.iter().find(|m| m.0 == name).unwrap().1
    }

    /// hxb-managed objects in one member, as `Kind ns/name`.
    pub async fn managed(&self, name: &str) -> Vec<String> {
        let b = self.embedded(name).clone().into_backend();
        let opts = ListOptions::labels(Selector::from_labels([(MANAGED_BY, MANAGER)]));
        let mut out = Vec::new();
        for ty in managed_types() {
            for o in b.list(&ty, None, &opts).await.unwrap().items {
                out.push(format!(
                    "{} {}/{}",
                    ty.kind,
                    o.metadata.namespace.unwrap_or_default(),
                    o.metadata.name.unwrap_or_default()
                ));
            }
        }
        out.sort();
        out
    }

    pub async fn namespaces(&self, name: &str) -> BTreeSet<String> {
        let b = self.embedded(name).clone().into_backend();
        let opts = ListOptions::labels(Selector::from_labels([(MANAGED_BY, MANAGER)]));
        b.list(&ResourceType::of::<Namespace>(), None, &opts)
            .await
            .unwrap()
            .items
            .into_iter()
            .filter_map(|n| n.metadata.name)
            .collect()
    }

    pub fn set_faults(&self, rate_on: bool) {
        for m in &self.members {
            m.2.set_enabled(rate_on);
        }
    }
}

pub fn q(cpu: &str) -> ResourceList {
    quota(cpu, "4Gi", "10Gi", "20", "10", "4").unwrap()
}

pub fn req(cpu: &str, mem: &str) -> ResourceList {
    ResourceList::parse([("cpu", cpu), ("memory", mem)]).unwrap()
}

/// `org` on the enterprise plan with workspace `ws` (quota `cpu`), `projects` projects and
/// `apps` stateless applications in each.
pub async fn tenant(w: &World, org: &str, ws: &str, cpu: &str, projects: usize, apps: usize) {
    tenant_on(w, org, ws, cpu, projects, apps, None).await;
}

/// [`tenant`], the workspace placed on `cluster` first when given.
pub async fn tenant_on(
    w: &World,
    org: &str,
    ws: &str,
    cpu: &str,
    projects: usize,
    apps: usize,
    cluster: Option<&str>,
) {
    let t = &w.tenancy;
    if t.organization(org).await.is_err() {
        t.create_organization(org)
            .plan("enterprise")
            .execute()
            .await
            .unwrap();
    }
    t.create_workspace(org, ws)
        .quota(q(cpu))
        .execute()
        .await
        .unwrap();
    if let Some(c) = cluster {
        w.fleet
            .place_workspace(org, ws)
            .cluster(c)
            .execute()
            .await
            .unwrap();
    }
    for p in 0..projects {
        let project = format!("p{p}");
        t.create_project(org, ws, &project)
            .quota(quota("500m", "1Gi", "2Gi", "3", "3", "1").unwrap())
            .execute()
            .await
            .unwrap();
        for a in 0..apps {
            t.create_app(org, ws, &project, &format!("app{a}"))
                .stateless("nginx:1.27")
                .port(80)
                .replicas(1)
                .requests(req("100m", "64Mi"))
                .execute()
                .await
                .unwrap();
        }
    }
}
