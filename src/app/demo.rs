//! The report of `wt demo`. The walk-through itself lives in the CLI (it prints as it goes).

use serde::Serialize;

use super::report::SchemaVersion;

/// `wt demo`: what the walk-through did.
#[derive(Debug, Clone, Serialize)]
pub struct DemoReport {
    pub schema_version: SchemaVersion,
    /// The subjects of the demo repository's commits, newest first (`git log`).
    pub log: Vec<String>,
    /// Where the demo repository was kept (`--keep`); null when it was deleted.
    pub kept: Option<String>,
    /// What the text output prints, one step per line.
    pub transcript: String,
}
