//! Containers (a phase-spec, a job with tasks) and the tickets under them.
//!
//! - A container never becomes done while anything under it is not: `wt done` and `wt pass`
//!   refuse, naming what is open ([`refuse_open_children`]).
//! - When the last open ticket under a container becomes done, the container closes in the
//!   same commit ([`close_finished`]), and so on upward: the last task closes its job, which
//!   closes its phase-spec. Unless the container has work of its own:
//!   - it is claimed: its holder finishes it (`wt done`), with the usual evidence checks;
//!   - it has unticked acceptance criteria, or `artifacts` to check: it stays open, and is
//!     ready for someone to tick them and run `wt done`;
//!   - the config sends it to an auditor (`review: true`, a job): it goes to `review`, with
//!     `implemented_by` the agent whose work closed it.
//!
//! The commit says what closed and why: its subject ends "closing J-…, P-…", its body has a
//! line per container and a `Wt-Closed: J-… (all 4 tasks done)` trailer (`Wt-Review:` for one
//! sent to review).
//!
//! The other way round: when open work comes under a done container (`wt new --parent` under
//! it, `wt reopen` of a done ticket under it, an import that adds a ticket to it), the
//! containers above that are done (or in review) reopen in the same commit
//! ([`reopen_above`]), as a closed container reopens when work is added to it: the subject
//! ends "reopening P-…", the body has a line per container, and a
//! `Wt-Reopened: P-… (T-… is open under it)` trailer. `wt check` flags a done container with
//! open work under it (a tree edited by hand).

use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::criteria;
use crate::model::journal;
use crate::model::ticket::{Kind, Status, Ticket};
use crate::store::Edit;
use crate::workspace::{quoted, Child, Message, Snapshot, Workspace};

/// A container that closed (or went to review) because everything under it was done.
#[derive(Debug, Clone)]
pub struct Closed {
    /// The container as it is after the commit.
    pub ticket: Ticket,
    /// Why, e.g. "all 4 tasks done".
    pub reason: String,
}

/// How a closed container is shown in reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClosedView {
    pub id: String,
    pub kind: Kind,
    pub title: String,
    /// `done`, or `review` when the config sends it to an auditor.
    pub status: Status,
    /// Why it closed, e.g. "all 4 tasks done".
    pub reason: String,
}

impl ClosedView {
    /// A container that reopened (`status` open, `reason` e.g. "T-… is open under it").
    pub fn reopened(c: &Reopened) -> ClosedView {
        ClosedView {
            id: c.ticket.id.clone(),
            kind: c.ticket.kind,
            title: c.ticket.title.clone(),
            status: c.ticket.status,
            reason: c.reason.clone(),
        }
    }

    pub fn of(c: &Closed) -> ClosedView {
        ClosedView {
            id: c.ticket.id.clone(),
            kind: c.ticket.kind,
            title: c.ticket.title.clone(),
            status: c.ticket.status,
            reason: c.reason.clone(),
        }
    }
}

/// What finishing a ticket does to the containers above it.
#[derive(Debug, Clone, Default)]
pub struct Closing {
    /// The edits of the containers' files.
    pub edits: Vec<Edit>,
    /// The containers closed (or sent to review), nearest first.
    pub closed: Vec<Closed>,
    /// Why the walk upward stopped at a container whose tickets are all done now, if it did
    /// (e.g. "J-… stays open: 2 unticked acceptance criteria").
    pub stays: Option<String>,
}

impl Closing {
    /// Add what closed to a commit message: the subject, a body line each, trailers.
    pub fn annotate(&self, mut message: Message) -> Message {
        if self.closed.is_empty() && self.stays.is_none() {
            return message;
        }
        if !self.closed.is_empty() {
            let ids: Vec<&str> = self.closed.iter().map(|c| c.ticket.id.as_str()).collect();
            message.subject = format!("{}, closing {}", message.subject, ids.join(", "));
        }
        let mut body: Vec<String> = message.body.take().into_iter().collect();
        for c in &self.closed {
            let t = &c.ticket;
            let what = match t.status {
                Status::Review => "ready for review",
                _ => "closed",
            };
            body.push(format!(
                "{} {} {what}: {}.",
                t.id,
                quoted(&t.title),
                c.reason
            ));
            let key = match t.status {
                Status::Review => "Wt-Review",
                _ => "Wt-Closed",
            };
            message = message
                .ticket(&t.id)
                .trailer(key, format!("{} ({})", t.id, c.reason));
        }
        if let Some(s) = &self.stays {
            body.push(format!("{s}."));
        }
        message.body = Some(body.join("\n"));
        message
    }
}

