//! The route table: one entry per operation. The router and the OpenAPI document are both
//! built from [`ROUTES`], so neither can list an operation the other lacks.

mod access;
mod apps;
mod events;
mod graphql;
mod orgs;
mod projects;
mod workspaces;

use crate::ErrorKind;
use crate::Tenancy;
use crate::core::Member;
use axum::http::Method;
use axum::routing::MethodRouter;

use crate::api::authz::{self, Action, Target};
use crate::api::error::ApiError;
use crate::api::identity::Identity;

pub(crate) use projects::{ancestors_in, ancestors_or_none as project_ancestors};

/// Shared state of the router's handlers.
#[derive(Clone)]
pub struct ApiState {
    pub(crate) engine: crate::Engine,
    pub(crate) tenancy: Tenancy,
    pub(crate) graphql: crate::api::graphql::ApiSchema,
}

impl std::fmt::Debug for ApiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiState")
            .field("engine", &self.engine)
            .finish_non_exhaustive()
    }
}

/// One operation of the API.
#[derive(Clone)]
pub struct Route {
    /// HTTP method.
    pub method: Method,
    /// Path with `{param}` placeholders (axum 0.8 / OpenAPI syntax).
    pub path: &'static str,
    /// OpenAPI `operationId`.
    pub operation_id: &'static str,
    /// One-line summary.
    pub summary: &'static str,
    /// Success status.
    pub success: u16,
    /// Whether the operation takes a JSON body.
    pub has_body: bool,
    pub(crate) handler: fn() -> MethodRouter<ApiState>,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

const fn route(
    method: Method,
    path: &'static str,
    operation_id: &'static str,
    summary: &'static str,
    success: u16,
    has_body: bool,
    handler: fn() -> MethodRouter<ApiState>,
) -> Route {
    Route {
        method,
        path,
        operation_id,
        summary,
        success,
        has_body,
        handler,
    }
}

const ORG: &str = "/api/v1/organizations/{org}";
const WS: &str = "/api/v1/organizations/{org}/workspaces/{ws}";
const APPS: &str = "/api/v1/organizations/{org}/workspaces/{ws}/projects/{project}/applications";
const PRJ: &str = "/api/v1/organizations/{org}/workspaces/{ws}/projects/{project}";

/// Every operation of the API.
pub static ROUTES: &[Route] = &[
    route(
        Method::GET,
        "/api/v1/organizations",
        "listOrganizations",
        "Organizations the caller belongs to",
        200,
        false,
        orgs::list,
    ),
    route(
        Method::POST,
        "/api/v1/organizations",
        "createOrganization",
        "Create an organization; the caller becomes its owner",
        201,
        true,
        orgs::create,
    ),
    route(
        Method::GET,
        ORG,
        "getOrganization",
        "One organization",
        200,
        false,
        orgs::get,
    ),
    route(
        Method::DELETE,
        ORG,
        "deleteOrganization",
        "Delete an organization (owner; `?cascade=true` deletes its workspaces)",
        204,
        false,
        orgs::delete,
    ),
    route(
        Method::GET,
        "/api/v1/organizations/{org}/members",
        "listMembers",
        "Memberships of an organization",
        200,
        false,
        orgs::members,
    ),
    route(
        Method::POST,
        "/api/v1/organizations/{org}/members",
        "addMember",
        "Grant a role at organization, workspace or project level",
        201,
        true,
        orgs::add_member,
    ),
    route(
        Method::DELETE,
        "/api/v1/organizations/{org}/members/{subject}",
        "removeMember",
        "Revoke a membership (`?workspace=&project=` select its scope)",
        204,
        false,
        orgs::remove_member,
    ),
    route(
        Method::GET,
        "/api/v1/organizations/{org}/workspaces",
        "listWorkspaces",
        "Workspaces of an organization the caller can read",
        200,
        false,
        workspaces::list,
    ),
    route(
        Method::POST,
        "/api/v1/organizations/{org}/workspaces",
        "createWorkspace",
        "Create a workspace",
        201,
        true,
        workspaces::create,
    ),
    route(
        Method::GET,
        WS,
        "getWorkspace",
        "One workspace",
        200,
        false,
        workspaces::get,
    ),
    route(
        Method::DELETE,
        WS,
        "deleteWorkspace",
        "Delete a workspace (`?cascade=true` deletes its projects)",
        204,
        false,
        workspaces::delete,
    ),
    route(
        Method::GET,
        "/api/v1/organizations/{org}/workspaces/{ws}/usage",
        "getWorkspaceUsage",
        "What the workspace's projects use now, beside its quota",
        200,
        false,
        workspaces::usage,
    ),
    route(
        Method::GET,
        "/api/v1/organizations/{org}/workspaces/{ws}/projects",
        "listProjects",
        "Projects of a workspace the caller can read",
        200,
        false,
        projects::list,
    ),
    route(
        Method::POST,
        "/api/v1/organizations/{org}/workspaces/{ws}/projects",
        "createProject",
        "Create a project, optionally nested under `parent`",
        201,
        true,
        projects::create,
    ),
    route(
        Method::GET,
        PRJ,
        "getProject",
        "One project",
        200,
        false,
        projects::get,
    ),
    route(
        Method::DELETE,
        PRJ,
        "deleteProject",
        "Delete a project (`?cascade=true` deletes its sub-projects)",
        204,
        false,
        projects::delete,
    ),
    route(
        Method::GET,
        "/api/v1/organizations/{org}/workspaces/{ws}/projects/{project}/usage",
        "getProjectUsage",
        "What the project's namespace uses now",
        200,
        false,
        projects::usage,
    ),
    route(
        Method::POST,
        "/api/v1/organizations/{org}/invitations",
        "createInvitation",
        "Invite a subject to a role (token returned)",
        201,
        true,
        access::invite,
    ),
    route(
        Method::POST,
        "/api/v1/invitations/{token}/accept",
        "acceptInvitation",
        "Accept an invitation addressed to the caller",
        200,
        false,
        access::accept,
    ),
    route(
        Method::GET,
        "/api/v1/organizations/{org}/workspaces/{ws}/kubeconfig",
        "getKubeconfig",
        "The caller's kubeconfig scoped to the workspace (YAML)",
        200,
        false,
        access::kubeconfig,
    ),
    route(
        Method::GET,
        APPS,
        "listApplications",
        "Applications of a project",
        200,
        false,
        apps::list,
    ),
    route(
        Method::POST,
        APPS,
        "createApplication",
        "Deploy an application (stateless, stateful or cron job)",
        201,
        true,
        apps::create,
    ),
    route(
        Method::POST,
        "/api/v1/organizations/{org}/workspaces/{ws}/projects/{project}/applications/{app}/scale",
        "scaleApplication",
        "Set an application's replicas (quota-checked)",
        200,
        true,
        apps::scale,
    ),
    route(
        Method::DELETE,
        "/api/v1/organizations/{org}/workspaces/{ws}/projects/{project}/applications/{app}",
        "deleteApplication",
        "Delete an application",
        204,
        false,
        apps::delete,
    ),
    route(
        Method::POST,
        "/api/v1/graphql",
        "graphql",
        "GraphQL over the hierarchy (organization → workspaces → projects, usage, quota, alerts)",
        200,
        true,
        graphql::query,
    ),
    route(
        Method::GET,
        "/api/v1/events",
        "streamEvents",
        "WebSocket stream of engine events the caller may see (`?kinds=&organization=&workspace=`)",
        101,
        false,
        events::stream,
    ),
];

/// The organization's memberships; an organization that does not exist has none (so a
/// stranger is refused the same way whether it exists or not).
pub(crate) async fn memberships(t: &Tenancy, org: &str) -> Result<Vec<Member>, ApiError> {
    match t.members(org).await {
        Ok(m) => Ok(m),
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::InvalidInput) => {
            Ok(Vec::new())
        }
        Err(e) => Err(e.into()),
    }
}

/// Refuse with 403 unless `id` may do `action` on `target`.
pub(crate) async fn authorize(
    t: &Tenancy,
    id: &Identity,
    action: Action,
    target: &Target<'_>,
) -> Result<Vec<Member>, ApiError> {
    let ms = memberships(t, org_of(target)).await?;
    if authz::is_allowed(&ms, id, action, target) {
        Ok(ms)
    } else {
        Err(ApiError::forbidden(format!(
            "{} may not {action:?} {target:?}",
            id.subject
        )))
    }
}

fn org_of<'a>(t: &Target<'a>) -> &'a str {
    match *t {
        Target::Organization { org }
        | Target::Workspace { org, .. }
        | Target::Project { org, .. } => org,
    }
}

/// `?cascade=true` on deletes.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Cascade {
    #[serde(default)]
    pub cascade: bool,
}
