//! Authorization: the tenancy's role model applied to API operations, as a pure function
//! over the organization's memberships.
//!
//! Actions nest: Read ⊂ Operate ⊂ Manage ⊂ Own.
//!
//! | membership | highest action | where |
//! |---|---|---|
//! | organization owner | Own (delete the organization, grant `owner`) | the whole organization |
//! | organization admin | Manage (workspaces, projects, members, apps) | the whole organization |
//! | organization member | Read | the organization record only |
//! | workspace admin / developer / viewer | Manage / Operate / Read | the workspace and its projects |
//! | project admin / developer / viewer | Manage / Operate / Read | the project and its sub-projects |
//!
//! Any membership in an organization lets its holder read the organization record. These
//! are the same reaches as the Kubernetes RBAC the tenancy renders
//! (`hxb_tenancy::rbac::mapping`): organization roles reach every project, workspace roles
//! their workspace's projects, project roles the project subtree.

use crate::core::{Member, OrgRole, Role, Scope, ScopedRole};

use crate::api::identity::Identity;

/// What an operation does to its target.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    /// Read it.
    Read,
    /// Deploy and operate workloads in it (applications).
    Operate,
    /// Create, change or delete what is inside it (children, members).
    Manage,
    /// Delete the organization itself, or grant its `owner` role.
    Own,
}

/// What an operation acts on.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target<'a> {
    /// An organization.
    Organization {
        /// Organization name.
        org: &'a str,
    },
    /// A workspace.
    Workspace {
        /// Organization name.
        org: &'a str,
        /// Workspace name.
        ws: &'a str,
    },
    /// A project, with the names of its ancestors (parent first).
    Project {
        /// Organization name.
        org: &'a str,
        /// Workspace name.
        ws: &'a str,
        /// Project name.
        project: &'a str,
        /// Parent, grand-parent, … (empty for a top-level project).
        ancestors: &'a [String],
    },
}

impl<'a> Target<'a> {
    /// The organization the target lives in.
    pub(crate) fn org(&self) -> &'a str {
        match self {
            Target::Organization { org }
            | Target::Workspace { org, .. }
            | Target::Project { org, .. } => org,
        }
    }
}

/// Whether `id`, holding `memberships` (of any organizations), may do `action` on `target`.
pub fn is_allowed(
    memberships: &[Member],
    id: &Identity,
    action: Action,
    target: &Target<'_>,
) -> bool {
    memberships
        .iter()
        .filter(|m| id.holds(m.subject.as_str()) && m.scope.organization().as_str() == target.org())
        .any(|m| grants(m, action, target))
}

