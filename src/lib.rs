//! wt: work tickets for teams of coding agents, stored in git.
//!
//! The library never sees the command line. Layers, each using only the ones listed before it
//! (pinned by the architecture test in `tests/it/architecture.rs`):
//! - [`model`]: pure data and text (tickets, IDs, config, frontmatter and markdown edits);
//! - [`schedule`]: pure algorithms over tickets (graph, waves, overlap);
//! - [`plan`]: plan documents (parse, folder layout, resolve, export);
//! - [`store`]: the only user of the git library and of `git` subprocesses;
//! - [`derived`]: caches keyed by git object ids, invisible above the workspace;
//! - [`workspace`]: the state branch, snapshots and the one write loop;
//! - [`app`]: the verbs, each returning a typed report;
//! - [`cli`]: clap arguments, text and JSON rendering, exit codes (the binary only calls it).

pub mod app;
pub mod cli;
pub mod derived;
pub mod error;
pub mod model;
pub mod plan;
pub mod schedule;
pub mod store;
pub mod workspace;

pub use error::{Error, ErrorKind, Result};
