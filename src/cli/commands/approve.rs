use serde_json::{json, Value};

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
    /// Who approves.
    #[arg(long)]
    pub agent: Option<String>,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let ws = ctx.workspace()?;
    let agent = crate::app::agent_name(&ws.store, args.agent.as_deref())?;
    let w = crate::app::review::approve(&ws, &args.ids, &agent)?;
    let text = if w.value.is_empty() {
        "already approved".to_string()
    } else {
        w.value
            .iter()
            .map(|t| format!("approved {} {} ({agent})", t.id, t.title))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let j = json!({
        "approved": Value::Array(w.value.iter().map(output::ticket_json).collect()),
        "commit": w.commit.map(|x| x.to_string()),
    });
    Ok(Out::new(text, j).notes(output::warning_notes(&w.warnings)))
}
