//! Helpers shared by the core test modules: committing hand-written files, hand-written
//! ticket text, and an independent model of "ready" used as a test oracle.
#![allow(dead_code)]

use std::collections::BTreeSet;

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
    /// Also depends on an ID no ticket has.
    pub dangling: bool,
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

/// Children of each item.
pub fn children_of(items: &[PlanItem]) -> Vec<Vec<usize>> {
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); items.len()];
    for (i, it) in items.iter().enumerate() {
        if let Some(p) = it.parent {
            children[p].push(i);
        }
    }
    children
}

/// Complete = done, and every item under it complete. Parents must form a forest.
pub fn complete_set(items: &[PlanItem]) -> Vec<bool> {
    let children = children_of(items);
    fn complete(
        i: usize,
        items: &[PlanItem],
        children: &[Vec<usize>],
        memo: &mut [Option<bool>],
    ) -> bool {
        if let Some(c) = memo[i] {
            return c;
        }
        let c = items[i].status == "done"
            && children[i]
                .iter()
                .all(|&k| complete(k, items, children, memo));
        memo[i] = Some(c);
        c
    }
    let mut memo = vec![None; items.len()];
    (0..items.len())
        .map(|i| complete(i, items, &children, &mut memo))
        .collect()
}

/// The "waits on" relation of a plan as a graph, built here from the plan alone (no wt code).
///
/// Two nodes per item: `finish(i)` (i and everything under it complete) and `start(i)` (i may
/// begin). An arrow means "needs first": finishing i needs i started and every child
/// finished; starting i needs every dependency finished and the parent started. A loop means
/// something waits on itself and can never happen.
pub struct WaitModel {
    /// Arrows out of each node.
    pub arrows: Vec<Vec<usize>>,
}

/// Node "item `i` and everything under it complete".
pub fn finish(i: usize) -> usize {
    2 * i
}

/// Node "item `i` may begin".
pub fn start(i: usize) -> usize {
    2 * i + 1
}

impl WaitModel {
    pub fn new(items: &[PlanItem]) -> WaitModel {
        let mut arrows: Vec<Vec<usize>> = vec![Vec::new(); 2 * items.len()];
        for (i, it) in items.iter().enumerate() {
            arrows[finish(i)].push(start(i));
            if let Some(p) = it.parent {
                arrows[finish(p)].push(finish(i));
                arrows[start(i)].push(start(p));
            }
            for &d in &it.deps {
                arrows[start(i)].push(finish(d));
            }
        }
        WaitModel { arrows }
    }

    /// Every node reachable from `from` in one step or more.
    pub fn reachable(&self, from: usize) -> Vec<bool> {
        let mut seen = vec![false; self.arrows.len()];
        let mut todo: Vec<usize> = self.arrows[from].clone();
        while let Some(x) = todo.pop() {
            if !seen[x] {
                seen[x] = true;
                todo.extend_from_slice(&self.arrows[x]);
            }
        }
        seen
    }

    /// `reach[u][v]`: v reachable from u in one step or more.
    pub fn reach_matrix(&self) -> Vec<Vec<bool>> {
        (0..self.arrows.len()).map(|u| self.reachable(u)).collect()
    }

    /// Does some walk of arrows visit exactly the items `cycle` (closed: first = last),
    /// reading each item's nodes as one step, the way wt prints a cycle? Returns the node the
    /// closed walk starts at.
    pub fn closed_walk(&self, cycle: &[usize]) -> Option<usize> {
        let (&first, rest) = cycle.split_first()?;
        if cycle.last() != Some(&first) || rest.is_empty() {
            return None;
        }
        // Steps inside one item (finish -> start, or a self-dependency) print as one.
        let within = |set: &mut Vec<usize>| {
            let mut k = 0;
            while k < set.len() {
                let u = set[k];
                for &w in &self.arrows[u] {
                    if w / 2 == u / 2 && !set.contains(&w) {
                        set.push(w);
                    }
                }
                k += 1;
            }
        };
        for begin in [finish(first), start(first)] {
            let mut here = vec![begin];
            within(&mut here);
            for &item in rest {
                let mut next: Vec<usize> = Vec::new();
                for &u in &here {
                    for &w in &self.arrows[u] {
                        if w / 2 == item && !next.contains(&w) {
                            next.push(w);
                        }
                    }
                }
                within(&mut next);
                here = next;
            }
            if here.contains(&begin) {
                return Some(begin);
            }
        }
        None
    }
}

