//! `wt claim`, `wt claim --next` and `wt release`.

use serde_json::json;

use crate::clock;
use crate::error::{Error, ErrorKind, Result};
use crate::frontmatter::Value;
use crate::ticket::{Kind, Status, Ticket};
use crate::workspace::{quoted, Message, Outcome, Snapshot, Workspace, Written};

/// The result of a claim.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub ticket: Ticket,
    /// True when the agent already held the claim (nothing was committed).
    pub already_yours: bool,
}

/// Error for a ticket someone else holds.
pub fn held_by_other(t: &Ticket) -> Error {
    let holder = t.claimed_by.clone().unwrap_or_default();
    Error::new(
        ErrorKind::AlreadyClaimed,
        format!("{} is already claimed by {holder}", t.id),
    )
    .with_hint("pick another ticket (`wt ready`), or ask the holder to `wt release` it")
    .with_detail(json!({"id": t.id, "claimed_by": holder, "claimed_at": t.claimed_at}))
}

pub(crate) fn claim_outcome(
    ws: &Workspace,
    snap: &Snapshot,
    t: &Ticket,
    agent: &str,
    force: bool,
) -> Result<Outcome<Claimed>> {
    if t.claimed_by.as_deref() == Some(agent) {
        return Ok(Outcome::NoOp(Claimed {
            ticket: t.clone(),
            already_yours: true,
        }));
    }
    if t.claimed_by.is_some() {
        return Err(held_by_other(t));
    }
    if t.status == Status::Review {
        return super::review::claim_for_review(ws, snap, t, agent);
    }
    if t.status != Status::Open {
        return Err(Error::refused(format!(
            "{} is {}, not open",
            t.id, t.status
        )));
    }
    if !force {
        let g = snap.graph();
        if let Some(i) = g.index_of(&t.id) {
            let blockers = g.blockers(i);
            if !blockers.is_empty() {
                let why: Vec<String> = blockers.iter().map(|b| b.to_string()).collect();
                return Err(
                    Error::refused(format!("{} is not ready: {}", t.id, why.join("; ")))
                        .with_hint("`wt ready` lists what can be claimed; --force claims anyway"),
                );
            }
        }
    }
    let now = clock::timestamp();
    let edit = super::edit_ticket(
        ws,
        snap,
        t,
        &[
            ("status", Value::Str(Status::InProgress.as_str().into())),
            ("claimed_by", Value::Str(agent.to_string())),
            ("claimed_at", Value::Str(now.clone())),
            ("updated", Value::Str(now.clone())),
        ],
    )?;
    let mut ticket = t.clone();
    ticket.status = Status::InProgress;
    ticket.claimed_by = Some(agent.to_string());
    ticket.claimed_at = Some(now.clone());
    ticket.updated = Some(now);
    Ok(Outcome::Commit {
        edits: vec![edit],
        message: Message::new("claim", format!("{} {}", t.id, quoted(&t.title)))
            .ticket(&t.id)
            .agent(Some(agent)),
        value: Claimed {
            ticket,
            already_yours: false,
        },
    })
}

/// Claim ticket `query` for `agent`.
pub fn claim(ws: &Workspace, query: &str, agent: &str, force: bool) -> Result<Written<Claimed>> {
    ws.write(|snap| {
        let t = snap.resolve(query)?;
        claim_outcome(ws, snap, t, agent, force)
    })
}

/// Claim the first ready ticket of `kind` (None = any kind).
pub fn claim_next(ws: &Workspace, kind: Option<Kind>, agent: &str) -> Result<Written<Claimed>> {
    ws.write(|snap| {
        let g = snap.graph();
        let ready = g.ready(kind);
        let Some(&first) = ready.first() else {
            return Err(Error::not_found(format!(
                "no {} is ready",
                kind.map(|k| k.as_str()).unwrap_or("ticket")
            ))
            .with_hint("`wt blocked` shows what is waiting and why"));
        };
        claim_outcome(ws, snap, &snap.tickets[first], agent, false)
    })
}

/// Give a claim back. Only the holder may, unless `force`.
pub fn release(ws: &Workspace, query: &str, agent: &str, force: bool) -> Result<Written<Ticket>> {
    ws.write(|snap| {
        let t = snap.resolve(query)?;
        match t.claimed_by.as_deref() {
            None => return Err(Error::refused(format!("{} is not claimed", t.id))),
            Some(h) if h != agent && !force => {
                return Err(
                    Error::refused(format!("{} is claimed by {h}, not by {agent}", t.id))
                        .with_hint("only the holder releases a claim; --force overrides"),
                )
            }
            _ => {}
        }
        let now = clock::timestamp();
        let status = if t.status == Status::InProgress {
            Status::Open
        } else {
            t.status
        };
        let edit = super::edit_ticket(
            ws,
            snap,
            t,
            &[
                ("status", Value::Str(status.as_str().into())),
                ("claimed_by", Value::Null),
                ("claimed_at", Value::Null),
                ("updated", Value::Str(now.clone())),
            ],
        )?;
        let mut ticket = t.clone();
        ticket.status = status;
        ticket.claimed_by = None;
        ticket.claimed_at = None;
        ticket.updated = Some(now);
        Ok(Outcome::Commit {
            edits: vec![edit],
            message: Message::new("release", format!("{} {}", t.id, quoted(&t.title)))
                .ticket(&t.id)
                .agent(Some(agent)),
            value: ticket,
        })
    })
}
