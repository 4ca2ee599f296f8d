/// SQLite store (placeholder).
#[derive(Debug)]
pub struct SqliteStore;
