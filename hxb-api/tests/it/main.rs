//! Integration tests of hxb-api: real HTTP requests on loopback.

mod oidc;
mod openapi;
mod routes;
mod support;
