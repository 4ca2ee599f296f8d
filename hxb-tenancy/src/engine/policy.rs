//! Plan policy in the engine (feature `policy`): namespace labels come from the workspace's
//! plan (applied when the snapshot is rendered), and everything the engine deploys — applications
//! on create and change, a workspace's applications on a plan change, manifests written into
//! tenant namespaces — passes [`policy::admit`](crate::policy::admit) before any write.

use hxb_core::cluster::DynamicObject;
use hxb_core::{Name, Result};

use super::Tenancy;
use super::state::{self, NAMESPACES, OrgSnapshot, WORKSPACES};
use crate::apps::{Application, Placement, render_app};
use crate::policy::{ManifestReview, PlanPolicy, admit, review};

impl Tenancy {
    /// The policy of plan `plan` in this engine's catalogue.
    pub fn plan_policy(&self, plan: &str) -> Result<PlanPolicy> {
        self.plans().policy(plan)
    }

    /// Admit `apps` (rendered into their project namespaces) under plan `plan`.
    fn admit_apps<'a>(
        &self,
        snap: &OrgSnapshot,
        apps: impl IntoIterator<Item = &'a Application>,
        plan: &str,
    ) -> Result<()> {
        let policy = self.plan_policy(plan)?;
        let mut objects = Vec::new();
        for app in apps {
            let prj = &snap.project(&app.workspace, &app.project)?.0;
            let labels = crate::naming::project_labels(
                &app.organization,
                &app.workspace,
                &app.project,
                prj.parent.as_ref(),
            );
            objects.extend(render_app(
                app,
                &prj.namespace,
                &labels,
                &Placement::default(),
            )?);
        }
        crate::policy::harden(&mut objects, policy.level);
        admit(objects.iter().map(|d| &d.object), &policy, plan)
    }

    /// An application must pass its workspace plan's policy.
    pub(crate) fn check_app_policy(&self, snap: &OrgSnapshot, app: &Application) -> Result<()> {
        let ws = &snap.workspace(&app.workspace)?.0;
        self.admit_apps(snap, [app], ws.plan.as_str())
    }

    /// Moving workspace `ws` to plan `plan`: its applications must pass the plan's policy.
    pub(crate) fn check_plan_policy(
        &self,
        snap: &OrgSnapshot,
        ws: &Name,
        plan: &str,
    ) -> Result<()> {
        let apps = snap
            .apps
            .iter()
            .filter(|((w, _, _), _)| w == ws)
            .map(|(_, (a, _))| a);
        self.admit_apps(snap, apps, plan)
    }

    /// A restore into workspace `ws` (feature `backup`): the snapshot's applications and the
    /// objects it recreates must pass the workspace plan's policy.
    #[cfg(feature = "backup")]
    pub(crate) fn admit_restore<'a>(
        &self,
        snap: &OrgSnapshot,
        ws: &Name,
        apps: &[Application],
        objects: impl Iterator<Item = &'a serde_json::Value>,
    ) -> Result<()> {
        let plan = snap.workspace(ws)?.0.plan.clone();
        self.admit_apps(snap, apps, plan.as_str())?;
        let objects = objects
            .map(|v| {
                serde_json::from_value::<DynamicObject>(v.clone())
                    .map_err(|e| hxb_core::Error::invalid("snapshot object", e.to_string()))
            })
            .collect::<Result<Vec<_>>>()?;
        admit(&objects, &self.plan_policy(plan.as_str())?, plan.as_str())
    }

    /// The tenant workspace and plan governing a manifest's namespace: `(organization,
    /// workspace, plan)`, or `None` outside tenant project namespaces.
    async fn manifest_plan(&self, obj: &DynamicObject) -> Result<Option<(Name, Name, String)>> {
        let Some(ns) = obj.metadata.namespace.as_deref() else {
            return Ok(None);
        };
        let Some(owner) = self.store().get(NAMESPACES, ns).await? else {
            return Ok(None);
        };
        let (Some(org), Some(ws)) = (
            owner.value.get("organization").and_then(|v| v.as_str()),
            owner.value.get("workspace").and_then(|v| v.as_str()),
        ) else {
            return Ok(None);
        };
        let Some(rec) = self.store().get(WORKSPACES, &format!("{org}/{ws}")).await? else {
            return Ok(None);
        };
        let workspace: hxb_core::Workspace = state::decode(&rec)?;
        Ok(Some((
            workspace.organization,
            workspace.name,
            workspace.plan.as_str().to_owned(),
        )))
    }

    /// Admit a manifest about to be written: in a tenant project's namespace, its pods and pod
    /// templates must pass the workspace plan's policy. Objects outside tenant namespaces
    /// (and objects without pods) pass.
    pub async fn admit_manifest(&self, obj: &DynamicObject) -> Result<()> {
        match self.manifest_plan(obj).await? {
            Some((_, _, plan)) => admit([obj], &self.plan_policy(&plan)?, &plan),
            None => Ok(()),
        }
    }

    /// What [`admit_manifest`](Self::admit_manifest) would say about a manifest, as data and
    /// without writing anything: the governing workspace, its plan and policy, and every
    /// violation with its field path (empty: admitted). `None` outside tenant project
    /// namespaces, which the engine does not judge. A malformed image reference is
    /// `InvalidInput`, as in admission.
    pub async fn review_manifest(&self, obj: &DynamicObject) -> Result<Option<ManifestReview>> {
        let Some((organization, workspace, plan)) = self.manifest_plan(obj).await? else {
            return Ok(None);
        };
        let policy = self.plan_policy(&plan)?;
        let violations = review([obj], &policy, &plan)?;
        Ok(Some(ManifestReview {
            organization,
            workspace,
            plan,
            policy,
            violations,
        }))
    }
}
