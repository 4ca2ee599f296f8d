//! Plan-level policy (feature `policy`): the Pod Security Standards level of a plan's
//! namespaces and the engine's own admission of what it deploys. Pure.
//!
//! A [`PlanPolicy`] says which level a workspace's project namespaces enforce (written as the
//! `pod-security.kubernetes.io/{enforce,warn,audit}[-version]` labels, so the cluster's
//! PodSecurity admission enforces it too), which registries images may come from, whether
//! containers must request cpu and memory, and whether privileged containers are allowed.
//! [`admit`] checks objects against it *before* anything is written and lists every
//! violation with its field path. The Pod Security Standards checks themselves live in
//! [`hxb_core::policy`], shared with the embedded cluster.

use std::collections::BTreeMap;

use hxb_core::cluster::DynamicObject;
use hxb_core::policy::{PodTemplate, check_pod, image, namespace_labels, pod_templates};
use hxb_core::{Error, Plan, PlanKind, PlanTier, Result};
use k8s_openapi::api::core::v1::{PodSpec, SecurityContext};
use serde::{Deserialize, Serialize};

use crate::render::DesiredObject;

pub use hxb_core::policy::{ImageRef, PodSecurityLevel, PolicyVersion, Violation};

/// The policy of one plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanPolicy {
    /// Pod Security Standards level of the plan's project namespaces.
    pub level: PodSecurityLevel,
    /// The Pod Security Standards version the labels pin (default `v1.34`, the version the
    /// engine's checks implement, so the cluster and the engine judge alike).
    #[serde(default = "default_version")]
    pub version: PolicyVersion,
    /// Registries (`ghcr.io`, `registry.local:5000`) or registry paths (`ghcr.io/acme`)
    /// images may come from; empty: any.
    #[serde(default)]
    pub allowed_registries: Vec<String>,
    /// Every container must request `cpu` and `memory`.
    #[serde(default)]
    pub require_requests: bool,
    /// Privileged containers are allowed (needs level `privileged`).
    #[serde(default)]
    pub allow_privileged: bool,
}

fn default_version() -> PolicyVersion {
    PolicyVersion::Minor(hxb_core::policy::level::IMPLEMENTED_MINOR)
}

impl PlanPolicy {
    /// A policy at `level`, any registry, requests not required, no privileged containers.
    pub fn new(level: PodSecurityLevel) -> Self {
        PlanPolicy {
            level,
            version: default_version(),
            allowed_registries: Vec::new(),
            require_requests: false,
            allow_privileged: false,
        }
    }

    /// The default policy of a plan: `baseline` for every shared plan and for dedicated
    /// starter/professional plans; `privileged` (privileged containers allowed) for dedicated
    /// enterprise plans, whose tenant owns its nodes. Operators set stricter ones with
    /// [`PlanCatalog::set_policy`](crate::PlanCatalog::set_policy).
    pub fn default_for(plan: &Plan) -> Self {
        match (&plan.tier, plan.kind) {
            (PlanTier::Enterprise, PlanKind::Dedicated) => PlanPolicy {
                allow_privileged: true,
                ..PlanPolicy::new(PodSecurityLevel::Privileged)
            },
            _ => PlanPolicy::new(PodSecurityLevel::Baseline),
        }
    }

    /// Check consistency: registries parse, and privileged containers are only allowed at
    /// level `privileged` (the cluster would refuse them at any other).
    pub fn validate(&self) -> Result<()> {
        for r in &self.allowed_registries {
            image::validate_source(r)?;
        }
        if self.allow_privileged && self.level != PodSecurityLevel::Privileged {
            return Err(Error::invalid(
                "allow_privileged",
                format!(
                    "privileged containers need level privileged, not {}",
                    self.level
                ),
            ));
        }
        Ok(())
    }

    /// The namespace labels of this policy (enforce, warn and audit, each with its version).
    pub fn namespace_labels(&self) -> BTreeMap<String, String> {
        namespace_labels(self.level, self.version)
    }
}

