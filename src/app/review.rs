//! The audit loop and human gates: `wt ready --review`, claiming a job for review,
//! `wt pass`, `wt fail` (amendment, attempt count, escalation), `wt reopen`, `wt approve`.
//!
//! Life of a job with `review: true`:
//! `open` → claim → `in_progress` → `wt done` → `review` (records `implemented_by`) → an
//! auditor (never the implementer) claims it, status stays `review` → `wt pass` → `done`,
//! or `wt fail` → amendment appended, `attempts` + 1, claim cleared → `open` again, or
//! `escalated` once `attempts` reaches `max_attempts` → `wt reopen` by a human → `open`.

use crate::error::{Error, Result};
use crate::model::clock;
use crate::model::config::Config;
use crate::model::frontmatter::{self, Value};
use crate::model::journal;
use crate::model::ticket::{Kind, Status, Ticket};
use crate::schedule::graph::Graph;
use crate::store::Edit;
use crate::workspace::{quoted, Message, Outcome, Reads, Snapshot, Workspace, Written};

use super::claim::Claimed;
use super::containers::Closed;
use super::report::{SchemaVersion, TicketView};
use serde::Serialize;

/// The status `wt done` gives `t`: `review` for jobs when the config asks for audits.
pub fn status_after_done(config: &Config, t: &Ticket) -> Status {
    if config.reviews(t.kind) {
        Status::Review
    } else {
        Status::Done
    }
}

/// Tickets waiting for an auditor, in scheduling order; with `agent`, leave out the ones
/// that agent implemented (it may not audit its own work).
pub fn ready_for_review(g: &Graph<'_>, kind: Option<Kind>, agent: Option<&str>) -> Vec<usize> {
    let mut ids: Vec<usize> = (0..g.tickets.len())
        .filter(|&i| {
            let t = &g.tickets[i];
            t.status == Status::Review
                && t.claimed_by.is_none()
                && kind.is_none_or(|k| t.kind == k)
                && (agent.is_none() || t.implemented_by.as_deref() != agent)
        })
        .collect();
    let depths = g.waiting_depths();
    g.sort_by_schedule(&mut ids, &depths);
    ids
}

/// Claim a ticket in `review` for an audit. Its status stays `review`; the claim gets a
/// lease and a token like any other (see [`super::claim::claim_outcome`]).
pub fn claim_for_review(
    ws: &Workspace,
    snap: &Snapshot,
    t: &Ticket,
    agent: &str,
) -> Result<Outcome<Claimed>> {
    super::claim::claim_outcome(ws, snap, t, agent, &super::claim::ClaimOptions::default())
}

/// Claim the first ticket waiting for review that `agent` did not implement.
pub fn claim_next_review(
    ws: &Workspace,
    kind: Option<Kind>,
    agent: &str,
) -> Result<Written<Claimed>> {
    ws.write(Reads::All, |snap| {
        let g = snap.graph()?;
        let Some(&first) = ready_for_review(&g, kind, Some(agent)).first() else {
            return Err(Error::not_found(format!(
                "nothing is waiting for review that {agent} did not implement"
            ))
            .with_hint("`wt list --status review` shows what is in review and who holds it"));
        };
        claim_for_review(ws, snap, &snap.tickets[first], agent)
    })
}

/// Check that `agent` may give the verdict on `t`: it is in review and `agent` holds the
/// claim (unless forced).
fn check_auditor(t: &Ticket, agent: &str, forced: bool, verb: &str) -> Result<()> {
    if t.status != Status::Review {
        return Err(
            Error::refused(format!("{} is {}, not in review", t.id, t.status))
                .with_hint("`wt ready --review` lists what waits for an audit"),
        );
    }
    if forced {
        return Ok(());
    }
    match t.claimed_by.as_deref() {
        Some(h) if h == agent => Ok(()),
        Some(h) => Err(Error::refused(format!(
            "{} is being reviewed by {h}; only the auditor holding it may {verb} it",
            t.id
        ))),
        None => Err(
            Error::refused(format!("{} is not claimed for review", t.id))
                .with_hint(format!("claim it first: wt claim {} --agent AUDITOR", t.id)),
        ),
    }
}

fn write_file(path: &str, text: String) -> Edit {
    Edit::Write {
        path: path.to_string(),
        content: text.into_bytes(),
    }
}

