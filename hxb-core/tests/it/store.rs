//! State store conformance: the same assertions against every implementation.

use std::sync::Arc;

use hxb_core::ErrorKind;
use hxb_core::store::{Batch, MemoryStore, Precondition, Record, SqliteStore, StateStore};
use proptest::prelude::*;
use serde_json::json;

/// Every implementation, freshly created, with a label for assertion messages. The file store
/// lives in a temporary directory kept alive by the returned guard.
/// Labelled stores under test.
type Stores = Vec<(&'static str, Arc<dyn StateStore>)>;

fn stores() -> (Stores, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = SqliteStore::open(dir.path().join("state.db")).unwrap();
    let stores: Stores = vec![
        ("memory", Arc::new(MemoryStore::new())),
        ("sqlite-memory", Arc::new(SqliteStore::in_memory().unwrap())),
        ("sqlite-file", Arc::new(file)),
    ];
    (stores, dir)
}

/// Everything observable about a store: its revision, every record of the given collections
/// and every entry of the given logs.
async fn snapshot(store: &dyn StateStore, collections: &[&str], logs: &[&str]) -> String {
    let mut out = format!("revision {}\n", store.revision().await.unwrap());
    for c in collections {
        for r in store.list(c, "").await.unwrap() {
            out.push_str(&format!(
                "{}/{}@{} {}\n",
                r.collection, r.key, r.revision, r.value
            ));
        }
    }
    for l in logs {
        for e in store.read_log(l, 0, usize::MAX).await.unwrap() {
            out.push_str(&format!("{l}#{} {}\n", e.seq, e.entry));
        }
    }
    out
}

#[tokio::test]
async fn crud() {
    let (stores, _dir) = stores();
    for (name, s) in stores {
        assert_eq!(s.revision().await.unwrap(), 0, "{name}");
        assert_eq!(s.get("orgs", "acme").await.unwrap(), None, "{name}");
        let r1 = s
            .commit(Batch::new().put(
                "orgs",
                "acme",
                json!({"plan": "starter"}),
                Precondition::Absent,
            ))
            .await
            .unwrap();
        assert_eq!(r1, 1, "{name}");
        let rec = s.get("orgs", "acme").await.unwrap().unwrap();
        assert_eq!(
            rec,
            Record {
                collection: "orgs".into(),
                key: "acme".into(),
                value: json!({"plan": "starter"}),
                revision: 1
            },
            "{name}"
        );
        let r2 = s
            .commit(Batch::new().put(
                "orgs",
                "acme",
                json!({"plan": "pro", "n": [1, 2.5, null]}),
                Precondition::Revision(1),
            ))
            .await
            .unwrap();
        assert_eq!(r2, 2, "{name}");
        let rec = s.get("orgs", "acme").await.unwrap().unwrap();
        assert_eq!(
            (rec.value, rec.revision),
            (json!({"plan": "pro", "n": [1, 2.5, null]}), 2),
            "{name}"
        );
        // The same key in another collection is another record.
        assert_eq!(s.get("workspaces", "acme").await.unwrap(), None, "{name}");
        let r3 = s
            .commit(Batch::new().delete("orgs", "acme", Precondition::Exists))
            .await
            .unwrap();
        assert_eq!(r3, 3, "{name}");
        assert_eq!(s.get("orgs", "acme").await.unwrap(), None, "{name}");
        // An empty batch changes nothing and reports the current revision.
        assert_eq!(s.commit(Batch::new()).await.unwrap(), 3, "{name}");
        assert_eq!(s.revision().await.unwrap(), 3, "{name}");
    }
}

#[tokio::test]
async fn list_returns_prefix_matches_in_key_order() {
    let (stores, _dir) = stores();
    let keys = ["b/2", "a", "b/10", "b/1", "b", "ba", "c", "b/é", "b/z"];
    for (name, s) in stores {
        let mut batch = Batch::new();
        for k in keys {
            batch = batch.put("projects", k, json!(k), Precondition::None);
        }
        batch = batch.put("other", "b/0", json!(0), Precondition::None);
        s.commit(batch).await.unwrap();
        let got: Vec<String> = s
            .list("projects", "b/")
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.key)
            .collect();
        assert_eq!(got, ["b/1", "b/10", "b/2", "b/z", "b/é"], "{name}");
        let all: Vec<String> = s
            .list("projects", "")
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.key)
            .collect();
        let mut sorted: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        sorted.sort();
        assert_eq!(all, sorted, "{name}");
        assert!(s.list("projects", "zz").await.unwrap().is_empty(), "{name}");
        assert!(s.list("missing", "").await.unwrap().is_empty(), "{name}");
    }
}

