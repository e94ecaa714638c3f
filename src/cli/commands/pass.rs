use serde_json::json;

use crate::cli::{output, Ctx, Out};

/// Pass the audit of a job you hold for review: it becomes done.
///
/// Only the auditor holding the review claim may pass it (claim it with `wt claim <ID>`
/// or `wt claim --next --review`); the implementer never audits their own work.
/// The note, if any, goes into the progress log and the commit.
#[derive(clap::Args)]
pub struct Args {
    /// Ticket ID or unique prefix.
    pub id: String,
    /// A note on the audit.
    #[arg(short = 'm', long = "message", value_name = "NOTE")]
    pub note: Option<String>,
    /// Who is auditing (default WT_AGENT or git user.name).
    #[arg(long)]
    pub agent: Option<String>,
    /// Pass although you do not hold the review claim (a human's override; recorded).
    #[arg(long, requires = "reason")]
    pub force: bool,
    /// Why --force was needed.
    #[arg(long)]
    pub reason: Option<String>,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let ws = ctx.workspace()?;
    let agent = crate::app::agent_name(&ws.store, args.agent.as_deref())?;
    let reason = if args.force { args.reason } else { None };
    let w = crate::app::review::pass(
        &ws,
        &args.id,
        &agent,
        args.note.as_deref(),
        reason.as_deref(),
    )?;
    let mut j = output::ticket_json(&w.value);
    j["commit"] = json!(w.commit.map(|x| x.to_string()));
    let text = format!("passed {} {}: done", w.value.id, w.value.title);
    Ok(Out::new(text, j).notes(output::warning_notes(&w.warnings)))
}
