//! Cost of pod security policy: image-reference parsing, the Pod Security Standards checks on
//! one pod, and end-to-end pod creation in the embedded cluster with and without an enforced
//! `restricted` level (PodSecurity admission on every create).
//!
//! ```text
//! cargo run --release -p hxb-core --features policy --example bench_policy [iterations] [pods]
//! ```

use std::hint::black_box;
use std::time::Instant;

use hxb_core::EmbeddedCluster;
use hxb_core::cluster::{DynamicObject, ResourceType};
use hxb_core::policy::{ImageRef, PodSecurityLevel, PolicyVersion, check_object, check_pod};
use k8s_openapi::api::core::v1::{Namespace, Pod, PodSpec};
use serde_json::json;

fn hardened_container(i: usize) -> serde_json::Value {
    json!({"name": format!("c{i}"), "image": "ghcr.io/acme/app:1.2.3",
        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
        "securityContext": {"allowPrivilegeEscalation": false, "runAsNonRoot": true,
            "seccompProfile": {"type": "RuntimeDefault"}, "capabilities": {"drop": ["ALL"]}}})
}

fn main() -> hxb_core::Result<()> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let pods: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5_000);

    let images = [
        "nginx",
        "nginx:1.27",
        "ghcr.io/acme/web:v1.2.3",
        "registry.local:5000/team/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    ];
    let t = Instant::now();
    for i in 0..n {
        black_box(ImageRef::parse(images[i % images.len()])?);
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "image references: {n} parsed in {secs:.3}s = {:.0}/s",
        n as f64 / secs
    );

    let spec: PodSpec = serde_json::from_value(json!({
        "containers": [hardened_container(0), hardened_container(1)]
    }))
    .expect("static pod");
    for level in [PodSecurityLevel::Baseline, PodSecurityLevel::Restricted] {
        let t = Instant::now();
        for _ in 0..n {
            black_box(check_pod(
                None,
                &spec,
                level,
                PolicyVersion::Latest,
                "metadata.",
                "spec.",
            ));
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "check_pod ({level}, 2 containers, compliant): {n} in {secs:.3}s = {:.0}/s",
            n as f64 / secs
        );
    }

    // what the embedded admission does per pod: find the spec in the object, decode, check
    let obj: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "n"},
        "spec": {"containers": [hardened_container(0), hardened_container(1)]}
    }))
    .expect("static pod");
    let t = Instant::now();
    for _ in 0..n {
        black_box(check_object(
            &obj,
            PodSecurityLevel::Restricted,
            PolicyVersion::Latest,
        )?);
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "check_object (restricted, Pod as DynamicObject, decode + check): {n} in {secs:.3}s = {:.0}/s",
        n as f64 / secs
    );

    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    rt.block_on(async {
        for (ns, level) in [("open", None), ("strict", Some("restricted"))] {
            let backend = EmbeddedCluster::builder()
                .nodes(100)
                .seed(1)
                .build()
                .into_backend();
            let mut meta = json!({"name": ns});
            if let Some(l) = level {
                meta["labels"] = json!({"pod-security.kubernetes.io/enforce": l});
            }
            let nso: DynamicObject =
                serde_json::from_value(json!({"metadata": meta})).expect("namespace");
            backend
                .create(&ResourceType::of::<Namespace>(), nso)
                .await?;
            let ty = ResourceType::of::<Pod>();
            let t = Instant::now();
            for i in 0..pods {
                let p: DynamicObject = serde_json::from_value(json!({
                    "metadata": {"name": format!("p{i}"), "namespace": ns},
                    "spec": {"containers": [hardened_container(0)]}
                }))
                .expect("pod");
                backend.create(&ty, p).await?;
            }
            let secs = t.elapsed().as_secs_f64();
            println!(
                "embedded pod create+bind, namespace {ns} ({}): {pods} in {secs:.3}s = {:.0}/s",
                level.unwrap_or("no level"),
                pods as f64 / secs
            );
        }
        Ok::<_, hxb_core::Error>(())
    })?;
    Ok(())
}
