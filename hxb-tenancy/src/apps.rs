//! Applications in projects: what they are, what quota they need, and the objects they
//! render to. Pure.
//!
//! | kind | objects |
//! |---|---|
//! | stateless | Deployment + Service (when a port is given) |
//! | stateful | StatefulSet with a volume claim template + headless Service |
//! | cron job | CronJob (manual runs are Jobs made from its template) |
//! | function | Deployment + Service of the active version (`hxb.io/function-version`) |
//!
//! Every object carries the project's owner labels plus `hxb.io/app=<name>`, the workspace's
//! dedicated placement (node selector and toleration) if any, and the application's own
//! required node labels (node affinity).

use std::collections::BTreeMap;

use hxb_core::{Error, Name, Quantity, ResourceList, Result};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, StatefulSet, StatefulSetSpec};
use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{
    Affinity, Container, ContainerPort, NodeAffinity, NodeSelector, NodeSelectorRequirement,
    NodeSelectorTerm, PersistentVolumeClaim, PersistentVolumeClaimSpec, PodSpec, PodTemplateSpec,
    ResourceRequirements, SecurityContext, Service, ServicePort, ServiceSpec, Toleration,
    VolumeMount, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::{Deserialize, Serialize};

use crate::render::DesiredObject;

/// Label naming the application an object belongs to.
pub const LABEL_APP: &str = "hxb.io/app";
/// Pod label carrying a function's active version.
pub const LABEL_FUNCTION_VERSION: &str = "hxb.io/function-version";
/// Pod-template annotation bumped by a restart.
pub const RESTARTED_AT: &str = "hxb.io/restarted-at";

/// What kind of application.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AppKind {
    /// Deployment (+ Service).
    Stateless,
    /// StatefulSet with one volume per replica of `storage`.
    Stateful {
        /// Volume size per replica.
        storage: Quantity,
    },
    /// CronJob on a cron `schedule`.
    CronJob {
        /// Cron schedule, e.g. `*/5 * * * *`.
        schedule: String,
    },
    /// A function: versioned images, one active, served by a Deployment + Service.
    Function {
        /// Images by version (version `n` is `versions[n - 1]`).
        versions: Vec<String>,
        /// The active version (1-based).
        active: usize,
    },
}

/// An application as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Application {
    /// Organization.
    pub organization: Name,
    /// Workspace.
    pub workspace: Name,
    /// Project.
    pub project: Name,
    /// Name (unique in the project).
    pub name: Name,
    /// Kind.
    pub kind: AppKind,
    /// Container image.
    pub image: String,
    /// Desired replicas while running (ignored for cron jobs).
    pub replicas: i32,
    /// Whether it is stopped (scaled to zero, `replicas` kept for the restart).
    pub stopped: bool,
    /// Container port exposed through a Service.
    pub port: Option<i32>,
    /// Requests per replica (`cpu`, `memory`); limits are set equal.
    pub requests: ResourceList,
    /// Node labels the pods require (node affinity).
    pub node_affinity: BTreeMap<String, String>,
    /// Last restart request (RFC 3339), rendered as a pod-template annotation.
    pub restarted_at: Option<String>,
    /// Run the container privileged (`securityContext.privileged`); with the `policy`
    /// feature only plans that allow privileged containers accept it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub privileged: bool,
}

impl Application {
    /// Replicas to run now.
    pub fn effective_replicas(&self) -> i32 {
        if self.stopped || matches!(self.kind, AppKind::CronJob { .. }) {
            0
        } else {
            self.replicas
        }
    }

