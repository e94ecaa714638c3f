//! The reads of the ticket tree that change nothing: `wt list`, `wt show`, `wt tree` and
//! `wt blocked`. One family: each is a few lines over one snapshot and shares its ticket
//! view and its notes about unreadable files. (`wt ready` has its own module: it is kept in
//! the cache and has its review and parallel modes.)

use serde::Serialize;

use super::report::{Reported, SchemaVersion, TicketView};
use crate::error::Result;
use crate::model::clock;
use crate::model::ticket::{Kind, Status, Ticket};
use crate::schedule::graph::{Blocker, Graph};
use crate::workspace::{finished_with, Workspace};

/// Which tickets `wt list` lists; every filter given must hold.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub status: Option<Status>,
    pub kind: Option<Kind>,
    /// Only direct children of this ticket (an ID or unique prefix).
    pub parent: Option<String>,
    pub claimed_by: Option<String>,
}

/// `wt list`: the tickets that pass the filters, in plan order.
#[derive(Debug, Clone, Serialize)]
pub struct ListReport {
    pub schema_version: SchemaVersion,
    pub tickets: Vec<TicketView>,
}

/// The tickets at the state branch's tip that pass `filter`, in plan order
/// ([`crate::schedule::order`]).
pub fn list(ws: &Workspace, filter: &ListFilter) -> Result<Reported<ListReport>> {
    let mut snap = ws.snapshot()?;
    // Tickets that share an ID are listed, and named on stderr: wt refuses them until fixed.
    let index = crate::schedule::graph::id_index(&snap.tickets);
    let duplicates: Vec<String> = crate::schedule::graph::duplicate_groups_in(&snap.tickets, &index)
        .iter()
        .map(|g| {
            let names: Vec<String> = g
                .iter()
                .map(|&i| format!("{} in {}", snap.tickets[i].id, snap.tickets[i].path))
                .collect();
            format!(
                "{} tickets share one id (or differ only in case): {}; wt refuses them until all but one get a new id",
                g.len(),
                names.join(", ")
            )
        })
        .collect();
    let parent = match &filter.parent {
        Some(p) => Some(snap.resolve(p)?.id.clone()),
        None => None,
    };
    let wanted = |t: &Ticket| {
        filter.status.is_none_or(|s| t.status == s)
            && filter.kind.is_none_or(|k| t.kind == k)
            && (parent.is_none() || t.parent == parent)
            && (filter.claimed_by.is_none() || t.claimed_by == filter.claimed_by)
    };
    // 10,000 tickets: no ticket is copied field by field and no second list is allocated.
    // The listed ones are swapped to the front of the snapshot's list and put in path order
    // by a permutation (a ticket is large to move around), then turn into views in place.
    let rank = crate::schedule::order::plan_rank_with(&snap.tickets, &index);
    drop(index);
    let mut tickets = std::mem::take(&mut snap.tickets);
    let mut ranks = Vec::new();
    let mut n = 0;
    for i in 0..tickets.len() {
        if wanted(&tickets[i]) {
            tickets.swap(n, i);
            ranks.push(rank[i]);
            n += 1;
        }
    }
    snap.tickets = tickets.split_off(n);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&a| ranks[a]);
    permute(&mut tickets, order);
    let now = clock::now();
    let report = ListReport {
        schema_version: SchemaVersion,
        tickets: tickets
            .into_iter()
            .map(|t| TicketView::owned(t, now))
            .collect(),
    };
    let out = Reported::new(report)
        .skipping(&snap.problems)
        .warning(duplicates);
    finished_with(snap);
    Ok(out)
}

/// Reorder `v` so that `v[k]` becomes the old `v[order[k]]` (`order` is a permutation of
/// `0..v.len()`), by swaps along the permutation's cycles.
fn permute<T>(v: &mut [T], mut order: Vec<usize>) {
    for start in 0..v.len() {
        let mut k = start;
        // Follow the cycle through `start`, marking each place done with its own index.
        while order[k] != start {
            let next = order[k];
            v.swap(k, next);
            order[k] = k;
            k = next;
        }
        order[k] = k;
    }
}

