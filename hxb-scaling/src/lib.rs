//! hxb-scaling: autoscaling and scheduling maths as pure functions over plain data.

pub mod forecast;
pub mod hpa;
pub mod idle;
pub mod nodepool;
pub mod placement;
pub mod predictive;
pub mod rightsizing;
