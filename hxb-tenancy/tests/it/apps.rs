//! Applications: stateless, stateful, cron jobs; scale, restart, stop/start, node affinity,
//! delete — quota-checked, reconciled with their project.

use hxb_core::cluster::ResourceType;
use hxb_core::{ErrorKind, Quantity, ResourceList};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::Service;

use crate::engine::{env, managed, seed, store_dump};

fn req(cpu: &str, mem: &str) -> ResourceList {
    ResourceList::parse([("cpu", cpu), ("memory", mem)]).unwrap()
}

async fn get<K: serde::de::DeserializeOwned>(
    e: &crate::engine::Env,
    ty: ResourceType,
    ns: &str,
    name: &str,
) -> Option<K> {
    match e.cluster.get(&ty, Some(ns), name).await {
        Ok(o) => Some(serde_json::from_value(serde_json::to_value(o).unwrap()).unwrap()),
        Err(err) if err.kind() == ErrorKind::NotFound => None,
        Err(err) => panic!("{err}"),
    }
}

#[tokio::test]
async fn stateless_lifecycle_is_quota_checked() {
    let e = env();
    let t = &e.tenancy;
    seed(t).await; // acme/dev/api: 1 cpu, 1Gi, 5 pods, 2 services
    let dep = ResourceType::of::<Deployment>();
    t.create_app("acme", "dev", "api", "shop")
        .stateless("shop:1")
        .replicas(2)
        .port(8080)
        .requests(req("200m", "128Mi"))
        .node_affinity("zone", "a")
        .execute()
        .await
        .unwrap();
    let d: Deployment = get(&e, dep.clone(), "acme-dev-api", "shop").await.unwrap();
    let spec = d.spec.unwrap();
    assert_eq!(spec.replicas, Some(2));
    let pod = spec.template.spec.unwrap();
    assert_eq!(
        pod.containers[0]
            .resources
            .as_ref()
            .unwrap()
            .requests
            .as_ref()
            .unwrap()["cpu"]
            .0,
        "200m"
    );
    let aff = pod.affinity.unwrap().node_affinity.unwrap();
    assert_eq!(
        aff.required_during_scheduling_ignored_during_execution
            .unwrap()
            .node_selector_terms[0]
            .match_expressions
            .as_ref()
            .unwrap()[0]
            .key,
        "zone"
    );
    let svc: Service = get(&e, ResourceType::of::<Service>(), "acme-dev-api", "shop")
        .await
        .unwrap();
    assert_eq!(svc.spec.unwrap().ports.unwrap()[0].port, 8080);
    // scale within quota, then beyond it: typed error, nothing changes
    t.scale_app("acme", "dev", "api", "shop", 5).await.unwrap();
    let before = (
        store_dump(e.store.as_ref()).await,
        managed(e.cluster.as_ref()).await,
    );
    let err = t
        .scale_app("acme", "dev", "api", "shop", 6)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::QuotaExceeded);
    assert!(
        err.to_string().contains("requests.cpu") && err.to_string().contains("pods"),
        "{err}"
    );
    let err = t
        .create_app("acme", "dev", "api", "more")
        .stateless("x")
        .requests(req("100m", "1Mi"))
        .execute()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::QuotaExceeded);
    assert_eq!(
        (
            store_dump(e.store.as_ref()).await,
            managed(e.cluster.as_ref()).await
        ),
        before
    );
    // restart, stop, start
    t.restart_app("acme", "dev", "api", "shop").await.unwrap();
    let d: Deployment = get(&e, dep.clone(), "acme-dev-api", "shop").await.unwrap();
    assert!(
        d.spec
            .unwrap()
            .template
            .metadata
            .unwrap()
            .annotations
            .unwrap()
            .contains_key("hxb.io/restarted-at")
    );
    t.stop_app("acme", "dev", "api", "shop").await.unwrap();
    assert_eq!(
        get::<Deployment>(&e, dep.clone(), "acme-dev-api", "shop")
            .await
            .unwrap()
            .spec
            .unwrap()
            .replicas,
        Some(0)
    );
    // while stopped its quota is free for others
    t.create_app("acme", "dev", "api", "tmp")
        .stateless("x")
        .replicas(3)
        .requests(req("300m", "10Mi"))
        .execute()
        .await
        .unwrap();
    assert_eq!(
        t.start_app("acme", "dev", "api", "shop")
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::QuotaExceeded
    );
    t.delete_app("acme", "dev", "api", "tmp").await.unwrap();
    t.start_app("acme", "dev", "api", "shop").await.unwrap();
    assert_eq!(
        get::<Deployment>(&e, dep.clone(), "acme-dev-api", "shop")
            .await
            .unwrap()
            .spec
            .unwrap()
            .replicas,
        Some(5)
    );
    // drift: deleted out of band comes back; then a no-op reconcile writes nothing
    e.cluster
        .delete(&dep, Some("acme-dev-api"), "shop")
        .await
        .unwrap();
    assert_eq!(t.reconcile().await.unwrap().created, 1);
    assert_eq!(t.reconcile().await.unwrap().writes(), 0);
    // delete
    t.delete_app("acme", "dev", "api", "shop").await.unwrap();
    assert!(
        get::<Deployment>(&e, dep.clone(), "acme-dev-api", "shop")
            .await
            .is_none()
    );
    assert!(
        get::<Service>(&e, ResourceType::of::<Service>(), "acme-dev-api", "shop")
            .await
            .is_none()
    );
    assert!(t.apps("acme", "dev", "api").await.unwrap().is_empty());
}