/// `wt show`: one ticket, its body, and whether it is ready.
#[derive(Debug, Clone, Serialize)]
pub struct ShowReport {
    pub schema_version: SchemaVersion,
    #[serde(flatten)]
    pub ticket: TicketView,
    /// The markdown after the frontmatter.
    pub body: String,
    /// Nothing keeps it from being started now (see `wt ready`).
    pub ready: bool,
    /// Why it is not ready, one sentence per blocker; empty when nothing blocks it.
    pub blocked_by: Vec<String>,
    /// Its acceptance criteria, numbered as `wt tick` takes them.
    pub criteria: Vec<crate::model::criteria::Criterion>,
    /// The whole file as stored on the state branch (text output only).
    #[serde(skip)]
    pub text: String,
}

/// Ticket `query` (an ID or unique prefix) as stored at the state branch's tip.
pub fn show(ws: &Workspace, query: &str) -> Result<Reported<ShowReport>> {
    let snap = ws.snapshot()?;
    let t = snap.resolve(query)?;
    let text = ws.read_text(&snap, &t.path)?;
    let g = snap.graph()?;
    let i = g.index_of(&t.id);
    let blocked_by: Vec<String> = i
        .map(|i| g.blockers(i))
        .unwrap_or_default()
        .iter()
        .map(|b| b.to_string())
        .collect();
    let ready = i.is_some_and(|i| g.is_ready(i));
    let body = crate::model::frontmatter::split(&text)
        .map(|s| s.body.to_string())
        .unwrap_or_default();
    Ok(Reported::new(ShowReport {
        schema_version: SchemaVersion,
        ticket: TicketView::of(t),
        body,
        ready,
        blocked_by,
        criteria: crate::model::criteria::criteria(&text),
        text,
    }))
}

/// `wt tree`: the plan as a tree of tickets.
#[derive(Debug, Clone, Serialize)]
pub struct TreeReport {
    pub schema_version: SchemaVersion,
    /// The tickets at the top (with no parent, or a parent that does not exist), or the
    /// ticket asked for; each with its children.
    pub roots: Vec<TreeNode>,
}

/// A ticket in `wt tree`, and the tickets under it.
#[derive(Debug, Clone, Serialize)]
pub struct TreeNode {
    #[serde(flatten)]
    pub ticket: TicketView,
    /// Its children in plan order.
    pub children: Vec<TreeNode>,
    /// It could be started now (text output only).
    #[serde(skip)]
    pub ready: bool,
}

fn tree_node(
    g: &Graph<'_>,
    i: usize,
    rank: &[usize],
    ready: &[bool],
    now: chrono::DateTime<chrono::Utc>,
) -> TreeNode {
    let mut kids: Vec<usize> = g.children(i).to_vec();
    kids.sort_by_key(|&k| rank[k]);
    TreeNode {
        ticket: TicketView::at(&g.tickets[i], now),
        children: kids
            .into_iter()
            .map(|c| tree_node(g, c, rank, ready, now))
            .collect(),
        ready: ready[i],
    }
}

/// The whole plan as a tree, or the part under ticket `root`.
pub fn tree(ws: &Workspace, root: Option<&str>) -> Result<Reported<TreeReport>> {
    let snap = ws.snapshot()?;
    let g = snap.graph()?;
    let ready: Vec<bool> = (0..g.tickets.len()).map(|i| g.is_ready(i)).collect();
    // Plan order (crate::schedule::order).
    let rank = crate::schedule::order::plan_rank(g.tickets);
    let roots: Vec<usize> = match root {
        Some(q) => {
            let t = snap.resolve(q)?;
            g.index_of(&t.id).into_iter().collect()
        }
        None => {
            let mut r: Vec<usize> = (0..g.tickets.len())
                .filter(|&i| {
                    g.tickets[i]
                        .parent
                        .as_deref()
                        .is_none_or(|p| g.index_of(p).is_none())
                })
                .collect();
            r.sort_by_key(|&k| rank[k]);
            r
        }
    };
    let now = clock::now();
    let report = TreeReport {
        schema_version: SchemaVersion,
        roots: roots
            .into_iter()
            .map(|i| tree_node(&g, i, &rank, &ready, now))
            .collect(),
    };
    Ok(Reported::new(report).skipping(&snap.problems))
}

/// `wt blocked`: open tickets that are not ready, then tickets whose claim went stale.
#[derive(Debug, Clone, Serialize)]
pub struct BlockedReport {
    pub schema_version: SchemaVersion,
    pub tickets: Vec<BlockedTicket>,
}

