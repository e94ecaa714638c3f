//! Parallel picks: `wt ready --parallel N` and `wt claim --next --batch N`.
//!
//! A parallel set is built greedily in scheduling order: a ready ticket joins when its
//! `files` overlap neither a ticket already in the set nor any claimed ticket (see
//! [`crate::schedule::overlap`] for what overlap means for globs).

use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::ticket::{Kind, Ticket};
use crate::schedule::overlap::{first_overlap, patterns, PathPattern};
use crate::workspace::{quoted, Message, Outcome, Reads, Snapshot, Workspace, Written};

use super::claim::Claimed;
use super::report::{SchemaVersion, TicketView};

pub use super::claim::Skipped;

/// Up to `n` ready tickets of `kind` whose files overlap neither each other nor a claimed
/// ticket's, best first; and the ready tickets skipped for overlapping.
pub fn pick_parallel(
    snap: &Snapshot,
    kind: Option<Kind>,
    n: usize,
) -> Result<(Vec<usize>, Vec<Skipped>)> {
    let g = snap.graph()?;
    let held: Vec<(&Ticket, Vec<PathPattern>)> = snap
        .tickets
        .iter()
        .filter(|t| t.claimed_by.is_some() && !t.files.is_empty())
        .map(|t| (t, patterns(&t.files)))
        .collect();
    let mut picked: Vec<(usize, Vec<PathPattern>)> = Vec::new();
    let mut skipped = Vec::new();
    for i in g.ready(kind) {
        if picked.len() >= n {
            break;
        }
        let t = &snap.tickets[i];
        let mine = patterns(&t.files);
        let clash = held
            .iter()
            .find_map(|(h, ps)| first_overlap(&mine, ps).map(|e| (h.id.clone(), e)))
            .or_else(|| {
                picked.iter().find_map(|(j, ps)| {
                    first_overlap(&mine, ps).map(|e| (snap.tickets[*j].id.clone(), e))
                })
            });
        match clash {
            Some((other, (a, b))) => skipped.push(Skipped {
                id: t.id.clone(),
                conflicts_with: other,
                entries: (a.to_string(), b.to_string()),
            }),
            None => picked.push((i, mine)),
        }
    }
    Ok((picked.into_iter().map(|(i, _)| i).collect(), skipped))
}

/// Who claims the tickets of a batch.
#[derive(Debug, Clone)]
pub enum Agents {
    /// One agent holds all of them.
    One(String),
    /// `<prefix>-1`, `<prefix>-2`, …, skipping names that already hold a claim.
    Prefix(String),
}

fn agent_names(snap: &Snapshot, agents: &Agents, n: usize) -> Vec<String> {
    match agents {
        Agents::One(a) => vec![a.clone(); n],
        Agents::Prefix(p) => {
            let busy = |name: &str| {
                snap.tickets
                    .iter()
                    .any(|t| t.claimed_by.as_deref() == Some(name))
            };
            (1..)
                .map(|k| format!("{p}-{k}"))
                .filter(|name| !busy(name))
                .take(n)
                .collect()
        }
    }
}

/// [`claim_batch`] of `kind` (`Some(None)`: any kind; None: `ready.default_kind` from the
/// config).
pub fn claim_batch_with_default_kind(
    ws: &Workspace,
    kind: Option<Option<Kind>>,
    n: usize,
    agents: &Agents,
) -> Result<Written<Vec<Claimed>>> {
    let kind = match kind {
        Some(k) => k,
        None => Some(ws.config()?.ready.default_kind),
    };
    claim_batch(ws, kind, n, agents)
}

/// Claim up to `n` ready tickets that can run together, in one commit.
pub fn claim_batch(
    ws: &Workspace,
    kind: Option<Kind>,
    n: usize,
    agents: &Agents,
) -> Result<Written<Vec<Claimed>>> {
    if n == 0 {
        return Err(Error::invalid("--batch needs a number of tickets above 0"));
    }
    if let Agents::Prefix(p) = agents {
        if p.trim().is_empty() || p.contains(['\n', '\r']) {
            return Err(Error::invalid("--agent-prefix must be a non-empty line"));
        }
    }
    ws.write(Reads::All, |snap| {
        let (picked, _) = pick_parallel(snap, kind, n)?;
        if picked.is_empty() {
            return Err(Error::not_found(format!(
                "no {} is ready",
                kind.map(|k| k.as_str()).unwrap_or("ticket")
            ))
            .with_hint("`wt blocked` shows what is waiting and why"));
        }
        let names = agent_names(snap, agents, picked.len());
        let mut edits = Vec::new();
        let mut claimed = Vec::new();
        for (&i, agent) in picked.iter().zip(&names) {
            match super::claim::claim_outcome(
                ws,
                snap,
                &snap.tickets[i],
                agent,
                &super::claim::ClaimOptions::default(),
            )? {
                Outcome::Commit {
                    edits: e, value, ..
                } => {
                    edits.extend(e);
                    claimed.push(value);
                }
                Outcome::NoOp(_) => {}
            }
        }
        let parts: Vec<String> = claimed
            .iter()
            .map(|c| {
                let t = &c.ticket;
                match agents {
                    Agents::One(_) => format!("{} {}", t.id, quoted(&t.title)),
                    Agents::Prefix(_) => format!(
                        "{} {} ({})",
                        t.id,
                        quoted(&t.title),
                        t.claimed_by.as_deref().unwrap_or("")
                    ),
                }
            })
            .collect();
        let subject = if claimed.len() == 1 {
            parts.join("")
        } else {
            format!(
                "{}: {}",
                crate::model::plural(claimed.len(), "ticket"),
                parts.join(", ")
            )
        };
        let mut message = Message::new("claim", subject);
        if let Agents::One(a) = agents {
            message = message.agent(Some(a));
        }
        for c in &claimed {
            message = message.ticket(&c.ticket.id).trailer(
                "Wt-Claim",
                format!(
                    "{} {}",
                    c.ticket.id,
                    c.ticket.claimed_by.as_deref().unwrap_or("")
                ),
            );
        }
        Ok(Outcome::Commit {
            edits,
            message,
            value: claimed,
        })
    })
}

/// `wt claim --next --batch N`: the tickets claimed together, in one commit.
#[derive(Debug, Clone, Serialize)]
pub struct BatchReport {
    pub schema_version: SchemaVersion,
    /// Best first; each with its `claimed_by` and `claim_token`.
    pub claimed: Vec<BatchClaim>,
    /// The commit on the state branch.
    pub commit: Option<String>,
}

/// One claim of a batch.
#[derive(Debug, Clone, Serialize)]
pub struct BatchClaim {
    #[serde(flatten)]
    pub ticket: TicketView,
    /// The claim's token: its agent passes it to `wt done`, `wt release` and `wt heartbeat`.
    pub claim_token: Option<String>,
}

impl BatchReport {
    pub fn new(w: &Written<Vec<Claimed>>) -> BatchReport {
        BatchReport {
            schema_version: SchemaVersion,
            claimed: w
                .value
                .iter()
                .map(|c| BatchClaim {
                    ticket: TicketView::of(&c.ticket),
                    claim_token: c.ticket.claim_token.clone(),
                })
                .collect(),
            commit: w.commit.map(|x| x.to_string()),
        }
    }
}
