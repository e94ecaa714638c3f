use serde_json::json;

use crate::cli::{output, Ctx, Out};

/// Give a claim back: the ticket becomes open (and ready, if nothing blocks it) again.
///
/// Only the holder may: with --token (or WT_CLAIM_TOKEN) the token must be the claim's
/// current one, so an agent whose stale claim was taken over cannot release the new holder's.
#[derive(clap::Args)]
pub struct Args {
    /// Ticket ID or unique prefix.
    pub id: String,
    /// Who is releasing (must be the holder unless --force).
    #[arg(long)]
    pub agent: Option<String>,
    /// The claim token `wt claim` printed (default WT_CLAIM_TOKEN).
    #[arg(long)]
    pub token: Option<String>,
    /// Release someone else's claim.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let ws = ctx.workspace()?;
    let agent = crate::app::agent_name(&ws.store, args.agent.as_deref())?;
    let token = crate::model::lease::token_from(args.token.as_deref());
    let (w, sync_notes) = super::sync::maybe_published(
        &ws,
        || crate::app::claim::release_with(&ws, &args.id, &agent, token.as_deref(), args.force),
        |_, _| Ok(()),
    )?;
    let mut j = output::ticket_json(&w.value);
    j["commit"] = json!(w.commit.map(|x| x.to_string()));
    Ok(Out::new(format!("released {}", w.value.id), j)
        .notes(output::warning_notes(&w.warnings))
        .notes(sync_notes))
}
