//! `wt ready`: the tickets that can be started now, best first; with `review`, the jobs
//! waiting for an auditor; with `parallel`, a set that can run together.
//!
//! The plain list is a function of the `.work` tree (tickets and config) and the options
//! alone, so it is read through [`Workspace::read_pure`]: an agent asking again on the same
//! tree gets the kept answer without a snapshot being loaded.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::batch::Skipped;
use super::report::{Reported, SchemaVersion, TicketView};
use crate::error::Result;
use crate::model::clock;
use crate::model::ticket::Kind;
use crate::workspace::{Snapshot, Workspace};

/// What `wt ready` lists.
#[derive(Debug, Clone, Default)]
pub struct ReadyOptions {
    /// Only this kind (`Some(None)`: every kind); None: `ready.default_kind` from the config.
    pub kind: Option<Option<Kind>>,
    /// At most this many.
    pub limit: Option<usize>,
    /// Tickets in review that no one holds, instead of ready ones.
    pub review: bool,
    /// With `review`: leave out the tickets this agent implemented.
    pub agent: Option<String>,
    /// Up to this many ready tickets whose files overlap neither each other nor a claimed
    /// ticket's.
    pub parallel: Option<usize>,
}

/// Which list `wt ready` made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadyMode {
    /// Tickets that can be started now.
    Ready,
    /// Tickets waiting for an auditor (`--review`).
    Review,
    /// Ready tickets that can run together (`--parallel N`).
    Parallel,
}

/// `wt ready`: tickets to start (or to audit), best first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadyReport {
    pub schema_version: SchemaVersion,
    /// The kind listed; null when every kind is.
    pub kind: Option<Kind>,
    pub mode: ReadyMode,
    /// Best first.
    pub tickets: Vec<TicketView>,
    /// With `parallel`: ready tickets left out because their files overlap a ticket in the
    /// set or a claimed one; empty otherwise.
    pub skipped: Vec<Skipped>,
}

/// The ready list (or review list, or parallel set) at the state branch's tip.
pub fn ready(ws: &Workspace, opts: &ReadyOptions) -> Result<Reported<ReadyReport>> {
    ready_as(ws, opts, "report", |r| r)
}

/// [`ready`], answered as `shape` makes of the report (`shape_key` names that shape, e.g.
/// the output format: the plain list is kept in that shape, so that asking again on the
/// same tree neither decodes nor renders the report).
pub fn ready_as<D: Serialize + DeserializeOwned>(
    ws: &Workspace,
    opts: &ReadyOptions,
    shape_key: &str,
    shape: impl FnOnce(Reported<ReadyReport>) -> D,
) -> Result<D> {
    if opts.review || opts.parallel.is_some() {
        // These also read the agent's name and the claimed tickets' files: not kept.
        let snap = ws.snapshot()?;
        let out = compute(&snap, opts)?;
        crate::workspace::finished_with(snap);
        return Ok(shape(out));
    }
    let key = format!(
        "ready kind={:?} limit={:?} as={shape_key}",
        opts.kind, opts.limit
    );
    ws.read_pure_as(
        &key,
        |snap| {
            let out = compute(snap, opts)?;
            // Only a list that reads no clock: a listed ticket with a claim would show `stale`.
            let timeless = out
                .report
                .tickets
                .iter()
                .all(|t| t.claimed_by.is_none() && t.claim_expires.is_none());
            Ok((out, timeless))
        },
        shape,
    )
}

fn compute(snap: &Snapshot, opts: &ReadyOptions) -> Result<Reported<ReadyReport>> {
    let kind = opts.kind.unwrap_or(Some(snap.config.ready.default_kind));
    let g = snap.graph()?;
    let mut skipped = Vec::new();
    let (mode, mut ids) = if opts.review {
        (
            ReadyMode::Review,
            super::review::ready_for_review(&g, kind, opts.agent.as_deref()),
        )
    } else if let Some(n) = opts.parallel {
        let (ids, s) = super::batch::pick_parallel(snap, kind, n)?;
        skipped = s;
        (ReadyMode::Parallel, ids)
    } else {
        (ReadyMode::Ready, g.ready(kind))
    };
    if let Some(l) = opts.limit {
        ids.truncate(l);
    }
    let now = clock::now();
    let report = ReadyReport {
        schema_version: SchemaVersion,
        kind,
        mode,
        tickets: ids
            .iter()
            .map(|&i| TicketView::at(&snap.tickets[i], now))
            .collect(),
        skipped,
    };
    Ok(Reported::new(report).skipping(&snap.problems))
}
