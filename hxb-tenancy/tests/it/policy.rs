//! Plan policy (feature `policy`): namespace labels from the workspace plan, and the engine's
//! admission of applications, plan changes and manifests.

use std::sync::Arc;

use hxb_core::cluster::{DynamicObject, ResourceType};
use hxb_core::policy::PodSecurityLevel;
use hxb_core::store::MemoryStore;
use hxb_core::{EmbeddedCluster, ErrorKind, ManualClock, ResourceList, StateStore};
use hxb_tenancy::Tenancy;
use hxb_tenancy::plans::{PlanCatalog, quota};
use hxb_tenancy::policy::PlanPolicy;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Pod};
use serde_json::json;

use crate::engine::store_dump;

struct Env {
    t: Tenancy,
    cluster: EmbeddedCluster,
    store: Arc<dyn StateStore>,
}

/// `starter` is restricted, images only from ghcr.io/acme, requests required; `enterprise`
/// allows privileged containers; `professional` keeps its default (baseline).
fn catalogue() -> PlanCatalog {
    let mut c = PlanCatalog::defaults();
    let mut strict = PlanPolicy::new(PodSecurityLevel::Restricted);
    strict.allowed_registries = vec!["ghcr.io/acme".into()];
    strict.require_requests = true;
    c.set_policy("starter", strict).unwrap();
    let mut open = PlanPolicy::new(PodSecurityLevel::Privileged);
    open.allow_privileged = true;
    c.set_policy("enterprise", open).unwrap();
    c
}

async fn setup() -> Env {
    let cluster = EmbeddedCluster::builder()
        .nodes(3)
        .seed(3)
        .clock(Arc::new(ManualClock::at_epoch()))
        .build();
    let store: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let t = Tenancy::builder(cluster.clone().into_backend(), store.clone())
        .clock(Arc::new(ManualClock::at_epoch()))
        .plans(catalogue())
        .build();
    t.create_organization("acme")
        .plan("professional")
        .execute()
        .await
        .unwrap();
    t.create_workspace("acme", "dev")
        .plan("starter")
        .execute()
        .await
        .unwrap();
    t.create_project("acme", "dev", "web")
        .quota(quota("1", "2Gi", "10Gi", "10", "5", "2").unwrap())
        .execute()
        .await
        .unwrap();
    Env { t, cluster, store }
}

fn req() -> ResourceList {
    ResourceList::parse([("cpu", "100m"), ("memory", "64Mi")]).unwrap()
}

async fn ns_labels(e: &Env, ns: &str) -> std::collections::BTreeMap<String, String> {
    let o = e
        .cluster
        .clone()
        .into_backend()
        .get(&ResourceType::of::<Namespace>(), None, ns)
        .await
        .unwrap();
    o.metadata.labels.unwrap_or_default()
}

async fn snapshot(
    e: &Env,
) -> (
    Vec<(String, String, serde_json::Value)>,
    Vec<DynamicObject>,
    u64,
) {
    (
        store_dump(e.store.as_ref()).await,
        e.cluster.objects(),
        e.cluster.resource_version(),
    )
}

