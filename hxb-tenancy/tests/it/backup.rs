//! Backup and restore on the embedded cluster: snapshot → delete → restore gives the same
//! objects; restore into another workspace's project; dry runs change nothing; conflicts and
//! quota excess are refused with nothing changed; corrupt files are typed errors; restores
//! converge under injected faults; schedules with retention over simulated days.

use std::sync::Arc;
use std::time::Duration;

use hxb_core::cluster::{ListOptions, ResourceType};
use hxb_core::store::MemoryStore;
use hxb_core::{
    ClusterBackend, EmbeddedCluster, ErrorKind, ManualClock, Quantity, ResourceList, StateStore,
};
use hxb_tenancy::Tenancy;
use hxb_tenancy::backup::plan::{Action, PlanCounts};
use hxb_tenancy::backup::{
    Backups, DirectoryStore, MemorySnapshotStore, Snapshot, SnapshotCorrupt, SnapshotStore,
};
use hxb_tenancy::reconcile::RetryPolicy;
use hxb_tenancy::testing::FaultyBackend;
use serde_json::{Value, json};

use crate::engine::{Env, env, seed, store_dump};

const NS: &str = "acme-dev-web";

fn req(cpu: &str, mem: &str) -> ResourceList {
    ResourceList::parse([("cpu", cpu), ("memory", mem)]).unwrap()
}

/// acme/dev/web with a stateless app (`shop`, Deployment + Service), a stateful one (`db`,
/// StatefulSet + headless Service), a ConfigMap of `shop` and an unrelated Secret.
async fn world(t: &Tenancy, cluster: &dyn ClusterBackend) {
    seed(t).await;
    t.create_app("acme", "dev", "web", "shop")
        .stateless("shop:1")
        .replicas(2)
        .port(8080)
        .requests(req("200m", "128Mi"))
        .execute()
        .await
        .unwrap();
    t.create_app("acme", "dev", "web", "db")
        .stateful("postgres:17", Quantity::parse("1Gi").unwrap())
        .requests(req("100m", "256Mi"))
        .execute()
        .await
        .unwrap();
    create(
        cluster,
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "shop-config", "namespace": NS, "labels": {"hxb.io/app": "shop"}},
            "data": {"greeting": "hello"}}),
    )
    .await;
    create(
        cluster,
        json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "db-password", "namespace": NS},
            "data": {"password": "c2VjcmV0"}}),
    )
    .await;
}

async fn create(cluster: &dyn ClusterBackend, v: Value) {
    let ty = ResourceType::for_kind(
        v["apiVersion"].as_str().unwrap(),
        v["kind"].as_str().unwrap(),
    )
    .unwrap();
    cluster
        .create(&ty, serde_json::from_value(v).unwrap())
        .await
        .unwrap();
}

/// Every object of the backed-up kinds in `ns`, raw (resourceVersions included, so any write
/// shows).
async fn ns_dump(cluster: &dyn ClusterBackend, ns: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for ty in hxb_tenancy::engine::backup::backed_up_types() {
        for o in cluster
            .list(&ty, Some(ns), &ListOptions::default())
            .await
            .unwrap()
            .items
        {
            out.push(serde_json::to_value(o).unwrap());
        }
    }
    out
}

fn kinds(s: &Snapshot) -> Vec<String> {
    s.objects
        .iter()
        .map(|o| {
            let (_, kind, _, name) = o.key();
            format!(
                "{kind} {name}{}",
                if o.rendered { " (rendered)" } else { "" }
            )
        })
        .collect()
}

fn backups(e: &Env) -> Backups {
    e.tenancy.backups(Arc::new(MemorySnapshotStore::new()))
}

/// Delete what [`world`] made (the unrelated Secret stays).
async fn gone(t: &Tenancy, cluster: &dyn ClusterBackend) {
    t.delete_app("acme", "dev", "web", "shop").await.unwrap();
    t.delete_app("acme", "dev", "web", "db").await.unwrap();
    cluster
        .delete(
            &ResourceType::for_name("configmap").unwrap(),
            Some(NS),
            "shop-config",
        )
        .await
        .unwrap();
}

