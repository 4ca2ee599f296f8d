//! The cluster state and its API operations (create, apply, replace, get, list, delete,
//! watch). Kind-specific behaviour lives in the sibling modules as `impl State` blocks.

use std::sync::{Arc, LazyLock};

use k8s_openapi::api::core::v1::{Namespace, Node, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::json;
use super::pods::SchedCache;
use super::store::{Store, is};
use super::watch::{Change, Filter, Record, WatchLog};
use crate::clock::Clock;
use crate::cluster::{
    ApplyOptions, DynamicObject, ListOptions, ObjectList, ResourceType, WatchOptions, WatchStream,
};
use crate::error::{Error, Result};
use crate::scheduling::PodScheduler;

/// `v1/Namespace`.
pub(crate) static NAMESPACE: LazyLock<ResourceType> = LazyLock::new(ResourceType::of::<Namespace>);
/// `v1/Pod`.
pub(crate) static POD: LazyLock<ResourceType> = LazyLock::new(ResourceType::of::<Pod>);
/// `v1/Node`.
pub(crate) static NODE: LazyLock<ResourceType> = LazyLock::new(ResourceType::of::<Node>);

/// SplitMix64: a tiny, fixed, portable generator, so seeds reproduce across platforms and
/// dependency versions.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A random version-4 UUID.
    pub(crate) fn uuid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | ((b >> 48) & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    }

    /// Five characters from the alphabet the API server uses for `generateName`.
    pub(crate) fn name_suffix(&mut self) -> String {
        const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        let mut x = self.next_u64();
        (0..5)
            .map(|_| {
                let c = ALPHABET[(x % ALPHABET.len() as u64) as usize] as char;
                x /= ALPHABET.len() as u64;
                c
            })
            .collect()
    }
}

/// Everything the cluster holds, behind one lock.
pub(crate) struct State {
    pub(crate) store: Store,
    pub(crate) rv: u64,
    pub(crate) rng: SplitMix64,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) scheduler: Arc<dyn PodScheduler>,
    pub(crate) watch: WatchLog,
    pub(crate) sched: SchedCache,
    /// Workloads waiting for their controller, and its re-entrancy guard.
    pub(crate) reconcile_queue:
        std::collections::BTreeSet<(super::controllers::Workload, String, String)>,
    pub(crate) reconciling: bool,
    /// Re-entrancy guard of the pending-pod retry loop.
    pub(crate) retrying: bool,
    pub(crate) retry_again: bool,
    /// Container logs appended by the embedder.
    pub(crate) logs: super::logs::PodLogs,
}

/// The storage namespace key of an object: `""` for cluster-scoped kinds.
pub(crate) fn scope<'a>(ty: &ResourceType, namespace: Option<&'a str>) -> Result<&'a str> {
    match (ty.namespaced, namespace) {
        (true, Some(ns)) if !ns.is_empty() => Ok(ns),
        (true, _) => Err(Error::invalid(
            "metadata.namespace",
            format!("{} are namespaced: a namespace is required", ty.plural),
        )),
        (false, _) => Ok(""),
    }
}

/// The API server's NotFound for an object: `deployments.apps "web" not found` (the
/// namespace is not part of the message, as on the API server).
pub(crate) fn not_found(ty: &ResourceType, _ns: &str, name: &str) -> Error {
    ty.not_found(name)
}

fn rv_of(obj: &DynamicObject) -> Option<&str> {
    obj.metadata
        .resource_version
        .as_deref()
        .filter(|s| !s.is_empty())
}

impl State {
    pub(crate) fn new(
        seed: u64,
        clock: Arc<dyn Clock>,
        scheduler: Arc<dyn PodScheduler>,
        watch_history: usize,
    ) -> Self {
        State {
            store: Store::default(),
            rv: 0,
            rng: SplitMix64::new(seed),
            clock,
            scheduler,
            watch: WatchLog::new(watch_history),
            sched: SchedCache::default(),
            reconcile_queue: Default::default(),
            reconciling: false,
            retrying: false,
            retry_again: false,
            logs: Default::default(),
        }
    }

    /// Now, as a Kubernetes `Time`.
    pub(crate) fn now(&self) -> Time {
        Time(self.clock.now())
    }

