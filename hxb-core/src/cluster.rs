//! The cluster backend: the one trait every Kubernetes side effect goes through.
//!
//! [`ClusterBackend`] is object-safe and speaks [`DynamicObject`] (kube-rs' dynamic type with a
//! k8s-openapi `ObjectMeta`), so the engine holds an `Arc<dyn ClusterBackend>` and the same code
//! drives the [embedded cluster](crate::embedded) and a real API server through
//! [kube-rs](crate::kube_backend). [`Api`] puts k8s-openapi types on top:
//!
//! ```no_run
//! # async fn demo(cluster: std::sync::Arc<dyn hxb_core::ClusterBackend>) -> hxb_core::Result<()> {
//! use hxb_core::cluster::{Api, ListOptions};
//! use k8s_openapi::api::core::v1::Pod;
//! let pods: Api<Pod> = Api::namespaced(cluster.clone(), "team-a");
//! for pod in pods.list(&ListOptions::default()).await? {
//!     println!("{:?}", pod.metadata.name);
//! }
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use async_trait::async_trait;
use futures::stream::{BoxStream, StreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use kube::core::{ApiResource, DynamicObject, GroupVersionKind, TypeMeta};

use crate::error::{Error, Result};
use crate::selector::Selector;

/// The field manager hxb uses for server-side apply.
pub const FIELD_MANAGER: &str = "hxb";

/// Whether a scope is namespaced; implemented for k8s-openapi's scope markers.
pub trait ScopeInfo {
    /// `true` for namespaced resources.
    const NAMESPACED: bool;
}
impl ScopeInfo for k8s_openapi::NamespaceResourceScope {
    const NAMESPACED: bool = true;
}
impl ScopeInfo for k8s_openapi::ClusterResourceScope {
    const NAMESPACED: bool = false;
}

/// A typed Kubernetes object usable through [`Api`]: every k8s-openapi resource and every
/// `kube::CustomResource`.
pub trait Object:
    kube::Resource<DynamicType = ()> + Clone + Serialize + DeserializeOwned + Send + Sync + 'static
{
}
impl<K> Object for K where
    K: kube::Resource<DynamicType = ()>
        + Clone
        + Serialize
        + DeserializeOwned
        + Send
        + Sync
        + 'static
{
}

/// A kind of object: group, version, kind, plural and scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceType {
    /// API group (`""` for core).
    pub group: String,
    /// API version (`v1`).
    pub version: String,
    /// Kind (`Pod`).
    pub kind: String,
    /// Plural resource name (`pods`).
    pub plural: String,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
}

impl ResourceType {
    /// The resource type of a typed object.
    pub fn of<K>() -> Self
    where
        K: kube::Resource<DynamicType = ()>,
        K::Scope: ScopeInfo,
    {
        ResourceType {
            group: K::group(&()).into_owned(),
            version: K::version(&()).into_owned(),
            kind: K::kind(&()).into_owned(),
            plural: K::plural(&()).into_owned(),
            namespaced: <K::Scope as ScopeInfo>::NAMESPACED,
        }
    }

    /// `group/version`, or `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// kube-rs' description of this type.
    pub fn api_resource(&self) -> ApiResource {
        ApiResource {
            group: self.group.clone(),
            version: self.version.clone(),
            api_version: self.api_version(),
            kind: self.kind.clone(),
            plural: self.plural.clone(),
        }
    }
}

impl ResourceType {
    /// The API server's group-resource: `<plural>.<group>`, or `<plural>` for the core group
    /// (`deployments.apps`, `pods`), as its error messages name objects.
    pub fn group_resource(&self) -> String {
        group_resource(&self.plural, &self.group)
    }

    /// The API server's NotFound for an object of this type:
    /// `deployments.apps "web" not found`.
    pub fn not_found(&self, name: &str) -> Error {
        Error::not_found(self.group_resource(), name)
    }
}

/// `<plural>.<group>`, or `<plural>` for the core group (see
/// [`ResourceType::group_resource`]).
pub(crate) fn group_resource(plural: &str, group: &str) -> String {
    if group.is_empty() {
        plural.to_owned()
    } else {
        format!("{plural}.{group}")
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.plural, self.api_version())
    }
}

