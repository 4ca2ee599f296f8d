//! Pod security policy, pure: the Pod Security Standards levels and checks ([`pss`]), image
//! references ([`image`]), and where pod templates sit in workload objects
//! ([`pod_templates`]). Used by the embedded cluster's PodSecurity admission and by the
//! tenancy engine's own admission of what it deploys. See `docs/policy.md`.

pub mod image;
pub mod level;
pub mod pss;

use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use crate::cluster::DynamicObject;
use crate::error::{Error, Result};

pub use image::ImageRef;
pub use level::{PodSecurityLevel, PolicyVersion, enforced, namespace_labels};
pub use pss::{Violation, check_pod};

/// One pod (or pod template) inside an object, with the paths of its metadata and spec.
#[derive(Debug, Clone)]
pub struct PodTemplate {
    /// Path prefix of its metadata (`metadata.`, `spec.template.metadata.`).
    pub meta_prefix: String,
    /// Path prefix of its spec (`spec.`, `spec.template.spec.`).
    pub spec_prefix: String,
    /// The metadata (labels, annotations), if any.
    pub meta: Option<ObjectMeta>,
    /// The spec.
    pub spec: PodSpec,
}

/// Where the pod template of each kind sits (`[]` = the object is the pod).
fn template_path(api_version: &str, kind: &str) -> Option<&'static [&'static str]> {
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    match (group, kind) {
        ("", "Pod") => Some(&[]),
        ("", "PodTemplate") => Some(&["template"]),
        ("", "ReplicationController")
        | ("apps", "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet")
        | ("batch", "Job") => Some(&["spec", "template"]),
        ("batch", "CronJob") => Some(&["spec", "jobTemplate", "spec", "template"]),
        _ => None,
    }
}

/// The pods and pod templates in an object: one for a Pod and for each workload kind that
/// carries a template (PodTemplate, ReplicationController, Deployment, ReplicaSet,
/// StatefulSet, DaemonSet, Job, CronJob), none for anything else (or a template without a
/// spec). A template that does not decode is [`InvalidInput`](crate::ErrorKind::InvalidInput).
pub fn pod_templates(obj: &DynamicObject) -> Result<Vec<PodTemplate>> {
    let Some(types) = &obj.types else {
        return Ok(Vec::new());
    };
    let Some(path) = template_path(&types.api_version, &types.kind) else {
        return Ok(Vec::new());
    };
    let (meta, spec, prefix) = if path.is_empty() {
        (
            Some(obj.metadata.clone()),
            obj.data.get("spec"),
            String::new(),
        )
    } else {
        let mut v: Option<&Value> = Some(&obj.data);
        for seg in path {
            v = v.and_then(|x| x.get(*seg));
        }
        let Some(t) = v else { return Ok(Vec::new()) };
        let meta = match t.get("metadata") {
            Some(m) => Some(serde_json::from_value(m.clone()).map_err(|e| {
                Error::invalid(format!("{}.metadata", path.join(".")), e.to_string())
            })?),
            None => None,
        };
        (meta, t.get("spec"), format!("{}.", path.join(".")))
    };
    let Some(spec) = spec else {
        return Ok(Vec::new());
    };
    let spec: PodSpec = serde_json::from_value(spec.clone())
        .map_err(|e| Error::invalid(format!("{prefix}spec"), e.to_string()))?;
    Ok(vec![PodTemplate {
        meta_prefix: format!("{prefix}metadata."),
        spec_prefix: format!("{prefix}spec."),
        meta,
        spec,
    }])
}

/// Every Pod Security Standards violation of `level`/`version` in an object's pods and pod
/// templates (empty for kinds without pods).
pub fn check_object(
    obj: &DynamicObject,
    level: PodSecurityLevel,
    version: PolicyVersion,
) -> Result<Vec<Violation>> {
    Ok(pod_templates(obj)?
        .iter()
        .flat_map(|t| {
            check_pod(
                t.meta.as_ref(),
                &t.spec,
                level,
                version,
                &t.meta_prefix,
                &t.spec_prefix,
            )
        })
        .collect())
}

#[cfg(test)]
mod tests;
