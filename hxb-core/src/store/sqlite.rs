/// SQLite store (placeholder).
#[derive(Debug)]
pub struct SqliteStore;
impl SqliteStore {
    /// Open.
    pub fn open(_p: &std::path::Path) -> crate::Result<Self> {
        unimplemented!()
    }
}
#[async_trait::async_trait]
impl super::StateStore for SqliteStore {
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
