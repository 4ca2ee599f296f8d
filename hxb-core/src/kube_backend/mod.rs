//! The kube-rs backend (placeholder until implemented).
use std::path::Path;
/// A real cluster through kube-rs.
#[derive(Clone)]
pub struct KubeBackend {
    _client: kube::Client,
}
impl KubeBackend {
    /// From kubeconfig.
    pub async fn from_kubeconfig(_p: &Path, _c: Option<&str>) -> crate::Result<Self> {
        unimplemented!()
    }
    /// Infer.
    pub async fn infer() -> crate::Result<Self> {
        unimplemented!()
    }
}
#[async_trait::async_trait]
impl crate::ClusterBackend for KubeBackend {
    fn kind(&self) -> crate::cluster::BackendKind {
        unimplemented!()
    }
    async fn create(
        &self,
        _: &crate::ResourceType,
        _: crate::cluster::DynamicObject,
    ) -> crate::Result<crate::cluster::DynamicObject> {
        unimplemented!()
    }
    async fn apply(
        &self,
        _: &crate::ResourceType,
        _: crate::cluster::DynamicObject,
        _: &crate::cluster::ApplyOptions,
    ) -> crate::Result<crate::cluster::DynamicObject> {
        unimplemented!()
    }
    async fn replace(
        &self,
        _: &crate::ResourceType,
        _: crate::cluster::DynamicObject,
    ) -> crate::Result<crate::cluster::DynamicObject> {
        unimplemented!()
    }
    async fn replace_status(
        &self,
        _: &crate::ResourceType,
        _: crate::cluster::DynamicObject,
    ) -> crate::Result<crate::cluster::DynamicObject> {
        unimplemented!()
    }
    async fn get(
        &self,
        _: &crate::ResourceType,
        _: Option<&str>,
        _: &str,
    ) -> crate::Result<crate::cluster::DynamicObject> {
        unimplemented!()
    }
    async fn list(
        &self,
        _: &crate::ResourceType,
        _: Option<&str>,
        _: &crate::cluster::ListOptions,
    ) -> crate::Result<crate::cluster::ObjectList> {
        unimplemented!()
    }
    async fn delete(&self, _: &crate::ResourceType, _: Option<&str>, _: &str) -> crate::Result<()> {
        unimplemented!()
    }
    async fn watch(
        &self,
        _: &crate::ResourceType,
        _: Option<&str>,
        _: &crate::cluster::WatchOptions,
    ) -> crate::Result<crate::cluster::WatchStream> {
        unimplemented!()
    }
}
