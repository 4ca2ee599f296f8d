//! Request validation and the admission chain, in the API server's order: type and name
//! checks, namespace lifecycle, kind-specific defaulting and validation (pods and limit
//! ranges, quotas), PodSecurity (feature `policy`), then quota admission. Nothing here changes the store.

use super::state::State;
use super::store::is;
use crate::cluster::{DynamicObject, ResourceType};
use crate::error::{Error, Result};
use crate::name::{NameKind, validate};

/// The naming grammar of a kind, as the API server validates it.
pub(crate) fn name_kind(ty: &ResourceType) -> NameKind {
    if ty.group.is_empty() && ty.kind == "Namespace" {
        NameKind::Dns1123Label
    } else if ty.group.is_empty() && ty.kind == "Service" {
        NameKind::Dns1035Label
    } else {
        NameKind::Dns1123Subdomain
    }
}

impl State {
    /// `apiVersion`/`kind` must be absent or match the resource type.
    pub(crate) fn check_type_meta(&self, ty: &ResourceType, obj: &mut DynamicObject) -> Result<()> {
        match &obj.types {
            None => {
                obj.types = Some(crate::cluster::TypeMeta {
                    api_version: ty.api_version(),
                    kind: ty.kind.clone(),
                });
            }
            Some(t) if t.kind == ty.kind && t.api_version == ty.api_version() => {}
            Some(t) => {
                return Err(Error::invalid(
                    "kind",
                    format!(
                        "object is {}/{} but the request is for {}",
                        t.api_version, t.kind, ty
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The object's name, validated for its kind.
    pub(crate) fn check_name(&self, ty: &ResourceType, obj: &DynamicObject) -> Result<String> {
        let name = obj.metadata.name.as_deref().unwrap_or("");
        if name.is_empty() {
            return Err(Error::invalid(
                "metadata.name",
                "name or generateName is required",
            ));
        }
        validate(name, name_kind(ty))?;
        Ok(name.to_owned())
    }

    /// The object's namespace (`""` for cluster-scoped kinds, whose namespace is cleared).
    pub(crate) fn check_namespace(
        &self,
        ty: &ResourceType,
        obj: &mut DynamicObject,
    ) -> Result<String> {
        if !ty.namespaced {
            obj.metadata.namespace = None;
            return Ok(String::new());
        }
        let ns = obj.metadata.namespace.as_deref().unwrap_or("");
        if ns.is_empty() {
            return Err(Error::invalid(
                "metadata.namespace",
                format!("{} are namespaced: a namespace is required", ty.plural),
            ));
        }
        validate(ns, NameKind::Dns1123Label)?;
        Ok(ns.to_owned())
    }

    /// The namespace lifecycle admission: the namespace must exist and not be terminating.
    pub(crate) fn check_namespace_active(&self, ns: &str) -> Result<()> {
        match self.store.get(&super::state::NAMESPACE, "", ns) {
            None => Err(Error::not_found("namespaces", ns)),
            Some(n) if self.namespace_terminating(n) => Err(Error::forbidden(format!(
                "unable to create new content in namespace {ns} because it is being terminated"
            ))),
            Some(_) => Ok(()),
        }
    }

    /// Mutating and validating admission for a create (`old` = `None`) or an update.
    pub(crate) fn admit(
        &self,
        ty: &ResourceType,
        ns: &str,
        old: Option<&DynamicObject>,
        obj: &mut DynamicObject,
    ) -> Result<()> {
        if ty.group.is_empty() {
            match ty.kind.as_str() {
                "Pod" => {
                    self.admit_pod(ns, old, obj)?;
                    #[cfg(feature = "policy")]
                    if old.is_none() {
                        self.admit_pod_security(ns, obj)?;
                    }
                }
                "ResourceQuota" => super::quota::validate_quota(obj)?,
                "LimitRange" => super::limitrange::validate_limit_range(obj)?,
                _ => {}
            }
        }
        if is(ty, "apps", "Deployment") || is(ty, "apps", "StatefulSet") {
            super::controllers::validate_workload(obj)?;
        }
        if ty.namespaced && !is(ty, "", "ResourceQuota") {
            self.admit_quota(ty, ns, old, obj)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Service};

    #[test]
    fn names_follow_the_kind_grammar() {
        assert_eq!(
            name_kind(&ResourceType::of::<Namespace>()),
            NameKind::Dns1123Label
        );
        assert_eq!(
            name_kind(&ResourceType::of::<Service>()),
            NameKind::Dns1035Label
        );
        assert_eq!(
            name_kind(&ResourceType::of::<ConfigMap>()),
            NameKind::Dns1123Subdomain
        );
    }
}
