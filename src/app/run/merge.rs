//! The merge queue step of `wt run`: bring one ticket branch's work onto the integration
//! branch's current tip as one commit (or a merge commit), run the CI checks on the result,
//! and move the branch by compare-and-swap only when they are green — so the integration
//! branch's first-parent history never holds a red commit.
//!
//! - The ticket branch's `.work/` is ignored: the tickets live on the state branch, and the
//!   worktree's copy is stale. "Theirs" is the branch's tree with `.work` as the merge base
//!   had it, so the target's `.work/` wins.
//! - One merge at a time per repository: a lock file under the git common dir
//!   (`wt/run/merge.lock`, an OS advisory lock released when its process dies, however it
//!   dies), on top of the compare-and-swap that settles races with other clones.
//! - The final step (check the checkouts, move the branch, bring the checkouts along) runs
//!   under wt's writer lock, so no wt state write interleaves with it. A checkout of the
//!   target with local changes in a path the merge changes is refused before the branch
//!   moves; a crash between the move and the checkout update is finished by the next merge
//!   or by `wt doctor --fix` (a journal under `wt/run/`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::app::ci::{self, Reporter, RunIn, RunOptions};
use crate::error::{Error, Result};
use crate::model::config::WORK_DIR;
use crate::store::lock::FileLock;
use crate::store::merge::TreeMerge;
use crate::store::replay::BranchMove;
use crate::store::Oid;
use crate::workspace::Workspace;

/// How a ticket's work lands on the integration branch (`run.merge`): one new commit on the
/// target's tip (squash, the default) or a merge commit with the ticket branch second.
pub use crate::model::config::MergeMode;

/// What to integrate, and where.
#[derive(Debug, Clone)]
pub struct MergeRequest<'a> {
    pub ticket_id: &'a str,
    pub title: &'a str,
    /// The ticket branch (`wt/<ID>`).
    pub branch: &'a str,
    /// The integration branch, e.g. `main`.
    pub target: &'a str,
    pub mode: MergeMode,
    pub agent: &'a str,
}

/// What came of one integration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Integrated {
    /// The target moved by compare-and-swap to `commit`; CI is green on it.
    Merged { commit: Oid },
    /// The branch has no code change the target lacks.
    Nothing,
    /// Both sides changed these paths in ways that do not merge; the target is untouched.
    Conflict { paths: Vec<String> },
    /// CI is red on the merged result (the failing check and the tail of its output); the
    /// target is untouched.
    Red { summary: String },
}

/// Times the merge is redone because the target moved between reading its tip and moving
/// it. A move of `.work/` alone (a wt state commit) makes a cheap redo: the code tree is the
/// same, so the CI verdict is reused.
const MAX_ATTEMPTS: u32 = 50;
/// Of those, how many may run the checks afresh (the target's code moved while they ran).
const MAX_CI_RUNS: u32 = 5;
/// How long to wait for another process's merge (its CI run) before giving up.
const QUEUE_TIMEOUT: Duration = Duration::from_secs(3 * 3600);

/// Integrate `req` (see the module doc), reporting the CI checks and any warning on stderr.
pub fn integrate(ws: &Workspace, req: &MergeRequest) -> Result<Integrated> {
    integrate_with(ws, req, &Reporter::stderr("wt run"))
}

/// [`integrate`] with the caller's reporter: CI progress and warnings (a checkout whose
/// index stayed locked) go there.
pub fn integrate_with(
    ws: &Workspace,
    req: &MergeRequest,
    reporter: &Reporter,
) -> Result<Integrated> {
    let out = integrate_full(ws, req, reporter)?;
    for w in &out.warnings {
        reporter.note(w);
    }
    Ok(out.integrated)
}

/// What [`integrate_full`] came to, with its warnings.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub integrated: Integrated,
    /// Non-fatal problems: a checkout of the target that could not follow a landed merge
    /// (its index stayed locked, or an edit got in the way); an interrupted earlier merge
    /// finished or not. Each names the checkout and what to run.
    pub warnings: Vec<String>,
}

