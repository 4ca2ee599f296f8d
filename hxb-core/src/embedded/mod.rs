//! The embedded cluster (placeholder until implemented).
use std::sync::Arc;
use crate::cluster::ClusterBackend;

/// The in-process cluster.
#[derive(Debug, Default)]
pub struct EmbeddedCluster;

/// Builder.
#[derive(Debug, Default)]
pub struct EmbeddedClusterBuilder { nodes: usize }

impl EmbeddedCluster {
    /// Builder.
    pub fn builder() -> EmbeddedClusterBuilder { EmbeddedClusterBuilder::default() }
    /// As a trait object.
    pub fn into_backend(self) -> Arc<dyn ClusterBackend> { unimplemented!() }
}
impl EmbeddedClusterBuilder {
    /// Number of nodes.
    pub fn nodes(mut self, n: usize) -> Self { self.nodes = n; self }
    /// Build.
    pub fn build(self) -> EmbeddedCluster { EmbeddedCluster }
}
