//! The guard: RBAC, blast radius, dry run, approval, audit.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hxb_core::cluster::Api;
use hxb_core::store::Batch;
use hxb_core::{
    Clock, ClusterBackend, Error, ResourceList, Result, StateStore, Subject, Timestamp,
};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Node, PodTemplateSpec};
use parking_lot::Mutex;
use serde::Serialize;

use super::action::{Action, ActionKind, WorkloadKind};

/// The audit log the engine shares (same entry shape as tenancy's audit).
const AUDIT_LOG: &str = "audit";

/// Answers "may this subject do this?" with the engine's role model.
#[async_trait]
pub trait Authorizer: Send + Sync + 'static {
    /// Whether `subject` may `verb` `resource` (in API `group`) in `namespace`
    /// (`None` = cluster-scoped).
    async fn allows(
        &self,
        subject: &Subject,
        verb: &str,
        group: &str,
        resource: &str,
        namespace: Option<&str>,
    ) -> Result<bool>;
}

/// Platform-level actions the guard delegates (the tenancy engine implements them: it knows
/// workspace headroom and function versions).
#[async_trait]
pub trait PlatformActions: Send + Sync + 'static {
    /// Raise the quota of the project owning `namespace` by `add`, within its workspace's
    /// headroom; with `dry_run` only check. Returns a description of the change.
    async fn raise_quota(
        &self,
        namespace: &str,
        add: &ResourceList,
        dry_run: bool,
    ) -> Result<String>;
    /// Make `to_version` (or the previous version) of `function` active; with `dry_run` only
    /// check. Returns a description and the number of pods replaced.
    async fn rollback_function(
        &self,
        namespace: &str,
        function: &str,
        to_version: Option<&str>,
        dry_run: bool,
    ) -> Result<(String, u32)>;
}

/// What runs automatically and how much may be disrupted.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Action kinds executed without approval (default: none — everything needs approval).
    pub automatic: BTreeSet<ActionKind>,
    /// Pods disrupted per hour across everything this guard does (default 20).
    pub max_pods_per_hour: u32,
    /// Fraction of one workload's pods disrupted per hour (default 1.0: one full rolling
    /// restart per hour).
    pub max_workload_fraction_per_hour: f64,
    /// A scale-up may multiply replicas by at most this (default 2.0).
    pub max_scale_up_factor: f64,
    /// Whether the approver must be someone other than the requester (default true).
    pub four_eyes: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            automatic: BTreeSet::new(),
            max_pods_per_hour: 20,
            max_workload_fraction_per_hour: 1.0,
            max_scale_up_factor: 2.0,
            four_eyes: true,
        }
    }
}

impl Policy {
    /// Run `kinds` without approval.
    pub fn automatic(mut self, kinds: impl IntoIterator<Item = ActionKind>) -> Self {
        self.automatic.extend(kinds);
        self
    }
}

/// What the guard decided.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Nothing changed; the outcome describes what would.
    DryRun,
    /// The policy requires an approval that was not given; nothing changed.
    NeedsApproval,
    /// Done.
    Executed,
}

/// The result of a remediation request.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// The action.
    pub action: Action,
    /// What happened.
    pub decision: Decision,
    /// Pods the action disrupts (or would).
    pub disrupted_pods: u32,
    /// What changed (or would), in plain language.
    pub description: String,
}

#[derive(Clone)]
struct Spend {
    at: Timestamp,
    workload: String,
    pods: u32,
}

/// Guards every remediation. Cheap to clone.
#[derive(Clone)]
pub struct Guard {
    inner: Arc<GuardInner>,
}

struct GuardInner {
    cluster: Arc<dyn ClusterBackend>,
    authorizer: Arc<dyn Authorizer>,
    platform: Option<Arc<dyn PlatformActions>>,
    store: Arc<dyn StateStore>,
    clock: Arc<dyn Clock>,
    policy: Policy,
    spent: Mutex<VecDeque<Spend>>,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("policy", &self.inner.policy)
            .finish_non_exhaustive()
    }
}

/// A remediation being prepared; see [`Guard::remediate`].
#[must_use = "call .execute().await"]
pub struct RemediationRequest<'a> {
    guard: &'a Guard,
    subject: Subject,
    action: Action,
    apply: bool,
    approver: Option<Subject>,
}

