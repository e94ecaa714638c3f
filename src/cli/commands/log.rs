use crate::app::log::LogReport;
use crate::cli::{Ctx, Out};

/// A ticket's history from git: every commit on the state branch that names it or changes
/// its file, newest first.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub ticket: super::shared::TicketId,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let r = crate::app::log::log_of(&ctx.workspace()?, &args.ticket.id)?;
    Ok(Out::new(r, render_text))
}

fn render_text(r: &LogReport) -> String {
    let mut s = String::new();
    for e in &r.entries {
        s.push_str(&format!(
            "{} {} {}\n",
            &e.commit[..10.min(e.commit.len())],
            e.date,
            e.subject
        ));
    }
    s
}
