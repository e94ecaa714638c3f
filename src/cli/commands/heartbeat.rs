use serde_json::json;

use crate::cli::{output, Ctx, Out};

/// Renew the lease of a claim you hold: it expires `claims.lease_minutes` from now.
///
/// A claim whose lease ran out is stale and may be taken over (`wt claim ID --steal-stale`);
/// long-running agents call this periodically. Refused (exit 5) when the claim is no longer
/// yours: with --token (or WT_CLAIM_TOKEN) the token must be the claim's current one.
#[derive(clap::Args)]
pub struct Args {
    /// Ticket ID or unique prefix.
    pub id: String,
    /// Who holds the claim (default WT_AGENT or git user.name).
    #[arg(long)]
    pub agent: Option<String>,
    /// The claim token `wt claim` printed (default WT_CLAIM_TOKEN).
    #[arg(long)]
    pub token: Option<String>,
    /// Lease length in minutes from now (default claims.lease_minutes).
    #[arg(long, value_name = "MINUTES")]
    pub lease: Option<u32>,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let ws = ctx.workspace()?;
    let agent = crate::app::agent_name(&ws.store, args.agent.as_deref())?;
    let token = crate::model::lease::token_from(args.token.as_deref());
    let (w, sync_notes) = super::sync::maybe_published(
        &ws,
        || crate::app::claim::heartbeat(&ws, &args.id, &agent, token.as_deref(), args.lease),
        |ws, h| crate::app::sync::check_claim_unchanged(ws, &h.ticket),
    )?;
    let mut notes = output::warning_notes(&w.warnings);
    notes.extend(sync_notes);
    let h = &w.value;
    let mut j = output::ticket_json(&h.ticket);
    j["was_stale"] = json!(h.was_stale);
    j["commit"] = json!(w.commit.map(|x| x.to_string()));
    let text = if h.no_lease {
        format!(
            "{}: claims do not expire here (claims.lease_minutes: 0); nothing to renew",
            h.ticket.id
        )
    } else if h.was_stale {
        format!(
            "{}: lease had expired; renewed until {}",
            h.ticket.id,
            h.ticket.claim_expires.as_deref().unwrap_or("?")
        )
    } else {
        format!(
            "{}: lease renewed until {}",
            h.ticket.id,
            h.ticket.claim_expires.as_deref().unwrap_or("?")
        )
    };
    Ok(Out::new(text, j).notes(notes))
}
