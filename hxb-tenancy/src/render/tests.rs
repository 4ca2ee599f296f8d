use super::*;
use crate::plans::PlanCatalog;
use hxb_core::{EntityStatus, OrgRole, ScopedRole, Timestamp};

fn n(s: &str) -> Name {
    Name::new(s).unwrap()
}

fn t0() -> Timestamp {
    Timestamp::from_second(1_767_225_600).unwrap()
}

struct World {
    org: Organization,
    ws: Workspace,
    prj: Project,
}

fn world() -> World {
    let org = Organization {
        name: n("acme"),
        display_name: "Acme".into(),
        plan: n("enterprise"),
        status: EntityStatus::Active,
        created_at: t0(),
    };
    let ws = Workspace {
        organization: n("acme"),
        name: n("dev"),
        plan: n("professional"),
        quota: ResourceList::new(),
        status: EntityStatus::Active,
        created_at: t0(),
    };
    let prj = Project {
        organization: n("acme"),
        workspace: n("dev"),
        name: n("api"),
        parent: Some(n("web")),
        quota: ResourceList::new(),
        namespace: "acme-dev-api".into(),
        status: EntityStatus::Active,
        created_at: t0(),
    };
    World { org, ws, prj }
}

fn scope_prj(p: &str) -> Scope {
    Scope::Project {
        organization: n("acme"),
        workspace: n("dev"),
        project: n(p),
    }
}

#[test]
fn effective_access_takes_the_highest_reaching_role() {
    let w = world();
    let plan = PlanCatalog::defaults().get("professional").unwrap().clone();
    let q = ResourceList::new();
    let members = vec![
        member(
            "owner",
            Scope::Organization {
                organization: n("acme"),
            },
            Role::Organization(OrgRole::Owner),
            t0(),
        )
        .unwrap(),
        member(
            "m",
            Scope::Organization {
                organization: n("acme"),
            },
            Role::Organization(OrgRole::Member),
            t0(),
        )
        .unwrap(),
        member(
            "other-org-owner",
            Scope::Organization {
                organization: n("globex"),
            },
            Role::Organization(OrgRole::Owner),
            t0(),
        )
        .unwrap(),
        member(
            "wsdev",
            Scope::Workspace {
                organization: n("acme"),
                workspace: n("dev"),
            },
            Role::Workspace(ScopedRole::Developer),
            t0(),
        )
        .unwrap(),
        member(
            "wsdev",
            scope_prj("api"),
            Role::Project(ScopedRole::Viewer),
            t0(),
        )
        .unwrap(),
        member(
            "otherws",
            Scope::Workspace {
                organization: n("acme"),
                workspace: n("prod"),
            },
            Role::Workspace(ScopedRole::Admin),
            t0(),
        )
        .unwrap(),
        member(
            "parent-admin",
            scope_prj("web"),
            Role::Project(ScopedRole::Admin),
            t0(),
        )
        .unwrap(),
        member(
            "sibling",
            scope_prj("db"),
            Role::Project(ScopedRole::Admin),
            t0(),
        )
        .unwrap(),
        // wrong-level role on a scope grants nothing
        member(
            "odd",
            scope_prj("api"),
            Role::Workspace(ScopedRole::Admin),
            t0(),
        )
        .unwrap(),
    ];
    let ancestors = [n("web")];
    let input = ProjectInput {
        organization: &w.org,
        workspace: &w.ws,
        project: &w.prj,
        ancestors: &ancestors,
        members: &members,
        plan: &plan,
        namespace_quota: &q,
    };
    let got: Vec<(String, Access)> = effective_access(&input)
        .into_iter()
        .map(|(s, a)| (s.to_string(), a))
        .collect();
    assert_eq!(
        got,
        [
            ("owner".to_string(), Access::Admin),
            ("parent-admin".to_string(), Access::Admin),
            ("wsdev".to_string(), Access::Developer),
        ]
    );
}

#[test]
fn dedicated_plans_pin_the_namespace_to_the_pool() {
    let w = world();
    let cat = PlanCatalog::defaults();
    let q = ResourceList::new();
    let input = |plan| ProjectInput {
        organization: &w.org,
        workspace: &w.ws,
        project: &w.prj,
        ancestors: &[],
        members: &[],
        plan,
        namespace_quota: &q,
    };
    let shared = render_project(
        &input(cat.get("professional").unwrap()),
        &RenderConfig::default(),
    )
    .unwrap();
    assert!(shared[0].object.metadata.annotations.is_none());
    let ded = render_project(
        &input(cat.get("professional-dedicated").unwrap()),
        &RenderConfig::default(),
    )
    .unwrap();
    let ann = ded[0].object.metadata.annotations.clone().unwrap();
    assert_eq!(
        ann["scheduler.alpha.kubernetes.io/node-selector"],
        "hxb.io/pool=acme.dev"
    );
    assert!(
        ann["scheduler.alpha.kubernetes.io/defaultTolerations"].contains("\"value\":\"acme.dev\"")
    );
    // every object is labelled as managed and owned
    for o in &ded {
        let l = o.object.metadata.labels.as_ref().unwrap();
        assert_eq!(l[naming::MANAGED_BY], "hxb");
        assert_eq!(l[naming::LABEL_PROJECT], "api");
        assert_eq!(l[naming::LABEL_PARENT], "web");
    }
}
