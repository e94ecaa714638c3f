use crate::app::check::CheckReport;
use crate::cli::{exit, Ctx, Out};

/// Validate the whole ticket tree: frontmatter schema, unknown fields, duplicate IDs (also
/// those differing only in case), dangling dependencies and parents, cycles, parents of the
/// wrong kind, files outside their parent's folder, links and submodules under .work/, files
/// and artifacts outside the repository, control characters. Prints one `path:line: message`
/// per problem, then `path:line: warning: …` for what wt skips (files named like tickets that
/// it does not read, unreadable times); exit 1 if there are problems.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let r = crate::app::check::check_tip(&ctx.workspace()?)?;
    let code = if r.ok { exit::OK } else { exit::ERROR };
    Ok(Out::new(r, render_text).code(code))
}

fn render_text(r: &CheckReport) -> String {
    let mut text = String::new();
    for p in &r.problems {
        text.push_str(&crate::model::text::one_line(&p.to_string()));
        text.push('\n');
    }
    for w in &r.warnings {
        let mut w = w.clone();
        w.message = format!("warning: {}", w.message);
        text.push_str(&crate::model::text::one_line(&w.to_string()));
        text.push('\n');
    }
    if r.problems.is_empty() {
        text.push_str(&format!(
            "ok: {}, no problems",
            crate::model::plural(r.tickets, "ticket")
        ));
        if !r.warnings.is_empty() {
            text.push_str(&format!(
                ", {}",
                crate::model::plural(r.warnings.len(), "warning")
            ));
        }
    }
    text
}
