//! wt: work tickets for teams of coding agents, stored in git.
//!
//! The library never sees the command line. Modules:
//! - [`ticket`], [`frontmatter`], [`markdown`]: the ticket model and byte-exact file edits;
//! - [`graph`]: readiness, blocking reasons, cycles and scheduling order;
//! - [`gitindex`]: byte-level refresh of a checkout's git index entries (libgit2 fallback);
//! - [`store`]: all of git2 (read the tree at a ref, commit by compare-and-swap);
//! - [`workspace`]: state-branch discovery, snapshots and the write loop;
//! - [`ops`]: the verbs;
//! - [`ci`], [`hooks`]: the CI-green rule (checks, results per tree, the pre-commit hook);
//! - [`cache`]: parsed tickets cached by git object id (derived data, never an answer).

pub mod cache;
pub mod ci;
pub mod clock;
pub mod config;
pub mod doctor;
pub mod entries;
pub mod error;
pub mod frontmatter;
pub mod gitindex;
pub mod graph;
pub mod hooks;
pub mod id;
pub mod lease;
pub mod lookup;
pub mod markdown;
pub mod merge;
pub mod ops;
pub mod overlap;
pub mod plan;
pub mod recovery;
pub mod store;
pub mod sync;
pub mod templates;
pub mod ticket;
pub mod waves;
pub mod workspace;

pub use error::{Error, ErrorKind, Result};
