//! `wt claim`, `wt claim --next`, `wt release` and `wt heartbeat`.
//!
//! A claim is one commit made by compare-and-swap on the state branch tip it was decided on,
//! so of N racers exactly one moves the branch; the others re-read, see the ticket claimed and
//! get [`ErrorKind::AlreadyClaimed`] naming the winner. Every claim draws a fresh token and
//! a lease (see [`crate::model::lease`]).

use serde::{Deserialize, Serialize};

use super::report::{SchemaVersion, TicketView};
use crate::error::{Error, ErrorKind, Result};
use crate::model::clock;
use crate::model::frontmatter::Value;
use crate::model::lease;
use crate::model::ticket::{Kind, Status, Ticket};
use crate::schedule::overlap::{first_overlap, patterns, PathPattern};
use crate::workspace::{quoted, Message, Outcome, Reads, Snapshot, Workspace, Written};

/// The result of a claim.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub ticket: Ticket,
    /// True when the agent already held the claim (nothing was committed).
    pub already_yours: bool,
    /// The holder whose stale claim this claim took over.
    pub took_over: Option<String>,
}

/// How to claim.
#[derive(Debug, Clone, Default)]
pub struct ClaimOptions {
    /// Claim even though the ticket is not ready.
    pub force: bool,
    /// Take over a claim whose lease has expired.
    pub steal_stale: bool,
    /// Lease in minutes (default `claims.lease_minutes`; 0 = never expires).
    pub lease_minutes: Option<u32>,
    /// `claim --next`: take the best ticket even when its `files` overlap a claimed ticket's.
    pub ignore_overlap: bool,
}

/// Error for a ticket someone else holds.
pub fn held_by_other(t: &Ticket) -> Error {
    let holder = t.claimed_by.clone().unwrap_or_default();
    let now = clock::now();
    let hint = if t.is_stale(now) {
        format!(
            "its lease expired at {}: take it over with `wt claim {} --steal-stale`",
            t.claim_expires.as_deref().unwrap_or("?"),
            t.id
        )
    } else {
        match &t.claim_expires {
            Some(e) => format!(
                "pick another ticket (`wt ready`); the claim's lease runs until {e} unless renewed"
            ),
            None => "pick another ticket (`wt ready`), or ask the holder to `wt release` it".into(),
        }
    };
    Error::new(
        ErrorKind::AlreadyClaimed,
        format!("{} is already claimed by {holder}", t.id),
    )
    .with_hint(hint)
    .with_detail(HeldBy {
        id: &t.id,
        claimed_by: &holder,
        claimed_at: &t.claimed_at,
        claim_expires: &t.claim_expires,
        stale: t.is_stale(now),
    })
}

/// The `detail` of an `already_claimed` error: who holds the ticket, and until when.
#[derive(Debug, Clone, Serialize)]
pub struct HeldBy<'a> {
    pub id: &'a str,
    pub claimed_by: &'a str,
    pub claimed_at: &'a Option<String>,
    pub claim_expires: &'a Option<String>,
    /// The lease has expired: `--steal-stale` may take the claim over.
    pub stale: bool,
}