/// [`integrate`] with CI progress on `reporter` and warnings returned (not reported), for a
/// caller that shows them its own way (e.g. with `Reporter::silent()`).
pub fn integrate_full(ws: &Workspace, req: &MergeRequest, reporter: &Reporter) -> Result<Outcome> {
    let mut warnings = Vec::new();
    let integrated = integrate_in(ws, req, reporter, &mut warnings)?;
    Ok(Outcome {
        integrated,
        warnings,
    })
}

fn integrate_in(
    ws: &Workspace,
    req: &MergeRequest,
    reporter: &Reporter,
    warnings: &mut Vec<String>,
) -> Result<Integrated> {
    for b in [req.branch, req.target] {
        if !crate::store::branch_name_is_valid(b) {
            return Err(Error::invalid(format!("`{b}` is not a valid branch name")));
        }
    }
    let checks = ci::checks_from(&ws.config()?)?;
    let _queue = MergeLock::acquire(ws.store.common_dir())?;
    // A merge killed between moving the branch and refreshing its checkouts.
    warnings.extend(finish_interrupted(ws)?);
    let branch_tip = ws.store.branch_tip(req.branch)?.ok_or_else(|| {
        Error::not_found(format!("the ticket branch {} does not exist", req.branch))
    })?;
    let opts = RunOptions::default();
    let mut ci_runs = 0;
    for _ in 0..MAX_ATTEMPTS {
        if ci_runs >= MAX_CI_RUNS {
            break;
        }
        let tip = ws.store.branch_tip(req.target)?.ok_or_else(|| {
            Error::not_found(format!(
                "the integration branch {} does not exist",
                req.target
            ))
        })?;
        let tree = match merged_tree(ws, tip, branch_tip)? {
            Merged::Nothing => return Ok(Integrated::Nothing),
            Merged::Conflict(paths) => return Ok(Integrated::Conflict { paths }),
            Merged::Tree(t) => t,
        };
        let parents = match req.mode {
            MergeMode::Squash => vec![tip],
            MergeMode::Merge => vec![tip, branch_tip],
        };
        // A checkout in the way is refused before the checks run too (they may take long);
        // the check that counts is the one under the writer lock below.
        let changed = ws.store.tree_diff_paths(ws.store.commit_tree(tip)?, tree)?;
        for c in &ws.store.checkouts_of(req.target)? {
            refuse_if_in_the_way(ws, c, req.target, &changed)?;
        }
        // The checks run on a commit of exactly the result; the commit that lands has the
        // same tree and carries their verdict.
        let probe = ws
            .store
            .make_commit(tree, &parents, &message(req, branch_tip, &[]))?;
        let run = ci::check_commit(ws, probe, RunIn::CleanCheckout, &checks, &opts, reporter)?;
        if run.interrupted {
            return Err(ci::runner::interrupted_error());
        }
        if !run.reused && !checks.is_empty() {
            ci_runs += 1;
        }
        if !run.green() {
            return Ok(Integrated::Red {
                summary: run.red_summary(),
            });
        }
        let trailers = run.trailers();
        let _writer = ws.lock()?;
        // No wt write can move the branch while the writer lock is held. If it moved while
        // the checks ran and its code did not change (wt's own state commits touch only
        // `.work/`), the merge is redone here on the new tip: same code, same verdict.
        let (tip, tree, changed) = match ws.store.branch_tip(req.target)? {
            Some(now) if now == tip => (tip, tree, changed),
            Some(now) => match merged_tree(ws, now, branch_tip)? {
                Merged::Tree(t)
                    if ci::tree::code_tree(&ws.store, t)?
                        == ci::tree::code_tree(&ws.store, tree)? =>
                {
                    let changed = ws.store.tree_diff_paths(ws.store.commit_tree(now)?, t)?;
                    (now, t, changed)
                }
                _ => continue,
            },
            None => continue,
        };
        let parents = match req.mode {
            MergeMode::Squash => vec![tip],
            MergeMode::Merge => vec![tip, branch_tip],
        };
        let commit = ws
            .store
            .make_commit(tree, &parents, &message(req, branch_tip, &trailers))?;
        let checkouts = ws.store.checkouts_of(req.target)?;
        for c in &checkouts {
            refuse_if_in_the_way(ws, c, req.target, &changed)?;
        }
        let journal = Journal::begin(ws, req.target, tip, commit, &checkouts)?;
        let log = format!("wt run: {} {}", mode_word(req.mode), req.branch);
        // Marks the ref lock as wt's while it is held (see crate::store::recovery).
        let marker = crate::store::recovery::RefMarker::new(&ws.store, req.target);
        let moved = ws.store.move_branch(req.target, Some(tip), commit, &log);
        drop(marker);
        match moved? {
            BranchMove::Raced => {
                journal.finish();
                // A ref lock left by a killed process: wait for it, clear it once stale.
                if let Some(n) =
                    crate::store::recovery::wait_or_clear_ref_lock(&ws.store, req.target)?
                {
                    warnings.push(n);
                }
                continue;
            }
            BranchMove::Moved => {
                let mut behind = false;
                // The merge has landed: a checkout that cannot follow (its index stayed
                // locked, or an edit made since the check is in the way) is a warning, and
                // the journal stays for `wt doctor --fix` or the next merge to finish.
                for c in &checkouts {
                    match ws.store.advance_checkout(c, tip, commit) {
                        Ok(None) => {}
                        Ok(Some(w)) => {
                            warnings.push(w);
                            behind = true;
                        }
                        Err(e) => {
                            let hint = e.hint.map(|h| format!(" ({h})")).unwrap_or_default();
                            warnings.push(format!("{}{hint}", e.message));
                            behind = true;
                        }
                    }
                }
                if !behind {
                    journal.finish();
                }
                return Ok(Integrated::Merged { commit });
            }
        }
    }
    Err(Error::busy(format!(
        "the branch {} kept moving while {} was merged and checked; gave up",
        req.target, req.branch
    ))
    .with_hint("another process is committing to it heavily; retry in a moment"))
}

