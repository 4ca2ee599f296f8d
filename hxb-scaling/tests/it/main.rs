//! Integration tests of hxb-scaling (one binary, one module per area).

mod placement;
