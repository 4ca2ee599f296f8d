//! hxb-scaling integration tests (one binary).

mod forecast_eval;
mod hpa;
