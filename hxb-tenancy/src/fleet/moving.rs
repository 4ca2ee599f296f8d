//! Moving a workspace between member clusters.
//!
//! 1. Validate: the workspace exists and is placed, the target is a connected member, and the
//!    target passes placement's checks for the workspace (isolation, labels, capacity with
//!    this workspace not counted). A refusal is a typed error and nothing has changed.
//! 2. Record the intent (`moving_to`) in the assignment (compare-and-swap).
//! 3. Copy: every namespace of the workspace on the source, with its objects (tenancy objects
//!    and applications alike, minus what controllers make: pods, replica sets, jobs, events,
//!    endpoints, anything with an owner reference), server-side applied to the target.
//! 4. Wait until every copied object can be read back from the target.
//! 5. Switch atomically: the assignment names the target (and `leaving` the source); from now
//!    on the router sends everything of the workspace to the target.
//! 6. Clean the source: delete the workspace's namespaces there, release its dedicated nodes,
//!    clear `leaving`.
//! 7. With the tenancy engine: reconcile the workspace through the fleet (now the target),
//!    which claims a dedicated workspace's node pool there and records its status.
//!
//! Every step is idempotent and the assignment records how far a move got, so after a failure
//! at any step the same call converges: before the switch it copies again (applies of
//! unchanged objects write nothing), after it finishes the cleaning. A later move to a
//! different target first removes what an abandoned move copied.

use hxb_core::cluster::{ApplyOptions, DynamicObject, ListOptions, ResourceType};
use hxb_core::store::Precondition;
use hxb_core::{ClusterBackend, Error, ErrorKind, Name, Result, Selector};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::{
    ConfigMap, LimitRange, Namespace, Node, PersistentVolumeClaim, ResourceQuota, Secret, Service,
    ServiceAccount,
};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};

use super::registry::{Assignment, assignment_key};
use super::{Fleet, placement};
use crate::Tenancy;
use crate::naming::{LABEL_ORG, LABEL_POOL, LABEL_WORKSPACE, MANAGED_BY, MANAGER, pool_id};
use crate::reconcile::{managed_types, reconcile_objects, retry};

/// The namespaced kinds a move copies, in apply order (quota and limits before workloads).
pub fn copied_types() -> Vec<ResourceType> {
    vec![
        ResourceType::of::<ResourceQuota>(),
        ResourceType::of::<LimitRange>(),
        ResourceType::of::<NetworkPolicy>(),
        ResourceType::of::<ServiceAccount>(),
        ResourceType::of::<Role>(),
        ResourceType::of::<RoleBinding>(),
        ResourceType::of::<ConfigMap>(),
        ResourceType::of::<Secret>(),
        ResourceType::of::<PersistentVolumeClaim>(),
        ResourceType::of::<Service>(),
        ResourceType::of::<Deployment>(),
        ResourceType::of::<StatefulSet>(),
        ResourceType::of::<CronJob>(),
        ResourceType::of::<HorizontalPodAutoscaler>(),
    ]
}

/// What a move did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MoveReport {
    /// The cluster the workspace left (empty when it was already on the target).
    pub from: String,
    /// The cluster it is on now.
    pub to: String,
    /// Its namespaces that were copied.
    pub namespaces: Vec<String>,
    /// Objects copied (namespaces included).
    pub copied: usize,
    /// Namespaces deleted from the source (and from an abandoned target).
    pub deleted_namespaces: usize,
    /// Dedicated nodes released on the source.
    pub released_nodes: usize,
    /// Writes the tenancy reconcile into the target needed after the copy (drift on the
    /// source that was not carried over; only with [`MoveWorkspace::tenancy`]).
    pub reconciled: usize,
}

/// Moves a workspace; see [`Fleet::move_workspace`].
#[must_use]
pub struct MoveWorkspace<'a> {
    fleet: &'a Fleet,
    org: String,
    ws: String,
    target: String,
    tenancy: Option<Tenancy>,
}

impl MoveWorkspace<'_> {
    /// The tenancy engine owning the workspace. With it, the move holds the organization's
    /// lock (no tenancy change of the organization interleaves with the copy) and, after
    /// copying, reconciles the workspace's desired objects (tenancy objects and applications)
    /// into the target, so drift on the source is not carried over.
    pub fn tenancy(mut self, tenancy: &Tenancy) -> Self {
        self.tenancy = Some(tenancy.clone());
        self
    }
}

