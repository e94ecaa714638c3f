use serde_json::json;

use crate::cli::{output, Ctx, Out};

/// Fail the audit of a job you hold for review, with amendments for the next attempt.
///
/// Appends a numbered, dated entry (`### Amendment N — <time> by <auditor>`) to the ticket's
/// `## Amendments` section (earlier entries are never rewritten; headings inside the text
/// are pushed down to level 4), counts the failed attempt, clears the claim and makes the
/// ticket ready again. When its failed attempts reach `max_attempts` (config) it becomes
/// `escalated` instead: never ready until a human runs `wt reopen <ID>`.
#[derive(clap::Args)]
pub struct Args {
    /// Ticket ID or unique prefix.
    pub id: String,
    /// The amendment: what the next attempt must do differently.
    #[arg(
        short = 'm',
        long = "message",
        value_name = "TEXT",
        required_unless_present = "file",
        conflicts_with = "file"
    )]
    pub text: Option<String>,
    /// Read the amendment from this file (- for stdin).
    #[arg(long, value_name = "FILE")]
    pub file: Option<String>,
    /// Who is auditing (default WT_AGENT or git user.name).
    #[arg(long)]
    pub agent: Option<String>,
    /// Fail although you do not hold the review claim (a human's override; recorded).
    #[arg(long, requires = "reason")]
    pub force: bool,
    /// Why --force was needed.
    #[arg(long)]
    pub reason: Option<String>,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let text = match (&args.text, &args.file) {
        (Some(t), _) => t.clone(),
        (None, Some(f)) => super::read_input(ctx, f)?,
        (None, None) => String::new(),
    };
    let ws = ctx.workspace()?;
    let agent = crate::app::agent_name(&ws.store, args.agent.as_deref())?;
    let reason = if args.force { args.reason } else { None };
    let w = crate::app::review::fail(&ws, &args.id, &agent, &text, reason.as_deref())?;
    let f = &w.value;
    let mut j = output::ticket_json(&f.ticket);
    j["amendment"] = json!(f.amendment);
    j["escalated"] = json!(f.escalated);
    j["max_attempts"] = json!(f.max_attempts);
    j["commit"] = json!(w.commit.map(|x| x.to_string()));
    let text = if f.escalated {
        format!(
            "failed {}: amendment {}; escalated after {} failed attempts (a human runs `wt reopen {}`)",
            f.ticket.id, f.amendment, f.ticket.attempts, f.ticket.id
        )
    } else {
        format!(
            "failed {}: amendment {}; {} failed attempt(s), ready again",
            f.ticket.id, f.amendment, f.ticket.attempts
        )
    };
    Ok(Out::new(text, j).notes(output::warning_notes(&w.warnings)))
}
