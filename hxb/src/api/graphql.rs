//! GraphQL over the hierarchy: an organization with its workspaces, projects, quotas, usage
//! and alerts in one request (`POST /api/v1/graphql`).
//!
//! ```graphql
//! { organization(name: "acme") {
//!     name status usage { used { name quantity } }
//!     alerts { id state severity }
//!     workspaces { name quota { name quantity } usage { used { name quantity } }
//!       projects { name parent namespace usage { used { name quantity } } } } } }
//! ```
//!
//! Every field is authorised by the same role model as the REST routes ([`crate::api::authz`]):
//! `organization` needs Read on the organization (a `forbidden` error otherwise); lists
//! (`organizations`, `workspaces`, `projects`, `alerts`) hold only what the caller may read;
//! an organization's `usage` needs Manage on it (owner or admin), since it sums every
//! workspace. A field the caller may not read resolves to `null` with an error whose
//! `extensions.code` is the API error code. Queries deeper than [`MAX_DEPTH`] or more complex
//! than [`MAX_COMPLEXITY`] are refused before anything runs.

use std::collections::HashMap;

use async_graphql::{
    Context, EmptyMutation, EmptySubscription, ErrorExtensions, Object, Schema, SimpleObject,
};
use hxb_core::metrics::alerts::Alert as CoreAlert;
use hxb_core::model::{Member, Organization, Project, Workspace};
use hxb_core::{EntityStatus, ResourceList};

use crate::api::authz::{Action, Target, is_allowed};
use crate::api::error::ApiError;
use crate::api::identity::Identity;
use crate::api::routes::{ApiState, memberships, path_ancestors, path_target, within};
use crate::events::EntityPath;

/// Deepest selection nesting accepted.
pub const MAX_DEPTH: usize = 10;
/// Highest query complexity accepted (one per field, list fields counted once).
pub const MAX_COMPLEXITY: usize = 400;

/// The API's GraphQL schema.
pub type ApiSchema = Schema<Query, EmptyMutation, EmptySubscription>;

/// The schema with its depth and complexity limits.
pub fn schema() -> ApiSchema {
    Schema::build(Query, EmptyMutation, EmptySubscription)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .finish()
}

/// The schema in GraphQL SDL.
pub fn sdl() -> String {
    schema().sdl()
}

/// Per-request context: who asks, and memberships read once per organization.
pub(crate) struct RequestCtx {
    pub(crate) state: ApiState,
    pub(crate) id: Identity,
    memberships: tokio::sync::Mutex<HashMap<String, Vec<Member>>>,
}

impl RequestCtx {
    pub(crate) fn new(state: ApiState, id: Identity) -> RequestCtx {
        RequestCtx {
            state,
            id,
            memberships: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    async fn may(&self, action: Action, target: &Target<'_>) -> Result<bool, ApiError> {
        let org = target.org();
        let mut cache = self.memberships.lock().await;
        if !cache.contains_key(org) {
            let ms = memberships(&self.state.tenancy, &self.id, org).await?;
            cache.insert(org.to_owned(), ms);
        }
        Ok(is_allowed(&cache[org], &self.id, action, target))
    }

    async fn require(&self, action: Action, target: &Target<'_>) -> async_graphql::Result<()> {
        if self.may(action, target).await.map_err(gql)? {
            Ok(())
        } else {
            Err(gql(ApiError::forbidden(format!(
                "{} may not {action:?} {target:?}",
                self.id.subject
            ))))
        }
    }

    async fn alerts_within(&self, prefix: &str) -> async_graphql::Result<Vec<AlertNode>> {
        let mut out = Vec::new();
        let all = self
            .state
            .engine
            .alerts()
            .await
            .map_err(|e| gql(e.into()))?;
        for a in all {
            if !within(&a.scope, prefix) {
                continue;
            }
            let path = EntityPath::from_key(&a.scope);
            let anc = path_ancestors(&self.state.tenancy, &path)
                .await
                .map_err(gql)?;
            if self
                .may(Action::Read, &path_target(&path, &anc))
                .await
                .map_err(gql)?
            {
                out.push(AlertNode(a));
            }
        }
        Ok(out)
    }
}

/// An API error as a GraphQL field error, its code in `extensions.code`.
fn gql(e: ApiError) -> async_graphql::Error {
    let code = e.code;
    async_graphql::Error::new(e.message).extend_with(|_, x| x.set("code", code))
}

fn engine_err(e: hxb_core::Error) -> async_graphql::Error {
    gql(e.into())
}

fn ctx_of<'a>(ctx: &Context<'a>) -> &'a RequestCtx {
    ctx.data_unchecked::<RequestCtx>()
}

