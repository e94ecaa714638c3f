use crate::app::read::{ListFilter, ListReport};
use crate::cli::{output, Ctx, Out};
use crate::model::ticket::Status;

/// List tickets, in plan order (the folder tree under .work/).
#[derive(clap::Args)]
pub struct Args {
    /// Only tickets with this status (open, in_progress, review, done, escalated).
    #[arg(long)]
    pub status: Option<Status>,
    #[command(flatten)]
    pub kind: super::shared::KindArg,
    /// Only direct children of this ticket.
    #[arg(long)]
    pub parent: Option<String>,
    /// Only tickets claimed by this agent.
    #[arg(long)]
    pub claimed_by: Option<String>,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let filter = ListFilter {
        status: args.status,
        kind: args.kind.kind(),
        parent: args.parent,
        claimed_by: args.claimed_by,
    };
    let r = crate::app::read::list(&ctx.workspace()?, &filter)?;
    Ok(Out::reported(r, render_text))
}

fn render_text(r: &ListReport) -> String {
    output::ticket_lines(&r.tickets)
}
