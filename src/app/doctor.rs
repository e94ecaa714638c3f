//! `wt doctor`: find what crashed processes left behind and, with `fix`, repair what is
//! provably safe to repair, saying exactly what changed. See [`crate::store::recovery`] for the
//! rules; doctor holds the wt writer lock while it looks, so no wt writer is mid-write.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::Result;
use crate::model::config::WORK_DIR;
use crate::store::recovery::{self, file_age, stale_after};
use crate::store::Oid;
use crate::workspace::Workspace;

/// How bad a finding is.
/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Was wrong and has been repaired.
    Fixed,
    /// Is wrong and still needs attention (run with --fix, or follow the hint).
    Problem,
    /// Worth knowing, not wrong (e.g. a ticket file with local edits).
    Note,
}

/// One thing `wt doctor` found.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// `journal`, `ref_lock`, `index_lock`, `temp_file`, `unstaged_patch`, `checkout`,
    /// `undone`, `tickets`.
    pub kind: &'static str,
    pub path: Option<String>,
    pub message: String,
    pub hint: Option<String>,
}

/// `wt doctor`: what crashed processes left behind, and what was repaired.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: crate::app::report::SchemaVersion,
    pub findings: Vec<Finding>,
    /// Nothing is left that needs attention.
    pub ok: bool,
}

fn finding(
    severity: Severity,
    kind: &'static str,
    path: Option<&Path>,
    message: String,
    hint: Option<String>,
) -> Finding {
    Finding {
        severity,
        kind,
        path: path.map(|p| p.display().to_string()),
        message,
        hint,
    }
}

/// Every `*.lock` under `dir`, recursively.
fn lock_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    for e in rd.filter_map(|e| e.ok()) {
        let p = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => lock_files(&p, out),
            Ok(_) if p.extension().is_some_and(|x| x == "lock") => out.push(p),
            _ => {}
        }
    }
}

/// `write_atomic` temporaries (`.<name>.wt-<pid>.tmp`) under `dir`.
fn temp_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    for e in rd.filter_map(|e| e.ok()) {
        let p = e.path();
        let n = e.file_name().to_string_lossy().into_owned();
        match e.file_type() {
            Ok(t) if t.is_dir() => temp_files(&p, out),
            Ok(_) if n.starts_with('.') && n.contains(".wt-") && n.ends_with(".tmp") => out.push(p),
            _ => {}
        }
    }
}

