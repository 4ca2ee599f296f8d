//! Usage and cost: cpu-hours, memory-GiB-hours and storage-GiB-days from observed usage, and
//! cost from plan prices. Pure functions over samples.
//!
//! A sample is what one project used at one instant. Usage between samples is a step
//! function: each sample holds until the next one (or the end of the period), clipped to the
//! billing period; before the first sample in a period nothing is counted. Integration is
//! exact (nano-units × seconds in `i128`) and converted to `f64` only in the result.
//!
//! Cost: the organization's plan price and each dedicated workspace's node pool are charged
//! per hour at `monthly price / 720`, prorated to the period.

use std::collections::BTreeMap;

use hxb_core::{Plan, Quantity, ResourceList, Timestamp};
use serde::{Deserialize, Serialize};

/// Hours in a billing month, by convention.
pub const HOURS_PER_MONTH: i64 = 720;

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// One observation of a project's usage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    /// When.
    pub at: Timestamp,
    /// Organization.
    pub organization: String,
    /// Workspace.
    pub workspace: String,
    /// Project.
    pub project: String,
    /// What it used (ResourceQuota names: `requests.cpu`, `requests.memory`,
    /// `requests.storage`).
    pub used: ResourceList,
}

/// Integrated usage over a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// CPU core-hours.
    pub cpu_hours: f64,
    /// Memory GiB-hours.
    pub memory_gib_hours: f64,
    /// Storage GiB-days.
    pub storage_gib_days: f64,
}

impl Usage {
    fn add(&mut self, o: &Usage) {
        self.cpu_hours += o.cpu_hours;
        self.memory_gib_hours += o.memory_gib_hours;
        self.storage_gib_days += o.storage_gib_days;
    }
}

fn nanos(list: &ResourceList, name: &str) -> i128 {
    list.get_or_zero(name).nanos()
}

/// Integrate one project's samples (any order) over `[from, to)`.
pub fn integrate(samples: &[&Sample], from: Timestamp, to: Timestamp) -> Usage {
    let mut sorted: Vec<&Sample> = samples.to_vec();
    sorted.sort_by_key(|s| s.at);
    // Σ value-nanos × seconds per resource
    let (mut cpu, mut mem, mut sto) = (0i128, 0i128, 0i128);
    for (i, s) in sorted.iter().enumerate() {
        let start = s.at.max(from);
        let end = sorted.get(i + 1).map_or(to, |n| n.at).min(to);
        if end <= start {
            continue;
        }
        let secs = i128::from(end.as_second() - start.as_second());
        cpu += nanos(&s.used, "requests.cpu") * secs;
        mem += nanos(&s.used, "requests.memory") * secs;
        sto += nanos(&s.used, "requests.storage") * secs;
    }
    let per = |v: i128, unit_secs: f64, scale: f64| v as f64 / 1e9 / unit_secs / scale;
    Usage {
        cpu_hours: per(cpu, 3600.0, 1.0),
        memory_gib_hours: per(mem, 3600.0, GIB),
        storage_gib_days: per(sto, 86400.0, GIB),
    }
}

/// Usage of one organization for one period, by project, workspace and in total.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UsageReport {
    /// Per `(workspace, project)`.
    pub projects: BTreeMap<(String, String), Usage>,
    /// Per workspace (Σ of its projects).
    pub workspaces: BTreeMap<String, Usage>,
    /// The organization (Σ of everything).
    pub organization: Usage,
}

/// Aggregate `samples` of organization `org` over `[from, to)`.
pub fn report(org: &str, samples: &[Sample], from: Timestamp, to: Timestamp) -> UsageReport {
    let mut by_project: BTreeMap<(String, String), Vec<&Sample>> = BTreeMap::new();
    for s in samples.iter().filter(|s| s.organization == org) {
        by_project
            .entry((s.workspace.clone(), s.project.clone()))
            .or_default()
            .push(s);
    }
    let mut r = UsageReport::default();
    for (key, list) in by_project {
        let u = integrate(&list, from, to);
        r.workspaces.entry(key.0.clone()).or_default().add(&u);
        r.organization.add(&u);
        r.projects.insert(key, u);
    }
    r
}

