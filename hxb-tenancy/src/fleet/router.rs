//! The routing backend: one `ClusterBackend` over every member of a [`Fleet`].
//!
//! * A namespaced call goes to the cluster of the namespace's workspace (the tenancy store's
//!   namespace index says which workspace; the fleet's assignment says which cluster, placing
//!   the workspace on first use). Namespaces hxb does not manage live on the home member
//!   (the first registered) unless the object names another member (see below).
//! * A Namespace labelled with an organization and workspace goes to that workspace's cluster.
//! * Other cluster-scoped objects (nodes, cluster roles, custom resources) are read from every
//!   member; what the fleet returns carries the annotation [`ANNOTATION_CLUSTER`] naming its
//!   member, and a write of such an object goes back there (the annotation is stripped). A
//!   node list whose selector names a node pool (`hxb.io/pool`) is asked of the pool's
//!   workspace's cluster only. A new cluster-scoped object labelled with an organization goes
//!   to the clusters hosting that organization's workspaces, one without to every member.
//!   Access reviews (`authorization.k8s.io`) go to the cluster serving the namespace asked
//!   about (home when none).
//! * Lists and watches across namespaces (or of cluster-scoped kinds) are merged: objects in a
//!   workspace's namespace only from the cluster serving it, ordered by namespace, name and
//!   member. A merged list has no single resourceVersion (it is empty), so a watch over the
//!   merged view starts now.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt;
use hxb_core::cluster::{
    ApplyOptions, BackendKind, DynamicObject, ListOptions, ObjectList, ResourceType, WatchEvent,
    WatchOptions, WatchStream,
};
use hxb_core::selector::Requirement;
use hxb_core::{ClusterBackend, Error, ErrorKind, Result};

use super::{ANNOTATION_CLUSTER, Fleet};
use crate::naming::{LABEL_ORG, LABEL_POOL, LABEL_WORKSPACE};

type Member = (String, Arc<dyn ClusterBackend>);

pub(crate) struct FleetRouter {
    fleet: Fleet,
}

fn is_namespace(ty: &ResourceType) -> bool {
    ty.kind == "Namespace" && ty.group.is_empty()
}

fn is_node(ty: &ResourceType) -> bool {
    ty.kind == "Node" && ty.group.is_empty()
}

fn label<'a>(o: &'a DynamicObject, key: &str) -> Option<&'a str> {
    o.metadata.labels.as_ref()?.get(key).map(String::as_str)
}

fn tag(mut o: DynamicObject, member: &str) -> DynamicObject {
    o.metadata
        .annotations
        .get_or_insert_with(BTreeMap::new)
        .insert(ANNOTATION_CLUSTER.to_owned(), member.to_owned());
    o
}

/// Remove the fleet annotation, returning the member it named.
fn untag(o: &mut DynamicObject) -> Option<String> {
    let a = o.metadata.annotations.as_mut()?;
    let m = a.remove(ANNOTATION_CLUSTER);
    if a.is_empty() {
        o.metadata.annotations = None;
    }
    m
}

/// The node pool a selector asks about, and whether it is a claim: `hxb.io/pool=<p>` or
/// `in (<p>)` (the pool's nodes) or `notin (<p>)` (free nodes the pool may claim, see
/// [`free_nodes_selector`](crate::engine::pools::free_nodes_selector)).
fn pool_in(opts: &ListOptions) -> Option<(String, bool)> {
    let sel = opts.label_selector.as_ref()?;
    sel.requirements().iter().find_map(|r| match r {
        Requirement::Equals(k, v) if k == LABEL_POOL => Some((v.clone(), false)),
        Requirement::In(k, vs) if k == LABEL_POOL && vs.len() == 1 => {
            vs.iter().next().map(|v| (v.clone(), false))
        }
        Requirement::NotIn(k, vs) if k == LABEL_POOL && vs.len() == 1 => {
            vs.iter().next().map(|v| (v.clone(), true))
        }
        _ => None,
    })
}

impl FleetRouter {
    pub(crate) fn new(fleet: Fleet) -> Self {
        FleetRouter { fleet }
    }

    fn member(&self, name: &str) -> Result<Member> {
        Ok((name.to_owned(), self.fleet.member(name)?))
    }

