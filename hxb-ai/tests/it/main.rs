//! Integration tests of hxb-ai (one binary; one module per area).

mod nab_synthetic;
