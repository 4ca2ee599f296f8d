//! The `backup` feature through the facade: an engine on a manual clock, a directory store,
//! a daily policy driven by `Engine::run_due_backups`, and a restore from the files.

use std::sync::Arc;
use std::time::Duration;

use hxb::{Engine, ManualClock};

#[tokio::test]
async fn daily_policy_on_the_engine_clock_and_restore_from_files() {
    let clock = ManualClock::at_epoch();
    let engine = Engine::builder()
        .clock(Arc::new(clock.clone()))
        .build()
        .await
        .unwrap();
    let t = engine.tenancy().unwrap();
    t.create_organization("acme")
        .plan("starter")
        .display_name("Acme")
        .execute()
        .await
        .unwrap();
    t.create_workspace("acme", "dev").execute().await.unwrap();
    t.create_project("acme", "dev", "web")
        .execute()
        .await
        .unwrap();
    t.create_app("acme", "dev", "web", "shop")
        .stateless("shop:1")
        .port(8080)
        .execute()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let backups = engine.backups(dir.path()).unwrap();
    backups
        .set_policy("acme", "dev", "web", "shop")
        .schedule("@daily")
        .keep_last(2)
        .execute()
        .await
        .unwrap();
    let (mut taken, mut pruned) = (0, 0);
    for _ in 0..4 * 24 {
        clock.advance(Duration::from_secs(3600));
        let r = engine.run_due_backups(&backups).await.unwrap();
        taken += r.taken.len();
        pruned += r.pruned.len();
    }
    assert_eq!(
        (taken, pruned),
        (4, 2),
        "one a day for four days, two pruned"
    );
    let list = backups.list("acme", "dev", "web").await.unwrap();
    assert_eq!(list.len(), 2, "two kept");
    assert_eq!(files(dir.path()), ["json", "json", "summary", "summary"]);
    assert!(engine.metrics_text().contains("run_due_backups"));

    t.delete_app("acme", "dev", "web", "shop").await.unwrap();
    let latest = &list.last().unwrap().id;
    let out = backups.restore(latest).execute().await.unwrap();
    assert!(out.applied);
    assert_eq!(
        t.apps("acme", "dev", "web").await.unwrap()[0].image,
        "shop:1"
    );

    // A closed engine takes no more scheduled snapshots.
    engine.close();
    clock.advance(Duration::from_secs(2 * 24 * 3600));
    let err = engine.run_due_backups(&backups).await.unwrap_err();
    assert_eq!(err.kind(), hxb::ErrorKind::Closed);
    assert_eq!(files(dir.path()).len(), 4);
}

/// The extensions of the files in `dir`, sorted: each snapshot is a `.json` file with a
/// `.summary` beside it.
fn files(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            path.extension().unwrap().to_string_lossy().into_owned()
        })
        .collect();
    v.sort();
    v
}
