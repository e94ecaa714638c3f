use crate::app::ci::{self, CiOutcome, CiReport, CiSinceReport, Reporter, RunOptions};
use crate::cli::{exit, Ctx, Out};

/// Run the CI checks on the working tree.
///
/// The checks are `ci:` in .work/config.yaml (name: shell command), as committed on the state
/// branch, run in order from the repository root; output is streamed to stderr (--quiet: only
/// progress, and the tail of a failing check). Stops at the first failure unless
/// --keep-going; exits 1 on red. The tree checked is the working tree as git would commit it
/// with everything added, without .work/; its result is recorded under the git dir, and a
/// green result for the same tree and checks is reused instead of running again (--rerun
/// runs anyway).
///
/// --since REV lists the commits on the state branch after REV that change code, with the
/// verdict recorded for each here (green, red, or unchecked: e.g. committed with
/// --no-verify); exit 1 if any is not green.
#[derive(clap::Args)]
pub struct Args {
    /// Run every check even after one failed.
    #[arg(long)]
    pub keep_going: bool,
    /// Run even when a green result for this exact tree exists.
    #[arg(long)]
    pub rerun: bool,
    /// Do not stream the checks' output.
    #[arg(long, short)]
    pub quiet: bool,
    /// List commits after REV on the state branch and whether they were checked.
    #[arg(long, value_name = "REV", conflicts_with_all = ["keep_going", "rerun", "quiet"])]
    pub since: Option<String>,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let ws = ctx.workspace()?;
    if let Some(rev) = &args.since {
        let r = ci::ci_since(&ws, rev)?;
        let code = if r.not_green == 0 {
            exit::OK
        } else {
            exit::ERROR
        };
        return Ok(Out::new(r, render_since).code(code));
    }
    let opts = RunOptions {
        keep_going: args.keep_going,
        stream: !args.quiet,
        rerun: args.rerun,
    };
    let r = ci::ci(&ws, &opts, &Reporter::stderr("wt ci"))?;
    let code = match &r.outcome {
        CiOutcome::Ran(run) if run.interrupted => exit::INTERRUPTED,
        _ if r.green => exit::OK,
        _ => exit::ERROR,
    };
    Ok(Out::new(r, render_text).code(code))
}

fn render_text(r: &CiReport) -> String {
    let run = match &r.outcome {
        CiOutcome::NotConfigured { .. } => {
            return "no CI checks configured (add them under ci: in .work/config.yaml)".into()
        }
        CiOutcome::Ran(run) => run,
    };
    if run.green() {
        let parts: Vec<String> = run
            .record
            .checks
            .iter()
            .map(|c| format!("{} {}", c.name, ci::record::secs(c.duration_ms)))
            .collect();
        format!(
            "green: tree {}{}: {}",
            ci::short_id(&run.record.tree),
            if run.reused { " (reused)" } else { "" },
            parts.join(", ")
        )
    } else {
        format!("red: {}", run.red_summary())
    }
}

fn render_since(r: &CiSinceReport) -> String {
    let mut text = String::new();
    for c in &r.commits {
        text.push_str(&format!(
            "{}  {:<9}  {}{}{}\n",
            ci::short_id(&c.commit),
            c.status,
            c.subject,
            if c.merge { "  (merge)" } else { "" },
            if c.status != "unchecked" && !c.same_checks {
                "  (other checks)"
            } else {
                ""
            }
        ));
    }
    text.push_str(&format!(
        "{} commit(s) after {} change code; {} not green here",
        r.commits.len(),
        r.since,
        r.not_green
    ));
    text
}