    /// Store `obj` under a new resourceVersion and record the change; no side effects.
    pub(crate) fn commit(
        &mut self,
        ty: &ResourceType,
        mut obj: DynamicObject,
    ) -> Arc<DynamicObject> {
        self.rv += 1;
        obj.metadata.resource_version = Some(self.rv.to_string());
        let ns = obj.metadata.namespace.clone().unwrap_or_default();
        let name = obj.metadata.name.clone().unwrap_or_default();
        let obj = Arc::new(obj);
        let (shared, prev) = self.store.insert_typed(ty, &ns, &name, obj.clone());
        let change = if prev.is_some() {
            Change::Modified
        } else {
            Change::Added
        };
        self.watch.push(Record {
            rv: self.rv,
            ty: shared,
            change,
            obj: obj.clone(),
            prev,
        });
        obj
    }

    /// Remove an object under a new resourceVersion and record the deletion; no side effects.
    pub(crate) fn commit_remove(
        &mut self,
        ty: &ResourceType,
        ns: &str,
        name: &str,
    ) -> Option<Arc<DynamicObject>> {
        let removed = self.store.remove(ty, ns, name)?;
        self.rv += 1;
        let mut last = DynamicObject::clone(&removed);
        last.metadata.resource_version = Some(self.rv.to_string());
        let last = Arc::new(last);
        let shared = self
            .store
            .table(ty)
            .map(|t| t.ty.clone())
            .unwrap_or_else(|| Arc::new(ty.clone()));
        self.watch.push(Record {
            rv: self.rv,
            ty: shared,
            change: Change::Deleted,
            obj: last.clone(),
            prev: None,
        });
        Some(last)
    }

    /// Store with side effects (scheduling, quota usage, namespace finalisation).
    pub(crate) fn write(&mut self, ty: &ResourceType, obj: DynamicObject) -> Arc<DynamicObject> {
        let ns = obj.metadata.namespace.clone().unwrap_or_default();
        let name = obj.metadata.name.clone().unwrap_or_default();
        let old = self.store.get(ty, &ns, &name).cloned();
        let new = self.commit(ty, obj);
        self.after_write(ty, &ns, old.as_deref(), Some(&new));
        new
    }

    /// Remove with side effects.
    pub(crate) fn remove(&mut self, ty: &ResourceType, ns: &str, name: &str) {
        if let Some(old) = self.commit_remove(ty, ns, name) {
            self.after_write(ty, ns, Some(&old), None);
        }
    }

    /// The synchronous controllers: run after every change made through the API.
    fn after_write(
        &mut self,
        ty: &ResourceType,
        ns: &str,
        old: Option<&DynamicObject>,
        new: Option<&DynamicObject>,
    ) {
        if is(ty, "", "Pod") {
            self.on_pod_change(old, new);
        } else if is(ty, "", "Node") {
            self.on_node_change(old, new);
        }
        if ty.namespaced {
            self.on_namespaced_change(ty, ns, new.is_none());
            self.on_workload_trigger(ty, ns, old, new);
        }
    }

    /// Assign identity and timestamps to a new object and apply kind defaults.
    fn initialise(&mut self, ty: &ResourceType, obj: &mut DynamicObject) {
        let m = &mut obj.metadata;
        m.uid = Some(self.rng.uuid());
        m.creation_timestamp = Some(Time(self.clock.now()));
        m.deletion_timestamp = None;
        m.deletion_grace_period_seconds = None;
        m.managed_fields = None;
        m.generation = json::field(&obj.data, "spec").map(|_| 1);
        if is(ty, "", "Namespace") {
            json::set_field(
                &mut obj.data,
                "status",
                Some(serde_json::json!({"phase": "Active"})),
            );
        }
    }

    /// Create; a refused request leaves everything unchanged, the generator included.
    pub(crate) fn create(
        &mut self,
        ty: &ResourceType,
        obj: DynamicObject,
    ) -> Result<DynamicObject> {
        let rng = self.rng.clone();
        let created = self.create_inner(ty, obj);
        if created.is_err() {
            self.rng = rng;
        }
        created
    }

    fn create_inner(&mut self, ty: &ResourceType, mut obj: DynamicObject) -> Result<DynamicObject> {
        self.check_type_meta(ty, &mut obj)?;
        if obj.metadata.name.as_deref().unwrap_or("").is_empty()
            && let Some(prefix) = obj.metadata.generate_name.clone().filter(|p| !p.is_empty())
        {
            obj.metadata.name = Some(format!("{prefix}{}", self.rng.name_suffix()));
        }
        let name = self.check_name(ty, &obj)?;
        let ns = self.check_namespace(ty, &mut obj)?;
        if rv_of(&obj).is_some() {
            return Err(Error::invalid(
                "metadata.resourceVersion",
                "resourceVersion should not be set on objects to be created",
            ));
        }
        if ty.namespaced {
            self.check_namespace_active(&ns)?;
        }
        if self.store.get(ty, &ns, &name).is_some() {
            return Err(Error::already_exists(
                ty.plural.clone(),
                if ns.is_empty() {
                    name
                } else {
                    format!("{ns}/{name}")
                },
            ));
        }
        self.admit(ty, &ns, None, &mut obj)?;
        self.initialise(ty, &mut obj);
        let created = self.write(ty, obj);
        Ok(self
            .latest(ty, &ns, &name)
            .unwrap_or_else(|| DynamicObject::clone(&created)))
    }