/// Options for [`ClusterBackend::list`].
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    /// Only objects whose labels match.
    pub label_selector: Option<Selector>,
}

impl ListOptions {
    /// List objects matching a label selector.
    pub fn labels(selector: Selector) -> Self {
        ListOptions {
            label_selector: Some(selector),
        }
    }
}

/// A list result with the collection's resourceVersion (to start a watch from).
#[derive(Debug, Clone, Default)]
pub struct ObjectList {
    /// The objects, ordered by namespace then name.
    pub items: Vec<DynamicObject>,
    /// The resourceVersion of the collection at list time.
    pub resource_version: String,
}

/// Options for [`ClusterBackend::watch`].
#[derive(Debug, Clone, Default)]
pub struct WatchOptions {
    /// Only objects whose labels match.
    pub label_selector: Option<Selector>,
    /// Start after this resourceVersion (from a list); `None` starts now.
    pub resource_version: Option<String>,
}

/// Options for [`ClusterBackend::logs`] (the `pods/log` subresource).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogOptions {
    /// The container; may be left out when the pod has only one.
    pub container: Option<String>,
    /// Only the last this many lines.
    pub tail_lines: Option<usize>,
    /// At most this many bytes (cut at a character boundary).
    pub limit_bytes: Option<usize>,
}

/// Options for [`ClusterBackend::apply`] (server-side apply).
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Field manager; [`FIELD_MANAGER`] by default.
    pub field_manager: String,
    /// Take ownership of fields other managers own.
    pub force: bool,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            field_manager: FIELD_MANAGER.to_owned(),
            force: true,
        }
    }
}

/// A change seen by a watch.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum WatchEvent {
    /// An object was created.
    Added(DynamicObject),
    /// An object changed.
    Modified(DynamicObject),
    /// An object was removed (the last state it had).
    Deleted(DynamicObject),
}

impl WatchEvent {
    /// The object the event is about.
    pub fn object(&self) -> &DynamicObject {
        match self {
            WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o) => o,
        }
    }
}

/// A stream of watch events.
pub type WatchStream = BoxStream<'static, Result<WatchEvent>>;

/// Which implementation a backend is.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// The in-process cluster.
    Embedded,
    /// A real API server through kube-rs.
    Kubernetes,
}

/// An HTTP request sent to a Service through [`ClusterBackend::proxy_service`], and what an
/// in-process handler of the embedded cluster receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyRequest {
    /// HTTP method (`GET`, `POST`, …; upper case).
    pub method: String,
    /// Path (and query) at the Service, starting with `/` (e.g. `/invoke?x=1`).
    pub path: String,
    /// Request headers (lower-case names).
    pub headers: BTreeMap<String, String>,
    /// Request body.
    pub body: Vec<u8>,
}

impl ProxyRequest {
    /// A request with `method` and `path` and no headers or body.
    pub fn new(method: &str, path: &str) -> Self {
        ProxyRequest {
            method: method.to_owned(),
            path: path.to_owned(),
            headers: BTreeMap::new(),
            body: Vec::new(),
        }
    }

    /// `POST path` with a body.
    pub fn post(path: &str, body: impl Into<Vec<u8>>) -> Self {
        ProxyRequest {
            body: body.into(),
            ..Self::new("POST", path)
        }
    }

    /// Add a header (the name is lower-cased).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .insert(name.to_ascii_lowercase(), value.to_owned());
        self
    }

    /// Check the method and path: one of the usual HTTP methods (upper case) and a path
    /// starting with `/` without `.`/`..` segments (also percent-encoded), spaces, control
    /// characters or a fragment; header names without `:`, spaces or control characters.
    pub fn validate(&self) -> Result<()> {
        const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
        if !METHODS.contains(&self.method.as_str()) {
            return Err(Error::invalid(
                "method",
                format!("{:?} is not one of {}", self.method, METHODS.join(", ")),
            ));
        }
        let path = self.path.split('?').next().unwrap_or_default();
        // `.`/`..` segments, also percent-encoded, could leave the Service's proxy path.
        let dots = |seg: &str| {
            let decoded = seg.to_ascii_lowercase().replace("%2e", ".");
            decoded == "." || decoded == ".."
        };
        if !path.starts_with('/')
            || path.split('/').any(dots)
            || self.path.contains('#')
            || self.path.chars().any(|c| c.is_control() || c == ' ')
        {
            return Err(Error::invalid(
                "path",
                format!(
                    "{:?} must start with '/' and have no '.' or '..' segment, spaces or fragment",
                    self.path
                ),
            ));
        }
        for (k, v) in &self.headers {
            let bad = |s: &str| s.chars().any(|c| c.is_control());
            if k.is_empty() || k.contains([':', ' ']) || bad(k) || bad(v) {
                return Err(Error::invalid("headers", format!("invalid header {k:?}")));
            }
        }
        Ok(())
    }
}

