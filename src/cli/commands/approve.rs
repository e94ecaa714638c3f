use crate::app::review::ApproveReport;
use crate::cli::{output, Ctx, Out};

/// Approve gated tickets (`gate: approval`): work under them or depending on them may start.
///
/// One commit for all the IDs given; the approver (--agent, WT_AGENT or git user.name) is
/// recorded in the ticket (`approved_by`, `approved_at`), the commit subject and a
/// `Wt-Approved-By` trailer. Already approved tickets are left alone.
#[derive(clap::Args)]
pub struct Args {
    /// Ticket IDs or unique prefixes.
    #[arg(required = true)]
    pub ids: Vec<String>,
    #[command(flatten)]
    pub agent: super::shared::AgentArg,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let ws = ctx.workspace()?;
    let agent = args.agent.name(&ws)?;
    let w = crate::app::review::approve(&ws, &args.ids, &agent)?;
    Ok(
        Out::new(ApproveReport::new(&w), move |r| render_text(r, &agent))
            .notes(output::warning_notes(&w.warnings)),
    )
}

fn render_text(r: &ApproveReport, agent: &str) -> String {
    if r.approved.is_empty() {
        return "already approved".to_string();
    }
    r.approved
        .iter()
        .map(|t| format!("approved {} {} ({agent})", t.id, t.title))
        .collect::<Vec<_>>()
        .join("\n")
}