    /// The current state of an object, if it exists.
    pub(crate) fn latest(&self, ty: &ResourceType, ns: &str, name: &str) -> Option<DynamicObject> {
        self.store
            .get(ty, ns, name)
            .map(|o| DynamicObject::clone(o))
    }

    pub(crate) fn replace(
        &mut self,
        ty: &ResourceType,
        mut obj: DynamicObject,
        status_only: bool,
    ) -> Result<DynamicObject> {
        self.check_type_meta(ty, &mut obj)?;
        let name = self.check_name(ty, &obj)?;
        let ns = self.check_namespace(ty, &mut obj)?;
        let existing = self
            .store
            .get(ty, &ns, &name)
            .cloned()
            .ok_or_else(|| not_found(ty, &ns, &name))?;
        if let Some(rv) = rv_of(&obj)
            && Some(rv) != rv_of(&existing)
        {
            return Err(Error::conflict(
                ty.plural.clone(),
                if ns.is_empty() {
                    name
                } else {
                    format!("{ns}/{name}")
                },
                format!(
                    "the object has been modified; please apply your changes to the latest version and try again (stale resourceVersion {rv}, current {})",
                    rv_of(&existing).unwrap_or("")
                ),
            ));
        }
        if let Some(uid) = obj.metadata.uid.as_deref()
            && Some(uid) != existing.metadata.uid.as_deref()
        {
            return Err(Error::conflict(
                ty.plural.clone(),
                name,
                format!(
                    "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                    existing.metadata.uid.as_deref().unwrap_or("")
                ),
            ));
        }
        let mut new = if status_only {
            let mut n = DynamicObject::clone(&existing);
            json::set_field(
                &mut n.data,
                "status",
                json::field(&obj.data, "status").cloned(),
            );
            n
        } else {
            let m = &existing.metadata;
            obj.metadata.uid = m.uid.clone();
            obj.metadata.creation_timestamp = m.creation_timestamp.clone();
            obj.metadata.deletion_timestamp = m.deletion_timestamp.clone();
            obj.metadata.deletion_grace_period_seconds = m.deletion_grace_period_seconds;
            obj.metadata.generation = m.generation;
            obj.metadata.generate_name = m.generate_name.clone();
            json::set_field(
                &mut obj.data,
                "status",
                json::field(&existing.data, "status").cloned(),
            );
            if json::spec_changed(&existing.data, &obj.data) {
                obj.metadata.generation = Some(m.generation.unwrap_or(0) + 1);
            }
            obj
        };
        new.metadata.resource_version = existing.metadata.resource_version.clone();
        new.metadata.managed_fields = None;
        if new.metadata == existing.metadata
            && new.data == existing.data
            && new.types == existing.types
        {
            return Ok(DynamicObject::clone(&existing));
        }
        self.admit(ty, &ns, Some(&existing), &mut new)?;
        let finished = new.metadata.deletion_timestamp.is_some()
            && new
                .metadata
                .finalizers
                .as_ref()
                .is_none_or(|f| f.is_empty());
        let written = self.write(ty, new);
        if finished {
            self.finish_deletion(ty, &ns, &name);
        }
        Ok(self
            .latest(ty, &ns, &name)
            .unwrap_or_else(|| DynamicObject::clone(&written)))
    }

