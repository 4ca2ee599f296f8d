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

fn deploy_file(name: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(name)
}

/// `deploy/crds.yaml` is exactly what the CRD types generate
/// (`HXB_UPDATE_GOLDEN=1` rewrites it).
#[test]
fn the_checked_in_crds_are_the_generated_ones() {
    let actual = hxb_tenancy::crd::crds_yaml().unwrap();
    let path = deploy_file("crds.yaml");
    if std::env::var_os("HXB_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap();
    assert!(
        expected == actual,
        "deploy/crds.yaml is stale; rerun with HXB_UPDATE_GOLDEN=1"
    );
    let docs: Vec<serde_yaml::Value> = serde_yaml::Deserializer::from_str(&expected)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect();
    let names: Vec<&str> = docs
        .iter()
        .map(|d| d["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "organizations.hxb.io",
            "workspaces.hxb.io",
            "projects.hxb.io"
        ]
    );
    for d in &docs {
        assert_eq!(d["spec"]["scope"], "Cluster");
        assert!(!d["spec"]["versions"][0]["subresources"]["status"].is_null());
    }
}

/// The controller's RBAC (`deploy/controller-rbac.yaml`) allows every call the controller
/// and the engine behind it make — checked with the RBAC authorizer — and no more than that
/// on a sample of what it must not do.
#[test]
fn the_controller_rbac_allows_what_the_controller_does() {
    use hxb_core::cluster::DynamicObject;
    use hxb_tenancy::rbac::{AccessRequest, RbacSet};
    let text = std::fs::read_to_string(deploy_file("controller-rbac.yaml")).unwrap();
    let objects: Vec<DynamicObject> = serde_yaml::Deserializer::from_str(&text)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect();
    let rbac = RbacSet::from_objects(objects.iter()).unwrap();
    let user = "system:serviceaccount:hxb-system:hxb";
    let may = |verb: &str, group: &str, res: &str, ns: Option<&str>| {
        rbac.allows(&AccessRequest::new(user, verb, group, res, ns))
    };
    for res in ["organizations", "workspaces", "projects"] {
        // kube-runtime Controller: list + watch; finalizer(): patch; status: patch
        for verb in ["get", "list", "watch", "patch", "update"] {
            assert!(may(verb, "hxb.io", res, None), "{verb} {res}");
        }
        assert!(
            may("patch", "hxb.io", &format!("{res}/status"), None),
            "{res}/status"
        );
    }
    for (verb, group, res, ns) in [
        ("create", "", "namespaces", None),
        ("delete", "", "namespaces", None),
        ("patch", "", "resourcequotas", Some("t")),
        ("create", "networking.k8s.io", "networkpolicies", Some("t")),
        (
            "create",
            "rbac.authorization.k8s.io",
            "rolebindings",
            Some("t"),
        ),
        ("bind", "rbac.authorization.k8s.io", "clusterroles", None),
        ("create", "", "serviceaccounts", Some("t")),
        ("create", "", "serviceaccounts/token", Some("t")),
        ("get", "", "secrets", Some("t")),
        ("create", "", "services/proxy", Some("t")),
        ("patch", "apps", "deployments", Some("t")),
        ("create", "batch", "jobs", Some("t")),
        ("update", "", "nodes", None),
        (
            "create",
            "authorization.k8s.io",
            "subjectaccessreviews",
            None,
        ),
    ] {
        assert!(may(verb, group, res, ns), "{verb} {group}/{res}");
    }
    for (verb, group, res, ns) in [
        ("delete", "", "nodes", None),
        (
            "create",
            "apiextensions.k8s.io",
            "customresourcedefinitions",
            None,
        ),
        ("create", "", "pods/exec", Some("t")),
        ("impersonate", "", "users", None),
    ] {
        assert!(
            !may(verb, group, res, ns),
            "{verb} {group}/{res} must be refused"
        );
    }
    // nobody else gets it
    assert!(!rbac.allows(&AccessRequest::new(
        "system:serviceaccount:default:default",
        "list",
        "hxb.io",
        "organizations",
        None
    )));
}