#[tokio::test]
async fn restricted_workspace_labels_namespaces_and_runs_hardened_apps() {
    let e = setup().await;
    let l = ns_labels(&e, "acme-dev-web").await;
    for key in ["enforce", "warn", "audit"] {
        assert_eq!(
            l[&format!("pod-security.kubernetes.io/{key}")],
            "restricted"
        );
        assert_eq!(
            l[&format!("pod-security.kubernetes.io/{key}-version")],
            "v1.34"
        );
    }
    e.t.create_app("acme", "dev", "web", "shop")
        .stateless("ghcr.io/acme/shop:1")
        .replicas(2)
        .requests(req())
        .execute()
        .await
        .unwrap();
    // the cluster's own PodSecurity admission (restricted) admitted the pods hxb rendered
    let pods = e
        .cluster
        .clone()
        .into_backend()
        .list(
            &ResourceType::of::<Pod>(),
            Some("acme-dev-web"),
            &Default::default(),
        )
        .await
        .unwrap();
    assert_eq!(pods.items.len(), 2);
    let d: Deployment = serde_json::from_value(
        serde_json::to_value(
            e.cluster
                .clone()
                .into_backend()
                .get(
                    &ResourceType::of::<Deployment>(),
                    Some("acme-dev-web"),
                    "shop",
                )
                .await
                .unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    let spec = d.spec.unwrap().template.spec.unwrap();
    assert_eq!(spec.security_context.unwrap().run_as_non_root, Some(true));
    let sc = spec.containers[0].security_context.clone().unwrap();
    assert_eq!(sc.allow_privilege_escalation, Some(false));
    assert_eq!(e.t.reconcile().await.unwrap().writes(), 0, "converged");
}

#[tokio::test]
async fn restricted_workspace_refuses_a_privileged_app_and_changes_nothing() {
    let e = setup().await;
    let before = snapshot(&e).await;
    let err =
        e.t.create_app("acme", "dev", "web", "root")
            .stateless("nginx:1.27")
            .privileged(true)
            .execute()
            .await
            .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    let msg = err.to_string();
    for part in [
        "policy of plan starter (pod security restricted:v1.34) refuses Deployment acme-dev-web/root: ",
        "spec.template.spec.containers[0].securityContext.privileged: true (privileged container), forbidden by restricted",
        "spec.template.spec.containers[0].image: docker.io/library/nginx:1.27 is not from an allowed registry (ghcr.io/acme), forbidden by plan starter",
        "spec.template.spec.containers[0].resources.requests.cpu: unset (a request is required), forbidden by plan starter",
        "spec.template.spec.containers[0].resources.requests.memory: unset",
    ] {
        assert!(msg.contains(part), "{part:?} not in {msg}");
    }
    assert_eq!(snapshot(&e).await, before, "store and cluster unchanged");
    let audit = e.t.audit_log(0, 100).await.unwrap();
    assert!(audit.last().unwrap().result.contains("forbidden"));
}

#[tokio::test]
async fn registry_and_request_violations_are_refused_alone() {
    let e = setup().await;
    let before = snapshot(&e).await;
    let err =
        e.t.create_app("acme", "dev", "web", "a")
            .stateless("ghcr.io/other/app:1")
            .requests(req())
            .execute()
            .await
            .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    let msg = err.to_string();
    assert!(
        msg.contains("ghcr.io/other/app:1 is not from an allowed registry"),
        "{msg}"
    );
    assert!(!msg.contains("requests"), "{msg}");
    let err = e
        .t
        .create_app("acme", "dev", "web", "b")
        .cron_job("ghcr.io/acme/tool@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "0 3 * * *")
        .execute()
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("CronJob acme-dev-web/b: spec.jobTemplate.spec.template.spec.containers[0].resources.requests.cpu: unset"),
        "{msg}"
    );
    assert!(!msg.contains("registry"), "{msg}");
    let err =
        e.t.create_app("acme", "dev", "web", "c")
            .stateless("ghcr.io/acme/UPPER")
            .requests(req())
            .execute()
            .await
            .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert_eq!(snapshot(&e).await, before, "store and cluster unchanged");

    // a function's new version is checked too; the refusal keeps the active version
    e.t.create_app("acme", "dev", "web", "fn")
        .function("ghcr.io/acme/fn:1")
        .requests(req())
        .execute()
        .await
        .unwrap();
    let before = snapshot(&e).await;
    let err =
        e.t.deploy_function("acme", "dev", "web", "fn", "docker.io/evil/fn:2")
            .await
            .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    assert_eq!(snapshot(&e).await, before);
}

#[tokio::test]
async fn plan_changes_relabel_namespaces_and_are_checked_against_the_apps() {
    let e = setup().await;
    // move to baseline, then to a plan that allows privileged containers
    e.t.update_workspace("acme", "dev")
        .plan("professional")
        .execute()
        .await
        .unwrap();
    let l = ns_labels(&e, "acme-dev-web").await;
    assert_eq!(l["pod-security.kubernetes.io/enforce"], "baseline");
    assert_eq!(l["pod-security.kubernetes.io/audit"], "baseline");
    // docker.io and no requests are fine now; privileged is still not
    e.t.create_app("acme", "dev", "web", "plain")
        .stateless("nginx")
        .execute()
        .await
        .unwrap();
    let err =
        e.t.create_app("acme", "dev", "web", "root")
            .stateless("nginx")
            .privileged(true)
            .execute()
            .await
            .unwrap_err();
    assert!(err.to_string().contains("forbidden by baseline"), "{err}");
    e.t.update_workspace("acme", "dev")
        .plan("enterprise")
        .execute()
        .await
        .unwrap();
    assert_eq!(
        ns_labels(&e, "acme-dev-web").await["pod-security.kubernetes.io/enforce"],
        "privileged"
    );
    e.t.create_app("acme", "dev", "web", "root")
        .stateless("nginx")
        .privileged(true)
        .execute()
        .await
        .unwrap();
    assert_eq!(e.t.reconcile().await.unwrap().writes(), 0);

    // going back to restricted would strand the apps: refused, listing them, nothing changes
    let before = snapshot(&e).await;
    let err =
        e.t.update_workspace("acme", "dev")
            .plan("starter")
            .execute()
            .await
            .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    let msg = err.to_string();
    assert!(msg.contains("Deployment acme-dev-web/plain: "), "{msg}");
    assert!(msg.contains("Deployment acme-dev-web/root: "), "{msg}");
    assert!(
        msg.contains("privileged container), forbidden by restricted"),
        "{msg}"
    );
    assert_eq!(snapshot(&e).await, before);
    assert_eq!(
        e.t.workspace("acme", "dev").await.unwrap().plan.as_str(),
        "enterprise"
    );
}

#[tokio::test]
async fn manifests_into_tenant_namespaces_are_admitted_by_the_plan() {
    let e = setup().await;
    let pod = |ns: &str| -> DynamicObject {
        serde_json::from_value(json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": ns},
            "spec": {"hostNetwork": true, "containers": [{"name": "c", "image": "ghcr.io/acme/x:1"}]}}))
        .unwrap()
    };
    let err = e.t.admit_manifest(&pod("acme-dev-web")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    let msg = err.to_string();
    assert!(
        msg.contains(
            "Pod acme-dev-web/p: spec.hostNetwork: true (host network), forbidden by restricted"
        ),
        "{msg}"
    );
    assert!(
        msg.contains("spec.containers[0].resources.requests.cpu: unset"),
        "{msg}"
    );
    // outside tenant namespaces the engine does not judge (the cluster may)
    e.t.admit_manifest(&pod("kube-system")).await.unwrap();
    let cm: DynamicObject = serde_json::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "c", "namespace": "acme-dev-web"}}))
    .unwrap();
    e.t.admit_manifest(&cm).await.unwrap();
}

