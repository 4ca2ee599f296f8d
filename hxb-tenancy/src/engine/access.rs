//! Asking the cluster: "may user U do verb V on resource R in namespace N?" and "can this
//! workload fit in project P now?".

use hxb_core::cluster::{BackendKind, ListOptions, ResourceType};
use hxb_core::{Error, ErrorKind, ResourceList, Result};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::ResourceQuota;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};

use super::Tenancy;
use crate::reconcile::retry;
use crate::rbac::{AccessRequest, RbacSet};

impl Tenancy {
    /// Whether the cluster allows `req`. A real cluster is asked through a
    /// `SubjectAccessReview`; the embedded cluster, which has no authorizer of its own, is
    /// answered by the RBAC authorizer ([`RbacSet`]) over the cluster's *live* Roles,
    /// RoleBindings, ClusterRoles and ClusterRoleBindings — so an out-of-band change to them
    /// shows up in the answer.
    pub async fn check_access(&self, req: &AccessRequest) -> Result<bool> {
        if self.cluster().kind() == BackendKind::Kubernetes {
            return self.subject_access_review(req).await;
        }
        let mut objects = Vec::new();
        objects.extend(self.list_all(ResourceType::of::<ClusterRole>(), None).await?);
        objects.extend(self.list_all(ResourceType::of::<ClusterRoleBinding>(), None).await?);
        if let Some(ns) = req.namespace.as_deref() {
            objects.extend(self.list_all(ResourceType::of::<Role>(), Some(ns)).await?);
            objects.extend(self.list_all(ResourceType::of::<RoleBinding>(), Some(ns)).await?);
        }
        Ok(RbacSet::from_objects(objects.iter())?.allows(req))
    }

    async fn list_all(&self, ty: ResourceType, ns: Option<&str>) -> Result<Vec<hxb_core::cluster::DynamicObject>> {
        let all = ListOptions::default();
        Ok(retry(self.inner.retry, || self.cluster().list(&ty, ns, &all)).await?.items)
    }

    async fn subject_access_review(&self, req: &AccessRequest) -> Result<bool> {
        let (resource, sub) = match req.resource.split_once('/') {
            Some((r, s)) => (r.to_owned(), Some(s.to_owned())),
            None => (req.resource.clone(), None),
        };
        let sar = SubjectAccessReview {
            spec: SubjectAccessReviewSpec {
                user: Some(req.user.clone()),
                groups: (!req.groups.is_empty()).then(|| req.groups.clone()),
                resource_attributes: Some(ResourceAttributes {
                    verb: Some(req.verb.clone()),
                    group: Some(req.group.clone()),
                    resource: Some(resource),
                    subresource: sub,
                    namespace: req.namespace.clone(),
                    name: req.name.clone(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        let obj = crate::render::DesiredObject::from_typed(&sar)?;
        let created = retry(self.inner.retry, || self.cluster().create(&obj.ty, obj.object.clone())).await?;
        Ok(created.data["status"]["allowed"].as_bool().unwrap_or(false))
    }

    /// Can a workload asking for `request` (ResourceQuota names: `requests.cpu`, `pods`, …)
    /// start in project `org/ws/project` now? Answered from the live ResourceQuota of its
    /// namespace (`status.hard` and `status.used` as the cluster accounts them). On refusal the
    /// [`QuotaExceeded`](hxb_core::ErrorKind::QuotaExceeded) error lists every resource short.
    ///
    /// This is advice for callers (a UI, an agent); the binding check is the cluster's own
    /// quota admission when the workload is created, which is atomic per namespace, so
    /// concurrent creations cannot overcommit either.
    pub async fn workload_fits(&self, org: &str, ws: &str, project: &str, request: &ResourceList) -> Result<()> {
        let prj = self.project(org, ws, project).await?;
        let ty = ResourceType::of::<ResourceQuota>();
        let rq = match retry(self.inner.retry, || self.cluster().get(&ty, Some(&prj.namespace), "hxb-quota")).await {
            Ok(o) => o,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(Error::precondition(format!("project {org}/{ws}/{project} is not reconciled yet")));
            }
            Err(e) => return Err(e),
        };
        let rq: ResourceQuota = serde_json::from_value(serde_json::to_value(rq).map_err(|e| Error::internal(e.to_string()))?)
            .map_err(|e| Error::backend("cannot decode ResourceQuota", e))?;
        let status = rq.status.unwrap_or_default();
        let hard = match status.hard {
            Some(h) => ResourceList::from_k8s(&h)?,
            None => ResourceList::from_k8s(&rq.spec.and_then(|s| s.hard).unwrap_or_default())?,
        };
        let used = ResourceList::from_k8s(&status.used.unwrap_or_default())?;
        ResourceList::admit(&format!("{}/hxb-quota", prj.namespace), &hard, &used, request)
    }
}