#[tokio::test]
async fn preconditions_refuse_with_typed_errors_and_change_nothing() {
    let (stores, _dir) = stores();
    for (name, s) in stores {
        s.commit(Batch::new().put("orgs", "acme", json!(1), Precondition::Absent))
            .await
            .unwrap();
        let before = snapshot(&*s, &["orgs"], &[]).await;
        let cases = [
            (
                Batch::new().put("orgs", "acme", json!(2), Precondition::Absent),
                ErrorKind::AlreadyExists,
            ),
            (
                Batch::new().put("orgs", "nope", json!(2), Precondition::Exists),
                ErrorKind::NotFound,
            ),
            (
                Batch::new().delete("orgs", "nope", Precondition::Exists),
                ErrorKind::NotFound,
            ),
            (
                Batch::new().put("orgs", "acme", json!(2), Precondition::Revision(7)),
                ErrorKind::Conflict,
            ),
            (
                Batch::new().delete("orgs", "acme", Precondition::Revision(0)),
                ErrorKind::Conflict,
            ),
            (
                Batch::new().put("orgs", "nope", json!(2), Precondition::Revision(1)),
                ErrorKind::Conflict,
            ),
        ];
        for (batch, kind) in cases {
            let err = s.commit(batch.clone()).await.unwrap_err();
            assert_eq!(err.kind(), kind, "{name}: {batch:?} gave {err}");
            assert_eq!(
                snapshot(&*s, &["orgs"], &[]).await,
                before,
                "{name}: {batch:?} changed the store"
            );
        }
        let err = s
            .commit(Batch::new().put("orgs", "acme", json!(2), Precondition::Revision(7)))
            .await
            .unwrap_err();
        let msg = err.to_string();
        for part in ["orgs", "acme", "7", "1"] {
            assert!(msg.contains(part), "{name}: {msg:?} lacks {part:?}");
        }
        // Deleting an absent record without a precondition is allowed.
        s.commit(Batch::new().delete("orgs", "nope", Precondition::None))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_batch_whose_last_op_fails_leaves_everything_unchanged() {
    let (stores, _dir) = stores();
    for (name, s) in stores {
        s.commit(
            Batch::new()
                .put("orgs", "acme", json!({"v": 1}), Precondition::Absent)
                .put(
                    "workspaces",
                    "acme/dev",
                    json!({"v": 1}),
                    Precondition::Absent,
                )
                .append("audit", json!("created acme")),
        )
        .await
        .unwrap();
        let before = snapshot(&*s, &["orgs", "workspaces", "projects"], &["audit"]).await;
        let batch = Batch::new()
            .put("orgs", "acme", json!({"v": 2}), Precondition::Revision(1))
            .delete("workspaces", "acme/dev", Precondition::Exists)
            .put("projects", "acme/dev/web", json!({}), Precondition::Absent)
            .append("audit", json!("should not be written"))
            .put("orgs", "acme", json!({"v": 3}), Precondition::Revision(1)); // now stale: fails
        let err = s.commit(batch).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Conflict, "{name}: {err}");
        let after = snapshot(&*s, &["orgs", "workspaces", "projects"], &["audit"]).await;
        assert_eq!(after, before, "{name}");
    }
}

#[tokio::test]
async fn ops_in_a_batch_see_the_earlier_ops_of_the_same_batch() {
    let (stores, _dir) = stores();
    for (name, s) in stores {
        let rev = s
            .commit(
                Batch::new()
                    .put("orgs", "a", json!(1), Precondition::Absent)
                    .put("orgs", "a", json!(2), Precondition::Exists)
                    .delete("orgs", "a", Precondition::Revision(1))
                    .put("orgs", "a", json!(3), Precondition::Absent),
            )
            .await
            .unwrap();
        assert_eq!(rev, 1, "{name}");
        let rec = s.get("orgs", "a").await.unwrap().unwrap();
        assert_eq!((rec.value, rec.revision), (json!(3), 1), "{name}");
        // Within a batch a record written earlier carries the batch's revision.
        let err = s
            .commit(
                Batch::new()
                    .put("orgs", "b", json!(1), Precondition::None)
                    .delete("orgs", "b", Precondition::Revision(1)),
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Conflict, "{name}");
    }
}

#[tokio::test]
async fn logs_keep_order_and_page() {
    let (stores, _dir) = stores();
    for (name, s) in stores {
        for i in 0..25 {
            let mut b = Batch::new().append("audit", json!({"i": i}));
            if i % 5 == 0 {
                b = b.append("other", json!(i));
            }
            s.commit(b).await.unwrap();
        }
        let mut seen = Vec::new();
        let mut after = 0;
        loop {
            let page = s.read_log("audit", after, 7).await.unwrap();
            if page.is_empty() {
                break;
            }
            assert!(page.len() <= 7, "{name}");
            after = page.last().unwrap().seq;
            seen.extend(page);
        }
        assert_eq!(
            seen.iter().map(|e| e.seq).collect::<Vec<_>>(),
            (1..=25).collect::<Vec<u64>>(),
            "{name}"
        );
        assert_eq!(
            seen.iter()
                .map(|e| e.entry["i"].as_u64().unwrap())
                .collect::<Vec<_>>(),
            (0..25).collect::<Vec<u64>>(),
            "{name}"
        );
        let other = s.read_log("other", 0, 100).await.unwrap();
        assert_eq!(
            other
                .iter()
                .map(|e| (e.seq, e.entry.clone()))
                .collect::<Vec<_>>(),
            vec![
                (1, json!(0)),
                (2, json!(5)),
                (3, json!(10)),
                (4, json!(15)),
                (5, json!(20))
            ],
            "{name}"
        );
        assert!(
            s.read_log("audit", 25, 10).await.unwrap().is_empty(),
            "{name}"
        );
        assert!(
            s.read_log("audit", u64::MAX, 10).await.unwrap().is_empty(),
            "{name}"
        );
        assert!(
            s.read_log("audit", 0, 0).await.unwrap().is_empty(),
            "{name}"
        );
        assert!(
            s.read_log("missing", 0, 10).await.unwrap().is_empty(),
            "{name}"
        );
        // Several appends in one batch are consecutive.
        s.commit(
            Batch::new()
                .append("other", json!("x"))
                .append("other", json!("y")),
        )
        .await
        .unwrap();
        let tail = s.read_log("other", 5, 10).await.unwrap();
        assert_eq!(
            tail.iter()
                .map(|e| (e.seq, e.entry.clone()))
                .collect::<Vec<_>>(),
            vec![(6, json!("x")), (7, json!("y"))],
            "{name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_compare_and_swap_has_exactly_one_winner_per_round() {
    let (stores, _dir) = stores();
    for (name, s) in stores {
        let rev = s
            .commit(Batch::new().put("counters", "c", json!(0), Precondition::Absent))
            .await
            .unwrap();
        let mut expected_rev = rev;
        for round in 0..10u64 {
            let tasks: Vec<_> = (0..8)
                .map(|t| {
                    let s = s.clone();
                    tokio::spawn(async move {
                        s.commit(
                            Batch::new()
                                .put(
                                    "counters",
                                    "c",
                                    json!({"round": round, "task": t}),
                                    Precondition::Revision(expected_rev),
                                )
                                .append("wins", json!({"round": round, "task": t})),
                        )
                        .await
                    })
                })
                .collect();
            let mut winners = 0;
            for task in tasks {
                match task.await.unwrap() {
                    Ok(r) => {
                        winners += 1;
                        expected_rev = r;
                    }
                    Err(e) => assert_eq!(e.kind(), ErrorKind::Conflict, "{name}: {e}"),
                }
            }
            assert_eq!(winners, 1, "{name}: round {round}");
            assert_eq!(
                s.get("counters", "c").await.unwrap().unwrap().revision,
                expected_rev,
                "{name}"
            );
        }
        let wins = s.read_log("wins", 0, 100).await.unwrap();
        let rounds: Vec<u64> = wins
            .iter()
            .map(|e| e.entry["round"].as_u64().unwrap())
            .collect();
        assert_eq!(rounds, (0..10).collect::<Vec<_>>(), "{name}");
    }
}

#[tokio::test]
async fn everything_committed_survives_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hxb.db");
    let expected;
    {
        let s = SqliteStore::open(&path).unwrap();
        for i in 0..50 {
            s.commit(
                Batch::new()
                    .put(
                        "projects",
                        &format!("p{i:02}"),
                        json!({"i": i}),
                        Precondition::Absent,
                    )
                    .append("audit", json!(i)),
            )
            .await
            .unwrap();
        }
        s.commit(Batch::new().delete("projects", "p07", Precondition::Exists))
            .await
            .unwrap();
        // A failed batch must not reappear after a restart either.
        s.commit(
            Batch::new()
                .put("projects", "ghost", json!(1), Precondition::None)
                .put("projects", "p00", json!(1), Precondition::Absent),
        )
        .await
        .unwrap_err();
        expected = snapshot(&s, &["projects"], &["audit"]).await;
    }
    let reopened = SqliteStore::open(&path).unwrap();
    assert_eq!(
        snapshot(&reopened, &["projects"], &["audit"]).await,
        expected
    );
    assert_eq!(reopened.revision().await.unwrap(), 51);
    assert!(reopened.get("projects", "ghost").await.unwrap().is_none());
    // And it keeps counting from where it was.
    assert_eq!(
        reopened
            .commit(Batch::new().append("audit", json!("after")))
            .await
            .unwrap(),
        52
    );
    assert_eq!(reopened.read_log("audit", 50, 10).await.unwrap()[0].seq, 51);
}

#[test]
fn unopenable_and_corrupt_files_give_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    // A path under a missing directory cannot be created.
    let missing = dir.path().join("no/such/dir/hxb.db");
    let err = SqliteStore::open(&missing).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Backend, "{err}");
    assert!(err.to_string().contains("no/such/dir"), "{err}");
    assert!(std::error::Error::source(&err).is_some());
    // A directory is not a database file.
    let err = SqliteStore::open(dir.path()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Backend, "{err}");
    // A file of garbage is refused and left as it was.
    let garbage = dir.path().join("garbage.db");
    let bytes: Vec<u8> = (0..8192u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&garbage, &bytes).unwrap();
    let err = SqliteStore::open(&garbage).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Backend, "{err}");
    assert!(err.to_string().contains("garbage.db"), "{err}");
    assert_eq!(std::fs::read(&garbage).unwrap(), bytes);
}

