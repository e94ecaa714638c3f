//! Derived data: caches keyed by git object ids, safe to delete, never an answer of their own.
//! Only the workspace layer uses this module, through the functions here and the two files'
//! own entry points:
//! - [`cache`]: parsed tickets per blob, snapshots per `.work` tree, the delta log of wt's own
//!   commits, and kept answers of pure reads;
//! - [`lookup`]: the id lookup of a `.work` tree (path, kind, graph flags and rank per ID), which
//!   lets a one-ticket write read one file.

pub mod cache;
pub mod lookup;

use crate::model::ticket::Ticket;
use crate::store::{Edit, Oid, Store};

/// Record a commit wt just made on top of the snapshot of `.work` tree `base` in every cache
/// that can carry it forward (see [`cache::note_commit`], [`lookup::note_successor`]).
/// Failures only cost speed. Call with the writer lock held.
pub fn note_commit<'t>(
    store: &Store,
    base: Option<Oid>,
    new_commit: Oid,
    edits: &[Edit],
    exists: impl Fn(&str) -> bool,
    old: impl Fn(&str) -> Option<&'t Ticket>,
) {
    if let Some((base, new)) = cache::note_commit(store, base, new_commit, edits, exists, old) {
        lookup::note_successor(store, &base, &new);
    }
}
