//! The object store: one table per kind, each indexed by namespace then name.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::cluster::{DynamicObject, ResourceType};

/// Objects of one kind: namespace (`""` for cluster-scoped) → name → object.
#[derive(Debug)]
pub(crate) struct Table {
    pub(crate) ty: Arc<ResourceType>,
    by_ns: BTreeMap<String, BTreeMap<String, Arc<DynamicObject>>>,
    len: usize,
}

impl Table {
    /// Objects in `namespace` (or every namespace when `None`), ordered by namespace then name.
    pub(crate) fn iter<'a>(
        &'a self,
        namespace: Option<&'a str>,
    ) -> Box<dyn Iterator<Item = &'a Arc<DynamicObject>> + 'a> {
        match namespace {
            Some(ns) => Box::new(self.by_ns.get(ns).into_iter().flat_map(|m| m.values())),
            None => Box::new(self.by_ns.values().flat_map(|m| m.values())),
        }
    }
}

/// Every object of the cluster.
#[derive(Debug, Default)]
pub(crate) struct Store {
    tables: Vec<Table>,
    len: usize,
}

/// Whether `ty` names the kind `group`/`kind`.
pub(crate) fn is(ty: &ResourceType, group: &str, kind: &str) -> bool {
    ty.kind == kind && ty.group == group
}

impl Store {
    /// How many objects are stored.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The table of a kind, if any object of it was ever stored.
    pub(crate) fn table(&self, ty: &ResourceType) -> Option<&Table> {
        self.tables.iter().find(|t| is(&t.ty, &ty.group, &ty.kind))
    }

    /// The table of `group`/`kind`.
    pub(crate) fn table_of(&self, group: &str, kind: &str) -> Option<&Table> {
        self.tables.iter().find(|t| is(&t.ty, group, kind))
    }

    fn table_mut(&mut self, ty: &ResourceType) -> &mut Table {
        let i = match self
            .tables
            .iter()
            .position(|t| is(&t.ty, &ty.group, &ty.kind))
        {
            Some(i) => i,
            None => {
                self.tables.push(Table {
                    ty: Arc::new(ty.clone()),
                    by_ns: BTreeMap::new(),
                    len: 0,
                });
                self.tables.len() - 1
            }
        };
        &mut self.tables[i]
    }

    /// One object.
    pub(crate) fn get(
        &self,
        ty: &ResourceType,
        ns: &str,
        name: &str,
    ) -> Option<&Arc<DynamicObject>> {
        self.table(ty)?.by_ns.get(ns)?.get(name)
    }

    /// Insert or overwrite; returns the kind's shared type and the previous object.
    pub(crate) fn insert_typed(
        &mut self,
        ty: &ResourceType,
        ns: &str,
        name: &str,
        obj: Arc<DynamicObject>,
    ) -> (Arc<ResourceType>, Option<Arc<DynamicObject>>) {
        let t = self.table_mut(ty);
        let names = match t.by_ns.get_mut(ns) {
            Some(m) => m,
            None => t.by_ns.entry(ns.to_owned()).or_default(),
        };
        let prev = match names.get_mut(name) {
            Some(slot) => Some(std::mem::replace(slot, obj)),
            None => {
                names.insert(name.to_owned(), obj);
                None
            }
        };
        let shared = t.ty.clone();
        if prev.is_none() {
            t.len += 1;
            self.len += 1;
        }
        (shared, prev)
    }

    /// Remove; returns the removed object.
    pub(crate) fn remove(
        &mut self,
        ty: &ResourceType,
        ns: &str,
        name: &str,
    ) -> Option<Arc<DynamicObject>> {
        let t = self
            .tables
            .iter_mut()
            .find(|t| is(&t.ty, &ty.group, &ty.kind))?;
        let names = t.by_ns.get_mut(ns)?;
        let prev = names.remove(name)?;
        if names.is_empty() {
            t.by_ns.remove(ns);
        }
        t.len -= 1;
        self.len -= 1;
        Some(prev)
    }

    /// Every namespaced object in `ns`, with its type, ordered by kind table then name.
    pub(crate) fn in_namespace<'a>(
        &'a self,
        ns: &'a str,
    ) -> impl Iterator<Item = (&'a Arc<ResourceType>, &'a Arc<DynamicObject>)> + 'a {
        self.tables
            .iter()
            .filter(|t| t.ty.namespaced)
            .flat_map(move |t| t.iter(Some(ns)).map(move |o| (&t.ty, o)))
    }

    /// Every object, table by table.
    pub(crate) fn all(&self) -> impl Iterator<Item = &Arc<DynamicObject>> {
        self.tables.iter().flat_map(|t| t.iter(None))
    }

    /// Whether `ns` holds no namespaced object.
    pub(crate) fn namespace_is_empty(&self, ns: &str) -> bool {
        self.tables
            .iter()
            .filter(|t| t.ty.namespaced)
            .all(|t| !t.by_ns.contains_key(ns))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ConfigMap;

    fn obj(name: &str) -> Arc<DynamicObject> {
        let mut o = DynamicObject::new(name, &ResourceType::of::<ConfigMap>().api_resource());
        o.metadata.namespace = Some("ns".into());
        Arc::new(o)
    }

    #[test]
    fn insert_get_remove_keep_counts_and_order() {
        let ty = ResourceType::of::<ConfigMap>();
        let mut s = Store::default();
        assert!(s.insert_typed(&ty, "ns", "b", obj("b")).1.is_none());
        assert!(s.insert_typed(&ty, "ns", "a", obj("a")).1.is_none());
        assert!(s.insert_typed(&ty, "ns", "a", obj("a")).1.is_some());
        assert_eq!(s.len(), 2);
        let names: Vec<_> = s
            .table(&ty)
            .unwrap()
            .iter(None)
            .map(|o| o.metadata.name.clone().unwrap())
            .collect();
        assert_eq!(names, ["a", "b"]);
        assert!(!s.namespace_is_empty("ns"));
        assert!(s.remove(&ty, "ns", "a").is_some());
        assert!(s.remove(&ty, "ns", "a").is_none());
        assert!(s.remove(&ty, "ns", "b").is_some());
        assert_eq!(s.len(), 0);
        assert!(s.namespace_is_empty("ns"));
        assert!(s.get(&ty, "ns", "b").is_none());
    }
}
