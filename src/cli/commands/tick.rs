use crate::app::tick::{TickReport, Which};
use crate::cli::{output, Ctx, Out};

/// Tick acceptance criteria of a ticket, by number, in one commit on the state branch.
///
/// The numbers are those `wt show <ID>` lists (1 for the first box under "Acceptance
/// Criteria"); --all ticks every one, --undo unticks. Works from any worktree or branch.
/// Only the character between each box's brackets changes. A ticket someone holds is
/// ticked by its holder only (--token as for `wt done`); a done ticket cannot be changed.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub ticket: super::shared::TicketId,
    /// The criteria's numbers.
    #[arg(
        value_name = "N",
        required_unless_present = "all",
        conflicts_with = "all"
    )]
    pub numbers: Vec<usize>,
    /// Every criterion.
    #[arg(long)]
    pub all: bool,
    /// Untick instead.
    #[arg(long)]
    pub undo: bool,
    #[command(flatten)]
    pub agent: super::shared::AgentArg,
    #[command(flatten)]
    pub token: super::shared::TokenArg,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let ws = ctx.workspace()?;
    let agent = args.agent.name(&ws)?;
    let which = if args.all {
        Which::All
    } else {
        Which::Numbers(args.numbers.clone())
    };
    let w = crate::app::tick::tick(
        &ws,
        &args.ticket.id,
        &agent,
        &which,
        args.undo,
        args.token.token().as_deref(),
    )?;
    Ok(Out::new(TickReport::new(&w), render_text).notes(output::warning_notes(&w.warnings)))
}

fn render_text(r: &TickReport) -> String {
    let mut s = if r.changed.is_empty() {
        format!("{}: nothing to change", r.ticket.id)
    } else {
        let list: Vec<String> = r.changed.iter().map(|n| n.to_string()).collect();
        let verb = if r
            .criteria
            .iter()
            .any(|c| r.changed.contains(&c.number) && c.checked)
        {
            "ticked"
        } else {
            "unticked"
        };
        format!("{verb} {} on {}", list.join(", "), r.ticket.id)
    };
    s.push_str(&super::show::criteria_lines(&r.criteria));
    s
}