/// Golden file of a project (and one application) in a restricted workspace: the six Pod
/// Security labels on the Namespace and the hardened pod template. The policy-free golden
/// files stay as they are: rendering without a policy adds nothing.
#[test]
fn golden_restricted_project() {
    use crate::support::{members_of, n, org, project, workspace};
    use hxb_tenancy::apps::{AppKind, Application, Placement, render_app};
    use hxb_tenancy::render::{ProjectInput, RenderConfig, render_project};

    let cat = catalogue();
    let (o, ws, p) = (
        org("acme", "enterprise"),
        workspace("acme", "dev", "starter"),
        project("acme", "dev", "web", None),
    );
    let members = members_of("acme");
    let own = quota("1", "2Gi", "10Gi", "10", "5", "2").unwrap();
    let input = ProjectInput {
        organization: &o,
        workspace: &ws,
        project: &p,
        ancestors: &[],
        members: &members,
        plan: cat.get("starter").unwrap(),
        namespace_quota: &own,
    };
    let mut objects = render_project(&input, &RenderConfig::default()).unwrap();
    let app = Application {
        organization: n("acme"),
        workspace: n("dev"),
        project: n("web"),
        name: n("shop"),
        kind: AppKind::Stateless,
        image: "ghcr.io/acme/shop:1".into(),
        replicas: 2,
        stopped: false,
        port: Some(8080),
        requests: req(),
        node_affinity: Default::default(),
        restarted_at: None,
        privileged: false,
    };
    let labels = hxb_tenancy::naming::project_labels(&o.name, &ws.name, &p.name, None);
    objects.extend(render_app(&app, &p.namespace, &labels, &Placement::default()).unwrap());
    let policy = cat.policy("starter").unwrap();
    hxb_tenancy::policy::label_namespace(&mut objects, &policy);
    hxb_tenancy::policy::harden(&mut objects, policy.level);
    hxb_tenancy::policy::admit(objects.iter().map(|d| &d.object), &policy, "starter").unwrap();
    crate::golden::check("project-restricted.yaml", &crate::golden::to_yaml(&objects));
}

