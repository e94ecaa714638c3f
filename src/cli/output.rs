//! Rendering tickets for people (aligned lines) and agents (JSON objects).

use serde_json::{json, Value};
use wt::ticket::Ticket;

/// The JSON object for a ticket (every list command returns an array of these).
pub fn ticket_json(t: &Ticket) -> Value {
    json!({
        "id": t.id,
        "kind": t.kind,
        "title": t.title,
        "status": t.status,
        "priority": t.priority,
        "parent": t.parent,
        "depends_on": t.depends_on,
        "claimed_by": t.claimed_by,
        "claimed_at": t.claimed_at,
        "claim_expires": t.claim_expires,
        "stale": t.is_stale(wt::clock::now()),
        "created": t.created,
        "updated": t.updated,
        "files": t.files,
        "artifacts": t.artifacts,
        "labels": t.labels,
        "attempts": t.attempts,
        "implemented_by": t.implemented_by,
        "gate": t.gate,
        "approved_by": t.approved_by,
        "order": t.order,
        "path": t.path,
    })
}

/// One line for a ticket: `J-7f3ak2m9  P2  open         Add login form  (agent-2)`.
pub fn ticket_line(t: &Ticket) -> String {
    let mut s = format!(
        "{:<10}  P{}  {:<11}  {}",
        t.id,
        t.priority,
        t.status.as_str(),
        t.title
    );
    if let Some(by) = &t.claimed_by {
        if t.is_stale(wt::clock::now()) {
            s.push_str(&format!("  ({by}, stale)"));
        } else {
            s.push_str(&format!("  ({by})"));
        }
    }
    s
}

pub fn ticket_lines<'a>(ts: impl IntoIterator<Item = &'a Ticket>) -> String {
    let mut out = String::new();
    for t in ts {
        out.push_str(&ticket_line(t));
        out.push('\n');
    }
    out
}

/// Stderr notes for tickets that could not be read (they are skipped, not fatal).
pub fn skipped_notes(problems: &[wt::ticket::Problem]) -> Vec<String> {
    problems
        .iter()
        .map(|p| format!("warning: skipped unreadable ticket: {p}"))
        .collect()
}

/// Notes for warnings returned by a write.
pub fn warning_notes(ws: &[String]) -> Vec<String> {
    ws.iter().map(|w| format!("warning: {w}")).collect()
}
