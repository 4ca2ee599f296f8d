//! Functions: versions, rollback, and invocation through the function's Service.
//!
//! A function is an application whose Deployment runs the *active* version's image behind a
//! Service (port 8080 unless set). [`Tenancy::invoke_function`] sends the payload through
//! that Service with [`ClusterBackend::proxy_service`](hxb_core::ClusterBackend::proxy_service)
//! — on a real cluster the API server's service proxy, on the embedded cluster its proxy over
//! in-process image handlers — so whichever version is active (after a deploy or a
//! rollback) is the one that answers.

use hxb_core::cluster::{ProxyRequest, ProxyResponse};
use hxb_core::store::Batch;
use hxb_core::{Error, Result};

use super::apps::{AppOp, At};
use super::{SYSTEM_ACTOR, Tenancy};
use crate::apps::{AppKind, Application};

/// The port a function's Service listens on unless `.port()` says otherwise.
pub const DEFAULT_FUNCTION_PORT: i32 = 8080;

fn not_a_function(a: &Application) -> Error {
    Error::invalid("application", format!("{} is not a function", a.name))
}

impl Tenancy {
    /// Deploy a new version of a function and make it active; yields the version number.
    pub fn deploy_function(
        &self,
        org: &str,
        ws: &str,
        project: &str,
        name: &str,
        image: &str,
    ) -> AppOp<'_, usize> {
        let at = At::new(org, ws, project, name);
        let image = image.to_owned();
        AppOp::new(self, move |t, actor| async move {
            let mut version = 0;
            t.modify_app(&at, &actor, "deploy_function", |a| {
                let AppKind::Function { versions, active } = &mut a.kind else {
                    return Err(not_a_function(a));
                };
                if image.trim().is_empty() {
                    return Err(Error::invalid("image", "must not be empty"));
                }
                versions.push(image.clone());
                *active = versions.len();
                version = *active;
                a.image = image;
                Ok(())
            })
            .await?;
            Ok(version)
        })
    }

    /// Make an earlier (or later) version of a function active again.
    pub fn rollback_function(
        &self,
        org: &str,
        ws: &str,
        project: &str,
        name: &str,
        version: usize,
    ) -> AppOp<'_, Application> {
        let at = At::new(org, ws, project, name);
        AppOp::new(self, move |t, actor| async move {
            t.modify_app(&at, &actor, "rollback_function", |a| {
                let AppKind::Function { versions, active } = &mut a.kind else {
                    return Err(not_a_function(a));
                };
                let image = versions
                    .get(version.wrapping_sub(1))
                    .cloned()
                    .ok_or_else(|| {
                        Error::invalid(
                            "version",
                            format!("{version} is not one of 1..={}", versions.len()),
                        )
                    })?;
                *active = version;
                a.image = image;
                Ok(())
            })
            .await
        })
    }

    /// Start invoking function `name` with `payload` (a `POST /` to its Service unless
    /// `.method()` / `.path()` say otherwise).
    pub fn invoke_function(
        &self,
        org: &str,
        ws: &str,
        project: &str,
        name: &str,
        payload: impl Into<Vec<u8>>,
    ) -> InvokeFunction<'_> {
        InvokeFunction {
            t: self,
            at: At::new(org, ws, project, name),
            actor: SYSTEM_ACTOR.to_owned(),
            request: ProxyRequest::post("/", payload),
        }
    }
}

/// Builder of [`Tenancy::invoke_function`].
#[must_use = "call .execute().await"]
#[derive(Debug)]
pub struct InvokeFunction<'a> {
    t: &'a Tenancy,
    at: At,
    actor: String,
    request: ProxyRequest,
}

impl InvokeFunction<'_> {
    /// Who asks (recorded in the audit log; default `system`).
    pub fn actor(mut self, actor: &str) -> Self {
        self.actor = actor.to_owned();
        self
    }

    /// HTTP method (default `POST`).
    pub fn method(mut self, method: &str) -> Self {
        self.request.method = method.to_owned();
        self
    }

    /// Path (and query) at the function (default `/`).
    pub fn path(mut self, path: &str) -> Self {
        self.request.path = path.to_owned();
        self
    }

    /// Add a request header (e.g. `content-type`).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.request = self.request.header(name, value);
        self
    }

    /// Send the request through the function's Service and return the function's answer
    /// (its own error statuses included). A malformed request, or an application that is not
    /// a function, is [`InvalidInput`](hxb_core::ErrorKind::InvalidInput); no ready pod, or
    /// none answering, [`Unavailable`](hxb_core::ErrorKind::Unavailable); a backend without a
    /// service proxy [`Unsupported`](hxb_core::Error::Unsupported). The call is audited
    /// (`invoke_function`, with the active version) and not retried: an invocation need not
    /// be idempotent.
    pub async fn execute(self) -> Result<ProxyResponse> {
        let InvokeFunction {
            t,
            at,
            actor,
            request,
        } = self;
        let target = at.target();
        t.audited(&actor, "invoke_function", &target, async {
            request.validate()?;
            let prj = t.project(&at.org, &at.ws, &at.project).await?;
            let app = t.load_app(&at).await?;
            let AppKind::Function { active, .. } = app.kind else {
                return Err(not_a_function(&app));
            };
            let port = app.port.unwrap_or(DEFAULT_FUNCTION_PORT).to_string();
            let answer = t
                .cluster()
                .proxy_service(&prj.namespace, app.name.as_str(), &port, request)
                .await?;
            let what = format!("{target}@{active}");
            t.commit(Batch::new(), &actor, "invoke_function", &what)
                .await?;
            Ok(answer)
        })
        .await
    }
}
