//! The role mapping, proven exhaustively: every member × namespace (own project, sibling,
//! other workspace, other organization, system, cluster scope) × verb × resource, evaluated
//! by the RBAC authorizer over exactly the objects hxb renders, against expectations written
//! out independently here.

use hxb_tenancy::rbac::{Access, AccessRequest, RbacSet};

use crate::support::render_world;

/// `(verb, group, resource, lowest tier allowed)`; `None`: no tenant role may do it.
const ACTIONS: &[(&str, &str, &str, Option<Access>)] = &[
    ("get", "", "pods", Some(Access::Viewer)),
    ("list", "", "pods", Some(Access::Viewer)),
    ("watch", "", "pods", Some(Access::Viewer)),
    ("get", "", "pods/log", Some(Access::Viewer)),
    ("create", "", "pods", Some(Access::Developer)),
    ("delete", "", "pods", Some(Access::Developer)),
    ("create", "", "pods/exec", Some(Access::Developer)),
    ("create", "", "pods/portforward", Some(Access::Developer)),
    ("list", "", "services", Some(Access::Viewer)),
    ("create", "", "services", Some(Access::Developer)),
    ("get", "", "configmaps", Some(Access::Viewer)),
    ("update", "", "configmaps", Some(Access::Developer)),
    ("get", "", "secrets", Some(Access::Developer)),
    ("list", "", "secrets", Some(Access::Developer)),
    ("create", "", "secrets", Some(Access::Developer)),
    ("get", "", "persistentvolumeclaims", Some(Access::Viewer)),
    (
        "create",
        "",
        "persistentvolumeclaims",
        Some(Access::Developer),
    ),
    ("get", "apps", "deployments", Some(Access::Viewer)),
    ("create", "apps", "deployments", Some(Access::Developer)),
    ("patch", "apps", "deployments", Some(Access::Developer)),
    ("delete", "apps", "statefulsets", Some(Access::Developer)),
    (
        "update",
        "apps",
        "deployments/scale",
        Some(Access::Developer),
    ),
    ("create", "batch", "cronjobs", Some(Access::Developer)),
    ("list", "batch", "jobs", Some(Access::Viewer)),
    (
        "create",
        "autoscaling",
        "horizontalpodautoscalers",
        Some(Access::Developer),
    ),
    (
        "create",
        "networking.k8s.io",
        "ingresses",
        Some(Access::Developer),
    ),
    ("list", "", "events", Some(Access::Viewer)),
    ("get", "", "serviceaccounts", Some(Access::Developer)),
    ("create", "", "serviceaccounts", Some(Access::Admin)),
    (
        "create",
        "rbac.authorization.k8s.io",
        "rolebindings",
        Some(Access::Admin),
    ),
    (
        "update",
        "rbac.authorization.k8s.io",
        "roles",
        Some(Access::Admin),
    ),
    (
        "list",
        "rbac.authorization.k8s.io",
        "rolebindings",
        Some(Access::Admin),
    ),
    // what hxb enforces isolation and quota with: readable, never writable by tenants
    ("get", "", "resourcequotas", Some(Access::Viewer)),
    ("update", "", "resourcequotas", None),
    ("delete", "", "resourcequotas", None),
    ("patch", "", "limitranges", None),
    (
        "get",
        "networking.k8s.io",
        "networkpolicies",
        Some(Access::Viewer),
    ),
    ("delete", "networking.k8s.io", "networkpolicies", None),
    ("create", "networking.k8s.io", "networkpolicies", None),
    ("delete", "", "namespaces", None),
    ("update", "", "namespaces", None),
    (
        "create",
        "rbac.authorization.k8s.io",
        "clusterrolebindings",
        None,
    ),
    ("escalate", "rbac.authorization.k8s.io", "roles", None),
    ("impersonate", "", "users", None),
    (
        "create",
        "apiextensions.k8s.io",
        "customresourcedefinitions",
        None,
    ),
    ("list", "", "nodes", None),
];

const ORGS: [&str; 2] = ["acme", "globex"];
const NAMESPACES: [&str; 4] = ["dev-web", "dev-api", "prod-web", "prod-api"];

