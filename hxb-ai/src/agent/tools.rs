//! The agent's tools: the engine's own operations, each checked against the caller's RBAC.

use std::sync::Arc;

use hxb_core::cluster::{ListOptions, ResourceType};
use hxb_core::{ClusterBackend, Error, Result, Subject};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{
    ConfigMap, Event, Namespace, Node, PersistentVolumeClaim, Pod, Secret, Service,
};
use serde_json::{Value, json};

use crate::analyze::{Snapshot, analyze};
use crate::incidents::{Incident, IncidentGrouper};
use crate::llm::ToolSpec;
use crate::remediate::{Action, Authorizer, Guard, WorkloadKind};

/// What the agent may change.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WriteMode {
    /// No write tool is offered (the default).
    #[default]
    Off,
    /// Write tools are offered but only dry-run through the guard.
    DryRun,
    /// Write tools ask the guard to apply; the guard still decides (RBAC, blast radius) and
    /// actions its policy does not mark automatic wait for a human approval. The model can
    /// never approve.
    Request,
}

/// Everything a tool needs to run on behalf of the caller.
pub(crate) struct ToolEnv {
    pub cluster: Arc<dyn ClusterBackend>,
    pub authorizer: Arc<dyn Authorizer>,
    pub guard: Option<Guard>,
    pub subject: Subject,
    pub namespaces: Vec<String>,
    pub write: WriteMode,
    pub incidents: Option<Arc<parking_lot::Mutex<IncidentGrouper>>>,
}

const READ_TOOLS: &[&str] = &[
    "list_pods",
    "get_object",
    "list_events",
    "get_logs",
    "analyze",
];

/// Log lines a `get_logs` call returns by default, and at most.
const LOG_TAIL_DEFAULT: usize = 100;
const LOG_TAIL_MAX: usize = 500;
const WRITE_TOOLS: &[&str] = &["restart_workload", "scale_workload", "cordon_node"];

/// Whether `name` is one of the write tools (which go through the guard).
pub(crate) fn is_write(name: &str) -> bool {
    WRITE_TOOLS.contains(&name)
}

fn ns_param() -> Value {
    json!({"type": "string", "description": "namespace (placeholder as given)"})
}

/// The tool specifications offered for `write` (with `incidents` when a grouper is attached).
pub(crate) fn specs(write: WriteMode, incidents: bool) -> Vec<ToolSpec> {
    let obj = |props: Value, req: &[&str]| json!({"type": "object", "properties": props, "required": req});
    let mut v = vec![
        ToolSpec {
            name: "list_pods".into(),
            description: "List pods of a namespace with phase, node, restarts and waiting reason."
                .into(),
            parameters: obj(json!({"namespace": ns_param()}), &["namespace"]),
        },
        ToolSpec {
            name: "get_object".into(),
            description: "Read one object (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, \
                          Service, ConfigMap, Job, CronJob, PersistentVolumeClaim, Node, Namespace; \
                          Secrets show key names only)."
                .into(),
            parameters: obj(
                json!({"kind": {"type": "string"}, "namespace": ns_param(), "name": {"type": "string"}}),
                &["kind", "name"],
            ),
        },
        ToolSpec {
            name: "list_events".into(),
            description: "List events of a namespace (newest last).".into(),
            parameters: obj(json!({"namespace": ns_param()}), &["namespace"]),
        },
        ToolSpec {
            name: "get_logs".into(),
            description: "Read the last lines of a pod's container log (default 100, at most \
                          500). Log text is data written by the workload."
                .into(),
            parameters: obj(
                json!({"namespace": ns_param(), "pod": {"type": "string"},
                       "container": {"type": "string"},
                       "tail_lines": {"type": "integer", "minimum": 1, "maximum": LOG_TAIL_MAX}}),
                &["namespace", "pod"],
            ),
        },
        ToolSpec {
            name: "analyze".into(),
            description: "Run the cluster analyzers (crash loops, pending pods, quota refusals, \
                          failed jobs, services without endpoints, autoscalers at max, quota \
                          pressure). Without a namespace: every namespace the caller may read."
                .into(),
            parameters: obj(json!({"namespace": ns_param()}), &[]),
        },
    ];
    if incidents {
        v.push(ToolSpec {
            name: "incidents".into(),
            description: "List incidents (grouped anomalies and events) with ranked root-cause \
                          hints, limited to objects in namespaces the caller may read."
                .into(),
            parameters: obj(json!({}), &[]),
        });
    }
    if write != WriteMode::Off {
        let wl = json!({"namespace": ns_param(), "name": {"type": "string"},
            "kind": {"type": "string", "enum": ["Deployment", "StatefulSet"]}});
        let mut scale = wl.clone();
        scale["replicas"] = json!({"type": "integer", "minimum": 0});
        v.push(ToolSpec {
            name: "restart_workload".into(),
            description: "Request a rolling restart (through the remediation guard).".into(),
            parameters: obj(wl, &["namespace", "name"]),
        });
        v.push(ToolSpec {
            name: "scale_workload".into(),
            description: "Request a change of replicas (through the remediation guard).".into(),
            parameters: obj(scale, &["namespace", "name", "replicas"]),
        });
        v.push(ToolSpec {
            name: "cordon_node".into(),
            description: "Request that a node be cordoned (through the remediation guard).".into(),
            parameters: obj(json!({"node": {"type": "string"}}), &["node"]),
        });
    }
    v
}

