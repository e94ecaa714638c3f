use std::path::PathBuf;

use crate::app::context::ContextReport;
use crate::cli::{Ctx, Out};

/// Write the minimal markdown an agent needs for one ticket, within a token budget.
///
/// The bundle holds: the ticket (description, acceptance criteria, every amendment), what its
/// ancestors say (their text, without their own amendments and progress), the outcome of each
/// dependency it waits on (title, status, last progress entry), the latest progress entries
/// (config `context.progress_history`) and the files it touches (their contents with
/// --with-files). Its first line reports the estimated size and what was trimmed.
///
/// The size is an ESTIMATE: UTF-8 bytes / 4, rounded up. That is a rule of thumb for English
/// text, not a tokenizer; code and non-English text often need more tokens per byte, so
/// leave headroom. Over budget (default: config `context.max_tokens_per_task`), the least
/// important parts go first: file contents, then the oldest progress entries, then the
/// dependencies' progress lines, then ancestor text (farthest first). The ticket itself is
/// never trimmed; if it alone is over the budget the bundle says so (and --json has
/// "over_budget": true).
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub ticket: super::shared::TicketId,
    /// Budget in estimated tokens (UTF-8 bytes / 4).
    #[arg(long, value_name = "TOKENS")]
    pub budget: Option<usize>,
    /// Write the bundle to this file (a summary goes to stdout).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Include the contents of the ticket's files (globs expand over tracked files).
    #[arg(long)]
    pub with_files: bool,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let opts = crate::app::context::ContextOptions {
        budget: args.budget,
        with_files: args.with_files,
    };
    let out = args.out.map(|p| ctx.cwd.join(p));
    let r =
        crate::app::context::context(&ctx.workspace()?, &args.ticket.id, &opts, out.as_deref())?;
    // Printing the bundle itself, the summary goes to stderr.
    let summary = (r.report.out.is_none()).then(|| format!("wt context {}", summary(&r.report)));
    Ok(Out::reported(r, render_text).notes(summary))
}

fn summary(r: &ContextReport) -> String {
    let b = &r.bundle;
    format!(
        "{}: ~{} of {} tokens (estimate: bytes / 4){}{}",
        b.id,
        b.tokens,
        b.budget,
        if b.trimmed.is_empty() {
            String::new()
        } else {
            format!("; trimmed: {}", b.trimmed.join("; "))
        },
        if b.over_budget { "; OVER BUDGET" } else { "" }
    )
}

fn render_text(r: &ContextReport) -> String {
    match &r.out {
        Some(p) => format!("wrote {p}: {}", summary(r)),
        None => r.bundle.text.clone(),
    }
}
