//! The analyzers themselves: pure functions of a [`Snapshot`].

use std::collections::BTreeMap;

use hxb_core::{Quantity, Selector};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{Finding, FindingSeverity, ObjectRef, Snapshot};

/// A named analyzer.
pub type AnalyzerFn = fn(&Snapshot) -> Vec<Finding>;

/// Every analyzer, by name, in the order they run.
pub const ALL_ANALYZERS: &[(&str, AnalyzerFn)] = &[
    ("crash_loop", crash_loop),
    ("pending_pod", pending_pod),
    ("quota_refusal", quota_refusal),
    ("failed_job", failed_job),
    ("service_endpoints", service_endpoints),
    ("hpa_at_max", hpa_at_max),
    ("quota_pressure", quota_pressure),
];

/// Run every analyzer; findings are sorted most severe first, then by object.
pub fn analyze(snapshot: &Snapshot) -> Vec<Finding> {
    let mut out: Vec<Finding> = ALL_ANALYZERS
        .iter()
        .flat_map(|(_, f)| f(snapshot))
        .collect();
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.object.cmp(&b.object))
    });
    out
}

fn obj(kind: &str, m: &ObjectMeta) -> ObjectRef {
    ObjectRef {
        kind: kind.into(),
        namespace: m.namespace.clone().unwrap_or_default(),
        name: m.name.clone().unwrap_or_default(),
    }
}

fn finding(
    analyzer: &str,
    severity: FindingSeverity,
    object: ObjectRef,
    reason: &str,
    explanation: String,
    hints: Vec<String>,
) -> Finding {
    Finding {
        analyzer: analyzer.into(),
        severity,
        object,
        reason: reason.into(),
        explanation,
        hints,
    }
}

/// Containers in CrashLoopBackOff or restarting repeatedly; OOM kills are called out.
pub fn crash_loop(s: &Snapshot) -> Vec<Finding> {
    let mut out = Vec::new();
    for pod in &s.pods {
        for cs in pod
            .status
            .iter()
            .flat_map(|st| st.container_statuses.iter().flatten())
        {
            let waiting = cs
                .state
                .as_ref()
                .and_then(|st| st.waiting.as_ref())
                .and_then(|w| w.reason.clone());
            let last = cs.last_state.as_ref().and_then(|st| st.terminated.as_ref());
            let last_reason = last.and_then(|t| t.reason.clone()).unwrap_or_default();
            let looping = waiting.as_deref() == Some("CrashLoopBackOff");
            if !looping && cs.restart_count < 3 {
                continue;
            }
            let oom = last_reason == "OOMKilled";
            let (reason, explanation, hints) = if oom {
                (
                    "OOMKilled",
                    format!(
                        "container {:?} was killed for running out of memory and has restarted {} times",
                        cs.name, cs.restart_count
                    ),
                    vec![
                        "raise the container's memory limit, or find the leak (memory that grows until each restart)".into(),
                        "hxb right-sizing recommends a memory target from observed usage".into(),
                    ],
                )
            } else {
                let code = last.map(|t| t.exit_code).unwrap_or_default();
                (
                    "CrashLoopBackOff",
                    format!(
                        "container {:?} keeps crashing (exit code {code}) and has restarted {} times",
                        cs.name, cs.restart_count
                    ),
                    vec![
                        "read the previous container's logs for the error at start-up".into(),
                        "check configuration, secrets and dependencies the container needs at start".into(),
                    ],
                )
            };
            out.push(finding(
                "crash_loop",
                FindingSeverity::Critical,
                obj("Pod", &pod.metadata),
                reason,
                explanation,
                hints,
            ));
        }
    }
    out
}

fn scheduled_false(pod: &Pod) -> Option<String> {
    pod.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "PodScheduled" && c.status == "False")
        .map(|c| c.message.clone().unwrap_or_default())
}

