use crate::app::init::InitReport;
use crate::cli::{output, Ctx, Out};

/// Set this repository up for wt: commit .work/config.yaml and the ticket templates.
///
/// The state branch is the branch checked out now unless --branch says otherwise. The commit
/// touches only .work/ and leaves anything you have staged alone. Running it again is a no-op
/// (apart from installing the hook).
///
/// The config gets CI checks proposed from the project found at the root (Cargo.toml: cargo
/// fmt, clippy, test; package.json: its type-check, lint, test and build scripts). The
/// pre-commit hook is installed (see `wt hook`) unless --no-hook.
#[derive(clap::Args)]
pub struct Args {
    /// Branch to keep the ticket state on (default: the current branch).
    #[arg(long)]
    pub branch: Option<String>,
    /// Do not install the pre-commit hook.
    #[arg(long)]
    pub no_hook: bool,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let hook = if args.no_hook {
        None
    } else {
        Some(crate::app::init::HookRequest {
            wt: std::env::current_exe().ok(),
        })
    };
    let report = crate::app::init::init(
        &ctx.cwd,
        &crate::app::init::InitOptions {
            branch: args.branch,
            hook,
        },
    )?;
    let notes = output::warning_notes(&report.warnings);
    Ok(Out::new(report, render_text).notes(notes))
}

fn render_text(report: &InitReport) -> String {
    let text = if report.already {
        format!("wt is already set up on branch {}", report.branch)
    } else {
        let mut s = format!("wt set up on branch {}:\n", report.branch);
        for p in &report.created {
            s.push_str(&format!("  created {p}\n"));
        }
        match &report.ci {
            Some(d) if !d.checks.is_empty() => {
                let names: Vec<&str> = d.checks.iter().map(|c| c.name.as_str()).collect();
                s.push_str(&format!(
                    "ci: found {}, proposed checks {} (edit ci: in .work/config.yaml)\n",
                    d.source,
                    names.join(", ")
                ));
            }
            Some(d) => s.push_str(&format!(
                "ci: found {} but none of its scripts wt looks for; add checks under ci: in .work/config.yaml\n",
                d.source
            )),
            None => s.push_str(
                "ci: no project type recognised; add checks under ci: in .work/config.yaml\n",
            ),
        }
        s.push_str("next: wt new phase-spec \"…\"  or  wt import plan.json");
        s
    };
    let text = match &report.hook {
        Some(h) => format!("{text}\n{}", super::hook::install_line(h)),
        None => text,
    };
    text
}
