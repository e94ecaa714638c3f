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
    /// With --next: claim the first job waiting for review that you did not implement.
    #[arg(long, requires = "next", conflicts_with = "batch")]
    pub review: bool,
    /// With --next: claim up to N ready tickets whose files do not overlap, in one commit.
    #[arg(long, value_name = "N", requires = "next")]
    pub batch: Option<usize>,
    /// With --batch: give each ticket its own agent, PREFIX-1, PREFIX-2, … (skipping names
    /// that already hold a claim).
    #[arg(
        long,
        value_name = "PREFIX",
        requires = "batch",
        conflicts_with = "agent"
    )]
    pub agent_prefix: Option<String>,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, wt::Error> {
    let ws = ctx.workspace()?;
    if let Some(n) = args.batch {
        return run_batch(&ws, n, &args);
    }
    let agent = wt::ops::agent_name(&ws.store, args.agent.as_deref())?;
    let w = if args.next && args.review {
        wt::ops::review::claim_next_review(&ws, args.kind.and_then(|k| k.0), &agent)?
    } else if args.next {
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

fn run_batch(ws: &wt::workspace::Workspace, n: usize, args: &Args) -> Result<Out, wt::Error> {
    use wt::ops::batch::Agents;
    let agents = match &args.agent_prefix {
        Some(p) => Agents::Prefix(p.clone()),
        None => Agents::One(wt::ops::agent_name(&ws.store, args.agent.as_deref())?),
    };
    let kind = match args.kind {
        Some(k) => k.0,
        None => Some(ws.snapshot()?.config.ready.default_kind),
    };
    let w = wt::ops::batch::claim_batch(ws, kind, n, &agents)?;
    let text: Vec<String> = w
        .value
        .iter()
        .map(|c| {
            format!(
                "claimed {} {} for {}",
                c.ticket.id,
                c.ticket.title,
                c.ticket.claimed_by.as_deref().unwrap_or("")
            )
        })
        .collect();
    let j = json!({
        "claimed": w.value.iter().map(|c| output::ticket_json(&c.ticket)).collect::<Vec<_>>(),
        "commit": w.commit.map(|x| x.to_string()),
    });
    Ok(Out::new(text.join("\n"), j).notes(output::warning_notes(&w.warnings)))
}
