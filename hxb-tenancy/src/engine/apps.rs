//! Applications: create, scale, restart, stop/start, delete, cron-job runs — quota-checked.
//!
//! An application is desired state like a project: stored (`applications/<org>/<ws>/<p>/<app>`),
//! rendered with its project ([`crate::apps::render_app`]) and reconciled with it, so drift
//! repair, no-op reconciles and deletion work the same way. Every change that adds load
//! (create, scale up, start) is checked first: the quota needs of all the project's
//! applications ([`Application::quota_need`]) must fit its namespace quota (its quota minus
//! what sub-projects carved). The cluster's own quota admission remains the binding check for
//! the pods themselves.

use futures::future::BoxFuture;
use hxb_core::cluster::{ListOptions, ResourceType};
use hxb_core::store::{Batch, Precondition};
use hxb_core::{EntityStatus, Error, Name, Quantity, ResourceList, Result, Selector};
use k8s_openapi::api::batch::v1::{CronJob, Job};

use super::state::{self, APPS, OrgSnapshot, encode};
use super::sync::Part;
use super::{SYSTEM_ACTOR, Tenancy, name_arg};
use crate::apps::{AppKind, Application, LABEL_APP};
use crate::reconcile::retry;

impl Tenancy {
    /// Start creating application `name` in project `org/ws/project`; pick its kind with
    /// `.stateless(image)`, `.stateful(image, storage)`, `.cron_job(image, schedule)` or
    /// `.function(image)`.
    pub fn create_app(&self, org: &str, ws: &str, project: &str, name: &str) -> CreateApp<'_> {
        CreateApp {
            t: self,
            at: (org.into(), ws.into(), project.into(), name.into()),
            kind: None,
            image: String::new(),
            replicas: 1,
            port: None,
            requests: ResourceList::new(),
            affinity: Vec::new(),
            privileged: false,
            actor: SYSTEM_ACTOR.to_owned(),
        }
    }

    /// Applications of a project.
    pub async fn apps(&self, org: &str, ws: &str, project: &str) -> Result<Vec<Application>> {
        self.project(org, ws, project).await?;
        self.store()
            .list(APPS, &format!("{org}/{ws}/{project}/"))
            .await?
            .iter()
            .map(state::decode)
            .collect()
    }

    /// Set the replica count (quota-checked when growing).
    pub fn scale_app(
        &self,
        org: &str,
        ws: &str,
        project: &str,
        name: &str,
        replicas: i32,
    ) -> AppOp<'_, Application> {
        let at = At::new(org, ws, project, name);
        AppOp::new(self, move |t, actor| async move {
            t.modify_app(&at, &actor, "scale_app", |a| {
                a.replicas = replicas;
                Ok(())
            })
            .await
        })
    }

    /// Restart: bump the pod-template annotation so every pod is replaced.
    pub fn restart_app(
        &self,
        org: &str,
        ws: &str,
        project: &str,
        name: &str,
    ) -> AppOp<'_, Application> {
        let at = At::new(org, ws, project, name);
        AppOp::new(self, move |t, actor| async move {
            let now = t.now().to_string();
            t.modify_app(&at, &actor, "restart_app", |a| {
                a.restarted_at = Some(now);
                Ok(())
            })
            .await
        })
    }

    /// Stop: scale to zero (a cron job is suspended); the replica count is kept.
    pub fn stop_app(
        &self,
        org: &str,
        ws: &str,
        project: &str,
        name: &str,
    ) -> AppOp<'_, Application> {
        let at = At::new(org, ws, project, name);
        AppOp::new(self, move |t, actor| async move {
            t.modify_app(&at, &actor, "stop_app", |a| {
                a.stopped = true;
                Ok(())
            })
            .await
        })
    }

    /// Start again after [`stop_app`](Self::stop_app) (quota-checked).
    pub fn start_app(
        &self,
        org: &str,
        ws: &str,
        project: &str,
        name: &str,
    ) -> AppOp<'_, Application> {
        let at = At::new(org, ws, project, name);
        AppOp::new(self, move |t, actor| async move {
            t.modify_app(&at, &actor, "start_app", |a| {
                a.stopped = false;
                Ok(())
            })
            .await
        })
    }

    /// Delete an application, its objects and its cron-job runs.
    pub fn delete_app(&self, org: &str, ws: &str, project: &str, name: &str) -> AppOp<'_, ()> {
        let at = At::new(org, ws, project, name);
        AppOp::new(self, move |t, actor| async move {
            let target = at.target();
            t.audited(&actor, "delete_app", &target, async {
                let _guard = t.lock(&at.org).await;
                let snap = OrgSnapshot::load(t.store().as_ref(), &at.org).await?;
                let (app, rev) = find(&snap, &at.ws, &at.project, &at.name)?;
                let prj = &snap.project(&app.workspace, &app.project)?.0;
                let batch = Batch::new().delete(APPS, &target, Precondition::Revision(rev));
                t.commit(batch, &actor, "delete_app", &target).await?;
                t.delete_runs(&prj.namespace, &at.name).await?;
                t.sync(&at.org, Part::Workspace(app.workspace.clone()))
                    .await?;
                Ok(())
            })
            .await
        })
    }

    /// Run a cron job now: a Job made from its template, named `<app>-manual-<n>`.
    pub fn trigger_cron_job(
        &self,
        org: &str,
        ws: &str,
        project: &str,
        name: &str,
    ) -> AppOp<'_, String> {
        let at = At::new(org, ws, project, name);
        AppOp::new(self, move |t, actor| async move {
            let target = at.target();
            t.audited(&actor, "trigger_cron_job", &target, async {
                let job = t.trigger(&at).await?;
                t.commit(
                    Batch::new(),
                    &actor,
                    "trigger_cron_job",
                    &format!("{target}/{job}"),
                )
                .await?;
                Ok(job)
            })
            .await
        })
    }

    async fn trigger(&self, at: &At) -> Result<String> {
        let (org, ws, project, name) = (&at.org, &at.ws, &at.project, &at.name);
        let prj = self.project(org, ws, project).await?;
        let app = self.load_app(at).await?;
        if !matches!(app.kind, AppKind::CronJob { .. }) {
            return Err(Error::invalid(
                "application",
                format!("{name} is not a cron job"),
            ));
        }
        let ty = ResourceType::of::<CronJob>();
        let cj = retry(self.inner.retry, || {
            self.cluster().get(&ty, Some(&prj.namespace), name)
        })
        .await?;
        let cj: CronJob = serde_json::from_value(
            serde_json::to_value(cj).map_err(|e| Error::internal(e.to_string()))?,
        )
        .map_err(|e| Error::backend("cannot decode CronJob", e))?;
        let runs = self.cron_job_runs(org, ws, project, name).await?.len();
        let tpl = cj.spec.map(|s| s.job_template).unwrap_or_default();
        let job_name = format!("{name}-manual-{}", runs + 1);
        let mut labels = tpl.metadata.and_then(|m| m.labels).unwrap_or_default();
        labels.remove(crate::naming::MANAGED_BY); // runs are not reconciled desired state
        let job = Job {
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some(job_name.clone()),
                namespace: Some(prj.namespace.clone()),
                labels: Some(labels),
                ..Default::default()
            },
            spec: tpl.spec,
            ..Default::default()
        };
        let d = crate::render::DesiredObject::from_typed(&job)?;
        self.cluster().create(&d.ty, d.object).await?;
        Ok(job_name)
    }

    /// The stored application at `at` ([`NotFound`](hxb_core::ErrorKind::NotFound) if none).
    pub(crate) async fn load_app(&self, at: &At) -> Result<Application> {
        name_arg(&at.name)?;
        let key = at.target();
        state::decode(
            &self
                .store()
                .get(APPS, &key)
                .await?
                .ok_or_else(|| Error::not_found("application", key))?,
        )
    }

    /// The runs (Jobs) of a cron job, by name.
    pub async fn cron_job_runs(
        &self,
        org: &str,
        ws: &str,
        project: &str,
        name: &str,
    ) -> Result<Vec<Job>> {
        let prj = self.project(org, ws, project).await?;
        let ty = ResourceType::of::<Job>();
        let opts = ListOptions::labels(Selector::from_labels([(LABEL_APP, name)]));
        let list = retry(self.inner.retry, || {
            self.cluster().list(&ty, Some(&prj.namespace), &opts)
        })
        .await?;
        list.items
            .into_iter()
            .map(|o| {
                serde_json::from_value(
                    serde_json::to_value(o).map_err(|e| Error::internal(e.to_string()))?,
                )
                .map_err(|e| Error::backend("cannot decode Job", e))
            })
            .collect()
    }

    async fn delete_runs(&self, namespace: &str, app: &str) -> Result<()> {
        let ty = ResourceType::of::<Job>();
        let opts = ListOptions::labels(Selector::from_labels([(LABEL_APP, app)]));
        for j in retry(self.inner.retry, || {
            self.cluster().list(&ty, Some(namespace), &opts)
        })
        .await?
        .items
        {
            let n = j.metadata.name.unwrap_or_default();
            match retry(self.inner.retry, || {
                self.cluster().delete(&ty, Some(namespace), &n)
            })
            .await
            {
                Err(e) if e.kind() != hxb_core::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    pub(crate) async fn modify_app(
        &self,
        at: &At,
        actor: &str,
        action: &str,
        f: impl FnOnce(&mut Application) -> Result<()>,
    ) -> Result<Application> {
        let target = at.target();
        self.audited(actor, action, &target, async {
            let _guard = self.lock(&at.org).await;
            let snap = OrgSnapshot::load(self.store().as_ref(), &at.org).await?;
            let (mut app, rev) = find(&snap, &at.ws, &at.project, &at.name)?;
            f(&mut app)?;
            app.validate()?;
            check_app_quota(&snap, &app)?;
            #[cfg(feature = "policy")]
            self.check_app_policy(&snap, &app)?;
            let batch = Batch::new().put(APPS, &target, encode(&app)?, Precondition::Revision(rev));
            self.commit(batch, actor, action, &target).await?;
            self.sync(&at.org, Part::Workspace(app.workspace.clone()))
                .await?;
            Ok(app)
        })
        .await
    }
}

/// Where an application operation points: organization, workspace, project, application.
#[derive(Debug, Clone)]
pub(crate) struct At {
    pub org: String,
    pub ws: String,
    pub project: String,
    pub name: String,
}

impl At {
    pub(crate) fn new(org: &str, ws: &str, project: &str, name: &str) -> Self {
        At {
            org: org.into(),
            ws: ws.into(),
            project: project.into(),
            name: name.into(),
        }
    }

    /// `org/ws/project/name`: the store key and audit target.
    pub(crate) fn target(&self) -> String {
        format!("{}/{}/{}/{}", self.org, self.ws, self.project, self.name)
    }
}

type Run<'a, T> = Box<dyn FnOnce(&'a Tenancy, String) -> BoxFuture<'a, Result<T>> + Send + 'a>;

/// Builder of one operation on an application (`scale_app`, `restart_app`, `stop_app`,
/// `start_app`, `delete_app`, `trigger_cron_job`, `deploy_function`, `rollback_function`):
/// set `.actor()` for the audit log (default `system`), then `.execute().await` — or `.await`
/// the builder directly.
#[must_use = "call .execute().await (or .await it)"]
pub struct AppOp<'a, T> {
    t: &'a Tenancy,
    actor: String,
    run: Run<'a, T>,
}