/// One resource amount (`requests.cpu` = `2`).
#[derive(SimpleObject, Debug, Clone)]
pub struct Resource {
    /// Resource name.
    pub name: String,
    /// Canonical Kubernetes quantity.
    pub quantity: String,
}

fn resources(l: &ResourceList) -> Vec<Resource> {
    l.iter()
        .map(|(n, q)| Resource {
            name: n.to_string(),
            quantity: q.to_string(),
        })
        .collect()
}

/// What is used now beside the quota.
#[derive(SimpleObject, Debug, Clone)]
pub struct Usage {
    /// The quota (hard limits).
    pub quota: Vec<Resource>,
    /// In use now.
    pub used: Vec<Resource>,
}

fn reason(s: &EntityStatus) -> Option<String> {
    match s {
        EntityStatus::Error { reason } => Some(reason.clone()),
        _ => None,
    }
}

/// The root query.
#[derive(Debug, Default, Clone, Copy)]
pub struct Query;

#[Object]
impl Query {
    /// Organizations the caller belongs to.
    async fn organizations(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<OrgNode>> {
        let c = ctx_of(ctx);
        let mut out = Vec::new();
        for o in c.state.tenancy.organizations().await.map_err(engine_err)? {
            let t = Target::Organization {
                org: o.name.as_str(),
            };
            if c.may(Action::Read, &t).await.map_err(gql)? {
                out.push(OrgNode(o));
            }
        }
        Ok(out)
    }

    /// One organization (Read on it).
    async fn organization(
        &self,
        ctx: &Context<'_>,
        name: String,
    ) -> async_graphql::Result<Option<OrgNode>> {
        let c = ctx_of(ctx);
        c.require(Action::Read, &Target::Organization { org: &name })
            .await?;
        Ok(Some(OrgNode(
            c.state
                .tenancy
                .organization(&name)
                .await
                .map_err(engine_err)?,
        )))
    }
}

/// An organization.
pub struct OrgNode(Organization);

#[Object(name = "Organization")]
impl OrgNode {
    async fn name(&self) -> &str {
        self.0.name.as_str()
    }
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }
    async fn plan(&self) -> &str {
        self.0.plan.as_str()
    }
    /// Lifecycle phase (`Pending`, `Active`, `Updating`, `Deleting`, `Error`).
    async fn status(&self) -> &str {
        self.0.status.phase()
    }
    /// Why, when the status is `Error`.
    async fn status_reason(&self) -> Option<String> {
        reason(&self.0.status)
    }
    /// Workspaces the caller may read.
    async fn workspaces(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<WsNode>> {
        let c = ctx_of(ctx);
        let org = self.0.name.as_str();
        let mut out = Vec::new();
        for w in c.state.tenancy.workspaces(org).await.map_err(engine_err)? {
            let t = Target::Workspace {
                org,
                ws: w.name.as_str(),
            };
            if c.may(Action::Read, &t).await.map_err(gql)? {
                out.push(WsNode(w));
            }
        }
        Ok(out)
    }
    /// The plan's quota beside the sum of every workspace's use (Manage on the organization).
    async fn usage(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Usage>> {
        let c = ctx_of(ctx);
        let org = self.0.name.as_str();
        c.require(Action::Manage, &Target::Organization { org })
            .await?;
        let t = &c.state.tenancy;
        let quota = t
            .plans()
            .get(self.0.plan.as_str())
            .map(|p| p.quota.clone())
            .unwrap_or_default();
        let mut used = ResourceList::new();
        for w in t.workspaces(org).await.map_err(engine_err)? {
            used = used
                .checked_add(&workspace_used(c, org, w.name.as_str()).await?)
                .map_err(engine_err)?;
        }
        Ok(Some(Usage {
            quota: resources(&quota),
            used: resources(&used),
        }))
    }
    /// Alerts in the organization the caller may read.
    async fn alerts(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<AlertNode>> {
        ctx_of(ctx).alerts_within(self.0.name.as_str()).await
    }
}

async fn workspace_used(
    c: &RequestCtx,
    org: &str,
    ws: &str,
) -> async_graphql::Result<ResourceList> {
    let t = &c.state.tenancy;
    let mut used = ResourceList::new();
    for p in t.projects(org, ws).await.map_err(engine_err)? {
        let u = t.live_usage(&p.namespace).await.map_err(engine_err)?;
        used = used.checked_add(&u).map_err(engine_err)?;
    }
    Ok(used)
}

/// A workspace.
pub struct WsNode(Workspace);

#[Object(name = "Workspace")]
impl WsNode {
    async fn name(&self) -> &str {
        self.0.name.as_str()
    }
    async fn plan(&self) -> &str {
        self.0.plan.as_str()
    }
    /// Lifecycle phase.
    async fn status(&self) -> &str {
        self.0.status.phase()
    }
    /// Why, when the status is `Error`.
    async fn status_reason(&self) -> Option<String> {
        reason(&self.0.status)
    }
    async fn quota(&self) -> Vec<Resource> {
        resources(&self.0.quota)
    }
    /// What its projects use now, beside its quota.
    async fn usage(&self, ctx: &Context<'_>) -> async_graphql::Result<Usage> {
        let c = ctx_of(ctx);
        let used = workspace_used(c, self.0.organization.as_str(), self.0.name.as_str()).await?;
        Ok(Usage {
            quota: resources(&self.0.quota),
            used: resources(&used),
        })
    }
    /// Projects the caller may read.
    async fn projects(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ProjectNode>> {
        let c = ctx_of(ctx);
        let (org, ws) = (self.0.organization.as_str(), self.0.name.as_str());
        let all = c
            .state
            .tenancy
            .projects(org, ws)
            .await
            .map_err(engine_err)?;
        let mut out = Vec::new();
        for p in &all {
            let anc = crate::api::routes::ancestors_in(&all, p.name.as_str());
            let t = Target::Project {
                org,
                ws,
                project: p.name.as_str(),
                ancestors: &anc,
            };
            if c.may(Action::Read, &t).await.map_err(gql)? {
                out.push(ProjectNode(p.clone()));
            }
        }
        Ok(out)
    }
    /// Alerts of this workspace (and its projects) the caller may read.
    async fn alerts(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<AlertNode>> {
        let scope = format!("{}/{}", self.0.organization, self.0.name);
        ctx_of(ctx).alerts_within(&scope).await
    }
}

/// A project.
pub struct ProjectNode(Project);

#[Object(name = "Project")]
impl ProjectNode {
    async fn name(&self) -> &str {
        self.0.name.as_str()
    }
    /// The parent project, for a sub-project.
    async fn parent(&self) -> Option<&str> {
        self.0.parent.as_ref().map(|p| p.as_str())
    }
    /// Its Kubernetes namespace.
    async fn namespace(&self) -> &str {
        &self.0.namespace
    }
    /// Lifecycle phase.
    async fn status(&self) -> &str {
        self.0.status.phase()
    }
    /// Why, when the status is `Error`.
    async fn status_reason(&self) -> Option<String> {
        reason(&self.0.status)
    }
    async fn quota(&self) -> Vec<Resource> {
        resources(&self.0.quota)
    }
    /// What its namespace uses now, beside its quota.
    async fn usage(&self, ctx: &Context<'_>) -> async_graphql::Result<Usage> {
        let t = &ctx_of(ctx).state.tenancy;
        let used = t.live_usage(&self.0.namespace).await.map_err(engine_err)?;
        Ok(Usage {
            quota: resources(&self.0.quota),
            used: resources(&used),
        })
    }
}

/// An alert.
pub struct AlertNode(CoreAlert);

#[Object(name = "Alert")]
impl AlertNode {
    /// Stable id (`scope/rule{labels}`).
    async fn id(&self) -> String {
        self.0.id()
    }
    async fn scope(&self) -> &str {
        &self.0.scope
    }
    async fn rule(&self) -> &str {
        &self.0.rule
    }
    /// `pending`, `firing` or `resolved`.
    async fn state(&self) -> String {
        json_str(&self.0.state)
    }
    /// `info`, `warning` or `critical`.
    async fn severity(&self) -> String {
        json_str(&self.0.severity)
    }
    /// Latest value.
    async fn value(&self) -> f64 {
        self.0.value
    }
    /// When it fired (RFC 3339).
    async fn fired_at(&self) -> Option<String> {
        self.0.fired_at.map(|t| t.to_string())
    }
}

fn json_str<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn sdl_names_the_hierarchy() {
        let sdl = super::sdl();
        for t in [
            "type Organization",
            "type Workspace",
            "type Project",
            "type Alert",
        ] {
            assert!(sdl.contains(t), "{t} in {sdl}");
        }
    }
}
