//! What the fleet needs from the tenancy engine to move a workspace.

use hxb_core::{Name, Result};

use super::Tenancy;
use super::state::OrgSnapshot;
use super::sync::Part;
use crate::reconcile::{ReconcileReport, RetryPolicy};
use crate::render::DesiredObject;

impl Tenancy {
    /// The desired objects of one workspace, as reconcile would write them.
    pub(crate) async fn workspace_desired(
        &self,
        org: &str,
        ws: &Name,
    ) -> Result<Vec<DesiredObject>> {
        let snap = OrgSnapshot::load(self.store().as_ref(), org).await?;
        self.render_snapshot(&snap, &Part::Workspace(ws.clone()))
    }

    /// Reconcile one workspace (objects, node pool, statuses); the caller holds the
    /// organization lock.
    pub(crate) async fn sync_workspace(&self, org: &str, ws: &Name) -> Result<ReconcileReport> {
        self.sync(org, Part::Workspace(ws.clone())).await
    }

    /// The retry policy for cluster calls.
    pub(crate) fn retry_policy(&self) -> RetryPolicy {
        self.inner.retry
    }
}
