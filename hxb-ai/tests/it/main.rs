//! Integration tests of hxb-ai (one binary; one module per area).

mod llm;
mod nab_synthetic;
