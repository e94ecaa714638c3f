//! The CI-green rule: the checks named in `.work/config.yaml` (`ci:` name → shell command),
//! run in order from the repository root, with their verdict recorded per tree.
//!
//! - [`tree`]: which tree is checked — the code as git would commit it, without `.work/`;
//! - [`record`]: results cached by tree id under `<common git dir>/wt/ci/` (derived, safe to
//!   delete); a green result for tree X is reused when X is asked about again;
//! - [`runner`]: running the commands, streaming or summarising their output, Ctrl-C;
//! - [`detect`]: the checks `wt init` proposes for a Cargo or npm project;
//! - [`gate`]: `wt done`'s use of all this.
//!
//! Commands come only from the committed config. Nothing else — no ticket title, ID or body —
//! is ever passed to a shell.

pub mod detect;
pub mod gate;
pub mod record;
pub mod runner;
pub mod tree;

use std::path::{Path, PathBuf};

use crate::store::history::Order;
use crate::store::Oid;
use serde::{Deserialize, Serialize};

use crate::app::report::SchemaVersion;
use crate::error::{Error, Result};
use crate::model::config::{Config, CONFIG_PATH};
use crate::workspace::Workspace;

pub use record::{CheckResult, CheckStatus, Record};
pub use runner::{Reporter, RunOptions};

/// One configured check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub command: String,
}

/// What is wrong with one `ci:` entry, if anything: (message, hint). Names must be simple
/// words (they appear in commit trailers); commands must not be empty.
pub fn entry_problem(name: &str, command: &str) -> Option<(String, &'static str)> {
    let simple = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !simple {
        return Some((
            format!("ci check name `{name}` is not a simple name"),
            "use letters, digits, `_`, `-` and `.` (e.g. type_check, lint, test)",
        ));
    }
    if command.trim().is_empty() {
        return Some((
            format!("ci check `{name}` has an empty command"),
            "give it a shell command, or remove it",
        ));
    }
    None
}

/// The checks of `config`, in the order written; the first bad entry is an error.
pub fn checks_from(config: &Config) -> Result<Vec<Check>> {
    let mut out = Vec::with_capacity(config.ci.len());
    for (name, command) in &config.ci {
        if let Some((msg, hint)) = entry_problem(name, command) {
            return Err(Error::invalid(format!("{CONFIG_PATH}: {msg}")).with_hint(hint));
        }
        out.push(Check {
            name: name.clone(),
            command: command.clone(),
        });
    }
    Ok(out)
}

/// The outcome of asking "is this tree green?": a fresh run or a reused record.
#[derive(Debug, Clone, Serialize)]
pub struct CiRun {
    pub record: Record,
    /// True when an earlier green record for the same tree and checks was reused.
    pub reused: bool,
    /// Where the record is kept.
    pub path: PathBuf,
    /// Set when a run was cut short by Ctrl-C / SIGTERM.
    pub interrupted: bool,
    /// Paths that changed while the checks ran (the verdict then is not recorded as green).
    pub changed_during_run: Vec<String>,
}

impl CiRun {
    pub fn green(&self) -> bool {
        self.record.green && !self.interrupted && self.changed_during_run.is_empty()
    }

    /// The first failing check, if any.
    pub fn failed(&self) -> Option<&CheckResult> {
        self.record
            .checks
            .iter()
            .find(|c| c.status == CheckStatus::Fail)
    }

    /// Trailers for a commit that relies on this run: the tree and each check's verdict.
    pub fn trailers(&self) -> Vec<(String, String)> {
        let mut t = vec![("Wt-CI-Tree".to_string(), self.record.tree.clone())];
        if self.record.checks.is_empty() {
            t.push(("Wt-CI".into(), "none configured".into()));
        }
        for c in &self.record.checks {
            t.push(("Wt-CI".into(), c.summary()));
        }
        if self.reused {
            t.push((
                "Wt-CI-Reused".into(),
                format!("green since {}", self.record.finished_at),
            ));
        }
        t
    }

    /// A human summary of a red run: the failing check and the tail of its output.
    pub fn red_summary(&self) -> String {
        let short = short_id(&self.record.tree);
        if self.interrupted {
            return format!("the CI checks were interrupted on tree {short}");
        }
        if !self.changed_during_run.is_empty() {
            return format!(
                "the working tree changed while the checks ran on tree {short} (a check rewrote files, or they were edited meanwhile): {}",
                self.changed_during_run.join(", ")
            );
        }
        match self.failed() {
            Some(f) => {
                let mut s = format!(
                    "CI is red on tree {short}: check `{}` failed ({})",
                    f.name,
                    f.exit_description()
                );
                if !f.tail.is_empty() {
                    s.push_str(&format!(
                        "\n  last {} of its output:",
                        crate::model::plural(f.tail.len(), "line")
                    ));
                    for l in &f.tail {
                        s.push_str(&format!("\n    | {l}"));
                    }
                }
                if let Some(log) = &f.log {
                    s.push_str(&format!("\n  full output: {log}"));
                }
                s
            }
            None => format!("CI is red on tree {short}"),
        }
    }
}

