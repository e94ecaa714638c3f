use crate::app::onboarding::SetupReport;
use crate::cli::{Ctx, Out};

/// Point the project's agent instructions at `wt prime`: write or update a marked block in
/// AGENTS.md (created if missing) and in CLAUDE.md where it exists.
///
/// Only the text between the `<!-- wt:setup begin … -->` and `<!-- wt:setup end -->` lines is
/// ever replaced; running it again changes nothing. Nothing is committed: review and commit
/// the files yourself.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let r = crate::app::onboarding::setup_in(&ctx.cwd)?;
    Ok(Out::new(r, render_text))
}

fn render_text(r: &SetupReport) -> String {
    r.files
        .iter()
        .map(|f| match &f.note {
            Some(n) => format!("{}: {} ({n})", f.path, f.action),
            None => format!("{}: {}", f.path, f.action),
        })
        .collect::<Vec<_>>()
        .join("\n")
}