/// A ticket in `wt blocked` and what holds it up.
#[derive(Debug, Clone, Serialize)]
pub struct BlockedTicket {
    #[serde(flatten)]
    pub ticket: TicketView,
    /// What holds it up, as data.
    pub blocked_by: Vec<Hold>,
    /// The same in words, one sentence each.
    pub reasons: Vec<String>,
}

/// One thing that holds a ticket up.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Hold {
    /// A blocker in the dependency graph (`reason`: `dependency`, `unknown_dependency`,
    /// `ancestor`, `unknown_parent`, `cycle`, `claimed`, `awaiting_approval`,
    /// `duplicate_id`, `invalid_parent`, `invalid`).
    Graph(Blocker),
    /// The ticket's claim is stale (`reason`: `stale_claim`).
    Stale(StaleClaim),
}

/// A claim whose lease expired: the work stalls until the holder renews it or someone
/// takes it over.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "reason", rename = "stale_claim")]
pub struct StaleClaim {
    /// The holder.
    pub by: Option<String>,
    /// When the lease ran out.
    pub expired: Option<String>,
}

/// Open tickets of `kind` (None: all kinds) that are not ready, and why; then claimed
/// tickets of that kind whose lease has expired.
pub fn blocked(ws: &Workspace, kind: Option<Kind>) -> Result<Reported<BlockedReport>> {
    let snap = ws.snapshot()?;
    let g = snap.graph()?;
    let now = clock::now();
    let mut tickets = Vec::new();
    let mut idx: Vec<usize> = (0..g.tickets.len())
        .filter(|&i| g.tickets[i].status == Status::Open)
        .filter(|&i| kind.is_none_or(|k| g.tickets[i].kind == k))
        .collect();
    let rank = crate::schedule::order::plan_rank(g.tickets);
    idx.sort_by_key(|&i| rank[i]);
    for i in idx {
        let bs = g.blockers(i);
        if bs.is_empty() {
            continue;
        }
        tickets.push(BlockedTicket {
            ticket: TicketView::at(&g.tickets[i], now),
            reasons: bs.iter().map(|b| b.to_string()).collect(),
            blocked_by: bs.into_iter().map(Hold::Graph).collect(),
        });
    }
    let mut stale: Vec<&Ticket> = g
        .tickets
        .iter()
        .filter(|t| t.is_stale(now))
        .filter(|t| kind.is_none_or(|k| t.kind == k))
        .collect();
    stale.sort_by(|a, b| a.path.cmp(&b.path));
    for t in stale {
        let why = format!(
            "claim by {} is stale: lease expired at {} (take over: wt claim {} --steal-stale)",
            t.claimed_by.as_deref().unwrap_or("?"),
            t.claim_expires.as_deref().unwrap_or("?"),
            t.id
        );
        tickets.push(BlockedTicket {
            ticket: TicketView::at(t, now),
            blocked_by: vec![Hold::Stale(StaleClaim {
                by: t.claimed_by.clone(),
                expired: t.claim_expires.clone(),
            })],
            reasons: vec![why],
        });
    }
    let report = BlockedReport {
        schema_version: SchemaVersion,
        tickets,
    };
    Ok(Reported::new(report).skipping(&snap.problems))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permute_puts_each_element_where_the_order_says() {
        let orders: [&[usize]; 5] = [&[], &[0], &[2, 0, 1], &[3, 2, 1, 0], &[4, 0, 3, 1, 2, 5]];
        for order in orders {
            let old: Vec<String> = (0..order.len()).map(|i| format!("t{i}")).collect();
            let mut v = old.clone();
            permute(&mut v, order.to_vec());
            let want: Vec<String> = order.iter().map(|&i| old[i].clone()).collect();
            assert_eq!(v, want, "{order:?}");
        }
    }

    #[test]
    fn a_ticket_view_fits_where_its_ticket_was() {
        // `list` turns its tickets into views in place (no second allocation).
        assert!(std::mem::size_of::<TicketView>() <= std::mem::size_of::<Ticket>());
        assert_eq!(
            std::mem::align_of::<TicketView>(),
            std::mem::align_of::<Ticket>()
        );
    }
}
