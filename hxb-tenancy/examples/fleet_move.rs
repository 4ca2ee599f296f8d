//! Fleet benchmark: move a workspace of 3 projects × 5 applications between two embedded
//! clusters, back and forth, with the tenancy engine (organization lock, desired objects
//! reconciled into the target).
//!
//! ```text
//! cargo run --release -p hxb-tenancy --features fleet --example fleet_move -- [moves] [background]
//! ```
//!
//! Defaults: 20 moves; 40 background workspaces (1 project, 1 application each) spread over
//! both clusters so lists are not trivially small. Prints per-move wall time (min, median,
//! max), objects copied per move and the writes of a reconcile after the last move (must be 0).

use std::sync::Arc;
use std::time::{Duration, Instant};

use hxb_core::store::MemoryStore;
use hxb_core::{EmbeddedCluster, ResourceList, StateStore};
use hxb_tenancy::Tenancy;
use hxb_tenancy::fleet::Fleet;
use hxb_tenancy::plans::quota;

async fn workspace(
    t: &Tenancy,
    org: &str,
    ws: &str,
    projects: usize,
    apps: usize,
) -> hxb_core::Result<()> {
    let (ws_quota, project_quota) = if projects > 1 {
        (
            quota("4", "8Gi", "20Gi", "40", "20", "4")?,
            quota("1", "2Gi", "5Gi", "10", "6", "1")?,
        )
    } else {
        let small = quota("500m", "1Gi", "5Gi", "10", "3", "1")?;
        (small.clone(), small)
    };
    t.create_workspace(org, ws)
        .quota(ws_quota)
        .execute()
        .await?;
    for p in 0..projects {
        let project = format!("p{p}");
        t.create_project(org, ws, &project)
            .quota(project_quota.clone())
            .execute()
            .await?;
        for a in 0..apps {
            t.create_app(org, ws, &project, &format!("app{a}"))
                .stateless("nginx:1.27")
                .port(80)
                .replicas(1)
                .requests(ResourceList::parse([("cpu", "100m"), ("memory", "64Mi")])?)
                .execute()
                .await?;
        }
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> hxb_core::Result<()> {
    let mut args = std::env::args().skip(1);
    let moves: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(20);
    let background: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(40);
    let store: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let fleet = Fleet::open(store.clone()).await?;
    for (name, region) in [("eu-1", "eu"), ("us-1", "us")] {
        let c = EmbeddedCluster::builder().nodes(40).build().into_backend();
        fleet.add_cluster(name, c).region(region).execute().await?;
    }
    let t = Tenancy::new(fleet.backend(), store);
    t.create_organization("bench")
        .plan("enterprise")
        .execute()
        .await?;
    for i in 0..background {
        workspace(&t, "bench", &format!("bg{i:03}"), 1, 1).await?;
    }
    workspace(&t, "bench", "mover", 3, 5).await?;
    let mut times: Vec<Duration> = Vec::new();
    let mut copied = 0;
    for _ in 0..moves {
        let from = fleet.assignment("bench", "mover").expect("placed").cluster;
        let to = if from == "eu-1" { "us-1" } else { "eu-1" };
        let start = Instant::now();
        let r = fleet
            .move_workspace("bench", "mover", to)
            .tenancy(&t)
            .execute()
            .await?;
        times.push(start.elapsed());
        copied = r.copied;
    }
    let after = t.reconcile().await?;
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "moves: {moves}, objects copied per move: {copied}, background workspaces: {background}"
    );
    if !times.is_empty() {
        println!(
            "per move: min {:.2} ms, median {:.2} ms, max {:.2} ms",
            ms(times[0]),
            ms(times[times.len() / 2]),
            ms(times[times.len() - 1])
        );
    }
    println!(
        "reconcile after the last move: {} writes, clean: {}",
        after.writes(),
        after.is_clean()
    );
    Ok(())
}
