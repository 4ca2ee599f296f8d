//! hxb-scaling: autoscaling maths as pure functions over plain data.

pub mod hpa;
pub mod idle;
pub mod nodepool;
pub mod rightsizing;
