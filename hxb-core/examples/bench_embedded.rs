//! Embedded-cluster throughput: create, then get, N namespaced objects (ConfigMaps spread over
//! 100 namespaces) through the `ClusterBackend` trait, and the process's peak memory.
//!
//! ```text
//! cargo run --release -p hxb-core --example bench_embedded [objects] [namespaces]
//! ```

use std::time::Instant;

use hxb_core::EmbeddedCluster;
use hxb_core::cluster::{DynamicObject, ResourceType};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use serde_json::json;

fn proc_status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn peak_rss_kib() -> Option<u64> {
    proc_status_kib("VmHWM:")
}

fn main() -> hxb_core::Result<()> {
    let mut args = std::env::args().skip(1);
    let objects: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let namespaces: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(100)
        .max(1);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let backend = EmbeddedCluster::builder().nodes(3).seed(1).build().into_backend();
        let ns_ty = ResourceType::of::<Namespace>();
        let cm_ty = ResourceType::of::<ConfigMap>();
        for n in 0..namespaces {
            backend.create(&ns_ty, DynamicObject::new(&format!("bench-{n}"), &ns_ty.api_resource())).await?;
        }
        let rss_before = peak_rss_kib().unwrap_or(0);
        let resource = cm_ty.api_resource();
        let t = Instant::now();
        for i in 0..objects {
            // building the request object is part of the measured loop (a few allocations)
            let mut o = DynamicObject::new(&format!("cm-{i}"), &resource)
                .within(&format!("bench-{}", i % namespaces))
                .data(json!({"data": {"index": i.to_string(), "payload": "0123456789abcdef"}}));
            o.metadata.labels = Some([("app".to_owned(), format!("a{}", i % 10))].into());
            backend.create(&cm_ty, o).await?;
        }
        let create = t.elapsed();
        let t = Instant::now();
        let mut bytes = 0usize;
        for i in 0..objects {
            let o = backend.get(&cm_ty, Some(&format!("bench-{}", i % namespaces)), &format!("cm-{i}")).await?;
            bytes += o.metadata.name.map_or(0, |n| n.len());
        }
        let get = t.elapsed();
        assert!(bytes > 0);
        let peak = peak_rss_kib().unwrap_or(0);
        let now = proc_status_kib("VmRSS:").unwrap_or(0);
        println!("objects: {objects} ConfigMaps in {namespaces} namespaces");
        println!("create: {:.0} objects/s ({:.3} s)", objects as f64 / create.as_secs_f64(), create.as_secs_f64());
        println!("get:    {:.0} objects/s ({:.3} s)", objects as f64 / get.as_secs_f64(), get.as_secs_f64());
        println!("peak memory (VmHWM): {:.1} MiB (before creating: {:.1} MiB, resident at the end: {:.1} MiB)",
            peak as f64 / 1024.0,
            rss_before as f64 / 1024.0,
            now as f64 / 1024.0
        );
        Ok(())
    })
}
