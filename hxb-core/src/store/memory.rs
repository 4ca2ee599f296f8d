/// In-memory store (placeholder).
#[derive(Debug, Default)]
pub struct MemoryStore;
#[async_trait::async_trait]
impl super::StateStore for MemoryStore {
    async fn get(&self, _: &str, _: &str) -> crate::Result<Option<super::Record>> {
        unimplemented!()
    }
    async fn list(&self, _: &str, _: &str) -> crate::Result<Vec<super::Record>> {
        unimplemented!()
    }
    async fn commit(&self, _: super::Batch) -> crate::Result<u64> {
        unimplemented!()
    }
    async fn read_log(&self, _: &str, _: u64, _: usize) -> crate::Result<Vec<super::LogEntry>> {
        unimplemented!()
    }
    async fn revision(&self) -> crate::Result<u64> {
        unimplemented!()
    }
}
