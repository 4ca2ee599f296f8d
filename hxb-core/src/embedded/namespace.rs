//! Namespace lifecycle: termination, cascading deletion and finalisation.

use serde_json::json;

use super::json;
use super::state::{NAMESPACE, State};
use super::store::is;
use crate::cluster::{DynamicObject, ResourceType};

impl State {
    /// Whether a namespace object is terminating.
    pub(crate) fn namespace_terminating(&self, ns: &DynamicObject) -> bool {
        ns.metadata.deletion_timestamp.is_some()
            || json::field(&ns.data, "status")
                .and_then(|s| s.get("phase"))
                .and_then(|p| p.as_str())
                == Some("Terminating")
    }

    /// Whether `ns` exists and accepts new content.
    pub(crate) fn namespace_active(&self, ns: &str) -> bool {
        self.store
            .get(&NAMESPACE, "", ns)
            .is_some_and(|n| !self.namespace_terminating(n))
    }

    /// Start deleting a namespace: mark it `Terminating`, delete everything in it (objects
    /// with finalizers stay until their finalizers are removed) and remove it once empty.
    pub(crate) fn terminate_namespace(&mut self, name: &str) {
        let Some(existing) = self.store.get(&NAMESPACE, "", name).cloned() else {
            return;
        };
        if !self.namespace_terminating(&existing) {
            let mut ns = DynamicObject::clone(&existing);
            ns.metadata.deletion_timestamp = Some(self.now());
            ns.metadata.deletion_grace_period_seconds = Some(0);
            json::set_field(
                &mut ns.data,
                "status",
                Some(json!({"phase": "Terminating"})),
            );
            self.write(&NAMESPACE, ns);
        }
        let content: Vec<(ResourceType, String)> = self
            .store
            .in_namespace(name)
            .map(|(ty, o)| {
                (
                    ResourceType::clone(ty),
                    o.metadata.name.clone().unwrap_or_default(),
                )
            })
            .collect();
        for (ty, obj) in content {
            self.delete_object(&ty, name, &obj);
        }
        self.finalize_namespace(name);
    }

    /// Remove a terminating namespace once it holds nothing and has no finalizers left.
    pub(crate) fn finalize_namespace(&mut self, name: &str) {
        let Some(ns) = self.store.get(&NAMESPACE, "", name) else {
            return;
        };
        if self.namespace_terminating(ns)
            && ns.metadata.finalizers.as_ref().is_none_or(|f| f.is_empty())
            && self.store.namespace_is_empty(name)
        {
            self.remove(&NAMESPACE, "", name);
        }
    }

    /// After a namespaced object changed: keep quota usage current and finish a terminating
    /// namespace whose last object went.
    pub(crate) fn on_namespaced_change(&mut self, ty: &ResourceType, ns: &str, deleted: bool) {
        if is(ty, "", "ResourceQuota") || self.has_quotas(ns) {
            self.refresh_quotas(ns);
        }
        if deleted && !self.namespace_active(ns) {
            self.finalize_namespace(ns);
        }
    }
}