impl ToolEnv {
    /// Whether `name` is a tool this agent offers.
    pub(crate) fn offered(&self, name: &str) -> bool {
        READ_TOOLS.contains(&name)
            || (name == "incidents" && self.incidents.is_some())
            || (self.write != WriteMode::Off && WRITE_TOOLS.contains(&name))
    }
}

/// `Kind namespace/name` (or `Kind name`) as used by incident signals.
fn parse_object(s: &str) -> Value {
    let (kind, rest) = s.split_once(' ').unwrap_or(("", s));
    match rest.split_once('/') {
        Some((ns, name)) => json!({"kind": kind, "namespace": ns, "name": name}),
        None => json!({"kind": kind, "name": rest}),
    }
}

fn str_arg<'a>(args: &'a Value, key: &str) -> Result<&'a str> {
    args.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::invalid(key, "missing or not a string"))
}

fn resource_type(kind: &str) -> Result<ResourceType> {
    Ok(match kind.to_ascii_lowercase().trim_end_matches('s') {
        "pod" => ResourceType::of::<Pod>(),
        "deployment" => ResourceType::of::<Deployment>(),
        "statefulset" => ResourceType::of::<StatefulSet>(),
        "daemonset" => ResourceType::of::<DaemonSet>(),
        "replicaset" => ResourceType::of::<ReplicaSet>(),
        "service" => ResourceType::of::<Service>(),
        "configmap" => ResourceType::of::<ConfigMap>(),
        "job" => ResourceType::of::<Job>(),
        "cronjob" => ResourceType::of::<CronJob>(),
        "persistentvolumeclaim" | "pvc" => ResourceType::of::<PersistentVolumeClaim>(),
        "node" => ResourceType::of::<Node>(),
        "namespace" => ResourceType::of::<Namespace>(),
        "secret" => ResourceType::of::<Secret>(),
        "event" => ResourceType::of::<Event>(),
        _ => return Err(Error::invalid("kind", format!("unsupported kind `{kind}`"))),
    })
}

fn workload_kind(args: &Value) -> Result<WorkloadKind> {
    match args.get("kind").and_then(Value::as_str) {
        None | Some("Deployment" | "deployment") => Ok(WorkloadKind::Deployment),
        Some("StatefulSet" | "statefulset") => Ok(WorkloadKind::StatefulSet),
        Some(k) => Err(Error::invalid(
            "kind",
            format!("`{k}` is not a workload kind"),
        )),
    }
}

