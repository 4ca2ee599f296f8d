//! The platform tour's parts.

pub mod progress;
pub mod report;
pub mod setup;
pub mod sim;