/// Check the target of a [`ClusterBackend::proxy_service`] call as the API server's path
/// does: a namespace (RFC 1123 label), a Service name (RFC 1035 label) and a port that is a
/// number in 1..=65535 or an IANA service name (1–15 lower-case letters, digits and `-`, at
/// least one letter, no `-` at either end). `InvalidInput` otherwise.
pub fn validate_proxy_target(namespace: &str, service: &str, port: &str) -> Result<()> {
    crate::name::validate(namespace, crate::name::NameKind::Dns1123Label)?;
    crate::name::validate(service, crate::name::NameKind::Dns1035Label)?;
    let number = port.parse::<u16>().is_ok_and(|n| n > 0);
    let name = (1..=15).contains(&port.len())
        && port
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && port.bytes().any(|b| b.is_ascii_lowercase())
        && !port.starts_with('-')
        && !port.ends_with('-');
    if number || name {
        Ok(())
    } else {
        Err(Error::invalid(
            "port",
            format!("{port:?} is neither a port number nor a port name"),
        ))
    }
}

/// The answer of a Service to a [`ProxyRequest`]: whatever the pod answered (an error status
/// of the *application*, e.g. 500, is an answer, not an [`Error`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProxyResponse {
    /// HTTP status code.
    pub status: u16,
    /// Response headers (lower-case names).
    pub headers: BTreeMap<String, String>,
    /// Response body.
    pub body: Vec<u8>,
}

