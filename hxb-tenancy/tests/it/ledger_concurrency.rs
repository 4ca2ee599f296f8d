//! Hundreds of concurrent allocations never overcommit the hierarchical quota.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use hxb_core::{ErrorKind, ResourceList};
use hxb_tenancy::ledger::QuotaLedger;

fn rl(cpu: &str, pods: &str) -> ResourceList {
    ResourceList::parse([("requests.cpu", cpu), ("pods", pods)]).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_workload_allocations_never_overcommit() {
    let ledger = QuotaLedger::new();
    ledger.set_organization("acme", rl("100", "1000")).unwrap();
    ledger.carve("acme/dev", rl("10", "100")).unwrap();
    ledger.carve("acme/dev/web", rl("5", "40")).unwrap();
    ledger.carve("acme/dev/web/api", rl("2", "10")).unwrap();
    let ok = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    // 500 tasks each asking for 100m cpu + 1 pod at the parent project: room for exactly
    // (5 - 2) / 0.1 = 30 by cpu and 40 - 10 = 30 by pods.
    for i in 0..500 {
        let (ledger, ok) = (ledger.clone(), ok.clone());
        let path = if i % 5 == 0 {
            "acme/dev/web/api"
        } else {
            "acme/dev/web"
        };
        tasks.push(tokio::spawn(async move {
            tokio::task::yield_now().await;
            match ledger.allocate(path, &rl("100m", "1")) {
                Ok(()) => {
                    ok.fetch_add(1, Ordering::SeqCst);
                }
                Err(e) => assert_eq!(e.kind(), ErrorKind::QuotaExceeded),
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    // 30 fit in web's own room, 10 (pods) in api's
    assert_eq!(ok.load(Ordering::SeqCst), 40);
    ledger.verify("acme").unwrap();
    let (limit, used) = ledger.status("acme/dev/web").unwrap();
    assert!(used.fits_within(&limit));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_carving_of_workspaces_never_exceeds_the_plan() {
    let ledger = QuotaLedger::new();
    ledger.set_organization("acme", rl("32", "500")).unwrap();
    let ok = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..300)
        .map(|i| {
            let (ledger, ok) = (ledger.clone(), ok.clone());
            tokio::spawn(async move {
                tokio::task::yield_now().await;
                if ledger.carve(&format!("acme/ws{i}"), rl("1", "10")).is_ok() {
                    ok.fetch_add(1, Ordering::SeqCst);
                    // half of them then resize, racing with the rest
                    if i % 2 == 0 {
                        let _ = ledger.carve(&format!("acme/ws{i}"), rl("2", "10"));
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    ledger.verify("acme").unwrap();
    let (limit, used) = ledger.status("acme").unwrap();
    assert!(used.fits_within(&limit), "{used:?} > {limit:?}");
    // every attempt asks for one more cpu and nothing is released, so a failure means the
    // room was zero: the plan ends exactly full on cpu
    assert_eq!(
        used.get_or_zero("requests.cpu"),
        limit.get_or_zero("requests.cpu")
    );
    assert!(ok.load(Ordering::SeqCst) >= 16);
    assert_eq!(
        ledger.carve("acme/late", rl("1", "1")).unwrap_err().kind(),
        ErrorKind::QuotaExceeded
    );
}
