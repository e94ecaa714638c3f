use crate::app::report::TicketChange;
use crate::cli::{output, Ctx, Out};

/// Pass the audit of a job you hold for review: it becomes done.
///
/// When it was the last open ticket under its phase-spec, the phase-spec closes in the same
/// commit (and so on upward); refused while a ticket under it is not done.
///
/// Only the auditor holding the review claim may pass it (claim it with `wt claim <ID>`
/// or `wt claim --next --review`); the implementer never audits their own work.
/// The note, if any, goes into the progress log and the commit.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub ticket: super::shared::TicketId,
    /// A note on the audit.
    #[arg(short = 'm', long = "message", value_name = "NOTE")]
    pub note: Option<String>,
    #[command(flatten)]
    pub agent: super::shared::AgentArg,
    #[command(flatten)]
    pub force: super::shared::ForceReason,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let ws = ctx.workspace()?;
    let agent = args.agent.name(&ws)?;
    let w = crate::app::review::pass(
        &ws,
        &args.ticket.id,
        &agent,
        args.note.as_deref(),
        args.force.forced().as_deref(),
    )?;
    let report = TicketChange::new(&w.value.ticket, w.commit).closing(&w.value.closed);
    Ok(Out::new(report, render_text).notes(output::warning_notes(&w.warnings)))
}

fn render_text(r: &TicketChange) -> String {
    format!(
        "passed {} {}: done{}",
        r.ticket.id,
        r.ticket.title,
        output::closed_lines(&r.closed)
    )
}