#[tokio::test]
async fn stateful_cron_and_dedicated_placement() {
    let e = env();
    let t = &e.tenancy;
    seed(t).await; // web's own room: 1 cpu, 3Gi, 5Gi storage, 5 pods, 3 services, 1 PVC
    let two = t
        .create_app("acme", "dev", "web", "db")
        .stateful("pg:16", "2Gi".parse::<Quantity>().unwrap())
        .replicas(2)
        .requests(req("100m", "256Mi"))
        .execute()
        .await
        .unwrap_err();
    assert_eq!(two.kind(), ErrorKind::QuotaExceeded, "{two}"); // 2 PVCs > 1
    t.create_app("acme", "dev", "web", "db")
        .stateful("pg:16", "2Gi".parse::<Quantity>().unwrap())
        .replicas(1)
        .requests(req("100m", "256Mi"))
        .port(5432)
        .execute()
        .await
        .unwrap();
    let sts: StatefulSet = get(&e, ResourceType::of::<StatefulSet>(), "acme-dev-web", "db")
        .await
        .unwrap();
    let spec = sts.spec.unwrap();
    let claim = &spec.volume_claim_templates.unwrap()[0];
    assert_eq!(
        claim
            .spec
            .as_ref()
            .unwrap()
            .resources
            .as_ref()
            .unwrap()
            .requests
            .as_ref()
            .unwrap()["storage"]
            .0,
        "2Gi"
    );
    let svc: Service = get(&e, ResourceType::of::<Service>(), "acme-dev-web", "db")
        .await
        .unwrap();
    assert_eq!(svc.spec.unwrap().cluster_ip.as_deref(), Some("None"));
    // cron job: bad schedule refused; run now; list runs
    assert_eq!(
        t.create_app("acme", "dev", "web", "nightly")
            .cron_job("tool", "daily")
            .execute()
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        t.create_app("acme", "dev", "web", "x")
            .execute()
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    t.create_app("acme", "dev", "web", "nightly")
        .cron_job("tool", "0 3 * * *")
        .requests(req("100m", "64Mi"))
        .execute()
        .await
        .unwrap();
    assert!(
        get::<CronJob>(&e, ResourceType::of::<CronJob>(), "acme-dev-web", "nightly")
            .await
            .is_some()
    );
    assert_eq!(
        t.trigger_cron_job("acme", "dev", "web", "nightly")
            .await
            .unwrap(),
        "nightly-manual-1"
    );
    assert_eq!(
        t.trigger_cron_job("acme", "dev", "web", "nightly")
            .await
            .unwrap(),
        "nightly-manual-2"
    );
    assert_eq!(
        t.cron_job_runs("acme", "dev", "web", "nightly")
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        t.trigger_cron_job("acme", "dev", "web", "db")
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    // runs are not desired state: a reconcile leaves them alone
    assert_eq!(t.reconcile().await.unwrap().writes(), 0);
    assert_eq!(
        t.cron_job_runs("acme", "dev", "web", "nightly")
            .await
            .unwrap()
            .len(),
        2
    );
    // a dedicated workspace pins application pods to its pool
    t.update_workspace("acme", "dev")
        .plan("professional-dedicated")
        .execute()
        .await
        .unwrap();
    let sts: StatefulSet = get(&e, ResourceType::of::<StatefulSet>(), "acme-dev-web", "db")
        .await
        .unwrap();
    let pod = sts.spec.unwrap().template.spec.unwrap();
    assert_eq!(pod.node_selector.unwrap()["hxb.io/pool"], "acme.dev");
    assert_eq!(
        pod.tolerations.unwrap()[0].value.as_deref(),
        Some("acme.dev")
    );
    // deleting the cron job removes its runs; deleting the project removes the rest
    t.delete_app("acme", "dev", "web", "nightly").await.unwrap();
    assert!(
        t.cron_job_runs("acme", "dev", "web", "nightly")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        t.delete_app("acme", "dev", "web", "nightly")
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    t.delete_project("acme", "dev", "web")
        .cascade(true)
        .execute()
        .await
        .unwrap();
    assert!(e.store.list("applications", "").await.unwrap().is_empty());
    assert!(
        managed(e.cluster.as_ref())
            .await
            .iter()
            .all(|o| !o.contains("acme-dev-web"))
    );
}

#[tokio::test]
async fn functions_have_versions_an_active_one_and_rollback() {
    let e = env();
    let t = &e.tenancy;
    seed(t).await;
    let image = |e: &crate::engine::Env| {
        let e = e.cluster.clone();
        async move {
            let d = e
                .get(
                    &ResourceType::of::<Deployment>(),
                    Some("acme-dev-api"),
                    "hello",
                )
                .await
                .unwrap();
            let d: Deployment = serde_json::from_value(serde_json::to_value(d).unwrap()).unwrap();
            let tpl = d.spec.unwrap().template;
            (
                tpl.spec.unwrap().containers[0].image.clone().unwrap(),
                tpl.metadata.unwrap().labels.unwrap()["hxb.io/function-version"].clone(),
            )
        }
    };
    t.create_app("acme", "dev", "api", "hello")
        .function("hello:1")
        .requests(req("100m", "64Mi"))
        .execute()
        .await
        .unwrap();
    assert_eq!(image(&e).await, ("hello:1".to_string(), "1".to_string()));
    let svc: Service = get(&e, ResourceType::of::<Service>(), "acme-dev-api", "hello")
        .await
        .unwrap();
    assert_eq!(svc.spec.unwrap().ports.unwrap()[0].port, 8080);
    assert_eq!(
        t.deploy_function("acme", "dev", "api", "hello", "hello:2")
            .await
            .unwrap(),
        2
    );
    assert_eq!(image(&e).await, ("hello:2".to_string(), "2".to_string()));
    let app = t
        .rollback_function("acme", "dev", "api", "hello", 1)
        .await
        .unwrap();
    assert_eq!(app.image, "hello:1");
    assert_eq!(image(&e).await, ("hello:1".to_string(), "1".to_string()));
    let before = store_dump(e.store.as_ref()).await;
    assert_eq!(
        t.rollback_function("acme", "dev", "api", "hello", 3)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        t.rollback_function("acme", "dev", "api", "hello", 0)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        t.deploy_function("acme", "dev", "api", "hello", " ")
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(store_dump(e.store.as_ref()).await, before);
}
