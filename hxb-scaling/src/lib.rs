//! hxb-scaling

pub mod forecast;
pub mod predictive;
