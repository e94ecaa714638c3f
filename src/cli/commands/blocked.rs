use serde_json::{json, Value};

use crate::cli::{output, Ctx, Out};
use crate::model::ticket::Status;

/// List open tickets that are not ready, and why: which dependency, which ancestor; and
/// claimed tickets whose lease has expired (stale claims).
#[derive(clap::Args)]
pub struct Args {
    /// Only this kind (default: all kinds).
    #[arg(long)]
    pub kind: Option<crate::model::ticket::Kind>,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let ws = ctx.workspace()?;
    let snap = ws.snapshot()?;
    let g = snap.graph()?;
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
    // Claims whose lease ran out: the work stalls until the holder renews or someone takes
    // it over.
    let now = crate::model::clock::now();
    let mut stale: Vec<&crate::model::ticket::Ticket> = g
        .tickets
        .iter()
        .filter(|t| t.is_stale(now))
        .filter(|t| args.kind.is_none_or(|k| t.kind == k))
        .collect();
    stale.sort_by(|a, b| a.path.cmp(&b.path));
    for t in stale {
        let why = format!(
            "claim by {} is stale: lease expired at {} (take over: wt claim {} --steal-stale)",
            t.claimed_by.as_deref().unwrap_or("?"),
            t.claim_expires.as_deref().unwrap_or("?"),
            t.id
        );
        text.push_str(&format!("{}\n    {why}\n", output::ticket_line(t)));
        let mut j = output::ticket_json(t);
        j["blocked_by"] =
            json!([{"reason": "stale_claim", "by": t.claimed_by, "expired": t.claim_expires}]);
        j["reasons"] = json!([why]);
        rows.push(j);
    }
    if rows.is_empty() {
        text = "nothing is blocked".into();
    }
    Ok(Out::new(text, Value::Array(rows)).notes(output::skipped_notes(&snap.problems)))
}
