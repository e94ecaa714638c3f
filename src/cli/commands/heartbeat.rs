use crate::app::claim::HeartbeatReport;
use crate::cli::{Ctx, Out};

/// Renew the lease of a claim you hold: it expires `claims.lease_minutes` from now.
///
/// A claim whose lease ran out is stale and may be taken over (`wt claim ID --steal-stale`);
/// long-running agents call this periodically. Refused (exit 5) when the claim is no longer
/// yours: with --token (or WT_CLAIM_TOKEN) the token must be the claim's current one.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub ticket: super::shared::TicketId,
    #[command(flatten)]
    pub agent: super::shared::AgentArg,
    #[command(flatten)]
    pub token: super::shared::TokenArg,
    /// Lease length in minutes from now (default claims.lease_minutes).
    #[arg(long, value_name = "MINUTES")]
    pub lease: Option<u32>,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let ws = ctx.workspace()?;
    let agent = args.agent.name(&ws)?;
    let r = crate::app::configured::heartbeat(
        &ws,
        &args.ticket.id,
        &agent,
        args.token.token().as_deref(),
        args.lease,
    )?;
    Ok(Out::reported(r, render_text))
}

fn render_text(r: &HeartbeatReport) -> String {
    let t = &r.ticket;
    if r.no_lease {
        format!(
            "{}: claims do not expire here (claims.lease_minutes: 0); nothing to renew",
            t.id
        )
    } else if r.was_stale {
        format!(
            "{}: lease had expired; renewed until {}",
            t.id,
            t.claim_expires.as_deref().unwrap_or("?")
        )
    } else {
        format!(
            "{}: lease renewed until {}",
            t.id,
            t.claim_expires.as_deref().unwrap_or("?")
        )
    }
}