fn mode_word(mode: MergeMode) -> &'static str {
    match mode {
        MergeMode::Squash => "squash",
        MergeMode::Merge => "merge",
    }
}

/// The merge of the branch onto the target's tip.
enum Merged {
    Tree(Oid),
    Nothing,
    Conflict(Vec<String>),
}

/// Merge the code of `branch_tip` onto `tip`: "theirs" is the branch's tree with `.work` as
/// the merge base had it, and the result keeps the tip's `.work` whatever the merge made of
/// it.
fn merged_tree(ws: &Workspace, tip: Oid, branch_tip: Oid) -> Result<Merged> {
    let store = &ws.store;
    let base = store.merge_base(tip, branch_tip)?;
    let base_tree = match base {
        Some(b) => Some(store.commit_tree(b)?),
        None => None,
    };
    let ours = store.commit_tree(tip)?;
    let theirs = store.tree_with_entry_of(store.commit_tree(branch_tip)?, WORK_DIR, base_tree)?;
    let tree = match store.merge_trees(base_tree, ours, theirs)? {
        TreeMerge::Conflict(paths) => return Ok(Merged::Conflict(paths)),
        TreeMerge::Clean(t) => store.tree_with_entry_of(t, WORK_DIR, Some(ours))?,
    };
    if ci::tree::code_tree(store, tree)? == ci::tree::code_tree(store, ours)? {
        return Ok(Merged::Nothing);
    }
    Ok(Merged::Tree(tree))
}

/// `text` on one line (line breaks become spaces, control characters escaped).
fn one_line(text: &str) -> String {
    crate::model::text::escape_line(&text.replace(['\n', '\r'], " "))
        .trim()
        .to_string()
}

