//! Shared fixtures: a small two-organization world as plain data.

use hxb_core::{
    EntityStatus, Member, Name, OrgRole, Organization, Project, ResourceList, Role, Scope,
    ScopedRole, Subject, Timestamp, Workspace,
};
use hxb_tenancy::naming::project_namespace;
use hxb_tenancy::plans::{PlanCatalog, quota};
use hxb_tenancy::render::{DesiredObject, ProjectInput, RenderConfig, render_project};

pub fn n(s: &str) -> Name {
    Name::new(s).unwrap()
}

pub fn t0() -> Timestamp {
    Timestamp::from_second(1_767_225_600).unwrap()
}

pub fn org(name: &str, plan: &str) -> Organization {
    Organization {
        name: n(name),
        display_name: name.to_uppercase(),
        plan: n(plan),
        status: EntityStatus::Active,
        created_at: t0(),
    }
}

pub fn workspace(org: &str, name: &str, plan: &str) -> Workspace {
    Workspace {
        organization: n(org),
        name: n(name),
        plan: n(plan),
        quota: quota("4", "8Gi", "50Gi", "50", "20", "10").unwrap(),
        status: EntityStatus::Active,
        created_at: t0(),
    }
}

pub fn project(org: &str, ws: &str, name: &str, parent: Option<&str>) -> Project {
    Project {
        organization: n(org),
        workspace: n(ws),
        name: n(name),
        parent: parent.map(n),
        quota: quota("2", "4Gi", "20Gi", "20", "10", "5").unwrap(),
        namespace: project_namespace(&n(org), &n(ws), &n(name)),
        status: EntityStatus::Active,
        created_at: t0(),
    }
}

pub fn member(subject: &str, scope: Scope, role: Role) -> Member {
    Member {
        subject: Subject::new(subject).unwrap(),
        scope,
        role,
        added_at: t0(),
    }
}

/// Members of organization `o`, named `<o>-<role>` / `<o>-<ws>-<role>` / `<o>-<project>-<role>`.
pub fn members_of(o: &str) -> Vec<Member> {
    let org_scope = Scope::Organization { organization: n(o) };
    let ws_scope = Scope::Workspace {
        organization: n(o),
        workspace: n("dev"),
    };
    let prj = |p: &str| Scope::Project {
        organization: n(o),
        workspace: n("dev"),
        project: n(p),
    };
    let mut m = vec![
        member(
            &format!("{o}-owner"),
            org_scope.clone(),
            Role::Organization(OrgRole::Owner),
        ),
        member(
            &format!("{o}-admin"),
            org_scope.clone(),
            Role::Organization(OrgRole::Admin),
        ),
        member(
            &format!("{o}-member"),
            org_scope,
            Role::Organization(OrgRole::Member),
        ),
    ];
    for (r, name) in [
        (ScopedRole::Admin, "admin"),
        (ScopedRole::Developer, "developer"),
        (ScopedRole::Viewer, "viewer"),
    ] {
        m.push(member(
            &format!("{o}-dev-{name}"),
            ws_scope.clone(),
            Role::Workspace(r),
        ));
        m.push(member(
            &format!("{o}-web-{name}"),
            prj("web"),
            Role::Project(r),
        ));
        m.push(member(
            &format!("{o}-api-{name}"),
            prj("api"),
            Role::Project(r),
        ));
    }
    m
}

/// Every object of the two-organization world: for each of `acme` and `globex`, workspaces
/// `dev` (shared) and `prod` (dedicated), each with project `web` and sub-project `api`.
pub fn render_world() -> Vec<DesiredObject> {
    let cat = PlanCatalog::defaults();
    let mut out = Vec::new();
    for o in ["acme", "globex"] {
        let organization = org(o, "enterprise");
        let members = members_of(o);
        for (w, plan) in [("dev", "professional"), ("prod", "professional-dedicated")] {
            let ws = workspace(o, w, plan);
            for (p, parent) in [("web", None), ("api", Some("web"))] {
                let prj = project(o, w, p, parent);
                let ancestors: Vec<Name> = parent.map(n).into_iter().collect();
                let q = ResourceList::new();
                let input = ProjectInput {
                    organization: &organization,
                    workspace: &ws,
                    project: &prj,
                    ancestors: &ancestors,
                    members: &members,
                    plan: cat.get(plan).unwrap(),
                    namespace_quota: &q,
                };
                out.extend(render_project(&input, &RenderConfig::default()).unwrap());
            }
        }
    }
    out
}
