//! The kube-rs backend: [`KubeBackend`] drives a real API server.
//!
//! Every call goes through `kube::Api<DynamicObject>` with the [`ApiResource`] of its
//! [`ResourceType`]; writes use server-side apply with the field manager `hxb`; failures are
//! mapped onto [`Error`] kinds and transient ones retried under a [`RetryPolicy`]. See
//! `docs/kubernetes-backend.md` for the mapping and retry tables and the RBAC hxb needs.
//!
//! ```no_run
//! use std::sync::Arc;
//! use hxb_core::{ClusterBackend, KubeBackend, cluster::Api};
//! use k8s_openapi::api::core::v1::Namespace;
//! # async fn demo() -> hxb_core::Result<()> {
//! let backend: Arc<dyn ClusterBackend> = Arc::new(KubeBackend::infer().await?);
//! let namespaces: Api<Namespace> = Api::all(backend);
//! let mut ns = Namespace::default();
//! ns.metadata.name = Some("team-a".into());
//! namespaces.apply(&ns).await?;
//! # Ok(()) }
//! ```

use std::path::Path;

use async_trait::async_trait;
use kube::api::{Api as KubeApi, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, DynamicObject, TypeMeta};

use crate::cluster::{
    ApplyOptions, BackendKind, ClusterBackend, IssuedToken, ListOptions, LogOptions, ObjectList,
    ProxyRequest, ProxyResponse, ResourceType, WatchOptions, WatchStream,
};
use crate::error::{Error, Result};

mod errors;
mod proxy;
mod retry;
mod transport;
mod watch;

pub use errors::parse_quota_message;
pub use retry::RetryPolicy;
pub use transport::{MaybeRewritten, RetryAfter, RetryAfterLayer};

use errors::{Failure, Target, classify, map_error};
use retry::{Call, Failed, run};

/// Page size for list calls.
const LIST_PAGE: u32 = 500;

/// A real Kubernetes cluster through kube-rs, as a [`ClusterBackend`].
#[derive(Clone)]
pub struct KubeBackend {
    client: kube::Client,
    retry: RetryPolicy,
}

impl std::fmt::Debug for KubeBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeBackend")
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl KubeBackend {
    /// A backend over an existing client, with the default [`RetryPolicy`]. Build the client
    /// with [`RetryAfterLayer`] in its stack to honour `Retry-After` headers (the other
    /// constructors do).
    pub fn new(client: kube::Client) -> Self {
        crate::install_crypto_provider();
        KubeBackend {
            client,
            retry: RetryPolicy::default(),
        }
    }

    /// Connect like `kubectl` and `kube::Client::try_default`: the kubeconfig (`$KUBECONFIG`
    /// or `~/.kube/config`, current context), else the in-cluster service account.
    pub async fn infer() -> Result<Self> {
        crate::install_crypto_provider();
        let config = kube::Config::infer().await.map_err(|e| {
            Error::backend(
                "no Kubernetes configuration found (kubeconfig or in-cluster)",
                e,
            )
        })?;
        Self::from_config(config)
    }

    /// Connect with the kubeconfig file at `path`, using `context` (or its current context).
    pub async fn from_kubeconfig(path: &Path, context: Option<&str>) -> Result<Self> {
        crate::install_crypto_provider();
        let kubeconfig = kube::config::Kubeconfig::read_from(path)
            .map_err(|e| Error::invalid("kubeconfig", format!("{}: {e}", path.display())))?;
        let options = kube::config::KubeConfigOptions {
            context: context.map(str::to_owned),
            ..Default::default()
        };
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|e| Error::invalid("kubeconfig", format!("{}: {e}", path.display())))?;
        Self::from_config(config)
    }

    fn from_config(config: kube::Config) -> Result<Self> {
        let client = kube::client::ClientBuilder::try_from(config)
            .map_err(|e| Error::backend("cannot build the Kubernetes client", e))?
            .with_layer(&RetryAfterLayer)
            .build();
        Ok(Self::new(client))
    }

    /// Use `policy` for every call.
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The retry policy in force.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The underlying kube-rs client.
    pub fn client(&self) -> &kube::Client {
        &self.client
    }

    /// The `Api` for `ty` in `namespace` (all namespaces, or cluster scope, when `None`).
    fn api(&self, ty: &ResourceType, namespace: Option<&str>) -> KubeApi<DynamicObject> {
        let ar: ApiResource = ty.api_resource();
        match namespace.filter(|_| ty.namespaced) {
            Some(ns) => KubeApi::namespaced_with(self.client.clone(), ns, &ar),
            None => KubeApi::all_with(self.client.clone(), &ar),
        }
    }

    /// The `Api` for a single named object (namespace required for namespaced types).
    fn object_api(
        &self,
        ty: &ResourceType,
        namespace: Option<&str>,
    ) -> Result<KubeApi<DynamicObject>> {
        if ty.namespaced && namespace.is_none() {
            return Err(Error::invalid(
                "namespace",
                format!("{} is namespaced", ty.kind),
            ));
        }
        Ok(self.api(ty, namespace))
    }
}

