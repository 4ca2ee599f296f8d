//! The actions a playbook can take.

use std::fmt;

use hxb_core::name::{NameKind, validate};
use hxb_core::{Error, ResourceList, Result};
use serde::{Deserialize, Serialize};

/// A scalable workload kind.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WorkloadKind {
    /// apps/v1 Deployment.
    Deployment,
    /// apps/v1 StatefulSet.
    StatefulSet,
}

impl WorkloadKind {
    /// The plural resource name.
    pub fn resource(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployments",
            WorkloadKind::StatefulSet => "statefulsets",
        }
    }
}

/// The kind of an action, for policies.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Rolling restart.
    Restart,
    /// Change of replicas.
    Scale,
    /// Function rollback.
    RollbackFunction,
    /// Project quota increase.
    RaiseQuota,
    /// Node cordon.
    CordonNode,
}

/// One remediation step.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Rolling restart of a workload (its pod template gets a `restartedAt` annotation).
    Restart {
        /// Workload kind.
        kind: WorkloadKind,
        /// Namespace.
        namespace: String,
        /// Name.
        name: String,
    },
    /// Set a workload's replicas.
    Scale {
        /// Workload kind.
        kind: WorkloadKind,
        /// Namespace.
        namespace: String,
        /// Name.
        name: String,
        /// Target replicas.
        replicas: i32,
    },
    /// Make an earlier version of a function active.
    RollbackFunction {
        /// Namespace (project).
        namespace: String,
        /// Function name.
        function: String,
        /// Version to return to; `None` for the previous one.
        to_version: Option<String>,
    },
    /// Raise a project's quota, within its workspace's headroom.
    RaiseQuota {
        /// The project's namespace.
        namespace: String,
        /// Amounts to add.
        add: ResourceList,
    },
    /// Mark a node unschedulable.
    CordonNode {
        /// Node name.
        node: String,
    },
}

impl Action {
    /// The action's kind.
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::Restart { .. } => ActionKind::Restart,
            Action::Scale { .. } => ActionKind::Scale,
            Action::RollbackFunction { .. } => ActionKind::RollbackFunction,
            Action::RaiseQuota { .. } => ActionKind::RaiseQuota,
            Action::CordonNode { .. } => ActionKind::CordonNode,
        }
    }

    /// The namespace acted in (`None` for cluster-scoped targets).
    pub fn namespace(&self) -> Option<&str> {
        match self {
            Action::Restart { namespace, .. }
            | Action::Scale { namespace, .. }
            | Action::RollbackFunction { namespace, .. }
            | Action::RaiseQuota { namespace, .. } => Some(namespace),
            Action::CordonNode { .. } => None,
        }
    }

    /// The Kubernetes permission the caller needs: `(verb, group, resource)`.
    pub fn permission(&self) -> (&'static str, &'static str, &'static str) {
        match self {
            Action::Restart { kind, .. } => ("patch", "apps", kind.resource()),
            Action::Scale { kind, .. } => ("update", "apps", kind.resource()),
            Action::RollbackFunction { .. } => ("update", "apps", "deployments"),
            Action::RaiseQuota { .. } => ("update", "", "resourcequotas"),
            Action::CordonNode { .. } => ("patch", "", "nodes"),
        }
    }

    /// Check names and amounts.
    pub fn validate(&self) -> Result<()> {
        if let Some(ns) = self.namespace() {
            validate(ns, NameKind::Dns1123Label)?;
        }
        match self {
            Action::Restart { name, .. } => validate(name, NameKind::Dns1123Subdomain)?,
            Action::Scale { name, replicas, .. } => {
                validate(name, NameKind::Dns1123Subdomain)?;
                if *replicas < 0 {
                    return Err(Error::invalid(
                        "replicas",
                        format!("{replicas} is negative"),
                    ));
                }
            }
            Action::RollbackFunction {
                function,
                to_version,
                ..
            } => {
                validate(function, NameKind::Dns1123Label)?;
                if let Some(v) = to_version {
                    validate(v, NameKind::Dns1123Label)?;
                }
            }
            Action::RaiseQuota { add, .. } => {
                if add.is_empty() || add.is_zero() {
                    return Err(Error::invalid(
                        "add",
                        "a quota increase needs at least one positive amount",
                    ));
                }
            }
            Action::CordonNode { node } => validate(node, NameKind::Dns1123Subdomain)?,
        }
        Ok(())
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Restart {
                kind,
                namespace,
                name,
            } => write!(f, "restart {kind:?} {namespace}/{name}"),
            Action::Scale {
                kind,
                namespace,
                name,
                replicas,
            } => {
                write!(f, "scale {kind:?} {namespace}/{name} to {replicas}")
            }
            Action::RollbackFunction {
                namespace,
                function,
                to_version,
            } => write!(
                f,
                "roll back function {namespace}/{function} to {}",
                to_version.as_deref().unwrap_or("the previous version")
            ),
            Action::RaiseQuota { namespace, add } => {
                write!(f, "raise quota of {namespace} by {add}")
            }
            Action::CordonNode { node } => write!(f, "cordon node {node}"),
        }
    }
}
