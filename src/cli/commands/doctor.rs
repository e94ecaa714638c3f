use crate::app::doctor::{Report, Severity};
use crate::cli::{exit, Ctx, Out};

/// Find what crashed processes left behind; with --fix, repair what is safe and say what
/// changed.
///
/// Looks for: interrupted wt writes whose worktree files were not refreshed, git lock files
/// (`refs/heads/<branch>.lock`, `index.lock`, ...) left by killed processes, wt's temporary
/// files, ticket files that differ from the state branch, ticket problems (`wt check`), and
/// what `wt run` left: orphan ticket worktrees and `wt/<ID>` branches (removed by --fix unless
/// they hold work not on the state branch) and a merge killed before it refreshed checkouts.
/// A ref lock counts as stale once it is older than WT_STALE_LOCK_SECS (default 5) seconds;
/// an `index.lock` is removed only when it provably belonged to a killed wt. Exit code 0 when
/// nothing is left to repair, 1 otherwise.
#[derive(clap::Args)]
pub struct Args {
    /// Repair what is safe to repair (and report each change).
    #[arg(long)]
    pub fix: bool,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let report = crate::app::doctor::doctor(&ctx.workspace_as_is()?, args.fix)?;
    let code = if report.ok { exit::OK } else { exit::ERROR };
    let fix = args.fix;
    Ok(Out::new(report, move |r| render_text(r, fix)).code(code))
}

fn render_text(report: &Report, fix: bool) -> String {
    let mut text = String::new();
    for f in &report.findings {
        let label = match f.severity {
            Severity::Fixed => "fixed",
            Severity::Problem => "problem",
            Severity::Note => "note",
        };
        text.push_str(&format!("{label}: {}\n", f.message));
        if f.severity != Severity::Fixed {
            if let Some(h) = &f.hint {
                text.push_str(&format!("  hint: {h}\n"));
            }
        }
    }
    let fixed = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Fixed)
        .count();
    if report.ok {
        text.push_str(&match fixed {
            0 => "ok: nothing to repair\n".to_string(),
            n => format!("ok: repaired {n} thing(s); nothing else to repair\n"),
        });
    } else if !fix {
        text.push_str("run `wt doctor --fix` to repair what is safe to repair\n");
    }
    text
}
