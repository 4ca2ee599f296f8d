//! hxb-scaling integration tests (one binary).

mod autoscale;
mod forecast_eval;
mod hpa;
mod placement;
