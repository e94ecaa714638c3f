use crate::app::report::TicketChange;
use crate::cli::{output, Ctx, Out};

/// Send an escalated (or done, or in-review) ticket back to open. For humans.
///
/// Reopening an escalated ticket starts its attempt count again (the amendments stay, and
/// amendment numbers keep counting). The note goes into the progress log. Done containers
/// above the ticket reopen in the same commit (they close themselves again when the work under
/// them is done).
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub ticket: super::shared::TicketId,
    /// Why, or what the next attempt should know.
    #[arg(short = 'm', long = "message", value_name = "NOTE")]
    pub note: Option<String>,
    #[command(flatten)]
    pub agent: super::shared::AgentArg,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let ws = ctx.workspace()?;
    let agent = args.agent.name(&ws)?;
    let w = crate::app::review::reopen(&ws, &args.ticket.id, &agent, args.note.as_deref())?;
    Ok(Out::new(
        TicketChange::new(&w.value.ticket, w.commit).reopening(&w.value),
        render_text,
    )
    .notes(output::warning_notes(&w.warnings)))
}

fn render_text(r: &TicketChange) -> String {
    let mut out = format!("reopened {} {}", r.ticket.id, r.ticket.title);
    for l in output::reopened_lines_of(&r.reopened) {
        out.push('\n');
        out.push_str(&l);
    }
    out
}
