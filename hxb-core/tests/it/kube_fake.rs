//! A fake API server: HTTP requests from a real `kube::Client` are answered by the embedded
//! cluster, so the shared conformance suite runs through [`KubeBackend`] (request building,
//! response and watch-stream decoding, error mapping) without a cluster.
//!
//! The fake speaks only what the backend sends: item and collection paths, `labelSelector`,
//! `resourceVersion`, `watch`, `fieldManager`/`force` on apply, and `Status` errors shaped like
//! the API server's (including its quota message).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use http::{Method, Request, Response};
use http_body::Frame;
use hxb_core::cluster::{
    ApplyOptions, ClusterBackend, DynamicObject, ListOptions, ResourceType, WatchEvent,
    WatchOptions, known_types,
};
use hxb_core::kube_backend::RetryPolicy;
use hxb_core::{EmbeddedCluster, Error, KubeBackend, Selector};
use kube::client::Body;
use serde_json::{Value, json};

/// The fake server: a tower service over a [`ClusterBackend`].
#[derive(Clone)]
struct FakeApiServer {
    cluster: Arc<dyn ClusterBackend>,
}

/// A response body: whole, or a stream of watch lines.
enum FakeBody {
    Full(Option<Bytes>),
    Lines(BoxStream<'static, Bytes>),
}

impl http_body::Body for FakeBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            FakeBody::Full(data) => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
            FakeBody::Lines(lines) => lines
                .poll_next_unpin(cx)
                .map(|l| l.map(|d| Ok(Frame::data(d)))),
        }
    }
}

impl tower_service::Service<Request<Body>> for FakeApiServer {
    type Response = Response<FakeBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<FakeBody>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            Ok(match this.serve(req).await {
                Ok(res) => res,
                Err(e) => status_response(&e),
            })
        })
    }
}

/// What a request path names.
struct Target {
    ty: ResourceType,
    namespace: Option<String>,
    name: Option<String>,
    status: bool,
}

fn parse_path(path: &str) -> Result<Target, Error> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, rest) = match segs.as_slice() {
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return Err(Error::not_found("path", path)),
    };
    let (namespace, plural, name, sub) = match rest {
        ["namespaces", ns, sub @ ("status" | "finalize")] => {
            (None, "namespaces", Some(*ns), Some(*sub))
        }
        ["namespaces", ns, plural, tail @ ..] => match tail {
            [] => (Some(*ns), *plural, None, None),
            [name] => (Some(*ns), *plural, Some(*name), None),
            [name, sub] => (Some(*ns), *plural, Some(*name), Some(*sub)),
            _ => return Err(Error::not_found("path", path)),
        },
        [plural] => (None, *plural, None, None),
        [plural, name] => (None, *plural, Some(*name), None),
        [plural, name, sub] => (None, *plural, Some(*name), Some(*sub)),
        _ => return Err(Error::not_found("path", path)),
    };
    let ty = known_types()
        .into_iter()
        .find(|t| t.group == group && t.version == version && t.plural == plural)
        .ok_or_else(|| Error::not_found("resource", path))?;
    Ok(Target {
        ty,
        namespace: namespace.map(str::to_owned),
        name: name.map(str::to_owned),
        status: sub == Some("status"),
    })
}

/// `application/x-www-form-urlencoded` decoding of one query value.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("ascii escape");
                out.push(u8::from_str_radix(hex, 16).expect("hex escape"));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

fn query(req: &Request<Body>, key: &str) -> Option<String> {
    req.uri().query()?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| decode(v))
    })
}

fn json_response(code: u16, v: &Value) -> Response<FakeBody> {
    Response::builder()
        .status(code)
        .header("content-type", "application/json")
        .body(FakeBody::Full(Some(serde_json::to_vec(v).unwrap().into())))
        .unwrap()
}

fn object_response(code: u16, obj: &DynamicObject) -> Response<FakeBody> {
    json_response(code, &serde_json::to_value(obj).unwrap())
}

/// An hxb error as the API server would phrase it.
fn status_response(e: &Error) -> Response<FakeBody> {
    let (code, reason, message) = match e {
        Error::NotFound { .. } => (404, "NotFound", e.to_string()),
        Error::AlreadyExists { .. } => (409, "AlreadyExists", e.to_string()),
        Error::Conflict { .. } => (409, "Conflict", e.to_string()),
        Error::QuotaExceeded(q) => {
            let first = q.quota.split(", ").next().unwrap_or_default();
            let name = first.rsplit('/').next().unwrap_or(first);
            let list = |f: &dyn Fn(&hxb_core::error::Exceeded) -> String| {
                q.exceeded
                    .iter()
                    .map(|x| format!("{}={}", x.resource, f(x)))
                    .collect::<Vec<_>>()
                    .join(",")
            };
            let message = format!(
                "forbidden: exceeded quota: {name}, requested: {}, used: {}, limited: {}",
                list(&|x| x.requested.to_string()),
                list(&|x| x.used.to_string()),
                list(&|x| x.limit.to_string()),
            );
            (403, "Forbidden", message)
        }
        Error::Forbidden { reason } => (403, "Forbidden", reason.clone()),
        _ if e.kind() == hxb_core::ErrorKind::InvalidInput => (422, "Invalid", e.to_string()),
        _ => (500, "InternalError", e.to_string()),
    };
    json_response(
        code,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": message, "reason": reason, "code": code}),
    )
}

