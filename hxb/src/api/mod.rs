//! # HTTP API (feature `api`)
//!
//! A ready-made HTTP API over the hxb [`Engine`](crate::Engine), in the shape of Hexabase's
//! `/api/v1/...` routes, to mount in your own axum server. Authentication is yours: put a
//! resolved [`Identity`] into each request's extensions (or use [`oidc::OidcVerifier`]); every
//! route is authorised by the tenancy's role model ([`authz`]).
//!
//! ```
//! use axum::Extension;
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> hxb::Result<()> {
//! let engine = hxb::Engine::embedded()?;
//! let app = hxb::api::router(&engine)?
//!     // Your authentication goes here; this one trusts everybody as "alice".
//!     .layer(Extension(hxb::api::Identity::new("alice")));
//! # let _ = app;
//! // axum::serve(listener, app).await
//! # Ok(()) }
//! ```
//!
//! Errors are JSON `{"code", "message"}` with the status of [`error::status_of`]; unknown
//! routes are 404 `unknown_route`, wrong methods 405 `method_not_allowed`, bodies over the
//! limit 413 `payload_too_large`. [`openapi::document`] describes every route. Design notes:
//! `docs/api.md`.

pub mod authz;
pub mod error;
mod extract;
pub mod graphql;
pub mod identity;
pub mod oidc;
pub mod openapi;
pub mod routes;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;

pub use error::{ApiError, ErrorBody};
pub use identity::{Caller, GroupBindings, Identity};
pub use routes::{ApiState, ROUTES, Route};

/// Default request body limit: 64 KiB (every request of this API is a small JSON document).
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// The API router over `engine` with the default body limit.
pub fn router(engine: &crate::Engine) -> crate::Result<Router> {
    router_with_limit(engine, DEFAULT_BODY_LIMIT)
}

/// The API router over `engine`, with a body limit in bytes.
pub fn router_with_limit(engine: &crate::Engine, body_limit: usize) -> crate::Result<Router> {
    let tenancy = engine.tenancy()?;
    let mut r: Router<ApiState> = Router::new();
    let mut paths: Vec<&str> = ROUTES.iter().map(|r| r.path).collect();
    paths.sort_unstable();
    paths.dedup();
    for path in paths {
        let mut mr = axum::routing::MethodRouter::new();
        for route in ROUTES.iter().filter(|x| x.path == path) {
            mr = mr.merge((route.handler)());
        }
        r = r.route(path, mr.fallback(method_not_allowed));
    }
    Ok(r.fallback(unknown_route)
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(ApiState {
            engine: engine.clone(),
            tenancy,
            graphql: graphql::schema(),
        }))
}

async fn unknown_route(uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "unknown_route",
        format!("no route {uri}"),
    )
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{method} is not allowed on {uri}"),
    )
}
