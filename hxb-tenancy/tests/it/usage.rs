//! Usage and cost from observed usage on the embedded cluster.

use std::time::Duration;

use hxb_core::cluster::Api;
use hxb_core::{Clock, Quantity};
use k8s_openapi::api::core::v1::Pod;

use crate::engine::{env, seed};

fn pod(name: &str, cpu: &str, mem: &str) -> Pod {
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "x", "resources": {
            "requests": {"cpu": cpu, "memory": mem}, "limits": {"cpu": cpu, "memory": mem}}}]}
    }))
    .unwrap()
}

#[tokio::test]
async fn cpu_hours_memory_gib_hours_and_cost_per_period() {
    let e = env();
    let t = &e.tenancy;
    seed(t).await; // acme (professional, 99/month), dev: web (2 cpu) and api (1 cpu)
    let start = e.clock.now();
    let web: Api<Pod> = Api::namespaced(e.cluster.clone(), "acme-dev-web");
    let api: Api<Pod> = Api::namespaced(e.cluster.clone(), "acme-dev-api");
    web.create(&pod("a", "500m", "1Gi")).await.unwrap();
    api.create(&pod("b", "250m", "512Mi")).await.unwrap();
    assert_eq!(t.record_usage().await.unwrap(), 2);
    e.clock.advance(Duration::from_secs(3600));
    web.delete("a").await.unwrap();
    t.record_usage().await.unwrap();
    e.clock.advance(Duration::from_secs(3600));
    let end = e.clock.now();
    let (r, cost) = t.usage("acme", start, end).await.unwrap();
    let web_u = r.projects[&("dev".to_string(), "web".to_string())];
    let api_u = r.projects[&("dev".to_string(), "api".to_string())];
    assert_eq!(web_u.cpu_hours, 0.5); // 500m for the first hour, nothing the second
    assert_eq!(web_u.memory_gib_hours, 1.0);
    assert_eq!(api_u.cpu_hours, 0.5); // 250m for two hours
    assert_eq!(api_u.memory_gib_hours, 1.0);
    assert_eq!(r.workspaces["dev"].cpu_hours, 1.0);
    assert_eq!(r.organization.memory_gib_hours, 2.0);
    // professional: 99 / 720 per hour, 2 hours
    assert_eq!(
        cost.plan,
        Quantity::from_int(99).checked_mul_ratio(2, 720).unwrap()
    );
    assert!(cost.nodes.is_empty());
    // a dedicated workspace adds its node pool: 2 × M nodes at 300 / 720 per hour
    t.update_workspace("acme", "dev")
        .plan("professional-dedicated")
        .execute()
        .await
        .unwrap();
    let (_, cost) = t.usage("acme", start, end).await.unwrap();
    assert_eq!(
        cost.nodes["dev"],
        Quantity::from_int(300 * 2)
            .checked_mul_ratio(2, 720)
            .unwrap()
    );
    assert_eq!(
        t.usage("acme", end, start).await.unwrap_err().kind(),
        hxb_core::ErrorKind::InvalidInput
    );
}
