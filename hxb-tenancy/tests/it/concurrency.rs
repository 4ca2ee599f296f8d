//! Hundreds of concurrent engine requests never overcommit a workspace or an organization.

use std::sync::Arc;

use hxb_core::{ErrorKind, ResourceList};
use hxb_tenancy::plans::quota;

use crate::engine::{env, managed};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_project_creation_respects_the_workspace_quota() {
    let e = env();
    let t = Arc::new(e.tenancy.clone());
    t.create_organization("acme").plan("enterprise").execute().await.unwrap();
    t.create_workspace("acme", "dev").plan("enterprise").quota(quota("4", "64Gi", "100Gi", "500", "200", "100").unwrap()).execute().await.unwrap();
    let each = quota("100m", "128Mi", "1Gi", "5", "2", "1").unwrap();
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let (t, each) = (t.clone(), each.clone());
            tokio::spawn(async move { t.create_project("acme", "dev", &format!("p{i}")).quota(each).execute().await })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => ok += 1,
            Err(err) => assert_eq!(err.kind(), ErrorKind::QuotaExceeded, "{err}"),
        }
    }
    // 4 cpu / 100m = 40 projects, not one more
    assert_eq!(ok, 40);
    let projects = t.projects("acme", "dev").await.unwrap();
    assert_eq!(projects.len(), 40);
    let sum = ResourceList::checked_sum(projects.iter().map(|p| &p.quota)).unwrap();
    assert!(sum.fits_within(&t.workspace("acme", "dev").await.unwrap().quota));
    let namespaces = managed(e.cluster.as_ref()).await.into_iter().filter(|s| s.starts_with("Namespace ")).count();
    assert_eq!(namespaces, 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_workspace_creation_respects_the_organization_plan() {
    let e = env();
    let t = Arc::new(e.tenancy.clone());
    t.create_organization("acme").plan("enterprise").execute().await.unwrap();
    // enterprise: 32 cpu; each workspace asks 1.5 cpu -> 21 fit
    let each = quota("1500m", "1Gi", "1Gi", "5", "2", "1").unwrap();
    let tasks: Vec<_> = (0..300)
        .map(|i| {
            let (t, each) = (t.clone(), each.clone());
            tokio::spawn(async move { t.create_workspace("acme", &format!("w{i}")).quota(each).execute().await })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => ok += 1,
            Err(err) => assert_eq!(err.kind(), ErrorKind::QuotaExceeded, "{err}"),
        }
    }
    assert_eq!(ok, 21);
    assert_eq!(t.workspaces("acme").await.unwrap().len(), 21);
}