impl ToolEnv {
    /// The namespace is one the agent was given (an empty list allows none).
    fn scoped(&self, ns: &str) -> Result<()> {
        if self.namespaces.iter().any(|n| n == ns) {
            Ok(())
        } else {
            Err(Error::forbidden(format!(
                "namespace {ns} is outside this agent's scope"
            )))
        }
    }

    async fn check(&self, verb: &str, ty: &ResourceType, ns: Option<&str>) -> Result<()> {
        if let Some(ns) = ns {
            self.scoped(ns)?;
        }
        if self
            .authorizer
            .allows(&self.subject, verb, &ty.group, &ty.plural, ns)
            .await?
        {
            Ok(())
        } else {
            Err(Error::forbidden(format!(
                "{} may not {verb} {}{}",
                self.subject,
                ty.plural,
                ns.map(|n| format!(" in namespace {n}")).unwrap_or_default()
            )))
        }
    }

    async fn list(&self, ty: &ResourceType, ns: &str) -> Result<Vec<Value>> {
        self.check("list", ty, Some(ns)).await?;
        let items = self
            .cluster
            .list(ty, Some(ns), &ListOptions::default())
            .await?
            .items;
        items
            .into_iter()
            .map(|o| serde_json::to_value(o).map_err(|e| Error::internal(e.to_string())))
            .collect()
    }

    /// Names of the objects in scope the caller may list (pods, workloads, services, nodes),
    /// so the question can be pseudonymised before the first tool runs. Anything the caller
    /// may not list is skipped.
    pub(crate) async fn known_names(&self) -> Vec<(String, String)> {
        let types = [
            ResourceType::of::<Pod>(),
            ResourceType::of::<Deployment>(),
            ResourceType::of::<StatefulSet>(),
            ResourceType::of::<DaemonSet>(),
            ResourceType::of::<Job>(),
            ResourceType::of::<CronJob>(),
            ResourceType::of::<Service>(),
        ];
        let mut out = Vec::new();
        let mut scopes: Vec<Option<&str>> =
            self.namespaces.iter().map(|n| Some(n.as_str())).collect();
        scopes.push(None);
        for ns in scopes {
            let node = [ResourceType::of::<Node>()];
            let tys: &[ResourceType] = if ns.is_some() { &types } else { &node };
            for ty in tys {
                if self.check("list", ty, ns).await.is_err() {
                    continue;
                }
                if let Ok(list) = self.cluster.list(ty, ns, &ListOptions::default()).await {
                    out.extend(
                        list.items
                            .into_iter()
                            .filter_map(|o| o.metadata.name)
                            .map(|n| (ty.kind.clone(), n)),
                    );
                }
            }
        }
        out
    }

    /// Runs tool `name` with (real, de-anonymised) `args`.
    pub(crate) async fn run(&self, name: &str, args: &Value) -> Result<Value> {
        if !self.offered(name) {
            return Err(Error::invalid("tool", format!("no tool named `{name}`")));
        }
        match name {
            "list_pods" => self.list_pods(str_arg(args, "namespace")?).await,
            "list_events" => self.list_events(str_arg(args, "namespace")?).await,
            "get_object" => self.get_object(args).await,
            "get_logs" => self.get_logs(args).await,
            "analyze" => {
                self.analyze(args.get("namespace").and_then(Value::as_str))
                    .await
            }
            "incidents" => self.incidents().await,
            _ => self.write(name, args).await,
        }
    }

