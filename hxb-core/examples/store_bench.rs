//! State store throughput: commits, reads and prefix listings on the SQLite file store
//! (WAL, `synchronous = FULL`) and the in-memory store.
//!
//! ```text
//! cargo run --release -p hxb-core --example store_bench [-- DIR]
//! ```
//!
//! `DIR` is where the database file goes (default: a temporary directory; pass a directory on
//! the disk you care about, since commit latency is one fsync).

use std::sync::Arc;
use std::time::{Duration, Instant};

use hxb_core::store::{Batch, MemoryStore, Precondition, SqliteStore, StateStore};
use serde_json::json;

const COMMITS: usize = 2_000;
const BATCH_OPS: usize = 10;
const RECORDS: usize = 10_000;
const READS: usize = 20_000;
const TASKS: usize = 8;

fn doc(i: usize) -> serde_json::Value {
    json!({
        "name": format!("project-{i:05}"),
        "workspace": "acme/dev",
        "quota": {"requests.cpu": "4", "requests.memory": "8Gi", "pods": 50},
        "labels": {"team": "web", "tier": "gold"},
    })
}

fn rate(n: usize, d: Duration) -> String {
    format!("{:>9.0}/s  ({:>7.1} µs each)", n as f64 / d.as_secs_f64(), d.as_secs_f64() * 1e6 / n as f64)
}

async fn run(name: &str, store: Arc<dyn StateStore>) {
    println!("== {name}");
    // Single-put commits, one after another.
    let t = Instant::now();
    for i in 0..COMMITS {
        let b = Batch::new().put("bench", &format!("single/{i:05}"), doc(i), Precondition::Absent);
        store.commit(b).await.unwrap();
    }
    println!("commit, 1 put            {}", rate(COMMITS, t.elapsed()));

    // Batches of puts plus an audit entry.
    let t = Instant::now();
    for i in 0..COMMITS {
        let mut b = Batch::new();
        for j in 0..BATCH_OPS {
            b = b.put("bench", &format!("batch/{i:05}/{j}"), doc(j), Precondition::None);
        }
        store.commit(b.append("audit", json!({"batch": i}))).await.unwrap();
    }
    println!("commit, {BATCH_OPS} puts + append  {}", rate(COMMITS, t.elapsed()));

    // Concurrent compare-and-swap commits from several tasks on distinct keys.
    let t = Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..COMMITS / TASKS {
                    let key = format!("cas/{task}");
                    let expect = match store.get("bench", &key).await.unwrap() {
                        Some(r) => Precondition::Revision(r.revision),
                        None => Precondition::Absent,
                    };
                    store.commit(Batch::new().put("bench", &key, json!(i), expect)).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    println!("get + CAS commit, {TASKS} tasks {}", rate(COMMITS, t.elapsed()));

    // Point reads over a larger collection.
    let mut b = Batch::new();
    for i in 0..RECORDS {
        b = b.put("projects", &format!("acme/dev/{i:05}"), doc(i), Precondition::None);
    }
    store.commit(b).await.unwrap();
    let t = Instant::now();
    for i in 0..READS {
        let key = format!("acme/dev/{:05}", (i * 7919) % RECORDS);
        assert!(store.get("projects", &key).await.unwrap().is_some());
    }
    println!("get                      {}", rate(READS, t.elapsed()));

    let t = Instant::now();
    let lists = 50;
    for i in 0..lists {
        let prefix = format!("acme/dev/0{}", i % 10);
        assert_eq!(store.list("projects", &prefix).await.unwrap().len(), 1000);
    }
    println!("list, 1000 of {RECORDS} records {}", rate(lists, t.elapsed()));
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let arg = std::env::args().nth(1);
    let tmp = tempfile::tempdir().unwrap();
    let dir = arg.map(std::path::PathBuf::from).unwrap_or_else(|| tmp.path().to_owned());
    let path = dir.join("hxb-store-bench.db");
    let _ = std::fs::remove_file(&path);
    println!("file: {}", path.display());
    run("SqliteStore (file, WAL, synchronous=FULL)", Arc::new(SqliteStore::open(&path).unwrap())).await;
    run("SqliteStore (in memory)", Arc::new(SqliteStore::in_memory().unwrap())).await;
    run("MemoryStore", Arc::new(MemoryStore::new())).await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}
