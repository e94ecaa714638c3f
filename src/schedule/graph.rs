//! The dependency graph over tickets: readiness, blocking reasons, cycles and ordering.
//!
//! Pure functions over a slice of tickets; no git here. Fail closed: an unknown dependency,
//! an unknown parent or a cycle blocks.

use std::collections::{HashMap, HashSet};

use rustc_hash::FxHashMap;

use serde::Serialize;

use crate::model::ticket::{Kind, Status, Ticket};

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
    /// The ticket (or a dependency) carries a gate no human has approved (`wt approve`).
    AwaitingApproval { id: String },
    /// The ID (the ticket's own, or a dependency's) is used by more than one file, exactly or
    /// but for case: which ticket it names cannot be told. `paths` are all those files.
    DuplicateId { id: String, paths: Vec<String> },
    /// The parent exists but cannot hold the ticket: it is the ticket itself, or of the wrong
    /// kind.
    InvalidParent { id: String, problem: String },
    /// The ticket itself is malformed (its ID's letter names another kind).
    Invalid { problem: String },
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
                    let (n, verb) = match open_children {
                        1 => ("1 ticket".to_string(), "is"),
                        n => (format!("{n} tickets"), "are"),
                    };
                    write!(f, "waits on {id} (done, but {n} under it {verb} not)")
                } else {
                    write!(f, "waits on {id} ({status})")
                }
            }
            Blocker::UnknownDependency { id } => write!(f, "depends on unknown ticket {id}"),
            Blocker::Ancestor { id, because } => write!(f, "ancestor {id} {because}"),
            Blocker::UnknownParent { id } => write!(f, "parent {id} does not exist"),
            Blocker::Cycle { cycle } => write!(f, "dependency cycle {}", cycle.join(" -> ")),
            Blocker::Claimed { by } => write!(f, "claimed by {by}"),
            Blocker::AwaitingApproval { id } => {
                write!(f, "awaiting approval (wt approve {id})")
            }
            Blocker::DuplicateId { id, paths } => write!(
                f,
                "id {id} is used by {} files ({}); give all but one a new id",
                paths.len(),
                paths.join(", ")
            ),
            Blocker::InvalidParent { id, problem } => write!(f, "parent {id} {problem}"),
            Blocker::Invalid { problem } => write!(f, "invalid ticket: {problem}"),
        }
    }
}

/// Hint shown with every cycle: what `->` means, since a cycle may run through the plan's
/// hierarchy rather than through `depends_on` alone.
pub const CYCLE_HINT: &str = "`A -> B` means A waits on B: on B's dependencies, on B and everything under it if B is a container, and on the dependencies of A's ancestors; remove one edge of the cycle (`wt dep rm`)";

/// For each ticket, a list of tickets, in two flat vectors (one allocation each, not one
/// per ticket).
struct Adjacency {
    /// `items[start[i]..start[i + 1]]` belong to ticket i.
    start: Vec<usize>,
    items: Vec<usize>,
}

impl Adjacency {
    /// From (owner, item) pairs; each owner's items keep the order of `pairs`.
    fn new(n: usize, pairs: &[(usize, usize)]) -> Adjacency {
        let mut start = vec![0usize; n + 1];
        for &(o, _) in pairs {
            start[o + 1] += 1;
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut items = vec![0usize; pairs.len()];
        for &(o, x) in pairs {
            items[fill[o]] = x;
            fill[o] += 1;
        }
        Adjacency { start, items }
    }

    fn of(&self, i: usize) -> &[usize] {
        &self.items[self.start[i]..self.start[i + 1]]
    }
}

/// Reused buffers for [`Graph::waiting_depths`].
#[derive(Default)]
struct Scratch {
    arena: Vec<usize>,
    ancestors: Vec<usize>,
    /// (ticket, start of its waiters in `arena`, best depth so far)
    stack: Vec<(usize, usize, usize)>,
}

/// An index over a ticket slice.
pub struct Graph<'a> {
    pub tickets: &'a [Ticket],
    by_id: FxHashMap<&'a str, usize>,
    /// Index of each ticket's parent, when the parent exists.
    parent: Vec<Option<usize>>,
    children: Adjacency,
    /// For each ticket, the tickets that list it in depends_on.
    dependents: Adjacency,
    complete: Vec<bool>,
    in_cycle: Vec<Option<Vec<String>>>,
    /// Tickets whose ID another ticket also has (exactly or but for case): ticket → its
    /// group in `dups`. Empty in a healthy tree.
    dup_of: FxHashMap<usize, usize>,
    dups: Vec<Vec<usize>>,
}