/// Workspace `acme/<ws>` and its project `<project>` to restore into, with these
/// `(cpu, memory)` quotas.
async fn target_project(
    t: &Tenancy,
    ws: &str,
    project: &str,
    ws_quota: (&str, &str),
    project_quota: (&str, &str),
) {
    let quota = |(cpu, mem): (&str, &str)| {
        hxb_tenancy::plans::quota(cpu, mem, "10Gi", "10", "5", "2").unwrap()
    };
    t.create_workspace("acme", ws)
        .quota(quota(ws_quota))
        .execute()
        .await
        .unwrap();
    t.create_project("acme", ws, project)
        .quota(quota(project_quota))
        .execute()
        .await
        .unwrap();
}

#[tokio::test]
async fn backup_delete_restore_gives_the_same_objects() {
    let e = env();
    let t = &e.tenancy;
    world(t, e.cluster.as_ref()).await;
    let dir = tempfile::tempdir().unwrap();
    let b = t.backups(Arc::new(DirectoryStore::new(dir.path()).unwrap()));
    let info = b.snapshot("acme", "dev", "web").execute().await.unwrap();
    let before = b.get(&info.id).await.unwrap();
    assert_eq!(before.apps.len(), 2);
    assert_eq!(
        kinds(&before),
        [
            "Deployment shop (rendered)",
            "StatefulSet db (rendered)",
            "ConfigMap shop-config",
            "Service db (rendered)",
            "Service shop (rendered)",
        ],
        "no Secret by default, nothing the renderer owns"
    );
    assert!(!before.meta.includes_secrets);
    assert!(dir.path().join(format!("{}.json", info.id)).exists());
    for o in &before.objects {
        let m = &o.object["metadata"];
        for f in [
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "managedFields",
        ] {
            assert!(m.get(f).is_none(), "{f} kept in {m}");
        }
        assert!(o.object.get("status").is_none());
    }

    gone(t, e.cluster.as_ref()).await;
    assert!(t.apps("acme", "dev", "web").await.unwrap().is_empty());
    let out = b.restore(&info.id).execute().await.unwrap();
    assert!(out.applied);
    assert_eq!(out.plan.counts(), PlanCounts::creates(5));
    assert!(out.plan.apps.iter().all(|a| a.action == Action::Create));
    assert_eq!(t.apps("acme", "dev", "web").await.unwrap().len(), 2);

    let after = b
        .get(&b.snapshot("acme", "dev", "web").execute().await.unwrap().id)
        .await
        .unwrap();
    assert_eq!(after.objects, before.objects, "same canonical objects");
    assert_eq!(after.apps, before.apps);
    assert_eq!(after.meta.content_hash, before.meta.content_hash);
    // converged: a reconcile writes nothing, restoring again changes nothing
    assert_eq!(t.reconcile().await.unwrap().writes(), 0);
    let again = b.restore(&info.id).dry_run().execute().await.unwrap();
    assert!(again.plan.is_noop(), "{:?}", again.plan);
    let log = t.audit_log(0, 10_000).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions.iter().filter(|a| **a == "backup").count(), 2);
    assert_eq!(actions.iter().filter(|a| **a == "restore").count(), 1);
    assert_eq!(actions.iter().filter(|a| **a == "restore_plan").count(), 1);
}

