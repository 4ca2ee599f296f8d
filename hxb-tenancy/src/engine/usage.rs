//! Observed usage → the usage log → usage and cost reports (see [`crate::metering`]).
//!
//! [`Tenancy::record_usage`] samples what every live project's namespace uses (its
//! ResourceQuota `status.used`, i.e. requests admitted by the cluster) and appends one sample
//! per project to the store's `usage` log; call it periodically (e.g. every minute) from the
//! caller's runtime. [`Tenancy::usage`] integrates the samples of a billing period. Cost uses
//! the organization's and workspaces' *current* plans for the whole period.

use hxb_core::store::Batch;
use hxb_core::{Error, Result, Timestamp};

use super::Tenancy;
use super::state::{ORGS, OrgSnapshot, encode};
use crate::metering::{self, Cost, Sample, UsageReport};

/// The usage log.
pub const USAGE_LOG: &str = "usage";

impl Tenancy {
    /// Sample every live project's usage now and append it to the usage log. Returns how many
    /// samples were recorded.
    pub async fn record_usage(&self) -> Result<usize> {
        let now = self.now();
        let mut batch = Batch::new();
        let mut n = 0;
        for org in self.store().list(ORGS, "").await? {
            let snap = OrgSnapshot::load(self.store().as_ref(), &org.key).await?;
            for (p, _) in snap.projects.values() {
                if p.status == hxb_core::EntityStatus::Deleting {
                    continue;
                }
                let used = self.live_usage(&p.namespace).await?;
                let s = Sample {
                    at: now,
                    organization: p.organization.to_string(),
                    workspace: p.workspace.to_string(),
                    project: p.name.to_string(),
                    used: used.only(&["requests.cpu", "requests.memory", "requests.storage"]),
                };
                batch = batch.append(USAGE_LOG, encode(&s)?);
                n += 1;
            }
        }
        if n > 0 {
            self.store().commit(batch).await?;
        }
        Ok(n)
    }

    /// Usage of organization `org` over `[from, to)` per project, workspace and in total, and
    /// what the period costs.
    pub async fn usage(
        &self,
        org: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<(UsageReport, Cost)> {
        if to <= from {
            return Err(Error::invalid("period", "must end after it starts"));
        }
        let snap = OrgSnapshot::load(self.store().as_ref(), org).await?;
        let mut samples = Vec::new();
        let mut after = 0;
        loop {
            let page = self.store().read_log(USAGE_LOG, after, 10_000).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for e in page {
                let s: Sample = serde_json::from_value(e.entry).map_err(|err| {
                    Error::internal(format!("corrupt usage sample {}: {err}", e.seq))
                })?;
                if s.organization == org && s.at < to {
                    samples.push(s);
                }
            }
        }
        let report = metering::report(org, &samples, from, to);
        let org_plan = self.plans().get(snap.org.0.plan.as_str())?;
        let ws_plans = snap
            .workspaces
            .values()
            .map(|(w, _)| Ok((w.name.to_string(), self.plans().get(w.plan.as_str())?)))
            .collect::<Result<Vec<_>>>()?;
        let secs = to.as_second() - from.as_second();
        let hours = (secs + 3599) / 3600;
        Ok((report, metering::cost(org_plan, &ws_plans, hours)?))
    }
}
