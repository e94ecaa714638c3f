use crate::app::read::BlockedReport;
use crate::cli::{output, Ctx, Out};

/// List open tickets that are not ready, and why: which dependency, which ancestor; and
/// claimed tickets whose lease has expired (stale claims).
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub kind: super::shared::KindArg,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let r = crate::app::read::blocked(&ctx.workspace()?, args.kind.kind())?;
    Ok(Out::reported(r, render_text))
}

fn render_text(r: &BlockedReport) -> String {
    if r.tickets.is_empty() {
        return "nothing is blocked".into();
    }
    let mut text = String::new();
    for b in &r.tickets {
        text.push_str(&format!("{}\n", output::ticket_line(&b.ticket)));
        for why in &b.reasons {
            text.push_str(&format!("    {why}\n"));
        }
    }
    text
}