#[tokio::test]
async fn secrets_only_when_asked_and_app_filters() {
    let e = env();
    let t = &e.tenancy;
    world(t, e.cluster.as_ref()).await;
    let b = backups(&e);
    let all = b
        .snapshot("acme", "dev", "web")
        .include_secrets(true)
        .execute()
        .await
        .unwrap();
    let s = b.get(&all.id).await.unwrap();
    assert!(s.meta.includes_secrets);
    let secret = s
        .objects
        .iter()
        .find(|o| o.key().1 == "Secret")
        .expect("the Secret is in");
    assert_eq!(secret.object["data"]["password"], "c2VjcmV0");
    // restored like any object hxb does not manage
    let secrets = ResourceType::for_name("secret").unwrap();
    e.cluster
        .delete(&secrets, Some(NS), "db-password")
        .await
        .unwrap();
    let out = b.restore(&all.id).execute().await.unwrap();
    let created: Vec<String> = out
        .plan
        .objects
        .iter()
        .filter(|o| o.action == Action::Create)
        .map(ToString::to_string)
        .collect();
    assert_eq!(created, ["Secret acme-dev-web/db-password"]);
    let back = e
        .cluster
        .get(&secrets, Some(NS), "db-password")
        .await
        .unwrap();
    assert_eq!(back.data["data"]["password"], "c2VjcmV0");
    // one application: its record, its rendered objects, its labelled ConfigMap
    let shop = b
        .snapshot("acme", "dev", "web")
        .apps(["shop"])
        .execute()
        .await
        .unwrap();
    let s = b.get(&shop.id).await.unwrap();
    assert_eq!(s.apps.len(), 1);
    assert_eq!(
        kinds(&s),
        [
            "Deployment shop (rendered)",
            "ConfigMap shop-config",
            "Service shop (rendered)"
        ]
    );
    // bad input: typed errors, nothing stored
    let n = b.list("acme", "dev", "web").await.unwrap().len();
    for (res, kind) in [
        (
            b.snapshot("acme", "dev", "web")
                .apps(["nope"])
                .execute()
                .await,
            ErrorKind::NotFound,
        ),
        (
            b.snapshot("acme", "dev", "nope").execute().await,
            ErrorKind::NotFound,
        ),
        (
            b.snapshot("acme", "dev", "Bad_Name").execute().await,
            ErrorKind::InvalidInput,
        ),
    ] {
        assert_eq!(res.unwrap_err().kind(), kind);
    }
    assert_eq!(b.list("acme", "dev", "web").await.unwrap().len(), n);
}

#[tokio::test]
async fn restore_into_a_project_of_another_workspace() {
    let e = env();
    let t = &e.tenancy;
    world(t, e.cluster.as_ref()).await;
    target_project(t, "prod", "shop", ("2", "4Gi"), ("2", "4Gi")).await;
    let b = backups(&e);
    let info = b.snapshot("acme", "dev", "web").execute().await.unwrap();
    let source_before = ns_dump(e.cluster.as_ref(), NS).await;
    let out = b
        .restore(&info.id)
        .into_project("acme", "prod", "shop")
        .execute()
        .await
        .unwrap();
    assert_eq!(out.plan.namespace, "acme-prod-shop");
    assert_eq!(out.plan.counts(), PlanCounts::creates(5));
    let apps = t.apps("acme", "prod", "shop").await.unwrap();
    assert_eq!(apps.len(), 2);
    assert!(apps.iter().all(|a| a.workspace.as_str() == "prod"));
    let dep = e
        .cluster
        .get(
            &ResourceType::for_name("deployment").unwrap(),
            Some("acme-prod-shop"),
            "shop",
        )
        .await
        .unwrap();
    let labels = dep.metadata.labels.unwrap();
    assert_eq!(labels["hxb.io/workspace"], "prod");
    assert_eq!(labels["hxb.io/project"], "shop");
    // the copy equals the original up to the project it lives in
    let copy = b
        .get(
            &b.snapshot("acme", "prod", "shop")
                .execute()
                .await
                .unwrap()
                .id,
        )
        .await
        .unwrap();
    let orig = b.get(&info.id).await.unwrap();
    let moved = |s: &Snapshot| -> Vec<String> {
        s.objects
            .iter()
            .map(|o| {
                hxb_tenancy::backup::canonical::canonical_json(&o.object)
                    .replace(&s.meta.namespace, "NS")
                    .replace(
                        &format!("\"hxb.io/project\":\"{}\"", s.meta.project),
                        "\"hxb.io/project\":\"P\"",
                    )
                    .replace(
                        &format!("\"hxb.io/workspace\":\"{}\"", s.meta.workspace),
                        "\"hxb.io/workspace\":\"W\"",
                    )
            })
            .collect()
    };
    assert_eq!(moved(&copy), moved(&orig));
    // the source is untouched
    assert_eq!(ns_dump(e.cluster.as_ref(), NS).await, source_before);
    assert_eq!(t.apps("acme", "dev", "web").await.unwrap().len(), 2);
}