impl ProxyResponse {
    /// A response with `status` and `body`.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        ProxyResponse {
            status,
            headers: BTreeMap::new(),
            body: body.into(),
        }
    }

    /// `200 OK` with a body.
    pub fn ok(body: impl Into<Vec<u8>>) -> Self {
        Self::new(200, body)
    }

    /// Add a header (the name is lower-cased).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .insert(name.to_ascii_lowercase(), value.to_owned());
        self
    }

    /// The body as UTF-8 text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A bound ServiceAccount token from [`ClusterBackend::request_token`] (the TokenRequest API).
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedToken {
    /// The bearer token.
    pub token: String,
    /// When it stops being valid.
    pub expires_at: jiff::Timestamp,
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedToken")
            .field("token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// The shortest token lifetime the TokenRequest API accepts (10 minutes).
pub const MIN_TOKEN_EXPIRATION_SECONDS: i64 = 600;
/// The longest token lifetime hxb asks for (2^32 seconds, the API server's own bound).
pub const MAX_TOKEN_EXPIRATION_SECONDS: i64 = 1 << 32;

/// Check the arguments of a token request as the API server does (`InvalidInput` otherwise).
pub fn validate_token_request(
    namespace: &str,
    service_account: &str,
    audiences: &[String],
    expiration_seconds: i64,
) -> Result<()> {
    crate::name::validate(namespace, crate::name::NameKind::Dns1123Label)?;
    crate::name::validate(service_account, crate::name::NameKind::Dns1123Subdomain)?;
    if audiences.iter().any(|a| a.trim().is_empty()) {
        return Err(Error::invalid("audiences", "an audience must not be empty"));
    }
    if !(MIN_TOKEN_EXPIRATION_SECONDS..=MAX_TOKEN_EXPIRATION_SECONDS).contains(&expiration_seconds)
    {
        return Err(Error::invalid(
            "spec.expirationSeconds",
            format!(
                "{expiration_seconds}: may not specify a duration less than 10 minutes or more than 2^32 seconds"
            ),
        ));
    }
    Ok(())
}

/// Every Kubernetes side effect of the engine.
///
/// Semantics follow the Kubernetes API: `create` fails with
/// [`AlreadyExists`](crate::ErrorKind::AlreadyExists); `replace` with a stale
/// `metadata.resourceVersion` fails with [`Conflict`](crate::ErrorKind::Conflict); objects in a
/// missing or terminating namespace are refused; admission (quota, limit ranges) applies.
#[async_trait]
pub trait ClusterBackend: Send + Sync + 'static {
    /// Which implementation this is.
    fn kind(&self) -> BackendKind;

    /// Create an object; fails if it exists.
    async fn create(&self, ty: &ResourceType, obj: DynamicObject) -> Result<DynamicObject>;

    /// Server-side apply: create, or update the fields this manager owns. Applying an
    /// unchanged object is a no-op (no new resourceVersion, no watch event).
    async fn apply(
        &self,
        ty: &ResourceType,
        obj: DynamicObject,
        opts: &ApplyOptions,
    ) -> Result<DynamicObject>;

    /// Replace an object whole. When `metadata.resourceVersion` is set it must match.
    async fn replace(&self, ty: &ResourceType, obj: DynamicObject) -> Result<DynamicObject>;

    /// Replace an object's status subresource (same concurrency rule as `replace`).
    async fn replace_status(&self, ty: &ResourceType, obj: DynamicObject) -> Result<DynamicObject>;

    /// Get one object; [`NotFound`](crate::ErrorKind::NotFound) if absent.
    async fn get(
        &self,
        ty: &ResourceType,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<DynamicObject>;

    /// List objects (in one namespace, or all when `namespace` is `None`).
    async fn list(
        &self,
        ty: &ResourceType,
        namespace: Option<&str>,
        opts: &ListOptions,
    ) -> Result<ObjectList>;

    /// Delete an object; [`NotFound`](crate::ErrorKind::NotFound) if absent. Deleting a
    /// namespace starts its termination and cascades to everything in it.
    async fn delete(&self, ty: &ResourceType, namespace: Option<&str>, name: &str) -> Result<()>;

    /// Watch changes.
    async fn watch(
        &self,
        ty: &ResourceType,
        namespace: Option<&str>,
        opts: &WatchOptions,
    ) -> Result<WatchStream>;

    /// A container's log (`pods/log`), oldest line first. `NotFound` for a missing pod,
    /// `InvalidInput` for an unknown container or a multi-container pod without one named.
    /// The default body refuses with [`Error::Unsupported`].
    async fn logs(&self, namespace: &str, pod: &str, opts: &LogOptions) -> Result<String> {
        let _ = (namespace, pod, opts);
        Err(Error::unsupported("logs", "this cluster backend"))
    }

    /// Send `request` to port `port` (a number or a port name) of Service
    /// `namespace/service`, as the API server's service proxy does
    /// (`/api/v1/namespaces/{ns}/services/{name}:{port}/proxy{path}`), and return the
    /// application's answer. A missing Service is [`NotFound`](crate::ErrorKind::NotFound), a
    /// port the Service does not have [`InvalidInput`](crate::ErrorKind::InvalidInput), no
    /// ready endpoint [`Unavailable`](crate::ErrorKind::Unavailable) (the API server's 503
    /// `no endpoints available for service`).
    ///
    /// The default body refuses with [`Error::Unsupported`], so backends that cannot reach
    /// workloads need not implement it.
    async fn proxy_service(
        &self,
        namespace: &str,
        service: &str,
        port: &str,
        request: ProxyRequest,
    ) -> Result<ProxyResponse> {
        let _ = (namespace, service, port, request);
        Err(Error::unsupported("proxy_service", "this cluster backend"))
    }

    /// Issue a bound token for ServiceAccount `namespace/service_account` through the
    /// TokenRequest API, valid for `expiration_seconds` (at least
    /// [`MIN_TOKEN_EXPIRATION_SECONDS`]) and for `audiences` (empty: the API server's own).
    ///
    /// The default body refuses with [`Error::Unsupported`]; callers may fall back to a
    /// long-lived token Secret then.
    async fn request_token(
        &self,
        namespace: &str,
        service_account: &str,
        audiences: &[String],
        expiration_seconds: i64,
    ) -> Result<IssuedToken> {
        let _ = (namespace, service_account, audiences, expiration_seconds);
        Err(Error::unsupported("request_token", "this cluster backend"))
    }
}

fn to_dynamic<K: Object>(obj: &K) -> Result<DynamicObject> {
    let mut v = serde_json::to_value(obj).map_err(|e| Error::invalid("object", e.to_string()))?;
    if let Some(map) = v.as_object_mut() {
        map.insert("apiVersion".into(), K::api_version(&()).into_owned().into());
        map.insert("kind".into(), K::kind(&()).into_owned().into());
    }
    serde_json::from_value(v).map_err(|e| Error::invalid("object", e.to_string()))
}

fn from_dynamic<K: Object>(obj: DynamicObject) -> Result<K> {
    let v = serde_json::to_value(obj).map_err(|e| Error::internal(e.to_string()))?;
    serde_json::from_value(v)
        .map_err(|e| Error::backend(format!("cannot decode {}", K::kind(&())), e))
}

/// Typed access to one kind of object through any [`ClusterBackend`], in the style of
/// `kube::Api`.
pub struct Api<K> {
    backend: Arc<dyn ClusterBackend>,
    namespace: Option<String>,
    ty: ResourceType,
    _kind: PhantomData<fn() -> K>,
}

impl<K> Clone for Api<K> {
    fn clone(&self) -> Self {
        Api {
            backend: self.backend.clone(),
            namespace: self.namespace.clone(),
            ty: self.ty.clone(),
            _kind: PhantomData,
        }
    }
}

impl<K> Api<K>
where
    K: Object,
    K::Scope: ScopeInfo,
{
    /// Objects of a namespaced kind in `namespace`.
    pub fn namespaced(backend: Arc<dyn ClusterBackend>, namespace: &str) -> Self {
        Api {
            backend,
            namespace: Some(namespace.to_owned()),
            ty: ResourceType::of::<K>(),
            _kind: PhantomData,
        }
    }

    /// Cluster-scoped objects, or namespaced objects across all namespaces (list/watch only).
    pub fn all(backend: Arc<dyn ClusterBackend>) -> Self {
        Api {
            backend,
            namespace: None,
            ty: ResourceType::of::<K>(),
            _kind: PhantomData,
        }
    }

    /// The resource type.
    pub fn resource_type(&self) -> &ResourceType {
        &self.ty
    }

    fn with_namespace(&self, obj: &K) -> Result<DynamicObject> {
        let mut d = to_dynamic(obj)?;
        if self.ty.namespaced {
            match (&self.namespace, &d.metadata.namespace) {
                (Some(ns), None) => d.metadata.namespace = Some(ns.clone()),
                (Some(ns), Some(obj_ns)) if ns != obj_ns => {
                    return Err(Error::invalid(
                        "metadata.namespace",
                        format!("object namespace {obj_ns:?} differs from the Api's {ns:?}"),
                    ));
                }
                (None, None) => {
                    return Err(Error::invalid(
                        "metadata.namespace",
                        "a namespaced object needs a namespace",
                    ));
                }
                _ => {}
            }
        }
        Ok(d)
    }

    /// Create.
    pub async fn create(&self, obj: &K) -> Result<K> {
        from_dynamic(
            self.backend
                .create(&self.ty, self.with_namespace(obj)?)
                .await?,
        )
    }

    /// Server-side apply with field manager `hxb`.
    pub async fn apply(&self, obj: &K) -> Result<K> {
        let d = self.with_namespace(obj)?;
        from_dynamic(
            self.backend
                .apply(&self.ty, d, &ApplyOptions::default())
                .await?,
        )
    }

    /// Replace (optimistic concurrency on `metadata.resourceVersion`).
    pub async fn replace(&self, obj: &K) -> Result<K> {
        from_dynamic(
            self.backend
                .replace(&self.ty, self.with_namespace(obj)?)
                .await?,
        )
    }

    /// Replace the status subresource.
    pub async fn replace_status(&self, obj: &K) -> Result<K> {
        from_dynamic(
            self.backend
                .replace_status(&self.ty, self.with_namespace(obj)?)
                .await?,
        )
    }

    /// Get by name.
    pub async fn get(&self, name: &str) -> Result<K> {
        from_dynamic(
            self.backend
                .get(&self.ty, self.namespace.as_deref(), name)
                .await?,
        )
    }

    /// Get by name, `None` if absent.
    pub async fn get_opt(&self, name: &str) -> Result<Option<K>> {
        match self.get(name).await {
            Ok(k) => Ok(Some(k)),
            Err(Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// List.
    pub async fn list(&self, opts: &ListOptions) -> Result<Vec<K>> {
        let list = self
            .backend
            .list(&self.ty, self.namespace.as_deref(), opts)
            .await?;
        list.items.into_iter().map(from_dynamic).collect()
    }

    /// Delete by name.
    pub async fn delete(&self, name: &str) -> Result<()> {
        self.backend
            .delete(&self.ty, self.namespace.as_deref(), name)
            .await
    }

    /// Watch, yielding typed events `(kind of change, object)`.
    pub async fn watch(
        &self,
        opts: &WatchOptions,
    ) -> Result<BoxStream<'static, Result<(ChangeKind, K)>>> {
        let s = self
            .backend
            .watch(&self.ty, self.namespace.as_deref(), opts)
            .await?;
        Ok(s.map(|ev| {
            let ev = ev?;
            let (kind, obj) = match ev {
                WatchEvent::Added(o) => (ChangeKind::Added, o),
                WatchEvent::Modified(o) => (ChangeKind::Modified, o),
                WatchEvent::Deleted(o) => (ChangeKind::Deleted, o),
            };
            Ok((kind, from_dynamic(obj)?))
        })
        .boxed())
    }
}

/// The kind of change in a typed watch event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// Created.
    Added,
    /// Changed.
    Modified,
    /// Removed.
    Deleted,
}

/// The resource types hxb knows by kind, for manifest-level calls (`apiVersion` + `kind` →
/// plural and scope). Custom resources can be used through [`ResourceType`] directly.
pub fn known_types() -> Vec<ResourceType> {
    use k8s_openapi::api::{apps, autoscaling, batch, core, networking, rbac};
    vec![
        ResourceType::of::<core::v1::Namespace>(),
        ResourceType::of::<core::v1::Node>(),
        ResourceType::of::<core::v1::Pod>(),
        ResourceType::of::<core::v1::Service>(),
        ResourceType::of::<core::v1::ConfigMap>(),
        ResourceType::of::<core::v1::Secret>(),
        ResourceType::of::<core::v1::ServiceAccount>(),
        ResourceType::of::<core::v1::ResourceQuota>(),
        ResourceType::of::<core::v1::LimitRange>(),
        ResourceType::of::<core::v1::PersistentVolumeClaim>(),
        ResourceType::of::<core::v1::Event>(),
        ResourceType::of::<core::v1::Endpoints>(),
        ResourceType::of::<apps::v1::Deployment>(),
        ResourceType::of::<apps::v1::StatefulSet>(),
        ResourceType::of::<apps::v1::ReplicaSet>(),
        ResourceType::of::<batch::v1::Job>(),
        ResourceType::of::<batch::v1::CronJob>(),
        ResourceType::of::<networking::v1::NetworkPolicy>(),
        ResourceType::of::<rbac::v1::Role>(),
        ResourceType::of::<rbac::v1::RoleBinding>(),
        ResourceType::of::<rbac::v1::ClusterRole>(),
        ResourceType::of::<rbac::v1::ClusterRoleBinding>(),
        ResourceType::of::<autoscaling::v2::HorizontalPodAutoscaler>(),
    ]
}

impl ResourceType {
    /// Look up a known type by `apiVersion` and `kind` (e.g. `"apps/v1"`, `"Deployment"`).
    pub fn for_kind(api_version: &str, kind: &str) -> Result<ResourceType> {
        known_types()
            .into_iter()
            .find(|t| t.api_version() == api_version && t.kind == kind)
            .ok_or_else(|| {
                Error::invalid(
                    "kind",
                    format!("unknown kind {kind:?} in apiVersion {api_version:?}"),
                )
            })
    }

    /// Look up a known type by kind alone (`"Pod"`, `"deployment"`, `"deployments"`),
    /// case-insensitively, as `kubectl` does.
    pub fn for_name(name: &str) -> Result<ResourceType> {
        let n = name.to_ascii_lowercase();
        known_types()
            .into_iter()
            .find(|t| t.kind.to_ascii_lowercase() == n || t.plural == n)
            .ok_or_else(|| Error::invalid("kind", format!("unknown kind {name:?}")))
    }
}
