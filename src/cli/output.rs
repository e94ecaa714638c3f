//! Text rendering shared by the verbs: ticket lines and stderr notes.

use crate::app::containers::ClosedView;
use crate::app::report::{Note, TicketView};
use crate::model::text::one_line;
use crate::model::ticket::Status;

/// One line for a ticket: `J-7f3ak2m9  P2  open         Add login form  (agent-2)`.
pub fn ticket_line(t: &TicketView) -> String {
    let mut s = String::new();
    push_ticket_line(&mut s, t);
    s
}

/// `s` then spaces up to `width` characters (as `format!("{s:<width$}")` pads).
fn push_padded(out: &mut String, s: &str, width: usize) {
    out.push_str(s);
    let chars = if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    };
    const SPACES: &str = "                ";
    let mut pad = width.saturating_sub(chars);
    while pad > 0 {
        let n = pad.min(SPACES.len());
        out.push_str(&SPACES[..n]);
        pad -= n;
    }
}

/// [`ticket_line`] appended to `out`, written piece by piece (a list of 10,000 tickets
/// spent most of its rendering in the formatting machinery).
fn push_ticket_line(out: &mut String, t: &TicketView) {
    push_padded(out, &t.id, 10);
    out.push_str("  P");
    if t.priority < 10 {
        out.push(char::from(b'0' + t.priority));
    } else {
        out.push_str(&t.priority.to_string());
    }
    out.push_str("  ");
    push_padded(out, t.status.as_str(), 11);
    out.push_str("  ");
    out.push_str(&t.title);
    if let Some(by) = &t.claimed_by {
        // IDs and titles are one line by construction (a ticket with a control character in
        // either is not read); an agent name may hold anything.
        out.push_str("  (");
        out.push_str(&one_line(by));
        out.push_str(if t.stale { ", stale)" } else { ")" });
    }
}

/// One [`ticket_line`] per ticket, each ending in a newline.
pub fn ticket_lines<'a>(ts: impl IntoIterator<Item = &'a TicketView>) -> String {
    let ts = ts.into_iter();
    let mut out = String::with_capacity(ts.size_hint().0 * 64);
    for t in ts {
        push_ticket_line(&mut out, t);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The line as `format!` pads it (how it was written before it was written by hand).
    fn formatted(t: &TicketView) -> String {
        let mut s = format!(
            "{:<10}  P{}  {:<11}  {}",
            t.id,
            t.priority,
            t.status.as_str(),
            t.title
        );
        if let Some(by) = &t.claimed_by {
            let by = one_line(by);
            if t.stale {
                s.push_str(&format!("  ({by}, stale)"));
            } else {
                s.push_str(&format!("  ({by})"));
            }
        }
        s
    }

    #[test]
    fn a_ticket_line_pads_by_characters_as_format_does() {
        let base = TicketView::of(&crate::model::ticket::Ticket::default());
        let mut cases = Vec::new();
        for id in [
            "J-7f3ak2m9",
            "T-1",
            "",
            "P-ünïcödé",
            "J-0123456789abc",
            "T-éééééééééé",
        ] {
            for status in Status::ALL {
                for (priority, by, stale) in [
                    (2, None, false),
                    (0, Some("agent-2"), false),
                    (4, Some("a\tb\nc"), true),
                    (17, Some("x"), true),
                    (255, None, true),
                ] {
                    let mut t = base.clone();
                    t.id = id.into();
                    t.status = status;
                    t.priority = priority;
                    t.claimed_by = by.map(Into::into);
                    t.stale = stale;
                    t.title = format!("Title {id} ✓");
                    cases.push(t);
                }
            }
        }
        let mut want = String::new();
        for t in &cases {
            assert_eq!(ticket_line(t), formatted(t));
            want.push_str(&formatted(t));
            want.push('\n');
        }
        assert_eq!(ticket_lines(&cases), want);
    }
}
