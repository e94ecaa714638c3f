use serde_json::Value;

use crate::cli::{output, Ctx, Out};
use crate::model::ticket::{Kind, Status};

/// List tickets, in plan order (the folder tree under .work/).
#[derive(clap::Args)]
pub struct Args {
    /// Only tickets with this status (open, in_progress, review, done, escalated).
    #[arg(long)]
    pub status: Option<Status>,
    /// Only tickets of this kind.
    #[arg(long)]
    pub kind: Option<Kind>,
    /// Only direct children of this ticket.
    #[arg(long)]
    pub parent: Option<String>,
    /// Only tickets claimed by this agent.
    #[arg(long)]
    pub claimed_by: Option<String>,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let ws = ctx.workspace()?;
    let snap = ws.snapshot()?;
    let parent = match &args.parent {
        Some(p) => Some(snap.resolve(p)?.id.clone()),
        None => None,
    };
    let mut ts: Vec<&crate::model::ticket::Ticket> = snap
        .tickets
        .iter()
        .filter(|t| args.status.is_none_or(|s| t.status == s))
        .filter(|t| args.kind.is_none_or(|k| t.kind == k))
        .filter(|t| parent.is_none() || t.parent == parent)
        .filter(|t| args.claimed_by.is_none() || t.claimed_by == args.claimed_by)
        .collect();
    ts.sort_by(|a, b| a.path.cmp(&b.path));
    // Build only the form that is printed (10,000 JSON objects are not free).
    let mut out = if ctx.json {
        // Straight to text: a `Value` per ticket costs 5 KB and 40 allocations each.
        let mut out = Out::new(String::new(), Value::Null);
        out.json_text = Some(output::tickets_json_text(ts));
        out
    } else {
        Out::new(output::ticket_lines(ts), Value::Null)
    };
    out = out.notes(output::skipped_notes(&snap.problems));
    crate::workspace::finished_with(snap);
    Ok(out)
}
