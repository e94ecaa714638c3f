use serde_json::{json, Value};

use crate::cli::{output, Ctx, Out};
use wt::ticket::Status;

/// List open tickets that are not ready, and why: which dependency, which ancestor.
#[derive(clap::Args)]
pub struct Args {
    /// Only this kind (default: all kinds).
    #[arg(long)]
    pub kind: Option<wt::ticket::Kind>,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, wt::Error> {
    let ws = ctx.workspace()?;
    let snap = ws.snapshot()?;
    let g = snap.graph();
    let mut rows = Vec::new();
    let mut text = String::new();
    let mut idx: Vec<usize> = (0..g.tickets.len())
        .filter(|&i| g.tickets[i].status == Status::Open)
        .filter(|&i| args.kind.is_none_or(|k| g.tickets[i].kind == k))
        .collect();
    idx.sort_by(|&a, &b| g.tickets[a].path.cmp(&g.tickets[b].path));
    for i in idx {
        let bs = g.blockers(i);
        if bs.is_empty() {
            continue;
        }
        let t = &g.tickets[i];
        text.push_str(&format!("{}\n", output::ticket_line(t)));
        for b in &bs {
            text.push_str(&format!("    {b}\n"));
        }
        let mut j = output::ticket_json(t);
        j["blocked_by"] = json!(bs);
        j["reasons"] = json!(bs.iter().map(|b| b.to_string()).collect::<Vec<_>>());
        rows.push(j);
    }
    if rows.is_empty() {
        text = "nothing is blocked".into();
    }
    Ok(Out::new(text, Value::Array(rows)).notes(output::skipped_notes(&snap.problems)))
}