/// What `wt pass` did.
#[derive(Debug, Clone)]
pub struct Passed {
    /// The ticket, done.
    pub ticket: Ticket,
    /// The containers above it that closed with it, nearest first.
    pub closed: Vec<Closed>,
}

/// `wt pass`: the audit passed; the ticket is done (refused while a ticket under it is not),
/// and the containers above it close when nothing under them is open any more.
pub fn pass(
    ws: &Workspace,
    query: &str,
    agent: &str,
    note: Option<&str>,
    force_reason: Option<&str>,
) -> Result<Written<Passed>> {
    if let Some(r) = force_reason {
        if r.trim().is_empty() {
            return Err(Error::invalid("--force needs a --reason"));
        }
    }
    ws.write(Reads::All, |snap| {
        let t = snap.resolve(query)?;
        check_auditor(t, agent, force_reason.is_some(), "pass")?;
        super::containers::refuse_open_children(snap, t, "passed")?;
        let now = clock::timestamp();
        let attempt = t.attempts + 1;
        let mut msg = format!("audit of attempt {attempt} passed");
        if let Some(r) = force_reason {
            msg.push_str(&format!(" (forced: {})", r.replace('\n', " ")));
        }
        if let Some(n) = note.filter(|n| !n.trim().is_empty()) {
            msg.push_str(": ");
            msg.push_str(n.trim());
        }
        let (fields, ticket) = crate::model::lease::release_as(t, Status::Done, &now);
        let text = super::set_fields(&ws.read_text(snap, &t.path)?, &fields)?;
        let text = journal::append(
            &text,
            journal::PROGRESS,
            &journal::progress_entry(&now, agent, None, &msg, &[]),
        )?;
        let mut message = Message::new("pass", format!("{} {}", t.id, quoted(&t.title)))
            .ticket(&t.id)
            .agent(Some(agent))
            .trailer("Wt-Attempt", attempt.to_string());
        if let Some(r) = force_reason {
            message = message.trailer("Wt-Forced", r);
        }
        if let Some(n) = note.filter(|n| !n.trim().is_empty()) {
            message.body = Some(n.trim().to_string());
        }
        let closing = super::containers::close_finished(ws, snap, &ticket, agent, &now)?;
        let mut edits = vec![write_file(&t.path, text)];
        edits.extend(closing.edits.iter().cloned());
        let message = closing.annotate(message);
        Ok(Outcome::Commit {
            edits,
            message,
            value: Passed {
                ticket,
                closed: closing.closed,
            },
        })
    })
}

/// What `wt fail` did.
#[derive(Debug, Clone)]
pub struct Failed {
    pub ticket: Ticket,
    /// Number of the amendment written.
    pub amendment: u32,
    pub escalated: bool,
    pub max_attempts: u32,
}

/// `wt fail`: the ticket after the failed audit.
#[derive(Debug, Clone, Serialize)]
pub struct FailReport {
    pub schema_version: SchemaVersion,
    #[serde(flatten)]
    pub ticket: TicketView,
    /// The number of the amendment written.
    pub amendment: u32,
    /// The failed attempts reached `max_attempts`: the ticket waits for a human (`wt reopen`).
    pub escalated: bool,
    pub max_attempts: u32,
    /// The commit on the state branch.
    pub commit: Option<String>,
}

impl FailReport {
    pub fn new(w: &Written<Failed>) -> FailReport {
        let f = &w.value;
        FailReport {
            schema_version: SchemaVersion,
            ticket: TicketView::of(&f.ticket),
            amendment: f.amendment,
            escalated: f.escalated,
            max_attempts: f.max_attempts,
            commit: w.commit.map(|x| x.to_string()),
        }
    }
}

