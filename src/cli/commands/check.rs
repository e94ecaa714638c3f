use serde_json::json;

use crate::cli::{exit, Ctx, Out};

/// Validate the whole ticket tree: frontmatter schema, unknown fields, duplicate IDs,
/// dangling dependencies and parents, cycles, parents of the wrong kind, files outside their
/// parent's folder. Prints one `path:line: message` per problem; exit 1 if there are any.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let ws = ctx.workspace()?;
    let snap = ws.snapshot()?;
    let problems = crate::app::check::check(&ws, &snap)?;
    let mut text = String::new();
    for p in &problems {
        text.push_str(&format!("{p}\n"));
    }
    if problems.is_empty() {
        text = format!("ok: {} tickets, no problems", snap.tickets.len());
    }
    let code = if problems.is_empty() {
        exit::OK
    } else {
        exit::ERROR
    };
    let json =
        json!({"ok": problems.is_empty(), "tickets": snap.tickets.len(), "problems": problems});
    crate::workspace::finished_with(snap);
    Ok(Out::new(text, json).code(code))
}
