//! The Kubernetes backend against a real cluster: the shared conformance suite plus checks of
//! what only a real API server can tell (its quota messages, server-side apply no-ops).
//!
//! Run with `HXB_TEST_KUBECONFIG=/path/to/kubeconfig cargo test -p hxb-core --test it
//! kube_live -- --ignored`. Everything created lives in namespaces named `hxb-conf-<random>…`
//! or `hxb-live-<random>`, deleted at the end.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, RandomState};
use std::path::PathBuf;
use std::sync::Arc;

use hxb_core::cluster::{Api, ClusterBackend};
use hxb_core::{Error, ErrorKind, KubeBackend};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, ResourceQuota, ResourceQuotaSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

async fn backend() -> KubeBackend {
    let path = std::env::var_os("HXB_TEST_KUBECONFIG")
        .map(PathBuf::from)
        .expect("set HXB_TEST_KUBECONFIG to a kubeconfig file to run the live tests");
    let context = std::env::var("HXB_TEST_KUBE_CONTEXT").ok();
    KubeBackend::from_kubeconfig(&path, context.as_deref())
        .await
        .expect("kubeconfig")
}

/// A short random lowercase suffix so concurrent runs never share names.
fn suffix() -> String {
    format!(
        "{:08x}",
        RandomState::new().hash_one(std::process::id()) as u32
    )
}

#[tokio::test]
#[ignore = "needs kubeconfig"]
async fn kube_backend_passes_the_conformance_suite() {
    let backend: Arc<dyn ClusterBackend> = Arc::new(backend().await);
    crate::conformance::run_all(backend, &format!("hxb-conf-{}", suffix())).await;
}

fn named<K: Default + kube::Resource>(name: &str) -> K {
    let mut k = K::default();
    k.meta_mut().name = Some(name.to_owned());
    k
}

#[tokio::test]
#[ignore = "needs kubeconfig"]
async fn real_quota_refusals_and_apply_no_ops_map_as_documented() {
    let backend: Arc<dyn ClusterBackend> = Arc::new(backend().await);
    let ns = format!("hxb-live-{}", suffix());
    let namespaces: Api<Namespace> = Api::all(backend.clone());
    namespaces.apply(&named(&ns)).await.unwrap();

    let result = async {
        // Applying the same object twice changes nothing the second time.
        let configmaps: Api<ConfigMap> = Api::namespaced(backend.clone(), &ns);
        let mut cm: ConfigMap = named("settings");
        cm.data = Some(BTreeMap::from([("k".to_owned(), "v".to_owned())]));
        let first = configmaps.apply(&cm).await?;
        let second = configmaps.apply(&cm).await?;
        assert_eq!(
            first.metadata.resource_version,
            second.metadata.resource_version
        );
        assert_eq!(
            configmaps.create(&cm).await.unwrap_err().kind(),
            ErrorKind::AlreadyExists
        );
        assert_eq!(
            configmaps.get("missing").await.unwrap_err().kind(),
            ErrorKind::NotFound
        );

        // A quota of one ConfigMap (already used) refuses the next with the real message.
        let quotas: Api<ResourceQuota> = Api::namespaced(backend.clone(), &ns);
        let mut quota: ResourceQuota = named("cm-quota");
        quota.spec = Some(ResourceQuotaSpec {
            hard: Some(BTreeMap::from([(
                "configmaps".to_owned(),
                Quantity("1".into()),
            )])),
            ..Default::default()
        });
        quotas.create(&quota).await?;
        // The quota controller fills in status.used asynchronously; until then admission
        // refuses with the same message, so retry briefly.
        let mut last = None;
        for _ in 0..30 {
            match configmaps.create(&named("one-too-many")).await {
                Err(e @ Error::QuotaExceeded(_)) => {
                    last = Some(e);
                    break;
                }
                Err(e) if e.kind() == ErrorKind::Forbidden => last = Some(e),
                other => panic!("expected a quota refusal, got {other:?}"),
            }
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
        match last {
            Some(Error::QuotaExceeded(q)) => {
                assert_eq!(q.quota, format!("{ns}/cm-quota"));
                assert_eq!(q.exceeded[0].resource.as_str(), "configmaps");
            }
            other => panic!("expected QuotaExceeded, got {other:?}"),
        }
        Ok::<(), Error>(())
    }
    .await;
    namespaces.delete(&ns).await.unwrap();
    result.unwrap();
}

#[tokio::test]
#[ignore = "needs kubeconfig"]
async fn real_token_requests_and_service_proxy_refusals_map_as_documented() {
    use hxb_core::cluster::ProxyRequest;
    use k8s_openapi::api::core::v1::{Service, ServiceAccount};
    let backend: Arc<dyn ClusterBackend> = Arc::new(backend().await);
    let ns = format!("hxb-live-tok-{}", suffix());
    let namespaces: Api<Namespace> = Api::all(backend.clone());
    namespaces.apply(&named(&ns)).await.unwrap();

    let result =
        async {
            // TokenRequest: a bound token for a ServiceAccount, expiring when asked.
            Api::<ServiceAccount>::namespaced(backend.clone(), &ns)
                .create(&named("robot"))
                .await?;
            let before = jiff::Timestamp::now();
            let tok = backend.request_token(&ns, "robot", &[], 600).await?;
            assert!(!tok.token.is_empty());
            assert!(tok.expires_at > before);
            assert!(tok.expires_at <= before + jiff::SignedDuration::from_secs(3600));
            assert_eq!(
                backend
                    .request_token(&ns, "ghost", &[], 600)
                    .await
                    .unwrap_err()
                    .to_string(),
                "serviceaccounts \"ghost\" not found"
            );

            // Service proxy: a missing Service, and one with no endpoints.
            let mut svc: Service = named("lonely");
            svc.spec = Some(serde_json::from_value(
            serde_json::json!({"selector": {"app": "nothing-here"}, "ports": [{"port": 80}]}),
        )
        .unwrap());
            Api::<Service>::namespaced(backend.clone(), &ns)
                .create(&svc)
                .await?;
            let get = ProxyRequest::new("GET", "/");
            let err = backend
                .proxy_service(&ns, "ghost", "80", get.clone())
                .await
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
            let err = backend
                .proxy_service(&ns, "lonely", "80", get)
                .await
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
            Ok::<(), Error>(())
        }
        .await;
    namespaces.delete(&ns).await.unwrap();
    result.unwrap();
}
