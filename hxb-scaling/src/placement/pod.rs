//! The scheduling-relevant part of a pod, parsed once from a k8s-openapi `Pod`.
//!
//! [`PodSpecInfo`] is hashable: pods created from one template (one Deployment) parse to
//! equal values, which is what lets the engine cache per-template work (see `shape.rs`).

use std::collections::{BTreeMap, BTreeSet};

use hxb_core::{Error, Quantity, Result, Selector};
use k8s_openapi::api::core::v1::{
    Container, NodeSelectorRequirement, NodeSelectorTerm, Pod, PodAffinityTerm, Toleration,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;

/// kube-scheduler's default cpu request for a container without one, used for scoring only.
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// kube-scheduler's default memory request for a container without one (200 MiB), scoring only.
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;
/// The well-known hostname label (per-node topology domain).
pub const LABEL_HOSTNAME: &str = "kubernetes.io/hostname";

/// A node-selector requirement operator (`In`, `NotIn`, `Exists`, `DoesNotExist`, `Gt`, `Lt`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum NodeOp {
    In(BTreeSet<String>),
    NotIn(BTreeSet<String>),
    Exists,
    DoesNotExist,
    Gt(i64),
    Lt(i64),
}

/// One node-selector requirement (`key op values`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct NodeExpr {
    pub key: String,
    pub op: NodeOp,
}

impl NodeExpr {
    /// Whether `value` (the node's value for `key`, if any) satisfies the requirement.
    pub fn matches(&self, value: Option<&String>) -> bool {
        match (&self.op, value) {
            (NodeOp::In(vs), Some(v)) => vs.contains(v),
            (NodeOp::In(_), None) => false,
            (NodeOp::NotIn(vs), v) => v.is_none_or(|v| !vs.contains(v)),
            (NodeOp::Exists, v) => v.is_some(),
            (NodeOp::DoesNotExist, v) => v.is_none(),
            (NodeOp::Gt(n), Some(v)) => v.parse::<i64>().is_ok_and(|x| x > *n),
            (NodeOp::Lt(n), Some(v)) => v.parse::<i64>().is_ok_and(|x| x < *n),
            (NodeOp::Gt(_) | NodeOp::Lt(_), None) => false,
        }
    }
}

/// A node-selector term: all label expressions and all field expressions must hold.
/// The only supported field is `metadata.name`, as upstream.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct NodeTerm {
    pub exprs: Vec<NodeExpr>,
    pub fields: Vec<NodeExpr>,
}

impl NodeTerm {
    /// Upstream semantics: a term with no requirements at all matches no node.
    pub fn matches(&self, name: &str, labels: &BTreeMap<String, String>) -> bool {
        if self.exprs.is_empty() && self.fields.is_empty() {
            return false;
        }
        let name = name.to_owned();
        self.exprs.iter().all(|e| e.matches(labels.get(&e.key)))
            && self.fields.iter().all(|e| e.matches(Some(&name)))
    }
}

/// A toleration (`key op value : effect`); empty key with `Exists` tolerates everything.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Tol {
    pub key: String,
    pub exists: bool,
    pub value: String,
    pub effect: String,
}

impl Tol {
    /// kube's `Toleration.ToleratesTaint`.
    pub fn tolerates(&self, key: &str, value: &str, effect: &str) -> bool {
        if !self.effect.is_empty() && self.effect != effect {
            return false;
        }
        if !self.key.is_empty() && self.key != key {
            return false;
        }
        if self.exists {
            true
        } else {
            self.value == value
        }
    }
}

/// Which namespaces a pod-affinity term looks at.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Namespaces {
    /// Every namespace (`namespaceSelector: {}`).
    All,
    /// An explicit set (the owning pod's namespace when the term names none).
    Set(BTreeSet<String>),
}

impl Namespaces {
    pub fn contains(&self, ns: &str) -> bool {
        match self {
            Namespaces::All => true,
            Namespaces::Set(s) => s.contains(ns),
        }
    }
}

/// A pod (anti-)affinity term, with its namespaces resolved against the owning pod.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct PodTerm {
    /// `None` (no selector) matches no pod, as upstream.
    pub selector: Option<Selector>,
    pub namespaces: Namespaces,
    pub topology_key: String,
}

impl PodTerm {
    /// Whether a pod in `ns` with `labels` matches this term.
    pub fn matches(&self, ns: &str, labels: &BTreeMap<String, String>) -> bool {
        self.namespaces.contains(ns) && self.selector.as_ref().is_some_and(|s| s.matches(labels))
    }
}

/// A topology spread constraint.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Spread {
    pub max_skew: i64,
    pub topology_key: String,
    /// `whenUnsatisfiable: DoNotSchedule` (a filter) versus `ScheduleAnyway` (a score).
    pub hard: bool,
    pub selector: Option<Selector>,
    pub min_domains: Option<i64>,
    /// `nodeAffinityPolicy: Honor` (the default).
    pub honor_affinity: bool,
    /// `nodeTaintsPolicy: Honor` (default `Ignore`).
    pub honor_taints: bool,
}

