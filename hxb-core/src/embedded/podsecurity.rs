//! PodSecurity admission, as Kubernetes runs it: a Pod created in a namespace whose
//! `pod-security.kubernetes.io/enforce` label names a level is checked against that level
//! (at `enforce-version`) after mutating admission, and refused with every violation listed.
//! Workload objects are not refused (the real plugin only warns for them); the pods their
//! controllers create are, which shows as a `FailedCreate` event on the workload.

use super::state::{NAMESPACE, State};
use crate::cluster::DynamicObject;
use crate::error::{Error, Result};
use crate::policy::{self, PodSecurityLevel};

impl State {
    /// Check a new pod against its namespace's enforced Pod Security Standards level.
    pub(crate) fn admit_pod_security(&self, ns: &str, obj: &DynamicObject) -> Result<()> {
        let Some(namespace) = self.store.get(&NAMESPACE, "", ns) else {
            return Ok(()); // the namespace lifecycle check reports it
        };
        let (level, version) = policy::enforced(namespace.metadata.labels.as_ref());
        if level == PodSecurityLevel::Privileged {
            return Ok(());
        }
        let violations = policy::check_object(obj, level, version)?;
        if violations.is_empty() {
            return Ok(());
        }
        let name = obj.metadata.name.as_deref().unwrap_or("");
        let list = violations
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        Err(Error::forbidden(format!(
            "pods {name:?} is forbidden: violates PodSecurity \"{level}:{version}\": {list}"
        )))
    }
}
