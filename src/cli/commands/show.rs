use crate::app::read::ShowReport;
use crate::cli::{Ctx, Out};
use crate::model::criteria::Criterion;
use crate::model::ticket::Status;

/// Show one ticket: its file as stored on the state branch, its acceptance criteria
/// numbered (as `wt tick` takes them), and whether it is ready.
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
        crate::model::text::one_line(&r.ticket.path),
        r.text
    );
    if !s.ends_with('\n') {
        s.push('\n');
    }
    if !r.criteria.is_empty() {
        s.push_str(&format!(
            "-- acceptance criteria (`wt tick {} N`):{}\n",
            r.ticket.id,
            criteria_lines(&r.criteria)
        ));
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

/// A line per criterion, each starting with a newline: `  2 [ ] Unique index on lower(email)`.
pub fn criteria_lines(criteria: &[Criterion]) -> String {
    let mut out = String::new();
    for c in criteria {
        let mark = if c.checked { "x" } else { " " };
        out.push_str(&format!("\n  {} [{mark}] {}", c.number, c.text));
    }
    out
}