/// Look for leftovers of crashed processes; with `fix`, repair what is safe.
pub fn doctor(ws: &Workspace, fix: bool) -> Result<Report> {
    let _lock = ws.lock()?;
    let store = &ws.store;
    let common = store.common_dir().to_path_buf();
    let mut findings = Vec::new();

    // 1. Interrupted writes (journals): checkouts the branch moved past.
    let journals = recovery::pending_journals(store);
    if !journals.is_empty() {
        if fix {
            for n in recovery::recover(store)? {
                let sev = if n.starts_with("left ") || n.contains("wt doctor --fix") {
                    Severity::Note
                } else {
                    Severity::Fixed
                };
                findings.push(finding(sev, "journal", None, n, None));
            }
        }
        for (p, e) in recovery::pending_journals(store) {
            if e.as_ref().is_some_and(|e| recovery::never_landed(store, e)) {
                findings.push(finding(
                    Severity::Note,
                    "journal",
                    Some(&p),
                    "a wt write was interrupted before its commit: nothing of it reached the branch or any checkout".into(),
                    Some("`wt doctor --fix` (or the next wt command) removes the record".into()),
                ));
                continue;
            }
            if let Some(e) = &e {
                if recovery::checkouts_current(store, e)? {
                    findings.push(finding(
                        Severity::Note,
                        "journal",
                        Some(&p),
                        "a wt write was interrupted after it had refreshed every checkout: nothing is stale".into(),
                        Some("`wt doctor --fix` (or the next wt command) removes the record".into()),
                    ));
                    continue;
                }
            }
            let paths = e.map(|e| e.paths.join(", ")).unwrap_or_default();
            findings.push(finding(
                Severity::Problem,
                "journal",
                Some(&p),
                format!(
                    "a wt write was interrupted; worktrees with the state branch checked out may still have the old {paths}"
                ),
                Some(if fix {
                    "an index stayed locked; run `wt doctor --fix` again once git is done".into()
                } else {
                    "run `wt doctor --fix` (the next wt write also repairs it)".into()
                }),
            ));
        }
    }

    // 2. Git ref locks: a killed wt's (its marker names it) at once, any other once older
    // than the threshold (we hold the wt lock).
    if fix {
        if let Some(n) = recovery::clear_own_ref_lock(store)? {
            findings.push(finding(Severity::Fixed, "ref_lock", None, n, None));
        }
    }
    let own_ref_lock = recovery::own_ref_lock(store);
    let mut locks = Vec::new();
    lock_files(&common.join("refs"), &mut locks);
    for extra in ["packed-refs.lock", "HEAD.lock", "config.lock"] {
        let p = common.join(extra);
        if p.exists() {
            locks.push(p);
        }
    }
    if let Ok(rd) = fs::read_dir(common.join("worktrees")) {
        for e in rd.filter_map(|e| e.ok()) {
            let p = e.path().join("HEAD.lock");
            if p.exists() {
                locks.push(p);
            }
        }
    }
    locks.sort();
    for l in locks {
        let Some(age) = file_age(&l) else { continue };
        if age >= stale_after() {
            if fix {
                if let Some(n) = recovery::remove_if_stale(&l)? {
                    findings.push(finding(Severity::Fixed, "ref_lock", Some(&l), n, None));
                }
            } else {
                findings.push(finding(
                    Severity::Problem,
                    "ref_lock",
                    Some(&l),
                    format!(
                        "git lock {} is {:.0}s old: left by a process that died; it blocks every update of that ref",
                        l.display(),
                        age.as_secs_f64()
                    ),
                    Some("run `wt doctor --fix` to remove it (the next wt write also does)".into()),
                ));
            }
        } else if own_ref_lock.as_deref() == Some(l.as_path()) {
            findings.push(finding(
                Severity::Problem,
                "ref_lock",
                Some(&l),
                format!(
                    "git lock {} ({:.1}s old) was left by a wt process killed while moving the branch; commits on it fail until it is gone",
                    l.display(),
                    age.as_secs_f64()
                ),
                Some("run `wt doctor --fix` (or any wt command) to remove it".into()),
            ));
        } else {
            findings.push(finding(
                Severity::Note,
                "ref_lock",
                Some(&l),
                format!(
                    "git lock {} is held ({:.1}s old): a git command is probably updating that ref",
                    l.display(),
                    age.as_secs_f64()
                ),
                None,
            ));
        }
    }

    // 3. Index locks in every worktree.
    for (workdir, git_dir) in store.worktree_git_dirs() {
        let lock = git_dir.join("index.lock");
        if fix {
            if let Some(n) = recovery::clear_own_index_lock(&git_dir)? {
                findings.push(finding(Severity::Fixed, "index_lock", Some(&lock), n, None));
                continue;
            }
        }
        let Some(age) = file_age(&lock) else { continue };
        let own = git_dir.join(recovery::INDEX_MARKER).exists();
        findings.push(finding(
            Severity::Problem,
            "index_lock",
            Some(&lock),
            if own {
                format!(
                    "{} ({:.0}s old) was left by a wt process killed while refreshing the index of {}",
                    lock.display(),
                    age.as_secs_f64(),
                    workdir.display()
                )
            } else {
                format!(
                    "{} is {:.0}s old: git commands in {} fail until it is gone",
                    lock.display(),
                    age.as_secs_f64(),
                    workdir.display()
                )
            },
            Some(if own {
                "run `wt doctor --fix` to remove it".into()
            } else {
                format!(
                    "a running git (e.g. `git commit` waiting for its editor) may hold it; if none is running in {}, remove it: rm {}",
                    workdir.display(),
                    lock.display()
                )
            }),
        ));
    }

    // 4. Checkouts of the state branch: temporaries and ticket files that differ from the tip.
    let journaled: std::collections::HashSet<String> = recovery::pending_journals(store)
        .into_iter()
        .filter_map(|(_, e)| e)
        .flat_map(|e| e.paths)
        .collect();
    let tip = ws.tip()?;
    let snap = ws.snapshot_at(tip)?;
    for checkout in store.checkouts_of(&ws.branch)? {
        let mut tmps = Vec::new();
        temp_files(&checkout.join(WORK_DIR), &mut tmps);
        // Files git wrote for an interrupted wt write (see recovery::checkout_scratch).
        tmps.extend(recovery::checkout_scratch_leftovers(checkout.git_dir()));
        for t in tmps {
            let removed = if t.is_dir() {
                fix && fs::remove_dir_all(&t).is_ok()
            } else {
                fix && fs::remove_file(&t).is_ok()
            };
            if removed {
                findings.push(finding(
                    Severity::Fixed,
                    "temp_file",
                    Some(&t),
                    format!("removed {} left by an interrupted wt write", t.display()),
                    None,
                ));
            } else {
                findings.push(finding(
                    Severity::Problem,
                    "temp_file",
                    Some(&t),
                    format!("{} was left by an interrupted wt write", t.display()),
                    Some("run `wt doctor --fix` to remove it".into()),
                ));
            }
        }
        let mut paths: Vec<(&String, &Oid)> = snap.blobs.iter().collect();
        paths.sort();
        let names: Vec<&str> = paths.iter().map(|(p, _)| p.as_str()).collect();
        // Files as git sees them (after its filters); a path a sparse checkout leaves out
        // has no file to compare.
        let states = store.checkout_files(&checkout, &names)?;
        for ((path, oid), st) in paths.into_iter().zip(states) {
            let on_disk = if st.left_out { Some(*oid) } else { st.on_disk };
            let staged = st.staged;
            if journaled.contains(path.as_str()) && (on_disk != Some(*oid) || staged != Some(*oid))
            {
                // Reported with its journal above.
                continue;
            }
            let what = if on_disk != Some(*oid) {
                "differs from the state branch (local edits?)"
            } else if staged != Some(*oid) {
                "is staged differently from the state branch"
            } else {
                continue;
            };
            findings.push(finding(
                Severity::Note,
                "checkout",
                Some(&checkout.join(path)),
                format!("{path} in {} {what}", checkout.display()),
                Some(format!(
                    "see `git -C {0} diff HEAD -- {path}`; wt refuses to overwrite it until it is committed or discarded (`git -C {0} checkout HEAD -- {path}`)",
                    checkout.display()
                )),
            ));
        }
    }

    // 5. Unstaged edits a pre-commit hook killed outright had set aside, in every worktree.
    for (workdir, git_dir) in store.worktree_git_dirs() {
        if fix {
            for n in crate::app::hooks::restore_left_patches(&workdir, &git_dir) {
                let sev = if n.contains("no longer apply") {
                    Severity::Problem
                } else {
                    Severity::Fixed
                };
                findings.push(finding(sev, "unstaged_patch", None, n, None));
            }
            continue;
        }
        for p in crate::app::hooks::left_patches(&git_dir) {
            findings.push(finding(
                Severity::Problem,
                "unstaged_patch",
                Some(&p),
                format!(
                    "{} holds unstaged edits to files in {} that an interrupted pre-commit hook set aside and did not put back",
                    p.display(),
                    workdir.display()
                ),
                Some(format!(
                    "run `wt doctor --fix` (or any wt command there) to put them back, or by hand: git -C {} apply {} && rm {}",
                    workdir.display(),
                    p.display(),
                    p.display()
                )),
            ));
        }
    }

    // 6. wt commits a later commit that is not wt's undid (a stale checkout committed with
    // `git commit -a`): the tickets they wrote are gone from the tip.
    let undone = undone_wt_commits(ws, tip)?;
    if !fix {
        for u in &undone {
            findings.push(finding(
                Severity::Problem,
                "undone",
                None,
                u.describe(),
                Some("run `wt doctor --fix` to restore them with a wt commit".into()),
            ));
        }
    }

    // 7. The tickets themselves.
    let problems = crate::app::check::check(ws, &snap)?;
    if !problems.is_empty() {
        findings.push(finding(
            Severity::Problem,
            "tickets",
            None,
            format!(
                "`wt check` finds {} in the tickets",
                crate::model::plural(problems.len(), "problem")
            ),
            Some("run `wt check` to see them".into()),
        ));
    }
    // The restore is a write of its own, under the writer lock the write takes.
    drop(_lock);
    if fix {
        for u in &undone {
            match restore(ws, u) {
                Ok(Some(commit)) => findings.push(finding(
                    Severity::Fixed,
                    "undone",
                    None,
                    format!("{}; restored them in {}", u.describe(), short(commit)),
                    None,
                )),
                Ok(None) => {}
                Err(e) => findings.push(finding(
                    Severity::Problem,
                    "undone",
                    None,
                    format!("{}; could not restore them: {}", u.describe(), e.message),
                    e.hint,
                )),
            }
        }
    }
    let ok = !findings.iter().any(|f| f.severity == Severity::Problem);
    Ok(Report {
        schema_version: crate::app::report::SchemaVersion,
        findings,
        ok,
    })
}