/// Put `policy`'s labels on the Namespace among `objects` (rendered by
/// [`render_project`](crate::render_project)), replacing the render config's level.
pub fn label_namespace(objects: &mut [DesiredObject], policy: &PlanPolicy) {
    for o in objects
        .iter_mut()
        .filter(|o| o.ty.group.is_empty() && o.ty.kind == "Namespace")
    {
        o.object
            .metadata
            .labels
            .get_or_insert_with(BTreeMap::new)
            .extend(policy.namespace_labels());
    }
}

/// Where the pod spec of a workload hxb renders sits in its JSON.
fn pod_spec_pointer(kind: &str) -> Option<&'static str> {
    match kind {
        "Deployment" | "StatefulSet" | "Job" => Some("/spec/template/spec"),
        "CronJob" => Some("/spec/jobTemplate/spec/template/spec"),
        "Pod" => Some("/spec"),
        _ => None,
    }
}

/// Make the pod templates among `objects` meet `level` where hxb can without changing what
/// the application asked for: at `restricted`, the pod runs as non-root with the
/// `RuntimeDefault` seccomp profile, and every non-privileged container drops all
/// capabilities and disallows privilege escalation — each only where unset. Other levels
/// leave the objects alone. (An image that must run as root then fails to start; that is
/// what `restricted` means.)
pub fn harden(objects: &mut [DesiredObject], level: PodSecurityLevel) {
    if level != PodSecurityLevel::Restricted {
        return;
    }
    for o in objects {
        let Some(ptr) = pod_spec_pointer(&o.ty.kind) else {
            continue;
        };
        let Some(spec) = o
            .object
            .data
            .pointer_mut(ptr)
            .and_then(|v| v.as_object_mut())
        else {
            continue;
        };
        let psc = spec
            .entry("securityContext")
            .or_insert_with(|| serde_json::json!({}));
        if let Some(psc) = psc.as_object_mut() {
            psc.entry("runAsNonRoot").or_insert(true.into());
            psc.entry("seccompProfile")
                .or_insert(serde_json::json!({"type": "RuntimeDefault"}));
        }
        for list in ["containers", "initContainers"] {
            let Some(cs) = spec.get_mut(list).and_then(|v| v.as_array_mut()) else {
                continue;
            };
            for c in cs.iter_mut().filter_map(|c| c.as_object_mut()) {
                let sc = c
                    .entry("securityContext")
                    .or_insert_with(|| serde_json::json!({}));
                let Some(sc) = sc.as_object_mut() else {
                    continue;
                };
                if sc.get("privileged").and_then(|v| v.as_bool()) == Some(true) {
                    continue; // refused by admission; hardening would make it invalid
                }
                sc.entry("allowPrivilegeEscalation").or_insert(false.into());
                sc.entry("capabilities")
                    .or_insert(serde_json::json!({"drop": ["ALL"]}));
            }
        }
    }
}

/// One object's name for messages (`Deployment ns/name`).
fn object_name(o: &DynamicObject) -> String {
    let kind = o.types.as_ref().map_or("object", |t| t.kind.as_str());
    match &o.metadata.namespace {
        Some(ns) => format!("{kind} {ns}/{}", o.metadata.name.as_deref().unwrap_or("")),
        None => format!("{kind} {}", o.metadata.name.as_deref().unwrap_or("")),
    }
}

/// Container requests as a pod spec holds them.
type Requests = BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>;

/// One container of a pod spec as the plan rules see it.
struct Container<'a> {
    /// `containers[0]`, `initContainers[1]`, `ephemeralContainers[0]`, …
    path: String,
    image: Option<&'a str>,
    /// `None` for an ephemeral container, which cannot request resources.
    requests: Option<Option<&'a Requests>>,
    privileged: bool,
}

