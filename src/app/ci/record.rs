//! CI results, one JSON file per checked tree: `<common git dir>/wt/ci/<tree>.json`, with
//! the checks' logs under `logs/<tree>/<check>.log`.
//!
//! This is a cache derived from git object ids, local to the machine (a result depends on the
//! machine it ran on), shared by every worktree of the repository, and safe to delete: without
//! it the checks simply run again. Writes are atomic (temporary file + rename).

use std::fs;
use std::path::{Path, PathBuf};

use crate::store::Oid;
use serde::{Deserialize, Serialize};

use super::Check;
use crate::error::Result;
use crate::store::write_atomic;

/// Keep at most this many records (and their logs); older ones are pruned on save.
const MAX_RECORDS: usize = 200;

/// Format version of a record file.
const VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Pass,
    Fail,
    /// Not run because an earlier check failed (without --keep-going).
    Skipped,
    /// Cut short by Ctrl-C / SIGTERM.
    Interrupted,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Fail => "fail",
            CheckStatus::Skipped => "skipped",
            CheckStatus::Interrupted => "interrupted",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    pub name: String,
    pub command: String,
    pub status: CheckStatus,
    /// The command's exit code (None when killed by a signal or not run).
    pub exit_code: Option<i32>,
    /// The signal that ended the command, if any.
    pub signal: Option<i32>,
    pub duration_ms: u64,
    /// The last lines of its output when it failed.
    #[serde(default)]
    pub tail: Vec<String>,
    /// Where its full output was written.
    pub log: Option<String>,
}

impl CheckResult {
    /// `test=pass(1.2s)`, as in the `Wt-CI` trailer.
    pub fn summary(&self) -> String {
        match self.status {
            CheckStatus::Skipped => format!("{}=skipped", self.name),
            s => format!("{}={}({})", self.name, s.as_str(), secs(self.duration_ms)),
        }
    }

    /// `exit 1`, `killed by signal 9`, ...
    pub fn exit_description(&self) -> String {
        match (self.exit_code, self.signal) {
            (Some(c), _) => format!("exit {c}"),
            (None, Some(s)) => format!("killed by signal {s}"),
            (None, None) => self.status.as_str().to_string(),
        }
    }
}

/// Seconds with one decimal: `1.2s`.
pub fn secs(ms: u64) -> String {
    format!("{:.1}s", ms as f64 / 1000.0)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub version: u32,
    /// The code tree that was checked (see [`super::tree`]).
    pub tree: String,
    /// `worktree` (wt ci, wt done) or `index` (the pre-commit hook).
    pub source: String,
    pub green: bool,
    pub started_at: String,
    pub finished_at: String,
    pub duration_ms: u64,
    pub checks: Vec<CheckResult>,
}

impl Record {
    pub fn new(tree: Oid, source: &str, run: &RunOutcome) -> Record {
        Record {
            version: VERSION,
            tree: tree.to_string(),
            source: source.to_string(),
            green: !run.interrupted && run.checks.iter().all(|c| c.status == CheckStatus::Pass),
            started_at: run.started_at.clone(),
            finished_at: run.finished_at.clone(),
            duration_ms: run.duration_ms,
            checks: run.checks.clone(),
        }
    }

    /// Whether this record ran exactly `checks` (same names and commands, same order).
    pub fn ran(&self, checks: &[Check]) -> bool {
        self.checks.len() == checks.len()
            && self
                .checks
                .iter()
                .zip(checks)
                .all(|(r, c)| r.name == c.name && r.command == c.command)
    }
}

/// The record folder for a repository's common git dir.
pub fn dir(common_dir: &Path) -> PathBuf {
    common_dir.join("wt").join("ci")
}

pub fn path(dir: &Path, tree: Oid) -> PathBuf {
    dir.join(format!("{tree}.json"))
}

pub fn logs_dir(dir: &Path, tree: Oid) -> PathBuf {
    dir.join("logs").join(tree.to_string())
}

/// The record for `tree`, if there is a readable one.
pub fn load(dir: &Path, tree: Oid) -> Option<Record> {
    let bytes = fs::read(path(dir, tree)).ok()?;
    let rec: Record = serde_json::from_slice(&bytes).ok()?;
    (rec.version == VERSION && rec.tree == tree.to_string()).then_some(rec)
}

/// A green record for `tree` that ran exactly `checks`.
pub fn reusable(dir: &Path, tree: Oid, checks: &[Check]) -> Option<Record> {
    load(dir, tree).filter(|r| r.green && r.ran(checks))
}

/// Save `rec` (replacing an older record of the same tree) and prune old records.
pub fn save(dir: &Path, rec: &Record) -> Result<()> {
    let tree = crate::app::ci::parse_oid(&rec.tree)?;
    let json = serde_json::to_vec_pretty(rec)
        .map_err(|e| crate::Error::internal(format!("cannot encode a CI record: {e}")))?;
    write_atomic(&path(dir, tree), &json)?;
    prune(dir);
    Ok(())
}

/// Remove all but the newest [`MAX_RECORDS`] records and their logs. Best effort.
fn prune(dir: &Path) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    let mut records: Vec<(std::time::SystemTime, PathBuf)> = rd
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    if records.len() <= MAX_RECORDS {
        return;
    }
    records.sort();
    let excess = records.len() - MAX_RECORDS;
    for (_, p) in records.into_iter().take(excess) {
        if let Some(stem) = p.file_stem() {
            let _ = fs::remove_dir_all(dir.join("logs").join(stem));
        }
        let _ = fs::remove_file(&p);
    }
}

/// What one run of the checks produced.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub checks: Vec<CheckResult>,
    pub interrupted: bool,
    pub started_at: String,
    pub finished_at: String,
    pub duration_ms: u64,
}

impl RunOutcome {
    /// The outcome of running no checks.
    pub fn empty() -> RunOutcome {
        let now = crate::model::clock::timestamp();
        RunOutcome {
            checks: Vec::new(),
            interrupted: false,
            started_at: now.clone(),
            finished_at: now,
            duration_ms: 0,
        }
    }
}
