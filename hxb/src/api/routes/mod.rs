//! The route table: one entry per operation. The router and the OpenAPI document are both
//! built from [`ROUTES`], so neither can list an operation the other lacks.

mod access;
mod apps;
mod events;
mod graphql;
mod monitoring;
mod orgs;
mod projects;
mod workspaces;

use crate::ErrorKind;
use crate::Tenancy;
use crate::core::Member;
use crate::events::EntityPath;
use axum::http::Method;
use axum::routing::MethodRouter;

use crate::api::authz::{self, Action, Target};
use crate::api::error::ApiError;
use crate::api::identity::Identity;
use crate::scaling::{ReplicaRecommendation, ReplicaRequest};

pub(crate) use projects::ancestors_in;

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

/// Generates the JSON schema of a request or response body.
pub type SchemaFn = fn(&mut schemars::SchemaGenerator) -> schemars::Schema;

fn schema<T: schemars::JsonSchema>(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
    g.subschema_for::<T>()
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
    /// JSON schema of the request body (`None`: the operation takes no body).
    pub request: Option<SchemaFn>,
    /// JSON schema of the success body, where the API owns its type (`None`: an engine
    /// type documented by name in the summary, or no body).
    pub response: Option<SchemaFn>,
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
    (request, response): (Option<SchemaFn>, Option<SchemaFn>),
    handler: fn() -> MethodRouter<ApiState>,
) -> Route {
    Route {
        method,
        path,
        operation_id,
        summary,
        success,
        request,
        response,
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
        (None, None),
        orgs::list,
    ),
    route(
        Method::POST,
        "/api/v1/organizations",
        "createOrganization",
        "Create an organization; the caller becomes its owner",
        201,
        (Some(schema::<orgs::NewOrganization>), None),
        orgs::create,
    ),
    route(
        Method::GET,
        ORG,
        "getOrganization",
        "One organization",
        200,
        (None, None),
        orgs::get,
    ),
    route(
        Method::DELETE,
        ORG,
        "deleteOrganization",
        "Delete an organization (owner; `?cascade=true` deletes its workspaces)",
        204,
        (None, None),
        orgs::delete,
    ),
    route(
        Method::GET,
        "/api/v1/organizations/{org}/members",
        "listMembers",
        "Memberships of an organization",
        200,
        (None, None),
        orgs::members,
    ),
    route(
        Method::POST,
        "/api/v1/organizations/{org}/members",
        "addMember",
        "Grant a role at organization, workspace or project level",
        201,
        (Some(schema::<orgs::NewMember>), None),
        orgs::add_member,
    ),
    route(
        Method::DELETE,
        "/api/v1/organizations/{org}/members/{subject}",
        "removeMember",
        "Revoke a membership (`?workspace=&project=` select its scope)",
        204,
        (None, None),
        orgs::remove_member,
    ),
    route(
        Method::GET,
        "/api/v1/organizations/{org}/workspaces",
        "listWorkspaces",
        "Workspaces of an organization the caller can read",
        200,
        (None, None),
        workspaces::list,
    ),
    route(
        Method::POST,
        "/api/v1/organizations/{org}/workspaces",
        "createWorkspace",
        "Create a workspace",
        201,
        (Some(schema::<workspaces::NewWorkspace>), None),
        workspaces::create,
    ),
    route(
        Method::GET,
        WS,
        "getWorkspace",
        "One workspace",
        200,
        (None, None),
        workspaces::get,
    ),
    route(
        Method::DELETE,
        WS,
        "deleteWorkspace",
        "Delete a workspace (`?cascade=true` deletes its projects)",
        204,
        (None, None),
        workspaces::delete,
    ),
    route(
        Method::GET,
        "/api/v1/organizations/{org}/workspaces/{ws}/usage",
        "getWorkspaceUsage",
        "What the workspace's projects use now, beside its quota",
        200,
        (None, Some(schema::<workspaces::WorkspaceUsage>)),
        workspaces::usage,
    ),
    route(
        Method::GET,
        "/api/v1/organizations/{org}/workspaces/{ws}/projects",
        "listProjects",
        "Projects of a workspace the caller can read",
        200,
        (None, None),
        projects::list,
    ),
    route(
        Method::POST,
        "/api/v1/organizations/{org}/workspaces/{ws}/projects",
        "createProject",
        "Create a project, optionally nested under `parent`",
        201,
        (Some(schema::<projects::NewProject>), None),
        projects::create,
    ),
    route(
        Method::GET,
        PRJ,
        "getProject",
        "One project",
        200,
        (None, None),
        projects::get,
    ),
    route(
        Method::DELETE,
        PRJ,
        "deleteProject",
        "Delete a project (`?cascade=true` deletes its sub-projects)",
        204,
        (None, None),
        projects::delete,
    ),
    route(
        Method::GET,
        "/api/v1/organizations/{org}/workspaces/{ws}/projects/{project}/usage",
        "getProjectUsage",
        "What the project's namespace uses now",
        200,
        (
            None,
            Some(schema::<std::collections::BTreeMap<String, String>>),
        ),
        projects::usage,
    ),
    route(
        Method::POST,
        "/api/v1/organizations/{org}/invitations",
        "createInvitation",
        "Invite a subject to a role (token returned)",
        201,
        (Some(schema::<access::NewInvitation>), None),
        access::invite,
    ),
    route(
        Method::POST,
        "/api/v1/invitations/{token}/accept",
        "acceptInvitation",
        "Accept an invitation addressed to the caller",
        200,
        (None, None),
        access::accept,
    ),
    route(
        Method::GET,
        "/api/v1/organizations/{org}/workspaces/{ws}/kubeconfig",
        "getKubeconfig",
        "The caller's kubeconfig scoped to the workspace (YAML)",
        200,
        (None, None),
        access::kubeconfig,
    ),
    route(
        Method::GET,
        APPS,
        "listApplications",
        "Applications of a project",
        200,
        (None, None),
        apps::list,
    ),
    route(
        Method::POST,
        APPS,
        "createApplication",
        "Deploy an application (stateless, stateful or cron job)",
        201,
        (Some(schema::<apps::NewApp>), None),
        apps::create,
    ),
    route(
        Method::POST,
        "/api/v1/organizations/{org}/workspaces/{ws}/projects/{project}/applications/{app}/scale",
        "scaleApplication",
        "Set an application's replicas (quota-checked)",
        200,
        (Some(schema::<apps::Scale>), None),
        apps::scale,
    ),
    route(
        Method::DELETE,
        "/api/v1/organizations/{org}/workspaces/{ws}/projects/{project}/applications/{app}",
        "deleteApplication",
        "Delete an application",
        204,
        (None, None),
        apps::delete,
    ),
    route(
        Method::POST,
        "/api/v1/organizations/{org}/workspaces/{ws}/scaling/recommend",
        "recommendReplicas",
        "Replica count an HPA with a CPU utilization target would set (Kubernetes maths)",
        200,
        (
            Some(schema::<ReplicaRequest>),
            Some(schema::<ReplicaRecommendation>),
        ),
        monitoring::recommend,
    ),
    route(
        Method::POST,
        "/api/v1/organizations/{org}/workspaces/{ws}/forecast",
        "forecast",
        "Forecast a series with the production forecaster",
        200,
        (
            Some(schema::<monitoring::ForecastRequest>),
            Some(schema::<monitoring::ForecastResponse>),
        ),
        monitoring::forecast,
    ),
    route(
        Method::POST,
        "/api/v1/organizations/{org}/workspaces/{ws}/anomalies",
        "detectAnomalies",
        "Anomaly scores of a series, one per point",
        200,
        (
            Some(schema::<monitoring::AnomalyRequest>),
            Some(schema::<monitoring::AnomalyResponse>),
        ),
        monitoring::anomalies,
    ),
    route(
        Method::GET,
        "/api/v1/organizations/{org}/workspaces/{ws}/projects/{project}/analysis",
        "analyzeProject",
        "Read-only diagnosis of the project's namespace (findings)",
        200,
        (None, None),
        monitoring::analysis,
    ),
    route(
        Method::GET,
        "/api/v1/organizations/{org}/workspaces/{ws}/alerts",
        "listAlerts",
        "Alerts of the workspace and its projects",
        200,
        (None, None),
        monitoring::alerts,
    ),
    route(
        Method::POST,
        "/api/v1/organizations/{org}/workspaces/{ws}/alerts/acknowledge",
        "acknowledgeAlert",
        "Acknowledge a pending or firing alert of the workspace",
        200,
        (Some(schema::<monitoring::Acknowledge>), None),
        monitoring::acknowledge,
    ),
    route(
        Method::GET,
        "/api/v1/organizations/{org}/workspaces/{ws}/health",
        "getWorkspaceHealth",
        "Health summary of the workspace (firing alerts per severity)",
        200,
        (None, None),
        monitoring::health,
    ),
    route(
        Method::GET,
        "/api/v1/organizations/{org}/workspaces/{ws}/incidents",
        "listIncidents",
        "Incidents of the workspace with ranked root causes",
        200,
        (None, None),
        monitoring::incidents,
    ),
    route(
        Method::POST,
        "/api/v1/graphql",
        "graphql",
        "GraphQL over the hierarchy (organization → workspaces → projects, usage, quota, alerts)",
        200,
        (Some(schema::<graphql::GraphQlBody>), None),
        graphql::query,
    ),
    route(
        Method::GET,
        "/api/v1/events",
        "streamEvents",
        "WebSocket stream of engine events the caller may see (`?kinds=&organization=&workspace=`)",
        101,
        (None, None),
        events::stream,
    ),
];

