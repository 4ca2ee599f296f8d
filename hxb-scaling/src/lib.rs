//! hxb-scaling

pub mod placement;
