//! # hxb-core
//!
//! The foundation of hxb, the Hexabase.AI platform as an embeddable engine: the domain model,
//! errors, exact Kubernetes quantities, label selectors, and the traits every side effect goes
//! through — with their implementations:
//!
//! | trait | embedded default | real |
//! |---|---|---|
//! | [`ClusterBackend`] | [`EmbeddedCluster`] (in-process, behaves like Kubernetes) | [`KubeBackend`] (kube-rs) |
//! | [`StateStore`] | [`SqliteStore`](store::SqliteStore) (file) / [`MemoryStore`](store::MemoryStore) | — |
//! | [`MetricsSource`] | embedded time-series store | Prometheus HTTP API |
//! | [`Clock`] | [`SystemClock`] / [`ManualClock`] | — |
//!
//! Most users reach this crate through the `hxb` facade.
//!
//! ```
//! use hxb_core::{EmbeddedCluster, cluster::Api, ErrorKind};
//! use k8s_openapi::api::core::v1::Namespace;
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> hxb_core::Result<()> {
//! let cluster = EmbeddedCluster::builder().nodes(3).build().into_backend();
//! let namespaces: Api<Namespace> = Api::all(cluster.clone());
//! let mut ns = Namespace::default();
//! ns.metadata.name = Some("team-a".into());
//! namespaces.create(&ns).await?;
//! assert_eq!(namespaces.create(&ns).await.unwrap_err().kind(), ErrorKind::AlreadyExists);
//! # Ok(()) }
//! ```

pub mod clock;
pub mod cluster;
pub mod embedded;
pub mod error;
pub mod kube_backend;
pub mod metrics;
pub mod model;
pub mod name;
#[cfg(feature = "policy")]
pub mod policy;
pub mod quantity;
pub mod resources;
pub mod scheduling;
pub mod selector;
pub mod store;

#[doc(inline)]
pub use clock::{Clock, ManualClock, SystemClock};
#[doc(inline)]
pub use cluster::{Api, ClusterBackend, ResourceType};
#[doc(inline)]
pub use embedded::EmbeddedCluster;
#[doc(inline)]
pub use error::{Error, ErrorKind, Result};
#[doc(inline)]
pub use kube_backend::KubeBackend;
#[doc(inline)]
pub use metrics::MetricsSource;
#[doc(inline)]
pub use model::*;
#[doc(inline)]
pub use name::Name;
#[doc(inline)]
pub use quantity::Quantity;
#[doc(inline)]
pub use resources::{ResourceList, ResourceName};
#[doc(inline)]
pub use selector::Selector;
#[doc(inline)]
pub use store::StateStore;

/// Install the process-wide rustls crypto provider (ring) once. Called by every constructor
/// that may open a TLS connection; harmless to call again.
pub fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
