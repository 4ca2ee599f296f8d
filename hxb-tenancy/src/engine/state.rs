//! How tenancy state sits in the [`StateStore`]: collections, keys, and a consistent snapshot
//! of one organization.
//!
//! | collection | key | document |
//! |---|---|---|
//! | `organizations` | `<org>` | [`Organization`] |
//! | `workspaces` | `<org>/<ws>` | [`Workspace`] |
//! | `projects` | `<org>/<ws>/<project>` | [`Project`] |
//! | `namespaces` | `<namespace>` | owner `{organization, workspace, project}` (uniqueness index) |
//! | `members` | `<org>/<scope>/<subject>` | [`Member`] |
//! | log `audit` | — | [`AuditEntry`](super::audit::AuditEntry) |

use std::collections::BTreeMap;

use hxb_core::store::Record;
use hxb_core::{
    Error, Member, Name, Organization, Project, ResourceList, Result, Scope, StateStore, Workspace,
};
use serde::de::DeserializeOwned;

/// Collection of organizations.
pub const ORGS: &str = "organizations";
/// Collection of workspaces.
pub const WORKSPACES: &str = "workspaces";
/// Collection of projects.
pub const PROJECTS: &str = "projects";
/// Namespace uniqueness index.
pub const NAMESPACES: &str = "namespaces";
/// Collection of memberships.
pub const MEMBERS: &str = "members";
/// The audit log.
pub const AUDIT: &str = "audit";

/// Key of a workspace.
pub fn ws_key(org: &Name, ws: &Name) -> String {
    format!("{org}/{ws}")
}

/// Key of a project.
pub fn project_key(org: &Name, ws: &Name, p: &Name) -> String {
    format!("{org}/{ws}/{p}")
}

/// Key of a membership (the subject is escaped so it cannot contain `/`).
pub fn member_key(m: &Member) -> String {
    let subject = m.subject.as_str().replace('%', "%25").replace('/', "%2F");
    let scope = match &m.scope {
        Scope::Workspace { workspace, .. } => format!("ws:{workspace}"),
        Scope::Project {
            workspace, project, ..
        } => format!("prj:{workspace}:{project}"),
        _ => "org".to_owned(),
    };
    format!("{}/{scope}/{subject}", m.scope.organization())
}

pub(crate) fn decode<T: DeserializeOwned>(r: &Record) -> Result<T> {
    serde_json::from_value(r.value.clone())
        .map_err(|e| Error::internal(format!("corrupt {} {}: {e}", r.collection, r.key)))
}

pub(crate) fn encode<T: serde::Serialize>(v: &T) -> Result<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| Error::internal(e.to_string()))
}

/// A consistent read of one organization and everything in it, with store revisions.
#[derive(Debug, Clone)]
pub struct OrgSnapshot {
    /// The organization and its record revision.
    pub org: (Organization, u64),
    /// Workspaces by name.
    pub workspaces: BTreeMap<Name, (Workspace, u64)>,
    /// Projects by `(workspace, project)`.
    pub projects: BTreeMap<(Name, Name), (Project, u64)>,
    /// Memberships.
    pub members: Vec<Member>,
}

impl OrgSnapshot {
    /// Load `org`; [`NotFound`](hxb_core::ErrorKind::NotFound) if it does not exist.
    pub async fn load(store: &dyn StateStore, org: &str) -> Result<Self> {
        let rec = store
            .get(ORGS, org)
            .await?
            .ok_or_else(|| Error::not_found("organization", org))?;
        let prefix = format!("{org}/");
        let mut workspaces = BTreeMap::new();
        for r in store.list(WORKSPACES, &prefix).await? {
            let w: Workspace = decode(&r)?;
            workspaces.insert(w.name.clone(), (w, r.revision));
        }
        let mut projects = BTreeMap::new();
        for r in store.list(PROJECTS, &prefix).await? {
            let p: Project = decode(&r)?;
            projects.insert((p.workspace.clone(), p.name.clone()), (p, r.revision));
        }
        let members = store
            .list(MEMBERS, &prefix)
            .await?
            .iter()
            .map(decode)
            .collect::<Result<Vec<Member>>>()?;
        Ok(OrgSnapshot {
            org: (decode(&rec)?, rec.revision),
            workspaces,
            projects,
            members,
        })
    }

    /// A workspace, or [`NotFound`](hxb_core::ErrorKind::NotFound).
    pub fn workspace(&self, ws: &Name) -> Result<&(Workspace, u64)> {
        self.workspaces
            .get(ws)
            .ok_or_else(|| Error::not_found("workspace", format!("{}/{ws}", self.org.0.name)))
    }

    /// A project, or [`NotFound`](hxb_core::ErrorKind::NotFound).
    pub fn project(&self, ws: &Name, p: &Name) -> Result<&(Project, u64)> {
        self.projects
            .get(&(ws.clone(), p.clone()))
            .ok_or_else(|| Error::not_found("project", format!("{}/{ws}/{p}", self.org.0.name)))
    }

    /// Projects of a workspace.
    pub fn projects_of<'a>(&'a self, ws: &'a Name) -> impl Iterator<Item = &'a Project> + 'a {
        self.projects
            .values()
            .map(|(p, _)| p)
            .filter(move |p| &p.workspace == ws)
    }

    /// Direct children of `parent` (`None`: top-level projects) in `ws`.
    pub fn children<'a>(
        &'a self,
        ws: &'a Name,
        parent: Option<&'a Name>,
    ) -> impl Iterator<Item = &'a Project> + 'a {
        self.projects_of(ws)
            .filter(move |p| p.parent.as_ref() == parent)
    }

    /// Ancestors of a project, nearest first.
    pub fn ancestors(&self, ws: &Name, p: &Project) -> Vec<Name> {
        let mut out = Vec::new();
        let mut cur = p.parent.clone();
        while let Some(name) = cur {
            if out.contains(&name) {
                break; // defensive: a cycle cannot be created through the API
            }
            cur = self
                .projects
                .get(&(ws.clone(), name.clone()))
                .and_then(|(x, _)| x.parent.clone());
            out.push(name);
        }
        out
    }

    /// Σ quotas of the direct children of `parent` in `ws`.
    pub fn carved(&self, ws: &Name, parent: Option<&Name>) -> Result<ResourceList> {
        ResourceList::checked_sum(self.children(ws, parent).map(|p| &p.quota))
    }

    /// Distinct member subjects.
    pub fn member_count(&self) -> u32 {
        let mut s: Vec<_> = self.members.iter().map(|m| &m.subject).collect();
        s.sort();
        s.dedup();
        u32::try_from(s.len()).unwrap_or(u32::MAX)
    }
}
