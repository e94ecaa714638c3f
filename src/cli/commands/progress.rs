use serde_json::json;

use crate::cli::{output, Ctx, Out};

/// Append an entry to a ticket's progress log (`## Progress`). Append-only.
///
/// The entry is one list item: `- <time> <agent> (attempt N): MESSAGE`, then the message's
/// further lines and `Files: …` indented under it. N is the attempt in progress (failed
/// audits + 1). One commit per entry, so progress survives a crash.
#[derive(clap::Args)]
pub struct Args {
    /// Ticket ID or unique prefix.
    pub id: String,
    /// What was done.
    pub message: String,
    /// Files touched in this step.
    #[arg(long, num_args = 1.., value_name = "PATH")]
    pub files: Vec<String>,
    /// Who is reporting (default WT_AGENT or git user.name).
    #[arg(long)]
    pub agent: Option<String>,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let ws = ctx.workspace()?;
    let agent = crate::app::agent_name(&ws.store, args.agent.as_deref())?;
    let w = crate::app::progress::progress(&ws, &args.id, &agent, &args.message, &args.files)?;
    let mut j = output::ticket_json(&w.value);
    j["attempt"] = json!(w.value.attempts + 1);
    j["commit"] = json!(w.commit.map(|x| x.to_string()));
    let text = format!("logged progress on {}", w.value.id);
    Ok(Out::new(text, j).notes(output::warning_notes(&w.warnings)))
}