/// The `detail` of the error refusing `wt done` on red CI.
#[derive(Debug, Clone, Serialize)]
pub struct CiRefused<'a> {
    /// The red run.
    pub ci: &'a CiRun,
}

/// `wt ci`: the verdict on the working tree.
#[derive(Debug, Clone, Serialize)]
pub struct CiReport {
    pub schema_version: SchemaVersion,
    /// Every check passed on the tree, which did not change meanwhile (true when no check is
    /// configured).
    pub green: bool,
    /// Some check is configured under `ci:`.
    pub configured: bool,
    #[serde(flatten)]
    pub outcome: CiOutcome,
}

/// What `wt ci` did.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum CiOutcome {
    /// The checks ran, or a green result for the same tree and checks was reused.
    Ran(CiRun),
    /// No check is configured: `checks` is empty.
    NotConfigured { checks: Vec<Check> },
}

impl CiReport {
    pub fn not_configured() -> CiReport {
        CiReport {
            schema_version: SchemaVersion,
            green: true,
            configured: false,
            outcome: CiOutcome::NotConfigured { checks: Vec::new() },
        }
    }
    pub fn ran(run: CiRun) -> CiReport {
        CiReport {
            schema_version: SchemaVersion,
            green: run.green(),
            configured: true,
            outcome: CiOutcome::Ran(run),
        }
    }
}

/// `wt ci --since REV`: the commits after REV that change code, and their verdicts here.
#[derive(Debug, Clone, Serialize)]
pub struct CiSinceReport {
    pub schema_version: SchemaVersion,
    /// REV as given.
    pub since: String,
    /// Newest first.
    pub commits: Vec<CommitCheck>,
    /// How many of them are not green here.
    pub not_green: usize,
}

impl CiSinceReport {
    pub fn new(since: &str, commits: Vec<CommitCheck>) -> CiSinceReport {
        CiSinceReport {
            schema_version: SchemaVersion,
            since: since.to_string(),
            not_green: commits.iter().filter(|c| c.status != "green").count(),
            commits,
        }
    }
}

/// `wt ci`: run (or reuse) the checks configured at the state branch's tip on the working
/// tree of `ws`'s current worktree.
pub fn ci(ws: &Workspace, opts: &RunOptions, reporter: &Reporter) -> Result<CiReport> {
    let checks = checks_from(&ws.config()?)?;
    if checks.is_empty() {
        return Ok(CiReport::not_configured());
    }
    Ok(CiReport::ran(check_worktree(ws, &checks, opts, reporter)?))
}

/// `wt ci --since REV`: the commits after `rev` that change code, and their verdicts here.
pub fn ci_since(ws: &Workspace, rev: &str) -> Result<CiSinceReport> {
    let checks = checks_from(&ws.config()?)?;
    Ok(CiSinceReport::new(rev, since(ws, rev, &checks)?))
}

/// Run (or reuse) the checks on the working tree of `ws`'s current worktree.
pub fn check_worktree(
    ws: &Workspace,
    checks: &[Check],
    opts: &RunOptions,
    reporter: &Reporter,
) -> Result<CiRun> {
    let root = ws
        .workdir()
        .ok_or_else(|| {
            Error::setup("this repository has no working tree to run the CI checks in")
                .with_hint("run wt in a checkout, or pass --no-ci --reason TEXT to `wt done`")
        })?
        .to_path_buf();
    let tree = tree::worktree_code_tree(&ws.store)?;
    let dir = record::dir(ws.store.common_dir());
    if let Some(known) = known_verdict(&dir, tree, checks, "worktree", opts.rerun) {
        if known.reused {
            reporter.note(&format!(
                "green on tree {} since {} (reused; `wt ci --rerun` runs the checks again)",
                short_id(&known.record.tree),
                known.record.finished_at
            ));
        }
        return Ok(known);
    }
    let outcome = runner::run(&root, checks, opts, reporter, &record::logs_dir(&dir, tree))?;
    // The verdict is about `tree` only if the checks saw `tree` from start to end.
    let after = tree::worktree_code_tree(&ws.store)?;
    let changed = if after == tree {
        Vec::new()
    } else {
        tree::changed_paths(&ws.store, tree, after)?
    };
    finish_run(&dir, tree, "worktree", &outcome, changed)
}

/// Where the checks of one commit's code run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunIn {
    /// The working tree holds exactly the commit's code (HEAD is the commit and nothing
    /// outside `.work/` differs, untracked files included): run there, build caches and all.
    WorkingTree,
    /// A clean checkout of the commit in a temporary directory.
    CleanCheckout,
}

