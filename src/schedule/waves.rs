//! The remaining work as waves of parallel work and its critical path (`wt graph`).
//!
//! Nodes are the tickets of one kind (jobs by default) that are not done. Ticket `a` waits on
//! ticket `b` when `a` or one of its ancestors depends on `b` or on one of `b`'s ancestors
//! (a dependency on a phase-spec means all of its jobs, as in `wt ready`). With every kind
//! shown, a container also waits on its children. Wave 1 is what nothing remaining waits on;
//! wave k+1 waits only on waves up to k. The critical path is the longest chain of waiting
//! tickets (counted in tickets: wt knows no durations). Tickets on a dependency cycle are
//! put in no wave and listed as stuck.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::model::ticket::{Kind, Status, Ticket};
use crate::schedule::graph::Graph;

/// A ticket in a wave.
#[derive(Debug, Clone, Serialize)]
pub struct Node {
    pub id: String,
    pub kind: Kind,
    pub title: String,
    pub status: Status,
    /// `ready`, `claimed`, `awaiting approval`, `waiting`, `review`, `escalated`.
    pub state: String,
    pub claimed_by: Option<String>,
    pub critical: bool,
    /// IDs this node waits on directly (after transitive reduction).
    pub after: Vec<String>,
}

/// The remaining work of one kind as waves of parallel work, and its critical path.
#[derive(Debug, Clone, Serialize)]
pub struct Waves {
    /// The kind drawn (None: every kind).
    pub kind: Option<Kind>,
    /// Wave 1 first: each waits only on earlier waves.
    pub waves: Vec<Vec<Node>>,
    /// `[from, to]`: `to` waits on `from` (transitively reduced).
    pub edges: Vec<(String, String)>,
    pub critical_path: Vec<String>,
    /// Remaining tickets on or behind a dependency cycle.
    pub stuck: Vec<String>,
    /// Tickets of the kind already done (not drawn).
    pub done: usize,
}

fn state(g: &Graph<'_>, i: usize) -> String {
    let t = &g.tickets[i];
    match t.status {
        Status::Review => "review".into(),
        Status::Escalated => "escalated".into(),
        Status::InProgress => "claimed".into(),
        Status::Done => "done".into(),
        Status::Open if g.is_ready(i) => "ready".into(),
        Status::Open => {
            let bs = g.blockers(i);
            fn gate(b: &crate::schedule::graph::Blocker) -> bool {
                match b {
                    crate::schedule::graph::Blocker::AwaitingApproval { .. } => true,
                    crate::schedule::graph::Blocker::Ancestor { because, .. } => gate(because),
                    _ => false,
                }
            }
            if bs.iter().any(gate) {
                "awaiting approval".into()
            } else {
                "waiting".into()
            }
        }
    }
}

