//! Scoped kubeconfigs: a ServiceAccount per (member, workspace), bound exactly like the
//! member, and a kubeconfig carrying a token for it.
//!
//! The ServiceAccount `hxb-m-<hash of subject>` lives in the workspace's *home* namespace (its
//! first top-level project by name). Reconcile adds the ServiceAccount as a subject next to
//! the member in every RoleBinding the member is in, so its tokens can do exactly what the
//! member's roles allow in that workspace — no more (other workspaces' bindings never name
//! it), and nothing once the membership goes.
//!
//! The token is a **bound, expiring token from the TokenRequest API**
//! ([`ClusterBackend::request_token`](hxb_core::ClusterBackend::request_token); default
//! lifetime [`DEFAULT_TOKEN_EXPIRATION`], set with
//! [`ScopedKubeconfig::token_expiration`]). Only when the backend answers
//! [`Unsupported`](hxb_core::Error::Unsupported) does hxb fall back to the legacy
//! long-lived `kubernetes.io/service-account-token` Secret: the credential is marked so that
//! reconcile renders the Secret, and the kubeconfig carries the token the cluster's token
//! controller writes into it (until then the call fails with the retryable
//! [`Unavailable`](hxb_core::ErrorKind::Unavailable)).

use std::collections::BTreeMap;
use std::time::Duration;

use hxb_core::cluster::{
    Api, IssuedToken, MAX_TOKEN_EXPIRATION_SECONDS, MIN_TOKEN_EXPIRATION_SECONDS,
};
use hxb_core::store::{Batch, Precondition};
use hxb_core::{EntityStatus, Error, Name, Result, Scope, Subject};
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

/// How long a scoped kubeconfig's token is valid unless
/// [`ScopedKubeconfig::token_expiration`] says otherwise.
pub const DEFAULT_TOKEN_EXPIRATION: Duration = Duration::from_secs(3600);

/// A member's workspace credential as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    /// Whose.
    pub subject: Subject,
    /// Organization.
    pub organization: Name,
    /// Workspace.
    pub workspace: Name,
    /// Whether the legacy long-lived token Secret is rendered for it (only when the cluster
    /// backend does not support TokenRequest; records written before TokenRequest support
    /// have it).
    #[serde(default = "legacy_default")]
    pub legacy_secret: bool,
}

