use crate::app::report::SchemaVersion;
use crate::app::run::fake::{self, FakeOptions};
use crate::cli::{Ctx, Out};

/// A scripted agent for `wt run` demos, tests and benchmarks (hidden): it writes and commits
/// the ticket's file, ticks its criteria and prints the completion signal. See
/// src/app/run/fake.rs for the directives it obeys.
#[derive(clap::Args)]
pub struct Args {
    /// Milliseconds to wait before working (a stand-in for thinking).
    #[arg(long, default_value_t = 0)]
    pub sleep_ms: u64,
    /// Be the fake auditor: read the audit prompt, print `<pass/>` or a `<fail>` block.
    #[arg(long)]
    pub audit: bool,
}

#[derive(serde::Serialize)]
struct Said {
    schema_version: SchemaVersion,
    text: String,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let text = fake::fake_agent(
        &ctx.cwd,
        &FakeOptions {
            sleep: std::time::Duration::from_millis(args.sleep_ms),
            audit: args.audit,
        },
    )?;
    Ok(Out::new(
        Said {
            schema_version: SchemaVersion,
            text,
        },
        |s| s.text.clone(),
    ))
}