    /// The quota this application holds in its project: requests × replicas, pods, services,
    /// and for stateful applications storage × replicas and one PVC per replica. A cron job
    /// counts one concurrent run.
    pub fn quota_need(&self) -> Result<ResourceList> {
        let n = match self.kind {
            AppKind::CronJob { .. } => 1,
            _ => i64::from(self.effective_replicas()),
        };
        let mut need = ResourceList::new();
        for (k, v) in self.requests.iter() {
            need.set(
                hxb_core::ResourceName::new(format!("requests.{k}"))?,
                v.checked_mul(n)?,
            )?;
        }
        need.set(hxb_core::ResourceName::new("pods")?, Quantity::from_int(n))?;
        if self.port.is_some() || matches!(self.kind, AppKind::Stateful { .. }) {
            need.set(
                hxb_core::ResourceName::new("services")?,
                Quantity::from_int(1),
            )?;
        }
        if let AppKind::Stateful { storage } = &self.kind {
            need.set(
                hxb_core::ResourceName::new("requests.storage")?,
                storage.checked_mul(n)?,
            )?;
            need.set(
                hxb_core::ResourceName::new("persistentvolumeclaims")?,
                Quantity::from_int(n),
            )?;
        }
        Ok(need)
    }

    /// Check the fields a caller sets.
    pub fn validate(&self) -> Result<()> {
        if self.image.trim().is_empty() {
            return Err(Error::invalid("image", "must not be empty"));
        }
        if self.replicas < 0 {
            return Err(Error::invalid("replicas", "must not be negative"));
        }
        if let Some(p) = self.port
            && !(1..=65535).contains(&p)
        {
            return Err(Error::invalid("port", format!("{p} is not in 1..=65535")));
        }
        if let AppKind::CronJob { schedule } = &self.kind
            && schedule.split_whitespace().count() != 5
        {
            return Err(Error::invalid(
                "schedule",
                format!("{schedule:?} needs five fields"),
            ));
        }
        if let AppKind::Function { versions, active } = &self.kind
            && (*active == 0 || *active > versions.len())
        {
            return Err(Error::invalid(
                "version",
                format!("{active} is not one of 1..={}", versions.len()),
            ));
        }
        for k in self.requests.iter().map(|(k, _)| k.as_str()) {
            if k != "cpu" && k != "memory" {
                return Err(Error::invalid(
                    "requests",
                    format!("{k}: only cpu and memory"),
                ));
            }
        }
        Ok(())
    }
}

/// Pod placement handed to [`render_app`]: the workspace's dedicated node selector and
/// tolerations (empty for shared plans).
#[derive(Debug, Clone, Default)]
pub struct Placement {
    /// Node selector.
    pub node_selector: BTreeMap<String, String>,
    /// Tolerations.
    pub tolerations: Vec<Toleration>,
}

fn pod_template(
    app: &Application,
    labels: &BTreeMap<String, String>,
    place: &Placement,
) -> PodTemplateSpec {
    let res = app.requests.to_k8s();
    let container = Container {
        name: "app".into(),
        image: Some(app.image.clone()),
        ports: app.port.map(|p| {
            vec![ContainerPort {
                container_port: p,
                ..Default::default()
            }]
        }),
        resources: Some(ResourceRequirements {
            requests: Some(res.clone()),
            limits: Some(res),
            ..Default::default()
        }),
        security_context: app.privileged.then(|| SecurityContext {
            privileged: Some(true),
            ..Default::default()
        }),
        volume_mounts: matches!(app.kind, AppKind::Stateful { .. }).then(|| {
            vec![VolumeMount {
                name: "data".into(),
                mount_path: "/data".into(),
                ..Default::default()
            }]
        }),
        ..Default::default()
    };
    let affinity = (!app.node_affinity.is_empty()).then(|| Affinity {
        node_affinity: Some(NodeAffinity {
            required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                node_selector_terms: vec![NodeSelectorTerm {
                    match_expressions: Some(
                        app.node_affinity
                            .iter()
                            .map(|(k, v)| NodeSelectorRequirement {
                                key: k.clone(),
                                operator: "In".into(),
                                values: Some(vec![v.clone()]),
                            })
                            .collect(),
                    ),
                    ..Default::default()
                }],
            }),
            ..Default::default()
        }),
        ..Default::default()
    });
    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(labels.clone()),
            annotations: app
                .restarted_at
                .as_ref()
                .map(|t| BTreeMap::from([(RESTARTED_AT.to_owned(), t.clone())])),
            ..Default::default()
        }),
        spec: Some(PodSpec {
            containers: vec![container],
            node_selector: (!place.node_selector.is_empty()).then(|| place.node_selector.clone()),
            tolerations: (!place.tolerations.is_empty()).then(|| place.tolerations.clone()),
            affinity,
            restart_policy: matches!(app.kind, AppKind::CronJob { .. }).then(|| "OnFailure".into()),
            ..Default::default()
        }),
    }
}