/// The scheduling-relevant content of a pod: everything except its name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct PodSpecInfo {
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    /// Requested milli-cpu (sum of containers, max with init containers, plus overhead).
    pub cpu: i64,
    /// Requested memory bytes.
    pub mem: i64,
    /// Milli-cpu for scoring, with kube-scheduler's defaults for containers without a request.
    pub cpu_nz: i64,
    /// Memory bytes for scoring, with defaults.
    pub mem_nz: i64,
    pub priority: i32,
    pub preempt_never: bool,
    pub node_name: Option<String>,
    pub node_selector: BTreeMap<String, String>,
    /// Required node affinity: terms are ORed. `None` = no requirement.
    pub required_terms: Option<Vec<NodeTerm>>,
    pub preferred_terms: Vec<(i64, NodeTerm)>,
    pub tolerations: Vec<Tol>,
    pub affinity: Vec<PodTerm>,
    pub anti_affinity: Vec<PodTerm>,
    pub preferred_affinity: Vec<(i64, PodTerm)>,
    pub preferred_anti_affinity: Vec<(i64, PodTerm)>,
    pub spread: Vec<Spread>,
}

fn qty(field: &str, q: &K8sQuantity) -> Result<Quantity> {
    let v = Quantity::try_from(q).map_err(|e| Error::invalid(field, e.to_string()))?;
    if v.is_negative() {
        return Err(Error::invalid(field, "negative request"));
    }
    Ok(v)
}

/// Requests of one container: `(cpu, mem, cpu_nz, mem_nz)`.
fn container_requests(c: &Container) -> Result<[i64; 4]> {
    let req = c.resources.as_ref().and_then(|r| r.requests.as_ref());
    let get = |name: &str| -> Result<Option<Quantity>> {
        req.and_then(|m| m.get(name))
            .map(|q| qty(&format!("resources.requests.{name}"), q))
            .transpose()
    };
    let cpu = get("cpu")?.map(|q| clamp(q.to_milli_ceil()));
    let mem = get("memory")?.map(|q| clamp(q.to_int_ceil()));
    Ok([
        cpu.unwrap_or(0),
        mem.unwrap_or(0),
        cpu.unwrap_or(DEFAULT_MILLI_CPU_REQUEST),
        mem.unwrap_or(DEFAULT_MEMORY_REQUEST),
    ])
}

/// Clamp to the exact-integer range of `f64`, which the node table computes in.
pub(crate) fn clamp(v: i128) -> i64 {
    v.clamp(0, 1 << 52) as i64
}

fn node_expr(r: &NodeSelectorRequirement) -> Result<NodeExpr> {
    let values: BTreeSet<String> = r.values.iter().flatten().cloned().collect();
    let one_int = || -> Result<i64> {
        let v: Vec<&String> = values.iter().collect();
        match v.as_slice() {
            [x] => x.parse().map_err(|_| {
                Error::invalid("nodeSelectorTerms", format!("{x:?} is not an integer"))
            }),
            _ => Err(Error::invalid(
                "nodeSelectorTerms",
                format!("{} needs exactly one value", r.operator),
            )),
        }
    };
    let op = match r.operator.as_str() {
        "In" => NodeOp::In(values),
        "NotIn" => NodeOp::NotIn(values),
        "Exists" => NodeOp::Exists,
        "DoesNotExist" => NodeOp::DoesNotExist,
        "Gt" => NodeOp::Gt(one_int()?),
        "Lt" => NodeOp::Lt(one_int()?),
        op => {
            return Err(Error::invalid(
                "nodeSelectorTerms",
                format!("unknown operator {op:?}"),
            ));
        }
    };
    Ok(NodeExpr {
        key: r.key.clone(),
        op,
    })
}

fn node_term(t: &NodeSelectorTerm) -> Result<NodeTerm> {
    let exprs = t
        .match_expressions
        .iter()
        .flatten()
        .map(node_expr)
        .collect::<Result<_>>()?;
    let fields: Vec<NodeExpr> = t
        .match_fields
        .iter()
        .flatten()
        .map(node_expr)
        .collect::<Result<_>>()?;
    if let Some(f) = fields.iter().find(|f| f.key != "metadata.name") {
        return Err(Error::invalid(
            "matchFields",
            format!("unsupported field {:?}", f.key),
        ));
    }
    Ok(NodeTerm { exprs, fields })
}

