//! A pure Kubernetes RBAC authorizer over Roles, ClusterRoles and their bindings.
//!
//! It answers the question a `SubjectAccessReview` asks ("may user U, in groups G, do verb V
//! on resource R of API group A, named N, in namespace NS?") with the rule-matching semantics
//! of the Kubernetes RBAC authorizer: a RoleBinding grants its role's rules in its own
//! namespace only (whether it references a Role or a ClusterRole), a ClusterRoleBinding grants
//! everywhere, `*` matches any verb/group/resource, `resourceNames` restricts by name, and
//! service accounts are the users `system:serviceaccount:<namespace>:<name>`.
//!
//! Used on the embedded path and by tests; on a real cluster the engine asks the API server.

use std::collections::HashMap;

use hxb_core::cluster::DynamicObject;
use hxb_core::{Error, Result};
use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};

/// One access question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRequest {
    /// User name.
    pub user: String,
    /// Groups the user belongs to.
    pub groups: Vec<String>,
    /// Verb (`get`, `create`, …).
    pub verb: String,
    /// API group (`""` for core).
    pub group: String,
    /// Resource, optionally with subresource (`pods`, `pods/log`).
    pub resource: String,
    /// Namespace; `None` for cluster-scoped requests.
    pub namespace: Option<String>,
    /// Object name, if the request names one.
    pub name: Option<String>,
}

impl AccessRequest {
    /// A request by `user` to `verb` `group`/`resource` in `namespace`.
    pub fn new(
        user: &str,
        verb: &str,
        group: &str,
        resource: &str,
        namespace: Option<&str>,
    ) -> Self {
        AccessRequest {
            user: user.to_owned(),
            groups: Vec::new(),
            verb: verb.to_owned(),
            group: group.to_owned(),
            resource: resource.to_owned(),
            namespace: namespace.map(str::to_owned),
            name: None,
        }
    }
}

/// The RBAC objects of a cluster (or of a rendering), indexed for evaluation.
#[derive(Debug, Clone, Default)]
pub struct RbacSet {
    roles: HashMap<(String, String), Vec<PolicyRule>>,
    cluster_roles: HashMap<String, Vec<PolicyRule>>,
    /// `(namespace, subjects, roleRef)`
    role_bindings: Vec<(String, Vec<Subject>, RoleRef)>,
    cluster_role_bindings: Vec<(Vec<Subject>, RoleRef)>,
}

fn decode<K: serde::de::DeserializeOwned>(o: &DynamicObject) -> Result<K> {
    let v = serde_json::to_value(o).map_err(|e| Error::internal(e.to_string()))?;
    serde_json::from_value(v).map_err(|e| Error::invalid("rbac object", e.to_string()))
}

impl RbacSet {
    /// An empty set (denies everything).
    pub fn new() -> Self {
        Self::default()
    }