pub(crate) fn claim_outcome(
    ws: &Workspace,
    snap: &Snapshot,
    t: &Ticket,
    agent: &str,
    opts: &ClaimOptions,
) -> Result<Outcome<Claimed>> {
    let now_t = clock::now();
    let stale = t.is_stale(now_t);
    let takeover = match t.claimed_by.as_deref() {
        Some(h) if h == agent && !(opts.steal_stale && stale) => {
            return Ok(Outcome::NoOp(Claimed {
                ticket: t.clone(),
                already_yours: true,
                took_over: None,
            }));
        }
        Some(h) if opts.steal_stale && stale => Some(h.to_string()),
        Some(_) => return Err(held_by_other(t)),
        None => None,
    };
    if takeover.is_none() {
        if t.status == Status::Review {
            // An audit claim: the ticket stays in review; its implementer may not audit it.
            check_may_audit(t, agent)?;
        } else if t.status != Status::Open {
            return Err(Error::refused(format!(
                "{} is {}, not open",
                t.id, t.status
            )));
        }
        if !opts.force && t.status == Status::Open && !snap.unblocked(t)? {
            let g = snap.graph()?;
            if let Some(i) = g.index_of(&t.id) {
                let blockers = g.blockers(i);
                if !blockers.is_empty() {
                    let why: Vec<String> = blockers.iter().map(|b| b.to_string()).collect();
                    return Err(Error::refused(format!(
                        "{} is not ready: {}",
                        t.id,
                        why.join("; ")
                    ))
                    .with_hint("`wt ready` lists what can be claimed; --force claims anyway"));
                }
            }
        }
    }
    let now = clock::timestamp();
    let minutes = opts
        .lease_minutes
        .unwrap_or(snap.config.claims.lease_minutes);
    let expires = lease::expiry(now_t, minutes);
    let token = lease::new_token();
    let mut fields = vec![];
    if takeover.is_none() && t.status == Status::Open {
        fields.push(("status", Value::Str(Status::InProgress.as_str().into())));
    }
    fields.extend([
        ("claimed_by", Value::Str(agent.to_string())),
        ("claimed_at", Value::Str(now.clone())),
        ("claim_expires", super::opt(expires.as_deref())),
        ("claim_token", Value::Str(token.clone())),
        ("claim_stolen_from", super::opt(takeover.as_deref())),
        ("updated", Value::Str(now.clone())),
    ]);
    let text = lease::set_fields(&ws.read_text(snap, &t.path)?, &fields)?;
    let mut ticket = t.clone();
    if takeover.is_none() && t.status == Status::Open {
        ticket.status = Status::InProgress;
    }
    ticket.claimed_by = Some(agent.to_string());
    ticket.claimed_at = Some(now.clone());
    ticket.claim_expires = expires;
    ticket.claim_token = Some(token);
    ticket.claim_stolen_from = takeover.clone();
    ticket.updated = Some(now);
    let for_review = if t.status == Status::Review {
        " for review"
    } else {
        ""
    };
    let mut message = Message::new(
        "claim",
        format!("{} {}{for_review}", t.id, quoted(&t.title)),
    )
    .ticket(&t.id)
    .agent(Some(agent));
    if t.status == Status::Review {
        message = message.trailer("Wt-Status", Status::Review.as_str());
    }
    if let Some(prev) = &takeover {
        message = message.trailer("Wt-Took-Over-From", prev.as_str()).trailer(
            "Wt-Lease-Expired",
            t.claim_expires.clone().unwrap_or_default(),
        );
    }
    Ok(Outcome::Commit {
        edits: vec![crate::store::Edit::Write {
            path: t.path.clone(),
            content: text.into_bytes(),
        }],
        message,
        value: Claimed {
            ticket,
            already_yours: false,
            took_over: takeover,
        },
    })
}

/// `wt claim`: the ticket claimed (or already held).
#[derive(Debug, Clone, Serialize)]
pub struct ClaimReport {
    pub schema_version: SchemaVersion,
    #[serde(flatten)]
    pub ticket: TicketView,
    /// The agent already held the claim; nothing was committed.
    pub already_yours: bool,
    /// The claim's token: pass it to `wt done`, `wt release` and `wt heartbeat`.
    pub claim_token: Option<String>,
    /// The holder whose stale claim this claim took over.
    pub took_over_from: Option<String>,
    /// The commit on the state branch; null when nothing was committed.
    pub commit: Option<String>,
}

impl ClaimReport {
    pub fn new(w: &Written<Claimed>) -> ClaimReport {
        let c = &w.value;
        ClaimReport {
            schema_version: SchemaVersion,
            ticket: TicketView::of(&c.ticket),
            already_yours: c.already_yours,
            claim_token: c.ticket.claim_token.clone(),
            took_over_from: c.took_over.clone(),
            commit: w.commit.map(|x| x.to_string()),
        }
    }
}

/// What `wt claim` (without `--batch`) is to take.
#[derive(Debug, Clone, Copy)]
pub enum Wanted<'a> {
    /// This ticket (an ID or unique prefix).
    Id(&'a str),
    /// The best ready ticket of this kind (`Some(None)`: any kind; None: `ready.default_kind`
    /// from the config).
    Next(Option<Option<Kind>>),
    /// The first ticket waiting for review that the agent did not implement, of this kind
    /// (None: any kind).
    NextReview(Option<Kind>),
}

/// Claim ticket `query` for `agent`.
pub fn claim(ws: &Workspace, query: &str, agent: &str, force: bool) -> Result<Written<Claimed>> {
    claim_with(
        ws,
        query,
        agent,
        &ClaimOptions {
            force,
            ..Default::default()
        },
    )
}

/// Claim ticket `query` for `agent` with options (take over a stale claim, lease length).
pub fn claim_with(
    ws: &Workspace,
    query: &str,
    agent: &str,
    opts: &ClaimOptions,
) -> Result<Written<Claimed>> {
    ws.write(Reads::Ticket(query), |snap| {
        let t = snap.resolve(query)?;
        claim_outcome(ws, snap, t, agent, opts)
    })
}

/// Claim the first ready ticket of `kind` (None = any kind).
pub fn claim_next(ws: &Workspace, kind: Option<Kind>, agent: &str) -> Result<Written<Claimed>> {
    claim_next_with(ws, kind, agent, &ClaimOptions::default())
}