/// An ID as wt writes it: the kind letter uppercase, the rest lowercase (`J-7f3ak2m9`). Two
/// IDs name the same ticket when their canonical forms are equal.
fn canonical(id: &str) -> std::borrow::Cow<'_, str> {
    let b = id.as_bytes();
    let ok = b.first().is_none_or(|c| !c.is_ascii_lowercase())
        && !b.iter().skip(1).any(u8::is_ascii_uppercase);
    if ok {
        return std::borrow::Cow::Borrowed(id);
    }
    let mut s = id.to_ascii_lowercase();
    if let Some(first) = s.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    std::borrow::Cow::Owned(s)
}

/// Groups of `tickets` that share an ID, exactly or but for case (each two or more indexes,
/// in ticket order), without building a graph.
pub fn duplicate_groups(tickets: &[Ticket]) -> Vec<Vec<usize>> {
    duplicate_ids(tickets, &id_index(tickets))
}

/// Each ID of `tickets` and the index of its first ticket.
pub fn id_index(tickets: &[Ticket]) -> FxHashMap<&str, usize> {
    let mut by_id = FxHashMap::with_capacity_and_hasher(tickets.len(), Default::default());
    for (i, t) in tickets.iter().enumerate() {
        by_id.entry(t.id.as_str()).or_insert(i);
    }
    by_id
}

/// [`duplicate_groups`] with the [`id_index`] of `tickets` at hand.
pub fn duplicate_groups_in(tickets: &[Ticket], index: &FxHashMap<&str, usize>) -> Vec<Vec<usize>> {
    duplicate_ids(tickets, index)
}

/// Groups of tickets that share an ID, exactly or but for ASCII case (each group has two or
/// more, in ticket order). wt writes IDs in canonical form (see `canonical`), so only the
/// few other IDs need a second look.
fn duplicate_ids(tickets: &[Ticket], by_id: &FxHashMap<&str, usize>) -> Vec<Vec<usize>> {
    let mut groups: FxHashMap<String, Vec<usize>> = FxHashMap::default();
    let mut odd: FxHashMap<String, usize> = FxHashMap::default();
    let mut join = |key: String, a: usize, b: usize| {
        let g = groups.entry(key).or_default();
        for x in [a, b] {
            if !g.contains(&x) {
                g.push(x);
            }
        }
    };
    // As many IDs as tickets: no two share an ID exactly (only case can still join them).
    let exact_twins = by_id.len() < tickets.len();
    for (i, t) in tickets.iter().enumerate() {
        let first = if exact_twins {
            by_id.get(t.id.as_str()).copied().unwrap_or(i)
        } else {
            i
        };
        if first != i {
            join(canonical(&t.id).into_owned(), first, i);
        }
        if let std::borrow::Cow::Owned(c) = canonical(&t.id) {
            let other = by_id
                .get(c.as_str())
                .copied()
                .or_else(|| odd.get(&c).copied());
            if let Some(o) = other.filter(|&o| tickets[o].id != t.id) {
                join(c.clone(), o, i);
            }
            odd.entry(c).or_insert(i);
        }
    }
    let mut out: Vec<Vec<usize>> = groups
        .into_values()
        .map(|mut g| {
            g.sort_unstable();
            g.dedup();
            g
        })
        .filter(|g| g.len() > 1)
        .collect();
    out.sort();
    out
}

