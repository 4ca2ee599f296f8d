//! Provisioning benchmark: organizations × workspaces × projects with members on the
//! embedded cluster, then a full no-op reconcile whose cluster writes must be zero.
//!
//! ```text
//! cargo run --release -p hxb-tenancy --example bench_provision -- [workspaces] [concurrency]
//! ```
//!
//! Defaults: 1000 workspaces (100 organizations on the `professional` plan × 10 workspaces),
//! 3 projects per workspace (one of them a sub-project), members: one owner per organization,
//! one developer per workspace, one viewer per project; 4 organizations provisioned
//! concurrently. Prints wall time, objects/s, operations/s, peak RSS (VmHWM) and the write count
//! of the no-op reconcile.

use std::sync::Arc;
use std::time::Instant;

use hxb_core::cluster::ListOptions;
use hxb_core::store::MemoryStore;
use hxb_core::{EmbeddedCluster, Selector, StateStore};
use hxb_tenancy::Tenancy;
use hxb_tenancy::naming::{MANAGED_BY, MANAGER};
use hxb_tenancy::plans::quota;
use hxb_tenancy::reconcile::managed_types;
use hxb_tenancy::testing::CountingBackend;

const WS_PER_ORG: usize = 10;

fn vm_hwm_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

async fn provision_org(t: Tenancy, o: usize, workspaces: usize) -> hxb_core::Result<usize> {
    let org = format!("org{o:03}");
    let mut ops = 0;
    t.create_organization(&org)
        .plan("professional")
        .execute()
        .await?;
    t.add_member(&org, &format!("owner@{org}"))
        .role("owner")
        .execute()
        .await?;
    ops += 2;
    let ws_quota = quota("800m", "1600Mi", "10Gi", "10", "5", "2")?;
    let prj_quota = quota("200m", "400Mi", "2Gi", "2", "1", "0")?;
    let sub_quota = quota("100m", "200Mi", "1Gi", "1", "1", "0")?;
    for w in 0..workspaces {
        let ws = format!("ws{w}");
        t.create_workspace(&org, &ws)
            .quota(ws_quota.clone())
            .execute()
            .await?;
        t.add_member(&org, &format!("dev{w}@{org}"))
            .workspace(&ws)
            .role("developer")
            .execute()
            .await?;
        t.create_project(&org, &ws, "web")
            .quota(prj_quota.clone())
            .execute()
            .await?;
        t.create_project(&org, &ws, "api")
            .parent("web")
            .quota(sub_quota.clone())
            .execute()
            .await?;
        t.create_project(&org, &ws, "db")
            .quota(prj_quota.clone())
            .execute()
            .await?;
        for p in ["web", "api", "db"] {
            t.add_member(&org, &format!("view-{p}{w}@{org}"))
                .workspace(&ws)
                .project(p)
                .role("viewer")
                .execute()
                .await?;
        }
        ops += 8;
    }
    Ok(ops)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> hxb_core::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let workspaces: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let concurrency: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(4).max(1);
    let orgs = workspaces.div_ceil(WS_PER_ORG);

    let cluster = EmbeddedCluster::builder().nodes(10).seed(1).build();
    let backend = cluster.clone().into_backend();
    let counting = Arc::new(CountingBackend::new(backend.clone()));
    let store: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let t = Tenancy::new(counting.clone(), store);

    let start = Instant::now();
    let mut ops = 0;
    let mut next = 0;
    while next < orgs {
        let mut set = tokio::task::JoinSet::new();
        for o in next..(next + concurrency).min(orgs) {
            let n = WS_PER_ORG.min(workspaces - o * WS_PER_ORG);
            set.spawn(provision_org(t.clone(), o, n));
        }
        next += concurrency;
        while let Some(r) = set.join_next().await {
            ops += r.map_err(|e| hxb_core::Error::internal(e.to_string()))??;
        }
    }
    let provision = start.elapsed();
    let writes_provision = counting.writes();

    let sel = ListOptions::labels(Selector::from_labels([(MANAGED_BY, MANAGER)]));
    let mut objects = 0;
    for ty in managed_types() {
        objects += backend.list(&ty, None, &sel).await?.items.len();
    }

    let before = counting.writes();
    let start = Instant::now();
    let report = t.reconcile().await?;
    let noop = start.elapsed();
    let noop_writes = counting.writes() - before;

    println!("organizations:            {orgs}");
    println!("workspaces:               {workspaces}");
    println!("projects:                 {}", workspaces * 3);
    println!("engine operations:        {ops}");
    println!("managed objects:          {objects}");
    println!("cluster writes (provision): {writes_provision}");
    println!("provision wall time:      {:.2} s", provision.as_secs_f64());
    println!(
        "objects/s:                {:.0}",
        objects as f64 / provision.as_secs_f64()
    );
    println!(
        "operations/s:             {:.0}",
        ops as f64 / provision.as_secs_f64()
    );
    println!(
        "no-op reconcile:          {:.2} s, {} objects unchanged, {} cluster writes (report: {})",
        noop.as_secs_f64(),
        report.unchanged,
        noop_writes,
        report.writes()
    );
    println!(
        "peak memory (VmHWM):      {} MiB",
        vm_hwm_kib().unwrap_or(0) / 1024
    );
    assert_eq!(noop_writes, 0, "a no-op reconcile must not write");
    Ok(())
}