    /// Index every RBAC object among `objects` (others are ignored).
    pub fn from_objects<'a>(objects: impl IntoIterator<Item = &'a DynamicObject>) -> Result<Self> {
        let mut s = RbacSet::new();
        for o in objects {
            let kind = o.types.as_ref().map(|t| t.kind.as_str()).unwrap_or("");
            match kind {
                "Role" => s.add_role(decode(o)?),
                "ClusterRole" => s.add_cluster_role(decode(o)?),
                "RoleBinding" => s.add_role_binding(decode(o)?),
                "ClusterRoleBinding" => s.add_cluster_role_binding(decode(o)?),
                _ => {}
            }
        }
        Ok(s)
    }

    /// Add a Role.
    pub fn add_role(&mut self, r: Role) {
        let key = (
            r.metadata.namespace.unwrap_or_default(),
            r.metadata.name.unwrap_or_default(),
        );
        self.roles.insert(key, r.rules.unwrap_or_default());
    }

    /// Add a ClusterRole.
    pub fn add_cluster_role(&mut self, r: ClusterRole) {
        self.cluster_roles.insert(
            r.metadata.name.unwrap_or_default(),
            r.rules.unwrap_or_default(),
        );
    }

    /// Add a RoleBinding.
    pub fn add_role_binding(&mut self, b: RoleBinding) {
        self.role_bindings.push((
            b.metadata.namespace.unwrap_or_default(),
            b.subjects.unwrap_or_default(),
            b.role_ref,
        ));
    }

    /// Add a ClusterRoleBinding.
    pub fn add_cluster_role_binding(&mut self, b: ClusterRoleBinding) {
        self.cluster_role_bindings
            .push((b.subjects.unwrap_or_default(), b.role_ref));
    }

    fn rules_of(&self, namespace: Option<&str>, r: &RoleRef) -> &[PolicyRule] {
        let found = match (r.kind.as_str(), namespace) {
            ("Role", Some(ns)) => self.roles.get(&(ns.to_owned(), r.name.clone())),
            ("ClusterRole", _) => self.cluster_roles.get(&r.name),
            _ => None,
        };
        found.map(Vec::as_slice).unwrap_or(&[])
    }

    /// Whether `req` is allowed.
    pub fn allows(&self, req: &AccessRequest) -> bool {
        let grants = |subjects: &[Subject], binding_ns: Option<&str>, rules: &[PolicyRule]| {
            subjects.iter().any(|s| subject_matches(s, binding_ns, req))
                && rules.iter().any(|r| rule_matches(r, req))
        };
        for (subjects, rr) in &self.cluster_role_bindings {
            if grants(subjects, None, self.rules_of(None, rr)) {
                return true;
            }
        }
        let Some(ns) = req.namespace.as_deref() else {
            return false;
        };
        self.role_bindings.iter().any(|(bns, subjects, rr)| {
            bns == ns && grants(subjects, Some(bns), self.rules_of(Some(bns), rr))
        })
    }
}

fn subject_matches(s: &Subject, binding_ns: Option<&str>, req: &AccessRequest) -> bool {
    match s.kind.as_str() {
        "User" => s.name == req.user,
        "Group" => req.groups.iter().any(|g| *g == s.name),
        "ServiceAccount" => {
            let ns = s.namespace.as_deref().or(binding_ns).unwrap_or_default();
            req.user == format!("system:serviceaccount:{ns}:{}", s.name)
        }
        _ => false,
    }
}

fn has(list: &[String], want: &str) -> bool {
    list.iter().any(|x| x == "*" || x == want)
}

fn resource_matches(list: &[String], want: &str) -> bool {
    let (res, sub) = match want.split_once('/') {
        Some((r, s)) => (r, Some(s)),
        None => (want, None),
    };
    list.iter().any(|x| {
        x == "*"
            || x == want
            || match (x.split_once('/'), sub) {
                (Some(("*", s)), Some(want_sub)) => s == want_sub,
                (Some((r, "*")), Some(_)) => r == res,
                _ => false,
            }
    })
}