fn grants(m: &Member, action: Action, target: &Target<'_>) -> bool {
    let best = match m.role {
        Role::Organization(OrgRole::Owner) => Action::Own,
        Role::Organization(OrgRole::Admin) => Action::Manage,
        Role::Workspace(r) | Role::Project(r) if r == ScopedRole::Admin => Action::Manage,
        Role::Workspace(r) | Role::Project(r) if r == ScopedRole::Developer => Action::Operate,
        _ => Action::Read,
    };
    if action > best {
        return false;
    }
    match (&m.scope, target) {
        (Scope::Organization { .. }, _)
            if matches!(m.role, Role::Organization(OrgRole::Member)) =>
        {
            matches!(target, Target::Organization { .. })
        }
        (Scope::Organization { .. }, _) => true,
        (_, Target::Organization { .. }) => action == Action::Read,
        (Scope::Workspace { workspace, .. }, Target::Workspace { ws, .. }) => {
            workspace.as_str() == *ws
        }
        (Scope::Workspace { workspace, .. }, Target::Project { ws, .. }) => {
            workspace.as_str() == *ws
        }
        (Scope::Project { .. }, Target::Workspace { .. }) => false,
        (
            Scope::Project {
                workspace,
                project: p,
                ..
            },
            Target::Project {
                ws,
                project,
                ancestors,
                ..
            },
        ) => {
            workspace.as_str() == *ws
                && (p.as_str() == *project || ancestors.iter().any(|a| a == p.as_str()))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Name;

    fn n(s: &str) -> Name {
        Name::new(s).unwrap()
    }

    fn member(subject: &str, scope: Scope, role: Role) -> Member {
        Member {
            subject: crate::core::Subject::new(subject).unwrap(),
            scope,
            role,
            added_at: crate::core::Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn role_table() {
        let org = || Scope::Organization {
            organization: n("acme"),
        };
        let ws = Scope::Workspace {
            organization: n("acme"),
            workspace: n("dev"),
        };
        let prj = Scope::Project {
            organization: n("acme"),
            workspace: n("dev"),
            project: n("web"),
        };
        let ms = vec![
            member("owner", org(), Role::Organization(OrgRole::Owner)),
            member("admin", org(), Role::Organization(OrgRole::Admin)),
            member("group:staff", org(), Role::Organization(OrgRole::Member)),
            member("wsdev", ws.clone(), Role::Workspace(ScopedRole::Developer)),
            member("wsadmin", ws, Role::Workspace(ScopedRole::Admin)),
            member("padmin", prj, Role::Project(ScopedRole::Admin)),
        ];
        let o = Target::Organization { org: "acme" };
        let w = Target::Workspace {
            org: "acme",
            ws: "dev",
        };
        let w2 = Target::Workspace {
            org: "acme",
            ws: "prod",
        };
        let anc = vec!["web".to_owned()];
        let sub = Target::Project {
            org: "acme",
            ws: "dev",
            project: "api",
            ancestors: &anc,
        };
        let other = Target::Project {
            org: "acme",
            ws: "dev",
            project: "db",
            ancestors: &[],
        };
        let foreign = Target::Organization { org: "globex" };
        let ok = |s: &str, a, t: &Target<'_>| is_allowed(&ms, &Identity::new(s), a, t);
        assert!(ok("owner", Action::Own, &o));
        assert!(!ok("admin", Action::Own, &o));
        assert!(ok("admin", Action::Manage, &w2));
        let staff = Identity::new("carol").with_groups(["staff"]);
        assert!(is_allowed(&ms, &staff, Action::Read, &o));
        assert!(!is_allowed(&ms, &staff, Action::Read, &w));
        assert!(ok("wsdev", Action::Read, &w) && ok("wsdev", Action::Read, &sub));
        assert!(!ok("wsdev", Action::Manage, &sub) && !ok("wsdev", Action::Read, &w2));
        assert!(ok("wsdev", Action::Operate, &sub) && !ok("wsdev", Action::Operate, &o));
        assert!(ok("wsadmin", Action::Manage, &w) && !ok("wsadmin", Action::Manage, &o));
        assert!(ok("wsadmin", Action::Read, &o));
        assert!(ok("padmin", Action::Manage, &sub));
        assert!(!ok("padmin", Action::Read, &other) && !ok("padmin", Action::Read, &w));
        assert!(!ok("owner", Action::Read, &foreign));
        assert!(!ok("nobody", Action::Read, &o));
    }

    fn arb_member() -> impl proptest::strategy::Strategy<Value = Member> {
        use proptest::prelude::*;
        let names = prop::sample::select(vec!["a", "b"]);
        (
            prop::sample::select(vec!["u1", "u2", "group:g"]),
            names.clone(),
            names.clone(),
            names,
            0..3u8,
            0..3u8,
        )
            .prop_map(|(sub, org, ws, p, level, r)| {
                let scoped =
                    [ScopedRole::Admin, ScopedRole::Developer, ScopedRole::Viewer][r as usize];
                let (scope, role) = match level {
                    0 => (
                        Scope::Organization {
                            organization: n(org),
                        },
                        Role::Organization(
                            [OrgRole::Owner, OrgRole::Admin, OrgRole::Member][r as usize],
                        ),
                    ),
                    1 => (
                        Scope::Workspace {
                            organization: n(org),
                            workspace: n(ws),
                        },
                        Role::Workspace(scoped),
                    ),
                    _ => (
                        Scope::Project {
                            organization: n(org),
                            workspace: n(ws),
                            project: n(p),
                        },
                        Role::Project(scoped),
                    ),
                };
                member(sub, scope, role)
            })
    }

    proptest::proptest! {
        /// Actions nest (allowed to do more ⇒ allowed to do less); memberships of other
        /// organizations and other subjects never grant anything.
        #[test]
        fn monotone_and_contained(ms in proptest::collection::vec(arb_member(), 0..6), pick in 0..4usize) {
            let anc = vec!["b".to_owned()];
            let targets = [
                Target::Organization { org: "a" },
                Target::Workspace { org: "a", ws: "a" },
                Target::Project { org: "a", ws: "a", project: "a", ancestors: &anc },
                Target::Project { org: "a", ws: "b", project: "b", ancestors: &[] },
            ];
            let t = &targets[pick];
            let id = Identity::new("u1").with_groups(["g"]);
            let acts = [Action::Read, Action::Operate, Action::Manage, Action::Own];
            for w in acts.windows(2) {
                proptest::prop_assert!(!is_allowed(&ms, &id, w[1], t) || is_allowed(&ms, &id, w[0], t));
            }
            let mine: Vec<Member> = ms.iter().filter(|m| m.scope.organization().as_str() == "a" && id.holds(m.subject.as_str())).cloned().collect();
            for a in acts {
                proptest::prop_assert_eq!(is_allowed(&ms, &id, a, t), is_allowed(&mine, &id, a, t));
            }
            proptest::prop_assert!(!is_allowed(&ms, &Identity::new("stranger"), Action::Read, t));
        }
    }
}
