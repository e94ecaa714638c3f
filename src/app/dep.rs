//! `wt dep add` / `wt dep rm`: edit dependency edges, refusing cycles.

use serde::Serialize;

use super::report::{SchemaVersion, TicketView};
use crate::error::{Error, Result};
use crate::model::clock;
use crate::model::frontmatter::Value;
use crate::model::ticket::Ticket;
use crate::workspace::{Message, Outcome, Reads, Workspace, Written};

pub fn add(ws: &Workspace, query: &str, dep: &str, agent: Option<&str>) -> Result<Written<Ticket>> {
    ws.write(Reads::All, |snap| {
        let t = snap.resolve(query)?;
        let d = snap.resolve(dep)?;
        if t.depends_on.contains(&d.id) {
            return Ok(Outcome::NoOp(t.clone()));
        }
        if let Some(cycle) = snap.graph()?.cycle_if_added(&t.id, &d.id) {
            return Err(Error::invalid(format!(
                "{} -> {} would make a dependency cycle: {}",
                t.id,
                d.id,
                cycle.join(" -> ")
            ))
            .with_hint(crate::schedule::graph::CYCLE_HINT));
        }
        let mut deps = t.depends_on.clone();
        deps.push(d.id.clone());
        commit_deps(ws, snap, t, deps, "dep add", &d.id, agent)
    })
}

pub fn rm(ws: &Workspace, query: &str, dep: &str, agent: Option<&str>) -> Result<Written<Ticket>> {
    ws.write(Reads::All, |snap| {
        let t = snap.resolve(query)?;
        // The dependency may name a ticket that no longer exists: match the written ID first.
        let target = t
            .depends_on
            .iter()
            .find(|x| x.eq_ignore_ascii_case(dep))
            .cloned()
            .or_else(|| snap.resolve(dep).ok().map(|d| d.id.clone()));
        let Some(target) = target.filter(|x| t.depends_on.contains(x)) else {
            return Ok(Outcome::NoOp(t.clone()));
        };
        let deps: Vec<String> = t
            .depends_on
            .iter()
            .filter(|x| **x != target)
            .cloned()
            .collect();
        commit_deps(ws, snap, t, deps, "dep rm", &target, agent)
    })
}

fn commit_deps(
    ws: &Workspace,
    snap: &crate::workspace::Snapshot,
    t: &Ticket,
    deps: Vec<String>,
    verb: &str,
    other: &str,
    agent: Option<&str>,
) -> Result<Outcome<Ticket>> {
    let now = clock::timestamp();
    let edit = super::edit_ticket(
        ws,
        snap,
        t,
        &[
            ("depends_on", Value::List(deps.clone())),
            ("updated", Value::Str(now.clone())),
        ],
    )?;
    let mut ticket = t.clone();
    ticket.depends_on = deps;
    ticket.updated = Some(now);
    Ok(Outcome::Commit {
        edits: vec![edit],
        message: Message::new(verb, format!("{} {other}", t.id))
            .ticket(&t.id)
            .ticket(other)
            .agent(agent),
        value: ticket,
    })
}

/// `wt dep add` / `wt dep rm`: the waiting ticket after the edit.
#[derive(Debug, Clone, Serialize)]
pub struct DepReport {
    pub schema_version: SchemaVersion,
    #[serde(flatten)]
    pub ticket: TicketView,
    /// The edge was added or removed (false: it was there already, or was not).
    pub changed: bool,
    /// The commit on the state branch; null when nothing changed.
    pub commit: Option<String>,
}

impl DepReport {
    pub fn new(w: &Written<Ticket>) -> DepReport {
        DepReport {
            schema_version: SchemaVersion,
            ticket: TicketView::of(&w.value),
            changed: w.commit.is_some(),
            commit: w.commit.map(|x| x.to_string()),
        }
    }
}
