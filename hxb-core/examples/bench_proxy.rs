//! Embedded service proxy throughput: requests through a Service to an in-process image
//! handler, with `endpoints` ready pods behind the Service (a Deployment) and `others` pods of
//! other applications in the same namespace, each request resolved Service → port → selector →
//! ready pods → the container serving the target port, then answered by the handler.
//!
//! ```text
//! cargo run --release -p hxb-core --example bench_proxy [requests] [endpoints] [others]
//! ```
//!
//! Defaults: 20,000 requests, 50 endpoints, 200 other pods. Prints requests per second (one
//! thread, the median of 5 runs) and checks that the requests were spread evenly (round
//! robin) over the endpoints.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use hxb_core::EmbeddedCluster;
use hxb_core::cluster::{DynamicObject, ProxyRequest, ProxyResponse, ResourceType};
use hxb_core::embedded::{NodePool, POD_HEADER};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Service};
use serde_json::json;

fn deployment(name: &str, replicas: usize) -> serde_json::Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "bench"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name, "tier": "web"}},
                "spec": {"containers": [
                    {"name": "app", "image": format!("{name}:1"),
                        "ports": [{"name": "http", "containerPort": 8080}],
                        "env": [{"name": "MODE", "value": "bench"}],
                        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}},
                    {"name": "sidecar", "image": "proxy:1",
                        "ports": [{"name": "metrics", "containerPort": 9090}],
                        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}}}})
}

fn main() -> hxb_core::Result<()> {
    let mut args = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse::<usize>().ok());
    let requests = args.next().unwrap_or(20_000).max(1);
    let endpoints = args.next().unwrap_or(50).max(1);
    let others = args.next().unwrap_or(200);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let cluster = EmbeddedCluster::builder()
            .node_pool(NodePool::new("node").count(10).cpu("64").memory("256Gi").pods(110))
            .seed(1)
            .serve_image("echo:1", |req| async move {
                ProxyResponse::ok(req.headers.get(POD_HEADER).cloned().unwrap_or_default())
            })
            .build();
        let b = cluster.clone().into_backend();
        let ns = ResourceType::of::<Namespace>();
        b.create(&ns, DynamicObject::new("bench", &ns.api_resource())).await?;
        let deploy = ResourceType::of::<Deployment>();
        let typed = |v| serde_json::from_value::<DynamicObject>(v).expect("valid object");
        b.create(&deploy, typed(deployment("echo", endpoints))).await?;
        if others > 0 {
            b.create(&deploy, typed(deployment("other", others))).await?;
        }
        let svc = ResourceType::of::<Service>();
        let service = json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "echo", "namespace": "bench"},
            "spec": {"selector": {"app": "echo"},
                "ports": [{"name": "web", "port": 80, "targetPort": "http"}]}});
        b.create(&svc, typed(service)).await?;
        let mut runs = Vec::new();
        let mut spread = BTreeMap::<String, usize>::new();
        for _ in 0..5 {
            let t = Instant::now();
            for _ in 0..requests {
                let r = b
                    .proxy_service("bench", "echo", "web", ProxyRequest::new("GET", "/"))
                    .await?;
                *spread.entry(String::from_utf8_lossy(&r.body).into_owned()).or_default() += 1;
            }
            runs.push(t.elapsed());
        }
        runs.sort();
        let median: Duration = runs[runs.len() / 2];
        let (lo, hi) = (spread.values().min().copied(), spread.values().max().copied());
        assert_eq!(spread.len(), endpoints, "every endpoint answered");
        assert!(hi.unwrap_or(0) - lo.unwrap_or(0) <= 1, "round robin: {lo:?}..{hi:?}");
        println!("endpoints: {endpoints} ready pods behind the Service, {others} other pods in the namespace");
        println!(
            "proxy: {:.0} requests/s ({requests} requests, median of 5 runs: {:.3} s)",
            requests as f64 / median.as_secs_f64(),
            median.as_secs_f64()
        );
        Ok(())
    })
}