/// The commit message: `<ID>: <title>`, then the trailers.
fn message(req: &MergeRequest, branch_tip: Oid, ci: &[(String, String)]) -> String {
    let mut s = format!("{}: {}\n\n", one_line(req.ticket_id), one_line(req.title));
    s.push_str(&format!("Wt-Ticket: {}\n", one_line(req.ticket_id)));
    s.push_str(&format!("Wt-Agent: {}\n", one_line(req.agent)));
    s.push_str(&format!(
        "Wt-Merged: {} {} at {branch_tip}\n",
        mode_word(req.mode),
        one_line(req.branch)
    ));
    for (k, v) in ci {
        s.push_str(&format!("{k}: {}\n", one_line(v)));
    }
    s
}

/// Refuse, before the branch moves, when `checkout` (which has `target` checked out) has
/// local changes in the way of the paths the merge changes.
fn refuse_if_in_the_way(
    ws: &Workspace,
    checkout: &crate::store::Checkout,
    target: &str,
    changed: &[String],
) -> Result<()> {
    let blocked = ws.store.checkout_in_the_way(checkout, changed)?;
    if blocked.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = blocked
        .iter()
        .take(10)
        .map(|b| format!("{} {}", b.path, b.why))
        .collect();
    let more = match blocked.len() {
        n if n > 10 => format!(" (and {} more)", n - 10),
        _ => String::new(),
    };
    let dir = checkout.path().display();
    Err(Error::refused(format!(
        "refusing to merge into {target}: it is checked out in {dir}, where {}{more}; the merge would change those paths",
        shown.join(", ")
    ))
    .with_hint(format!(
        "commit or stash your changes there (`git -C {dir} stash`), then let the merge run again; {target} was not moved"
    ))
    .with_detail(RefusedDetail {
        checkout: checkout.path().display().to_string(),
        paths: blocked.iter().map(|b| b.path.clone()).collect(),
    }))
}

/// The `detail` of the refusal: the checkout and the paths in the way.
#[derive(Debug, Clone, Serialize)]
struct RefusedDetail {
    checkout: String,
    paths: Vec<String>,
}

/// The folder of `wt run`'s state under the git common dir.
pub fn run_dir(common_dir: &Path) -> PathBuf {
    common_dir.join("wt").join("run")
}

/// One merge at a time per repository: an OS advisory lock on `wt/run/merge.lock`, released
/// when dropped or when its process dies (it can never be left stale). The holder writes
/// its pid in the file, for the message of a process that waits too long.
pub struct MergeLock {
    _lock: FileLock,
}

/// `wt/run/merge.lock` under the common dir, its folder made.
fn merge_lock_path(common_dir: &Path) -> Result<PathBuf> {
    let dir = run_dir(common_dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir.join("merge.lock"))
}

impl MergeLock {
    /// The lock if no merge holds it now (None: one does), without waiting.
    pub fn try_acquire(common_dir: &Path) -> Result<Option<MergeLock>> {
        Ok(FileLock::try_acquire(&merge_lock_path(common_dir)?)?.map(|l| MergeLock { _lock: l }))
    }

    pub fn acquire(common_dir: &Path) -> Result<MergeLock> {
        let path = merge_lock_path(common_dir)?;
        let Some(lock) =
            FileLock::acquire_within(&path, QUEUE_TIMEOUT, Duration::from_millis(200))?
        else {
            return Err(Error::busy(format!(
                "another merge (process {}) has held {} for over {}s",
                crate::store::lock::holder(&path),
                path.display(),
                QUEUE_TIMEOUT.as_secs()
            ))
            .with_hint("wait for it to finish; the lock is released when that process exits"));
        };
        lock.record_holder();
        Ok(MergeLock { _lock: lock })
    }
}

/// A merge in flight: written before the branch moves, removed once every checkout of it
/// was brought along. One file per merge (`wt/run/merges/<time>-<pid>.json`), so that a
/// merge whose checkout stayed behind is not forgotten when the next one lands.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct JournalEntry {
    target: String,
    old: String,
    new: String,
}

