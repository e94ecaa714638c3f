use crate::app::batch::BatchReport;
use crate::app::claim::{ClaimReport, Wanted};
use crate::cli::{output, Ctx, Out};

/// Claim a ticket for an agent, or the best ready one with --next.
///
/// --next skips tickets whose `files` overlap those of a ticket someone holds
/// (--ignore-overlap takes the best one anyway); --batch N claims up to N that overlap
/// neither each other nor a held ticket, in one commit, and prints each claim's token.
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
#[command(mut_arg("kind", |a| a
    .requires("next")
    .help("With --next: job (default from config), task, phase-spec or any.")))]
pub struct Args {
    /// Ticket ID or unique prefix.
    #[arg(required_unless_present = "next", conflicts_with = "next")]
    pub id: Option<String>,
    /// Claim the first ticket `wt ready` would list.
    #[arg(long)]
    pub next: bool,
    #[command(flatten)]
    pub kind: super::shared::KindOrAny,
    #[command(flatten)]
    pub agent: super::shared::AgentArg,
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
    /// With --next: take the best ticket even when its files overlap those of a claimed
    /// ticket (by default --next skips those, as --batch does).
    #[arg(long, requires = "next")]
    pub ignore_overlap: bool,
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
    let agent = args.agent.name(&ws)?;
    let opts = crate::app::claim::ClaimOptions {
        force: args.force,
        steal_stale: args.steal_stale,
        lease_minutes: args.lease,
        ignore_overlap: args.ignore_overlap,
    };
    let wanted = match (&args.id, args.next, args.review) {
        (_, true, true) => Wanted::NextReview(args.kind.kind().flatten()),
        (_, true, false) => Wanted::Next(args.kind.kind()),
        (id, false, _) => Wanted::Id(id.as_deref().unwrap_or_default()),
    };
    let r = crate::app::configured::claim(&ws, wanted, &agent, &opts, args.remote)?;
    Ok(Out::reported(r, move |r| render_text(r, &agent)))
}

fn render_text(r: &ClaimReport, agent: &str) -> String {
    let t = &r.ticket;
    let lease = match &t.claim_expires {
        Some(e) => format!("lease until {e}"),
        None => "no lease expiry".to_string(),
    };
    let token = r.claim_token.as_deref().unwrap_or("none");
    if r.already_yours {
        format!(
            "{} is already claimed by you ({agent}); token {token}, {lease}",
            t.id
        )
    } else if let Some(prev) = &r.took_over_from {
        format!(
            "took over {} {} from {prev} (stale lease) for {agent}\ntoken {token}, {lease}",
            t.id, t.title
        )
    } else {
        format!(
            "claimed {} {} for {agent}\ntoken {token}, {lease}",
            t.id, t.title
        )
    }
}

fn run_batch(ws: &crate::workspace::Workspace, n: usize, args: &Args) -> Result<Out, crate::Error> {
    use crate::app::batch::Agents;
    let agents = match &args.agent_prefix {
        Some(p) => Agents::Prefix(p.clone()),
        None => Agents::One(args.agent.name(ws)?),
    };
    let w = crate::app::batch::claim_batch_with_default_kind(ws, args.kind.kind(), n, &agents)?;
    Ok(Out::new(BatchReport::new(&w), render_batch).notes(output::warning_notes(&w.warnings)))
}

fn render_batch(r: &BatchReport) -> String {
    r.claimed
        .iter()
        .map(|c| {
            let t = &c.ticket;
            let lease = match &t.claim_expires {
                Some(e) => format!("lease until {e}"),
                None => "no lease expiry".to_string(),
            };
            format!(
                "claimed {} {} for {}\n  token {}, {lease}",
                t.id,
                t.title,
                crate::model::text::one_line(t.claimed_by.as_deref().unwrap_or("")),
                c.claim_token.as_deref().unwrap_or("none")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}