/// Compute the waves of the remaining tickets of `kind` (None = every kind).
pub fn waves(tickets: &[Ticket], kind: Option<Kind>) -> Waves {
    let g = Graph::new(tickets);
    let n = tickets.len();
    let parent = |i: usize| -> Option<usize> {
        tickets[i]
            .parent
            .as_deref()
            .and_then(|p| g.index_of(p))
            .filter(|&p| p != i)
    };
    // Self and ancestors (guarding against parent loops).
    let chain = |i: usize| -> Vec<usize> {
        let mut out = vec![i];
        let mut seen = HashSet::from([i]);
        let mut cur = i;
        while let Some(p) = parent(cur) {
            if !seen.insert(p) {
                break;
            }
            out.push(p);
            cur = p;
        }
        out
    };
    let in_kind = |i: usize| kind.is_none_or(|k| tickets[i].kind == k);
    let nodes: Vec<usize> = (0..n)
        .filter(|&i| in_kind(i) && tickets[i].status != Status::Done)
        .filter(|&i| g.index_of(&tickets[i].id) == Some(i))
        .collect();
    let done = (0..n)
        .filter(|&i| in_kind(i) && tickets[i].status == Status::Done)
        .count();
    let node_set: HashSet<usize> = nodes.iter().copied().collect();
    // For each ticket, the remaining nodes in its subtree (itself included).
    let mut under: HashMap<usize, Vec<usize>> = HashMap::new();
    for &b in &nodes {
        for x in chain(b) {
            under.entry(x).or_default().push(b);
        }
    }
    // preds[a] = nodes a waits on.
    let mut preds: HashMap<usize, HashSet<usize>> = HashMap::new();
    for &a in &nodes {
        let mut set = HashSet::new();
        for x in chain(a) {
            for d in &tickets[x].depends_on {
                if let Some(y) = g.index_of(d) {
                    for &b in under.get(&y).map(Vec::as_slice).unwrap_or(&[]) {
                        if b != a {
                            set.insert(b);
                        }
                    }
                }
            }
        }
        if kind.is_none() {
            // A container is finished after its children.
            for &c in g.children(a) {
                if node_set.contains(&c) {
                    set.insert(c);
                }
            }
        }
        preds.insert(a, set);
    }
    let depths = g.waiting_depths();
    let mut order_key = nodes.clone();
    g.sort_by_schedule(&mut order_key, &depths);
    let rank: HashMap<usize, usize> = order_key.iter().enumerate().map(|(r, &i)| (i, r)).collect();
    // Topological order (Kahn); nodes left over are on or behind a cycle.
    let mut indeg: HashMap<usize, usize> = nodes.iter().map(|&a| (a, preds[&a].len())).collect();
    let mut succs: HashMap<usize, Vec<usize>> = HashMap::new();
    for &a in &nodes {
        for &b in &preds[&a] {
            succs.entry(b).or_default().push(a);
        }
    }
    let mut queue: std::collections::VecDeque<usize> = order_key
        .iter()
        .copied()
        .filter(|a| indeg[a] == 0)
        .collect();
    let mut topo: Vec<usize> = Vec::with_capacity(nodes.len());
    while let Some(a) = queue.pop_front() {
        topo.push(a);
        for &s in succs.get(&a).map(Vec::as_slice).unwrap_or(&[]) {
            if let Some(d) = indeg.get_mut(&s) {
                *d -= 1;
                if *d == 0 {
                    queue.push_back(s);
                }
            }
        }
    }
    // Wave = longest chain of waiting before it; dist = longest chain ending at it (ties go
    // to the better-scheduled predecessor).
    let mut level: HashMap<usize, usize> = HashMap::new();
    let mut dist: HashMap<usize, (usize, Option<usize>)> = HashMap::new();
    for &a in &topo {
        let lv = preds[&a].iter().map(|b| level[b] + 1).max().unwrap_or(0);
        level.insert(a, lv);
        let best = preds[&a]
            .iter()
            .copied()
            .max_by(|x, y| dist[x].0.cmp(&dist[y].0).then(rank[y].cmp(&rank[x])));
        dist.insert(a, (best.map_or(1, |b| dist[&b].0 + 1), best));
    }
    let mut stuck: Vec<String> = nodes
        .iter()
        .filter(|a| !level.contains_key(a))
        .map(|&i| tickets[i].id.clone())
        .collect();
    stuck.sort();
    // Critical path: the longest chain, ending at the best-scheduled node among the longest.
    let mut path = Vec::new();
    if let Some((&end, _)) = dist
        .iter()
        .max_by(|(a, x), (b, y)| x.0.cmp(&y.0).then(rank[b].cmp(&rank[a])))
    {
        let mut cur = Some(end);
        while let Some(c) = cur {
            path.push(c);
            cur = dist[&c].1;
        }
        path.reverse();
    }
    let critical: HashSet<usize> = path.iter().copied().collect();
    // Transitive reduction: b -> a is implied when b is an ancestor of another predecessor
    // of a. Ancestor sets as bitsets over the topological positions.
    let pos: HashMap<usize, usize> = topo.iter().enumerate().map(|(k, &a)| (a, k)).collect();
    let words = topo.len().div_ceil(64);
    let mut anc: Vec<Vec<u64>> = Vec::with_capacity(topo.len());
    for &a in &topo {
        let mut set = vec![0u64; words];
        for p in &preds[&a] {
            let k = pos[p];
            for (w, x) in set.iter_mut().zip(&anc[k]) {
                *w |= x;
            }
            set[k / 64] |= 1 << (k % 64);
        }
        anc.push(set);
    }
    let reach_without = |from: usize, to: usize| -> bool {
        let k = pos[&from];
        preds[&to]
            .iter()
            .any(|p| *p != from && anc[pos[p]][k / 64] & (1 << (k % 64)) != 0)
    };
    let mut after: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut edges = Vec::new();
    let mut placed: Vec<usize> = level.keys().copied().collect();
    placed.sort_by_key(|i| rank[i]);
    for &a in &placed {
        let mut ps: Vec<usize> = preds[&a]
            .iter()
            .copied()
            .filter(|&b| level.contains_key(&b) && !reach_without(b, a))
            .collect();
        ps.sort_by_key(|i| rank[i]);
        for &b in &ps {
            edges.push((tickets[b].id.clone(), tickets[a].id.clone()));
        }
        after.insert(a, ps);
    }
    let depth = level.values().copied().max().map_or(0, |m| m + 1);
    let mut out: Vec<Vec<Node>> = vec![Vec::new(); depth];
    for &a in &placed {
        let t = &tickets[a];
        out[level[&a]].push(Node {
            id: t.id.clone(),
            kind: t.kind,
            title: t.title.clone(),
            status: t.status,
            state: state(&g, a),
            claimed_by: t.claimed_by.clone(),
            critical: critical.contains(&a),
            after: after[&a].iter().map(|&b| tickets[b].id.clone()).collect(),
        });
    }
    Waves {
        kind,
        waves: out,
        edges,
        critical_path: path.iter().map(|&i| tickets[i].id.clone()).collect(),
        stuck,
        done,
    }
}

