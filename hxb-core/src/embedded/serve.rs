//! Services that answer: in-process handlers standing in for container images, and the
//! service proxy over them.
//!
//! The embedded cluster runs no containers. A caller registers an async handler for an image
//! ([`EmbeddedCluster::serve_image`](super::EmbeddedCluster::serve_image)); a request through
//! [`proxy_service`](crate::ClusterBackend::proxy_service) is then resolved the way the API
//! server's service proxy resolves it — Service → port → selector → the `Running` and `Ready`
//! pods (its endpoints), round-robin — and handed to the handler of the image of the pod's
//! container serving the target port.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, LazyLock};

use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use parking_lot::{Mutex, RwLock};
use serde_json::Value;

use super::controllers::is_ready;
use super::json;
use super::state::{POD, State};
use crate::cluster::{ProxyRequest, ProxyResponse, ResourceType, validate_proxy_target};
use crate::error::{Error, Result};
use crate::selector::Selector;

/// `v1/Service`.
pub(crate) static SERVICE: LazyLock<ResourceType> = LazyLock::new(ResourceType::of::<Service>);

/// The request header carrying the name of the pod a proxied request was sent to (the pod's
/// `HOSTNAME`, which a real process would know).
pub const POD_HEADER: &str = "x-hxb-pod";

/// An in-process stand-in for a container image: an async function from request to response.
pub type ImageHandler =
    Arc<dyn Fn(ProxyRequest) -> BoxFuture<'static, ProxyResponse> + Send + Sync>;

/// Make an [`ImageHandler`] from an async closure.
pub fn image_handler<F, Fut>(f: F) -> ImageHandler
where
    F: Fn(ProxyRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ProxyResponse> + Send + 'static,
{
    Arc::new(move |req| Box::pin(f(req)))
}

/// Registered handlers and the round-robin position of each service port.
#[derive(Default)]
pub(crate) struct Handlers {
    by_image: RwLock<HashMap<String, ImageHandler>>,
    next: Mutex<HashMap<String, usize>>,
}

impl Handlers {
    pub(crate) fn insert(&self, image: &str, h: ImageHandler) {
        self.by_image.write().insert(image.to_owned(), h);
    }

    pub(crate) fn remove(&self, image: &str) -> bool {
        self.by_image.write().remove(image).is_some()
    }

    fn get(&self, image: &str) -> Option<ImageHandler> {
        self.by_image.read().get(image).cloned()
    }

    /// The next index (mod `n`) for `key`.
    fn turn(&self, key: &str, n: usize) -> usize {
        let mut next = self.next.lock();
        let slot = next.entry(key.to_owned()).or_default();
        let i = *slot % n;
        *slot = slot.wrapping_add(1);
        i
    }
}

/// One endpoint: a ready pod and the image of the container serving the target port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    pub pod: String,
    pub image: String,
    pub port: i32,
}

