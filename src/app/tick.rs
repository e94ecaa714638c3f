//! `wt tick <ID> <N>…`: tick acceptance criteria (numbered as `wt show` lists them) in one
//! commit on the state branch, from any worktree; `--all` ticks every one, `--undo` unticks.
//!
//! Only the character between each box's brackets changes; every other byte of the ticket
//! file stays as it was. A ticket someone holds is ticked only by its holder (with the
//! claim's token when given); a ticket nobody holds by anyone (a person settling a
//! container's criteria). A done ticket's criteria are settled: `wt reopen` it first.

use serde::Serialize;

use super::report::{SchemaVersion, TicketView};
use crate::error::{Error, Result};
use crate::model::criteria::{self, Criterion};
use crate::model::ticket::{Status, Ticket};
use crate::store::Edit;
use crate::workspace::{quoted, Message, Outcome, Reads, Workspace, Written};

/// Which criteria `wt tick` changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Which {
    /// These numbers (from 1, as `wt show` lists them).
    Numbers(Vec<usize>),
    /// Every criterion.
    All,
}

/// What `wt tick` did.
#[derive(Debug, Clone)]
pub struct Ticked {
    pub ticket: Ticket,
    /// Every criterion of the ticket, after the change.
    pub criteria: Vec<Criterion>,
    /// The numbers whose box changed (empty when all were as asked already).
    pub changed: Vec<usize>,
}

/// `wt tick`: the ticket's criteria after the change.
#[derive(Debug, Clone, Serialize)]
pub struct TickReport {
    pub schema_version: SchemaVersion,
    #[serde(flatten)]
    pub ticket: TicketView,
    /// Every acceptance criterion, numbered, as it is now.
    pub criteria: Vec<Criterion>,
    /// The numbers whose box changed; empty when every one was as asked already.
    pub changed: Vec<usize>,
    /// The commit on the state branch; null when nothing changed.
    pub commit: Option<String>,
}

impl TickReport {
    pub fn new(w: &Written<Ticked>) -> TickReport {
        TickReport {
            schema_version: SchemaVersion,
            ticket: TicketView::of(&w.value.ticket),
            criteria: w.value.criteria.clone(),
            changed: w.value.changed.clone(),
            commit: w.commit.map(|c| c.to_string()),
        }
    }
}

/// Tick (or with `undo`, untick) criteria of ticket `query` for `agent`.
pub fn tick(
    ws: &Workspace,
    query: &str,
    agent: &str,
    which: &Which,
    undo: bool,
    token: Option<&str>,
) -> Result<Written<Ticked>> {
    if matches!(which, Which::Numbers(n) if n.is_empty()) {
        return Err(
            Error::invalid("which criteria? give their numbers or --all")
                .with_hint("`wt show <ID>` lists the criteria with their numbers"),
        );
    }
    ws.write(Reads::Ticket(query), |snap| {
        let t = snap.resolve(query)?;
        if t.status == Status::Done {
            return Err(
                Error::refused(format!("{} is done; its criteria are settled", t.id))
                    .with_hint(format!("`wt reopen {}` first to change them", t.id)),
            );
        }
        if t.claimed_by.is_some() || token.is_some() {
            let verb = if undo { "untick" } else { "tick" };
            crate::model::lease::verify_holder(t, agent, token, verb)?;
        }
        let text = ws.read_text(snap, &t.path)?;
        let numbers: Vec<usize> = match which {
            Which::Numbers(n) => n.clone(),
            Which::All => criteria::criteria(&text).iter().map(|c| c.number).collect(),
        };
        let (new_text, changed) = criteria::set_checked(&text, &numbers, !undo)?;
        let after = criteria::criteria(&new_text);
        let value = Ticked {
            ticket: t.clone(),
            criteria: after.clone(),
            changed: changed.clone(),
        };
        if changed.is_empty() {
            return Ok(Outcome::NoOp(value));
        }
        let list: Vec<String> = changed.iter().map(|n| n.to_string()).collect();
        let verb = if undo { "untick" } else { "tick" };
        let mut message = Message::new(
            verb,
            format!("{} {}: {}", t.id, quoted(&t.title), list.join(", ")),
        )
        .ticket(&t.id)
        .agent(Some(agent))
        .trailer("Wt-Criteria", list.join(", "));
        message.body = Some(
            after
                .iter()
                .filter(|c| changed.contains(&c.number))
                .map(|c| {
                    let mark = if c.checked { "x" } else { " " };
                    format!("[{mark}] {}. {}", c.number, c.text)
                })
                .collect::<Vec<_>>()
                .join("\n"),
        );
        Ok(Outcome::Commit {
            edits: vec![Edit::Write {
                path: t.path.clone(),
                content: new_text.into_bytes(),
            }],
            message,
            value,
        })
    })
}