impl<T> std::fmt::Debug for AppOp<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppOp")
            .field("actor", &self.actor)
            .finish_non_exhaustive()
    }
}

impl<'a, T: Send + 'a> AppOp<'a, T> {
    pub(crate) fn new<F, Fut>(t: &'a Tenancy, f: F) -> Self
    where
        F: FnOnce(&'a Tenancy, String) -> Fut + Send + 'a,
        Fut: std::future::Future<Output = Result<T>> + Send + 'a,
    {
        AppOp {
            t,
            actor: SYSTEM_ACTOR.to_owned(),
            run: Box::new(move |t, actor| Box::pin(f(t, actor))),
        }
    }

    /// Who asks (recorded in the audit log; default `system`).
    pub fn actor(mut self, actor: &str) -> Self {
        self.actor = actor.to_owned();
        self
    }

    /// Validate, record with its audit entry, reconcile.
    pub async fn execute(self) -> Result<T> {
        self.await
    }
}

impl<'a, T: Send + 'a> std::future::IntoFuture for AppOp<'a, T> {
    type Output = Result<T>;
    type IntoFuture = BoxFuture<'a, Result<T>>;

    fn into_future(self) -> Self::IntoFuture {
        (self.run)(self.t, self.actor)
    }
}

fn find(snap: &OrgSnapshot, ws: &str, project: &str, name: &str) -> Result<(Application, u64)> {
    let key = (name_arg(ws)?, name_arg(project)?, name_arg(name)?);
    snap.apps.get(&key).cloned().ok_or_else(|| {
        Error::not_found(
            "application",
            format!("{}/{ws}/{project}/{name}", snap.org.0.name),
        )
    })
}

