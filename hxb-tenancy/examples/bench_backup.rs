//! Backup benchmark: snapshot and restore of a project with 50 applications on the embedded
//! cluster, snapshots as files.
//!
//! ```text
//! cargo run --release -p hxb-tenancy --features backup --example bench_backup -- [apps] [rounds] [stored]
//! ```
//!
//! Defaults: 50 applications (half stateless with a Service, half stateful with a volume and
//! a headless Service) and one ConfigMap per application, 5 rounds. Each round: snapshot to a
//! directory, delete every application, dry-run plan, restore into the same project, restore
//! into a project of another workspace (then deleted again). Prints the median of each step,
//! the snapshot size and its object count, and checks that the restored project's content
//! hash equals the original's.
//!
//! Then it fills the directory with `stored` snapshots (default 50) of that project (copies of
//! one snapshot resealed at successive seconds) and times, as medians of 20 runs, the store's
//! `list` and a backup scheduler tick with nothing due (`run_due_backups`, which lists the
//! store every time).

use std::sync::Arc;
use std::time::{Duration, Instant};

use hxb_core::cluster::ResourceType;
use hxb_core::store::MemoryStore;
use hxb_core::{EmbeddedCluster, Quantity, ResourceList, StateStore};
use hxb_tenancy::Tenancy;
use hxb_tenancy::backup::{DirectoryStore, Snapshot, SnapshotStore};
use hxb_tenancy::plans::quota;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> hxb_core::Result<()> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let apps = args.first().copied().unwrap_or(50);
    let rounds = args.get(1).copied().unwrap_or(5).max(1);
    let stored = args.get(2).copied().unwrap_or(50).max(1);
    let cluster = EmbeddedCluster::builder().nodes(10).build().into_backend();
    let store: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let t = Tenancy::new(cluster.clone(), store);
    t.create_organization("acme")
        .plan("enterprise")
        .execute()
        .await?;
    let big = || quota("12", "24Gi", "120Gi", "120", "80", "40");
    for ws in ["dev", "dr"] {
        t.create_workspace("acme", ws)
            .quota(big()?)
            .execute()
            .await?;
        t.create_project("acme", ws, "web")
            .quota(quota("6", "12Gi", "60Gi", "60", "60", "30")?)
            .execute()
            .await?;
    }
    let req = ResourceList::parse([("cpu", "100m"), ("memory", "64Mi")])?;
    let cm = ResourceType::for_name("configmap")?;
    for i in 0..apps {
        let name = format!("app{i:03}");
        let b = t
            .create_app("acme", "dev", "web", &name)
            .requests(req.clone());
        let b = if i % 2 == 0 {
            b.stateless(&format!("img/{name}:1")).port(8080)
        } else {
            b.stateful(&format!("img/{name}:1"), Quantity::parse("1Gi")?)
        };
        b.execute().await?;
        let obj = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": format!("{name}-config"), "namespace": "acme-dev-web",
                "labels": {"hxb.io/app": name}},
            "data": {"setting": "x".repeat(64)}});
        cluster
            .create(&cm, serde_json::from_value(obj).expect("valid ConfigMap"))
            .await?;
    }
    let dir = std::env::temp_dir().join(format!("hxb-bench-backup-{}", std::process::id()));
    let snapshots = Arc::new(DirectoryStore::new(&dir)?);
    let b = t.backups(snapshots.clone());
    let (mut snap_t, mut plan_t, mut same_t, mut other_t) = (vec![], vec![], vec![], vec![]);
    let mut size = 0;
    let mut objects = 0;
    for _ in 0..rounds {
        let start = Instant::now();
        let info = b.snapshot("acme", "dev", "web").execute().await?;
        snap_t.push(start.elapsed());
        objects = info.objects;
        size = std::fs::metadata(dir.join(format!("{}.json", info.id)))
            .map(|m| m.len())
            .unwrap_or(0);
        for a in t.apps("acme", "dev", "web").await? {
            t.delete_app("acme", "dev", "web", a.name.as_str()).await?;
        }
        let start = Instant::now();
        let plan = b.restore(&info.id).dry_run().execute().await?.plan;
        plan_t.push(start.elapsed());
        assert_eq!(plan.conflicts().count(), 0);
        let start = Instant::now();
        b.restore(&info.id).execute().await?;
        same_t.push(start.elapsed());
        let start = Instant::now();
        b.restore(&info.id)
            .into_project("acme", "dr", "web")
            .execute()
            .await?;
        other_t.push(start.elapsed());
        let again = b.snapshot("acme", "dev", "web").execute().await?;
        assert_eq!(
            again.meta.content_hash, info.meta.content_hash,
            "restored content equals the original"
        );
        for a in t.apps("acme", "dr", "web").await? {
            t.delete_app("acme", "dr", "web", a.name.as_str()).await?;
        }
        for id in [&info.id, &again.id] {
            b.delete(id).await?;
        }
        // the ConfigMaps restored into dr stay (a restore never deletes); clear them
        for i in 0..apps {
            let _ = cluster
                .delete(&cm, Some("acme-dr-web"), &format!("app{i:03}-config"))
                .await;
        }
    }
    let base = b.snapshot("acme", "dev", "web").execute().await?;
    let base = b.get(&base.id).await?;
    b.delete(&base.id).await?;
    for i in 0..stored {
        let mut meta = base.meta.clone();
        meta.taken_at = base.meta.taken_at + Duration::from_secs(i as u64);
        let copy = Snapshot::seal(meta, base.apps.clone(), base.objects.clone())?;
        snapshots.put(&copy).await?;
    }
    let (mut list_t, mut tick_t) = (vec![], vec![]);
    for _ in 0..20 {
        let start = Instant::now();
        let listed = snapshots.list().await?;
        list_t.push(start.elapsed());
        assert_eq!(listed.len(), stored);
        let start = Instant::now();
        b.run_due_backups_now().await?;
        tick_t.push(start.elapsed());
    }
    let dir_bytes: u64 = std::fs::read_dir(&dir)
        .map_err(|e| hxb_core::Error::backend("cannot list the snapshot directory", e))?
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    std::fs::remove_dir_all(&dir).ok();
    println!("applications: {apps}, objects in the snapshot: {objects}, file: {size} bytes");
    println!("rounds: {rounds} (medians below)");
    println!("snapshot to directory:          {}", ms(median(snap_t)));
    println!("dry-run plan (all absent):      {}", ms(median(plan_t)));
    println!("restore into the same project:  {}", ms(median(same_t)));
    println!("restore into another workspace: {}", ms(median(other_t)));
    println!("stored snapshots: {stored}, directory: {dir_bytes} bytes (medians of 20 below)");
    println!("store list:                     {}", ms(median(list_t)));
    println!("scheduler tick, nothing due:    {}", ms(median(tick_t)));
    Ok(())
}
