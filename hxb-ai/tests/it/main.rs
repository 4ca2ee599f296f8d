//! hxb-ai integration tests (one binary).

mod analyze;
