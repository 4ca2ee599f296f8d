//! hxb-tenancy
