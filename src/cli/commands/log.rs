use serde_json::json;

use crate::cli::{Ctx, Out};

/// A ticket's history from git: every commit on the state branch that names it or changes
/// its file, newest first.
#[derive(clap::Args)]
pub struct Args {
    /// Ticket ID or unique prefix.
    pub id: String,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let ws = ctx.workspace()?;
    let snap = ws.snapshot()?;
    let t = snap.resolve(&args.id)?;
    let entries = crate::app::log::log(&ws, snap.tip, t)?;
    let mut s = String::new();
    for e in &entries {
        s.push_str(&format!(
            "{} {} {}\n",
            &e.commit[..10.min(e.commit.len())],
            e.date,
            e.subject
        ));
    }
    Ok(Out::new(s, json!(entries)))
}