    /// Server-side apply, approximated: create, or merge the applied fields over the object
    /// (JSON merge patch; `status` ignored) and replace it. See `docs/embedded-cluster.md`.
    pub(crate) fn apply(
        &mut self,
        ty: &ResourceType,
        mut obj: DynamicObject,
        opts: &ApplyOptions,
    ) -> Result<DynamicObject> {
        if opts.field_manager.is_empty() {
            return Err(Error::invalid(
                "fieldManager",
                "is required for apply patch",
            ));
        }
        self.check_type_meta(ty, &mut obj)?;
        let name = self.check_name(ty, &obj)?;
        let ns = self.check_namespace(ty, &mut obj)?;
        let Some(existing) = self.store.get(ty, &ns, &name).cloned() else {
            if rv_of(&obj).is_some() {
                return Err(not_found(ty, &ns, &name));
            }
            return self.create(ty, obj);
        };
        let mut merged = DynamicObject::clone(&existing);
        merged.metadata.resource_version = rv_of(&obj)
            .map(str::to_owned)
            .or(existing.metadata.resource_version.clone());
        if let Some(labels) = obj.metadata.labels.take() {
            merged
                .metadata
                .labels
                .get_or_insert_default()
                .extend(labels);
        }
        if let Some(ann) = obj.metadata.annotations.take() {
            merged
                .metadata
                .annotations
                .get_or_insert_default()
                .extend(ann);
        }
        if let Some(f) = obj.metadata.finalizers.take() {
            merged.metadata.finalizers = Some(f);
        }
        if let Some(o) = obj.metadata.owner_references.take() {
            merged.metadata.owner_references = Some(o);
        }
        json::set_field(&mut obj.data, "status", None);
        json::merge(&mut merged.data, &obj.data);
        self.replace(ty, merged, false)
    }

    pub(crate) fn get(
        &self,
        ty: &ResourceType,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<DynamicObject> {
        let ns = scope(ty, namespace)?;
        self.store
            .get(ty, ns, name)
            .map(|o| DynamicObject::clone(o))
            .ok_or_else(|| not_found(ty, ns, name))
    }

    pub(crate) fn list(
        &self,
        ty: &ResourceType,
        namespace: Option<&str>,
        opts: &ListOptions,
    ) -> Result<ObjectList> {
        let ns = if ty.namespaced { namespace } else { None };
        let items = match self.store.table(ty) {
            None => Vec::new(),
            Some(t) => t
                .iter(ns)
                .filter(|o| match &opts.label_selector {
                    None => true,
                    Some(sel) => {
                        sel.matches(o.metadata.labels.as_ref().unwrap_or(&Default::default()))
                    }
                })
                .map(|o| DynamicObject::clone(o))
                .collect(),
        };
        Ok(ObjectList {
            items,
            resource_version: self.rv.to_string(),
        })
    }

    pub(crate) fn delete(
        &mut self,
        ty: &ResourceType,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<()> {
        let ns = scope(ty, namespace)?.to_owned();
        if self.store.get(ty, &ns, name).is_none() {
            return Err(not_found(ty, &ns, name));
        }
        if is(ty, "", "Namespace") {
            self.terminate_namespace(name);
        } else {
            self.delete_object(ty, &ns, name);
        }
        Ok(())
    }

    /// Delete one object, honouring finalizers: with finalizers it only gets a
    /// deletionTimestamp and goes once an update removes the last one.
    pub(crate) fn delete_object(&mut self, ty: &ResourceType, ns: &str, name: &str) {
        let Some(existing) = self.store.get(ty, ns, name).cloned() else {
            return;
        };
        if existing
            .metadata
            .finalizers
            .as_ref()
            .is_some_and(|f| !f.is_empty())
        {
            if existing.metadata.deletion_timestamp.is_none() {
                let mut marked = DynamicObject::clone(&existing);
                marked.metadata.deletion_timestamp = Some(self.now());
                marked.metadata.deletion_grace_period_seconds = Some(0);
                self.write(ty, marked);
            }
        } else {
            self.remove(ty, ns, name);
        }
    }

    /// Remove an object whose deletion was waiting for its finalizers.
    fn finish_deletion(&mut self, ty: &ResourceType, ns: &str, name: &str) {
        if is(ty, "", "Namespace") {
            self.finalize_namespace(name);
        } else {
            self.remove(ty, ns, name);
        }
    }

    pub(crate) fn watch(
        &self,
        ty: &ResourceType,
        namespace: Option<&str>,
        opts: &WatchOptions,
    ) -> Result<WatchStream> {
        let from = match opts.resource_version.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(s.parse::<u64>().map_err(|_| {
                Error::invalid(
                    "resourceVersion",
                    format!("{s:?} is not a resourceVersion of this cluster"),
                )
            })?),
        };
        let filter = Filter {
            group: ty.group.clone(),
            kind: ty.kind.clone(),
            namespace: if ty.namespaced {
                namespace.map(str::to_owned)
            } else {
                None
            },
            selector: opts.label_selector.clone(),
        };
        self.watch.subscribe(filter, from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_is_seeded_and_uuids_are_well_formed() {
        let mut a = SplitMix64::new(42);
        let mut b = SplitMix64::new(42);
        let u = a.uuid();
        assert_eq!(u, b.uuid());
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_ne!(u, SplitMix64::new(43).uuid());
        assert_eq!(a.name_suffix().len(), 5);
    }
}
