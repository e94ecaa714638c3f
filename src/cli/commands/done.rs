use crate::app::report::TicketChange;
use crate::cli::{Ctx, Out};
use crate::model::ticket::Status;

/// Finish a ticket you hold, judged on committed work.
///
/// With `review: true` (the default) a job goes to `review` instead of `done`: another agent
/// audits it (`wt ready --review`, `wt pass`, `wt fail`).
///
/// done judges one commit: --rev, default HEAD of the worktree you run it in (your feature
/// branch). Uncommitted and untracked changes do not count (done says how many there are).
/// Refused unless every box under "Acceptance Criteria" is ticked (`wt tick <ID> <N>…`) and
/// every path in `artifacts` is a non-empty file in that commit. Only the claimant may finish
/// a ticket; --force --reason TEXT overrides and is recorded. A ticket with tickets under it
/// that are not done is refused, even by force; when the last of them is done, it closes
/// itself.
///
/// Then the CI checks (`ci:` in .work/config.yaml) run on that commit's code — in the
/// working tree when it holds exactly that code, else in a clean temporary checkout — or a
/// green result for the identical tree is reused; on red the ticket stays open and the
/// failing check is shown with the tail of its output. The done commit names the commit
/// judged, the tree and the checks (trailers Wt-Checked-Commit, Wt-CI-Tree, Wt-CI).
/// --no-ci --reason TEXT skips the checks and records why.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub ticket: super::shared::TicketId,
    #[command(flatten)]
    pub agent: super::shared::AgentArg,
    #[command(flatten)]
    pub force: super::shared::ForceReason,
    /// Finish without running the CI checks (needs --reason).
    #[arg(long, requires = "reason")]
    pub no_ci: bool,
    /// The commit whose work is judged (default: HEAD).
    #[arg(long, value_name = "COMMIT")]
    pub rev: Option<String>,
    #[command(flatten)]
    pub token: super::shared::TokenArg,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let ws = ctx.workspace()?;
    let agent = args.agent.name(&ws)?;
    let opts = crate::app::done::DoneOptions {
        force_reason: args.force.forced(),
        no_ci_reason: args.force.reason.clone().filter(|_| args.no_ci),
        token: args.token.token(),
        rev: args.rev.clone(),
        quiet: false,
    };
    let r = crate::app::done::done_as_configured(&ws, &args.ticket.id, &agent, &opts)?;
    Ok(Out::reported(r, render_text))
}

fn render_text(r: &TicketChange) -> String {
    let t = &r.ticket;
    let line = if r.commit.is_none() {
        format!("{} was already done", t.id)
    } else if t.status == Status::Review {
        format!(
            "{} {} is ready for review (an auditor runs `wt pass` or `wt fail`)",
            t.id, t.title
        )
    } else {
        format!("done {} {}", t.id, t.title)
    };
    format!("{line}{}", crate::cli::output::closed_lines(&r.closed))
}