fn pod_term(t: &PodAffinityTerm, own_ns: &str) -> Result<PodTerm> {
    let selector = t
        .label_selector
        .as_ref()
        .map(Selector::from_label_selector)
        .transpose()?;
    let listed: BTreeSet<String> = t.namespaces.iter().flatten().cloned().collect();
    let namespaces = match &t.namespace_selector {
        Some(ns)
            if ns.match_labels.as_ref().is_none_or(|m| m.is_empty())
                && ns.match_expressions.as_ref().is_none_or(|m| m.is_empty()) =>
        {
            Namespaces::All
        }
        Some(_) => {
            return Err(Error::invalid(
                "namespaceSelector",
                "only the empty selector (all namespaces) is supported; list namespaces instead",
            ));
        }
        None if listed.is_empty() => Namespaces::Set(BTreeSet::from([own_ns.to_owned()])),
        None => Namespaces::Set(listed),
    };
    if t.topology_key.is_empty() {
        return Err(Error::invalid("topologyKey", "must not be empty"));
    }
    Ok(PodTerm {
        selector,
        namespaces,
        topology_key: t.topology_key.clone(),
    })
}

fn tol(t: &Toleration) -> Result<Tol> {
    let exists = match t.operator.as_deref() {
        None | Some("Equal") => false,
        Some("Exists") => true,
        Some(op) => {
            return Err(Error::invalid(
                "tolerations",
                format!("unknown operator {op:?}"),
            ));
        }
    };
    Ok(Tol {
        key: t.key.clone().unwrap_or_default(),
        exists,
        value: t.value.clone().unwrap_or_default(),
        effect: t.effect.clone().unwrap_or_default(),
    })
}

