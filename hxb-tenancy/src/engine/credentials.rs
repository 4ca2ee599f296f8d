//! Scoped kubeconfigs: a ServiceAccount per (member, workspace), bound exactly like the
//! member, and a kubeconfig carrying its token.
//!
//! The ServiceAccount `hxb-m-<hash of subject>` and a `kubernetes.io/service-account-token`
//! Secret for it live in the workspace's *home* namespace (its first top-level project by
//! name). Reconcile adds the ServiceAccount as a subject next to the member in every
//! RoleBinding the member is in, so the token can do exactly what the member's roles allow in
//! that workspace — no more (other workspaces' bindings never name it), and nothing once the
//! membership goes. The token is issued by the cluster's token controller into the Secret; until
//! it appears, [`ScopedKubeconfig::execute`] fails with the retryable
//! [`Unavailable`](hxb_core::ErrorKind::Unavailable) (the embedded cluster has no token
//! controller, so there the caller — or a test — fills it in).

use std::collections::BTreeMap;

use hxb_core::cluster::ResourceType;
use hxb_core::store::{Batch, Precondition};
use hxb_core::{EntityStatus, Error, ErrorKind, Name, Result, Scope, Subject};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

use super::state::{OrgSnapshot, encode};
use super::sync::Part;
use super::{SYSTEM_ACTOR, Tenancy, name_arg};
use crate::render::DesiredObject;

/// Collection of member credentials (`<org>/<ws>/<escaped subject>`).
pub const CREDENTIALS: &str = "credentials";

/// A member's workspace credential as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    /// Whose.
    pub subject: Subject,
    /// Organization.
    pub organization: Name,
    /// Workspace.
    pub workspace: Name,
}

/// `hxb-m-<8 hex digits>` for a subject.
pub fn service_account_name(subject: &Subject) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in subject.as_str().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("hxb-m-{:08x}", h as u32)
}

fn cred_key(org: &Name, ws: &Name, subject: &Subject) -> String {
    let s = subject.as_str().replace('%', "%25").replace('/', "%2F");
    format!("{org}/{ws}/{s}")
}

/// The home namespace of a workspace: its first live top-level project's.
pub(crate) fn home_namespace(snap: &OrgSnapshot, ws: &Name) -> Option<String> {
    snap.children(ws, None)
        .filter(|p| p.status != EntityStatus::Deleting)
        .map(|p| (p.name.clone(), p.namespace.clone()))
        .min()
        .map(|(_, ns)| ns)
}

/// Add the credentials' ServiceAccounts to `objects` (ServiceAccount + token Secret in the
/// home namespace, and as subjects beside their members in the workspace's RoleBindings).
pub(crate) fn bind_credentials(
    snap: &OrgSnapshot,
    ws: &Name,
    creds: &[Credential],
    labels: &BTreeMap<String, String>,
    objects: &mut Vec<DesiredObject>,
) -> Result<()> {
    let Some(home) = home_namespace(snap, ws) else {
        return Ok(());
    };
    let by_user: BTreeMap<&str, String> = creds
        .iter()
        .map(|c| (c.subject.as_str(), service_account_name(&c.subject)))
        .collect();
    let namespaces: Vec<String> = snap.projects_of(ws).map(|p| p.namespace.clone()).collect();
    for o in objects.iter_mut() {
        let in_ws = o
            .object
            .metadata
            .namespace
            .as_ref()
            .is_some_and(|n| namespaces.contains(n));
        if o.ty.kind != "RoleBinding" || !in_ws {
            continue;
        }
        let Some(subjects) = o.object.data["subjects"].as_array().cloned() else {
            continue;
        };
        let mut out = subjects.clone();
        for s in &subjects {
            if let Some(sa) = s["name"].as_str().and_then(|u| by_user.get(u)) {
                out.push(
                    serde_json::json!({"kind": "ServiceAccount", "name": sa, "namespace": home}),
                );
            }
        }
        o.object.data["subjects"] = serde_json::Value::Array(out);
    }
    for c in creds {
        let name = service_account_name(&c.subject);
        let meta = |n: &str, ann: Option<BTreeMap<String, String>>| ObjectMeta {
            name: Some(n.to_owned()),
            namespace: Some(home.clone()),
            labels: Some(labels.clone()),
            annotations: ann,
            ..Default::default()
        };
        objects.push(DesiredObject::from_typed(&ServiceAccount {
            metadata: meta(
                &name,
                Some(BTreeMap::from([(
                    "hxb.io/subject".to_owned(),
                    c.subject.to_string(),
                )])),
            ),
            automount_service_account_token: Some(false),
            ..Default::default()
        })?);
        objects.push(DesiredObject::from_typed(&Secret {
            metadata: meta(
                &format!("{name}-token"),
                Some(BTreeMap::from([(
                    "kubernetes.io/service-account.name".to_owned(),
                    name.clone(),
                )])),
            ),
            type_: Some("kubernetes.io/service-account-token".into()),
            ..Default::default()
        })?);
    }
    Ok(())
}

