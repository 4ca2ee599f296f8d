//! `core/v1` Events recorded by the cluster's own controllers (scheduler, quota refusals),
//! so operators and analyzers read them as on a real cluster.

use std::sync::LazyLock;

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::json;
use super::state::State;
use crate::cluster::{DynamicObject, ResourceType};

/// `v1/Event`.
pub(crate) static EVENT: LazyLock<ResourceType> = LazyLock::new(ResourceType::of::<Event>);

impl State {
    /// Record an Event about `involved` (skipped outside an active namespace, so events
    /// never hold a terminating namespace open).
    pub(crate) fn record_event(
        &mut self,
        ty: &ResourceType,
        involved: &DynamicObject,
        type_: &str,
        reason: &str,
        message: &str,
        component: &str,
    ) {
        let Some(ns) = involved.metadata.namespace.clone() else {
            return;
        };
        if !self.namespace_active(&ns) {
            return;
        }
        let obj_name = involved.metadata.name.clone().unwrap_or_default();
        let now = self.now();
        let event = Event {
            metadata: ObjectMeta {
                name: Some(format!("{obj_name}.{:016x}", self.rv + 1)),
                namespace: Some(ns.clone()),
                uid: Some(self.rng.uuid()),
                creation_timestamp: Some(now.clone()),
                ..Default::default()
            },
            involved_object: ObjectReference {
                api_version: Some(ty.api_version()),
                kind: Some(ty.kind.clone()),
                name: Some(obj_name),
                namespace: Some(ns),
                uid: involved.metadata.uid.clone(),
                resource_version: involved.metadata.resource_version.clone(),
                ..Default::default()
            },
            reason: Some(reason.into()),
            message: Some(message.into()),
            type_: Some(type_.into()),
            count: Some(1),
            first_timestamp: Some(now.clone()),
            last_timestamp: Some(now),
            source: Some(EventSource {
                component: Some(component.into()),
                host: None,
            }),
            reporting_component: Some(component.into()),
            reporting_instance: Some(component.into()),
            ..Default::default()
        };
        match json::to_dynamic(&event) {
            Ok(mut d) => {
                d.types = Some(crate::cluster::TypeMeta {
                    api_version: "v1".into(),
                    kind: "Event".into(),
                });
                self.commit(&EVENT, d);
            }
            Err(e) => tracing::warn!(error = %e, "cannot encode event"),
        }
    }
}
