//! The tenants of the tour: two organizations, a shared-plan and a dedicated-plan workspace,
//! nested projects, members with different roles and the applications they run.

use hxb::prelude::*;
use hxb::tenancy::plans::quota;
use hxb_core::metrics::load::{Incident, LoadProfile};

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;
/// Milliseconds in an hour.
pub const HOUR_MS: i64 = 3_600_000;
/// Days of incident-free history before the simulated day (what the forecaster learns from).
pub const HISTORY_DAYS: i64 = 2;

/// One simulated application and where it lives.
#[derive(Debug, Clone)]
pub struct AppSpec {
    /// Organization.
    pub org: &'static str,
    /// Workspace.
    pub ws: &'static str,
    /// Project.
    pub project: &'static str,
    /// Application (and Deployment) name.
    pub name: &'static str,
    /// Requested cpu per replica, in cores.
    pub cpu_request: f64,
    /// Requested memory per replica.
    pub memory_request: &'static str,
    /// Replicas at the start and the HPA bounds.
    pub min_replicas: i32,
    /// HPA maximum.
    pub max_replicas: i32,
    /// Its incident-free traffic (time 0 = midnight, `HISTORY_DAYS` before the simulated day).
    pub base: LoadProfile,
    /// What goes wrong during the simulated day.
    pub incidents: Vec<Incident>,
}

impl AppSpec {
    /// `org/ws`, the scope incidents are grouped by.
    pub fn scope(&self) -> String {
        format!("{}/{}", self.org, self.ws)
    }
    /// The traffic with its incidents; a memory leak restarts at `leak_from` when given (a
    /// restart frees the leaked memory, the leak itself remains).
    pub fn profile(&self, leak_from: Option<i64>) -> LoadProfile {
        let mut p = self.base.clone();
        for i in &self.incidents {
            let i = match (*i, leak_from) {
                (Incident::MemoryLeak { mib_per_hour, .. }, Some(start_ms)) => {
                    Incident::MemoryLeak {
                        start_ms,
                        mib_per_hour,
                    }
                }
                (i, _) => i,
            };
            p = p.incident(i);
        }
        p
    }
    /// `org/project/app`.
    pub fn label(&self) -> String {
        format!("{}/{}/{}", self.org, self.project, self.name)
    }
}

/// Who does what in the tour.
pub struct People {
    /// Asks for remediations (developer of the shop workspace).
    pub operator: &'static str,
    /// Approves them (organization admin).
    pub approver: &'static str,
    /// May only look (viewer of one project).
    pub viewer: &'static str,
    /// Owns the organization.
    pub owner: &'static str,
}

/// The people of acme.
pub const PEOPLE: People = People {
    operator: "alice@acme.example",
    approver: "bob@acme.example",
    viewer: "carol@acme.example",
    owner: "dana@acme.example",
};

/// The applications and their traffic, incidents included.
pub fn apps() -> Vec<AppSpec> {
    let day0 = HISTORY_DAYS * DAY_MS;
    vec![
        AppSpec {
            org: "acme",
            ws: "shop",
            project: "storefront",
            name: "web",
            cpu_request: 0.25,
            memory_request: "256Mi",
            min_replicas: 2,
            max_replicas: 16,
            base: LoadProfile::diurnal(200.0, 0.6)
                .seed(11)
                .cpu(0.05, 0.004)
                .memory(200.0, 512.0),
            incidents: vec![Incident::TrafficSpike {
                start_ms: day0 + 17 * HOUR_MS,
                duration_ms: HOUR_MS / 2,
                factor: 3.0,
            }],
        },
        AppSpec {
            org: "acme",
            ws: "shop",
            project: "checkout",
            name: "api",
            cpu_request: 0.2,
            memory_request: "512Mi",
            min_replicas: 2,
            max_replicas: 5,
            base: LoadProfile::diurnal(60.0, 0.5)
                .seed(23)
                .cpu(0.05, 0.005)
                .memory(280.0, 1024.0),
            incidents: vec![Incident::MemoryLeak {
                start_ms: day0 + 6 * HOUR_MS,
                mib_per_hour: 110.0,
            }],
        },
        AppSpec {
            org: "acme",
            ws: "ml",
            project: "inference",
            name: "model",
            cpu_request: 0.5,
            memory_request: "1Gi",
            min_replicas: 1,
            max_replicas: 4,
            base: LoadProfile::diurnal(40.0, 0.7)
                .seed(37)
                .peak_hour(11.0)
                .cpu(0.1, 0.012)
                .memory(700.0, 1024.0),
            incidents: vec![],
        },
        AppSpec {
            org: "globex",
            ws: "dev",
            project: "blog",
            name: "blog",
            cpu_request: 0.1,
            memory_request: "128Mi",
            min_replicas: 1,
            max_replicas: 4,
            base: LoadProfile::diurnal(15.0, 0.8)
                .seed(41)
                .peak_hour(20.0)
                .cpu(0.02, 0.003)
                .memory(90.0, 128.0),
            incidents: vec![],
        },
    ]
}

/// Create the organizations, workspaces, projects, members and applications.
pub async fn tenants(engine: &Engine, apps: &[AppSpec]) -> Result<()> {
    let t = engine.tenancy()?;
    t.create_organization("acme")
        .plan("professional")
        .display_name("Acme Corp")
        .execute()
        .await?;
    t.create_workspace("acme", "shop")
        .quota(quota("6", "12Gi", "50Gi", "60", "20", "10")?)
        .execute()
        .await?;
    t.create_workspace("acme", "ml")
        .plan("professional-dedicated")
        .quota(quota("2", "4Gi", "50Gi", "30", "10", "5")?)
        .execute()
        .await?;
    t.create_project("acme", "shop", "storefront")
        .quota(quota("4", "8Gi", "20Gi", "40", "10", "4")?)
        .execute()
        .await?;
    t.create_project("acme", "shop", "checkout")
        .parent("storefront")
        .quota(quota("1", "3Gi", "10Gi", "10", "4", "2")?)
        .execute()
        .await?;
    t.create_project("acme", "ml", "inference")
        .quota(quota("2", "4Gi", "20Gi", "20", "4", "2")?)
        .execute()
        .await?;
    t.add_member("acme", PEOPLE.owner)
        .role("owner")
        .execute()
        .await?;
    t.add_member("acme", PEOPLE.approver)
        .role("admin")
        .execute()
        .await?;
    t.add_member("acme", PEOPLE.operator)
        .workspace("shop")
        .role("developer")
        .execute()
        .await?;
    t.add_member("acme", PEOPLE.viewer)
        .workspace("shop")
        .project("storefront")
        .role("viewer")
        .execute()
        .await?;

    t.create_organization("globex")
        .plan("starter")
        .display_name("Globex")
        .execute()
        .await?;
    t.create_workspace("globex", "dev")
        .quota(quota("1", "2Gi", "10Gi", "10", "5", "2")?)
        .execute()
        .await?;
    t.create_project("globex", "dev", "blog")
        .quota(quota("1", "2Gi", "10Gi", "10", "5", "2")?)
        .execute()
        .await?;
    t.add_member("globex", "dave@globex.example")
        .role("owner")
        .execute()
        .await?;

    for a in apps {
        let requests = ResourceList::parse([
            (
                "cpu",
                format!("{}m", (a.cpu_request * 1000.0).round()).as_str(),
            ),
            ("memory", a.memory_request),
        ])?;
        t.create_app(a.org, a.ws, a.project, a.name)
            .stateless("registry.example/app:1.0")
            .replicas(a.min_replicas)
            .port(8080)
            .requests(requests)
            .execute()
            .await?;
    }
    Ok(())
}
