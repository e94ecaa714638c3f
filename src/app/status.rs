//! `wt status`: the one-screen overview after a crash — counts by status, who holds what and
//! since when, stale claims, escalations, gates waiting for a human, what finished last.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::Result;
use crate::model::clock;
use crate::model::ticket::{Kind, Status};
use crate::schedule::graph::Blocker;
use crate::store::history::Order;
use crate::workspace::{Snapshot, Workspace};

/// How many finished tickets the overview lists.
const LAST_FINISHED: usize = 5;
/// How far back the history walk for "finished last" goes.
const HISTORY_LIMIT: usize = 2000;

/// A claim in `wt status`.
#[derive(Debug, Clone, Serialize)]
pub struct Held {
    pub id: String,
    pub kind: Kind,
    pub title: String,
    pub status: Status,
    /// Who holds it.
    pub agent: String,
    /// When it was claimed.
    pub since: Option<String>,
    /// Seconds since the claim (None when `claimed_at` is missing or unreadable).
    pub age_secs: Option<i64>,
    pub stale: bool,
    /// When the claim's lease runs out (None: no expiry).
    pub lease_until: Option<String>,
}

/// A ticket waiting for a human (`wt reopen`) in `wt status`.
#[derive(Debug, Clone, Serialize)]
pub struct Escalated {
    pub id: String,
    pub title: String,
    /// Failed audits.
    pub attempts: u32,
    /// When it was last updated.
    pub since: Option<String>,
}

/// An unapproved gate in `wt status`.
#[derive(Debug, Clone, Serialize)]
pub struct Gate {
    pub id: String,
    pub kind: Kind,
    pub title: String,
    /// Open tickets that wait on this approval (under it or depending on it).
    pub waiting: usize,
}

/// A ticket finished lately (from the state branch's history) in `wt status`.
#[derive(Debug, Clone, Serialize)]
pub struct Finished {
    pub id: String,
    pub title: String,
    /// `done` or `pass`.
    pub verb: String,
    pub agent: Option<String>,
    /// The commit's time.
    pub at: String,
    pub commit: String,
}

/// `wt status`: one screen on the state of the work.
#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    pub schema_version: crate::app::report::SchemaVersion,
    /// The state branch and its tip.
    pub branch: String,
    pub tip: Option<String>,
    /// The time of the overview.
    pub now: String,
    /// Tickets read.
    pub total: usize,
    /// Tickets by status (every status is present).
    pub counts: BTreeMap<String, usize>,
    /// Open tickets of any kind that are ready now.
    pub ready: usize,
    /// Tickets in review that no auditor holds.
    pub awaiting_review: usize,
    pub held: Vec<Held>,
    /// A claim without lease expiry older than this counts as stale.
    pub stale_after_secs: i64,
    pub escalated: Vec<Escalated>,
    pub awaiting_approval: Vec<Gate>,
    /// The latest `done` and `pass` commits, newest first.
    pub finished_last: Vec<Finished>,
    /// Ticket files that could not be read.
    pub problems: usize,
    /// Tickets `wt run` loops are working (or were, when a run ended abruptly).
    pub loops: Vec<RunLoop>,
}