impl RemediationRequest<'_> {
    /// Really do it (the default is a dry run).
    pub fn apply(mut self) -> Self {
        self.apply = true;
        self
    }

    /// Approved by `approver` (who must also be authorized, and — with four eyes — someone
    /// else).
    pub fn approved_by(mut self, approver: Subject) -> Self {
        self.approver = Some(approver);
        self
    }

    /// Run the guard and, if everything allows it, the action.
    pub async fn execute(self) -> Result<Outcome> {
        let target = self.action.to_string();
        let result = self
            .guard
            .run(
                &self.subject,
                &self.action,
                self.apply,
                self.approver.as_ref(),
            )
            .await;
        let verdict = match &result {
            Ok(o) => match o.decision {
                Decision::Executed => "ok".to_owned(),
                Decision::DryRun => "dry-run".to_owned(),
                Decision::NeedsApproval => "awaiting approval".to_owned(),
            },
            Err(e) => format!("refused: {}: {e}", e.kind()),
        };
        self.guard.audit(&self.subject, &target, &verdict).await?;
        result
    }
}

const HOUR: Duration = Duration::from_secs(3600);

impl Guard {
    /// A guard over `cluster`, checking RBAC with `authorizer`, auditing to `store`.
    pub fn new(
        cluster: Arc<dyn ClusterBackend>,
        authorizer: Arc<dyn Authorizer>,
        store: Arc<dyn StateStore>,
        clock: Arc<dyn Clock>,
        policy: Policy,
    ) -> Self {
        Guard {
            inner: Arc::new(GuardInner {
                cluster,
                authorizer,
                platform: None,
                store,
                clock,
                policy,
                spent: Mutex::new(VecDeque::new()),
            }),
        }
    }

    /// Delegate quota raises and function rollbacks to `platform`.
    pub fn with_platform(self, platform: Arc<dyn PlatformActions>) -> Self {
        let i = &self.inner;
        Guard {
            inner: Arc::new(GuardInner {
                cluster: i.cluster.clone(),
                authorizer: i.authorizer.clone(),
                platform: Some(platform),
                store: i.store.clone(),
                clock: i.clock.clone(),
                policy: i.policy.clone(),
                spent: Mutex::new(VecDeque::new()),
            }),
        }
    }

    /// The same guard under another policy; the disruption already spent this hour carries
    /// over (a policy change does not reset the blast-radius budget).
    pub fn with_policy(&self, policy: Policy) -> Guard {
        let i = &self.inner;
        Guard {
            inner: Arc::new(GuardInner {
                cluster: i.cluster.clone(),
                authorizer: i.authorizer.clone(),
                platform: i.platform.clone(),
                store: i.store.clone(),
                clock: i.clock.clone(),
                policy,
                spent: Mutex::new(i.spent.lock().clone()),
            }),
        }
    }

    /// The authorizer RBAC checks go through.
    pub fn authorizer(&self) -> Arc<dyn Authorizer> {
        self.inner.authorizer.clone()
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.inner.policy
    }