impl Tenancy {
    /// Start making a kubeconfig for `subject`, scoped to workspace `org/ws`.
    pub fn scoped_kubeconfig(&self, org: &str, ws: &str, subject: &str) -> ScopedKubeconfig<'_> {
        ScopedKubeconfig {
            t: self,
            at: (org.into(), ws.into(), subject.into()),
            server: "https://kubernetes.default.svc".into(),
            ca: None,
        }
    }
}

/// Builder of [`Tenancy::scoped_kubeconfig`].
#[must_use = "call .execute().await"]
pub struct ScopedKubeconfig<'a> {
    t: &'a Tenancy,
    at: (String, String, String),
    server: String,
    ca: Option<String>,
}

impl ScopedKubeconfig<'_> {
    /// API server URL (default `https://kubernetes.default.svc`).
    pub fn server(mut self, url: &str) -> Self {
        self.server = url.into();
        self
    }

    /// Base64 PEM of the cluster CA (`certificate-authority-data`).
    pub fn certificate_authority(mut self, b64: &str) -> Self {
        self.ca = Some(b64.into());
        self
    }

    /// Ensure the ServiceAccount exists and is bound, then return the kubeconfig YAML.
    /// A subject with no role reaching the workspace is
    /// [`Forbidden`](hxb_core::ErrorKind::Forbidden); a token not issued yet is
    /// [`Unavailable`](hxb_core::ErrorKind::Unavailable) (retry).
    pub async fn execute(self) -> Result<String> {
        let (org, ws, subject) = &self.at;
        let t = self.t;
        let subject = Subject::new(subject.clone())?;
        let ws_name = name_arg(ws)?;
        let home = {
            let _guard = t.lock(org).await;
            let snap = OrgSnapshot::load(t.store().as_ref(), org).await?;
            snap.workspace(&ws_name)?;
            let reaches = snap.members.iter().any(|m| {
                m.subject == subject
                    && match &m.scope {
                        Scope::Workspace { workspace, .. } | Scope::Project { workspace, .. } => {
                            *workspace == ws_name
                        }
                        Scope::Organization { .. } => {
                            crate::rbac::mapping::mapping(m.role).access.is_some()
                        }
                        _ => false,
                    }
            });
            if !reaches {
                let e = Error::forbidden(format!(
                    "{subject} has no role reaching workspace {org}/{ws}"
                ));
                return Err(t
                    .refused(SYSTEM_ACTOR, "scoped_kubeconfig", &format!("{org}/{ws}"), e)
                    .await);
            }
            let home = home_namespace(&snap, &ws_name).ok_or_else(|| {
                Error::precondition(format!("workspace {org}/{ws} has no project yet"))
            })?;
            let cred = Credential {
                subject: subject.clone(),
                organization: snap.org.0.name.clone(),
                workspace: ws_name.clone(),
            };
            let key = cred_key(&cred.organization, &ws_name, &subject);
            if t.store().get(CREDENTIALS, &key).await?.is_none() {
                let batch =
                    Batch::new().put(CREDENTIALS, &key, encode(&cred)?, Precondition::Absent);
                t.commit(batch, SYSTEM_ACTOR, "issue_credential", &key)
                    .await?;
            }
            t.sync(org, Part::Workspace(ws_name.clone())).await?;
            home
        };
        let sa = service_account_name(&subject);
        let ty = ResourceType::of::<Secret>();
        let secret = match t
            .cluster()
            .get(&ty, Some(&home), &format!("{sa}-token"))
            .await
        {
            Ok(s) => s,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(Error::unavailable(
                    "the token Secret is not there yet",
                    None,
                ));
            }
            Err(e) => return Err(e),
        };
        let secret: Secret = serde_json::from_value(
            serde_json::to_value(secret).map_err(|e| Error::internal(e.to_string()))?,
        )
        .map_err(|e| Error::backend("cannot decode Secret", e))?;
        let token = secret
            .data
            .and_then(|d| d.get("token").cloned())
            .map(|ByteString(b)| String::from_utf8_lossy(&b).into_owned())
            .ok_or_else(|| {
                Error::unavailable(
                    format!("the cluster has not issued a token for {home}/{sa} yet"),
                    None,
                )
            })?;
        let cluster = match &self.ca {
            Some(ca) => {
                serde_json::json!({"server": self.server, "certificate-authority-data": ca})
            }
            None => serde_json::json!({"server": self.server}),
        };
        let name = format!("{org}-{ws}");
        let cfg = serde_json::json!({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": name, "cluster": cluster}],
            "users": [{"name": format!("{name}-{sa}"), "user": {"token": token}}],
            "contexts": [{"name": name, "context": {"cluster": name, "user": format!("{name}-{sa}"), "namespace": home}}],
            "current-context": name,
        });
        serde_yaml::to_string(&cfg).map_err(|e| Error::internal(e.to_string()))
    }
}

/// Keys of an organization's credentials, for finalizing an organization or workspace.
pub(crate) fn credential_key(c: &Credential) -> String {
    cred_key(&c.organization, &c.workspace, &c.subject)
}