/// Tickets `claim --next` may take, best first: the ready ones and, with `steal_stale`,
/// in-progress tickets whose claim is stale and that nothing else blocks.
pub fn next_candidates(
    snap: &Snapshot,
    kind: Option<Kind>,
    steal_stale: bool,
) -> Result<Vec<usize>> {
    if !steal_stale {
        return snap.ready(kind);
    }
    let g = snap.graph()?;
    let mut ids = g.ready(kind);
    {
        let now = clock::now();
        let stale = (0..snap.tickets.len()).filter(|&i| {
            let t = &snap.tickets[i];
            kind.is_none_or(|k| t.kind == k)
                && t.status == Status::InProgress
                && t.is_stale(now)
                && g.index_of(&t.id) == Some(i)
                && g.blockers(i)
                    .iter()
                    .all(|b| matches!(b, crate::schedule::graph::Blocker::Claimed { .. }))
        });
        ids.extend(stale.collect::<Vec<_>>());
        let depths = g.waiting_depths();
        g.sort_by_schedule(&mut ids, &depths);
    }
    Ok(ids)
}

/// Claim the best ticket of `kind`: ready ones, and stale claims when `opts.steal_stale`;
/// unless `opts.ignore_overlap`, the best whose `files` overlap no claimed ticket's.
pub fn claim_next_with(
    ws: &Workspace,
    kind: Option<Kind>,
    agent: &str,
    opts: &ClaimOptions,
) -> Result<Written<Claimed>> {
    let reads = Reads::NextReady {
        kind,
        free_files: !opts.ignore_overlap,
    };
    ws.write(reads, |snap| {
        let steal = opts.steal_stale || snap.config.claims.steal_stale_on_next;
        let mut cands = next_candidates(snap, kind, steal)?;
        let mut skipped = Vec::new();
        if !opts.ignore_overlap {
            (cands, skipped) = free_of_held(snap, cands)?;
        }
        let what = kind.map(|k| k.as_str()).unwrap_or("ticket");
        let Some(&first) = cands.first() else {
            if let Some(s) = skipped.first() {
                let others = match skipped.len() {
                    1 => String::new(),
                    n => format!(" (and {} more)", n - 1),
                };
                return Err(Error::not_found(format!(
                    "no {what} is ready whose files are free: {} would touch {}, which overlaps {} of {}, claimed{others}",
                    s.id, s.entries.0, s.entries.1, s.conflicts_with
                ))
                .with_hint("wait for those claims to finish, or take it anyway with --ignore-overlap"));
            }
            return Err(Error::not_found(format!("no {what} is ready"))
                .with_hint("`wt blocked` shows what is waiting and why"));
        };
        let o = ClaimOptions {
            force: false,
            steal_stale: steal,
            lease_minutes: opts.lease_minutes,
            ignore_overlap: opts.ignore_overlap,
        };
        claim_outcome(ws, snap, &snap.tickets[first], agent, &o)
    })
}

/// Claim ticket `query` only if it is ready and its `files` overlap no claimed ticket's,
/// both judged inside the write (so two runs racing for overlapping tickets cannot both
/// win): what `wt run` uses to start a ticket.
pub fn claim_if_free(
    ws: &Workspace,
    query: &str,
    agent: &str,
    opts: &ClaimOptions,
) -> Result<Written<Claimed>> {
    ws.write(Reads::All, |snap| {
        let t = snap.resolve(query)?;
        let Some(i) = snap.tickets.iter().position(|x| x.id == t.id) else {
            return Err(Error::not_found(format!("no ticket {query}")));
        };
        let (_, skipped) = free_of_held(snap, vec![i])?;
        if let Some(s) = skipped.first() {
            return Err(Error::refused(format!(
                "{} would touch {}, which overlaps {} of {}, claimed",
                s.id, s.entries.0, s.entries.1, s.conflicts_with
            )));
        }
        claim_outcome(ws, snap, t, agent, opts)
    })
}

/// Give a claim back. Only the holder may, unless `force`.
pub fn release(ws: &Workspace, query: &str, agent: &str, force: bool) -> Result<Written<Ticket>> {
    release_with(ws, query, agent, None, force)
}

/// Give a claim back: the holder (by `token` when given, see [`lease::verify_holder`]), or
/// anybody with `force`.
pub fn release_with(
    ws: &Workspace,
    query: &str,
    agent: &str,
    token: Option<&str>,
    force: bool,
) -> Result<Written<Ticket>> {
    ws.write(Reads::Ticket(query), |snap| {
        let t = snap.resolve(query)?;
        if t.claimed_by.is_none() {
            return Err(Error::refused(format!("{} is not claimed", t.id)));
        }
        if !force {
            lease::verify_holder(t, agent, token, "release").map_err(|e| {
                let hint = e.hint.clone().unwrap_or_default();
                e.with_hint(format!("{hint}; --force releases anyway"))
            })?;
        }
        let now = clock::timestamp();
        let status = if t.status == Status::InProgress {
            Status::Open
        } else {
            t.status
        };
        let (fields, ticket) = lease::release_as(t, status, &now);
        let text = lease::set_fields(&ws.read_text(snap, &t.path)?, &fields)?;
        Ok(Outcome::Commit {
            edits: vec![crate::store::Edit::Write {
                path: t.path.clone(),
                content: text.into_bytes(),
            }],
            message: Message::new("release", format!("{} {}", t.id, quoted(&t.title)))
                .ticket(&t.id)
                .agent(Some(agent)),
            value: ticket,
        })
    })
}