/// A container that reopened because open work came under it.
#[derive(Debug, Clone)]
pub struct Reopened {
    /// The container as it is after the commit (open).
    pub ticket: Ticket,
    /// Why, e.g. "T-… is open under it".
    pub reason: String,
}

/// A ticket open after a write (`wt new`, `wt reopen`) and the containers above it that
/// reopened with it.
#[derive(Debug, Clone)]
pub struct Opened {
    pub ticket: Ticket,
    /// Nearest first; empty when none was done.
    pub reopened: Vec<Reopened>,
}

/// What putting open work under a container does to the containers above it.
#[derive(Debug, Clone, Default)]
pub struct Reopening {
    /// The edits of the containers' files.
    pub edits: Vec<Edit>,
    /// The containers reopened, nearest first.
    pub reopened: Vec<Reopened>,
}

impl Reopening {
    /// Add what reopened to a commit message: the subject, a body line each, trailers.
    pub fn annotate(&self, mut message: Message) -> Message {
        if self.reopened.is_empty() {
            return message;
        }
        let ids: Vec<&str> = self.reopened.iter().map(|c| c.ticket.id.as_str()).collect();
        message.subject = format!("{}, reopening {}", message.subject, ids.join(", "));
        let mut body: Vec<String> = message.body.take().into_iter().collect();
        for c in &self.reopened {
            let t = &c.ticket;
            body.push(format!(
                "{} {} reopened: {}.",
                t.id,
                quoted(&t.title),
                c.reason
            ));
            message = message
                .ticket(&t.id)
                .trailer("Wt-Reopened", format!("{} ({})", t.id, c.reason));
        }
        message.body = Some(body.join("\n"));
        message
    }
}

/// Open work (`child`, not done) is coming under `parent` in this commit: reopen `parent` and
/// every container above it that is done or in review, as the module docs say. `agent` is
/// who did it, `now` the commit's time.
pub fn reopen_above(
    ws: &Workspace,
    snap: &Snapshot,
    parent: &str,
    child: &str,
    agent: Option<&str>,
    now: &str,
) -> Result<Reopening> {
    let mut out = Reopening::default();
    let mut seen: Vec<String> = Vec::new();
    let mut next = Some(parent.to_string());
    while let Some(id) = next.take() {
        if seen.contains(&id) {
            break;
        }
        seen.push(id.clone());
        let Some(pt) = snap.tickets.iter().find(|t| t.id == id) else {
            break;
        };
        next = pt.parent.clone();
        if !matches!(pt.status, Status::Done | Status::Review) {
            continue;
        }
        let why = format!("{child} is open under it");
        let (fields, ticket) = crate::model::lease::release_as(pt, Status::Open, now);
        let text = super::set_fields(&ws.read_text(snap, &pt.path)?, &fields)?;
        let text = journal::append(
            &text,
            journal::PROGRESS,
            &journal::progress_entry(
                now,
                agent.unwrap_or("wt"),
                None,
                &format!("reopened (was {}): {why}", pt.status),
                &[],
            ),
        )?;
        out.edits.push(Edit::Write {
            path: pt.path.clone(),
            content: text.into_bytes(),
        });
        out.reopened.push(Reopened {
            ticket,
            reason: why,
        });
    }
    Ok(out)
}

/// The done containers with a ticket under them that is not done, each with the first such
/// ticket: what `wt check` flags.
pub fn done_above_open(g: &crate::schedule::graph::Graph<'_>) -> Vec<(usize, usize)> {
    (0..g.tickets.len())
        .filter(|&i| g.tickets[i].status == Status::Done)
        // Complete: everything under it is done too (no walk needed).
        .filter(|&i| !g.is_complete(i))
        .filter_map(|i| g.open_descendants_of(i).first().map(|&c| (i, c)))
        .collect()
}