impl<'a> Graph<'a> {
    pub fn new(tickets: &'a [Ticket]) -> Graph<'a> {
        let by_id = id_index(tickets);
        let mut parent = vec![None; tickets.len()];
        let mut children = Vec::new();
        let mut dependents = Vec::new();
        for (i, t) in tickets.iter().enumerate() {
            if let Some(&p) = t.parent.as_deref().and_then(|p| by_id.get(p)) {
                parent[i] = Some(p);
                if p != i {
                    children.push((p, i));
                }
            }
            for d in &t.depends_on {
                if let Some(&j) = by_id.get(d.as_str()) {
                    dependents.push((j, i));
                }
            }
        }
        let children = Adjacency::new(tickets.len(), &children);
        let dependents = Adjacency::new(tickets.len(), &dependents);
        let dups = duplicate_ids(tickets, &by_id);
        let mut dup_of = FxHashMap::default();
        for (k, group) in dups.iter().enumerate() {
            for &i in group {
                dup_of.insert(i, k);
            }
        }
        let mut g = Graph {
            tickets,
            by_id,
            parent,
            children,
            dependents,
            complete: Vec::new(),
            in_cycle: Vec::new(),
            dup_of,
            dups,
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
        self.children.of(i)
    }

    /// The index of ticket `i`'s parent, when it has one that exists (and is not itself).
    pub fn parent(&self, i: usize) -> Option<usize> {
        self.parent[i].filter(|&p| p != i)
    }

    /// The tickets under `i` (transitively) that are not done, in walk order (each once).
    pub fn open_descendants_of(&self, i: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut stack: Vec<usize> = self.children.of(i).iter().rev().copied().collect();
        let mut seen = HashSet::new();
        while let Some(c) = stack.pop() {
            if c == i || !seen.insert(c) {
                continue;
            }
            if self.tickets[c].status != Status::Done {
                out.push(c);
            }
            stack.extend(self.children.of(c).iter().rev());
        }
        out
    }

    /// Done, and everything under it done (a dependency on a container needs all of it).
    pub fn is_complete(&self, i: usize) -> bool {
        self.complete[i]
    }

    fn compute_complete(&self) -> Vec<bool> {
        // 0 = unknown, 1 = visiting, 2 = complete, 3 = incomplete
        let mut state = vec![0u8; self.tickets.len()];
        let mut stack: Vec<(usize, usize)> = Vec::new();
        for start in 0..self.tickets.len() {
            if state[start] != 0 {
                continue;
            }
            stack.clear();
            stack.push((start, 0usize));
            state[start] = 1;
            while let Some(&mut (i, ref mut next)) = stack.last_mut() {
                if *next < self.children.of(i).len() {
                    let c = self.children.of(i)[*next];
                    *next += 1;
                    if state[c] == 0 {
                        state[c] = 1;
                        stack.push((c, 0));
                    }
                } else {
                    let ok = self.tickets[i].status == Status::Done
                        && self.children.of(i).iter().all(|&c| state[c] == 2);
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
        let mut stack: Vec<usize> = self.children.of(i).to_vec();
        let mut seen = HashSet::new();
        while let Some(c) = stack.pop() {
            if !seen.insert(c) {
                continue;
            }
            if self.tickets[c].status != Status::Done {
                n += 1;
            }
            stack.extend_from_slice(self.children.of(c));
        }
        n
    }

    /// For every ticket that can never start because it waits on itself, one such cycle
    /// (IDs, closed: first repeated last). See [`Graph::cycles`].
    fn compute_cycles(&self) -> Vec<Option<Vec<String>>> {
        let wait = WaitGraph::new(self);
        let comp = wait.components();
        let mut size = vec![0usize; comp.len()];
        for &c in &comp {
            size[c] += 1;
        }
        (0..self.tickets.len())
            .map(|i| {
                let s = WaitGraph::start(i);
                if size[comp[s]] > 1 {
                    wait.shortest_cycle(s, &comp).map(|c| self.render(&c))
                } else {
                    None
                }
            })
            .collect()
    }

    /// Wait-graph nodes as ticket IDs, consecutive repeats folded.
    fn render(&self, nodes: &[usize]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for &n in nodes {
            let id = &self.tickets[WaitGraph::ticket(n)].id;
            if out.last() != Some(id) {
                out.push(id.clone());
            }
        }
        if out.len() == 1 {
            out.push(out[0].clone());
        }
        out
    }

    fn deps_of(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        self.tickets[i]
            .depends_on
            .iter()
            .filter_map(|d| self.by_id.get(d.as_str()).copied())
    }

    /// One cycle for every group of tickets that wait on each other and so can never all
    /// finish (IDs, closed: the first ID repeated at the end).
    ///
    /// "Waits on" covers more than `depends_on`: a ticket cannot start before its ancestors'
    /// dependencies are complete, and a container is not complete before everything under it
    /// is. So a task that depends on its own job, a phase-spec that depends on one of its
    /// jobs, or two phases whose jobs depend on each other's phase are cycles too.
    pub fn cycles(&self) -> Vec<Vec<String>> {
        // No ticket waits on itself: no cycle at all. (A group of nodes that wait on each
        // other holds a `start` node, whose ticket `in_cycle` marks: a loop of `finish` nodes
        // alone is a loop of parents, and their `start` nodes loop the other way round.)
        if self.in_cycle.iter().all(Option::is_none) {
            return Vec::new();
        }
        let wait = WaitGraph::new(self);
        let comp = wait.components();
        let mut size = vec![0usize; comp.len()];
        for &c in &comp {
            size[c] += 1;
        }
        let mut reported = vec![false; comp.len()];
        let mut out = Vec::new();
        // Start each reported cycle at a ticket that waits through one of its own
        // dependencies, so it reads "X -> what X waits on -> … -> X".
        let n = self.tickets.len();
        let with_deps = (0..n)
            .filter(|&i| self.deps_of(i).next().is_some())
            .map(WaitGraph::start);
        let rest = (0..2 * n).filter(|&k| !(k % 2 == 1 && self.deps_of(k / 2).next().is_some()));
        for node in with_deps.chain(rest) {
            let c = comp[node];
            if size[c] > 1 && !reported[c] {
                reported[c] = true;
                if let Some(cyc) = wait.shortest_cycle(node, &comp) {
                    out.push(self.render(&cyc));
                }
            }
        }
        out
    }

    /// If `from` gained a dependency on `to`, the cycle that would close (IDs, closed).
    pub fn cycle_if_added(&self, from: &str, to: &str) -> Option<Vec<String>> {
        if from == to {
            return Some(vec![from.to_string(), to.to_string()]);
        }
        let (Some(f), Some(t)) = (self.index_of(from), self.index_of(to)) else {
            return None;
        };
        // The new edge is start(from) -> finish(to); it closes a cycle when finish(to)
        // already reaches start(from).
        let wait = WaitGraph::new(self);
        let path = wait.path(WaitGraph::finish(t), WaitGraph::start(f))?;
        let mut nodes = vec![WaitGraph::start(f), WaitGraph::finish(t)];
        nodes.extend(path);
        Some(self.render(&nodes))
    }

    /// Groups of tickets that share an ID (exactly or but for case), each two or more
    /// indexes in ticket order.
    pub fn duplicates(&self) -> &[Vec<usize>] {
        &self.dups
    }

    /// The [`Blocker::DuplicateId`] of ticket `j`, when another ticket has its ID.
    fn duplicate(&self, j: usize, id: &str) -> Option<Blocker> {
        let k = *self.dup_of.get(&j)?;
        Some(Blocker::DuplicateId {
            id: id.to_string(),
            paths: self.dups[k]
                .iter()
                .map(|&x| self.tickets[x].path.clone())
                .collect(),
        })
    }

    /// What is wrong with ticket `i`'s parent, when it exists but cannot hold it.
    fn parent_problem(&self, i: usize) -> Option<String> {
        let p = self.parent[i]?;
        if p == i {
            return Some("is the ticket itself".into());
        }
        let (t, pt) = (&self.tickets[i], &self.tickets[p]);
        match t.kind.parent_kind() {
            Some(want) if pt.kind == want => None,
            Some(want) => Some(format!(
                "is a {}; a {}'s parent must be a {want}",
                pt.kind, t.kind
            )),
            None => Some(format!("is a {}; a {} has no parent", pt.kind, t.kind)),
        }
    }

    /// Is ticket `i`'s ID one its kind cannot have? (`J-…` must be a job.)
    fn kind_mismatch(&self, i: usize) -> bool {
        let t = &self.tickets[i];
        let p = t.kind.prefix();
        !(t.id.len() > p.len() && t.id.starts_with(p) && t.id.as_bytes()[p.len()] == b'-')
    }

    /// The first reason ticket `i`'s own dependencies (not its ancestors') block it.
    fn own_blocker(&self, i: usize) -> Vec<Blocker> {
        let t = &self.tickets[i];
        let mut out = Vec::new();
        if let Some(b) = self.duplicate(i, &t.id) {
            out.push(b);
        }
        if self.kind_mismatch(i) {
            out.push(Blocker::Invalid {
                problem: format!(
                    "id {} does not match kind {} (expected prefix {}-)",
                    t.id,
                    t.kind,
                    t.kind.prefix()
                ),
            });
        }
        if let (Some(p), Some(problem)) = (&t.parent, self.parent_problem(i)) {
            out.push(Blocker::InvalidParent {
                id: p.clone(),
                problem,
            });
        }
        if t.awaits_approval() {
            out.push(Blocker::AwaitingApproval { id: t.id.clone() });
        }
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
            if let Some(j) = self.index_of(d) {
                if self.tickets[j].awaits_approval() {
                    out.push(Blocker::AwaitingApproval { id: d.clone() });
                }
                if let Some(b) = self.duplicate(j, d) {
                    out.push(b);
                }
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
        let mut ancestors = Vec::new();
        self.ancestors(i, &mut ancestors);
        for p in ancestors {
            for b in self.own_blocker(p) {
                out.push(Blocker::Ancestor {
                    id: self.tickets[p].id.clone(),
                    because: Box::new(b),
                });
            }
        }
        out
    }

    /// Open, unclaimed and nothing blocks it.
    pub fn is_ready(&self, i: usize) -> bool {
        let t = &self.tickets[i];
        t.status == Status::Open && t.claimed_by.is_none() && self.unblocked(i)
    }

    /// Nothing in the graph blocks ticket `i`: no reason of its own or of an ancestor. The
    /// same answer as "`blockers(i)` has nothing but a claim", without building the reasons.
    /// It depends only on each ticket's id, kind, parent, depends_on, whether it is done and
    /// whether it awaits approval (see [`Ticket::graph_key`]).
    pub fn unblocked(&self, i: usize) -> bool {
        if self.has_own_blocker(i) {
            return false;
        }
        let mut ancestors = Vec::new();
        self.ancestors(i, &mut ancestors);
        !ancestors.into_iter().any(|p| self.has_own_blocker(p))
    }

    /// Would [`Graph::own_blocker`] find anything? (Kept in step with it.)
    fn has_own_blocker(&self, i: usize) -> bool {
        let t = &self.tickets[i];
        t.awaits_approval()
            || self.in_cycle[i].is_some()
            || self.dup_of.contains_key(&i)
            || self.kind_mismatch(i)
            || self.parent_problem(i).is_some()
            || t.parent
                .as_deref()
                .is_some_and(|p| self.index_of(p).is_none())
            || t.depends_on.iter().any(|d| match self.index_of(d) {
                None => true,
                Some(j) => {
                    !self.complete[j]
                        || self.tickets[j].awaits_approval()
                        || self.dup_of.contains_key(&j)
                }
            })
    }

    /// The ancestors of `i`, nearest first, each once: a loop of parents ends the walk where
    /// it would repeat a ticket (or come back to `i`).
    fn ancestors(&self, i: usize, out: &mut Vec<usize>) {
        out.clear();
        let mut seen: Option<HashSet<usize>> = None;
        let mut cur = i;
        while let Some(p) = self.parent[cur] {
            let repeat = match &mut seen {
                Some(set) => !set.insert(p),
                None => {
                    let r = p == i || out.contains(&p);
                    // Long chains (only in odd trees) switch to a set to stay linear.
                    if !r && out.len() >= 32 {
                        let mut set: HashSet<usize> = out.iter().copied().collect();
                        set.insert(i);
                        set.insert(p);
                        seen = Some(set);
                    }
                    r
                }
            };
            if repeat {
                break;
            }
            out.push(p);
            cur = p;
        }
    }

    /// Length of the longest chain of work waiting on ticket `i`: tickets that depend on it
    /// or on one of its ancestors (finishing `i` is needed to finish the ancestor), then
    /// whatever waits on those, transitively. 0 when nothing waits.
    pub fn waiting_depths(&self) -> Vec<usize> {
        let n = self.tickets.len();
        let mut memo: Vec<Option<usize>> = vec![None; n];
        let mut on_stack = vec![false; n];
        let mut scratch = Scratch::default();
        for i in 0..n {
            self.depth(i, &mut memo, &mut on_stack, &mut scratch);
        }
        memo.into_iter().map(|m| m.unwrap_or(0)).collect()
    }

    /// Append the tickets waiting on `i` (its dependents, then each ancestor's) to `out`.
    fn push_waiters(&self, i: usize, out: &mut Vec<usize>, ancestors: &mut Vec<usize>) {
        out.extend_from_slice(self.dependents.of(i));
        self.ancestors(i, ancestors);
        for &p in ancestors.iter() {
            out.extend_from_slice(self.dependents.of(p));
        }
    }

    fn depth(
        &self,
        root: usize,
        memo: &mut [Option<usize>],
        on_stack: &mut [bool],
        scratch: &mut Scratch,
    ) -> usize {
        if let Some(d) = memo[root] {
            return d;
        }
        // Iterative post-order DFS; edges into the current stack (cycles) count as 0. Each
        // frame's waiters are the tail of `arena` from its start (popped from the end).
        let Scratch {
            arena,
            ancestors,
            stack,
        } = scratch;
        arena.clear();
        stack.clear();
        self.push_waiters(root, arena, ancestors);
        stack.push((root, 0, 0));
        on_stack[root] = true;
        while let Some(&(node, start, best)) = stack.last() {
            if arena.len() > start {
                let Some(w) = arena.pop() else { break };
                if let Some(d) = memo[w] {
                    if let Some(top) = stack.last_mut() {
                        top.2 = best.max(d + 1);
                    }
                } else if !on_stack[w] {
                    on_stack[w] = true;
                    let s = arena.len();
                    self.push_waiters(w, arena, ancestors);
                    stack.push((w, s, 0));
                }
            } else {
                memo[node] = Some(best);
                on_stack[node] = false;
                stack.pop();
                if let Some(top) = stack.last_mut() {
                    top.2 = top.2.max(best + 1);
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

/// The "waits on" graph behind cycle detection. Two nodes per ticket: `finish(i)` (the
/// ticket and everything under it complete) and `start(i)` (the ticket may begin). Edges:
/// finish(i) -> start(i); finish(p) -> finish(c) for each child c; start(i) -> finish(d) for
/// each dependency d; start(i) -> start(parent). A cycle means some ticket waits on itself.
struct WaitGraph {
    /// Forward adjacency in compressed form: targets of node n are `adj[off[n]..off[n+1]]`.
    off: Vec<usize>,
    adj: Vec<usize>,
}

impl WaitGraph {
    fn finish(i: usize) -> usize {
        2 * i
    }
    fn start(i: usize) -> usize {
        2 * i + 1
    }
    fn ticket(node: usize) -> usize {
        node / 2
    }

    fn new(g: &Graph<'_>) -> WaitGraph {
        let n = g.tickets.len();
        let mut off = Vec::with_capacity(2 * n + 1);
        let mut adj = Vec::new();
        off.push(0);
        for i in 0..n {
            // finish(i)
            adj.push(Self::start(i));
            adj.extend(g.children.of(i).iter().map(|&c| Self::finish(c)));
            off.push(adj.len());
            // start(i)
            adj.extend(g.deps_of(i).map(Self::finish));
            if let Some(p) = g.parent[i] {
                if p != i {
                    adj.push(Self::start(p));
                }
            }
            off.push(adj.len());
        }
        WaitGraph { off, adj }
    }

    fn len(&self) -> usize {
        self.off.len() - 1
    }

    fn next(&self, node: usize) -> &[usize] {
        &self.adj[self.off[node]..self.off[node + 1]]
    }

    /// Strongly connected components (Kosaraju, iterative): a component number per node.
    fn components(&self) -> Vec<usize> {
        let n = self.len();
        // 0: not seen yet, 1: on the walk's stack, 2: done.
        let mut state = vec![0u8; n];
        let mut order = Vec::with_capacity(n);
        let mut stack: Vec<(usize, usize)> = Vec::new();
        // An edge back to a node on the stack: the graph has a cycle.
        let mut cyclic = false;
        for root in 0..n {
            if state[root] != 0 {
                continue;
            }
            state[root] = 1;
            stack.clear();
            stack.push((root, 0usize));
            while let Some((node, k)) = stack.last_mut() {
                let node = *node;
                if let Some(&w) = self.next(node).get(*k) {
                    *k += 1;
                    match state[w] {
                        0 => {
                            state[w] = 1;
                            stack.push((w, 0));
                        }
                        1 => cyclic = true,
                        _ => {}
                    }
                } else {
                    state[node] = 2;
                    order.push(node);
                    stack.pop();
                }
            }
        }
        // Without a cycle every node is a component of its own (the common case: the
        // second pass over the reversed graph is not needed).
        if !cyclic {
            return (0..n).collect();
        }
        let mut pairs = Vec::with_capacity(self.adj.len());
        for u in 0..n {
            for &w in self.next(u) {
                pairs.push((w, u));
            }
        }
        let rev = Adjacency::new(n, &pairs);
        let mut comp = vec![usize::MAX; n];
        let mut c = 0;
        let mut stack: Vec<usize> = Vec::new();
        for &root in order.iter().rev() {
            if comp[root] != usize::MAX {
                continue;
            }
            comp[root] = c;
            stack.clear();
            stack.push(root);
            while let Some(x) = stack.pop() {
                for &w in rev.of(x) {
                    if comp[w] == usize::MAX {
                        comp[w] = c;
                        stack.push(w);
                    }
                }
            }
            c += 1;
        }
        comp
    }

    /// Shortest path from `from` to `to` (excluding `from`, including `to`).
    fn path(&self, from: usize, to: usize) -> Option<Vec<usize>> {
        let mut prev: HashMap<usize, usize> = HashMap::new();
        let mut queue = std::collections::VecDeque::from([from]);
        while let Some(x) = queue.pop_front() {
            for &w in self.next(x) {
                if w == from || prev.contains_key(&w) {
                    continue;
                }
                prev.insert(w, x);
                if w == to {
                    let mut chain = vec![w];
                    let mut cur = x;
                    while cur != from {
                        chain.push(cur);
                        cur = prev[&cur];
                    }
                    chain.reverse();
                    return Some(chain);
                }
                queue.push_back(w);
            }
        }
        None
    }

    /// The shortest cycle from `node` back to itself inside its component.
    fn shortest_cycle(&self, node: usize, comp: &[usize]) -> Option<Vec<usize>> {
        let mut prev: HashMap<usize, usize> = HashMap::new();
        let mut queue = std::collections::VecDeque::from([node]);
        while let Some(x) = queue.pop_front() {
            for &w in self.next(x) {
                if comp[w] != comp[node] {
                    continue;
                }
                if w == node {
                    let mut chain = vec![node];
                    let mut cur = x;
                    while cur != node {
                        chain.push(cur);
                        cur = prev[&cur];
                    }
                    chain.push(node);
                    chain.reverse();
                    return Some(chain);
                }
                if let std::collections::hash_map::Entry::Vacant(e) = prev.entry(w) {
                    e.insert(x);
                    queue.push_back(w);
                }
            }
        }
        None
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
    fn waiting_on_your_own_container_or_child_is_a_cycle() {
        let ts = vec![
            t("P-a", Kind::PhaseSpec, Status::Open, None, &[]),
            t("J-a", Kind::Job, Status::Open, Some("P-a"), &[]),
            t("T-a", Kind::Task, Status::Open, Some("J-a"), &["J-a"]),
        ];
        let g = Graph::new(&ts);
        assert_eq!(
            g.cycles(),
            vec![vec!["T-a".to_string(), "J-a".into(), "T-a".into()]]
        );
        assert!(g
            .blockers(2)
            .iter()
            .any(|b| matches!(b, Blocker::Cycle { .. })));
        // A phase that would wait on its own job, and crossed phases.
        assert!(g.cycle_if_added("P-a", "J-a").is_some());
        let ts2 = vec![
            t("P-a", Kind::PhaseSpec, Status::Open, None, &[]),
            t("J-a", Kind::Job, Status::Open, Some("P-a"), &[]),
            t("P-b", Kind::PhaseSpec, Status::Open, None, &["J-a"]),
            t("J-b", Kind::Job, Status::Open, Some("P-b"), &[]),
        ];
        let g2 = Graph::new(&ts2);
        assert!(g2.cycles().is_empty());
        assert_eq!(
            g2.cycle_if_added("P-a", "J-b"),
            Some(vec![
                "P-a".into(),
                "J-b".into(),
                "P-b".into(),
                "J-a".into(),
                "P-a".into()
            ])
        );
        // The cycle named goes through the new dependency even when the path back starts
        // inside it (a task depending on its own job: the job waits on the task).
        assert_eq!(
            g.cycle_if_added("J-a", "P-a"),
            Some(vec!["J-a".into(), "P-a".into(), "J-a".into()])
        );
        assert_eq!(
            g2.cycle_if_added("J-a", "P-a"),
            Some(vec!["J-a".into(), "P-a".into(), "J-a".into()])
        );
        // J-a waiting on P-b, which waits on J-a, is a cycle; J-b waiting on J-a is not.
        assert!(g2.cycle_if_added("J-a", "P-b").is_some());
        assert!(g2.cycle_if_added("J-b", "J-a").is_none());
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