#[tokio::test]
async fn restoring_over_changed_applications_updates_them() {
    let e = env();
    let t = &e.tenancy;
    world(t, e.cluster.as_ref()).await;
    let b = backups(&e);
    let info = b.snapshot("acme", "dev", "web").execute().await.unwrap();
    t.scale_app("acme", "dev", "web", "shop", 3).await.unwrap();
    let plan = b.restore(&info.id).dry_run().execute().await.unwrap().plan;
    let changed: Vec<(String, Action)> = plan
        .apps
        .iter()
        .map(|a| (a.name.to_string(), a.action.clone()))
        .collect();
    assert_eq!(
        changed,
        [
            ("db".to_owned(), Action::Unchanged),
            ("shop".to_owned(), Action::Update)
        ]
    );
    assert_eq!(
        plan.counts(),
        PlanCounts {
            update: 1,
            unchanged: 4,
            ..PlanCounts::default()
        },
        "{plan:?}"
    );
    b.restore(&info.id).execute().await.unwrap();
    let shop = t.apps("acme", "dev", "web").await.unwrap();
    assert_eq!(
        shop.iter()
            .find(|a| a.name.as_str() == "shop")
            .unwrap()
            .replicas,
        2
    );
    // an object hxb does not manage, edited since: a conflict, not an overwrite
    let cm = ResourceType::for_name("configmap").unwrap();
    let mut live = e.cluster.get(&cm, Some(NS), "shop-config").await.unwrap();
    live.data["data"]["greeting"] = json!("changed");
    e.cluster.replace(&cm, live).await.unwrap();
    let err = b.restore(&info.id).execute().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(
        err.to_string()
            .contains("ConfigMap acme-dev-web/shop-config (exists and differs from the snapshot)"),
        "{err}"
    );
}

#[tokio::test]
async fn dry_run_changes_nothing() {
    let e = env();
    let t = &e.tenancy;
    world(t, e.cluster.as_ref()).await;
    let b = backups(&e);
    let info = b.snapshot("acme", "dev", "web").execute().await.unwrap();
    gone(t, e.cluster.as_ref()).await;
    let store_before = store_dump(e.store.as_ref()).await;
    let ns_before = ns_dump(e.cluster.as_ref(), NS).await;
    let writes = e.counting.writes();
    let out = b.restore(&info.id).dry_run().execute().await.unwrap();
    assert!(!out.applied);
    assert_eq!(out.plan.counts(), PlanCounts::creates(5));
    assert_eq!(out.plan.quota_problem, None);
    assert_eq!(store_dump(e.store.as_ref()).await, store_before);
    assert_eq!(ns_dump(e.cluster.as_ref(), NS).await, ns_before);
    assert_eq!(e.counting.writes(), writes, "no cluster write");
}

#[tokio::test]
async fn a_conflicting_restore_is_refused_whole_with_nothing_changed() {
    let e = env();
    let t = &e.tenancy;
    world(t, e.cluster.as_ref()).await;
    let b = backups(&e);
    let info = b.snapshot("acme", "dev", "web").execute().await.unwrap();
    gone(t, e.cluster.as_ref()).await;
    // someone else's Deployment now holds the name `shop`
    create(
        e.cluster.as_ref(),
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "shop", "namespace": NS},
            "spec": {"selector": {"matchLabels": {"x": "y"}},
                "template": {"metadata": {"labels": {"x": "y"}},
                    "spec": {"containers": [{"name": "c", "image": "other:1"}]}}}}),
    )
    .await;
    let plan = b.restore(&info.id).dry_run().execute().await.unwrap().plan;
    let conflicts: Vec<String> = plan.conflicts().map(ToString::to_string).collect();
    assert_eq!(
        conflicts,
        ["Deployment acme-dev-web/shop (exists and is not managed by hxb)"]
    );
    let store_before = store_dump(e.store.as_ref()).await;
    let ns_before = ns_dump(e.cluster.as_ref(), NS).await;
    let err = b.restore(&info.id).execute().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(
        err.to_string().contains("Deployment acme-dev-web/shop"),
        "{err}"
    );
    assert_eq!(store_dump(e.store.as_ref()).await, store_before);
    assert_eq!(
        ns_dump(e.cluster.as_ref(), NS).await,
        ns_before,
        "not even the ConfigMap was created"
    );
    let last = t.audit_log(0, 10_000).await.unwrap().pop().unwrap();
    assert_eq!(last.action, "restore");
    assert!(
        last.result.starts_with("refused: conflict"),
        "{}",
        last.result
    );
}

