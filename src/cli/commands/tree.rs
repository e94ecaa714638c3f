use serde_json::{json, Value};

use crate::cli::{output, Ctx, Out};
use crate::schedule::graph::Graph;

/// Show the plan as a tree: phase-specs, their jobs, their tasks, with statuses.
#[derive(clap::Args)]
pub struct Args {
    /// Start at this ticket instead of the whole plan.
    pub id: Option<String>,
}

fn node(g: &Graph<'_>, i: usize, depth: usize, text: &mut String, ready: &[bool]) -> Value {
    let t = &g.tickets[i];
    let mark = if ready[i] { " *ready*" } else { "" };
    text.push_str(&format!(
        "{}{} [{}] {}{}{}\n",
        "  ".repeat(depth),
        t.id,
        t.status,
        t.title,
        t.claimed_by
            .as_ref()
            .map(|b| format!(" ({b})"))
            .unwrap_or_default(),
        mark
    ));
    let mut kids: Vec<usize> = g.children(i).to_vec();
    // Plan order (`order`, set by `wt plan import`), then path.
    kids.sort_by_key(|&k| (g.tickets[k].order.unwrap_or(u32::MAX), &g.tickets[k].path));
    let children: Vec<Value> = kids
        .iter()
        .map(|&c| node(g, c, depth + 1, text, ready))
        .collect();
    let mut j = output::ticket_json(t);
    j["children"] = json!(children);
    j
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let ws = ctx.workspace()?;
    let snap = ws.snapshot()?;
    let g = snap.graph()?;
    let ready: Vec<bool> = (0..g.tickets.len()).map(|i| g.is_ready(i)).collect();
    let roots: Vec<usize> = match &args.id {
        Some(q) => {
            let t = snap.resolve(q)?;
            g.index_of(&t.id).into_iter().collect()
        }
        None => {
            let mut r: Vec<usize> = (0..g.tickets.len())
                .filter(|&i| {
                    g.tickets[i]
                        .parent
                        .as_deref()
                        .is_none_or(|p| g.index_of(p).is_none())
                })
                .collect();
            r.sort_by_key(|&k| (g.tickets[k].order.unwrap_or(u32::MAX), &g.tickets[k].path));
            r
        }
    };
    let mut text = String::new();
    let nodes: Vec<Value> = roots
        .iter()
        .map(|&i| node(&g, i, 0, &mut text, &ready))
        .collect();
    Ok(Out::new(text, Value::Array(nodes)).notes(output::skipped_notes(&snap.problems)))
}