fn node_label(n: &Node) -> String {
    let mut s = format!("{} {}", n.id, n.title);
    match &n.claimed_by {
        Some(a) => s.push_str(&format!(" [{} {a}]", n.state)),
        None => s.push_str(&format!(" [{}]", n.state)),
    }
    s
}

impl Waves {
    /// Plain text: one block per wave, then the critical path.
    pub fn to_text(&self) -> String {
        let what = self.kind.map(|k| k.as_str()).unwrap_or("ticket");
        let left: usize = self.waves.iter().map(Vec::len).sum();
        let mut s = format!(
            "{left} {what}(s) left in {} wave(s); {} done\n",
            self.waves.len(),
            self.done
        );
        for (k, w) in self.waves.iter().enumerate() {
            s.push_str(&format!("wave {} ({} in parallel):\n", k + 1, w.len()));
            for n in w {
                s.push_str(&format!(
                    "  {}{:<10}  {:<17}  {}{}{}\n",
                    if n.critical { "*" } else { " " },
                    n.id,
                    n.state,
                    n.title,
                    n.claimed_by
                        .as_deref()
                        .map(|a| format!(" ({a})"))
                        .unwrap_or_default(),
                    if n.after.is_empty() {
                        String::new()
                    } else {
                        format!("  after {}", n.after.join(", "))
                    }
                ));
            }
        }
        if !self.critical_path.is_empty() {
            s.push_str(&format!(
                "critical path ({}): {}\n",
                self.critical_path.len(),
                self.critical_path.join(" -> ")
            ));
        }
        if !self.stuck.is_empty() {
            s.push_str(&format!(
                "stuck on a dependency cycle: {}\n",
                self.stuck.join(", ")
            ));
        }
        s
    }

    /// A Mermaid flowchart: one subgraph per wave, critical path highlighted.
    pub fn to_mermaid(&self) -> String {
        let nid = |id: &str| id.replace('-', "_");
        let esc = |s: &str| s.replace('"', "#quot;");
        let mut s = String::from("flowchart LR\n");
        for (k, w) in self.waves.iter().enumerate() {
            s.push_str(&format!("  subgraph wave{}[\"wave {}\"]\n", k + 1, k + 1));
            for n in w {
                s.push_str(&format!(
                    "    {}[\"{}\"]\n",
                    nid(&n.id),
                    esc(&node_label(n))
                ));
            }
            s.push_str("  end\n");
        }
        for (a, b) in &self.edges {
            s.push_str(&format!("  {} --> {}\n", nid(a), nid(b)));
        }
        if !self.critical_path.is_empty() {
            s.push_str("  classDef critical stroke:#d33,stroke-width:3px\n");
            let ids: Vec<String> = self.critical_path.iter().map(|i| nid(i)).collect();
            s.push_str(&format!("  class {} critical\n", ids.join(",")));
        }
        s
    }