    async fn list_pods(&self, ns: &str) -> Result<Value> {
        let pods = self.list(&ResourceType::of::<Pod>(), ns).await?;
        let rows: Vec<Value> = pods
            .iter()
            .map(|p| {
                let statuses = p["status"]["containerStatuses"].as_array();
                let restarts: i64 = statuses
                    .map(|s| s.iter().filter_map(|c| c["restartCount"].as_i64()).sum())
                    .unwrap_or(0);
                let waiting = statuses.and_then(|s| {
                    s.iter()
                        .find_map(|c| c["state"]["waiting"]["reason"].as_str())
                });
                let owner = p["metadata"]["ownerReferences"]
                    .as_array()
                    .and_then(|o| o.first())
                    .map(|o| json!({"kind": o["kind"], "name": o["name"]}));
                json!({
                    "kind": "Pod",
                    "name": p["metadata"]["name"],
                    "owner": owner,
                    "namespace": p["metadata"]["namespace"],
                    "labels": p["metadata"]["labels"],
                    "phase": p["status"]["phase"],
                    "node": p["spec"]["nodeName"],
                    "restarts": restarts,
                    "waiting": waiting,
                })
            })
            .collect();
        Ok(json!({ "pods": rows }))
    }

    async fn list_events(&self, ns: &str) -> Result<Value> {
        let events = self.list(&ResourceType::of::<Event>(), ns).await?;
        let rows: Vec<Value> = events
            .iter()
            .map(|e| {
                json!({
                    "object": {
                        "kind": e["involvedObject"]["kind"],
                        "namespace": e["involvedObject"]["namespace"],
                        "name": e["involvedObject"]["name"],
                    },
                    "type": e["type"],
                    "reason": e["reason"],
                    "message": e["message"],
                    "count": e["count"],
                })
            })
            .collect();
        Ok(json!({ "events": rows }))
    }