// ---- property test: both implementations agree on random batches ----

fn arb_expect() -> impl Strategy<Value = Precondition> {
    prop_oneof![
        Just(Precondition::None),
        Just(Precondition::Absent),
        Just(Precondition::Exists),
        (0u64..6).prop_map(Precondition::Revision),
    ]
}

#[derive(Debug, Clone)]
enum ArbOp {
    Put(u8, u8, i64, Precondition),
    Delete(u8, u8, Precondition),
    Append(u8, i64),
}

fn arb_op() -> impl Strategy<Value = ArbOp> {
    prop_oneof![
        4 => (0u8..2, 0u8..4, any::<i64>(), arb_expect()).prop_map(|(c, k, v, e)| ArbOp::Put(c, k, v, e)),
        2 => (0u8..2, 0u8..4, arb_expect()).prop_map(|(c, k, e)| ArbOp::Delete(c, k, e)),
        1 => (0u8..2, any::<i64>()).prop_map(|(l, v)| ArbOp::Append(l, v)),
    ]
}

fn to_batch(ops: &[ArbOp]) -> Batch {
    ops.iter().fold(Batch::new(), |b, op| match op {
        ArbOp::Put(c, k, v, e) => b.put(&format!("c{c}"), &format!("k{k}"), json!({"v": v}), *e),
        ArbOp::Delete(c, k, e) => b.delete(&format!("c{c}"), &format!("k{k}"), *e),
        ArbOp::Append(l, v) => b.append(&format!("l{l}"), json!(v)),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn memory_and_sqlite_agree_on_random_batches(
        batches in proptest::collection::vec(proptest::collection::vec(arb_op(), 0..5), 1..12)
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let mem = MemoryStore::new();
            let sql = SqliteStore::in_memory().unwrap();
            for ops in &batches {
                let batch = to_batch(ops);
                let a = mem.commit(batch.clone()).await.map_err(|e| (e.kind(), e.to_string()));
                let b = sql.commit(batch).await.map_err(|e| (e.kind(), e.to_string()));
                prop_assert_eq!(a, b);
                let colls = ["c0", "c1"];
                let logs = ["l0", "l1"];
                prop_assert_eq!(snapshot(&mem, &colls, &logs).await, snapshot(&sql, &colls, &logs).await);
            }
            Ok(())
        })?;
    }
}