/// A ticket loop of `wt run`, from the run's state files (`<git dir>/wt/run/`).
#[derive(Debug, Clone, Serialize)]
pub struct RunLoop {
    pub id: String,
    /// The run's identity (the agent name its claims are under).
    pub run: String,
    /// Whether that run is alive now (false: it ended abruptly; `wt run` resumes it).
    pub alive: bool,
    /// The agent profile working it.
    pub agent: String,
    /// The last iteration started.
    pub iteration: u32,
    /// Why the last iteration did not finish it.
    pub last_outcome: Option<String>,
    pub worktree: String,
    /// Folder of its iteration logs.
    pub logs: String,
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// Is `blocker` (possibly through ancestors) an approval wait on `id`?
fn waits_on_gate(b: &Blocker, id: &str) -> bool {
    match b {
        Blocker::AwaitingApproval { id: g } => g == id,
        Blocker::Ancestor { because, .. } => waits_on_gate(because, id),
        _ => false,
    }
}

pub fn overview(ws: &Workspace, snap: &Snapshot, stale_after_secs: i64) -> Result<Overview> {
    let now = clock::now();
    let g = snap.graph()?;
    let mut counts: BTreeMap<String, usize> = Status::ALL
        .iter()
        .map(|s| (s.as_str().to_string(), 0))
        .collect();
    for t in &snap.tickets {
        *counts.entry(t.status.as_str().to_string()).or_default() += 1;
    }
    let ready = (0..snap.tickets.len()).filter(|&i| g.is_ready(i)).count();
    let awaiting_review = snap
        .tickets
        .iter()
        .filter(|t| t.status == Status::Review && t.claimed_by.is_none())
        .count();
    let mut held: Vec<Held> = snap
        .tickets
        .iter()
        .filter_map(|t| {
            let agent = t.claimed_by.clone()?;
            let age = t
                .claimed_at
                .as_deref()
                .and_then(parse_time)
                .map(|at| (now - at).num_seconds());
            Some(Held {
                id: t.id.clone(),
                kind: t.kind,
                title: t.title.clone(),
                status: t.status,
                agent,
                since: t.claimed_at.clone(),
                age_secs: age,
                // A lease that ran out is stale; a claim without a lease expiry (written
                // before leases, or with `--lease 0`) is stale once older than the limit.
                stale: t.is_stale(now)
                    || (t.claim_expires.is_none() && age.is_some_and(|a| a > stale_after_secs)),
                lease_until: t.claim_expires.clone(),
            })
        })
        .collect();
    held.sort_by(|a, b| a.since.cmp(&b.since).then(a.id.cmp(&b.id)));
    let mut escalated: Vec<Escalated> = snap
        .tickets
        .iter()
        .filter(|t| t.status == Status::Escalated)
        .map(|t| Escalated {
            id: t.id.clone(),
            title: t.title.clone(),
            attempts: t.attempts,
            since: t.updated.clone(),
        })
        .collect();
    escalated.sort_by(|a, b| a.since.cmp(&b.since).then(a.id.cmp(&b.id)));
    let blockers: Vec<Vec<Blocker>> = (0..snap.tickets.len())
        .map(|i| {
            if snap.tickets[i].status == Status::Open {
                g.blockers(i)
            } else {
                Vec::new()
            }
        })
        .collect();
    let mut awaiting_approval: Vec<Gate> = snap
        .tickets
        .iter()
        .filter(|t| t.awaits_approval())
        .map(|t| Gate {
            id: t.id.clone(),
            kind: t.kind,
            title: t.title.clone(),
            waiting: blockers
                .iter()
                .enumerate()
                .filter(|(i, bs)| {
                    snap.tickets[*i].id != t.id && bs.iter().any(|b| waits_on_gate(b, &t.id))
                })
                .count(),
        })
        .collect();
    awaiting_approval.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(Overview {
        schema_version: crate::app::report::SchemaVersion,
        branch: ws.branch.clone(),
        tip: snap.tip.map(|t| t.to_string()),
        now: clock::timestamp(),
        total: snap.tickets.len(),
        counts,
        ready,
        awaiting_review,
        held,
        stale_after_secs,
        escalated,
        awaiting_approval,
        finished_last: finished_last(ws, snap)?,
        problems: snap.problems.len(),
        loops: run_loops(ws),
    })
}

fn run_loops(ws: &Workspace) -> Vec<RunLoop> {
    let common = ws.store.common_dir();
    crate::app::run::state::all_tickets(common)
        .into_iter()
        .map(|(run, alive, st)| RunLoop {
            logs: crate::app::run::state::logs_dir(common, &st.id)
                .display()
                .to_string(),
            id: st.id,
            run,
            alive,
            agent: st.agent,
            iteration: st.iteration,
            last_outcome: st.outcomes.last().cloned(),
            worktree: st.worktree.display().to_string(),
        })
        .collect()
}

/// The latest commits that finished a ticket (`done` straight to done, or `pass`).
fn finished_last(ws: &Workspace, snap: &Snapshot) -> Result<Vec<Finished>> {
    let Some(tip) = snap.tip else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for c in ws
        .store
        .history(tip, None, Order::TopoTime)?
        .take(HISTORY_LIMIT)
    {
        let c = c?;
        let msg = c.message.as_str();
        let trailer = |k: &str| {
            msg.lines()
                .find_map(|l| l.strip_prefix(k).map(|v| v.trim().to_string()))
        };
        let Some(verb) = trailer("Wt-Verb:") else {
            continue;
        };
        let finished = match verb.as_str() {
            "pass" => true,
            "done" => trailer("Wt-Status:").as_deref() != Some(Status::Review.as_str()),
            _ => false,
        };
        if !finished {
            continue;
        }
        let Some(id) = trailer("Wt-Ticket:") else {
            continue;
        };
        let title = snap.get(&id).map(|t| t.title.clone()).unwrap_or_default();
        let at = DateTime::from_timestamp(c.time, 0)
            .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default();
        out.push(Finished {
            id,
            title,
            verb,
            agent: trailer("Wt-Agent:"),
            at,
            commit: c.id.to_string(),
        });
        if out.len() >= LAST_FINISHED {
            break;
        }
    }
    Ok(out)
}

/// `90s`, `30m`, `2h`, `1d` (or plain seconds) as seconds.
pub fn parse_duration(s: &str) -> std::result::Result<i64, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (e.g. 90s, 30m, 2h, 1d)"))?;
    let mult = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return Err(format!("`{s}`: unknown unit `{unit}` (s, m, h or d)")),
    };
    Ok(n * mult)
}

/// `3d4h`, `12m`, `40s`: a short age.
pub fn short_age(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86400 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{}h", s / 86400, (s % 86400) / 3600),
    }
}

/// [`overview`] at the state branch's tip, with notes for the ticket files left out.
pub fn status(
    ws: &Workspace,
    stale_after_secs: i64,
) -> Result<crate::app::report::Reported<Overview>> {
    let snap = ws.snapshot()?;
    let o = overview(ws, &snap, stale_after_secs)?;
    Ok(crate::app::report::Reported::new(o).skipping(&snap.problems))
}
