//! The hxb platform tour on the embedded default: no cluster, no daemon, no network.
//!
//! Run it with `cargo run --release -p hxb-examples --example platform_tour`.
//!
//! At this stage the tour brings up an embedded cluster with a few simulated nodes, creates a
//! namespace with a quota and a limit range, schedules a pod that fits, shows quota admission
//! refusing an oversize pod with its typed error, and shows bad input being refused without
//! changing anything.

use hxb::core::cluster::ListOptions;
use hxb::prelude::*;
use k8s_openapi::api::core::v1::{
    Container, LimitRange, LimitRangeItem, LimitRangeSpec, Namespace, Node, Pod, PodSpec,
    ResourceQuota, ResourceQuotaSpec, ResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

fn meta(name: &str, namespace: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: namespace.map(Into::into),
        ..Default::default()
    }
}

fn pod(name: &str, ns: &str, cpu: &str, memory: &str) -> Result<Pod> {
    let requests = ResourceList::parse([("cpu", cpu), ("memory", memory)])?.to_k8s();
    Ok(Pod {
        metadata: meta(name, Some(ns)),
        spec: Some(PodSpec {
            containers: vec![Container {
                name: "app".into(),
                image: Some("nginx:1.27".into()),
                resources: Some(ResourceRequirements {
                    requests: Some(requests),
                    ..Default::default()
                }),
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    })
}

fn section(title: &str) {
    println!("\n== {title}");
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    match tour().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tour failed: [{}] {e}", e.kind());
            std::process::ExitCode::FAILURE
        }
    }
}

async fn tour() -> Result<()> {
    let engine = Engine::builder().nodes(4).seed(7).build().await?;
    println!("hxb {} — embedded engine up", hxb::VERSION);

    section("Nodes");
    for node in engine
        .api::<Node>(None)?
        .list(&ListOptions::default())
        .await?
    {
        let labels = node.metadata.labels.clone().unwrap_or_default();
        let alloc = node
            .status
            .as_ref()
            .and_then(|s| s.allocatable.clone())
            .unwrap_or_default();
        let alloc = ResourceList::from_k8s(&alloc)?;
        println!(
            "  {:<10} zone={:<12} cpu={:<5} memory={:<8} pods={}",
            node.metadata.name.unwrap_or_default(),
            labels
                .get("topology.kubernetes.io/zone")
                .map(String::as_str)
                .unwrap_or("-"),
            alloc.get_or_zero("cpu").to_string(),
            alloc.get_or_zero("memory").to_string(),
            alloc.get_or_zero("pods"),
        );
    }

    section("A namespace with a quota and default requests");
    let ns = "acme-web";
    engine
        .api::<Namespace>(None)?
        .create(&Namespace {
            metadata: meta(ns, None),
            ..Default::default()
        })
        .await?;
    let hard = ResourceList::parse([
        ("requests.cpu", "2"),
        ("requests.memory", "4Gi"),
        ("limits.memory", "8Gi"),
        ("pods", "10"),
    ])?;
    engine
        .api::<ResourceQuota>(Some(ns))?
        .create(&ResourceQuota {
            metadata: meta("compute", Some(ns)),
            spec: Some(ResourceQuotaSpec {
                hard: Some(hard.to_k8s()),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await?;
    let defaults = ResourceList::parse([("cpu", "100m"), ("memory", "128Mi")])?.to_k8s();
    let limits = ResourceList::parse([("memory", "2Gi")])?.to_k8s();
    engine
        .api::<LimitRange>(Some(ns))?
        .create(&LimitRange {
            metadata: meta("defaults", Some(ns)),
            spec: Some(LimitRangeSpec {
                limits: vec![LimitRangeItem {
                    type_: "Container".into(),
                    default_request: Some(defaults),
                    default: Some(limits),
                    ..Default::default()
                }],
            }),
        })
        .await?;
    println!("  namespace {ns}: quota {hard}");

    section("A pod that fits is admitted and scheduled");
    let pods = engine.api::<Pod>(Some(ns))?;
    let web = pods.create(&pod("web-1", ns, "500m", "1Gi")?).await?;
    let spec = web.spec.as_ref();
    println!(
        "  web-1 -> node {} (phase {})",
        spec.and_then(|s| s.node_name.as_deref())
            .unwrap_or("<pending>"),
        web.status
            .as_ref()
            .and_then(|s| s.phase.as_deref())
            .unwrap_or("-"),
    );

    section("An oversize pod is refused by quota admission");
    match pods.create(&pod("batch-1", ns, "3", "1Gi")?).await {
        Err(e) => {
            println!("  refused: kind={} ", e.kind());
            println!("  message: {e}");
            if let Error::QuotaExceeded(q) = &e {
                for x in &q.exceeded {
                    println!(
                        "    - {}: requested {}, used {}, limit {}",
                        x.resource, x.requested, x.used, x.limit
                    );
                }
            }
        }
        Ok(_) => println!("  unexpectedly admitted"),
    }

    section("Quota usage as the cluster accounts it");
    let quota = engine
        .api::<ResourceQuota>(Some(ns))?
        .get("compute")
        .await?;
    let used = quota.status.and_then(|s| s.used).unwrap_or_default();
    let used = ResourceList::from_k8s(&used)?;
    println!("  used: {used}");

    section("Bad input gets a typed error and changes nothing");
    let before = pods.list(&ListOptions::default()).await?.len();
    for (what, result) in [
        (
            "name \"Web_1\"",
            Name::new("Web_1").map(|_| ()).map_err(Error::from),
        ),
        (
            "quantity \"1.5.5Gi\"",
            Quantity::parse("1.5.5Gi").map(|_| ()).map_err(Error::from),
        ),
        (
            "quantity \"1e400\"",
            Quantity::parse("1e400").map(|_| ()).map_err(Error::from),
        ),
        (
            "pod in a missing namespace",
            pods_in(&engine, "nowhere").await,
        ),
    ] {
        match result {
            Err(e) => println!("  {what:<28} -> {}: {e}", e.kind()),
            Ok(()) => println!("  {what:<28} -> accepted?!"),
        }
    }
    let after = pods.list(&ListOptions::default()).await?.len();
    println!("  pods in {ns} before/after: {before}/{after}");

    println!("\nDone.");
    Ok(())
}

async fn pods_in(engine: &Engine, ns: &str) -> Result<()> {
    engine
        .api::<Pod>(Some(ns))?
        .create(&pod("stray", ns, "100m", "64Mi")?)
        .await
        .map(|_| ())
}