fn rule_matches(r: &PolicyRule, req: &AccessRequest) -> bool {
    let groups = r.api_groups.as_deref().unwrap_or(&[]);
    let resources = r.resources.as_deref().unwrap_or(&[]);
    let names = r.resource_names.as_deref().unwrap_or(&[]);
    has(&r.verbs, &req.verb)
        && has(groups, &req.group)
        && resource_matches(resources, &req.resource)
        && (names.is_empty() || req.name.as_ref().is_some_and(|n| names.contains(n)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn rule(groups: &[&str], res: &[&str], verbs: &[&str], names: &[&str]) -> PolicyRule {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        PolicyRule {
            api_groups: Some(s(groups)),
            resources: Some(s(res)),
            verbs: s(verbs),
            resource_names: (!names.is_empty()).then(|| s(names)),
            ..Default::default()
        }
    }

    fn meta(ns: Option<&str>, name: &str) -> ObjectMeta {
        ObjectMeta {
            namespace: ns.map(Into::into),
            name: Some(name.into()),
            ..Default::default()
        }
    }

    fn subject(kind: &str, name: &str, ns: Option<&str>) -> Subject {
        Subject {
            kind: kind.into(),
            name: name.into(),
            namespace: ns.map(Into::into),
            ..Default::default()
        }
    }

    fn rref(kind: &str, name: &str) -> RoleRef {
        RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: kind.into(),
            name: name.into(),
        }
    }

    #[test]
    fn role_binding_is_confined_to_its_namespace() {
        let mut s = RbacSet::new();
        s.add_cluster_role(ClusterRole {
            metadata: meta(None, "edit"),
            rules: Some(vec![rule(&[""], &["pods"], &["*"], &[])]),
            ..Default::default()
        });
        s.add_role_binding(RoleBinding {
            metadata: meta(Some("a"), "b"),
            subjects: Some(vec![subject("User", "alice", None)]),
            role_ref: rref("ClusterRole", "edit"),
        });
        assert!(s.allows(&AccessRequest::new(
            "alice",
            "delete",
            "",
            "pods",
            Some("a")
        )));
        assert!(!s.allows(&AccessRequest::new(
            "alice",
            "delete",
            "",
            "pods",
            Some("b")
        )));
        assert!(!s.allows(&AccessRequest::new("alice", "list", "", "pods", None)));
        assert!(!s.allows(&AccessRequest::new("bob", "get", "", "pods", Some("a"))));
        assert!(!s.allows(&AccessRequest::new(
            "alice",
            "get",
            "",
            "pods/log",
            Some("a")
        )));
    }

    #[test]
    fn roles_groups_service_accounts_names_and_subresources() {
        let mut s = RbacSet::new();
        s.add_role(Role {
            metadata: meta(Some("a"), "r"),
            rules: Some(vec![
                rule(&["apps"], &["deployments/*"], &["get"], &[]),
                rule(&[""], &["configmaps"], &["get"], &["one"]),
            ]),
        });
        s.add_role_binding(RoleBinding {
            metadata: meta(Some("a"), "b"),
            subjects: Some(vec![
                subject("Group", "devs", None),
                subject("ServiceAccount", "bot", None),
            ]),
            role_ref: rref("Role", "r"),
        });
        let mut req = AccessRequest::new("x", "get", "apps", "deployments/scale", Some("a"));
        assert!(!s.allows(&req));
        req.groups = vec!["devs".into()];
        assert!(s.allows(&req));
        let sa = AccessRequest::new(
            "system:serviceaccount:a:bot",
            "get",
            "apps",
            "deployments/scale",
            Some("a"),
        );
        assert!(s.allows(&sa));
        assert!(!s.allows(&AccessRequest {
            group: "".into(),
            ..sa.clone()
        }));
        let mut cm = AccessRequest::new(
            "system:serviceaccount:a:bot",
            "get",
            "",
            "configmaps",
            Some("a"),
        );
        assert!(!s.allows(&cm));
        cm.name = Some("one".into());
        assert!(s.allows(&cm));
        cm.name = Some("two".into());
        assert!(!s.allows(&cm));
    }

    #[test]
    fn cluster_role_binding_reaches_everywhere() {
        let mut s = RbacSet::new();
        s.add_cluster_role(ClusterRole {
            metadata: meta(None, "ns-reader"),
            rules: Some(vec![rule(&[""], &["namespaces"], &["list"], &[])]),
            ..Default::default()
        });
        s.add_cluster_role_binding(ClusterRoleBinding {
            metadata: meta(None, "b"),
            subjects: Some(vec![subject("User", "root", None)]),
            role_ref: rref("ClusterRole", "ns-reader"),
        });
        assert!(s.allows(&AccessRequest::new("root", "list", "", "namespaces", None)));
        assert!(s.allows(&AccessRequest::new(
            "root",
            "list",
            "",
            "namespaces",
            Some("any")
        )));
        // a binding to a missing role grants nothing
        s.add_role_binding(RoleBinding {
            metadata: meta(Some("a"), "dangling"),
            subjects: Some(vec![subject("User", "eve", None)]),
            role_ref: rref("Role", "missing"),
        });
        assert!(!s.allows(&AccessRequest::new("eve", "get", "", "pods", Some("a"))));
    }
}
