//! `wt plan import` and `wt plan export` (the format is described in [`crate::plan`]).

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Result};
use crate::model::frontmatter;
use crate::model::ticket::{Kind, Ticket};
use crate::plan::{self, Plan};
use crate::workspace::{Message, Snapshot, Workspace, Written};

/// Parse `path` and resolve its `Depends on:` names against the plan and the tickets at
/// `snap`; returns the plan and its import items.
pub fn prepare(
    snap: &Snapshot,
    path: &Path,
    display: &str,
) -> Result<(Plan, Vec<crate::app::import::Item>)> {
    let p = plan::parse_path(path, display)?;
    let targets = plan::resolve(&p, &|name| snap.resolve(name).ok().map(|t| t.id.clone()))?;
    let items = plan::items(&p, &targets);
    Ok((p, items))
}

/// `3 phase-specs, 8 jobs, 20 tasks`.
pub fn summary(p: &Plan) -> String {
    format!(
        "{} phase-specs, {} jobs, {} tasks",
        p.count(Kind::PhaseSpec),
        p.count(Kind::Job),
        p.count(Kind::Task)
    )
}

/// Import the plan at `path` in one commit; returns the plan and item key → new ID
/// (keys are `n<index>` in plan order).
pub fn import(
    ws: &Workspace,
    path: &Path,
    source: &str,
    agent: Option<&str>,
) -> Result<Written<(Plan, BTreeMap<String, String>)>> {
    let snap = ws.snapshot()?;
    let (p, items) = prepare(&snap, path, source)?;
    let subject = format!("{} from {source}", summary(&p));
    let w = crate::app::import::import_with(ws, &items, &|| {
        Message::new("plan-import", subject.clone()).agent(agent)
    })?;
    Ok(Written {
        commit: w.commit,
        value: (p, w.value),
        warnings: w.warnings,
        retries: w.retries,
    })
}

/// The body of a ticket at `snap`.
pub fn body(ws: &Workspace, snap: &Snapshot, t: &Ticket) -> Result<String> {
    let text = ws.read_text(snap, &t.path)?;
    let split = frontmatter::split(&text)
        .map_err(|e| Error::invalid(format!("{}: {e}", t.path)).with_hint("run `wt check`"))?;
    Ok(split.body.to_string())
}

/// The tree at `snap` as one markdown plan.
pub fn export(ws: &Workspace, snap: &Snapshot) -> Result<String> {
    plan::export(&snap.tickets, &|t| body(ws, snap, t))
}
