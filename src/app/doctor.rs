//! `wt doctor`: find what crashed processes left behind and, with `fix`, repair what is
//! provably safe to repair, saying exactly what changed. See [`crate::store::recovery`] for the
//! rules; doctor holds the wt writer lock while it looks, so no wt writer is mid-write.

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
    /// `journal`, `ref_lock`, `index_lock`, `temp_file`, `checkout`, `tickets`.
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
                let sev = if n.starts_with("left ") {
                    Severity::Note
                } else {
                    Severity::Fixed
                };
                findings.push(finding(sev, "journal", None, n, None));
            }
        }
        for (p, e) in recovery::pending_journals(store) {
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

    // 2. Git ref locks: stale once older than the threshold (we hold the wt lock).
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
        for t in tmps {
            if fix && fs::remove_file(&t).is_ok() {
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

    // 5. The tickets themselves.
    let problems = crate::app::check::check(ws, &snap)?;
    if !problems.is_empty() {
        findings.push(finding(
            Severity::Problem,
            "tickets",
            None,
            format!(
                "`wt check` finds {} problem(s) in the tickets",
                problems.len()
            ),
            Some("run `wt check` to see them".into()),
        ));
    }
    let ok = !findings.iter().any(|f| f.severity == Severity::Problem);
    Ok(Report {
        schema_version: crate::app::report::SchemaVersion,
        findings,
        ok,
    })
}
