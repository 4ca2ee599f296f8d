//! Integration tests of hxb-api: real HTTP requests on loopback.

mod openapi;
mod routes;
mod support;
