//! The `api` feature: real HTTP requests on loopback.

mod access;
mod events;
mod graphql;
mod monitoring;
mod oidc;
mod openapi;
mod routes;
mod support;
