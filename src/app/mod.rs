//! The application layer: one module per verb family, independent of the command line. Each function reads a snapshot or
//! makes one commit through [`Workspace::write`] and returns data the CLI renders.
//!
//! Every verb's `--json` document is the serialization of a report defined here, in the
//! module of its verb family (see [`report`] for what they share, and
//! docs/reference/json.md for each document).

pub mod batch;
pub mod check;
pub mod ci;
pub mod claim;
pub mod configured;
pub mod containers;
pub mod context;
pub mod demo;
pub mod dep;
pub mod doctor;
pub mod done;
pub mod graph;
pub mod hooks;
pub mod import;
pub mod import_from;
pub mod init;
pub mod leftovers;
pub mod log;
pub mod new;
pub mod onboarding;
pub mod paths;
pub mod plan;
pub mod progress;
pub mod read;
pub mod ready;
pub mod report;
pub mod review;
pub mod run;
pub mod status;
pub mod sync;
pub mod tick;

use crate::error::{Error, Result};
use crate::model::frontmatter::Value;
use crate::model::ticket::Ticket;
use crate::store::Edit;
use crate::workspace::{Snapshot, Workspace};

/// Who is acting: `--agent`, else `WT_AGENT`, else git's user.name.
pub fn agent_name(ws: &crate::store::Store, explicit: Option<&str>) -> Result<String> {
    let name = explicit
        .map(str::to_string)
        .or_else(|| std::env::var("WT_AGENT").ok())
        .filter(|s| !s.trim().is_empty())
        .or_else(|| ws.config_string("user.name"))
        .map(|s| s.trim().to_string());
    match name {
        Some(n) if crate::model::text::first_unsafe(&n).is_some() => Err(Error::invalid(format!(
            "agent name `{}` contains a control character",
            crate::model::text::one_line(&n)
        ))
        .with_hint("an agent name is one line of printable text")),
        Some(n) => Ok(n),
        None => Err(Error::invalid("who is acting? no agent name")
            .with_hint("pass --agent NAME, set WT_AGENT, or set git config user.name")),
    }
}

/// [`agent_name`] in the repository of `ws`.
pub fn acting_agent(ws: &Workspace, explicit: Option<&str>) -> Result<String> {
    agent_name(&ws.store, explicit)
}

/// Set `fields` on a ticket's file text, one line each. Claim fields go through
/// [`crate::model::lease::set_fields`]: they stay together, and clearing one a file lacks is a no-op.
pub fn set_fields(text: &str, fields: &[(&str, Value)]) -> Result<String> {
    crate::model::lease::set_fields(text, fields)
}

/// An edit that rewrites `ticket`'s file with `fields` changed.
pub fn edit_ticket(
    ws: &Workspace,
    snap: &Snapshot,
    ticket: &Ticket,
    fields: &[(&str, Value)],
) -> Result<Edit> {
    let text = ws.read_text(snap, &ticket.path)?;
    Ok(Edit::Write {
        path: ticket.path.clone(),
        content: set_fields(&text, fields)?.into_bytes(),
    })
}

pub fn opt(v: Option<&str>) -> Value {
    match v {
        Some(s) => Value::Str(s.to_string()),
        None => Value::Null,
    }
}

pub fn list(v: &[String]) -> Value {
    Value::List(v.to_vec())
}
