use crate::app::report::TicketChange;
use crate::cli::{Ctx, Out};

/// Give a claim back: the ticket becomes open (and ready, if nothing blocks it) again.
///
/// Only the holder may: with --token (or WT_CLAIM_TOKEN) the token must be the claim's
/// current one, so an agent whose stale claim was taken over cannot release the new holder's.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub ticket: super::shared::TicketId,
    #[command(flatten)]
    pub agent: super::shared::AgentArg,
    #[command(flatten)]
    pub token: super::shared::TokenArg,
    /// Release someone else's claim.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let ws = ctx.workspace()?;
    let agent = args.agent.name(&ws)?;
    let r = crate::app::configured::release(
        &ws,
        &args.ticket.id,
        &agent,
        args.token.token().as_deref(),
        args.force,
    )?;
    Ok(Out::reported(r, render_text))
}

fn render_text(r: &TicketChange) -> String {
    format!("released {}", r.ticket.id)
}
