use crate::app::review::FailReport;
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
    #[command(flatten)]
    pub ticket: super::shared::TicketId,
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
    #[command(flatten)]
    pub agent: super::shared::AgentArg,
    #[command(flatten)]
    pub force: super::shared::ForceReason,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let text = match (&args.text, &args.file) {
        (Some(t), _) => t.clone(),
        (None, Some(f)) => super::read_input(ctx, f)?,
        (None, None) => String::new(),
    };
    let ws = ctx.workspace()?;
    let agent = args.agent.name(&ws)?;
    let w = crate::app::review::fail(
        &ws,
        &args.ticket.id,
        &agent,
        &text,
        args.force.forced().as_deref(),
    )?;
    Ok(Out::new(FailReport::new(&w), render_text).notes(output::warning_notes(&w.warnings)))
}

fn render_text(r: &FailReport) -> String {
    let t = &r.ticket;
    if r.escalated {
        format!(
            "failed {}: amendment {}; escalated after {} failed attempts (a human runs `wt reopen {}`)",
            t.id, r.amendment, t.attempts, t.id
        )
    } else {
        format!(
            "failed {}: amendment {}; {} failed attempt(s), ready again",
            t.id, r.amendment, t.attempts
        )
    }
}