    async fn for_workspace(&self, org: &str, ws: &str) -> Result<Member> {
        let c = self.fleet.cluster_of(org, ws).await?;
        self.member(&c)
    }

    /// The member serving namespace `ns`: its workspace's cluster, or `fallback` (a member an
    /// object named), or home.
    async fn for_namespace(&self, ns: &str, fallback: Option<String>) -> Result<Member> {
        match self.fleet.owner_of_namespace(ns).await? {
            Some((o, w)) => self.for_workspace(&o, &w).await,
            None => match fallback {
                Some(m) => self.member(&m),
                None => self.fleet.home(),
            },
        }
    }

    /// The cluster a namespace's objects are shown from in merged views (`None`: unmanaged
    /// or not placed, shown from every member).
    async fn shown_from(&self, ns: &str) -> Result<Option<String>> {
        Ok(match self.fleet.owner_of_namespace(ns).await? {
            Some((o, w)) => self.fleet.assignment(&o, &w).map(|a| a.cluster),
            None => None,
        })
    }

    /// Where a write of `obj` goes (the fleet annotation is removed from `obj`).
    async fn route_write(&self, ty: &ResourceType, obj: &mut DynamicObject) -> Result<Vec<Member>> {
        let named = untag(obj);
        if ty.namespaced {
            let ns = obj.metadata.namespace.clone().ok_or_else(|| {
                Error::invalid(
                    "metadata.namespace",
                    "a namespaced object needs a namespace",
                )
            })?;
            return Ok(vec![self.for_namespace(&ns, named).await?]);
        }
        let name = obj.metadata.name.clone().unwrap_or_default();
        if is_namespace(ty) {
            if let (Some(o), Some(w)) = (label(obj, LABEL_ORG), label(obj, LABEL_WORKSPACE)) {
                let (o, w) = (o.to_owned(), w.to_owned());
                self.fleet.learn_namespace(&name, &o, &w);
                return Ok(vec![self.for_workspace(&o, &w).await?]);
            }
            return Ok(vec![self.for_namespace(&name, named).await?]);
        }
        if let Some(m) = named {
            return Ok(vec![self.member(&m)?]);
        }
        if ty.group == "authorization.k8s.io" {
            // access reviews are questions, not objects: ask the cluster serving the namespace
            let ns = obj.data["spec"]["resourceAttributes"]["namespace"]
                .as_str()
                .map(str::to_owned);
            return Ok(vec![match ns {
                Some(ns) => self.for_namespace(&ns, None).await?,
                None => self.fleet.home()?,
            }]);
        }
        if is_node(ty) {
            if let Some(pool) = label(obj, LABEL_POOL)
                && let Some((o, w)) = self.fleet.workspace_of_pool(pool).await?
            {
                return Ok(vec![self.for_workspace(&o, &w).await?]);
            }
            return Ok(vec![self.fleet.home()?]);
        }
        if let Some(org) = label(obj, LABEL_ORG) {
            let mut names: Vec<String> = self
                .fleet
                .assignments()
                .into_iter()
                .filter(|a| a.organization.as_str() == org)
                .map(|a| a.cluster)
                .collect();
            names.sort();
            names.dedup();
            if names.is_empty() {
                return Ok(vec![self.fleet.home()?]);
            }
            return names.iter().map(|n| self.member(n)).collect();
        }
        Ok(self.fleet.connected())
    }

    /// Run a write on every target; the first target's answer is returned.
    async fn write<F, Fut>(
        &self,
        ty: &ResourceType,
        mut obj: DynamicObject,
        f: F,
    ) -> Result<DynamicObject>
    where
        F: Fn(Arc<dyn ClusterBackend>, DynamicObject) -> Fut,
        Fut: std::future::Future<Output = Result<DynamicObject>>,
    {
        let targets = self.route_write(ty, &mut obj).await?;
        let mut first = None;
        for (name, b) in targets {
            let out = f(b, obj.clone()).await?;
            if first.is_none() {
                first = Some(tag(out, &name));
            }
        }
        first.ok_or_else(|| Error::precondition("the fleet has no connected member cluster"))
    }