/// The objects of one application in `namespace`; `owner` are the project's labels.
pub fn render_app(
    app: &Application,
    namespace: &str,
    owner: &BTreeMap<String, String>,
    place: &Placement,
) -> Result<Vec<DesiredObject>> {
    let mut labels = owner.clone();
    labels.insert(LABEL_APP.to_owned(), app.name.to_string());
    let mut pod_labels = labels.clone();
    if let AppKind::Function { active, .. } = &app.kind {
        pod_labels.insert(LABEL_FUNCTION_VERSION.to_owned(), active.to_string());
    }
    let selector = BTreeMap::from([(LABEL_APP.to_owned(), app.name.to_string())]);
    let meta = ObjectMeta {
        name: Some(app.name.to_string()),
        namespace: Some(namespace.to_owned()),
        labels: Some(labels.clone()),
        ..Default::default()
    };
    let template = pod_template(app, &pod_labels, place);
    let sel = LabelSelector {
        match_labels: Some(selector.clone()),
        ..Default::default()
    };
    let mut out = Vec::new();
    let service = |headless: bool, port: i32| Service {
        metadata: meta.clone(),
        spec: Some(ServiceSpec {
            selector: Some(selector.clone()),
            cluster_ip: headless.then(|| "None".into()),
            ports: Some(vec![ServicePort {
                port,
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    };
    match &app.kind {
        AppKind::Stateless | AppKind::Function { .. } => {
            out.push(DesiredObject::from_typed(&Deployment {
                metadata: meta.clone(),
                spec: Some(DeploymentSpec {
                    replicas: Some(app.effective_replicas()),
                    selector: sel,
                    template,
                    ..Default::default()
                }),
                ..Default::default()
            })?);
            if let Some(p) = app.port {
                out.push(DesiredObject::from_typed(&service(false, p))?);
            }
        }
        AppKind::Stateful { storage } => {
            let claim = PersistentVolumeClaim {
                metadata: ObjectMeta {
                    name: Some("data".into()),
                    ..Default::default()
                },
                spec: Some(PersistentVolumeClaimSpec {
                    access_modes: Some(vec!["ReadWriteOnce".into()]),
                    resources: Some(VolumeResourceRequirements {
                        requests: Some(BTreeMap::from([("storage".to_owned(), storage.to_k8s())])),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            };
            out.push(DesiredObject::from_typed(&StatefulSet {
                metadata: meta.clone(),
                spec: Some(StatefulSetSpec {
                    replicas: Some(app.effective_replicas()),
                    selector: sel,
                    service_name: Some(app.name.to_string()),
                    template,
                    volume_claim_templates: Some(vec![claim]),
                    ..Default::default()
                }),
                ..Default::default()
            })?);
            out.push(DesiredObject::from_typed(&service(
                true,
                app.port.unwrap_or(80),
            ))?);
        }
        AppKind::CronJob { schedule } => {
            out.push(DesiredObject::from_typed(&CronJob {
                metadata: meta.clone(),
                spec: Some(CronJobSpec {
                    schedule: schedule.clone(),
                    suspend: Some(app.stopped),
                    job_template: JobTemplateSpec {
                        metadata: Some(ObjectMeta {
                            labels: Some(labels.clone()),
                            ..Default::default()
                        }),
                        spec: Some(JobSpec {
                            template,
                            ..Default::default()
                        }),
                    },
                    ..Default::default()
                }),
                ..Default::default()
            })?);
        }
    }
    Ok(out)
}