fn legacy_default() -> bool {
    true
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

/// Add the credentials' ServiceAccounts to `objects` (ServiceAccount in the home namespace,
/// plus the legacy token Secret where the credential needs it, and as subjects beside their
/// members in the workspace's RoleBindings).
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
        if !c.legacy_secret {
            continue;
        }
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
            expiration: DEFAULT_TOKEN_EXPIRATION,
            audiences: Vec::new(),
            actor: SYSTEM_ACTOR.to_owned(),
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
    expiration: Duration,
    audiences: Vec<String>,
    actor: String,
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

    /// How long the token is valid (default [`DEFAULT_TOKEN_EXPIRATION`]; at least 10
    /// minutes, at most 2^32 seconds, whole seconds). The API server may shorten it.
    pub fn token_expiration(mut self, d: Duration) -> Self {
        self.expiration = d;
        self
    }

    /// Who asks (recorded in the audit log; default `system`).
    pub fn actor(mut self, actor: &str) -> Self {
        self.actor = actor.to_owned();
        self
    }

    /// An audience the token is for (default: the API server's own).
    pub fn audience(mut self, audience: &str) -> Self {
        self.audiences.push(audience.to_owned());
        self
    }

    /// Ensure the ServiceAccount exists and is bound, then return the kubeconfig YAML with
    /// a bound token from the TokenRequest API. A subject with no role reaching the workspace
    /// is [`Forbidden`](hxb_core::ErrorKind::Forbidden); an expiration outside 10 minutes to
    /// 2^32 seconds, or an empty audience, [`InvalidInput`](hxb_core::ErrorKind::InvalidInput)
    /// (nothing recorded). On a backend without TokenRequest, a legacy token not issued yet
    /// is [`Unavailable`](hxb_core::ErrorKind::Unavailable) (retry).
    pub async fn execute(self) -> Result<String> {
        Ok(self.execute_with_expiry().await?.0)
    }

    /// Like [`execute`](Self::execute), also returning when the token expires (`None` for a
    /// legacy token Secret, which does not).
    pub async fn execute_with_expiry(self) -> Result<(String, Option<hxb_core::Timestamp>)> {
        let (org, ws, subject) = &self.at;
        let t = self.t;
        let subject = Subject::new(subject.clone())?;
        let ws_name = name_arg(ws)?;
        let seconds = i64::try_from(self.expiration.as_secs()).unwrap_or(i64::MAX);
        if self.expiration.subsec_nanos() != 0
            || !(MIN_TOKEN_EXPIRATION_SECONDS..=MAX_TOKEN_EXPIRATION_SECONDS).contains(&seconds)
        {
            return Err(Error::invalid(
                "token_expiration",
                format!(
                    "{:?} is not a whole number of seconds from 10 minutes to 2^32 seconds",
                    self.expiration
                ),
            ));
        }
        if self.audiences.iter().any(|a| a.trim().is_empty()) {
            return Err(Error::invalid("audience", "must not be empty"));
        }
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
                    .refused(&self.actor, "scoped_kubeconfig", &format!("{org}/{ws}"), e)
                    .await);
            }
            let home = home_namespace(&snap, &ws_name).ok_or_else(|| {
                Error::precondition(format!("workspace {org}/{ws} has no project yet"))
            })?;
            let cred = Credential {
                subject: subject.clone(),
                organization: snap.org.0.name.clone(),
                workspace: ws_name.clone(),
                legacy_secret: false,
            };
            let key = cred_key(&cred.organization, &ws_name, &subject);
            if t.store().get(CREDENTIALS, &key).await?.is_none() {
                let batch =
                    Batch::new().put(CREDENTIALS, &key, encode(&cred)?, Precondition::Absent);
                t.commit(batch, &self.actor, "issue_credential", &key)
                    .await?;
            }
            t.sync(org, Part::Workspace(ws_name.clone())).await?;
            home
        };
        let sa = service_account_name(&subject);
        let (token, expires) = match t
            .cluster()
            .request_token(&home, &sa, &self.audiences, seconds)
            .await
        {
            Ok(IssuedToken { token, expires_at }) => {
                // the token itself is never logged: who got one, for whom, until when
                let what = format!("{org}/{ws}/{subject} until {expires_at}");
                t.commit(Batch::new(), &self.actor, "issue_token", &what)
                    .await?;
                (token, Some(expires_at))
            }
            Err(e) if e.is_unsupported() => {
                let org_name = name_arg(org)?;
                t.use_legacy_secret(&org_name, &ws_name, &subject).await?;
                (legacy_token(t, &home, &sa).await?, None)
            }
            Err(e) => return Err(e),
        };
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
        let yaml = serde_yaml::to_string(&cfg).map_err(|e| Error::internal(e.to_string()))?;
        Ok((yaml, expires))
    }
}

impl Tenancy {
    /// Mark a credential as needing the legacy token Secret and reconcile its workspace.
    async fn use_legacy_secret(&self, org: &Name, ws: &Name, subject: &Subject) -> Result<()> {
        let _guard = self.lock(org.as_str()).await;
        let key = cred_key(org, ws, subject);
        let rec = self
            .store()
            .get(CREDENTIALS, &key)
            .await?
            .ok_or_else(|| Error::not_found("credential", key.clone()))?;
        let mut cred: Credential = super::state::decode(&rec)?;
        if !cred.legacy_secret {
            cred.legacy_secret = true;
            let batch = Batch::new().put(
                CREDENTIALS,
                &key,
                encode(&cred)?,
                Precondition::Revision(rec.revision),
            );
            self.commit(batch, SYSTEM_ACTOR, "issue_legacy_token_secret", &key)
                .await?;
        }
        self.sync(org.as_str(), Part::Workspace(ws.clone())).await?;
        Ok(())
    }
}

/// The token the cluster's token controller wrote into the legacy Secret.
async fn legacy_token(t: &Tenancy, home: &str, sa: &str) -> Result<String> {
    let secret = Api::<Secret>::namespaced(t.cluster().clone(), home)
        .get_opt(&format!("{sa}-token"))
        .await?
        .ok_or_else(|| Error::unavailable("the token Secret is not there yet", None))?;
    secret
        .data
        .and_then(|d| d.get("token").cloned())
        .map(|ByteString(b)| String::from_utf8_lossy(&b).into_owned())
        .ok_or_else(|| {
            Error::unavailable(
                format!("the cluster has not issued a token for {home}/{sa} yet"),
                None,
            )
        })
}

/// Keys of an organization's credentials, for finalizing an organization or workspace.
pub(crate) fn credential_key(c: &Credential) -> String {
    cred_key(&c.organization, &c.workspace, &c.subject)
}