/// `wt fail`: append an amendment, count the failed attempt, clear the claim; the ticket is
/// ready again, or `escalated` once its failed attempts reach `max_attempts`.
pub fn fail(
    ws: &Workspace,
    query: &str,
    agent: &str,
    amendment: &str,
    force_reason: Option<&str>,
) -> Result<Written<Failed>> {
    if amendment.trim().is_empty() {
        return Err(
            Error::invalid("an amendment needs text (-m TEXT or --file FILE)")
                .with_hint("say what the next attempt must do differently"),
        );
    }
    ws.write(Reads::All, |snap| {
        let t = snap.resolve(query)?;
        check_auditor(t, agent, force_reason.is_some(), "fail")?;
        let now = clock::timestamp();
        let text = ws.read_text(snap, &t.path)?;
        let body = frontmatter::split(&text)
            .map(|s| s.body)
            .map_err(|e| Error::invalid(e.to_string()))?;
        let number = journal::last_amendment_number(body) + 1;
        let attempt = t.attempts + 1;
        let max = snap.config.max_attempts;
        let escalated = max > 0 && attempt >= max;
        let status = if escalated {
            Status::Escalated
        } else {
            Status::Open
        };
        let (mut fields, mut ticket) = crate::model::lease::release_as(t, status, &now);
        fields.push(("attempts", Value::Int(i64::from(attempt))));
        ticket.attempts = attempt;
        let text = super::set_fields(&text, &fields)?;
        let text = journal::append(
            &text,
            journal::AMENDMENTS,
            &journal::amendment_entry(
                number,
                &now,
                agent,
                attempt,
                t.implemented_by.as_deref(),
                amendment,
            ),
        )?;
        let mut line = format!("audit of attempt {attempt} failed: amendment {number}");
        if escalated {
            line.push_str(&format!(
                "; escalated after {attempt} failed attempts (max_attempts {max})"
            ));
        }
        let text = journal::append(
            &text,
            journal::PROGRESS,
            &journal::progress_entry(&now, agent, None, &line, &[]),
        )?;
        let subject = if escalated {
            format!(
                "{} {}: amendment {number}, escalated after {attempt} failed attempts",
                t.id,
                quoted(&t.title)
            )
        } else if max > 0 {
            format!(
                "{} {}: amendment {number}, attempt {attempt} of {max}",
                t.id,
                quoted(&t.title)
            )
        } else {
            format!("{} {}: amendment {number}", t.id, quoted(&t.title))
        };
        let mut message = Message::new("fail", subject)
            .ticket(&t.id)
            .agent(Some(agent))
            .trailer("Wt-Attempt", attempt.to_string())
            .trailer("Wt-Amendment", number.to_string())
            .trailer("Wt-Status", status.as_str());
        if let Some(r) = force_reason {
            message = message.trailer("Wt-Forced", r);
        }
        Ok(Outcome::Commit {
            edits: vec![write_file(&t.path, text)],
            message,
            value: Failed {
                ticket,
                amendment: number,
                escalated,
                max_attempts: max,
            },
        })
    })
}

/// `wt reopen`: a human sends an escalated (or done, or in-review) ticket back to `open`.
/// Reopening an escalated ticket restarts its attempt count; amendments stay. The done
/// containers above it reopen in the same commit (see [`super::containers::reopen_above`]).
pub fn reopen(
    ws: &Workspace,
    query: &str,
    agent: &str,
    note: Option<&str>,
) -> Result<Written<super::containers::Opened>> {
    ws.write(Reads::All, |snap| {
        let t = snap.resolve(query)?;
        if !matches!(t.status, Status::Escalated | Status::Done | Status::Review) {
            return Err(Error::refused(format!(
                "{} is {}; only escalated, done or in-review tickets are reopened",
                t.id, t.status
            )));
        }
        let now = clock::timestamp();
        let (mut fields, mut ticket) = crate::model::lease::release_as(t, Status::Open, &now);
        let reset = t.status == Status::Escalated;
        if reset {
            fields.push(("attempts", Value::Int(0)));
            ticket.attempts = 0;
        }
        let text = super::set_fields(&ws.read_text(snap, &t.path)?, &fields)?;
        let mut line = format!("reopened (was {})", t.status);
        if reset {
            line.push_str(&format!(
                " after {} failed attempts; attempts start again",
                t.attempts
            ));
        }
        if let Some(n) = note.filter(|n| !n.trim().is_empty()) {
            line.push_str(": ");
            line.push_str(n.trim());
        }
        let text = journal::append(
            &text,
            journal::PROGRESS,
            &journal::progress_entry(&now, agent, None, &line, &[]),
        )?;
        let mut message = Message::new("reopen", format!("{} {}", t.id, quoted(&t.title)))
            .ticket(&t.id)
            .agent(Some(agent))
            .trailer("Wt-Was", t.status.as_str());
        if let Some(n) = note.filter(|n| !n.trim().is_empty()) {
            message.body = Some(n.trim().to_string());
        }
        let reopening = match &t.parent {
            Some(p) => super::containers::reopen_above(ws, snap, p, &t.id, Some(agent), &now)?,
            None => super::containers::Reopening::default(),
        };
        let message = reopening.annotate(message);
        let mut edits = vec![write_file(&t.path, text)];
        edits.extend(reopening.edits);
        Ok(Outcome::Commit {
            edits,
            message,
            value: super::containers::Opened {
                ticket,
                reopened: reopening.reopened,
            },
        })
    })
}