/// Pods that cannot be scheduled, with the scheduler's reasons translated.
pub fn pending_pod(s: &Snapshot) -> Vec<Finding> {
    let mut out = Vec::new();
    for pod in &s.pods {
        if pod.status.as_ref().and_then(|st| st.phase.as_deref()) != Some("Pending") {
            continue;
        }
        let Some(msg) = scheduled_false(pod) else {
            continue;
        };
        let mut hints = Vec::new();
        if msg.contains("Insufficient") || msg.contains("Too many pods") {
            hints.push("the cluster lacks capacity for this pod's requests: add nodes (hxb node-pool sizing says how many) or lower the requests".into());
        }
        if msg.contains("untolerated taint") {
            hints.push("matching nodes are tainted: a dedicated node pool needs the workspace's toleration, or move the pod to the shared pool".into());
        }
        if msg.contains("affinity") || msg.contains("selector") {
            hints.push("no node matches the pod's node selector or affinity: check the labels the pod asks for".into());
        }
        if msg.contains("topology spread") {
            hints.push("spreading constraints cannot be met: add capacity in the missing zones or relax maxSkew".into());
        }
        if hints.is_empty() {
            hints.push("read the pod's FailedScheduling events".into());
        }
        out.push(finding(
            "pending_pod",
            FindingSeverity::Warning,
            obj("Pod", &pod.metadata),
            "Unschedulable",
            format!("pod cannot be scheduled: {msg}"),
            hints,
        ));
    }
    out
}

/// Workloads whose pods were refused by a ResourceQuota (FailedCreate events).
pub fn quota_refusal(s: &Snapshot) -> Vec<Finding> {
    let mut latest: BTreeMap<ObjectRef, String> = BTreeMap::new();
    for e in &s.events {
        let msg = e.message.clone().unwrap_or_default();
        if e.reason.as_deref() != Some("FailedCreate") && !msg.contains("exceeded quota") {
            continue;
        }
        if !msg.contains("exceeded quota") {
            continue;
        }
        let io = &e.involved_object;
        let r = ObjectRef {
            kind: io.kind.clone().unwrap_or_default(),
            namespace: io.namespace.clone().unwrap_or_default(),
            name: io.name.clone().unwrap_or_default(),
        };
        latest.insert(r, msg);
    }
    latest
        .into_iter()
        .map(|(r, msg)| {
            finding(
                "quota_refusal",
                FindingSeverity::Warning,
                r,
                "QuotaExceeded",
                format!("pods are refused by the namespace quota: {msg}"),
                vec![
                    "raise the project's quota within the workspace's headroom (a guarded remediation), or lower the workload's requests".into(),
                    "scale down other workloads in the project to free quota".into(),
                ],
            )
        })
        .collect()
}