/// How far back (first parents from the tip) doctor looks for wt commits that were undone.
const UNDONE_LOOKBACK: usize = 1000;

/// A wt commit whose whole change a later commit that is not wt's took back, with what of it
/// is still missing at the tip.
struct Undone {
    wt_commit: Oid,
    wt_subject: String,
    by: Oid,
    by_subject: String,
    /// Paths still as the undoing commit left them, with the blob wt had committed.
    paths: Vec<(String, Oid)>,
    /// The IDs of the tickets among them.
    tickets: Vec<String>,
}

impl Undone {
    fn describe(&self) -> String {
        let what = if self.tickets.is_empty() {
            self.paths
                .iter()
                .map(|(p, _)| p.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        } else {
            format!("ticket(s) {}", self.tickets.join(", "))
        };
        format!(
            "commit {} \"{}\" undid wt commit {} \"{}\": {what} missing or reverted on the state branch",
            short(self.by),
            self.by_subject,
            short(self.wt_commit),
            self.wt_subject
        )
    }
}

fn short(id: Oid) -> String {
    id.to_string().chars().take(10).collect()
}

/// The verb of a wt commit (its `Wt-Verb` trailer), None for a commit that is not wt's.
fn wt_verb(message: &str) -> Option<&str> {
    message
        .lines()
        .find_map(|l| l.strip_prefix("Wt-Verb: "))
        .map(str::trim)
}

/// wt commits (within [`UNDONE_LOOKBACK`] first parents of `tip`) whose every change to
/// `.work/` a later commit that is not wt's took back — the next commit on the line that
/// touched `.work/` at all — and that the tip still lacks. That is what an ordinary
/// `git commit -a` from a checkout a killed wt did not refresh looks like: the new tickets
/// staged as deletions, a claim staged back. Undoing a `restore` (doctor's own commit) is
/// taken as meant.
fn undone_wt_commits(ws: &Workspace, tip: Option<Oid>) -> Result<Vec<Undone>> {
    let store = &ws.store;
    let Some(tip) = tip else {
        return Ok(Vec::new());
    };
    let mut chain = Vec::new();
    let mut cur = Some(tip);
    while let Some(c) = cur {
        if chain.len() >= UNDONE_LOOKBACK {
            break;
        }
        let info = store.commit_info(c)?;
        cur = info.parents.first().copied();
        chain.push(info);
    }
    let work = chain
        .iter()
        .map(|c| store.work_tree_in(c.tree, WORK_DIR))
        .collect::<Result<Vec<_>>>()?;
    // Did chain[i] change `.work/` (compared with its first parent)? Unknown past the end.
    let changed = |i: usize| -> Option<bool> {
        match chain.get(i + 1) {
            Some(_) => Some(work[i] != work[i + 1]),
            None if chain[i].parents.is_empty() => Some(work[i].is_some()),
            None => None,
        }
    };
    // Paths each commit of the chain changed under `.work/`, read when first needed.
    let mut touched: Vec<Option<BTreeSet<String>>> = vec![None; chain.len()];
    let mut out = Vec::new();
    for (i, c) in chain.iter().enumerate() {
        if wt_verb(&c.message).is_some() || changed(i) != Some(true) {
            continue;
        }
        let Some(j) = (i + 1..chain.len()).find(|&j| changed(j) != Some(false)) else {
            continue;
        };
        let w = &chain[j];
        if changed(j) != Some(true) || matches!(wt_verb(&w.message), None | Some("restore")) {
            continue;
        }
        let changes = store.work_changes(w.parents.first().copied(), w.id, WORK_DIR)?;
        if changes.is_empty() {
            continue;
        }
        let mut all_taken_back = true;
        for (p, before, _) in &changes {
            if store.blob_at(c.id, p)? != *before {
                all_taken_back = false;
                break;
            }
        }
        if !all_taken_back {
            continue;
        }
        // What nobody touched since the undoing commit is still lost (a path changed again
        // later, by wt or by hand, was dealt with).
        for k in 0..i {
            if touched[k].is_none() && changed(k) == Some(true) {
                let set = store
                    .work_changes(chain[k].parents.first().copied(), chain[k].id, WORK_DIR)?
                    .into_iter()
                    .map(|(p, _, _)| p)
                    .collect();
                touched[k] = Some(set);
            }
        }
        let later = |p: &str| touched[..i].iter().flatten().any(|t| t.contains(p));
        let paths: Vec<(String, Oid)> = changes
            .iter()
            .filter(|(p, _, _)| !later(p))
            .filter_map(|(p, _, after)| after.map(|a| (p.clone(), a)))
            .collect();
        if paths.is_empty() {
            continue;
        }
        let mut tickets = Vec::new();
        for (p, oid) in &paths {
            if let crate::model::ticket_file::Parsed::Ticket { ticket, .. } =
                crate::model::ticket_file::parse_blob(p, &store.read_blob(*oid)?)
            {
                tickets.push(ticket.id);
            }
        }
        out.push(Undone {
            wt_commit: w.id,
            wt_subject: w.summary.clone(),
            by: c.id,
            by_subject: c.summary.clone(),
            paths,
            tickets,
        });
    }
    Ok(out)
}

/// Put back what `u` lost, with a wt commit (None when the tip no longer lacks any of it).
fn restore(ws: &Workspace, u: &Undone) -> Result<Option<Oid>> {
    // A copy of a lost ticket still in a checkout, untracked and exactly wt's version (the
    // writer was killed after writing it and before staging it), is what the restore writes:
    // it is not in the way.
    recovery::drop_identical_untracked(&ws.store, &ws.branch, &u.paths)?;
    let by = u.by;
    let written = ws.write(crate::workspace::Reads::All, |snap| {
        let mut edits = Vec::new();
        for (p, oid) in &u.paths {
            if snap.blobs.get(p).copied() == ws.store.blob_at(by, p)? {
                edits.push(crate::store::Edit::Write {
                    path: p.clone(),
                    content: ws.store.read_blob(*oid)?,
                });
            }
        }
        if edits.is_empty() {
            return Ok(crate::workspace::Outcome::NoOp(()));
        }
        let mut message = crate::workspace::Message::new(
            "restore",
            format!("{} path(s) that {} undid", edits.len(), short(by)),
        )
        .trailer("Wt-Restores", u.wt_commit.to_string())
        .trailer("Wt-Undone-By", by.to_string());
        for t in &u.tickets {
            message = message.ticket(t);
        }
        Ok(crate::workspace::Outcome::Commit {
            edits,
            message,
            value: (),
        })
    })?;
    Ok(written.commit)
}