fn watch_line(ev: hxb_core::Result<WatchEvent>) -> Bytes {
    let v = match ev {
        Ok(WatchEvent::Added(o)) => json!({"type": "ADDED", "object": o}),
        Ok(WatchEvent::Modified(o)) => json!({"type": "MODIFIED", "object": o}),
        Ok(WatchEvent::Deleted(o)) => json!({"type": "DELETED", "object": o}),
        Ok(_) => return Bytes::new(),
        Err(e) => json!({"type": "ERROR", "object": {"kind": "Status", "apiVersion": "v1",
                         "status": "Failure", "code": 500, "message": e.to_string()}}),
    };
    let mut line = serde_json::to_vec(&v).unwrap();
    line.push(b'\n');
    line.into()
}

impl FakeApiServer {
    async fn serve(&self, req: Request<Body>) -> Result<Response<FakeBody>, Error> {
        let t = parse_path(req.uri().path())?;
        let selector = query(&req, "labelSelector")
            .map(|s| Selector::parse(&s))
            .transpose()?;
        let (ty, ns) = (&t.ty, t.namespace.as_deref());
        let method = req.method().clone();
        let field_manager = query(&req, "fieldManager");
        let force = query(&req, "force").as_deref() == Some("true");
        let watch = query(&req, "watch").as_deref() == Some("true");
        let resource_version = query(&req, "resourceVersion").filter(|rv| !rv.is_empty());
        let body = req.into_body().collect_bytes().await.unwrap();
        let object = || -> Result<DynamicObject, Error> {
            let mut obj: DynamicObject =
                serde_json::from_slice(&body).map_err(|e| Error::invalid("body", e.to_string()))?;
            if obj.metadata.namespace.is_none() {
                obj.metadata.namespace = t.namespace.clone();
            }
            Ok(obj)
        };
        Ok(match (method, &t.name) {
            (Method::GET, Some(name)) => {
                object_response(200, &self.cluster.get(ty, ns, name).await?)
            }
            (Method::GET, None) if watch => {
                let opts = WatchOptions {
                    label_selector: selector,
                    resource_version,
                };
                let events = self.cluster.watch(ty, ns, &opts).await?;
                let lines = events
                    .map(watch_line)
                    .filter(|b| futures::future::ready(!b.is_empty()));
                Response::builder()
                    .status(200)
                    .body(FakeBody::Lines(lines.boxed()))
                    .unwrap()
            }
            (Method::GET, None) => {
                let opts = ListOptions {
                    label_selector: selector,
                };
                let list = self.cluster.list(ty, ns, &opts).await?;
                json_response(
                    200,
                    &json!({"apiVersion": ty.api_version(), "kind": format!("{}List", ty.kind),
                            "metadata": {"resourceVersion": list.resource_version},
                            "items": list.items}),
                )
            }
            (Method::POST, None) => {
                object_response(201, &self.cluster.create(ty, object()?).await?)
            }
            (Method::PUT, Some(_)) if t.status => {
                object_response(200, &self.cluster.replace_status(ty, object()?).await?)
            }
            (Method::PUT, Some(_)) => {
                object_response(200, &self.cluster.replace(ty, object()?).await?)
            }
            (Method::PATCH, Some(_)) => {
                let opts = ApplyOptions {
                    field_manager: field_manager
                        .ok_or_else(|| Error::invalid("fieldManager", "required"))?,
                    force,
                };
                object_response(200, &self.cluster.apply(ty, object()?, &opts).await?)
            }
            (Method::DELETE, Some(name)) => {
                self.cluster.delete(ty, ns, name).await?;
                json_response(
                    200,
                    &json!({"kind": "Status", "apiVersion": "v1", "status": "Success"}),
                )
            }
            (m, _) => return Err(Error::invalid("method", m.to_string())),
        })
    }
}

#[tokio::test]
async fn kube_backend_over_the_embedded_cluster_passes_conformance() {
    let cluster = EmbeddedCluster::builder().nodes(3).seed(1).build();
    let server = FakeApiServer {
        cluster: cluster.clone().into_backend(),
    };
    let policy = RetryPolicy::default()
        .max_attempts(1)
        .attempt_timeout(Some(Duration::from_secs(30)));
    let backend = KubeBackend::new(kube::Client::new(server, "default")).with_retry_policy(policy);
    crate::conformance::run_all(Arc::new(backend), "hxb-kube").await;
    assert_eq!(
        cluster.object_count(),
        3,
        "everything but the nodes was cleaned up"
    );
}

#[test]
fn form_decoding() {
    assert_eq!(
        decode("suite%3Dsel%2Ctier+in+%28a%29"),
        "suite=sel,tier in (a)"
    );
}