/// Items whose start lies on a loop of the waits-on graph: they wait on themselves (through
/// dependencies, containers and ancestors) and can never start.
pub fn on_cycle(items: &[PlanItem]) -> Vec<bool> {
    let m = WaitModel::new(items);
    (0..items.len())
        .map(|i| m.reachable(start(i))[start(i)])
        .collect()
}

/// Would `from` gaining a dependency on `to` make something wait on itself? (The new arrow
/// start(from) -> finish(to) closes a loop when finish(to) already leads to start(from).)
pub fn closes_cycle(items: &[PlanItem], from: usize, to: usize) -> bool {
    from == to || WaitModel::new(items).reachable(finish(to))[start(from)]
}

/// Number of groups of waits-on nodes that wait on each other (strongly connected parts
/// with a loop): `wt check` reports one cycle per group.
pub fn cycle_groups(reach: &[Vec<bool>]) -> usize {
    let n = reach.len();
    let mut grouped = vec![false; n];
    let mut groups = 0;
    for u in 0..n {
        if grouped[u] || !reach[u][u] {
            continue;
        }
        groups += 1;
        for v in 0..n {
            if reach[u][v] && reach[v][u] {
                grouped[v] = true;
            }
        }
    }
    groups
}

/// Independent model of readiness (no wt code): a ticket is ready when it is open and
/// unclaimed, it does not wait on itself (`on_cycle`), every dependency exists and is
/// complete (done, and everything under it done), and the same holds for every ancestor's
/// dependencies and cycles. Returns indices.
pub fn expected_ready(items: &[PlanItem]) -> BTreeSet<usize> {
    let n = items.len();
    let complete = complete_set(items);
    let cyc = on_cycle(items);
    let own_ok: Vec<bool> = (0..n)
        .map(|i| !cyc[i] && !items[i].dangling && items[i].deps.iter().all(|&d| complete[d]))
        .collect();
    (0..n)
        .filter(|&i| items[i].status == "open" && !items[i].claimed)
        .filter(|&i| {
            let mut cur = Some(i);
            while let Some(c) = cur {
                if !own_ok[c] {
                    return false;
                }
                cur = items[c].parent;
            }
            true
        })
        .collect()
}

/// Items on the chain from `i`'s parent up to its root.
pub fn ancestors(items: &[PlanItem], i: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut cur = items[i].parent;
    while let Some(p) = cur {
        out.push(p);
        cur = items[p].parent;
    }
    out
}

/// Who waits on item `i`: items depending on it or on one of its ancestors.
pub fn waiters(items: &[PlanItem], i: usize) -> Vec<usize> {
    let mut targets = vec![i];
    let mut cur = items[i].parent;
    while let Some(p) = cur {
        targets.push(p);
        cur = items[p].parent;
    }
    (0..items.len())
        .filter(|&w| items[w].deps.iter().any(|d| targets.contains(d)))
        .collect()
}

/// Length of the longest chain of waiters on each item, when the waiting relation has no
/// loop (None otherwise: then the order among equal priorities is not well defined).
pub fn waiting_depths(items: &[PlanItem]) -> Option<Vec<usize>> {
    let n = items.len();
    let ws: Vec<Vec<usize>> = (0..n).map(|i| waiters(items, i)).collect();
    // 0 = unvisited, 1 = on stack, 2 = done
    fn visit(i: usize, ws: &[Vec<usize>], state: &mut [u8], depth: &mut [usize]) -> bool {
        match state[i] {
            1 => return false,
            2 => return true,
            _ => {}
        }
        state[i] = 1;
        let mut best = 0;
        for &w in &ws[i] {
            if !visit(w, ws, state, depth) {
                return false;
            }
            best = best.max(depth[w] + 1);
        }
        depth[i] = best;
        state[i] = 2;
        true
    }
    let mut state = vec![0u8; n];
    let mut depth = vec![0usize; n];
    for i in 0..n {
        if !visit(i, &ws, &mut state, &mut depth) {
            return None;
        }
    }
    Some(depth)
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
