use crate::app::read::ShowReport;
use crate::cli::{Ctx, Out};
use crate::model::ticket::Status;

/// Show one ticket: its file as stored on the state branch, and whether it is ready.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub ticket: super::shared::TicketId,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let r = crate::app::read::show(&ctx.workspace()?, &args.ticket.id)?;
    Ok(Out::reported(r, render_text))
}

fn render_text(r: &ShowReport) -> String {
    // The path is one line whatever its name holds; the file keeps its line breaks.
    let mut s = format!(
        "{}\n{}",
        crate::model::text::escape_line(&r.ticket.path),
        r.text
    );
    if !s.ends_with('\n') {
        s.push('\n');
    }
    if r.ticket.status == Status::Open {
        if r.ready {
            s.push_str("-- ready\n");
        } else {
            s.push_str(&format!("-- blocked: {}\n", r.blocked_by.join("; ")));
        }
    }
    s
}
