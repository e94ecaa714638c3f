use serde_json::json;

use crate::cli::{output, Ctx, Out};

/// Show one ticket: its file as stored on the state branch, and whether it is ready.
#[derive(clap::Args)]
pub struct Args {
    /// Ticket ID or unique prefix.
    pub id: String,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let ws = ctx.workspace()?;
    let snap = ws.snapshot()?;
    let t = snap.resolve(&args.id)?;
    let text = ws.read_text(&snap, &t.path)?;
    let g = snap.graph()?;
    let i = g.index_of(&t.id);
    let blockers: Vec<String> = i
        .map(|i| g.blockers(i))
        .unwrap_or_default()
        .iter()
        .map(|b| b.to_string())
        .collect();
    let ready = i.is_some_and(|i| g.is_ready(i));
    let body = crate::model::frontmatter::split(&text)
        .map(|s| s.body.to_string())
        .unwrap_or_default();
    let mut j = output::ticket_json(t);
    j["body"] = json!(body);
    j["ready"] = json!(ready);
    j["blocked_by"] = json!(blockers);
    let mut s = format!("{}\n{text}", t.path);
    if !s.ends_with('\n') {
        s.push('\n');
    }
    if t.status == crate::model::ticket::Status::Open {
        if ready {
            s.push_str("-- ready\n");
        } else {
            s.push_str(&format!("-- blocked: {}\n", blockers.join("; ")));
        }
    }
    Ok(Out::new(s, j))
}
