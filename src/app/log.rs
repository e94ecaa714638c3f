//! `wt log <ID>`: a ticket's history, read from git.

use serde::Serialize;

use crate::error::Result;
use crate::model::ticket::Ticket;
use crate::store::history::Order;
use crate::store::Oid;
use crate::workspace::Workspace;

/// One commit in a ticket's history.
#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    pub commit: String,
    /// The commit's time.
    pub date: String,
    /// The commit's author name.
    pub author: String,
    pub subject: String,
    /// The `Wt-Verb` trailer (None: not a wt commit).
    pub verb: Option<String>,
    /// The `Wt-Agent` trailer.
    pub agent: Option<String>,
}

/// Commits on the state branch that name the ticket in a trailer or change its file.
pub fn log(ws: &Workspace, tip: Option<Oid>, t: &Ticket) -> Result<Vec<LogEntry>> {
    let Some(tip) = tip else { return Ok(vec![]) };
    let needle = format!("Wt-Ticket: {}", t.id);
    let mut out = Vec::new();
    for c in ws.store.history(tip, None, Order::TopoTime)? {
        let c = c?;
        let msg = c.message.as_str();
        let named = msg.lines().any(|l| l.trim() == needle);
        let touched = if named {
            true
        } else {
            let here = ws.store.blob_at(c.id, &t.path)?;
            let before = match c.parents.first() {
                Some(p) => ws.store.blob_at(*p, &t.path)?,
                None => None,
            };
            here != before
        };
        if !touched {
            continue;
        }
        let trailer = |k: &str| {
            msg.lines()
                .find_map(|l| l.strip_prefix(k).map(|v| v.trim().to_string()))
        };
        let date = chrono::DateTime::from_timestamp(c.time, 0)
            .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default();
        out.push(LogEntry {
            commit: c.id.to_string(),
            date,
            author: c.author.clone(),
            subject: c.summary.clone(),
            verb: trailer("Wt-Verb:"),
            agent: trailer("Wt-Agent:"),
        });
    }
    Ok(out)
}

/// `wt log`: a ticket's history.
#[derive(Debug, Clone, Serialize)]
pub struct LogReport {
    pub schema_version: crate::app::report::SchemaVersion,
    /// The commits that name the ticket or change its file, newest first.
    pub entries: Vec<LogEntry>,
}

/// The history of ticket `query` (an ID or unique prefix) on the state branch.
pub fn log_of(ws: &Workspace, query: &str) -> Result<LogReport> {
    let snap = ws.snapshot()?;
    let t = snap.resolve(query)?;
    Ok(LogReport {
        schema_version: crate::app::report::SchemaVersion,
        entries: log(ws, snap.tip, t)?,
    })
}

/// The first-parent history of `branch`, newest first, as `<short id> <subject>` lines (at
/// most `limit`): what `git log --first-parent --oneline` prints.
pub fn first_parent_subjects(ws: &Workspace, branch: &str, limit: usize) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut cur = ws.store.branch_tip(branch)?;
    while let Some(id) = cur {
        if out.len() >= limit {
            break;
        }
        let c = ws.store.commit_info(id)?;
        let sha = id.to_string();
        out.push(format!("{} {}", &sha[..sha.len().min(7)], c.summary));
        cur = c.parents.first().copied();
    }
    Ok(out)
}