/// What a period costs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cost {
    /// The organization plan, prorated.
    pub plan: Quantity,
    /// Dedicated node pools, per workspace: node price / 720 × nodes × hours.
    pub nodes: BTreeMap<String, Quantity>,
    /// Sum.
    pub total: Quantity,
}

/// Cost of `hours` of an organization on `org_plan` with the given dedicated workspaces
/// (`(workspace, plan)`; shared plans cost nothing extra). Prices are exact quantities,
/// rounded up to the quantity's precision.
pub fn cost(org_plan: &Plan, workspaces: &[(String, &Plan)], hours: i64) -> hxb_core::Result<Cost> {
    let plan = org_plan
        .monthly_price
        .checked_mul_ratio(hours, HOURS_PER_MONTH)?;
    let mut nodes = BTreeMap::new();
    let mut total = plan;
    for (ws, p) in workspaces {
        if let Some(np) = &p.node_plan {
            let c = np
                .monthly_price
                .checked_mul_ratio(hours * i64::from(np.nodes), HOURS_PER_MONTH)?;
            total = total.checked_add(&c)?;
            nodes.insert(ws.clone(), c);
        }
    }
    Ok(Cost { plan, nodes, total })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plans::PlanCatalog;

    fn sample(at: i64, cpu: &str, mem: &str, sto: &str) -> Sample {
        Sample {
            at: Timestamp::from_second(at).unwrap(),
            organization: "acme".into(),
            workspace: "dev".into(),
            project: "web".into(),
            used: ResourceList::parse([
                ("requests.cpu", cpu),
                ("requests.memory", mem),
                ("requests.storage", sto),
            ])
            .unwrap(),
        }
    }

    #[test]
    fn step_integration_is_exact_and_clipped() {
        let t = |s| Timestamp::from_second(s).unwrap();
        let a = sample(0, "2", "4Gi", "10Gi");
        let b = sample(3600, "500m", "1Gi", "10Gi");
        let u = integrate(&[&b, &a], t(0), t(7200));
        assert_eq!(u.cpu_hours, 2.5);
        assert_eq!(u.memory_gib_hours, 5.0);
        assert!((u.storage_gib_days - 10.0 * 2.0 / 24.0).abs() < 1e-12);
        // clipped to the period; nothing before the first sample
        let u = integrate(&[&a, &b], t(1800), t(5400));
        assert_eq!(u.cpu_hours, 1.0 + 0.25);
        assert_eq!(integrate(&[&b], t(0), t(3600)), Usage::default());
    }

    #[test]
    fn reports_roll_up_and_ignore_other_organizations() {
        let t = |s| Timestamp::from_second(s).unwrap();
        let mut other = sample(0, "8", "8Gi", "0");
        other.organization = "globex".into();
        let mut db = sample(0, "1", "0", "0");
        db.project = "db".into();
        let r = report(
            "acme",
            &[sample(0, "2", "0", "0"), db, other],
            t(0),
            t(3600),
        );
        assert_eq!(r.projects.len(), 2);
        assert_eq!(r.workspaces["dev"].cpu_hours, 3.0);
        assert_eq!(r.organization.cpu_hours, 3.0);
    }

    #[test]
    fn cost_is_monthly_price_over_720_per_hour() {
        let c = PlanCatalog::defaults();
        let ent = c.get("enterprise").unwrap();
        let ded = c.get("enterprise-dedicated").unwrap(); // 3 × L at 600/month
        let r = cost(
            ent,
            &[
                ("dev".into(), ded),
                ("prod".into(), c.get("enterprise").unwrap()),
            ],
            72,
        )
        .unwrap();
        assert_eq!(r.plan, "49.9".parse::<Quantity>().unwrap()); // 499 × 72 / 720
        assert_eq!(r.nodes["dev"], Quantity::from_int(180)); // 600 × 3 × 72 / 720
        assert!(!r.nodes.contains_key("prod"));
        assert_eq!(r.total, "229.9".parse::<Quantity>().unwrap());
    }
}
