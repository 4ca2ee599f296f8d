//! NetworkPolicies of a project namespace.
//!
//! Kubernetes NetworkPolicies are allow-lists that add up, so isolation is built as:
//! `hxb-default-deny` (selects every pod, allows nothing in or out), then
//! `hxb-allow-workspace` (in from and out to namespaces of the same organization *and*
//! workspace), `hxb-allow-dns` (out to the cluster DNS on port 53), and — when configured —
//! `hxb-allow-egress` (out to the listed CIDRs). Traffic from other tenants matches no allow
//! rule and is dropped: other organizations are hard-isolated, other workspaces of the same
//! organization are too by default (their soft isolation is in RBAC and quotas, which share
//! the organization's plan).

use std::collections::BTreeMap;

use hxb_core::Name;
use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer,
    NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::{Deserialize, Serialize};

use crate::naming::{LABEL_ORG, LABEL_WORKSPACE};

/// An egress destination tenants may reach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EgressRule {
    /// Destination CIDR, e.g. `0.0.0.0/0`.
    pub cidr: String,
    /// Sub-ranges excluded from it.
    pub except: Vec<String>,
}

/// How the cluster DNS is found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsTarget {
    /// Namespace of the DNS pods.
    pub namespace: String,
    /// Label selecting them (`k8s-app=kube-dns`).
    pub pod_labels: BTreeMap<String, String>,
}

impl Default for DnsTarget {
    fn default() -> Self {
        DnsTarget {
            namespace: "kube-system".into(),
            pod_labels: BTreeMap::from([("k8s-app".into(), "kube-dns".into())]),
        }
    }
}

/// Network settings of every project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkConfig {
    /// Egress allowed besides the workspace and DNS.
    pub egress: Vec<EgressRule>,
    /// The cluster DNS.
    pub dns: DnsTarget,
}

impl Default for NetworkConfig {
    /// The public internet (private and link-local ranges excluded) and kube-dns.
    fn default() -> Self {
        NetworkConfig {
            egress: vec![EgressRule {
                cidr: "0.0.0.0/0".into(),
                except: [
                    "10.0.0.0/8",
                    "172.16.0.0/12",
                    "192.168.0.0/16",
                    "169.254.0.0/16",
                ]
                .map(String::from)
                .into(),
            }],
            dns: DnsTarget::default(),
        }
    }
}

fn selector(labels: BTreeMap<String, String>) -> LabelSelector {
    LabelSelector {
        match_labels: Some(labels),
        ..Default::default()
    }
}

fn policy(meta: &ObjectMeta, name: &str, spec: NetworkPolicySpec) -> NetworkPolicy {
    NetworkPolicy {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..meta.clone()
        },
        spec: Some(spec),
    }
}

const BOTH: [&str; 2] = ["Ingress", "Egress"];

/// The NetworkPolicies of a project namespace; `meta` carries namespace and labels.
pub fn network_policies(
    meta: &ObjectMeta,
    organization: &Name,
    workspace: &Name,
    cfg: &NetworkConfig,
) -> Vec<NetworkPolicy> {
    let all_pods = Some(LabelSelector::default());
    let types = |t: &[&str]| Some(t.iter().map(|s| (*s).to_owned()).collect());
    let same_workspace = NetworkPolicyPeer {
        namespace_selector: Some(selector(BTreeMap::from([
            (LABEL_ORG.into(), organization.to_string()),
            (LABEL_WORKSPACE.into(), workspace.to_string()),
        ]))),
        ..Default::default()
    };
    let mut out = vec![
        policy(
            meta,
            "hxb-default-deny",
            NetworkPolicySpec {
                pod_selector: all_pods.clone(),
                policy_types: types(&BOTH),
                ..Default::default()
            },
        ),
        policy(
            meta,
            "hxb-allow-workspace",
            NetworkPolicySpec {
                pod_selector: all_pods.clone(),
                policy_types: types(&BOTH),
                ingress: Some(vec![NetworkPolicyIngressRule {
                    from: Some(vec![same_workspace.clone()]),
                    ..Default::default()
                }]),
                egress: Some(vec![NetworkPolicyEgressRule {
                    to: Some(vec![same_workspace]),
                    ..Default::default()
                }]),
            },
        ),
    ];
    let dns_port = |proto: &str| NetworkPolicyPort {
        port: Some(IntOrString::Int(53)),
        protocol: Some(proto.into()),
        ..Default::default()
    };
    out.push(policy(
        meta,
        "hxb-allow-dns",
        NetworkPolicySpec {
            pod_selector: all_pods.clone(),
            policy_types: types(&["Egress"]),
            egress: Some(vec![NetworkPolicyEgressRule {
                to: Some(vec![NetworkPolicyPeer {
                    namespace_selector: Some(selector(BTreeMap::from([(
                        "kubernetes.io/metadata.name".into(),
                        cfg.dns.namespace.clone(),
                    )]))),
                    pod_selector: Some(selector(cfg.dns.pod_labels.clone())),
                    ..Default::default()
                }]),
                ports: Some(vec![dns_port("UDP"), dns_port("TCP")]),
            }]),
            ..Default::default()
        },
    ));
    if !cfg.egress.is_empty() {
        let to = cfg
            .egress
            .iter()
            .map(|e| NetworkPolicyPeer {
                ip_block: Some(IPBlock {
                    cidr: e.cidr.clone(),
                    except: (!e.except.is_empty()).then(|| e.except.clone()),
                }),
                ..Default::default()
            })
            .collect();
        out.push(policy(
            meta,
            "hxb-allow-egress",
            NetworkPolicySpec {
                pod_selector: all_pods,
                policy_types: types(&["Egress"]),
                egress: Some(vec![NetworkPolicyEgressRule {
                    to: Some(to),
                    ports: None,
                }]),
                ..Default::default()
            },
        ));
    }
    out
}