/// The tier `user` must have in namespace `ns`, written out from the role semantics:
/// organization owner/admin → admin everywhere in the organization, member → nothing;
/// workspace `dev` roles → both `dev` namespaces; project `web` roles → `web` and its
/// sub-project `api`; project `api` roles → `api` only. Nothing crosses organizations.
fn expected_tier(user: &str, ns: &str) -> Option<Access> {
    let (user_org, rest) = user.split_once('-')?;
    let (ns_org, ns_rest) = ns.split_once('-')?;
    if user_org != ns_org {
        return None;
    }
    let tier = |s: &str| match s {
        "admin" => Some(Access::Admin),
        "developer" => Some(Access::Developer),
        "viewer" => Some(Access::Viewer),
        _ => None,
    };
    match rest.split_once('-') {
        None => match rest {
            "owner" | "admin" => Some(Access::Admin),
            _ => None, // member
        },
        Some(("dev", role)) => ns_rest.starts_with("dev-").then(|| tier(role)).flatten(),
        Some(("web", role)) => ["dev-web", "dev-api"]
            .contains(&ns_rest)
            .then(|| tier(role))
            .flatten(),
        Some(("api", role)) => (ns_rest == "dev-api").then(|| tier(role)).flatten(),
        Some(_) => None,
    }
}

fn users() -> Vec<String> {
    let mut u = Vec::new();
    for o in ORGS {
        for r in ["owner", "admin", "member"] {
            u.push(format!("{o}-{r}"));
        }
        for scope in ["dev", "web", "api"] {
            for r in ["admin", "developer", "viewer"] {
                u.push(format!("{o}-{scope}-{r}"));
            }
        }
    }
    u.push("stranger".into());
    u
}

#[test]
fn every_role_verb_resource_and_tenant_cell() {
    let world = render_world();
    let rbac = RbacSet::from_objects(world.iter().map(|o| &o.object)).unwrap();
    let mut namespaces: Vec<Option<String>> = ORGS
        .iter()
        .flat_map(|o| NAMESPACES.iter().map(move |n| Some(format!("{o}-{n}"))))
        .collect();
    namespaces.push(Some("kube-system".into()));
    namespaces.push(Some("default".into()));
    namespaces.push(None); // cluster scope
    let mut cells = 0;
    let mut allowed = 0;
    for user in users() {
        for ns in &namespaces {
            let tier = ns.as_deref().and_then(|ns| expected_tier(&user, ns));
            for &(verb, group, resource, min) in ACTIONS {
                let want = matches!((tier, min), (Some(t), Some(m)) if t >= m);
                let req = AccessRequest::new(&user, verb, group, resource, ns.as_deref());
                let got = rbac.allows(&req);
                assert_eq!(
                    got, want,
                    "{user} {verb} {group}/{resource} in {ns:?}: got {got}, want {want}"
                );
                cells += 1;
                allowed += usize::from(got);
            }
        }
    }
    // 25 users × 11 namespaces × 46 actions, a real mix of grants and denials
    assert_eq!(cells, users().len() * namespaces.len() * ACTIONS.len());
    assert!(
        allowed > 1000 && allowed < cells / 2,
        "{allowed} of {cells}"
    );
}

#[test]
fn no_role_of_one_organization_reaches_another() {
    let world = render_world();
    let rbac = RbacSet::from_objects(world.iter().map(|o| &o.object)).unwrap();
    for user in users().iter().filter(|u| u.starts_with("acme-")) {
        for n in NAMESPACES {
            let ns = format!("globex-{n}");
            for &(verb, group, resource, _) in ACTIONS {
                let req = AccessRequest::new(user, verb, group, resource, Some(&ns));
                assert!(!rbac.allows(&req), "{user} reaches {ns}: {verb} {resource}");
            }
        }
    }
    // and hxb renders nothing cluster-wide
    assert!(world.iter().all(|o| !o.ty.kind.starts_with("Cluster")));
}

#[test]
fn a_members_groups_do_not_widen_access() {
    let world = render_world();
    let rbac = RbacSet::from_objects(world.iter().map(|o| &o.object)).unwrap();
    let mut req = AccessRequest::new(
        "acme-api-viewer",
        "create",
        "",
        "pods",
        Some("acme-dev-api"),
    );
    req.groups = vec!["system:authenticated".into(), "acme".into()];
    assert!(!rbac.allows(&req));
}
