//! Text rendering shared by the verbs: ticket lines and stderr notes.

use crate::app::containers::ClosedView;
use crate::app::report::{Note, TicketView};
use crate::model::text::one_line;
use crate::model::ticket::Status;

/// One line for a ticket: `J-7f3ak2m9  P2  open         Add login form  (agent-2)`.
pub fn ticket_line(t: &TicketView) -> String {
    let mut s = format!(
        "{:<10}  P{}  {:<11}  {}",
        t.id,
        t.priority,
        t.status.as_str(),
        t.title
    );
    if let Some(by) = &t.claimed_by {
        // IDs and titles are one line by construction (a ticket with a control character in
        // either is not read); an agent name may hold anything.
        let by = one_line(by);
        if t.stale {
            s.push_str(&format!("  ({by}, stale)"));
        } else {
            s.push_str(&format!("  ({by})"));
        }
    }
    s
}

/// One [`ticket_line`] per ticket, each ending in a newline.
pub fn ticket_lines<'a>(ts: impl IntoIterator<Item = &'a TicketView>) -> String {
    let mut out = String::new();
    for t in ts {
        out.push_str(&ticket_line(t));
        out.push('\n');
    }
    out
}

/// The stderr lines for a report's notes.
pub fn note_lines(notes: &[Note]) -> Vec<String> {
    notes
        .iter()
        .map(|n| match n {
            Note::Skipped(p) => format!(
                "warning: skipped unreadable ticket: {}",
                one_line(&p.to_string())
            ),
            Note::Warning(w) => format!("warning: {w}"),
        })
        .collect()
}

/// Notes for warnings returned by a write.
pub fn warning_notes(ws: &[String]) -> Vec<String> {
    ws.iter().map(|w| format!("warning: {w}")).collect()
}

/// A line per container a write closed (or sent to review), each starting with a newline:
/// `closed P-… Phase 1 (all 3 jobs done)`.
pub fn closed_lines(closed: &[ClosedView]) -> String {
    let mut out = String::new();
    for c in closed {
        let what = match c.status {
            Status::Review => "ready for review:",
            _ => "closed",
        };
        out.push_str(&format!("\n{what} {} {} ({})", c.id, c.title, c.reason));
    }
    out
}

/// A line per container that reopened with a write: `reopened P-… Phase 1 (T-… is open under
/// it)`.
pub fn reopened_lines_of(reopened: &[ClosedView]) -> Vec<String> {
    reopened
        .iter()
        .map(|c| format!("reopened {} {} ({})", c.id, c.title, c.reason))
        .collect()
}

/// [`reopened_lines_of`] for a write's value.
pub fn reopened_lines(reopened: &[crate::app::containers::Reopened]) -> Vec<String> {
    let views: Vec<ClosedView> = reopened.iter().map(ClosedView::reopened).collect();
    reopened_lines_of(&views)
}