#[tokio::test]
async fn a_restore_beyond_quota_is_refused_with_nothing_changed() {
    let e = env();
    let t = &e.tenancy;
    world(t, e.cluster.as_ref()).await;
    target_project(t, "small", "p", ("1", "1Gi"), ("300m", "1Gi")).await;
    let b = backups(&e);
    let info = b.snapshot("acme", "dev", "web").execute().await.unwrap();
    let plan = b
        .restore(&info.id)
        .into_project("acme", "small", "p")
        .dry_run()
        .execute()
        .await
        .unwrap()
        .plan;
    assert!(
        plan.quota_problem
            .as_deref()
            .is_some_and(|q| q.contains("requests.cpu")),
        "{plan:?}"
    );
    let store_before = store_dump(e.store.as_ref()).await;
    let ns_before = ns_dump(e.cluster.as_ref(), "acme-small-p").await;
    let err = b
        .restore(&info.id)
        .into_project("acme", "small", "p")
        .execute()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::QuotaExceeded);
    assert_eq!(store_dump(e.store.as_ref()).await, store_before);
    assert_eq!(ns_dump(e.cluster.as_ref(), "acme-small-p").await, ns_before);
    // unknown snapshot or target: typed errors
    assert_eq!(
        b.restore("acme.dev.web.20260101T000000Z.000000000000")
            .execute()
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        b.restore(&info.id)
            .into_project("acme", "dev", "nope")
            .execute()
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        b.restore("../etc/passwd")
            .execute()
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
}

#[tokio::test]
async fn a_corrupted_snapshot_file_is_a_typed_error() {
    let e = env();
    let t = &e.tenancy;
    world(t, e.cluster.as_ref()).await;
    let dir = tempfile::tempdir().unwrap();
    let files = Arc::new(DirectoryStore::new(dir.path()).unwrap());
    let b = t.backups(files.clone());
    let info = b.snapshot("acme", "dev", "web").execute().await.unwrap();
    let path = files.path_of(&info.id);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("shop:1"));
    // one changed image: still valid JSON, wrong hash
    std::fs::write(&path, text.replacen("shop:1", "evil:1", 1)).unwrap();
    gone(t, e.cluster.as_ref()).await;
    let store_before = store_dump(e.store.as_ref()).await;
    for err in [
        b.get(&info.id).await.unwrap_err(),
        b.restore(&info.id).execute().await.unwrap_err(),
    ] {
        assert_eq!(err.kind(), ErrorKind::Backend);
        let corrupt = std::error::Error::source(&err)
            .and_then(|s| s.downcast_ref::<SnapshotCorrupt>())
            .expect("a SnapshotCorrupt source");
        assert_eq!(corrupt.id, info.id);
        assert_eq!(corrupt.expected, info.hash);
        assert_ne!(corrupt.actual, info.hash);
    }
    assert_eq!(store_dump(e.store.as_ref()).await, store_before);
    assert!(t.apps("acme", "dev", "web").await.unwrap().is_empty());
    // truncated: also typed
    std::fs::write(&path, &text[..text.len() / 2]).unwrap();
    let err = files.get(&info.id).await.unwrap_err();
    assert!(
        std::error::Error::source(&err)
            .and_then(|s| s.downcast_ref::<SnapshotCorrupt>())
            .is_some()
    );
    // restored to the original bytes, it reads again
    std::fs::write(&path, &text).unwrap();
    assert_eq!(files.get(&info.id).await.unwrap().hash, info.hash);
}

#[tokio::test]
async fn a_restore_interrupted_by_faults_converges_on_retry() {
    let mut interrupted = 0;
    for seed_n in 0..8u64 {
        let cluster = EmbeddedCluster::builder()
            .nodes(3)
            .seed(seed_n)
            .build()
            .into_backend();
        let faulty = Arc::new(FaultyBackend::new(cluster.clone(), seed_n, 0.25));
        faulty.set_enabled(false);
        let store: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
        let t = Tenancy::builder(faulty.clone(), store.clone())
            .clock(Arc::new(ManualClock::at_epoch()))
            .retry(RetryPolicy {
                attempts: 2,
                backoff: Duration::ZERO,
            })
            .build();
        world(&t, cluster.as_ref()).await;
        let b = t.backups(Arc::new(MemorySnapshotStore::new()));
        let info = b.snapshot("acme", "dev", "web").execute().await.unwrap();
        gone(&t, cluster.as_ref()).await;
        faulty.set_enabled(true);
        let mut failures = 0;
        loop {
            match b.restore(&info.id).execute().await {
                Ok(_) => break,
                Err(e) if e.is_retryable() && failures < 100 => failures += 1,
                Err(e) => panic!("seed {seed_n}: {e}"),
            }
        }
        faulty.set_enabled(false);
        interrupted += failures;
        let after = b
            .get(&b.snapshot("acme", "dev", "web").execute().await.unwrap().id)
            .await
            .unwrap();
        let before = b.get(&info.id).await.unwrap();
        assert_eq!(after.objects, before.objects, "seed {seed_n}");
        assert_eq!(after.apps, before.apps, "seed {seed_n}");
        assert_eq!(t.reconcile().await.unwrap().writes(), 0, "seed {seed_n}");
        assert!(faulty.injected() > 0);
    }
    assert!(
        interrupted > 0,
        "some restore failed mid-way and was retried"
    );
}

