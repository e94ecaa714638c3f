use serde_json::json;

use crate::cli::{output, Ctx, Out};

/// Set this repository up for wt: commit .work/config.yaml and the ticket templates.
///
/// The state branch is the branch checked out now unless --branch says otherwise. The commit
/// touches only .work/ and leaves anything you have staged alone. Running it again is a no-op.
#[derive(clap::Args)]
pub struct Args {
    /// Branch to keep the ticket state on (default: the current branch).
    #[arg(long)]
    pub branch: Option<String>,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, wt::Error> {
    let report = wt::ops::init::init(
        &ctx.cwd,
        &wt::ops::init::InitOptions {
            branch: args.branch,
        },
    )?;
    let text = if report.already {
        format!("wt is already set up on branch {}", report.branch)
    } else {
        let mut s = format!("wt set up on branch {}:\n", report.branch);
        for p in &report.created {
            s.push_str(&format!("  created {p}\n"));
        }
        s.push_str("next: wt new phase-spec \"…\"  or  wt import plan.json");
        s
    };
    Ok(Out::new(text, json!(report)).notes(output::warning_notes(&report.warnings)))
}
