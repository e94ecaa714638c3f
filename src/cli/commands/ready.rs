use serde_json::{json, Value};

use crate::cli::{output, Ctx, Out};

/// List tickets that can be started now, best first.
///
/// Ready = open, unclaimed, every dependency done (a dependency on a phase-spec or job counts
/// only when it and everything under it is done), no ancestor blocked. An unknown dependency
/// blocks. Order: priority, then the longest chain of work waiting on it, then age.
#[derive(clap::Args)]
pub struct Args {
    /// job (default from config), task, phase-spec or any.
    #[arg(long, value_parser = super::parse_kind_or_any)]
    pub kind: Option<super::KindFilter>,
    /// At most this many.
    #[arg(long)]
    pub limit: Option<usize>,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, wt::Error> {
    let ws = ctx.workspace()?;
    let snap = ws.snapshot()?;
    let kind = args
        .kind
        .map(|k| k.0)
        .unwrap_or(Some(snap.config.ready.default_kind));
    let g = snap.graph();
    let mut ids = g.ready(kind);
    if let Some(l) = args.limit {
        ids.truncate(l);
    }
    let ts: Vec<&wt::ticket::Ticket> = ids.iter().map(|&i| &snap.tickets[i]).collect();
    let json = Value::Array(ts.iter().map(|t| output::ticket_json(t)).collect());
    let text = if ts.is_empty() {
        format!(
            "nothing ready ({})",
            kind.map(|k| k.as_str()).unwrap_or("any kind")
        )
    } else {
        output::ticket_lines(ts)
    };
    let _ = json!(null);
    Ok(Out::new(text, json).notes(output::skipped_notes(&snap.problems)))
}
