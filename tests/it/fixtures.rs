//! Helpers shared by the core test modules: committing hand-written files, hand-written
//! ticket text, and an independent model of "ready" used as a test oracle.
#![allow(dead_code)]

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

use crate::common::*;

/// Write `rel`, `git add` it and commit it with git itself (not wt).
pub fn git_commit_file(r: &Repo, rel: &str, content: &str, msg: &str) {
    r.write(rel, content);
    r.git(&["add", "--", rel]).ok();
    r.git(&["commit", "-q", "-m", msg, "--", rel]).ok();
}

/// `git rev-parse <rev>`.
pub fn rev(r: &Repo, rev: &str) -> String {
    r.git(&["rev-parse", rev]).ok().trim().to_string()
}

/// Number of commits reachable from `rev`.
pub fn commit_count(r: &Repo, rev: &str) -> usize {
    r.git(&["rev-list", "--count", rev])
        .ok()
        .trim()
        .parse()
        .expect("count")
}

/// Files a commit touched (`git show --name-only`).
pub fn files_of(r: &Repo, rev: &str) -> Vec<String> {
    r.git(&["show", "--name-only", "--format=", rev])
        .ok()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// The full message of a commit.
pub fn message_of(r: &Repo, rev: &str) -> String {
    r.git(&["log", "-1", "--format=%B", rev]).ok()
}

/// Run `wt` in the repository root with `WT_NOW` set to `now`.
pub fn wt_at(r: &Repo, now: &str, args: &[&str]) -> Run {
    r.wt_env(&r.root, args, &[("WT_NOW", now)])
}

/// `wt new ...` at time `now`, returning the ID.
#[track_caller]
pub fn new_at(r: &Repo, now: &str, args: &[&str]) -> String {
    let mut a = vec!["new"];
    a.extend_from_slice(args);
    wt_at(r, now, &a).ok().trim().to_string()
}

/// `wt --json <args>` parsed, whatever the exit code (errors are JSON too).
pub fn json_any(r: &Repo, args: &[&str]) -> (i32, Value) {
    let mut a = vec!["--json"];
    a.extend_from_slice(args);
    let run = r.wt(&a);
    (run.code(), run.json())
}

/// Sorted IDs from a JSON array of tickets.
pub fn id_set(v: &Value) -> BTreeSet<String> {
    ids(v).into_iter().collect()
}

/// A hand-written ticket file with every known field (values as YAML text).
pub fn ticket_text(id: &str, kind: &str, title: &str, extra: &[(&str, &str)]) -> String {
    let mut s = format!("---\nid: {id}\nkind: {kind}\ntitle: {title}\n");
    for (k, v) in extra {
        s.push_str(&format!("{k}: {v}\n"));
    }
    s.push_str("---\n# ");
    s.push_str(title);
    s.push_str("\n\n## Acceptance Criteria\n\n## Progress\n");
    s
}

/// One ticket of a generated plan, in the model the oracle uses.
#[derive(Debug, Clone)]
pub struct PlanItem {
    pub key: String,
    /// "phase-spec", "job" or "task".
    pub kind: &'static str,
    pub status: &'static str,
    pub priority: u8,
    /// Index of the parent item.
    pub parent: Option<usize>,
    /// Indices of dependencies.
    pub deps: Vec<usize>,
    pub claimed: bool,
}

/// The plan as `wt import` JSON.
pub fn plan_json(items: &[PlanItem]) -> String {
    let arr: Vec<Value> = items
        .iter()
        .map(|it| {
            let mut o = serde_json::json!({
                "key": it.key,
                "kind": it.kind,
                "title": format!("{} {}", it.kind, it.key),
                "status": it.status,
                "priority": it.priority,
                "depends_on": it.deps.iter().map(|&d| items[d].key.clone()).collect::<Vec<_>>(),
            });
            if let Some(p) = it.parent {
                o["parent"] = Value::String(items[p].key.clone());
            }
            o
        })
        .collect();
    serde_json::to_string_pretty(&arr).expect("json")
}

/// Independent model of readiness (no wt code): a ticket is ready when it is open and
/// unclaimed, every dependency exists and is complete (done, and everything under it done),
/// and the same holds for the dependencies of every ancestor. Returns indices.
pub fn expected_ready(items: &[PlanItem]) -> BTreeSet<usize> {
    let n = items.len();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, it) in items.iter().enumerate() {
        if let Some(p) = it.parent {
            children[p].push(i);
        }
    }
    // complete(i) = done && all children complete; parents are acyclic (a forest).
    let mut memo: HashMap<usize, bool> = HashMap::new();
    fn complete(
        i: usize,
        items: &[PlanItem],
        children: &[Vec<usize>],
        memo: &mut HashMap<usize, bool>,
    ) -> bool {
        if let Some(&c) = memo.get(&i) {
            return c;
        }
        let c = items[i].status == "done"
            && children[i]
                .iter()
                .all(|&k| complete(k, items, children, memo));
        memo.insert(i, c);
        c
    }
    let deps_ok: Vec<bool> = (0..n)
        .map(|i| {
            items[i]
                .deps
                .iter()
                .all(|&d| complete(d, items, &children, &mut memo))
        })
        .collect();
    (0..n)
        .filter(|&i| items[i].status == "open" && !items[i].claimed)
        .filter(|&i| {
            let mut cur = Some(i);
            while let Some(c) = cur {
                if !deps_ok[c] {
                    return false;
                }
                cur = items[c].parent;
            }
            true
        })
        .collect()
}

/// A small deterministic random number generator (xorshift64*), so generated data is
/// reproducible from a seed without depending on wt's own randomness.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// True with probability `pct`/100.
    pub fn chance(&mut self, pct: u64) -> bool {
        self.next() % 100 < pct
    }
}
