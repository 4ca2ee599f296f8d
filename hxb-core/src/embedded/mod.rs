//! The embedded cluster (placeholder until implemented).
use crate::cluster::ClusterBackend;
use std::sync::Arc;

/// The in-process cluster.
#[derive(Debug, Default)]
pub struct EmbeddedCluster;

/// Builder.
#[derive(Debug, Default)]
pub struct EmbeddedClusterBuilder {
    nodes: usize,
}

impl EmbeddedCluster {
    /// Builder.
    pub fn builder() -> EmbeddedClusterBuilder {
        EmbeddedClusterBuilder::default()
    }
    /// As a trait object.
    pub fn into_backend(self) -> Arc<dyn ClusterBackend> {
        unimplemented!()
    }
}
impl EmbeddedClusterBuilder {
    /// Number of nodes.
    pub fn nodes(mut self, n: usize) -> Self {
        self.nodes = n;
        self
    }
    /// Seed.
    pub fn seed(self, _s: u64) -> Self {
        self
    }
    /// Clock.
    pub fn clock(self, _c: std::sync::Arc<dyn crate::Clock>) -> Self {
        self
    }
    /// Build.
    pub fn build(self) -> EmbeddedCluster {
        EmbeddedCluster
    }
}