/// The project's applications (with `app` in place of its stored version) must fit the
/// project's own namespace quota.
fn check_app_quota(snap: &OrgSnapshot, app: &Application) -> Result<()> {
    let (prj, _) = snap.project(&app.workspace, &app.project)?;
    let own = prj
        .quota
        .saturating_sub(&snap.carved(&app.workspace, Some(&app.project))?)?;
    let others = snap
        .apps
        .values()
        .filter(|(a, _)| {
            a.workspace == app.workspace && a.project == app.project && a.name != app.name
        })
        .map(|(a, _)| a.quota_need())
        .collect::<Result<Vec<_>>>()?;
    let used = ResourceList::checked_sum(others.iter())?;
    ResourceList::admit(
        &format!(
            "project {}/{}/{}",
            app.organization, app.workspace, app.project
        ),
        &own,
        &used,
        &app.quota_need()?,
    )
}

/// Builder of [`Tenancy::create_app`].
#[must_use = "call .execute().await"]
pub struct CreateApp<'a> {
    t: &'a Tenancy,
    at: (String, String, String, String),
    kind: Option<AppKind>,
    image: String,
    replicas: i32,
    port: Option<i32>,
    requests: ResourceList,
    affinity: Vec<(String, String)>,
    privileged: bool,
    actor: String,
}

