use crate::app::progress::ProgressReport;
use crate::cli::{output, Ctx, Out};

/// Append an entry to a ticket's progress log (`## Progress`). Append-only.
///
/// The entry is one list item: `- <time> <agent> (attempt N): MESSAGE`, then the message's
/// further lines and `Files: …` indented under it. N is the attempt in progress (failed
/// audits + 1). One commit per entry, so progress survives a crash.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub ticket: super::shared::TicketId,
    /// What was done.
    pub message: String,
    /// Files touched in this step.
    #[arg(long, num_args = 1.., value_name = "PATH")]
    pub files: Vec<String>,
    #[command(flatten)]
    pub agent: super::shared::AgentArg,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let ws = ctx.workspace()?;
    let agent = args.agent.name(&ws)?;
    let w =
        crate::app::progress::progress(&ws, &args.ticket.id, &agent, &args.message, &args.files)?;
    Ok(Out::new(ProgressReport::new(&w), render_text).notes(output::warning_notes(&w.warnings)))
}

fn render_text(r: &ProgressReport) -> String {
    format!("logged progress on {}", r.ticket.id)
}
