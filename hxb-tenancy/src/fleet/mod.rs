//! Multi-cluster fleet: one engine, several member clusters.
//!
//! A [`Fleet`] keeps a registry of member clusters (each an `Arc<dyn ClusterBackend>`: an
//! embedded cluster or a kubeconfig context through kube-rs) and the workspace → cluster
//! assignments, both in the [`StateStore`] (collections [`CLUSTERS`] and [`ASSIGNMENTS`],
//! changed only in atomic batches with compare-and-swap). [`Fleet::backend`] is a routing
//! [`ClusterBackend`](hxb_core::ClusterBackend) that sends every namespaced call to the
//! cluster hosting the namespace's workspace, so the [`Tenancy`](crate::Tenancy) engine and
//! its reconcile run unchanged on top of the fleet ("control plane here, data plane
//! elsewhere"). A workspace is placed the first time something of it is written (or earlier,
//! explicitly, with [`Fleet::place_workspace`]) by the pure rules of [`placement`], and moved
//! with [`Fleet::move_workspace`].
//!
//! ```
//! use std::sync::Arc;
//! use hxb_core::{EmbeddedCluster, store::MemoryStore};
//! use hxb_tenancy::{Tenancy, fleet::Fleet};
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> hxb_core::Result<()> {
//! let store = Arc::new(MemoryStore::new());
//! let fleet = Fleet::open(store.clone()).await?;
//! let eu = EmbeddedCluster::builder().nodes(3).build().into_backend();
//! let us = EmbeddedCluster::builder().nodes(3).build().into_backend();
//! fleet.add_cluster("eu-1", eu).region("eu").execute().await?;
//! fleet.add_cluster("us-1", us).region("us").execute().await?;
//! let t = Tenancy::new(fleet.backend(), store);
//! t.create_organization("acme").plan("starter").display_name("Acme").execute().await?;
//! t.create_workspace("acme", "dev").execute().await?;
//! assert_eq!(fleet.place_workspace("acme", "dev").region("us").execute().await?, "us-1");
//! t.create_project("acme", "dev", "web").execute().await?; // lands in us-1 only
//! fleet.move_workspace("acme", "dev", "eu-1").execute().await?;
//! assert_eq!(fleet.assignment("acme", "dev").unwrap().cluster, "eu-1");
//! # Ok(()) }
//! ```

mod builders;
mod capacity;
mod moving;
pub mod placement;
mod registry;
mod router;

pub use builders::{AddCluster, PlaceWorkspace};
pub use moving::{MoveReport, MoveWorkspace};
pub use placement::{ClusterInfo, LABEL_REGION, PlacementRequest};
pub use registry::{Assignment, ClusterSource, Fleet, FleetBuilder, MemberCluster};

/// Store collection of member clusters (`<name>` → [`MemberCluster`]).
pub const CLUSTERS: &str = "fleet-clusters";
/// Store collection of workspace placements (`<org>/<ws>` → [`Assignment`]).
pub const ASSIGNMENTS: &str = "fleet-assignments";
/// Annotation the fleet puts on cluster-scoped objects it returns, naming the member they
/// were read from; a write of an object carrying it goes back to that member (the annotation
/// itself is never written to a cluster).
pub const ANNOTATION_CLUSTER: &str = "fleet.hxb.io/cluster";