    /// Graphviz DOT: one cluster per wave, critical path edges in red.
    pub fn to_dot(&self) -> String {
        let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
        let mut s = String::from("digraph wt {\n  rankdir=LR;\n  node [shape=box];\n");
        for (k, w) in self.waves.iter().enumerate() {
            s.push_str(&format!(
                "  subgraph cluster_wave{} {{\n    label=\"wave {}\";\n",
                k + 1,
                k + 1
            ));
            for n in w {
                let style = if n.critical { ", color=red" } else { "" };
                s.push_str(&format!(
                    "    \"{}\" [label=\"{}\"{style}];\n",
                    esc(&n.id),
                    esc(&node_label(n))
                ));
            }
            s.push_str("  }\n");
        }
        let on_path: HashSet<(&str, &str)> = self
            .critical_path
            .windows(2)
            .map(|w| (w[0].as_str(), w[1].as_str()))
            .collect();
        for (a, b) in &self.edges {
            let style = if on_path.contains(&(a.as_str(), b.as_str())) {
                " [color=red, penwidth=2]"
            } else {
                ""
            };
            s.push_str(&format!("  \"{}\" -> \"{}\"{style};\n", esc(a), esc(b)));
        }
        s.push_str("}\n");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(id: &str, kind: Kind, parent: Option<&str>, deps: &[&str]) -> Ticket {
        Ticket {
            id: id.into(),
            kind,
            title: id.into(),
            parent: parent.map(Into::into),
            depends_on: deps.iter().map(|s| s.to_string()).collect(),
            priority: 2,
            path: format!(".work/{id}.md"),
            ..Default::default()
        }
    }

    #[test]
    fn phase_dependencies_make_waves_and_the_longest_chain_is_critical() {
        let ts = vec![
            t("P-1", Kind::PhaseSpec, None, &[]),
            t("J-a", Kind::Job, Some("P-1"), &[]),
            t("J-b", Kind::Job, Some("P-1"), &[]),
            t("J-c", Kind::Job, Some("P-1"), &["J-a"]),
            t("P-2", Kind::PhaseSpec, None, &["P-1"]),
            t("J-d", Kind::Job, Some("P-2"), &[]),
        ];
        let w = waves(&ts, Some(Kind::Job));
        let ids: Vec<Vec<&str>> = w
            .waves
            .iter()
            .map(|v| v.iter().map(|n| n.id.as_str()).collect())
            .collect();
        assert_eq!(ids, vec![vec!["J-a", "J-b"], vec!["J-c"], vec!["J-d"]]);
        assert_eq!(w.critical_path, vec!["J-a", "J-c", "J-d"]);
        // J-d waits on all of P-1's jobs, but J-a -> J-d is implied by J-a -> J-c -> J-d.
        assert!(w.edges.contains(&("J-c".into(), "J-d".into())));
        assert!(w.edges.contains(&("J-b".into(), "J-d".into())));
        assert!(!w.edges.contains(&("J-a".into(), "J-d".into())));
        assert!(w.to_mermaid().contains("J_c --> J_d"));
        assert!(w
            .to_dot()
            .contains("\"J-c\" -> \"J-d\" [color=red, penwidth=2];"));
    }

    #[test]
    fn done_work_is_left_out_and_cycles_are_stuck() {
        let mut a = t("J-a", Kind::Job, None, &[]);
        a.status = Status::Done;
        let ts = vec![
            a,
            t("J-b", Kind::Job, None, &["J-a"]),
            t("J-x", Kind::Job, None, &["J-y"]),
            t("J-y", Kind::Job, None, &["J-x"]),
        ];
        let w = waves(&ts, Some(Kind::Job));
        assert_eq!(w.waves.len(), 1);
        assert_eq!(w.waves[0][0].id, "J-b");
        assert_eq!(w.waves[0][0].state, "ready");
        assert_eq!(w.done, 1);
        assert_eq!(w.stuck, vec!["J-x", "J-y"]);
    }
}
