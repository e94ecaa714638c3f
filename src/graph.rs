//! The dependency graph over tickets: readiness, blocking reasons, cycles and ordering.
//!
//! Pure functions over a slice of tickets; no git here. Fail closed: an unknown dependency,
//! an unknown parent or a cycle blocks.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::ticket::{Kind, Status, Ticket};

/// Why a ticket is not ready.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Blocker {
    /// A dependency that is not finished (it, or something under it, is not done).
    Dependency {
        id: String,
        status: String,
        open_children: usize,
    },
    /// A dependency on an ID no ticket has.
    UnknownDependency { id: String },
    /// An ancestor is itself blocked.
    Ancestor { id: String, because: Box<Blocker> },
    /// The parent ID does not exist.
    UnknownParent { id: String },
    /// The ticket is part of a dependency cycle.
    Cycle { cycle: Vec<String> },
    /// The ticket is claimed even though its status says open.
    Claimed { by: String },
}

impl std::fmt::Display for Blocker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Blocker::Dependency {
                id,
                status,
                open_children,
            } => {
                if *open_children > 0 && status == "done" {
                    write!(
                        f,
                        "waits on {id} (done, but {open_children} ticket(s) under it are not)"
                    )
                } else {
                    write!(f, "waits on {id} ({status})")
                }
            }
            Blocker::UnknownDependency { id } => write!(f, "depends on unknown ticket {id}"),
            Blocker::Ancestor { id, because } => write!(f, "ancestor {id} {because}"),
            Blocker::UnknownParent { id } => write!(f, "parent {id} does not exist"),
            Blocker::Cycle { cycle } => write!(f, "dependency cycle {}", cycle.join(" -> ")),
            Blocker::Claimed { by } => write!(f, "claimed by {by}"),
        }
    }
}

/// An index over a ticket slice.
pub struct Graph<'a> {
    pub tickets: &'a [Ticket],
    by_id: HashMap<&'a str, usize>,
    children: Vec<Vec<usize>>,
    /// For each ticket, the tickets that list it in depends_on.
    dependents: Vec<Vec<usize>>,
    complete: Vec<bool>,
    in_cycle: Vec<Option<Vec<String>>>,
}

impl<'a> Graph<'a> {
    pub fn new(tickets: &'a [Ticket]) -> Graph<'a> {
        let mut by_id = HashMap::with_capacity(tickets.len());
        for (i, t) in tickets.iter().enumerate() {
            by_id.entry(t.id.as_str()).or_insert(i);
        }
        let mut children = vec![Vec::new(); tickets.len()];
        let mut dependents = vec![Vec::new(); tickets.len()];
        for (i, t) in tickets.iter().enumerate() {
            if let Some(p) = t.parent.as_deref().and_then(|p| by_id.get(p)) {
                if *p != i {
                    children[*p].push(i);
                }
            }
            for d in &t.depends_on {
                if let Some(&j) = by_id.get(d.as_str()) {
                    dependents[j].push(i);
                }
            }
        }
        let mut g = Graph {
            tickets,
            by_id,
            children,
            dependents,
            complete: Vec::new(),
            in_cycle: Vec::new(),
        };
        g.complete = g.compute_complete();
        g.in_cycle = g.compute_cycles();
        g
    }

    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    pub fn get(&self, id: &str) -> Option<&'a Ticket> {
        self.index_of(id).map(|i| &self.tickets[i])
    }

    pub fn children(&self, i: usize) -> &[usize] {
        &self.children[i]
    }

    /// Done, and everything under it done (a dependency on a container needs all of it).
    pub fn is_complete(&self, i: usize) -> bool {
        self.complete[i]
    }