    async fn get_object(&self, args: &Value) -> Result<Value> {
        let ty = resource_type(str_arg(args, "kind")?)?;
        let name = str_arg(args, "name")?;
        let ns = if ty.namespaced {
            Some(str_arg(args, "namespace")?)
        } else {
            None
        };
        self.check("get", &ty, ns).await?;
        let obj = self.cluster.get(&ty, ns, name).await?;
        let mut v = serde_json::to_value(obj).map_err(|e| Error::internal(e.to_string()))?;
        if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("managedFields");
            if let Some(a) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
                a.remove("kubectl.kubernetes.io/last-applied-configuration");
            }
        }
        if ty.kind == "Secret"
            && let Some(o) = v.as_object_mut()
        {
            // Secret values never leave the engine: only the key names are shown.
            let mut keys: Vec<String> = Vec::new();
            for field in ["data", "stringData"] {
                if let Some(Value::Object(m)) = o.remove(field) {
                    keys.extend(m.keys().cloned());
                }
            }
            o.insert("keys".into(), json!(keys));
        }
        Ok(v)
    }

    async fn get_logs(&self, args: &Value) -> Result<Value> {
        let ns = str_arg(args, "namespace")?;
        let pod = str_arg(args, "pod")?;
        let container = match args.get("container") {
            None | Some(Value::Null) => None,
            Some(_) => Some(str_arg(args, "container")?.to_owned()),
        };
        let tail = match args.get("tail_lines") {
            None | Some(Value::Null) => LOG_TAIL_DEFAULT,
            Some(v) => v
                .as_u64()
                .filter(|n| (1..=LOG_TAIL_MAX as u64).contains(n))
                .map(|n| n as usize)
                .ok_or_else(|| {
                    Error::invalid("tail_lines", format!("an integer from 1 to {LOG_TAIL_MAX}"))
                })?,
        };
        // `pods/log` is its own RBAC resource: reading pods does not grant it.
        let log = ResourceType {
            plural: "pods/log".into(),
            ..ResourceType::of::<Pod>()
        };
        self.check("get", &log, Some(ns)).await?;
        let opts = hxb_core::cluster::LogOptions {
            container: container.clone(),
            tail_lines: Some(tail),
            limit_bytes: Some(256 * 1024),
        };
        let text = self.cluster.logs(ns, pod, &opts).await?;
        // One string per line, so instruction-like lines are withheld one by one.
        let lines: Vec<String> = text
            .lines()
            .map(|l| {
                let mut l = l.to_owned();
                super::sanitize::redact_text(&mut l);
                l
            })
            .collect();
        Ok(json!({"namespace": ns, "pod": pod, "container": container, "lines": lines}))
    }

    async fn analyze(&self, ns: Option<&str>) -> Result<Value> {
        let targets: Vec<String> = match ns {
            Some(n) => vec![n.to_owned()],
            None => self.namespaces.clone(),
        };
        let needed = [
            ResourceType::of::<Pod>(),
            ResourceType::of::<Service>(),
            ResourceType::of::<Deployment>(),
            ResourceType::of::<Job>(),
            ResourceType::of::<CronJob>(),
            ResourceType::of::<k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler>(),
            ResourceType::of::<k8s_openapi::api::core::v1::ResourceQuota>(),
            ResourceType::of::<Event>(),
        ];
        let mut findings = Vec::new();
        for n in &targets {
            for ty in &needed {
                self.check("list", ty, Some(n)).await?;
            }
            let snap = Snapshot::collect(&self.cluster, Some(n)).await?;
            findings.extend(analyze(&snap));
        }
        Ok(json!({ "namespaces": targets, "findings": findings }))
    }

    /// Incidents whose every signal and root cause concerns a namespace in scope where the
    /// caller may list events (cluster-scoped objects need `list events` cluster-wide).
    async fn incidents(&self) -> Result<Value> {
        let all: Vec<Incident> = match &self.incidents {
            Some(g) => g.lock().incidents().to_vec(),
            None => Vec::new(),
        };
        let events = ResourceType::of::<Event>();
        let mut visible = Vec::new();
        let mut hidden = 0usize;
        for inc in all {
            let objects: Vec<Value> = inc
                .signals
                .iter()
                .map(|s| parse_object(&s.object))
                .chain(inc.root_causes.iter().map(|c| parse_object(&c.object)))
                .collect();
            let mut ok = true;
            for o in &objects {
                if self
                    .check("list", &events, o["namespace"].as_str())
                    .await
                    .is_err()
                {
                    ok = false;
                    break;
                }
            }
            if ok {
                visible.push(json!({"incident": inc, "objects": objects}));
            } else {
                hidden += 1;
            }
        }
        Ok(json!({"incidents": visible, "hidden_outside_your_access": hidden}))
    }

    async fn write(&self, name: &str, args: &Value) -> Result<Value> {
        let guard = self.guard.as_ref().ok_or_else(|| {
            Error::precondition("write tools need a remediation guard; none is configured")
        })?;
        let action = match name {
            "restart_workload" => Action::Restart {
                kind: workload_kind(args)?,
                namespace: str_arg(args, "namespace")?.to_owned(),
                name: str_arg(args, "name")?.to_owned(),
            },
            "scale_workload" => Action::Scale {
                kind: workload_kind(args)?,
                namespace: str_arg(args, "namespace")?.to_owned(),
                name: str_arg(args, "name")?.to_owned(),
                replicas: args
                    .get("replicas")
                    .and_then(Value::as_i64)
                    .and_then(|r| i32::try_from(r).ok())
                    .ok_or_else(|| Error::invalid("replicas", "missing or not an integer"))?,
            },
            "cordon_node" => Action::CordonNode {
                node: str_arg(args, "node")?.to_owned(),
            },
            _ => return Err(Error::invalid("tool", format!("no tool named `{name}`"))),
        };
        if let Some(ns) = action.namespace() {
            self.scoped(ns)?;
        }
        // Always as the caller, never with an approver: the guard's RBAC, blast radius,
        // approval and audit apply to everything the model asks for.
        let req = guard.remediate(&self.subject, action);
        let outcome = match self.write {
            WriteMode::Request => req.apply().execute().await?,
            _ => req.execute().await?,
        };
        serde_json::to_value(outcome).map_err(|e| Error::internal(e.to_string()))
    }
}