    /// Prepare `action` on behalf of `subject` (a dry run unless `.apply()`).
    pub fn remediate(&self, subject: &Subject, action: Action) -> RemediationRequest<'_> {
        RemediationRequest {
            guard: self,
            subject: subject.clone(),
            action,
            apply: false,
            approver: None,
        }
    }

    async fn audit(&self, who: &Subject, target: &str, result: &str) -> Result<()> {
        let entry = serde_json::json!({
            "at": self.inner.clock.now(),
            "actor": who.as_str(),
            "action": "remediate",
            "target": target,
            "result": result,
        });
        self.inner
            .store
            .commit(Batch::new().append(AUDIT_LOG, entry))
            .await
            .map(|_| ())
    }

    async fn authorize(&self, who: &Subject, action: &Action) -> Result<()> {
        let (verb, group, resource) = action.permission();
        let ns = action.namespace();
        if self
            .inner
            .authorizer
            .allows(who, verb, group, resource, ns)
            .await?
        {
            Ok(())
        } else {
            Err(Error::forbidden(format!(
                "{who} may not {verb} {resource}{} (needed to {action})",
                ns.map(|n| format!(" in namespace {n}")).unwrap_or_default()
            )))
        }
    }

    async fn run(
        &self,
        who: &Subject,
        action: &Action,
        apply: bool,
        approver: Option<&Subject>,
    ) -> Result<Outcome> {
        action.validate()?;
        self.authorize(who, action).await?;
        if let Some(a) = approver {
            if self.inner.policy.four_eyes && a == who {
                return Err(Error::forbidden(format!(
                    "{who} cannot approve their own remediation"
                )));
            }
            self.authorize(a, action).await?;
        }
        let (disrupted, workload_total, description) = self.plan(action).await?;
        self.check_budget(action, disrupted, workload_total)?;
        let decision = if !apply {
            Decision::DryRun
        } else if !self.inner.policy.automatic.contains(&action.kind()) && approver.is_none() {
            Decision::NeedsApproval
        } else {
            Decision::Executed
        };
        let description = if decision == Decision::Executed {
            let d = self.act(action).await?;
            self.inner.spent.lock().push_back(Spend {
                at: self.inner.clock.now(),
                workload: workload_key(action),
                pods: disrupted,
            });
            d
        } else {
            description
        };
        Ok(Outcome {
            action: action.clone(),
            decision,
            disrupted_pods: disrupted,
            description,
        })
    }

    /// `(pods disrupted, pods of the workload, description)` without changing anything.
    async fn plan(&self, action: &Action) -> Result<(u32, u32, String)> {
        let c = &self.inner.cluster;
        match action {
            Action::Restart {
                kind,
                namespace,
                name,
            } => {
                let n = replicas(c, *kind, namespace, name).await?;
                Ok((
                    n,
                    n,
                    format!("rolling restart of {kind:?} {namespace}/{name}: {n} pod(s) replaced"),
                ))
            }
            Action::Scale {
                kind,
                namespace,
                name,
                replicas: to,
            } => {
                let cur = replicas(c, *kind, namespace, name).await?;
                let to_u = *to as u32;
                if to_u > cur
                    && f64::from(to_u)
                        > f64::from(cur.max(1)) * self.inner.policy.max_scale_up_factor
                {
                    return Err(Error::forbidden(format!(
                        "scaling {namespace}/{name} from {cur} to {to} exceeds the ×{} scale-up limit",
                        self.inner.policy.max_scale_up_factor
                    )));
                }
                Ok((
                    cur.saturating_sub(to_u),
                    cur,
                    format!("{kind:?} {namespace}/{name}: {cur} → {to} replicas"),
                ))
            }
            Action::CordonNode { node } => {
                Api::<Node>::all(c.clone()).get(node).await?;
                Ok((
                    0,
                    0,
                    format!("node {node} marked unschedulable; running pods stay"),
                ))
            }
            Action::RaiseQuota { namespace, add } => {
                let p = self.platform()?;
                Ok((0, 0, p.raise_quota(namespace, add, true).await?))
            }
            Action::RollbackFunction {
                namespace,
                function,
                to_version,
            } => {
                let p = self.platform()?;
                let (d, pods) = p
                    .rollback_function(namespace, function, to_version.as_deref(), true)
                    .await?;
                Ok((pods, pods, d))
            }
        }
    }

    fn platform(&self) -> Result<&Arc<dyn PlatformActions>> {
        self.inner.platform.as_ref().ok_or_else(|| {
            Error::precondition(
                "this guard has no platform actions (quota raises, function rollbacks)",
            )
        })
    }

    fn check_budget(&self, action: &Action, disrupted: u32, workload_total: u32) -> Result<()> {
        if disrupted == 0 {
            return Ok(());
        }
        let now = self.inner.clock.now();
        let mut spent = self.inner.spent.lock();
        while spent.front().is_some_and(|s| elapsed(s.at, now) >= HOUR) {
            spent.pop_front();
        }
        let p = &self.inner.policy;
        let total: u32 = spent.iter().map(|s| s.pods).sum();
        if total + disrupted > p.max_pods_per_hour {
            return Err(Error::forbidden(format!(
                "blast radius: {action} would disrupt {disrupted} pod(s); {total} already disrupted this hour, limit {}",
                p.max_pods_per_hour
            )));
        }
        let key = workload_key(action);
        let on_workload: u32 = spent
            .iter()
            .filter(|s| s.workload == key)
            .map(|s| s.pods)
            .sum();
        if workload_total > 0
            && f64::from(on_workload + disrupted)
                > p.max_workload_fraction_per_hour * f64::from(workload_total)
        {
            return Err(Error::forbidden(format!(
                "blast radius: {action} would disrupt {} of {workload_total} pods of {key} within an hour (limit {:.0}%)",
                on_workload + disrupted,
                p.max_workload_fraction_per_hour * 100.0
            )));
        }
        Ok(())
    }

    async fn act(&self, action: &Action) -> Result<String> {
        let c = &self.inner.cluster;
        let now = self.inner.clock.now().to_string();
        match action {
            Action::Restart {
                kind,
                namespace,
                name,
            } => {
                let n =
                    update_workload(c, *kind, namespace, name, |spec_template_annotations, _| {
                        spec_template_annotations
                            .insert("kubectl.kubernetes.io/restartedAt".into(), now.clone());
                    })
                    .await?;
                Ok(format!(
                    "rolling restart of {kind:?} {namespace}/{name} started: {n} pod(s) to replace"
                ))
            }
            Action::Scale {
                kind,
                namespace,
                name,
                replicas: to,
            } => {
                let from = update_workload(c, *kind, namespace, name, |_, replicas| {
                    *replicas = Some(*to)
                })
                .await?;
                Ok(format!(
                    "{kind:?} {namespace}/{name} scaled from {from} to {to} replicas"
                ))
            }
            Action::CordonNode { node } => {
                let nodes = Api::<Node>::all(c.clone());
                let mut n = nodes.get(node).await?;
                n.spec.get_or_insert_with(Default::default).unschedulable = Some(true);
                nodes.replace(&n).await?;
                Ok(format!("node {node} cordoned"))
            }
            Action::RaiseQuota { namespace, add } => {
                self.platform()?.raise_quota(namespace, add, false).await
            }
            Action::RollbackFunction {
                namespace,
                function,
                to_version,
            } => Ok(self
                .platform()?
                .rollback_function(namespace, function, to_version.as_deref(), false)
                .await?
                .0),
        }
    }
}

