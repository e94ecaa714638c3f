use crate::app::ci::Reporter;
use crate::app::hooks::{self, HookInstallReport, InstallReport, PreCommitReport};
use crate::app::report::SchemaVersion;
use crate::cli::{exit, Ctx, Out};
use clap::Subcommand;

/// Manage the pre-commit hook that keeps commits green.
///
/// The hook checks what is being committed: the staged ticket tree (as `wt check`) when
/// .work/ changes, and the CI checks (ci: in .work/config.yaml) when anything else changes,
/// with unstaged edits set aside meanwhile and restored exactly. It lives where git looks for
/// hooks (core.hooksPath and worktrees honoured). A pre-commit hook already there is kept and
/// run first (renamed to pre-commit.wt-chained); uninstall puts it back.
#[derive(Subcommand)]
pub enum HookCommand {
    /// Install (or update) the hook. Idempotent.
    Install,
    /// Remove exactly what install added.
    Uninstall,
    /// Show where the hook is and whether it is wt's.
    Status,
    /// Run a hook's checks now (what the installed hook calls).
    Run(RunArgs),
}

#[derive(clap::Args)]
pub struct RunArgs {
    /// The hook: pre-commit.
    #[arg(value_parser = ["pre-commit"])]
    pub name: String,
}

/// The line `wt init` and `wt hook install` print.
pub fn install_line(r: &InstallReport) -> String {
    let mut s = format!("hook: {} {}", r.action, r.hook);
    if r.method == "config" {
        s.push_str(" (run by git through hook.wt.command in the repository's git config)");
    }
    match &r.chained {
        Some(c) if r.moved => {
            s.push_str(&format!(" (your earlier hook is now {c} and runs first)"))
        }
        Some(c) => s.push_str(&format!(" (the earlier hook {c} runs first)")),
        None => {}
    }
    if let Some(a) = &r.advice {
        s.push_str(&format!("\nnote: {a}"));
    }
    s
}

pub fn run(cmd: HookCommand, ctx: &Ctx) -> Result<Out, crate::Error> {
    match cmd {
        HookCommand::Install => {
            let install = hooks::install(&ctx.cwd, std::env::current_exe().ok().as_deref())?;
            let r = HookInstallReport {
                schema_version: SchemaVersion,
                install,
            };
            Ok(Out::new(r, |r| install_line(&r.install)))
        }
        HookCommand::Uninstall => {
            let r = hooks::uninstall(&ctx.cwd)?;
            Ok(Out::new(r, |r| match (&r.removed, &r.restored) {
                (false, _) => format!("wt's hook is not installed at {}", r.hook),
                (true, _) if r.removed_from_config => {
                    "removed wt's hook from git config (hook.wt.*)".to_string()
                }
                (true, Some(p)) => format!("removed wt's hook; your earlier hook is back at {p}"),
                (true, None) => format!("removed {}", r.hook),
            }))
        }
        HookCommand::Status => Ok(Out::new(hooks::status(&ctx.cwd)?, status_text)),
        HookCommand::Run(_) => {
            let res = hooks::run_pre_commit(&ctx.cwd, &Reporter::stderr("wt pre-commit"))?;
            let mut notes = Vec::new();
            for w in &res.warnings {
                notes.push(format!("wt pre-commit: {w}"));
            }
            if let Some(r) = &res.refused {
                notes.push(format!("wt pre-commit: {r}"));
                notes.push("wt pre-commit: commit refused".into());
            }
            for p in &res.problems {
                notes.push(format!("wt pre-commit: {p}"));
            }
            if !res.problems.is_empty() {
                notes.push(format!(
                    "wt pre-commit: the staged ticket tree has {}; commit refused",
                    crate::model::plural(res.problems.len(), "problem")
                ));
            }
            if let Some(run) = &res.ci {
                if run.green() {
                    if run.record.checks.is_empty() {
                        notes.push(
                            "wt pre-commit: no CI checks configured (ci: in .work/config.yaml)"
                                .into(),
                        );
                    } else {
                        notes.push(format!(
                            "wt pre-commit: CI green on the staged tree {}{}",
                            crate::app::ci::short_id(&run.record.tree),
                            if run.reused { " (reused)" } else { "" }
                        ));
                    }
                } else {
                    notes.push(format!("wt pre-commit: {}", run.red_summary()));
                    notes.push(
                        "wt pre-commit: commit refused; fix it (`wt ci` reruns the checks), or skip once with git commit --no-verify"
                            .into(),
                    );
                }
            }
            if let Some(n) = &res.note {
                notes.push(format!("wt pre-commit: {n}"));
            }
            let code = if res.interrupted {
                exit::INTERRUPTED
            } else if res.ok {
                exit::OK
            } else {
                exit::ERROR
            };
            let r = PreCommitReport {
                schema_version: SchemaVersion,
                pre_commit: res,
            };
            // Everything is said on stderr.
            Ok(Out::new(r, |_| String::new()).notes(notes).code(code))
        }
    }
}

fn status_text(s: &hooks::HookStatus) -> String {
    let mut text = format!("hooks folder: {}", s.hooks_dir);
    if let Some(p) = &s.hooks_path {
        text.push_str(&format!(" (core.hooksPath = {p})"));
    }
    text.push('\n');
    if s.installed {
        let how = match s.method {
            Some("config") => "wt's hook (in git config, hook.wt.command)",
            _ => "wt's hook",
        };
        match (&s.on_path, &s.wt) {
            (Some(p), _) => text.push_str(&format!("pre-commit: {how}, calling wt on PATH ({p})\n")),
            (None, Some(w)) if s.wt_found => text.push_str(&format!(
                "pre-commit: {how}; no wt on PATH, so it calls {w} (the wt that installed it)\n"
            )),
            (None, Some(w)) => text.push_str(&format!(
                "pre-commit: {how}; no wt on PATH and {w} is gone: every commit fails until wt is on PATH (or `wt hook uninstall`)\n"
            )),
            (None, None) => text.push_str(&format!(
                "pre-commit: {how}; no wt on PATH: every commit fails until wt is on PATH (or `wt hook uninstall`)\n"
            )),
        }
    } else if s.other_hook {
        text.push_str("pre-commit: a hook that is not wt's (wt hook install chains it)\n");
    } else {
        text.push_str("pre-commit: not installed (wt hook install)\n");
    }
    if let Some(c) = &s.chained {
        text.push_str(&format!("chained: {c} runs first\n"));
    }
    text
}