/// Every container of a pod spec (containers, init containers, ephemeral containers).
fn containers(spec: &PodSpec) -> Vec<Container<'_>> {
    let privileged = |sc: Option<&SecurityContext>| sc.and_then(|s| s.privileged).unwrap_or(false);
    let mut out = Vec::new();
    for (list, items) in [
        ("containers", Some(&spec.containers)),
        ("initContainers", spec.init_containers.as_ref()),
    ] {
        for (i, c) in items.into_iter().flatten().enumerate() {
            out.push(Container {
                path: format!("{list}[{i}]"),
                image: c.image.as_deref(),
                requests: Some(c.resources.as_ref().and_then(|r| r.requests.as_ref())),
                privileged: privileged(c.security_context.as_ref()),
            });
        }
    }
    for (i, c) in spec.ephemeral_containers.iter().flatten().enumerate() {
        out.push(Container {
            path: format!("ephemeralContainers[{i}]"),
            image: c.image.as_deref(),
            requests: None,
            privileged: privileged(c.security_context.as_ref()),
        });
    }
    out
}

/// The plan rules beyond the Pod Security Standards, for one pod template:
/// `(malformed images, violations as (path, message))`.
fn plan_rules(
    t: &PodTemplate,
    policy: &PlanPolicy,
    plan: &str,
) -> (Vec<String>, Vec<(String, String)>) {
    let (mut malformed, mut v) = (Vec::new(), Vec::new());
    let by = format!("forbidden by plan {plan}");
    // at level privileged the standards allow privileged containers; the plan may still not
    let refuse_privileged =
        !policy.allow_privileged && policy.level == PodSecurityLevel::Privileged;
    for c in containers(&t.spec) {
        let path = format!("{}{}", t.spec_prefix, c.path);
        match c.image.map(ImageRef::parse) {
            None => malformed.push(format!("{path}.image: unset")),
            Some(Err(e)) => malformed.push(format!("{path}.image: {e}")),
            Some(Ok(r)) => {
                if !policy.allowed_registries.is_empty()
                    && !policy.allowed_registries.iter().any(|s| r.is_from(s))
                {
                    v.push((
                        format!("{path}.image"),
                        format!(
                            "{r} is not from an allowed registry ({}), {by}",
                            policy.allowed_registries.join(", ")
                        ),
                    ));
                }
            }
        }
        if let (true, Some(requests)) = (policy.require_requests, c.requests) {
            for res in ["cpu", "memory"] {
                if !requests.is_some_and(|r| r.contains_key(res)) {
                    v.push((
                        format!("{path}.resources.requests.{res}"),
                        format!("unset (a request is required), {by}"),
                    ));
                }
            }
        }
        if refuse_privileged && c.privileged {
            v.push((
                format!("{path}.securityContext.privileged"),
                format!("true (privileged container), {by}"),
            ));
        }
    }
    (malformed, v)
}

/// One policy violation found by [`review`]: the object, the field, what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyViolation {
    /// The object, as `Kind namespace/name` (`Deployment acme-dev-web/shop`).
    pub object: String,
    /// The field path in the object, e.g.
    /// `spec.template.spec.containers[0].securityContext.privileged`.
    pub path: String,
    /// What is wrong there and what forbids it, e.g.
    /// `true (privileged container), forbidden by baseline`.
    pub message: String,
}

impl std::fmt::Display for PolicyViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// What the engine's admission says about one manifest
/// ([`Tenancy::review_manifest`](crate::Tenancy::review_manifest)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestReview {
    /// The organization owning the manifest's namespace.
    pub organization: hxb_core::Name,
    /// Its workspace.
    pub workspace: hxb_core::Name,
    /// The workspace's plan.
    pub plan: String,
    /// The plan's policy (level, version, registries, requests, privileged).
    pub policy: PlanPolicy,
    /// Every violation (empty: admitted).
    pub violations: Vec<PolicyViolation>,
}

impl ManifestReview {
    /// Whether admission lets the manifest through (no violation).
    pub fn admitted(&self) -> bool {
        self.violations.is_empty()
    }

