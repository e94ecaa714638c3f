use serde_json::json;

use crate::cli::{output, Ctx, Out};

/// Claim a ticket for an agent, or the best ready one with --next.
///
/// The agent is --agent, else WT_AGENT, else git's user.name. Claiming a ticket someone else
/// holds fails with exit code 4 and names the holder; claiming your own claim again succeeds.
#[derive(clap::Args)]
pub struct Args {
    /// Ticket ID or unique prefix.
    #[arg(required_unless_present = "next", conflicts_with = "next")]
    pub id: Option<String>,
    /// Claim the first ticket `wt ready` would list.
    #[arg(long)]
    pub next: bool,
    /// With --next: job (default from config), task, phase-spec or any.
    #[arg(long, value_parser = super::parse_kind_or_any, requires = "next")]
    pub kind: Option<super::KindFilter>,
    /// Who is claiming.
    #[arg(long)]
    pub agent: Option<String>,
    /// Claim even though the ticket is not ready (its dependencies are not done).
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, wt::Error> {
    let ws = ctx.workspace()?;
    let agent = wt::ops::agent_name(&ws.store, args.agent.as_deref())?;
    let w = if args.next {
        let kind = match args.kind {
            Some(k) => k.0,
            None => Some(ws.snapshot()?.config.ready.default_kind),
        };
        wt::ops::claim::claim_next(&ws, kind, &agent)?
    } else {
        let id = args.id.unwrap_or_default();
        wt::ops::claim::claim(&ws, &id, &agent, args.force)?
    };
    let c = &w.value;
    let mut j = output::ticket_json(&c.ticket);
    j["already_yours"] = json!(c.already_yours);
    j["commit"] = json!(w.commit.map(|x| x.to_string()));
    let text = if c.already_yours {
        format!("{} is already claimed by you ({agent})", c.ticket.id)
    } else {
        format!("claimed {} {} for {agent}", c.ticket.id, c.ticket.title)
    };
    Ok(Out::new(text, j).notes(output::warning_notes(&w.warnings)))
}