/// Refuse to finish `t` while a ticket under it is not done, naming them.
pub fn refuse_open_children(snap: &Snapshot, t: &Ticket, verb: &str) -> Result<()> {
    let open = snap.open_descendants(t)?;
    if open.is_empty() {
        return Ok(());
    }
    const SHOWN: usize = 10;
    let mut lines: Vec<String> = open
        .iter()
        .take(SHOWN)
        .map(|c| format!("{} {} ({})", c.id, quoted(&c.title), c.status))
        .collect();
    if open.len() > SHOWN {
        lines.push(format!("… and {} more", open.len() - SHOWN));
    }
    Err(Error::refused(format!(
        "{} cannot be {verb}: {} under it {} not done:\n  {}",
        t.id,
        count(open.len(), "ticket"),
        if open.len() == 1 { "is" } else { "are" },
        lines.join("\n  ")
    ))
    .with_hint(format!(
        "finish those first (`wt list --parent {}`); {} closes itself when the last one is done",
        t.id, t.id
    )))
}

/// "1 task", "4 tasks".
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Why a container closes: "all 4 tasks done", "its only job done".
fn reason(children: &[Child]) -> String {
    let kind = children.first().map(|c| c.kind);
    let noun = match kind {
        Some(k) if children.iter().all(|c| c.kind == k) => k.as_str(),
        _ => "ticket",
    };
    match children.len() {
        1 => format!("its only {noun} done"),
        n => format!("all {n} {noun}s done"),
    }
}

/// `finished` (a ticket of `snap`, as it is after this commit: done) may have been the last
/// open ticket under its parent: close the containers above it whose tickets are now all
/// done, as the module docs say. `agent` is who finished it; `now` the commit's time.
pub fn close_finished(
    ws: &Workspace,
    snap: &Snapshot,
    finished: &Ticket,
    agent: &str,
    now: &str,
) -> Result<Closing> {
    let mut out = Closing::default();
    if finished.status != Status::Done {
        return Ok(out);
    }
    let lineage = snap.lineage(finished)?;
    let mut done_now = vec![lineage.key];
    for above in &lineage.above {
        let (p, pt) = (above.key, above.ticket);
        if pt.status == Status::Done || done_now.contains(&p) {
            break;
        }
        if !above
            .children
            .iter()
            .all(|c| done_now.contains(&c.key) || c.complete)
        {
            break;
        }
        let why = reason(&above.children);
        if let Some(holder) = &pt.claimed_by {
            out.stays = Some(format!(
                "{} {}: {why}; {holder} holds it and finishes it (`wt done {}`)",
                pt.id,
                quoted(&pt.title),
                pt.id
            ));
            break;
        }
        if !matches!(pt.status, Status::Open | Status::InProgress) {
            break;
        }
        let text = ws.read_text(snap, &pt.path)?;
        let unticked = criteria::unticked(&text);
        if !unticked.is_empty() {
            let numbers: Vec<String> = unticked.iter().map(|c| c.number.to_string()).collect();
            out.stays = Some(format!(
                "{} {}: {why}; it stays open for its {} (`wt tick {} {}`, then `wt done {}`)",
                pt.id,
                quoted(&pt.title),
                match unticked.len() {
                    1 => "unticked acceptance criterion".to_string(),
                    n => format!("{n} unticked acceptance criteria"),
                },
                pt.id,
                numbers.join(" "),
                pt.id
            ));
            break;
        }
        if !pt.artifacts.is_empty() {
            out.stays = Some(format!(
                "{} {}: {why}; it stays open for its artifacts (`wt done {}` checks them)",
                pt.id,
                quoted(&pt.title),
                pt.id
            ));
            break;
        }
        let to_review = snap.config.reviews(pt.kind);
        let status = if to_review {
            Status::Review
        } else {
            Status::Done
        };
        let (mut fields, mut ticket) = crate::model::lease::release_as(pt, status, now);
        if to_review {
            fields.push((
                "implemented_by",
                crate::model::frontmatter::Value::Str(agent.to_string()),
            ));
            ticket.implemented_by = Some(agent.to_string());
        }
        let text = super::set_fields(&text, &fields)?;
        let line = if to_review {
            format!("{why}: ready for review")
        } else {
            format!("closed: {why}")
        };
        let text = journal::append(
            &text,
            journal::PROGRESS,
            &journal::progress_entry(now, agent, None, &line, &[]),
        )?;
        out.edits.push(Edit::Write {
            path: pt.path.clone(),
            content: text.into_bytes(),
        });
        out.closed.push(Closed {
            ticket,
            reason: why,
        });
        if to_review {
            break;
        }
        done_now.push(p);
    }
    Ok(out)
}