    /// The engine's refusal of the manifest, built from this review without checking the
    /// manifest again: the [`Forbidden`](hxb_core::ErrorKind::Forbidden) error [`admit`] (and
    /// so `Engine::create`/`apply`) returns for these violations, message included; `None`
    /// when admitted.
    pub fn refusal(&self) -> Option<Error> {
        refusal(&self.violations, &self.policy, &self.plan)
    }
}

/// Every violation of plan `plan`'s `policy` in `objects`, object by object in order (empty:
/// [`admit`] lets them through). A malformed image reference (or a pod template that does not
/// decode) is [`InvalidInput`](hxb_core::ErrorKind::InvalidInput) listing every such field:
/// no policy can be evaluated then.
pub fn review<'a>(
    objects: impl IntoIterator<Item = &'a DynamicObject>,
    policy: &PlanPolicy,
    plan: &str,
) -> Result<Vec<PolicyViolation>> {
    let (mut malformed, mut found) = (Vec::new(), Vec::new());
    for o in objects {
        let name = object_name(o);
        let mut bad = Vec::new();
        for t in pod_templates(o)? {
            let (b, p) = plan_rules(&t, policy, plan);
            bad.extend(b);
            let pss = check_pod(
                t.meta.as_ref(),
                &t.spec,
                policy.level,
                policy.version,
                &t.meta_prefix,
                &t.spec_prefix,
            );
            let pss = pss.into_iter().map(|v| {
                let message = format!("{}, forbidden by {}", v.message, v.level);
                (v.path, message)
            });
            found.extend(pss.chain(p).map(|(path, message)| PolicyViolation {
                object: name.clone(),
                path,
                message,
            }));
        }
        if !bad.is_empty() {
            malformed.push(format!("{name}: {}", bad.join("; ")));
        }
    }
    if !malformed.is_empty() {
        return Err(Error::invalid("image", malformed.join(" | ")));
    }
    Ok(found)
}

/// The engine's admission of objects it is about to write under plan `plan`'s `policy`:
/// every pod and pod template (Pods, Deployments, StatefulSets, CronJobs, …) must pass the
/// plan's Pod Security Standards level, come from an allowed registry, request cpu and
/// memory when the plan requires it, and not be privileged unless the plan allows it.
///
/// A malformed image reference (or a template that does not decode) is
/// [`InvalidInput`](hxb_core::ErrorKind::InvalidInput): the request itself is broken. Policy
/// violations are [`Forbidden`](hxb_core::ErrorKind::Forbidden): a well-formed request the
/// plan does not permit, like the cluster's own PodSecurity refusal. Either way the message
/// lists every offending field of every object, and the caller writes nothing. [`review`]
/// gives the same violations as data.
pub fn admit<'a>(
    objects: impl IntoIterator<Item = &'a DynamicObject>,
    policy: &PlanPolicy,
    plan: &str,
) -> Result<()> {
    let found = review(objects, policy, plan)?;
    refusal(&found, policy, plan).map_or(Ok(()), Err)
}

/// [`admit`]'s `Forbidden` error for the violations [`review`] found (`None`: none).
fn refusal(found: &[PolicyViolation], policy: &PlanPolicy, plan: &str) -> Option<Error> {
    if found.is_empty() {
        return None;
    }
    // one `object: violation; violation` part per object, in order
    let mut parts: Vec<(&str, Vec<String>)> = Vec::new();
    for v in found {
        match parts.last_mut() {
            Some((o, list)) if *o == v.object => list.push(v.to_string()),
            _ => parts.push((&v.object, vec![v.to_string()])),
        }
    }
    let refused: Vec<String> = parts
        .into_iter()
        .map(|(o, list)| format!("{o}: {}", list.join("; ")))
        .collect();
    Some(Error::forbidden(format!(
        "policy of plan {plan} (pod security {}:{}) refuses {}",
        policy.level,
        policy.version,
        refused.join(" | ")
    )))
}

#[cfg(test)]
mod tests;
