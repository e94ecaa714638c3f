//! Derived data: caches keyed by git object ids, safe to delete, never an answer of their own.
//! Only the workspace layer uses this module.

pub mod cache;
pub mod lookup;
