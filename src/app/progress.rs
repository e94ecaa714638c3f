//! `wt progress <ID> MESSAGE [--files …]`: append a timestamped entry to a ticket's
//! `## Progress` section (append-only; earlier entries are never rewritten).

use serde::Serialize;

use super::report::{SchemaVersion, TicketView};
use crate::error::{Error, Result};
use crate::model::clock;
use crate::model::frontmatter::Value;
use crate::model::journal;
use crate::model::ticket::Ticket;
use crate::store::Edit;
use crate::workspace::{quoted, Message, Outcome, Reads, Workspace, Written};

/// Append one progress entry by `agent`; it records the attempt in progress
/// (`attempts + 1`).
pub fn progress(
    ws: &Workspace,
    query: &str,
    agent: &str,
    message: &str,
    files: &[String],
) -> Result<Written<Ticket>> {
    if message.trim().is_empty() {
        return Err(Error::invalid("a progress entry needs a message"));
    }
    ws.write(Reads::All, |snap| {
        let t = snap.resolve(query)?;
        let now = clock::timestamp();
        let attempt = t.attempts + 1;
        let text = super::set_fields(
            &ws.read_text(snap, &t.path)?,
            &[("updated", Value::Str(now.clone()))],
        )?;
        let text = journal::append(
            &text,
            journal::PROGRESS,
            &journal::progress_entry(&now, agent, Some(attempt), message, files),
        )?;
        let mut ticket = t.clone();
        ticket.updated = Some(now);
        let mut msg = Message::new("progress", format!("{} {}", t.id, quoted(&t.title)))
            .ticket(&t.id)
            .agent(Some(agent))
            .trailer("Wt-Attempt", attempt.to_string());
        msg.body = Some(message.trim().to_string());
        Ok(Outcome::Commit {
            edits: vec![Edit::Write {
                path: t.path.clone(),
                content: text.into_bytes(),
            }],
            message: msg,
            value: ticket,
        })
    })
}

/// `wt progress`: the ticket after the entry was logged.
#[derive(Debug, Clone, Serialize)]
pub struct ProgressReport {
    pub schema_version: SchemaVersion,
    #[serde(flatten)]
    pub ticket: TicketView,
    /// The attempt the entry was logged for (failed audits + 1).
    pub attempt: u32,
    /// The commit on the state branch.
    pub commit: Option<String>,
}

impl ProgressReport {
    pub fn new(w: &Written<Ticket>) -> ProgressReport {
        ProgressReport {
            schema_version: SchemaVersion,
            ticket: TicketView::of(&w.value),
            attempt: w.value.attempts + 1,
            commit: w.commit.map(|x| x.to_string()),
        }
    }
}
