//! `wt graph`: the remaining work as waves of parallel work, and its critical path (see
//! [`crate::schedule::waves`]).

use serde::Serialize;

use super::report::{Reported, SchemaVersion};
use crate::error::Result;
use crate::model::ticket::Kind;
use crate::schedule::waves::Waves;
use crate::workspace::Workspace;

/// `wt graph`: the waves of the tickets of one kind that are not done.
#[derive(Debug, Clone, Serialize)]
pub struct GraphReport {
    pub schema_version: SchemaVersion,
    #[serde(flatten)]
    pub waves: Waves,
}

/// The waves of `kind` (`Some(None)`: every kind; None: `ready.default_kind` from the
/// config) at the state branch's tip.
pub fn graph(ws: &Workspace, kind: Option<Option<Kind>>) -> Result<Reported<GraphReport>> {
    let snap = ws.snapshot()?;
    let kind = kind.unwrap_or(Some(snap.config.ready.default_kind));
    let waves = crate::schedule::waves::waves(&snap.tickets, kind);
    Ok(Reported::new(GraphReport {
        schema_version: SchemaVersion,
        waves,
    })
    .skipping(&snap.problems))
}