struct Journal {
    path: Option<PathBuf>,
}

fn journal_dir(common_dir: &Path) -> PathBuf {
    run_dir(common_dir).join("merges")
}

/// The journals of merges whose checkouts are not known to be up to date, oldest first.
fn journals(common_dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(journal_dir(common_dir)) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    out.sort();
    out
}

impl Journal {
    fn begin(
        ws: &Workspace,
        target: &str,
        old: Oid,
        new: Oid,
        checkouts: &[crate::store::Checkout],
    ) -> Result<Journal> {
        if checkouts.is_empty() {
            return Ok(Journal { path: None });
        }
        let dir = journal_dir(ws.store.common_dir());
        std::fs::create_dir_all(&dir)?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let path = dir.join(format!("{nanos:024}-{}.json", std::process::id()));
        let entry = JournalEntry {
            target: target.to_string(),
            old: old.to_string(),
            new: new.to_string(),
        };
        let text = serde_json::to_vec(&entry)
            .map_err(|e| Error::internal(format!("cannot encode the merge journal: {e}")))?;
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, &path)?;
        Ok(Journal { path: Some(path) })
    }

    fn finish(self) {
        if let Some(p) = &self.path {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// The journal of a merge whose checkout update is pending (a merge killed after moving its
/// branch, or one whose checkout could not follow), if any.
pub fn interrupted_merge(ws: &Workspace) -> Option<String> {
    journals(ws.store.common_dir())
        .first()
        .map(|p| p.display().to_string())
}

/// Finish the merges killed between moving their branch and bringing the branch's
/// checkouts along (or whose checkouts could not follow): `git read-tree -m -u old new` in
/// each checkout, oldest merge first (a no-op where it was done, and refused by git where
/// local edits are in the way). Call holding the merge lock. Returns what it did, or why
/// it could not.
pub fn finish_interrupted(ws: &Workspace) -> Result<Vec<String>> {
    let pending = journals(ws.store.common_dir());
    if pending.is_empty() {
        return Ok(Vec::new());
    }
    let _writer = ws.lock()?;
    let mut notes = Vec::new();
    for path in pending {
        if !finish_one(ws, &path, &mut notes)? {
            // A later merge's update builds on this one's: stop at the first left behind.
            break;
        }
    }
    Ok(notes)
}

/// Finish one journaled merge; false when a checkout is still behind.
fn finish_one(ws: &Workspace, path: &Path, notes: &mut Vec<String>) -> Result<bool> {
    let entry = std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice::<JournalEntry>(&b).ok());
    let parsed = entry
        .as_ref()
        .and_then(|e| Some((e, Oid::from_str(&e.old).ok()?, Oid::from_str(&e.new).ok()?)));
    let Some((entry, old, new)) = parsed else {
        let _ = std::fs::remove_file(path);
        return Ok(true);
    };
    let Some(tip) = ws.store.branch_tip(&entry.target)? else {
        let _ = std::fs::remove_file(path);
        return Ok(true);
    };
    // The move never happened: nothing to finish.
    if tip == old || !ws.store.is_commit(new) || !ws.store.is_ancestor(new, tip)? {
        let _ = std::fs::remove_file(path);
        return Ok(true);
    }
    let mut done = true;
    for c in ws.store.checkouts_of(&entry.target)? {
        match ws.store.advance_checkout(&c, old, new) {
            Ok(None) => notes.push(format!(
                "brought {} up to the merge {} a wt run made on {}",
                c.path().display(),
                ci::short_id(&entry.new),
                entry.target
            )),
            Ok(Some(w)) => {
                done = false;
                notes.push(w);
            }
            Err(e) => {
                done = false;
                notes.push(e.message);
            }
        }
    }
    if done {
        let _ = std::fs::remove_file(path);
    }
    Ok(done)
}