/// Run (or reuse) the checks on the code of `commit` (its tree without `.work/`): a green
/// record of that tree is reused; otherwise they run where `run_in` says.
pub fn check_commit(
    ws: &Workspace,
    commit: Oid,
    run_in: RunIn,
    checks: &[Check],
    opts: &RunOptions,
    reporter: &Reporter,
) -> Result<CiRun> {
    let tree = tree::code_tree(&ws.store, ws.store.commit_tree(commit)?)?;
    let dir = record::dir(ws.store.common_dir());
    if let Some(known) = known_verdict(&dir, tree, checks, "commit", opts.rerun) {
        if known.reused {
            reporter.note(&format!(
                "green on tree {} since {} (reused; `wt ci --rerun` runs the checks again)",
                short_id(&known.record.tree),
                known.record.finished_at
            ));
        }
        return Ok(known);
    }
    let logs = record::logs_dir(&dir, tree);
    match (run_in, ws.workdir()) {
        (RunIn::WorkingTree, Some(root)) => {
            let outcome = runner::run(root, checks, opts, reporter, &logs)?;
            let after = tree::worktree_code_tree(&ws.store)?;
            let changed = if after == tree {
                Vec::new()
            } else {
                tree::changed_paths(&ws.store, tree, after)?
            };
            finish_run(&dir, tree, "worktree", &outcome, changed)
        }
        _ => {
            let sha = commit.to_string();
            reporter.note(&format!(
                "running the checks on a clean checkout of {} (the working tree is not that commit)",
                short_id(&sha)
            ));
            let checkout = ws.store.temp_checkout(commit)?;
            let outcome = runner::run(checkout.path(), checks, opts, reporter, &logs)?;
            drop(checkout);
            finish_run(&dir, tree, "commit", &outcome, Vec::new())
        }
    }
}

/// The verdict for `tree` when nothing needs to run: a green record of the same checks
/// (unless `rerun`), or an empty green one when no checks are configured.
pub fn known_verdict(
    dir: &Path,
    tree: Oid,
    checks: &[Check],
    source: &str,
    rerun: bool,
) -> Option<CiRun> {
    let (record, reused) = if checks.is_empty() {
        (
            Record::new(tree, source, &runner::RunOutcome::empty()),
            false,
        )
    } else if rerun {
        return None;
    } else {
        (record::reusable(dir, tree, checks)?, true)
    };
    Some(CiRun {
        path: record::path(dir, tree),
        record,
        reused,
        interrupted: false,
        changed_during_run: Vec::new(),
    })
}

/// The verdict of a run on `tree`; recorded unless it was interrupted or `changed` names
/// files that changed while it ran.
pub fn finish_run(
    dir: &Path,
    tree: Oid,
    source: &str,
    outcome: &runner::RunOutcome,
    changed: Vec<String>,
) -> Result<CiRun> {
    let rec = Record::new(tree, source, outcome);
    if !outcome.interrupted && changed.is_empty() {
        record::save(dir, &rec)?;
    }
    Ok(CiRun {
        path: record::path(dir, tree),
        record: rec,
        reused: false,
        interrupted: outcome.interrupted,
        changed_during_run: changed,
    })
}

/// The first 12 hex digits of an object id, for messages.
pub fn short_id(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// Parse a hex object id from a record or a git command.
pub fn parse_oid(s: &str) -> Result<Oid> {
    Oid::from_str(s.trim()).map_err(|_| Error::internal(format!("not an object id: `{s}`")))
}

/// One commit in `wt ci --since`: was its code ever checked here?
#[derive(Debug, Clone, Serialize)]
pub struct CommitCheck {
    pub commit: String,
    pub subject: String,
    /// Its code tree (the commit's tree without `.work/`).
    pub tree: String,
    /// `green`, `red` or `unchecked` (no record on this machine).
    pub status: String,
    /// Whether the record ran the checks configured now.
    pub same_checks: bool,
    pub merge: bool,
}

/// Commits after `since` up to the state branch's tip that change code (not only `.work/`),
/// newest first, each with the verdict recorded for its code tree, if any.
pub fn since(ws: &Workspace, since: &str, checks: &[Check]) -> Result<Vec<CommitCheck>> {
    let base = ws.store.resolve_commit(since).ok_or_else(|| {
        Error::not_found(format!("no commit `{since}`"))
            .with_hint("give a commit, branch or tag, e.g. --since HEAD~10 or --since origin/main")
    })?;
    let Some(tip) = ws.tip()? else {
        return Ok(Vec::new());
    };
    let dir = record::dir(ws.store.common_dir());
    let mut out = Vec::new();
    for c in ws.store.history(tip, Some(base), Order::TopoTime)? {
        let c = c?;
        let code = tree::code_tree(&ws.store, c.tree)?;
        // A first parent that cannot be read counts as none, like a root commit.
        let parent_tree = c.parents.first().map(|p| ws.store.commit_tree(*p));
        let parent_code = match parent_tree {
            Some(Ok(t)) => Some(tree::code_tree(&ws.store, t)?),
            _ => None,
        };
        if parent_code == Some(code) {
            continue;
        }
        let rec = record::load(&dir, code);
        out.push(CommitCheck {
            commit: c.id.to_string(),
            subject: c.summary,
            tree: code.to_string(),
            status: match &rec {
                Some(r) if r.green => "green",
                Some(_) => "red",
                None => "unchecked",
            }
            .into(),
            same_checks: rec.as_ref().is_some_and(|r| r.ran(checks)),
            merge: c.parents.len() > 1,
        });
    }
    Ok(out)
}
