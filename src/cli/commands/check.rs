use crate::app::check::CheckReport;
use crate::cli::{exit, Ctx, Out};

/// Validate the whole ticket tree: frontmatter schema, unknown fields, duplicate IDs,
/// dangling dependencies and parents, cycles, parents of the wrong kind, files outside their
/// parent's folder. Prints one `path:line: message` per problem; exit 1 if there are any.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let r = crate::app::check::check_tip(&ctx.workspace()?)?;
    let code = if r.ok { exit::OK } else { exit::ERROR };
    Ok(Out::new(r, render_text).code(code))
}

fn render_text(r: &CheckReport) -> String {
    if r.problems.is_empty() {
        return format!(
            "ok: {}, no problems",
            crate::model::plural(r.tickets, "ticket")
        );
    }
    let mut text = String::new();
    for p in &r.problems {
        text.push_str(&format!("{p}\n"));
    }
    text
}
