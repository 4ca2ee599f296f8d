//! Plain-data forms of the facade's optional parts the bindings expose: backup and restore
//! ([`backup`], facade feature `backup`), plan policy ([`policy`], feature `policy`) and the
//! multi-cluster fleet ([`fleet`], feature `fleet`).
//!
//! As everywhere in this crate, each function forwards to facade calls and converts their
//! results to JSON; nothing here decides anything the facade does not.

pub mod backup;
pub mod fleet;
pub mod policy;