/// Golden file of a dedicated sub-project under the default policy of its plan (baseline):
/// the same objects as `subproject-dedicated.yaml` plus the six labels.
#[test]
fn golden_default_policy_dedicated_subproject() {
    use crate::support::{members_of, n, org, project, workspace};
    use hxb_tenancy::render::{ProjectInput, RenderConfig, render_project};

    let cat = PlanCatalog::defaults();
    let (o, ws, p) = (
        org("acme", "enterprise"),
        workspace("acme", "dev", "professional-dedicated"),
        project("acme", "dev", "api", Some("web")),
    );
    let members = members_of("acme");
    let own = quota("2", "4Gi", "20Gi", "20", "10", "5").unwrap();
    let input = ProjectInput {
        organization: &o,
        workspace: &ws,
        project: &p,
        ancestors: &[n("web")],
        members: &members,
        plan: cat.get("professional-dedicated").unwrap(),
        namespace_quota: &own,
    };
    let mut objects = render_project(&input, &RenderConfig::default()).unwrap();
    let policy = cat.policy("professional-dedicated").unwrap();
    assert_eq!(policy.level, PodSecurityLevel::Baseline);
    hxb_tenancy::policy::label_namespace(&mut objects, &policy);
    crate::golden::check(
        "subproject-dedicated-policy.yaml",
        &crate::golden::to_yaml(&objects),
    );
}

/// A snapshot of a privileged application cannot be restored into a restricted workspace.
#[cfg(feature = "backup")]
#[tokio::test]
async fn restores_are_admitted_by_the_target_plan() {
    let e = setup().await;
    e.t.create_workspace("acme", "ops")
        .plan("enterprise")
        .quota(quota("2", "4Gi", "20Gi", "20", "10", "5").unwrap())
        .execute()
        .await
        .unwrap();
    e.t.create_project("acme", "ops", "tools")
        .quota(quota("1", "2Gi", "10Gi", "10", "5", "2").unwrap())
        .execute()
        .await
        .unwrap();
    e.t.create_app("acme", "ops", "tools", "agent")
        .stateless("nginx")
        .privileged(true)
        .execute()
        .await
        .unwrap();
    let b =
        e.t.backups(Arc::new(hxb_tenancy::backup::MemorySnapshotStore::new()));
    let info = b.snapshot("acme", "ops", "tools").execute().await.unwrap();
    let before = snapshot(&e).await;
    let err = b
        .restore(&info.id)
        .into_project("acme", "dev", "web")
        .execute()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden, "{err}");
    let msg = err.to_string();
    assert!(msg.contains("Deployment acme-dev-web/agent: "), "{msg}");
    assert!(
        msg.contains("privileged container), forbidden by restricted"),
        "{msg}"
    );
    assert_eq!(snapshot(&e).await, before, "store and cluster unchanged");
    // into its own (privileged) workspace it restores
    b.restore(&info.id).execute().await.unwrap();
}