impl Fleet {
    /// Move workspace `ws` of `org` to member `target` with its namespaces and applications
    /// (finish with `.execute()`). See the module documentation of `fleet::moving` for the
    /// steps; a target without room or not allowed for the workspace is refused with a typed
    /// error (`QuotaExceeded` naming `cluster <target>`, `FailedPrecondition`) and nothing
    /// changes.
    pub fn move_workspace(&self, org: &str, ws: &str, target: &str) -> MoveWorkspace<'_> {
        MoveWorkspace {
            fleet: self,
            org: org.to_owned(),
            ws: ws.to_owned(),
            target: target.to_owned(),
            tenancy: None,
        }
    }
}

/// A copy of `o` fit to apply elsewhere: no server-set fields, no status, no cluster-local
/// addresses or tokens.
fn portable(ty: &ResourceType, mut o: DynamicObject) -> DynamicObject {
    let m = &mut o.metadata;
    m.resource_version = None;
    m.uid = None;
    m.creation_timestamp = None;
    m.generation = None;
    m.managed_fields = None;
    m.deletion_timestamp = None;
    m.deletion_grace_period_seconds = None;
    m.self_link = None;
    if let Some(a) = m.annotations.as_mut() {
        a.remove(super::ANNOTATION_CLUSTER);
    }
    if let Some(map) = o.data.as_object_mut() {
        map.remove("status");
    }
    match ty.kind.as_str() {
        "Service" => {
            if let Some(spec) = o.data["spec"].as_object_mut() {
                spec.remove("clusterIP");
                spec.remove("clusterIPs");
            }
        }
        "PersistentVolumeClaim" => {
            if let Some(spec) = o.data["spec"].as_object_mut() {
                spec.remove("volumeName");
            }
        }
        "Secret" if o.data["type"] == "kubernetes.io/service-account-token" => {
            // the target's token controller issues its own token
            if let Some(map) = o.data.as_object_mut() {
                map.remove("data");
            }
        }
        _ => {}
    }
    o
}

/// Whether a move copies `o` (controllers recreate what they own; the root CA config map is
/// published by every cluster itself).
fn copied(ty: &ResourceType, o: &DynamicObject) -> bool {
    let owned = o
        .metadata
        .owner_references
        .as_ref()
        .is_some_and(|r| !r.is_empty());
    let root_ca = ty.kind == "ConfigMap" && o.metadata.name.as_deref() == Some("kube-root-ca.crt");
    !owned && !root_ca
}

fn ws_selector(org: &str, ws: &str) -> Selector {
    Selector::from_labels([
        (MANAGED_BY, MANAGER),
        (LABEL_ORG, org),
        (LABEL_WORKSPACE, ws),
    ])
}

