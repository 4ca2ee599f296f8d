//! hxb-scaling