#[tokio::test]
async fn schedules_and_retention_over_simulated_days() {
    let e = env();
    let t = &e.tenancy;
    world(t, e.cluster.as_ref()).await;
    let b = backups(&e);
    b.set_policy("acme", "dev", "web", "shop")
        .schedule("0 3 * * *")
        .keep_last(3)
        .execute()
        .await
        .unwrap();
    b.set_policy("acme", "dev", "web", "db")
        .schedule("0 */6 * * *")
        .max_age(Duration::from_secs(86_400))
        .execute()
        .await
        .unwrap();
    // bad policies: typed errors, nothing recorded
    let policies_before = b.policies("acme").await.unwrap();
    for (res, kind) in [
        (
            b.set_policy("acme", "dev", "web", "shop")
                .schedule("61 * * * *")
                .execute()
                .await,
            ErrorKind::InvalidInput,
        ),
        (
            b.set_policy("acme", "dev", "web", "shop").execute().await,
            ErrorKind::InvalidInput,
        ),
        (
            b.set_policy("acme", "dev", "web", "shop")
                .schedule("@daily")
                .keep_last(0)
                .execute()
                .await,
            ErrorKind::InvalidInput,
        ),
        (
            b.set_policy("acme", "dev", "web", "nope")
                .schedule("@daily")
                .execute()
                .await,
            ErrorKind::NotFound,
        ),
    ] {
        assert_eq!(res.unwrap_err().kind(), kind);
    }
    assert_eq!(b.policies("acme").await.unwrap(), policies_before);

    // five days, one pass per hour (the clock starts at 2026-01-01T00:00:00Z)
    let (mut taken, mut pruned) = (0, 0);
    for _ in 0..120 {
        e.clock.advance(Duration::from_secs(3600));
        let r = b.run_due_backups_now().await.unwrap();
        assert!(r.failed.is_empty(), "{:?}", r.failed);
        taken += r.taken.len();
        pruned += r.pruned.len();
    }
    // shop: 03:00 on each of five days; db: every six hours from 06:00 to day 6's 00:00
    assert_eq!(taken, 5 + 20);
    let list = b.list("acme", "dev", "web").await.unwrap();
    let of = |app: &str| {
        list.iter()
            .filter(|s| s.meta.policy.as_deref() == Some(&format!("acme/dev/web/{app}")[..]))
            .count()
    };
    assert_eq!(of("shop"), 3, "keep the last three");
    // db: aged at most a day at 2026-01-06T00:00 → 00:00, 06, 12, 18 of day 5 and 00:00 of day 6
    assert_eq!(of("db"), 5);
    assert_eq!(pruned, 2 + 15);
    // each scheduled snapshot holds its application only
    let one = b.get(&list.last().unwrap().id).await.unwrap();
    assert_eq!(one.apps.len(), 1);
    // missed firings collapse into one snapshot
    e.clock.advance(Duration::from_secs(3 * 86_400));
    let r = b.run_due_backups_now().await.unwrap();
    assert_eq!(r.taken.len(), 2);
    // nothing due right after a pass
    assert!(b.run_due_backups_now().await.unwrap().taken.is_empty());
    let log = t.audit_log(0, 100_000).await.unwrap();
    assert_eq!(log.iter().filter(|a| a.action == "backup").count(), 27);
    assert!(log.iter().any(|a| a.action == "prune_backups"));
    let p = &b.policies("acme").await.unwrap()[1];
    assert_eq!(p.app.as_str(), "shop");
    assert_eq!(p.last_run, Some(hxb_core::Clock::now(&e.clock)));
}