    fn compute_complete(&self) -> Vec<bool> {
        // 0 = unknown, 1 = visiting, 2 = complete, 3 = incomplete
        let mut state = vec![0u8; self.tickets.len()];
        for start in 0..self.tickets.len() {
            if state[start] != 0 {
                continue;
            }
            let mut stack = vec![(start, 0usize)];
            state[start] = 1;
            while let Some(&mut (i, ref mut next)) = stack.last_mut() {
                if *next < self.children[i].len() {
                    let c = self.children[i][*next];
                    *next += 1;
                    if state[c] == 0 {
                        state[c] = 1;
                        stack.push((c, 0));
                    }
                } else {
                    let ok = self.tickets[i].status == Status::Done
                        && self.children[i].iter().all(|&c| state[c] == 2);
                    state[i] = if ok { 2 } else { 3 };
                    stack.pop();
                }
            }
        }
        state.into_iter().map(|s| s == 2).collect()
    }

    /// Number of tickets under `i` (transitively) that are not done.
    pub fn open_descendants(&self, i: usize) -> usize {
        let mut n = 0;
        let mut stack: Vec<usize> = self.children[i].clone();
        let mut seen = HashSet::new();
        while let Some(c) = stack.pop() {
            if !seen.insert(c) {
                continue;
            }
            if self.tickets[c].status != Status::Done {
                n += 1;
            }
            stack.extend_from_slice(&self.children[c]);
        }
        n
    }

    /// For every ticket on a dependency cycle, one cycle it is on (IDs, first repeated last).
    ///
    /// The cycles one depth-first search reports do not pass through every ticket of a
    /// strongly connected part (a ticket that enters the part through an already finished
    /// node is on none of them), so every ticket of a part with a cycle that none of those
    /// cycles names gets its own shortest cycle.
    fn compute_cycles(&self) -> Vec<Option<Vec<String>>> {
        let n = self.tickets.len();
        let mut out: Vec<Option<Vec<String>>> = vec![None; n];
        for cycle in self.cycles() {
            for id in &cycle {
                if let Some(i) = self.index_of(id) {
                    if out[i].is_none() {
                        out[i] = Some(cycle.clone());
                    }
                }
            }
        }
        let comp = self.components();
        let mut size = vec![0usize; n];
        for &c in &comp {
            size[c] += 1;
        }
        for i in 0..n {
            if out[i].is_none() && size[comp[i]] > 1 {
                out[i] = self.shortest_cycle_through(i, &comp);
            }
        }
        out
    }

    /// Strongly connected components of the dependency edges (Kosaraju, iterative): the
    /// component number of each ticket.
    fn components(&self) -> Vec<usize> {
        let n = self.tickets.len();
        let mut seen = vec![false; n];
        let mut order = Vec::with_capacity(n);
        for start in 0..n {
            if seen[start] {
                continue;
            }
            seen[start] = true;
            let mut stack: Vec<(usize, Vec<usize>)> = vec![(start, self.deps_of(start).collect())];
            while let Some((node, deps)) = stack.last_mut() {
                match deps.pop() {
                    Some(d) if !seen[d] => {
                        seen[d] = true;
                        let next = self.deps_of(d).collect();
                        stack.push((d, next));
                    }
                    Some(_) => {}
                    None => {
                        order.push(*node);
                        stack.pop();
                    }
                }
            }
        }
        let mut comp = vec![usize::MAX; n];
        let mut next_comp = 0;
        for &root in order.iter().rev() {
            if comp[root] != usize::MAX {
                continue;
            }
            comp[root] = next_comp;
            let mut stack = vec![root];
            while let Some(x) = stack.pop() {
                for &w in &self.dependents[x] {
                    if comp[w] == usize::MAX {
                        comp[w] = next_comp;
                        stack.push(w);
                    }
                }
            }
            next_comp += 1;
        }
        comp
    }

    /// The shortest dependency cycle from ticket `i` back to itself inside its component.
    fn shortest_cycle_through(&self, i: usize, comp: &[usize]) -> Option<Vec<String>> {
        let mut prev: HashMap<usize, usize> = HashMap::new();
        let mut queue = std::collections::VecDeque::new();
        for d in self.deps_of(i) {
            if comp[d] == comp[i] && !prev.contains_key(&d) {
                prev.insert(d, i);
                queue.push_back(d);
            }
        }
        while let Some(x) = queue.pop_front() {
            if x == i {
                let mut chain = vec![i];
                let mut cur = prev[&i];
                while cur != i {
                    chain.push(cur);
                    cur = prev[&cur];
                }
                chain.push(i);
                chain.reverse();
                return Some(chain.iter().map(|&k| self.tickets[k].id.clone()).collect());
            }
            for d in self.deps_of(x) {
                if comp[d] == comp[i] && !prev.contains_key(&d) {
                    prev.insert(d, x);
                    queue.push_back(d);
                }
            }
        }
        None
    }

