//! What the fleet needs from the tenancy engine to move a workspace.

use hxb_core::{Name, Result};

use super::Tenancy;
use super::state::OrgSnapshot;
use super::sync::Part;
use crate::reconcile::RetryPolicy;
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

    /// The retry policy for cluster calls.
    pub(crate) fn retry_policy(&self) -> RetryPolicy {
        self.inner.retry
    }
}
