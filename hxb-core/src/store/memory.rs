/// In-memory store (placeholder).
#[derive(Debug, Default)]
pub struct MemoryStore;