    fn deps_of(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        self.tickets[i]
            .depends_on
            .iter()
            .filter_map(|d| self.by_id.get(d.as_str()).copied())
    }

    /// Every elementary cycle found by one depth-first search (each as IDs, closed: the first
    /// ID repeated at the end). Each strongly connected part with a cycle yields at least one.
    pub fn cycles(&self) -> Vec<Vec<String>> {
        let n = self.tickets.len();
        let mut color = vec![0u8; n]; // 0 white, 1 on the current path, 2 finished
        let mut pos = vec![usize::MAX; n];
        let mut path: Vec<usize> = Vec::new();
        let mut result = Vec::new();
        for start in 0..n {
            if color[start] != 0 {
                continue;
            }
            color[start] = 1;
            pos[start] = 0;
            path.push(start);
            let mut stack: Vec<(usize, Vec<usize>, usize)> =
                vec![(start, self.deps_of(start).collect(), 0)];
            loop {
                let step = match stack.last_mut() {
                    None => break,
                    Some((node, deps, next)) => {
                        if *next < deps.len() {
                            *next += 1;
                            Ok(deps[*next - 1])
                        } else {
                            Err(*node)
                        }
                    }
                };
                match step {
                    Ok(d) => match color[d] {
                        0 => {
                            color[d] = 1;
                            pos[d] = path.len();
                            path.push(d);
                            stack.push((d, self.deps_of(d).collect(), 0));
                        }
                        1 => {
                            let mut cyc: Vec<String> = path[pos[d]..]
                                .iter()
                                .map(|&k| self.tickets[k].id.clone())
                                .collect();
                            cyc.push(self.tickets[d].id.clone());
                            result.push(cyc);
                        }
                        _ => {}
                    },
                    Err(node) => {
                        color[node] = 2;
                        pos[node] = usize::MAX;
                        path.pop();
                        stack.pop();
                    }
                }
            }
        }
        result
    }

    /// If `from` gained a dependency on `to`, the cycle that would close (IDs, closed).
    pub fn cycle_if_added(&self, from: &str, to: &str) -> Option<Vec<String>> {
        if from == to {
            return Some(vec![from.to_string(), to.to_string()]);
        }
        // A path to -> ... -> from along depends_on edges closes a cycle.
        let start = self.index_of(to)?;
        let goal = self.index_of(from)?;
        let mut prev: HashMap<usize, usize> = HashMap::new();
        let mut queue = std::collections::VecDeque::from([start]);
        let mut seen = HashSet::from([start]);
        while let Some(i) = queue.pop_front() {
            if i == goal {
                let mut chain = vec![i];
                let mut cur = i;
                while let Some(&p) = prev.get(&cur) {
                    chain.push(p);
                    cur = p;
                }
                chain.reverse(); // to ... from
                let mut ids = vec![from.to_string()];
                ids.extend(chain.iter().map(|&k| self.tickets[k].id.clone()));
                return Some(ids);
            }
            for d in self.deps_of(i) {
                if seen.insert(d) {
                    prev.insert(d, i);
                    queue.push_back(d);
                }
            }
        }
        None
    }

    /// The first reason ticket `i`'s own dependencies (not its ancestors') block it.
    fn own_blocker(&self, i: usize) -> Vec<Blocker> {
        let t = &self.tickets[i];
        let mut out = Vec::new();
        if let Some(c) = &self.in_cycle[i] {
            out.push(Blocker::Cycle { cycle: c.clone() });
        }
        if let Some(p) = &t.parent {
            if self.index_of(p).is_none() {
                out.push(Blocker::UnknownParent { id: p.clone() });
            }
        }
        for d in &t.depends_on {
            match self.index_of(d) {
                None => out.push(Blocker::UnknownDependency { id: d.clone() }),
                Some(j) if !self.complete[j] => out.push(Blocker::Dependency {
                    id: d.clone(),
                    status: self.tickets[j].status.to_string(),
                    open_children: self.open_descendants(j),
                }),
                Some(_) => {}
            }
        }
        out
    }