/// `wt heartbeat`: the claim with its renewed lease.
#[derive(Debug, Clone, Serialize)]
pub struct HeartbeatReport {
    pub schema_version: SchemaVersion,
    #[serde(flatten)]
    pub ticket: TicketView,
    /// The lease had already run out (nobody had taken the claim over yet).
    pub was_stale: bool,
    /// The commit on the state branch; null when nothing was committed.
    pub commit: Option<String>,
    /// Leases are off (`claims.lease_minutes: 0`): nothing was renewed (text output only).
    #[serde(skip)]
    pub no_lease: bool,
}

/// The result of a heartbeat.
#[derive(Debug, Clone)]
pub struct Heartbeat {
    pub ticket: Ticket,
    /// The lease had already run out (nobody had taken the claim over yet).
    pub was_stale: bool,
    /// Leases are off (0 minutes): nothing was renewed.
    pub no_lease: bool,
}

/// Extend the lease of a claim `agent` holds to `lease_minutes` (default from config) from now.
/// Only `claim_expires` changes.
pub fn heartbeat(
    ws: &Workspace,
    query: &str,
    agent: &str,
    token: Option<&str>,
    lease_minutes: Option<u32>,
) -> Result<Written<Heartbeat>> {
    ws.write(Reads::Ticket(query), |snap| {
        let t = snap.resolve(query)?;
        lease::verify_holder(t, agent, token, "renew")?;
        let now = clock::now();
        let minutes = lease_minutes.unwrap_or(snap.config.claims.lease_minutes);
        let Some(expires) = lease::expiry(now, minutes) else {
            return Ok(Outcome::NoOp(Heartbeat {
                ticket: t.clone(),
                was_stale: false,
                no_lease: true,
            }));
        };
        let was_stale = t.is_stale(now);
        let text = lease::set_fields(
            &ws.read_text(snap, &t.path)?,
            &[("claim_expires", Value::Str(expires.clone()))],
        )?;
        let mut ticket = t.clone();
        ticket.claim_expires = Some(expires.clone());
        Ok(Outcome::Commit {
            edits: vec![crate::store::Edit::Write {
                path: t.path.clone(),
                content: text.into_bytes(),
            }],
            message: Message::new("heartbeat", format!("{} until {expires}", t.id))
                .ticket(&t.id)
                .agent(Some(agent)),
            value: Heartbeat {
                ticket,
                was_stale,
                no_lease: false,
            },
        })
    })
}

/// Refuse an audit claim by the agent who implemented the ticket.
pub fn check_may_audit(t: &Ticket, agent: &str) -> Result<()> {
    if t.implemented_by.as_deref() == Some(agent) {
        return Err(Error::refused(format!(
            "{agent} implemented {}; an audit needs a different agent",
            t.id
        ))
        .with_hint("let another agent claim it (`wt ready --review`)"));
    }
    Ok(())
}

/// A ready ticket left out of a parallel set, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    pub id: String,
    /// The ticket it conflicts with (in the set, or claimed).
    pub conflicts_with: String,
    /// The two `files` entries that overlap.
    pub entries: (String, String),
}

/// Of the tickets `ids` (best first), those whose `files` overlap no claimed ticket's (other
/// than their own claim), and those left out, with the claim they clash with.
pub fn free_of_held(snap: &Snapshot, ids: Vec<usize>) -> Result<(Vec<usize>, Vec<Skipped>)> {
    let held: Vec<(&str, Vec<PathPattern>)> = snap
        .claims_holding_files()?
        .into_iter()
        .map(|h| (h.id, patterns(h.files)))
        .collect();
    if held.is_empty() {
        return Ok((ids, Vec::new()));
    }
    let mut free = Vec::with_capacity(ids.len());
    let mut skipped = Vec::new();
    for i in ids {
        let t = &snap.tickets[i];
        let mine = patterns(&t.files);
        let clash = held
            .iter()
            .filter(|(h, _)| *h != t.id)
            .find_map(|(h, ps)| first_overlap(&mine, ps).map(|e| (h.to_string(), e)));
        match clash {
            Some((other, (a, b))) => skipped.push(Skipped {
                id: t.id.clone(),
                conflicts_with: other,
                entries: (a.to_string(), b.to_string()),
            }),
            None => free.push(i),
        }
    }
    Ok((free, skipped))
}