/// Failed Jobs, and CronJobs whose most recent Job failed.
pub fn failed_job(s: &Snapshot) -> Vec<Finding> {
    let mut out = Vec::new();
    for job in &s.jobs {
        let st = job.status.as_ref();
        let failed_cond = st
            .and_then(|st| st.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Failed" && c.status == "True"));
        let failed = st.and_then(|st| st.failed).unwrap_or(0);
        if !failed_cond && failed == 0 {
            continue;
        }
        let owner = job
            .metadata
            .owner_references
            .iter()
            .flatten()
            .find(|o| o.kind == "CronJob")
            .map(|o| o.name.clone());
        let (object, explanation) = match &owner {
            Some(cj) => (
                ObjectRef {
                    kind: "CronJob".into(),
                    namespace: job.metadata.namespace.clone().unwrap_or_default(),
                    name: cj.clone(),
                },
                format!(
                    "the last run of cron job {cj:?} (job {:?}) failed {failed} time(s)",
                    job.metadata.name.clone().unwrap_or_default()
                ),
            ),
            None => (
                obj("Job", &job.metadata),
                format!("job failed {failed} time(s)"),
            ),
        };
        out.push(finding(
            "failed_job",
            if failed_cond {
                FindingSeverity::Critical
            } else {
                FindingSeverity::Warning
            },
            object,
            "JobFailed",
            explanation,
            vec!["read the failed pod's logs; check the backoff limit and the job's inputs".into()],
        ));
    }
    out
}

fn pod_ready(p: &Pod) -> bool {
    let st = p.status.as_ref();
    st.and_then(|s| s.phase.as_deref()) == Some("Running")
        && st.and_then(|s| s.conditions.as_ref()).is_none_or(|cs| {
            cs.iter()
                .filter(|c| c.type_ == "Ready")
                .all(|c| c.status == "True")
        })
}

/// Services whose selector matches no ready pod.
pub fn service_endpoints(s: &Snapshot) -> Vec<Finding> {
    let mut out = Vec::new();
    for svc in &s.services {
        let Some(sel) = svc.spec.as_ref().and_then(|sp| sp.selector.clone()) else {
            continue;
        };
        if sel.is_empty() {
            continue;
        }
        let selector = Selector::from_labels(sel.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let ns = svc.metadata.namespace.clone();
        let matching: Vec<&Pod> = s
            .pods
            .iter()
            .filter(|p| p.metadata.namespace == ns)
            .filter(|p| selector.matches(p.metadata.labels.as_ref().unwrap_or(&BTreeMap::new())))
            .collect();
        if matching.iter().any(|p| pod_ready(p)) {
            continue;
        }
        let explanation = if matching.is_empty() {
            format!("service selects {selector} but no pod has those labels")
        } else {
            format!(
                "service selects {} pod(s) but none is running and ready",
                matching.len()
            )
        };
        out.push(finding(
            "service_endpoints",
            FindingSeverity::Warning,
            obj("Service", &svc.metadata),
            "NoEndpoints",
            explanation,
            vec!["check the service's selector against the pod template's labels, and why the pods are not ready".into()],
        ));
    }
    out
}

/// Autoscalers pinned at their maximum.
pub fn hpa_at_max(s: &Snapshot) -> Vec<Finding> {
    let mut out = Vec::new();
    for hpa in &s.autoscalers {
        let Some(spec) = hpa.spec.as_ref() else {
            continue;
        };
        let max = spec.max_replicas;
        let st = hpa.status.as_ref();
        let current = st.and_then(|s| s.current_replicas).unwrap_or(0);
        let desired = st.map(|s| s.desired_replicas).unwrap_or(0);
        if current < max || desired < max {
            continue;
        }
        out.push(finding(
            "hpa_at_max",
            FindingSeverity::Warning,
            obj("HorizontalPodAutoscaler", &hpa.metadata),
            "ScalingLimited",
            format!("autoscaler is pinned at its maximum of {max} replicas; demand may exceed what it can serve"),
            vec![
                "raise maxReplicas if the project quota allows it, or make each replica do more".into(),
                "predictive scaling can start replicas ahead of a known daily peak".into(),
            ],
        ));
    }
    out
}

/// Quotas at or above 90% of any limit.
pub fn quota_pressure(s: &Snapshot) -> Vec<Finding> {
    let mut out = Vec::new();
    for q in &s.quotas {
        let Some(st) = q.status.as_ref() else {
            continue;
        };
        let (Some(hard), Some(used)) = (st.hard.as_ref(), st.used.as_ref()) else {
            continue;
        };
        let mut tight = Vec::new();
        for (name, h) in hard {
            let (Ok(h), Some(Ok(u))) = (
                Quantity::parse(&h.0),
                used.get(name).map(|u| Quantity::parse(&u.0)),
            ) else {
                continue;
            };
            if h.is_zero() {
                continue;
            }
            // used / hard >= 0.9, exactly: 10 × used >= 9 × hard.
            if u.checked_mul(10).ok() >= h.checked_mul(9).ok() {
                tight.push(format!("{name} {u} of {h}"));
            }
        }
        if tight.is_empty() {
            continue;
        }
        out.push(finding(
            "quota_pressure",
            FindingSeverity::Info,
            obj("ResourceQuota", &q.metadata),
            "QuotaNearlyFull",
            format!("quota is at 90% or more: {}", tight.join(", ")),
            vec!["new pods will soon be refused; raise the quota within the workspace's headroom or free resources".into()],
        ));
    }
    out
}