impl MoveWorkspace<'_> {
    /// Validate, copy, switch, clean; see [`Fleet::move_workspace`].
    pub async fn execute(self) -> Result<MoveReport> {
        let fleet = self.fleet;
        let (org, ws, target) = (self.org.as_str(), self.ws.as_str(), self.target.as_str());
        Name::new(org)?;
        let ws_name = Name::new(ws)?;
        let _org_guard = match &self.tenancy {
            Some(t) => Some(t.lock(org).await),
            None => None,
        };
        let _g = fleet.inner.placing.lock().await;
        fleet.refresh().await?;
        let w = fleet.workspace(org, ws).await?;
        let target_backend = fleet.member(target)?;
        let (mut a, mut rev) = fleet.assignment_rev(org, ws).ok_or_else(|| {
            Error::precondition(format!(
                "workspace {} is not placed on any cluster yet",
                assignment_key(org, ws)
            ))
        })?;
        let mut report = MoveReport {
            to: target.to_owned(),
            ..MoveReport::default()
        };
        // a previous switch whose source was not cleaned yet
        if let Some(src) = a.leaving.clone() {
            report.from = src.clone();
            self.clean(&src, &mut report).await?;
            a.leaving = None;
            rev = self.save(&a, rev).await?;
        }
        if a.cluster == target {
            return Ok(report);
        }
        // validate the target before changing anything
        let infos = fleet.measure(Some((org, ws))).await?;
        let info = infos.iter().find(|c| c.name == target).ok_or_else(|| {
            Error::unavailable(format!("fleet member {target} is not connected"), None)
        })?;
        placement::check(info, &fleet.request_for(&w)?)?;
        let source = fleet.member(&a.cluster)?;
        report.from = a.cluster.clone();
        // an abandoned move to another cluster: remove what it copied
        if let Some(old) = a.moving_to.clone()
            && old != target
        {
            self.delete_namespaces(&old, &mut report).await?;
        }
        if a.moving_to.as_deref() != Some(target) {
            a.moving_to = Some(target.to_owned());
            rev = self.save(&a, rev).await?;
        }
        let mut keys = self
            .copy(source.as_ref(), target_backend.as_ref(), &mut report)
            .await?;
        if let Some(t) = &self.tenancy {
            let desired = t.workspace_desired(org, &ws_name).await?;
            let rec = reconcile_objects(
                target_backend.as_ref(),
                &desired,
                &ws_selector(org, ws),
                &managed_types(),
                t.retry_policy(),
            )
            .await;
            if let Some(e) = rec.to_error() {
                return Err(e);
            }
            report.reconciled = rec.writes();
            keys.extend(desired.iter().map(|d| d.key()));
        }
        self.wait_for(target_backend.as_ref(), &keys).await?;
        // switch
        a = Assignment {
            cluster: target.to_owned(),
            moving_to: None,
            leaving: Some(report.from.clone()),
            ..a
        };
        rev = self.save(&a, rev).await?;
        tracing::info!(workspace = %assignment_key(org, ws), from = %report.from, to = %target, "workspace switched");
        self.clean(&report.from.clone(), &mut report).await?;
        a.leaving = None;
        self.save(&a, rev).await?;
        if let Some(t) = &self.tenancy {
            // through the fleet, now the target: claims a dedicated workspace's node pool
            // there and records the workspace's status
            let rec = t.sync_workspace(org, &ws_name).await?;
            report.reconciled += rec.writes();
        }
        Ok(report)
    }

    async fn save(&self, a: &Assignment, rev: u64) -> Result<u64> {
        self.fleet
            .commit_assignment(a.clone(), Precondition::Revision(rev))
            .await
    }

    /// Copy every namespace of the workspace and its objects; returns what was copied.
    async fn copy(
        &self,
        source: &dyn ClusterBackend,
        target: &dyn ClusterBackend,
        report: &mut MoveReport,
    ) -> Result<Vec<(ResourceType, Option<String>, String)>> {
        let policy = self.fleet.inner.retry;
        let ns_ty = ResourceType::of::<Namespace>();
        let sel = ListOptions::labels(ws_selector(&self.org, &self.ws));
        let namespaces = retry(policy, || source.list(&ns_ty, None, &sel))
            .await?
            .items;
        let opts = ApplyOptions::default();
        let mut keys = Vec::new();
        let all = ListOptions::default();
        for ns in namespaces {
            let name = ns.metadata.name.clone().unwrap_or_default();
            if ns.metadata.deletion_timestamp.is_some()
                || ns.data["status"]["phase"] == "Terminating"
            {
                continue; // its project is being deleted
            }
            let obj = portable(&ns_ty, ns);
            retry(policy, || target.apply(&ns_ty, obj.clone(), &opts)).await?;
            keys.push((ns_ty.clone(), None, name.clone()));
            report.copied += 1;
            for ty in copied_types() {
                let items = retry(policy, || source.list(&ty, Some(&name), &all))
                    .await?
                    .items;
                for o in items.into_iter().filter(|o| copied(&ty, o)) {
                    let obj = portable(&ty, o);
                    let n = obj.metadata.name.clone().unwrap_or_default();
                    retry(policy, || target.apply(&ty, obj.clone(), &opts)).await?;
                    keys.push((ty.clone(), Some(name.clone()), n));
                    report.copied += 1;
                }
            }
            self.fleet.learn_namespace(&name, &self.org, &self.ws);
            report.namespaces.push(name);
        }
        Ok(keys)
    }

    /// Read back every copied object (a lost response or a slow cluster is retried).
    async fn wait_for(
        &self,
        target: &dyn ClusterBackend,
        keys: &[(ResourceType, Option<String>, String)],
    ) -> Result<()> {
        let policy = self.fleet.inner.retry;
        for (ty, ns, name) in keys {
            let mut delay = policy.backoff;
            let mut attempt = 0;
            loop {
                attempt += 1;
                match target.get(ty, ns.as_deref(), name).await {
                    Ok(_) => break,
                    Err(e)
                        if (e.kind() == ErrorKind::NotFound || e.is_retryable())
                            && attempt < policy.attempts.max(1) * 4 =>
                    {
                        tokio::time::sleep(delay).await;
                        delay = delay
                            .saturating_mul(2)
                            .min(std::time::Duration::from_secs(2));
                    }
                    Err(e) if e.kind() == ErrorKind::NotFound => {
                        return Err(Error::Timeout {
                            operation: format!(
                                "waiting for {} {}/{name} on the target cluster",
                                ty.kind,
                                ns.as_deref().unwrap_or("")
                            ),
                        });
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }

    /// Delete the workspace's namespaces on `cluster` (their contents go with them).
    async fn delete_namespaces(&self, cluster: &str, report: &mut MoveReport) -> Result<()> {
        let b = self.fleet.member(cluster)?;
        let policy = self.fleet.inner.retry;
        let ns_ty = ResourceType::of::<Namespace>();
        let sel = ListOptions::labels(ws_selector(&self.org, &self.ws));
        let namespaces = retry(policy, || b.list(&ns_ty, None, &sel)).await?.items;
        for ns in namespaces {
            let name = ns.metadata.name.clone().unwrap_or_default();
            match retry(policy, || b.delete(&ns_ty, None, &name)).await {
                Ok(()) => report.deleted_namespaces += 1,
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Remove the workspace from `cluster`: namespaces, and its dedicated nodes' pool label
    /// and taint.
    async fn clean(&self, cluster: &str, report: &mut MoveReport) -> Result<()> {
        self.delete_namespaces(cluster, report).await?;
        let b = self.fleet.member(cluster)?;
        let policy = self.fleet.inner.retry;
        let pool = pool_id(&Name::new(&self.org)?, &Name::new(&self.ws)?);
        let node_ty = ResourceType::of::<Node>();
        let mine = ListOptions::labels(Selector::from_labels([(LABEL_POOL, pool.as_str())]));
        let nodes = retry(policy, || b.list(&node_ty, None, &mine)).await?.items;
        for n in nodes {
            let name = n.metadata.name.clone().unwrap_or_default();
            let res = retry(policy, || async {
                let live = b.get(&node_ty, None, &name).await?;
                match crate::engine::pools::with_pool(live, None) {
                    Some(freed) => b.replace(&node_ty, freed).await.map(|_| true),
                    None => Ok(false),
                }
            })
            .await?;
            if res {
                report.released_nodes += 1;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portable_drops_server_fields_and_cluster_addresses() {
        let svc: DynamicObject = serde_json::from_value(serde_json::json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "namespace": "a-b-c", "uid": "u", "resourceVersion": "7",
                         "creationTimestamp": "2026-01-01T00:00:00Z",
                         "annotations": {"fleet.hxb.io/cluster": "eu-1", "keep": "me"}},
            "spec": {"clusterIP": "10.0.0.7", "clusterIPs": ["10.0.0.7"], "ports": [{"port": 80}]},
            "status": {"loadBalancer": {}}
        }))
        .unwrap();
        let p = portable(&ResourceType::of::<Service>(), svc);
        let v = serde_json::to_value(&p).unwrap();
        assert!(v["metadata"].get("uid").is_none());
        assert!(v["metadata"].get("resourceVersion").is_none());
        assert!(v["metadata"].get("creationTimestamp").is_none());
        assert_eq!(
            v["metadata"]["annotations"],
            serde_json::json!({"keep": "me"})
        );
        assert!(v.get("status").is_none());
        assert_eq!(v["spec"], serde_json::json!({"ports": [{"port": 80}]}));
        let owned: DynamicObject = serde_json::from_value(serde_json::json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "x", "namespace": "n", "ownerReferences": [
                {"apiVersion": "v1", "kind": "X", "name": "o", "uid": "u"}]}
        }))
        .unwrap();
        assert!(!copied(&ResourceType::of::<ConfigMap>(), &owned));
    }

    #[test]
    fn copied_types_are_namespaced() {
        assert!(copied_types().iter().all(|t| t.namespaced));
        let kinds: std::collections::BTreeMap<String, ()> =
            copied_types().into_iter().map(|t| (t.kind, ())).collect();
        assert!(kinds.contains_key("Deployment") && kinds.contains_key("ResourceQuota"));
    }
}