impl CreateApp<'_> {
    /// Run the container privileged (refused, with the `policy` feature, unless the
    /// workspace's plan allows privileged containers).
    pub fn privileged(mut self, on: bool) -> Self {
        self.privileged = on;
        self
    }

    /// A stateless application (Deployment + Service).
    pub fn stateless(mut self, image: &str) -> Self {
        self.kind = Some(AppKind::Stateless);
        self.image = image.into();
        self
    }

    /// A stateful application (StatefulSet, one `storage` volume per replica).
    pub fn stateful(mut self, image: &str, storage: Quantity) -> Self {
        self.kind = Some(AppKind::Stateful { storage });
        self.image = image.into();
        self
    }

    /// A cron job on `schedule`.
    pub fn cron_job(mut self, image: &str, schedule: &str) -> Self {
        self.kind = Some(AppKind::CronJob {
            schedule: schedule.into(),
        });
        self.image = image.into();
        self
    }

    /// A function with `image` as version 1 (served on port 8080 unless `.port()` says
    /// otherwise).
    pub fn function(mut self, image: &str) -> Self {
        self.kind = Some(AppKind::Function {
            versions: vec![image.into()],
            active: 1,
        });
        self.image = image.into();
        self
    }

    /// Replicas (default 1).
    pub fn replicas(mut self, n: i32) -> Self {
        self.replicas = n;
        self
    }

    /// Expose a container port through a Service.
    pub fn port(mut self, p: i32) -> Self {
        self.port = Some(p);
        self
    }

    /// Requests per replica (`cpu`, `memory`).
    pub fn requests(mut self, r: ResourceList) -> Self {
        self.requests = r;
        self
    }

    /// Require nodes labelled `key=value` (node affinity).
    pub fn node_affinity(mut self, key: &str, value: &str) -> Self {
        self.affinity.push((key.into(), value.into()));
        self
    }

    /// Who asks (recorded in the audit log; default `system`).
    pub fn actor(mut self, actor: &str) -> Self {
        self.actor = actor.to_owned();
        self
    }

    /// Validate (kind, fields, quota), record, reconcile.
    pub async fn execute(self) -> Result<Application> {
        let t = self.t;
        let target = format!("{}/{}/{}/{}", self.at.0, self.at.1, self.at.2, self.at.3);
        let actor = self.actor.clone();
        t.audited(&actor, "create_app", &target, self.run()).await
    }

    async fn run(self) -> Result<Application> {
        let (org, ws, project, name) = &self.at;
        let kind = self.kind.ok_or_else(|| {
            Error::invalid("kind", "choose stateless, stateful, cron_job or function")
        })?;
        let port = match kind {
            AppKind::Function { .. } => self.port.or(Some(super::functions::DEFAULT_FUNCTION_PORT)),
            _ => self.port,
        };
        let app = Application {
            organization: name_arg(org)?,
            workspace: name_arg(ws)?,
            project: name_arg(project)?,
            name: name_arg(name)?,
            kind,
            image: self.image,
            replicas: self.replicas,
            stopped: false,
            port,
            requests: self.requests,
            node_affinity: self.affinity.into_iter().collect(),
            restarted_at: None,
            privileged: self.privileged,
        };
        app.validate()?;
        let _guard = self.t.lock(org).await;
        let snap = OrgSnapshot::load(self.t.store().as_ref(), org).await?;
        let (prj, prj_rev) = snap.project(&app.workspace, &app.project)?;
        if prj.status == EntityStatus::Deleting {
            return Err(Error::precondition(format!(
                "project {project} is being deleted"
            )));
        }
        let key = state::app_key(&app.organization, &app.workspace, &app.project, &app.name);
        if snap
            .apps
            .contains_key(&(app.workspace.clone(), app.project.clone(), app.name.clone()))
        {
            return Err(Error::already_exists("application", key));
        }
        check_app_quota(&snap, &app)?;
        #[cfg(feature = "policy")]
        self.t.check_app_policy(&snap, &app)?;
        let pkey = state::project_key(&prj.organization, &prj.workspace, &prj.name);
        let batch = Batch::new()
            .put(APPS, &key, encode(&app)?, Precondition::Absent)
            .put(
                state::PROJECTS,
                &pkey,
                encode(prj)?,
                Precondition::Revision(*prj_rev),
            );
        self.t
            .commit(batch, &self.actor, "create_app", &key)
            .await?;
        self.t
            .sync(org, Part::Workspace(app.workspace.clone()))
            .await?;
        let _: &Name = &app.name;
        Ok(app)
    }
}