fn workload_key(a: &Action) -> String {
    match a {
        Action::Restart {
            kind,
            namespace,
            name,
        }
        | Action::Scale {
            kind,
            namespace,
            name,
            ..
        } => {
            format!("{kind:?} {namespace}/{name}")
        }
        Action::RollbackFunction {
            namespace,
            function,
            ..
        } => format!("function {namespace}/{function}"),
        Action::RaiseQuota { namespace, .. } => format!("quota {namespace}"),
        Action::CordonNode { node } => format!("node {node}"),
    }
}

fn elapsed(from: Timestamp, to: Timestamp) -> Duration {
    Duration::from_millis((to.as_millisecond() - from.as_millisecond()).max(0) as u64)
}

/// The two fields of a scalable workload the guard reads and edits.
trait Scalable: hxb_core::cluster::Object<Scope = k8s_openapi::NamespaceResourceScope> {
    fn parts(&mut self) -> (&mut Option<i32>, &mut PodTemplateSpec);
}

impl Scalable for Deployment {
    fn parts(&mut self) -> (&mut Option<i32>, &mut PodTemplateSpec) {
        let spec = self.spec.get_or_insert_with(Default::default);
        (&mut spec.replicas, &mut spec.template)
    }
}

impl Scalable for StatefulSet {
    fn parts(&mut self) -> (&mut Option<i32>, &mut PodTemplateSpec) {
        let spec = self.spec.get_or_insert_with(Default::default);
        (&mut spec.replicas, &mut spec.template)
    }
}

async fn replicas(
    c: &Arc<dyn ClusterBackend>,
    kind: WorkloadKind,
    ns: &str,
    name: &str,
) -> Result<u32> {
    async fn read<K: Scalable>(c: &Arc<dyn ClusterBackend>, ns: &str, name: &str) -> Result<u32> {
        let mut w = Api::<K>::namespaced(c.clone(), ns).get(name).await?;
        Ok(w.parts().0.unwrap_or(1).max(0) as u32)
    }
    match kind {
        WorkloadKind::Deployment => read::<Deployment>(c, ns, name).await,
        WorkloadKind::StatefulSet => read::<StatefulSet>(c, ns, name).await,
    }
}

type Edit<'a> = &'a (dyn Fn(&mut BTreeMap<String, String>, &mut Option<i32>) + Sync);

/// Re-read and update a workload, retrying on a conflict (up to three attempts). Returns the
/// replicas before.
async fn update_workload(
    c: &Arc<dyn ClusterBackend>,
    kind: WorkloadKind,
    ns: &str,
    name: &str,
    edit: impl Fn(&mut BTreeMap<String, String>, &mut Option<i32>) + Sync,
) -> Result<u32> {
    async fn update<K: Scalable>(
        c: &Arc<dyn ClusterBackend>,
        ns: &str,
        name: &str,
        edit: Edit<'_>,
    ) -> Result<u32> {
        let api = Api::<K>::namespaced(c.clone(), ns);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut w = api.get(name).await?;
            let (replicas, template) = w.parts();
            let before = replicas.unwrap_or(1).max(0) as u32;
            let ann = template
                .metadata
                .get_or_insert_with(Default::default)
                .annotations
                .get_or_insert_with(Default::default);
            edit(ann, replicas);
            match api.replace(&w).await {
                Err(e) if e.kind() == hxb_core::ErrorKind::Conflict && attempt < 3 => continue,
                other => return other.map(|_| before),
            }
        }
    }
    match kind {
        WorkloadKind::Deployment => update::<Deployment>(c, ns, name, &edit).await,
        WorkloadKind::StatefulSet => update::<StatefulSet>(c, ns, name, &edit).await,
    }
}
