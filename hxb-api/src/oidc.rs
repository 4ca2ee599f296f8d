//! OIDC token validation (see docs/api.md).