/// `wt approve`: the tickets approved now.
#[derive(Debug, Clone, Serialize)]
pub struct ApproveReport {
    pub schema_version: SchemaVersion,
    /// Empty when every ticket named was approved already.
    pub approved: Vec<TicketView>,
    /// The commit on the state branch; null when nothing was committed.
    pub commit: Option<String>,
}

impl ApproveReport {
    pub fn new(w: &Written<Vec<Ticket>>) -> ApproveReport {
        ApproveReport {
            schema_version: SchemaVersion,
            approved: w.value.iter().map(TicketView::of).collect(),
            commit: w.commit.map(|x| x.to_string()),
        }
    }
}

/// The error detail of an approval refused by `gates.approvers`.
#[derive(Debug, Clone, Serialize)]
pub struct ApproversDetail {
    /// Who tried to approve.
    pub agent: String,
    /// Who may.
    pub approvers: Vec<String>,
}

/// `wt approve`: record a human's approval of one or more gated tickets in one commit.
/// Tickets already approved are left as they are; a ticket without a gate is refused.
pub fn approve(ws: &Workspace, queries: &[String], agent: &str) -> Result<Written<Vec<Ticket>>> {
    if queries.is_empty() {
        return Err(Error::invalid("which ticket? give at least one ID"));
    }
    ws.write(Reads::All, |snap| {
        let approvers = &snap.config.gates.approvers;
        if !approvers.is_empty() && !approvers.iter().any(|a| a == agent) {
            return Err(Error::refused(format!(
                "{agent} may not approve: only {} may (config `gates.approvers`)",
                approvers.join(", ")
            ))
            .with_hint("ask one of them to run `wt approve`, or add the name to `gates.approvers` in .work/config.yaml")
            .with_detail(ApproversDetail {
                agent: agent.to_string(),
                approvers: approvers.clone(),
            }));
        }
        let mut todo: Vec<&Ticket> = Vec::new();
        for q in queries {
            let t = snap.resolve(q)?;
            if t.gate.is_none() {
                return Err(Error::refused(format!("{} has no gate to approve", t.id))
                    .with_hint("gates are set by `gate: approval` (config `gates.approval` or the plan's `Gate:` line)"));
            }
            if t.approved_by.is_none() && !todo.iter().any(|x| x.id == t.id) {
                todo.push(t);
            }
        }
        if todo.is_empty() {
            return Ok(Outcome::NoOp(Vec::new()));
        }
        let now = clock::timestamp();
        let mut edits = Vec::new();
        let mut out = Vec::new();
        for t in &todo {
            edits.push(super::edit_ticket(
                ws,
                snap,
                t,
                &[
                    ("approved_by", Value::Str(agent.to_string())),
                    ("approved_at", Value::Str(now.clone())),
                    ("updated", Value::Str(now.clone())),
                ],
            )?);
            let mut ticket = (*t).clone();
            ticket.approved_by = Some(agent.to_string());
            ticket.approved_at = Some(now.clone());
            ticket.updated = Some(now.clone());
            out.push(ticket);
        }
        let subject = match todo.as_slice() {
            [one] => format!("{} {}", one.id, quoted(&one.title)),
            many => format!(
                "{}: {}",
                crate::model::plural(many.len(), "ticket"),
                many.iter()
                    .map(|t| t.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let mut message = Message::new("approve", subject)
            .agent(Some(agent))
            .trailer("Wt-Approved-By", agent);
        for t in &todo {
            message = message.ticket(&t.id);
        }
        Ok(Outcome::Commit {
            edits,
            message,
            value: out,
        })
    })
}