    /// Every reason ticket `i` cannot start: its own dependencies, then each ancestor's.
    /// Status is not considered here (see [`Graph::is_ready`]).
    pub fn blockers(&self, i: usize) -> Vec<Blocker> {
        let mut out = self.own_blocker(i);
        if let Some(by) = &self.tickets[i].claimed_by {
            out.push(Blocker::Claimed { by: by.clone() });
        }
        let mut seen = HashSet::from([i]);
        let mut cur = i;
        while let Some(p) = self.tickets[cur]
            .parent
            .as_deref()
            .and_then(|p| self.index_of(p))
        {
            if !seen.insert(p) {
                break;
            }
            for b in self.own_blocker(p) {
                out.push(Blocker::Ancestor {
                    id: self.tickets[p].id.clone(),
                    because: Box::new(b),
                });
            }
            cur = p;
        }
        out
    }

    /// Open, unclaimed and nothing blocks it.
    pub fn is_ready(&self, i: usize) -> bool {
        let t = &self.tickets[i];
        t.status == Status::Open && t.claimed_by.is_none() && self.blockers(i).is_empty()
    }

    /// Length of the longest chain of work waiting on ticket `i`: tickets that depend on it
    /// or on one of its ancestors (finishing `i` is needed to finish the ancestor), then
    /// whatever waits on those, transitively. 0 when nothing waits.
    pub fn waiting_depths(&self) -> Vec<usize> {
        let n = self.tickets.len();
        let mut memo: Vec<Option<usize>> = vec![None; n];
        let mut on_stack = vec![false; n];
        for i in 0..n {
            self.depth(i, &mut memo, &mut on_stack);
        }
        memo.into_iter().map(|m| m.unwrap_or(0)).collect()
    }

    fn waiters(&self, i: usize) -> Vec<usize> {
        let mut out = self.dependents[i].clone();
        let mut seen = HashSet::from([i]);
        let mut cur = i;
        while let Some(p) = self.tickets[cur]
            .parent
            .as_deref()
            .and_then(|p| self.index_of(p))
        {
            if !seen.insert(p) {
                break;
            }
            out.extend_from_slice(&self.dependents[p]);
            cur = p;
        }
        out
    }

    fn depth(&self, root: usize, memo: &mut [Option<usize>], on_stack: &mut [bool]) -> usize {
        if let Some(d) = memo[root] {
            return d;
        }
        // Iterative post-order DFS; edges into the current stack (cycles) count as 0.
        let mut stack: Vec<(usize, Vec<usize>, usize)> = vec![(root, self.waiters(root), 0)];
        on_stack[root] = true;
        while let Some((node, ws, best)) = stack.last_mut() {
            if let Some(w) = ws.pop() {
                if let Some(d) = memo[w] {
                    *best = (*best).max(d + 1);
                } else if !on_stack[w] {
                    on_stack[w] = true;
                    let wl = self.waiters(w);
                    stack.push((w, wl, 0));
                }
            } else {
                let (n, b) = (*node, *best);
                memo[n] = Some(b);
                on_stack[n] = false;
                stack.pop();
                if let Some((_, _, pb)) = stack.last_mut() {
                    *pb = (*pb).max(b + 1);
                }
            }
        }
        memo[root].unwrap_or(0)
    }

    /// Ready tickets of `kind` (None = any kind), in scheduling order: priority, then the
    /// longest chain of work waiting on it, then age (created), then ID.
    pub fn ready(&self, kind: Option<Kind>) -> Vec<usize> {
        let mut ids: Vec<usize> = (0..self.tickets.len())
            .filter(|&i| kind.is_none_or(|k| self.tickets[i].kind == k))
            .filter(|&i| self.by_id.get(self.tickets[i].id.as_str()) == Some(&i))
            .filter(|&i| self.is_ready(i))
            .collect();
        let depths = self.waiting_depths();
        self.sort_by_schedule(&mut ids, &depths);
        ids
    }

