use serde_json::json;

use crate::cli::{output, Ctx, Out};

/// Send an escalated (or done, or in-review) ticket back to open. For humans.
///
/// Reopening an escalated ticket starts its attempt count again (the amendments stay, and
/// amendment numbers keep counting). The note goes into the progress log.
#[derive(clap::Args)]
pub struct Args {
    /// Ticket ID or unique prefix.
    pub id: String,
    /// Why, or what the next attempt should know.
    #[arg(short = 'm', long = "message", value_name = "NOTE")]
    pub note: Option<String>,
    /// Who is reopening (default WT_AGENT or git user.name).
    #[arg(long)]
    pub agent: Option<String>,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let ws = ctx.workspace()?;
    let agent = crate::app::agent_name(&ws.store, args.agent.as_deref())?;
    let w = crate::app::review::reopen(&ws, &args.id, &agent, args.note.as_deref())?;
    let mut j = output::ticket_json(&w.value);
    j["commit"] = json!(w.commit.map(|x| x.to_string()));
    let text = format!("reopened {} {}", w.value.id, w.value.title);
    Ok(Out::new(text, j).notes(output::warning_notes(&w.warnings)))
}