    /// Members to read a cluster-scoped object (or an unowned namespace) from, in order.
    async fn probe(&self, ty: &ResourceType, name: &str) -> Result<Vec<(String, DynamicObject)>> {
        let mut found = Vec::new();
        for (m, b) in self.fleet.connected() {
            match b.get(ty, None, name).await {
                Ok(o) => found.push((m, o)),
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(found)
    }

    async fn keep(&self, ty: &ResourceType, member: &str, o: &DynamicObject) -> Result<bool> {
        if is_namespace(ty) {
            if let (Some(org), Some(ws)) = (label(o, LABEL_ORG), label(o, LABEL_WORKSPACE)) {
                return Ok(self
                    .fleet
                    .assignment(org, ws)
                    .is_none_or(|a| a.cluster == member));
            }
            return Ok(true);
        }
        match (&o.metadata.namespace, ty.namespaced) {
            (Some(ns), true) => Ok(self.shown_from(ns).await?.is_none_or(|c| c == member)),
            _ => Ok(true),
        }
    }
}

#[async_trait]
impl ClusterBackend for FleetRouter {
    fn kind(&self) -> BackendKind {
        let members = self.fleet.connected();
        if members
            .iter()
            .any(|(_, b)| b.kind() != BackendKind::Embedded)
        {
            BackendKind::Kubernetes
        } else {
            BackendKind::Embedded
        }
    }

    async fn create(&self, ty: &ResourceType, obj: DynamicObject) -> Result<DynamicObject> {
        self.write(ty, obj, |b, o| async move { b.create(ty, o).await })
            .await
    }

    async fn apply(
        &self,
        ty: &ResourceType,
        obj: DynamicObject,
        opts: &ApplyOptions,
    ) -> Result<DynamicObject> {
        self.write(ty, obj, |b, o| async move { b.apply(ty, o, opts).await })
            .await
    }

    async fn replace(&self, ty: &ResourceType, obj: DynamicObject) -> Result<DynamicObject> {
        self.write(ty, obj, |b, o| async move { b.replace(ty, o).await })
            .await
    }

    async fn replace_status(&self, ty: &ResourceType, obj: DynamicObject) -> Result<DynamicObject> {
        self.write(ty, obj, |b, o| async move { b.replace_status(ty, o).await })
            .await
    }

    async fn get(
        &self,
        ty: &ResourceType,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<DynamicObject> {
        if let (true, Some(ns)) = (ty.namespaced, namespace) {
            let (m, b) = self.for_namespace(ns, None).await?;
            return Ok(tag(b.get(ty, Some(ns), name).await?, &m));
        }
        if is_namespace(ty)
            && let Some((o, w)) = self.fleet.owner_of_namespace(name).await?
        {
            let (m, b) = self.for_workspace(&o, &w).await?;
            return Ok(tag(b.get(ty, None, name).await?, &m));
        }
        match self.probe(ty, name).await?.into_iter().next() {
            Some((m, o)) => Ok(tag(o, &m)),
            None => Err(Error::not_found(ty.kind.clone(), name)),
        }
    }

    async fn list(
        &self,
        ty: &ResourceType,
        namespace: Option<&str>,
        opts: &ListOptions,
    ) -> Result<ObjectList> {
        let targets: Vec<Member> = match (ty.namespaced, namespace) {
            (true, Some(ns)) => vec![self.for_namespace(ns, None).await?],
            _ if is_node(ty) => match pool_in(opts) {
                Some((pool, claim)) => match self.fleet.workspace_of_pool(&pool).await? {
                    // claiming places the workspace; a placed pool's nodes are on its cluster
                    Some((o, w)) if claim => vec![self.for_workspace(&o, &w).await?],
                    Some((o, w)) => match self.fleet.assignment(&o, &w) {
                        Some(a) => vec![self.member(&a.cluster)?],
                        None => self.fleet.connected(),
                    },
                    None => self.fleet.connected(),
                },
                None => self.fleet.connected(),
            },
            _ => self.fleet.connected(),
        };
        let single = targets.len() == 1;
        let mut items: Vec<(usize, DynamicObject)> = Vec::new();
        let mut resource_version = String::new();
        for (i, (m, b)) in targets.iter().enumerate() {
            let list = b.list(ty, namespace, opts).await?;
            if single {
                resource_version = list.resource_version;
            }
            for o in list.items {
                if single || self.keep(ty, m, &o).await? {
                    items.push((i, tag(o, m)));
                }
            }
        }
        items.sort_by(|(ia, a), (ib, b)| {
            (&a.metadata.namespace, &a.metadata.name, ia).cmp(&(
                &b.metadata.namespace,
                &b.metadata.name,
                ib,
            ))
        });
        Ok(ObjectList {
            items: items.into_iter().map(|(_, o)| o).collect(),
            resource_version,
        })
    }

    async fn delete(&self, ty: &ResourceType, namespace: Option<&str>, name: &str) -> Result<()> {
        if let (true, Some(ns)) = (ty.namespaced, namespace) {
            let (_, b) = self.for_namespace(ns, None).await?;
            return b.delete(ty, Some(ns), name).await;
        }
        if is_namespace(ty)
            && let Some((o, w)) = self.fleet.owner_of_namespace(name).await?
        {
            let (_, b) = self.for_workspace(&o, &w).await?;
            return b.delete(ty, None, name).await;
        }
        let found = self.probe(ty, name).await?;
        if found.is_empty() {
            return Err(Error::not_found(ty.kind.clone(), name));
        }
        for (m, _) in found {
            match self.fleet.member(&m)?.delete(ty, None, name).await {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    async fn watch(
        &self,
        ty: &ResourceType,
        namespace: Option<&str>,
        opts: &WatchOptions,
    ) -> Result<WatchStream> {
        if let (true, Some(ns)) = (ty.namespaced, namespace) {
            let (m, b) = self.for_namespace(ns, None).await?;
            let s = b.watch(ty, Some(ns), opts).await?;
            return Ok(s.map(move |ev| ev.map(|e| retag(e, &m))).boxed());
        }
        let members = self.fleet.connected();
        let mut merged_opts = opts.clone();
        if members.len() != 1 {
            // a resourceVersion belongs to one cluster: the merged view starts now
            merged_opts.resource_version = None;
        }
        let mut streams = Vec::new();
        for (m, b) in members {
            let s = b.watch(ty, namespace, &merged_opts).await?;
            let fleet = self.fleet.clone();
            let ty = ty.clone();
            let s = s.filter_map(move |ev| {
                let router = FleetRouter::new(fleet.clone());
                let (m, ty) = (m.clone(), ty.clone());
                async move {
                    match ev {
                        Err(e) => Some(Err(e)),
                        Ok(e) => match router.keep(&ty, &m, e.object()).await {
                            Ok(true) => Some(Ok(retag(e, &m))),
                            Ok(false) => None,
                            Err(err) => Some(Err(err)),
                        },
                    }
                }
            });
            streams.push(s.boxed());
        }
        Ok(futures::stream::select_all(streams).boxed())
    }
}

fn retag(e: WatchEvent, member: &str) -> WatchEvent {
    match e {
        WatchEvent::Added(o) => WatchEvent::Added(tag(o, member)),
        WatchEvent::Modified(o) => WatchEvent::Modified(tag(o, member)),
        WatchEvent::Deleted(o) => WatchEvent::Deleted(tag(o, member)),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hxb_core::Selector;

    #[test]
    fn pool_is_read_from_equals_in_and_notin() {
        let sel = |s: &str| ListOptions::labels(Selector::parse(s).unwrap());
        assert_eq!(
            pool_in(&sel("hxb.io/pool=acme.dev")),
            Some(("acme.dev".into(), false))
        );
        assert_eq!(
            pool_in(&sel(
                "hxb.io/node-size=m,!hxb.io/pool,hxb.io/pool notin (acme.dev)"
            )),
            Some(("acme.dev".into(), true))
        );
        assert_eq!(pool_in(&sel("hxb.io/node-size=m,!hxb.io/pool")), None);
        assert_eq!(pool_in(&sel("hxb.io/pool in (a.b,c.d)")), None);
    }

    #[test]
    fn tags_round_trip() {
        let o: DynamicObject = serde_json::from_value(serde_json::json!({
            "apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"}}))
        .unwrap();
        let mut t = tag(o.clone(), "eu-1");
        assert_eq!(untag(&mut t).as_deref(), Some("eu-1"));
        assert_eq!(t, o);
    }
}
