use serde_json::json;

use crate::cli::{output, Ctx, Out};

/// Claim a ticket for an agent, or the best ready one with --next.
///
/// The agent is --agent, else WT_AGENT, else git's user.name. Claiming a ticket someone else
/// holds fails with exit code 4 and names the holder; claiming your own claim again succeeds.
/// Of several agents claiming the same ticket at once, exactly one wins.
///
/// A claim has a lease (claims.lease_minutes, renewed by `wt heartbeat`) and a token, printed
/// here and returned as `claim_token` with --json. Pass it to `wt done`, `wt release` and
/// `wt heartbeat` (--token or WT_CLAIM_TOKEN): they are refused once the claim has been taken
/// over, so a superseded agent cannot finish work it no longer owns.
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
    /// Take the ticket over if its holder's lease has expired (with --next: consider stale
    /// claims as well as ready tickets).
    #[arg(long)]
    pub steal_stale: bool,
    /// Lease length in minutes (default claims.lease_minutes; 0 = never expires).
    #[arg(long, value_name = "MINUTES")]
    pub lease: Option<u32>,
    /// Win the claim only once the git remote accepted it (`wt sync` before and after), so
    /// agents on different clones cannot both win. Default when `sync: {mode: claim}`.
    #[arg(long)]
    pub remote: bool,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let ws = ctx.workspace()?;
    if let Some(n) = args.batch {
        return run_batch(&ws, n, &args);
    }
    let agent = crate::app::agent_name(&ws.store, args.agent.as_deref())?;
    let opts = crate::app::claim::ClaimOptions {
        force: args.force,
        steal_stale: args.steal_stale,
        lease_minutes: args.lease,
    };
    let kind = match args.kind {
        Some(k) => k.0,
        None if args.next => Some(ws.config()?.ready.default_kind),
        None => None,
    };
    let id = args.id.clone().unwrap_or_default();
    let remote = match super::sync::claim_mode(&ws)? {
        Some(so) => Some(so),
        None if args.remote => Some(crate::app::sync::SyncOptions::default()),
        None => None,
    };
    let mut notes = Vec::new();
    let w = if args.next && args.review {
        crate::app::review::claim_next_review(&ws, args.kind.and_then(|k| k.0), &agent)?
    } else if let Some(so) = remote {
        let target = if args.next {
            crate::app::sync::ClaimTarget::Next(kind)
        } else {
            crate::app::sync::ClaimTarget::Id(&id)
        };
        let (w, rep) = crate::app::sync::claim_published(&ws, target, &agent, &opts, &so)?;
        notes.extend(rep.warnings.iter().map(|w| format!("warning: {w}")));
        w
    } else if args.next {
        crate::app::claim::claim_next_with(&ws, kind, &agent, &opts)?
    } else {
        crate::app::claim::claim_with(&ws, &id, &agent, &opts)?
    };
    let c = &w.value;
    let t = &c.ticket;
    let mut j = output::ticket_json(t);
    j["already_yours"] = json!(c.already_yours);
    j["claim_token"] = json!(t.claim_token);
    j["took_over_from"] = json!(c.took_over);
    j["commit"] = json!(w.commit.map(|x| x.to_string()));
    let lease = match &t.claim_expires {
        Some(e) => format!("lease until {e}"),
        None => "no lease expiry".to_string(),
    };
    let token = t.claim_token.as_deref().unwrap_or("none");
    let text = if c.already_yours {
        format!(
            "{} is already claimed by you ({agent}); token {token}, {lease}",
            t.id
        )
    } else if let Some(prev) = &c.took_over {
        format!(
            "took over {} {} from {prev} (stale lease) for {agent}\ntoken {token}, {lease}",
            t.id, t.title
        )
    } else {
        format!(
            "claimed {} {} for {agent}\ntoken {token}, {lease}",
            t.id, t.title
        )
    };
    notes.extend(output::warning_notes(&w.warnings));
    Ok(Out::new(text, j).notes(notes))
}

fn run_batch(ws: &crate::workspace::Workspace, n: usize, args: &Args) -> Result<Out, crate::Error> {
    use crate::app::batch::Agents;
    let agents = match &args.agent_prefix {
        Some(p) => Agents::Prefix(p.clone()),
        None => Agents::One(crate::app::agent_name(&ws.store, args.agent.as_deref())?),
    };
    let kind = match args.kind {
        Some(k) => k.0,
        None => Some(ws.config()?.ready.default_kind),
    };
    let w = crate::app::batch::claim_batch(ws, kind, n, &agents)?;
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
