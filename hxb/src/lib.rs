//! # hxb
//!
//! The Hexabase.AI platform as an embeddable engine (placeholder facade; grows with each crate).

#[doc(inline)]
pub use hxb_core::{Error, ErrorKind, Name, Quantity, ResourceList, Selector};

/// `Result` with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
