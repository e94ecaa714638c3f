//! Rendering tickets for people (aligned lines) and agents (JSON objects).

use crate::model::ticket::Ticket;
use serde_json::Value;

/// The JSON object for a ticket (every list command returns an array of these).
pub fn ticket_json(t: &Ticket) -> Value {
    serde_json::to_value(TicketJson::new(t, crate::model::clock::now())).unwrap_or(Value::Null)
}

/// A ticket as JSON. Serialized straight to text for lists of thousands (no `Value` per
/// ticket), or into a [`Value`] by [`ticket_json`]. Fields in key order, the order a
/// `Value`'s map prints them, so both print the same text (tested through `wt --json list`).
#[derive(serde::Serialize)]
pub struct TicketJson<'a> {
    approved_by: &'a Option<String>,
    artifacts: &'a [String],
    attempts: u32,
    claim_expires: &'a Option<String>,
    claimed_at: &'a Option<String>,
    claimed_by: &'a Option<String>,
    created: &'a Option<String>,
    depends_on: &'a [String],
    files: &'a [String],
    gate: &'a Option<String>,
    id: &'a str,
    implemented_by: &'a Option<String>,
    kind: crate::model::ticket::Kind,
    labels: &'a [String],
    order: Option<u32>,
    parent: &'a Option<String>,
    path: &'a str,
    priority: u8,
    stale: bool,
    status: crate::model::ticket::Status,
    title: &'a str,
    updated: &'a Option<String>,
}

impl<'a> TicketJson<'a> {
    pub fn new(t: &'a Ticket, now: chrono::DateTime<chrono::Utc>) -> TicketJson<'a> {
        TicketJson {
            approved_by: &t.approved_by,
            artifacts: &t.artifacts,
            attempts: t.attempts,
            claim_expires: &t.claim_expires,
            claimed_at: &t.claimed_at,
            claimed_by: &t.claimed_by,
            created: &t.created,
            depends_on: &t.depends_on,
            files: &t.files,
            gate: &t.gate,
            id: &t.id,
            implemented_by: &t.implemented_by,
            kind: t.kind,
            labels: &t.labels,
            order: t.order,
            parent: &t.parent,
            path: &t.path,
            priority: t.priority,
            stale: t.is_stale(now),
            status: t.status,
            title: &t.title,
            updated: &t.updated,
        }
    }
}

/// A JSON array of tickets as pretty text, the way `--json` prints a `Value` of
/// [`ticket_json`]s.
pub fn tickets_json_text<'a>(ts: impl IntoIterator<Item = &'a Ticket>) -> String {
    let now = crate::model::clock::now();
    let list: Vec<TicketJson<'_>> = ts.into_iter().map(|t| TicketJson::new(t, now)).collect();
    serde_json::to_string_pretty(&list).unwrap_or_else(|_| "null".into())
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
        if t.is_stale(crate::model::clock::now()) {
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
pub fn skipped_notes(problems: &[crate::model::ticket::Problem]) -> Vec<String> {
    problems
        .iter()
        .map(|p| format!("warning: skipped unreadable ticket: {p}"))
        .collect()
}

/// Notes for warnings returned by a write.
pub fn warning_notes(ws: &[String]) -> Vec<String> {
    ws.iter().map(|w| format!("warning: {w}")).collect()
}