impl PodSpecInfo {
    /// Parse the scheduling-relevant content of `pod`. Bad quantities, operators or selectors
    /// give [`hxb_core::ErrorKind::InvalidInput`].
    pub fn from_pod(pod: &Pod) -> Result<Self> {
        let spec = pod
            .spec
            .as_ref()
            .ok_or_else(|| Error::invalid("spec", "pod has no spec"))?;
        let namespace = pod
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".to_owned());
        let labels = pod.metadata.labels.clone().unwrap_or_default();

        let mut sum = [0i64; 4];
        for c in &spec.containers {
            let r = container_requests(c)?;
            for i in 0..4 {
                sum[i] = sum[i].saturating_add(r[i]);
            }
        }
        for c in spec.init_containers.iter().flatten() {
            let r = container_requests(c)?;
            for i in 0..4 {
                sum[i] = sum[i].max(r[i]);
            }
        }
        for (name, q) in spec.overhead.iter().flatten() {
            let q = qty("overhead", q)?;
            match name.as_str() {
                "cpu" => {
                    sum[0] += clamp(q.to_milli_ceil());
                    sum[2] += clamp(q.to_milli_ceil());
                }
                "memory" => {
                    sum[1] += clamp(q.to_int_ceil());
                    sum[3] += clamp(q.to_int_ceil());
                }
                _ => {}
            }
        }
        let sum = sum.map(|v| v.min(1 << 52));

        let aff = spec.affinity.as_ref();
        let na = aff.and_then(|a| a.node_affinity.as_ref());
        let required_terms = na
            .and_then(|n| {
                n.required_during_scheduling_ignored_during_execution
                    .as_ref()
            })
            .map(|s| {
                s.node_selector_terms
                    .iter()
                    .map(node_term)
                    .collect::<Result<Vec<_>>>()
            })
            .transpose()?;
        let preferred_terms = na
            .and_then(|n| {
                n.preferred_during_scheduling_ignored_during_execution
                    .as_ref()
            })
            .into_iter()
            .flatten()
            .map(|p| Ok((i64::from(p.weight), node_term(&p.preference)?)))
            .collect::<Result<_>>()?;

        let pa = aff.and_then(|a| a.pod_affinity.as_ref());
        let paa = aff.and_then(|a| a.pod_anti_affinity.as_ref());
        let req_terms = |terms: Option<&Vec<PodAffinityTerm>>| -> Result<Vec<PodTerm>> {
            terms
                .into_iter()
                .flatten()
                .map(|t| pod_term(t, &namespace))
                .collect()
        };
        let pref_terms =
            |terms: Option<&Vec<k8s_openapi::api::core::v1::WeightedPodAffinityTerm>>| {
                terms
                    .into_iter()
                    .flatten()
                    .map(|t| {
                        Ok((
                            i64::from(t.weight),
                            pod_term(&t.pod_affinity_term, &namespace)?,
                        ))
                    })
                    .collect::<Result<Vec<_>>>()
            };
        let affinity = req_terms(pa.and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_ref()
        }))?;
        let anti_affinity = req_terms(paa.and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_ref()
        }))?;
        let preferred_affinity = pref_terms(pa.and_then(|a| {
            a.preferred_during_scheduling_ignored_during_execution
                .as_ref()
        }))?;
        let preferred_anti_affinity = pref_terms(paa.and_then(|a| {
            a.preferred_during_scheduling_ignored_during_execution
                .as_ref()
        }))?;

        let mut spread = Vec::new();
        for c in spec.topology_spread_constraints.iter().flatten() {
            if c.max_skew < 1 {
                return Err(Error::invalid(
                    "topologySpreadConstraints.maxSkew",
                    "must be at least 1",
                ));
            }
            let hard = match c.when_unsatisfiable.as_str() {
                "DoNotSchedule" => true,
                "ScheduleAnyway" => false,
                w => {
                    return Err(Error::invalid(
                        "whenUnsatisfiable",
                        format!("unknown value {w:?}"),
                    ));
                }
            };
            let policy = |p: Option<&String>, default_honor: bool, field: &str| match p
                .map(String::as_str)
            {
                None => Ok(default_honor),
                Some("Honor") => Ok(true),
                Some("Ignore") => Ok(false),
                Some(x) => Err(Error::invalid(field, format!("unknown policy {x:?}"))),
            };
            spread.push(Spread {
                max_skew: i64::from(c.max_skew),
                topology_key: c.topology_key.clone(),
                hard,
                selector: c
                    .label_selector
                    .as_ref()
                    .map(Selector::from_label_selector)
                    .transpose()?,
                min_domains: c.min_domains.map(i64::from).filter(|_| hard),
                honor_affinity: policy(
                    c.node_affinity_policy.as_ref(),
                    true,
                    "nodeAffinityPolicy",
                )?,
                honor_taints: policy(c.node_taints_policy.as_ref(), false, "nodeTaintsPolicy")?,
            });
        }

        Ok(PodSpecInfo {
            namespace,
            labels,
            cpu: sum[0],
            mem: sum[1],
            cpu_nz: sum[2],
            mem_nz: sum[3],
            priority: spec.priority.unwrap_or(0),
            preempt_never: spec.preemption_policy.as_deref() == Some("Never"),
            node_name: spec.node_name.clone().filter(|n| !n.is_empty()),
            node_selector: spec.node_selector.clone().unwrap_or_default(),
            required_terms,
            preferred_terms,
            tolerations: spec
                .tolerations
                .iter()
                .flatten()
                .map(tol)
                .collect::<Result<_>>()?,
            affinity,
            anti_affinity,
            preferred_affinity,
            preferred_anti_affinity,
            spread,
        })
    }

    /// NodeAffinity filter: nodeSelector and required node affinity.
    pub fn matches_node_affinity(&self, name: &str, labels: &BTreeMap<String, String>) -> bool {
        self.node_selector
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self
                .required_terms
                .as_ref()
                .is_none_or(|ts| ts.iter().any(|t| t.matches(name, labels)))
    }

    /// NodeAffinity score before normalisation: sum of weights of matching preferred terms.
    pub fn preferred_node_score(&self, name: &str, labels: &BTreeMap<String, String>) -> i64 {
        self.preferred_terms
            .iter()
            .filter(|(_, t)| t.matches(name, labels))
            .map(|(w, _)| *w)
            .sum()
    }

    /// The first `NoSchedule`/`NoExecute` taint the pod does not tolerate, in node order.
    pub fn untolerated_taint<'a>(&self, taints: &'a [Taint]) -> Option<&'a Taint> {
        taints.iter().find(|t| {
            (t.effect == "NoSchedule" || t.effect == "NoExecute")
                && !self
                    .tolerations
                    .iter()
                    .any(|tol| tol.tolerates(&t.key, &t.value, &t.effect))
        })
    }

    /// TaintToleration score before normalisation: intolerable `PreferNoSchedule` taints.
    pub fn intolerable_prefer_taints(&self, taints: &[Taint]) -> i64 {
        taints
            .iter()
            .filter(|t| t.effect == "PreferNoSchedule")
            .filter(|t| {
                !self
                    .tolerations
                    .iter()
                    .filter(|tol| tol.effect.is_empty() || tol.effect == "PreferNoSchedule")
                    .any(|tol| tol.tolerates(&t.key, &t.value, &t.effect))
            })
            .count() as i64
    }

    /// Whether this pod tolerates `node.kubernetes.io/unschedulable:NoSchedule`.
    pub fn tolerates_unschedulable(&self) -> bool {
        self.tolerations
            .iter()
            .any(|t| t.tolerates("node.kubernetes.io/unschedulable", "", "NoSchedule"))
    }
}

/// A node taint (`key=value:effect`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Taint {
    pub key: String,
    pub value: String,
    pub effect: String,
}

impl Taint {
    pub fn from_k8s(t: &k8s_openapi::api::core::v1::Taint) -> Self {
        Taint {
            key: t.key.clone(),
            value: t.value.clone().unwrap_or_default(),
            effect: t.effect.clone(),
        }
    }
}