/// The container of a pod that serves `target` and the port number, if any. `pod` is the
/// pod's stored JSON: only `spec.containers[].image` and `.ports[].{name, containerPort}` are
/// read, so resolving a request costs no decode of whole pods.
fn serving_container(pod: &Value, target: &IntOrString) -> Option<(String, i32)> {
    let containers = pod.get("spec")?.get("containers")?.as_array()?;
    let image = |c: &Value| {
        c.get("image")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let declares = |c: &Value| -> Option<i32> {
        c.get("ports")?.as_array()?.iter().find_map(|p| {
            let number = p
                .get("containerPort")
                .and_then(Value::as_i64)
                .and_then(|n| i32::try_from(n).ok());
            match target {
                IntOrString::Int(n) => (number == Some(*n)).then_some(*n),
                IntOrString::String(name) => {
                    let named = p.get("name").and_then(Value::as_str) == Some(name.as_str());
                    number.filter(|_| named)
                }
            }
        })
    };
    if let Some((c, port)) = containers.iter().find_map(|c| declares(c).map(|p| (c, p))) {
        return Some((image(c), port));
    }
    // A numeric target port reaches the pod whether or not a container declares it (the
    // declaration is informational); with one container, that container listens.
    match (target, containers.as_slice()) {
        (IntOrString::Int(n), [only]) => Some((image(only), *n)),
        _ => None,
    }
}

impl State {
    /// Resolve Service `ns/name` port `port` (name or number) to the service port's number
    /// and its endpoints (sorted by pod name).
    pub(crate) fn endpoints(
        &self,
        ns: &str,
        name: &str,
        port: &str,
    ) -> Result<(i32, Vec<Endpoint>)> {
        let svc: Service = json::to_typed(&self.get(&SERVICE, Some(ns), name)?, "Service")?;
        let spec = svc.spec.unwrap_or_default();
        let ports = spec.ports.unwrap_or_default();
        let sp = ports
            .iter()
            .find(|p| p.name.as_deref() == Some(port) || p.port.to_string() == port)
            .ok_or_else(|| {
                let have: Vec<String> = ports
                    .iter()
                    .map(|p| match &p.name {
                        Some(n) => format!("{n} ({})", p.port),
                        None => p.port.to_string(),
                    })
                    .collect();
                Error::invalid(
                    "port",
                    format!(
                        "service {name:?} has no port {port:?} (ports: {})",
                        have.join(", ")
                    ),
                )
            })?;
        let target = sp.target_port.clone().unwrap_or(IntOrString::Int(sp.port));
        let Some(selector) = spec.selector.filter(|s| !s.is_empty()) else {
            return Ok((sp.port, Vec::new())); // no selector: endpoints are set by hand; none are
        };
        let selector =
            Selector::from_labels(selector.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let Some(table) = self.store.table(&POD) else {
            return Ok((sp.port, Vec::new()));
        };
        let mut out = Vec::new();
        for p in table.iter(Some(ns)) {
            let selected = p
                .metadata
                .labels
                .as_ref()
                .is_some_and(|l| selector.matches(l));
            if p.metadata.deletion_timestamp.is_some() || !selected || !is_ready(p) {
                continue;
            }
            if let Some((image, port)) = serving_container(&p.data, &target) {
                out.push(Endpoint {
                    pod: p.metadata.name.clone().unwrap_or_default(),
                    image,
                    port,
                });
            }
        }
        Ok((sp.port, out))
    }
}

/// The service proxy: resolve under the read lock, then call the handler without it.
pub(crate) async fn proxy(
    state: &RwLock<State>,
    handlers: &Handlers,
    ns: &str,
    name: &str,
    port: &str,
    mut request: ProxyRequest,
) -> Result<ProxyResponse> {
    request.validate()?;
    validate_proxy_target(ns, name, port)?;
    let (service_port, endpoints) = state.read().endpoints(ns, name, port)?;
    if endpoints.is_empty() {
        return Err(Error::unavailable(
            format!("no endpoints available for service \"{name}\""),
            None,
        ));
    }
    let ep = &endpoints[handlers.turn(&format!("{ns}/{name}:{service_port}"), endpoints.len())];
    let handler = handlers.get(&ep.image).ok_or_else(|| {
        Error::unavailable(
            format!(
                "error trying to reach service: pod {ns}/{} port {}: connection refused \
                 (the embedded cluster runs no containers and no handler is registered for \
                 image {:?})",
                ep.pod, ep.port, ep.image
            ),
            None,
        )
    })?;
    request
        .headers
        .insert(POD_HEADER.to_owned(), ep.pod.clone());
    Ok(handler(request).await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, ContainerPort, Pod, PodSpec};
    use proptest::prelude::*;

    /// `(image, [(port name, container port)])` per container.
    type Spec<'a> = Vec<(&'a str, Vec<(Option<&'a str>, i32)>)>;

    fn pod(containers: Spec<'_>) -> Value {
        serde_json::to_value(typed_pod(containers)).unwrap()
    }

    fn typed_pod(containers: Spec<'_>) -> Pod {
        Pod {
            spec: Some(PodSpec {
                containers: containers
                    .into_iter()
                    .map(|(image, ports)| Container {
                        name: image.replace(':', "-"),
                        image: Some(image.into()),
                        ports: Some(
                            ports
                                .into_iter()
                                .map(|(n, p)| ContainerPort {
                                    name: n.map(Into::into),
                                    container_port: p,
                                    ..Default::default()
                                })
                                .collect(),
                        ),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn the_container_serving_a_target_port_is_found_by_number_or_name() {
        let p = pod(vec![
            ("side:1", vec![(Some("metrics"), 9090)]),
            ("app:1", vec![(Some("http"), 8080)]),
        ]);
        assert_eq!(
            serving_container(&p, &IntOrString::Int(8080)),
            Some(("app:1".into(), 8080))
        );
        assert_eq!(
            serving_container(&p, &IntOrString::String("metrics".into())),
            Some(("side:1".into(), 9090))
        );
        assert_eq!(serving_container(&p, &IntOrString::Int(7000)), None);
        assert_eq!(
            serving_container(&p, &IntOrString::String("grpc".into())),
            None
        );
        let single = pod(vec![("app:1", vec![])]);
        assert_eq!(
            serving_container(&single, &IntOrString::Int(7000)),
            Some(("app:1".into(), 7000))
        );
    }

    /// The resolution over the fully decoded pod, as it was done before reading the JSON
    /// directly: the reference the JSON reading must agree with.
    fn serving_container_typed(pod: &Pod, target: &IntOrString) -> Option<(String, i32)> {
        let containers = &pod.spec.as_ref()?.containers;
        let declares = |c: &Container| -> Option<i32> {
            c.ports.iter().flatten().find_map(|p| match target {
                IntOrString::Int(n) => (p.container_port == *n).then_some(*n),
                IntOrString::String(name) => {
                    (p.name.as_deref() == Some(name.as_str())).then_some(p.container_port)
                }
            })
        };
        if let Some((c, port)) = containers.iter().find_map(|c| declares(c).map(|p| (c, p))) {
            return Some((c.image.clone().unwrap_or_default(), port));
        }
        match (target, containers.as_slice()) {
            (IntOrString::Int(n), [only]) => Some((only.image.clone().unwrap_or_default(), *n)),
            _ => None,
        }
    }

    fn arb_target() -> impl Strategy<Value = IntOrString> {
        prop_oneof![
            (8079..8083i32).prop_map(IntOrString::Int),
            prop::sample::select(vec!["http", "grpc", "metrics"])
                .prop_map(|n| IntOrString::String(n.into())),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Reading the pod's JSON picks the same container and port as decoding the pod.
        #[test]
        fn json_and_typed_resolution_agree(
            containers in prop::collection::vec(
                (
                    prop::sample::select(vec!["app:1", "side:1", "db:2"]),
                    prop::collection::vec(
                        (
                            prop::option::of(prop::sample::select(vec!["http", "grpc", "metrics"])),
                            8079..8083i32,
                        ),
                        0..3,
                    ),
                ),
                0..4,
            ),
            without_ports in any::<bool>(),
            target in arb_target(),
        ) {
            let mut typed = typed_pod(containers);
            if without_ports {
                // `ports` absent rather than empty
                for c in &mut typed.spec.as_mut().unwrap().containers {
                    c.ports = None;
                }
            }
            let json = serde_json::to_value(&typed).unwrap();
            prop_assert_eq!(
                serving_container(&json, &target),
                serving_container_typed(&typed, &target)
            );
        }
    }

    #[test]
    fn round_robin_turns_per_key() {
        let h = Handlers::default();
        let turns: Vec<usize> = (0..5).map(|_| h.turn("a", 3)).collect();
        assert_eq!(turns, [0, 1, 2, 0, 1]);
        assert_eq!(h.turn("b", 3), 0);
    }
}
