use crate::app::onboarding::PrimeReport;
use crate::cli::{Ctx, Out};

/// Print what an agent needs to work on wt tickets: the loop (ready, claim, context, work,
/// progress, tick, commit, done), what each exit code means, and the rules.
///
/// At most 2,048 bytes, meant to be read at the start of every session (`wt setup` points
/// AGENTS.md at it). The first line names the text's version; `--json` gives it as
/// `prime_version`.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args, _ctx: &Ctx) -> Result<Out, crate::Error> {
    Ok(
        Out::new(crate::app::onboarding::prime(), |r: &PrimeReport| {
            r.text.clone()
        })
        .exact(),
    )
}