/// The organization's memberships that may apply to `id`: the stored ones (an organization
/// that does not exist has none, so a stranger is refused the same way whether it exists or
/// not) and the identity's configured bindings in it.
pub(crate) async fn memberships(
    t: &Tenancy,
    id: &Identity,
    org: &str,
) -> Result<Vec<Member>, ApiError> {
    let mut ms = match t.members(org).await {
        Ok(m) => m,
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::InvalidInput) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    ms.extend(id.bindings_in(org).cloned());
    Ok(ms)
}

/// Refuse with 403 unless `id` may do `action` on `target`.
pub(crate) async fn authorize(
    t: &Tenancy,
    id: &Identity,
    action: Action,
    target: &Target<'_>,
) -> Result<Vec<Member>, ApiError> {
    let ms = memberships(t, id, target.org()).await?;
    if authz::is_allowed(&ms, id, action, target) {
        Ok(ms)
    } else {
        Err(ApiError::forbidden(format!(
            "{} may not {action:?} {target:?}",
            id.subject
        )))
    }
}

/// Whether `scope` (`org[/ws[/project]]`) is `prefix` or lies under it.
pub(crate) fn within(scope: &str, prefix: &str) -> bool {
    scope
        .strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The ancestors of the project `path` names (none when it names no project, or its
/// workspace cannot be read).
pub(crate) async fn path_ancestors(
    t: &Tenancy,
    path: &EntityPath,
) -> Result<Vec<String>, ApiError> {
    match (&path.workspace, &path.project) {
        (Some(ws), Some(project)) => {
            projects::ancestors_or_none(t, &path.organization, ws, project).await
        }
        _ => Ok(Vec::new()),
    }
}

/// What `path` names, as an authorisation target (`ancestors` from [`path_ancestors`]).
pub(crate) fn path_target<'a>(path: &'a EntityPath, ancestors: &'a [String]) -> Target<'a> {
    let org = path.organization.as_str();
    match (&path.workspace, &path.project) {
        (Some(ws), Some(project)) => Target::Project {
            org,
            ws,
            project,
            ancestors,
        },
        (Some(ws), None) => Target::Workspace { org, ws },
        _ => Target::Organization { org },
    }
}

/// `?cascade=true` on deletes.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Cascade {
    #[serde(default)]
    pub cascade: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_respects_name_boundaries() {
        assert!(within("acme/dev", "acme/dev"));
        assert!(within("acme/dev/web", "acme/dev"));
        assert!(!within("acme/devops", "acme/dev"));
        assert!(!within("acme", "acme/dev"));
    }

    #[test]
    fn path_target_names_the_deepest_level() {
        let anc = vec!["parent".to_owned()];
        for (key, want) in [
            ("acme", Target::Organization { org: "acme" }),
            (
                "acme/dev",
                Target::Workspace {
                    org: "acme",
                    ws: "dev",
                },
            ),
            (
                "acme/dev/web",
                Target::Project {
                    org: "acme",
                    ws: "dev",
                    project: "web",
                    ancestors: &anc,
                },
            ),
        ] {
            let path = EntityPath::from_key(key);
            assert_eq!(path_target(&path, &anc), want, "{key}");
        }
    }
}
