use serde_json::json;

use crate::cli::{output, Ctx, Out};

/// Finish a ticket you hold.
///
/// With `review: true` (the default) a job goes to `review` instead of `done`: another agent
/// audits it (`wt ready --review`, `wt pass`, `wt fail`).
///
/// Refused unless every box under "Acceptance Criteria" is ticked and every path in
/// `artifacts` exists and is non-empty in the working tree: the files are the evidence.
/// Only the claimant may finish a ticket; --force --reason TEXT overrides and is recorded.
///
/// Then the CI checks (`ci:` in .work/config.yaml) run on the working tree, or a green result
/// for the identical tree is reused; on red the ticket stays open and the failing check is
/// shown with the tail of its output. The done commit names the tree and the checks
/// (trailers Wt-CI-Tree, Wt-CI). --no-ci --reason TEXT skips them and records why.
#[derive(clap::Args)]
pub struct Args {
    /// Ticket ID or unique prefix.
    pub id: String,
    /// Who is finishing (default WT_AGENT or git user.name).
    #[arg(long)]
    pub agent: Option<String>,
    /// Finish although you are not the claimant or evidence is missing.
    #[arg(long, requires = "reason")]
    pub force: bool,
    /// Finish without running the CI checks (needs --reason).
    #[arg(long, requires = "reason")]
    pub no_ci: bool,
    /// Why --force or --no-ci was needed (recorded in the commit and the ticket).
    #[arg(long)]
    pub reason: Option<String>,
    /// The claim token `wt claim` printed (default WT_CLAIM_TOKEN); refused if the claim has
    /// since been taken over.
    #[arg(long)]
    pub token: Option<String>,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let ws = ctx.workspace()?;
    let agent = crate::app::agent_name(&ws.store, args.agent.as_deref())?;
    let opts = crate::app::done::DoneOptions {
        force_reason: if args.force {
            args.reason.clone()
        } else {
            None
        },
        no_ci_reason: if args.no_ci { args.reason } else { None },
        token: crate::model::lease::token_from(args.token.as_deref()),
    };
    let (w, sync_notes) = super::sync::maybe_published(
        &ws,
        || crate::app::done::done(&ws, &args.id, &agent, &opts),
        crate::app::sync::check_done,
    )?;
    let mut j = output::ticket_json(&w.value);
    j["commit"] = json!(w.commit.map(|x| x.to_string()));
    let text = if w.commit.is_none() {
        format!("{} was already done", w.value.id)
    } else if w.value.status == crate::model::ticket::Status::Review {
        format!(
            "{} {} is ready for review (an auditor runs `wt pass` or `wt fail`)",
            w.value.id, w.value.title
        )
    } else {
        format!("done {} {}", w.value.id, w.value.title)
    };
    Ok(Out::new(text, j)
        .notes(output::warning_notes(&w.warnings))
        .notes(sync_notes))
}
