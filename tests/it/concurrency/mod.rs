//! Many agents at once: leases and tokens, racing real `wt` processes (in one worktree, in
//! two worktrees, on two clones sharing a bare remote), crash safety, and `wt sync`.
//! The races here are bounded (a few seconds); `cargo bench --bench stress` runs them at
//! scale.

mod crash;
mod leases;
mod stress;
mod sync;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Barrier};

use serde_json::Value;

use crate::common::*;

/// Import `n` jobs (one commit) and return their IDs in import order.
pub fn jobs(r: &Repo, n: usize, prefix: &str) -> Vec<String> {
    let items: Vec<Value> = (0..n)
        .map(|i| serde_json::json!({"key": format!("k{i}"), "kind": "job", "title": format!("{prefix} {i}")}))
        .collect();
    let map = r.import(&Value::Array(items).to_string());
    (0..n)
        .map(|i| map[&format!("k{i}")].as_str().expect("id").to_string())
        .collect()
}

/// A hermetic `wt` command in `dir`.
pub fn wt_cmd(r: &Repo, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(wt_bin());
    hermetic(&mut cmd, &r.home());
    cmd.current_dir(dir).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Start all commands at once (a barrier releases the threads that spawn them) and collect
/// their outputs in order.
pub fn race(cmds: Vec<Command>) -> Vec<Output> {
    let barrier = Arc::new(Barrier::new(cmds.len()));
    let handles: Vec<_> = cmds
        .into_iter()
        .map(|mut c| {
            let b = barrier.clone();
            std::thread::spawn(move || {
                b.wait();
                c.output().expect("run wt")
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().expect("racer thread"))
        .collect()
}

pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

pub fn json_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

/// A bare repository cloned from `r`, and `n` clones of it (each with `main` checked out).
pub fn clones(r: &Repo, n: usize) -> (PathBuf, Vec<PathBuf>) {
    let base = r.tmp.path();
    let bare = base.join("remote.git");
    r.git_in(
        base,
        &[
            "clone",
            "-q",
            "--bare",
            r.root.to_str().unwrap(),
            "remote.git",
        ],
    )
    .ok();
    let mut out = Vec::new();
    for i in 0..n {
        let name = format!("clone{i}");
        r.git_in(base, &["clone", "-q", "remote.git", &name]).ok();
        out.push(base.join(name));
    }
    (bare, out)
}

/// The time `WT_NOW` is pinned to, plus `minutes`.
pub fn now_plus(minutes: i64) -> String {
    let t = chrono::DateTime::parse_from_rfc3339(NOW).unwrap() + chrono::Duration::minutes(minutes);
    t.to_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