    pub fn sort_by_schedule(&self, ids: &mut [usize], depths: &[usize]) {
        ids.sort_by(|&a, &b| {
            let (ta, tb) = (&self.tickets[a], &self.tickets[b]);
            ta.priority
                .cmp(&tb.priority)
                .then(depths[b].cmp(&depths[a]))
                .then_with(|| ta.created.cmp(&tb.created))
                .then_with(|| ta.id.cmp(&tb.id))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(id: &str, kind: Kind, status: Status, parent: Option<&str>, deps: &[&str]) -> Ticket {
        Ticket {
            id: id.into(),
            kind,
            title: id.into(),
            status,
            priority: 2,
            parent: parent.map(Into::into),
            depends_on: deps.iter().map(|s| s.to_string()).collect(),
            path: format!(".work/{id}.md"),
            ..Default::default()
        }
    }

    #[test]
    fn dependency_on_container_needs_all_descendants_done() {
        let ts = vec![
            t("P-a", Kind::PhaseSpec, Status::Done, None, &[]),
            t("J-a", Kind::Job, Status::Done, Some("P-a"), &[]),
            t("T-a", Kind::Task, Status::Open, Some("J-a"), &[]),
            t("P-b", Kind::PhaseSpec, Status::Open, None, &["P-a"]),
            t("J-b", Kind::Job, Status::Open, Some("P-b"), &[]),
        ];
        let g = Graph::new(&ts);
        assert!(!g.is_complete(0));
        assert!(g.ready(Some(Kind::Job)).is_empty());
        let b = g.blockers(4);
        assert!(matches!(&b[0], Blocker::Ancestor { id, .. } if id == "P-b"));
    }

    #[test]
    fn cycles_are_found_and_block() {
        let ts = vec![
            t("J-a", Kind::Job, Status::Open, None, &["J-b"]),
            t("J-b", Kind::Job, Status::Open, None, &["J-a"]),
            t("J-c", Kind::Job, Status::Open, None, &[]),
        ];
        let g = Graph::new(&ts);
        assert_eq!(g.cycles().len(), 1);
        assert_eq!(g.ready(None), vec![2]);
        assert_eq!(
            g.cycle_if_added("J-c", "J-c"),
            Some(vec!["J-c".to_string(), "J-c".to_string()])
        );
        let ts2 = vec![
            t("J-a", Kind::Job, Status::Open, None, &["J-b"]),
            t("J-b", Kind::Job, Status::Open, None, &[]),
        ];
        let g2 = Graph::new(&ts2);
        assert_eq!(
            g2.cycle_if_added("J-b", "J-a"),
            Some(vec!["J-b".into(), "J-a".into(), "J-b".into()])
        );
    }

    #[test]
    fn ready_orders_by_priority_then_waiting_chain() {
        let mut ts = vec![
            t("J-a", Kind::Job, Status::Open, None, &[]),
            t("J-b", Kind::Job, Status::Open, None, &[]),
            t("J-c", Kind::Job, Status::Open, None, &["J-b"]),
            t("J-d", Kind::Job, Status::Open, None, &["J-c"]),
            t("J-e", Kind::Job, Status::Open, None, &[]),
        ];
        ts[4].priority = 0;
        let g = Graph::new(&ts);
        let order: Vec<&str> = g.ready(None).iter().map(|&i| ts[i].id.as_str()).collect();
        assert_eq!(order, vec!["J-e", "J-b", "J-a"]);
    }

    #[test]
    fn unknown_dependency_blocks() {
        let ts = vec![t("J-a", Kind::Job, Status::Open, None, &["J-zzz"])];
        let g = Graph::new(&ts);
        assert!(g.ready(None).is_empty());
        assert_eq!(
            g.blockers(0),
            vec![Blocker::UnknownDependency { id: "J-zzz".into() }]
        );
    }
}