/// Check an object to write and fill in its type.
fn prepare(ty: &ResourceType, mut obj: DynamicObject) -> Result<(DynamicObject, String)> {
    let name = obj
        .metadata
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| Error::invalid("metadata.name", "an object needs a name"))?;
    if ty.namespaced && obj.metadata.namespace.as_deref().is_none_or(str::is_empty) {
        return Err(Error::invalid(
            "metadata.namespace",
            format!("{} is namespaced", ty.kind),
        ));
    }
    if !ty.namespaced {
        obj.metadata.namespace = None;
    }
    obj.types = Some(TypeMeta {
        api_version: ty.api_version(),
        kind: ty.kind.clone(),
    });
    Ok((obj, name))
}

fn target<'a>(ty: &'a ResourceType, namespace: Option<&'a str>, name: &'a str) -> Target<'a> {
    Target {
        kind: &ty.kind,
        plural: &ty.plural,
        group: &ty.group,
        namespace: namespace.filter(|_| ty.namespaced),
        name,
    }
}

fn failed(f: Failed, t: Target<'_>) -> Error {
    map_error(f.error, t)
}

#[async_trait]
impl ClusterBackend for KubeBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Kubernetes
    }

    async fn create(&self, ty: &ResourceType, obj: DynamicObject) -> Result<DynamicObject> {
        let (obj, name) = prepare(ty, obj)?;
        let ns = obj.metadata.namespace.clone();
        let t = target(ty, ns.as_deref(), &name);
        let api = self.api(ty, ns.as_deref());
        let pp = PostParams {
            field_manager: Some(crate::cluster::FIELD_MANAGER.to_owned()),
            ..Default::default()
        };
        run(&self.retry, Call::Create, t, || api.create(&pp, &obj))
            .await
            .map_err(|f| failed(f, t))
    }

    async fn apply(
        &self,
        ty: &ResourceType,
        obj: DynamicObject,
        opts: &ApplyOptions,
    ) -> Result<DynamicObject> {
        let (mut obj, name) = prepare(ty, obj)?;
        // The API server refuses an apply body that carries managedFields.
        obj.metadata.managed_fields = None;
        let ns = obj.metadata.namespace.clone();
        let t = target(ty, ns.as_deref(), &name);
        let api = self.api(ty, ns.as_deref());
        let pp = PatchParams {
            field_manager: Some(opts.field_manager.clone()),
            force: opts.force,
            ..Default::default()
        };
        let call = Call::Apply {
            retry_conflicts: opts.force && obj.metadata.resource_version.is_none(),
        };
        let patch = Patch::Apply(&obj);
        run(&self.retry, call, t, || api.patch(&name, &pp, &patch))
            .await
            .map_err(|f| failed(f, t))
    }

    async fn replace(&self, ty: &ResourceType, obj: DynamicObject) -> Result<DynamicObject> {
        let (obj, name) = prepare(ty, obj)?;
        let ns = obj.metadata.namespace.clone();
        let t = target(ty, ns.as_deref(), &name);
        let api = self.api(ty, ns.as_deref());
        let pp = PostParams {
            field_manager: Some(crate::cluster::FIELD_MANAGER.to_owned()),
            ..Default::default()
        };
        run(&self.retry, Call::Replace, t, || {
            api.replace(&name, &pp, &obj)
        })
        .await
        .map_err(|f| failed(f, t))
    }

    async fn replace_status(&self, ty: &ResourceType, obj: DynamicObject) -> Result<DynamicObject> {
        let (obj, name) = prepare(ty, obj)?;
        let ns = obj.metadata.namespace.clone();
        let t = target(ty, ns.as_deref(), &name);
        let api = self.api(ty, ns.as_deref());
        let pp = PostParams {
            field_manager: Some(crate::cluster::FIELD_MANAGER.to_owned()),
            ..Default::default()
        };
        run(&self.retry, Call::ReplaceStatus, t, || {
            api.replace_status(&name, &pp, &obj)
        })
        .await
        .map_err(|f| failed(f, t))
    }

    async fn get(
        &self,
        ty: &ResourceType,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<DynamicObject> {
        let t = target(ty, namespace, name);
        let api = self.object_api(ty, namespace)?;
        run(&self.retry, Call::Get, t, || api.get(name))
            .await
            .map_err(|f| failed(f, t))
    }

    async fn list(
        &self,
        ty: &ResourceType,
        namespace: Option<&str>,
        opts: &ListOptions,
    ) -> Result<ObjectList> {
        let t = target(ty, namespace, "");
        let api = self.api(ty, namespace);
        let mut params = ListParams::default().limit(LIST_PAGE);
        if let Some(sel) = opts
            .label_selector
            .as_ref()
            .map(ToString::to_string)
            .filter(|s| !s.is_empty())
        {
            params = params.labels(&sel);
        }
        let mut out = ObjectList::default();
        let mut first = true;
        loop {
            let page = run(&self.retry, Call::List, t, || api.list(&params))
                .await
                .map_err(|f| failed(f, t))?;
            if first {
                // Every page is served at the first page's resourceVersion.
                out.resource_version = page.metadata.resource_version.clone().unwrap_or_default();
                first = false;
            }
            out.items.extend(page.items);
            match page.metadata.continue_.filter(|c| !c.is_empty()) {
                Some(token) => params = params.continue_token(&token),
                None => break,
            }
        }
        out.items.sort_by(|a, b| {
            (&a.metadata.namespace, &a.metadata.name)
                .cmp(&(&b.metadata.namespace, &b.metadata.name))
        });
        Ok(out)
    }

    async fn delete(&self, ty: &ResourceType, namespace: Option<&str>, name: &str) -> Result<()> {
        let t = target(ty, namespace, name);
        let api = self.object_api(ty, namespace)?;
        // Background propagation: dependents (ReplicaSets, Pods) are garbage-collected.
        let dp = DeleteParams::background();
        match run(&self.retry, Call::Delete, t, || api.delete(name, &dp)).await {
            Ok(_) => Ok(()),
            // An earlier attempt whose answer was lost did the delete.
            Err(f) if f.earlier_ambiguous && classify(&f.error) == Failure::NotFound => {
                tracing::debug!(
                    kind = t.kind,
                    name,
                    "delete retried after an ambiguous failure found the object gone"
                );
                Ok(())
            }
            Err(f) => Err(failed(f, t)),
        }
    }

    async fn watch(
        &self,
        ty: &ResourceType,
        namespace: Option<&str>,
        opts: &WatchOptions,
    ) -> Result<WatchStream> {
        watch::open(self, ty, namespace, opts).await
    }

    async fn logs(&self, namespace: &str, pod: &str, opts: &LogOptions) -> Result<String> {
        use k8s_openapi::api::core::v1::Pod;
        let ty = ResourceType::of::<Pod>();
        let t = target(&ty, Some(namespace), pod);
        let api: KubeApi<Pod> = KubeApi::namespaced(self.client.clone(), namespace);
        let params = kube::api::LogParams {
            container: opts.container.clone(),
            tail_lines: opts
                .tail_lines
                .map(|n| i64::try_from(n).unwrap_or(i64::MAX)),
            limit_bytes: opts
                .limit_bytes
                .map(|n| i64::try_from(n).unwrap_or(i64::MAX)),
            ..Default::default()
        };
        run(&self.retry, Call::Get, t, || api.logs(pod, &params))
            .await
            .map_err(|f| failed(f, t))
    }

    async fn proxy_service(
        &self,
        namespace: &str,
        service: &str,
        port: &str,
        request: ProxyRequest,
    ) -> Result<ProxyResponse> {
        self.proxy(namespace, service, port, request).await
    }

    async fn request_token(
        &self,
        namespace: &str,
        service_account: &str,
        audiences: &[String],
        expiration_seconds: i64,
    ) -> Result<IssuedToken> {
        self.token(namespace, service_account, audiences, expiration_seconds)
            .await
    }
}
