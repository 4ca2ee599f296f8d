//! Custom resources reconciled through the engine (what the example controller does).

use std::collections::BTreeMap;

use hxb_core::ErrorKind;
use hxb_tenancy::crd::{
    OrganizationSpec, ProjectSpec, WorkspaceSpec, apply_organization, apply_project,
    apply_workspace,
};

use crate::engine::env;

fn q(cpu: &str) -> Option<BTreeMap<String, String>> {
    Some(BTreeMap::from([
        ("requests.cpu".to_string(), cpu.to_string()),
        ("pods".to_string(), "10".to_string()),
    ]))
}

#[tokio::test]
async fn resources_converge_and_reapplying_is_free() {
    let e = env();
    let t = &e.tenancy;
    let org = OrganizationSpec {
        name: "acme".into(),
        plan: "professional".into(),
        display_name: Some("Acme".into()),
    };
    let ws = WorkspaceSpec {
        organization: "acme".into(),
        name: "dev".into(),
        plan: None,
        quota: q("2"),
    };
    let web = ProjectSpec {
        organization: "acme".into(),
        workspace: "dev".into(),
        name: "web".into(),
        parent: None,
        quota: q("1"),
    };
    let api = ProjectSpec {
        name: "api".into(),
        parent: Some("web".into()),
        quota: q("500m"),
        ..web.clone()
    };
    assert_eq!(apply_organization(t, &org).await.unwrap().phase, "Active");
    assert_eq!(apply_workspace(t, &ws).await.unwrap().phase, "Active");
    apply_project(t, &web).await.unwrap();
    let s = apply_project(t, &api).await.unwrap();
    assert_eq!(
        (s.phase.as_str(), s.namespace.as_deref()),
        ("Active", Some("acme-dev-api"))
    );
    // a second pass of the same resources changes nothing anywhere
    let (writes, audit) = (
        e.counting.writes(),
        t.audit_log(0, 1000).await.unwrap().len(),
    );
    apply_organization(t, &org).await.unwrap();
    apply_workspace(t, &ws).await.unwrap();
    apply_project(t, &web).await.unwrap();
    apply_project(t, &api).await.unwrap();
    assert_eq!(e.counting.writes(), writes);
    assert_eq!(t.audit_log(0, 1000).await.unwrap().len(), audit);
    // a spec change is an update
    apply_project(
        t,
        &ProjectSpec {
            quota: q("800m"),
            ..web.clone()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        t.project("acme", "dev", "web")
            .await
            .unwrap()
            .quota
            .get("requests.cpu")
            .unwrap()
            .to_string(),
        "800m"
    );
    apply_organization(
        t,
        &OrganizationSpec {
            plan: "enterprise".into(),
            ..org.clone()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        t.organization("acme").await.unwrap().plan.as_str(),
        "enterprise"
    );
    // bad specs get typed errors
    let moved = ProjectSpec {
        parent: None,
        ..api.clone()
    };
    assert_eq!(
        apply_project(t, &moved).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    let bad_quota = WorkspaceSpec {
        quota: Some(BTreeMap::from([("requests.cpu".into(), "lots".into())])),
        ..ws.clone()
    };
    assert_eq!(
        apply_workspace(t, &bad_quota).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}
