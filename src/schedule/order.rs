//! Plan order: the one order `wt list`, `wt tree` and `wt plan export` show tickets in.
//!
//! Depth first: a ticket, then everything under it, before its next sibling. At the top,
//! phase-specs come first, then jobs without a phase-spec, then tasks without a job. Siblings
//! follow [`Ticket::sibling_key`]: their `order` (the position `wt plan import`, `wt import`
//! and `wt new` give each new ticket after the siblings it already has), then the time they
//! were created, then the ID. A ticket whose parent does not exist counts as a top-level one.

use rustc_hash::FxHashMap;

use crate::model::ticket::{Kind, Ticket};

fn kind_rank(k: Kind) -> u8 {
    match k {
        Kind::PhaseSpec => 0,
        Kind::Job => 1,
        Kind::Task => 2,
    }
}

/// The indices of `tickets` in plan order (a permutation of `0..tickets.len()`).
pub fn plan_order(tickets: &[Ticket]) -> Vec<usize> {
    // Each ID's ticket (the last one, when IDs repeat).
    let mut index: FxHashMap<&str, usize> =
        FxHashMap::with_capacity_and_hasher(tickets.len(), Default::default());
    for (i, t) in tickets.iter().enumerate() {
        index.insert(t.id.as_str(), i);
    }
    plan_order_in(tickets, &index)
}

/// [`plan_order`] with `index`, each ID's ticket (the last one, when IDs repeat).
fn plan_order_in(tickets: &[Ticket], index: &FxHashMap<&str, usize>) -> Vec<usize> {
    let n = tickets.len();
    // Each ticket's parent when it exists (and is not the ticket itself).
    let parent: Vec<Option<usize>> = tickets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            t.parent
                .as_deref()
                .and_then(|p| index.get(p).copied())
                .filter(|&p| p != i)
        })
        .collect();
    // Children in two flat vectors: `kids[start[p]..start[p + 1]]` are p's, in ticket order.
    let mut start = vec![0usize; n + 1];
    for &p in parent.iter().flatten() {
        start[p + 1] += 1;
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut kids = vec![0usize; start[n]];
    let mut roots = Vec::new();
    for (i, p) in parent.iter().enumerate() {
        match *p {
            Some(p) => {
                kids[fill[p]] = i;
                fill[p] += 1;
            }
            None => roots.push(i),
        }
    }
    let key = |&i: &usize| tickets[i].sibling_key();
    roots.sort_by(|a, b| {
        kind_rank(tickets[*a].kind)
            .cmp(&kind_rank(tickets[*b].kind))
            .then_with(|| key(a).cmp(&key(b)))
    });
    for p in 0..n {
        let c = &mut kids[start[p]..start[p + 1]];
        if c.len() > 1 {
            c.sort_by_key(key);
        }
    }
    let children = |i: usize| &kids[start[i]..start[i + 1]];
    let mut out = Vec::with_capacity(n);
    let mut seen = vec![false; n];
    let mut stack: Vec<usize> = roots.into_iter().rev().collect();
    let mut walk = |stack: &mut Vec<usize>, out: &mut Vec<usize>| {
        while let Some(i) = stack.pop() {
            if std::mem::replace(&mut seen[i], true) {
                continue;
            }
            out.push(i);
            stack.extend(children(i).iter().rev());
        }
    };
    walk(&mut stack, &mut out);
    // Parent links that form a loop have no root: add them, each loop from its first ticket.
    if out.len() < n {
        let mut rest: Vec<usize> = (0..n).collect();
        rest.sort_by_key(key);
        for i in rest {
            stack.push(i);
            walk(&mut stack, &mut out);
        }
    }
    out
}

/// For each ticket, its position in plan order.
pub fn plan_rank(tickets: &[Ticket]) -> Vec<usize> {
    rank_of(plan_order(tickets))
}

/// [`plan_rank`] with `first`, each ID's first ticket, at hand (one index less to build when
/// no two tickets share an ID).
pub fn plan_rank_with(tickets: &[Ticket], first: &FxHashMap<&str, usize>) -> Vec<usize> {
    if first.len() == tickets.len() {
        // Every ID names one ticket: its first ticket is its last.
        rank_of(plan_order_in(tickets, first))
    } else {
        plan_rank(tickets)
    }
}

fn rank_of(order: Vec<usize>) -> Vec<usize> {
    let mut rank = vec![0; order.len()];
    for (pos, i) in order.into_iter().enumerate() {
        rank[i] = pos;
    }
    rank
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(id: &str, kind: Kind, parent: Option<&str>, order: Option<u32>, created: &str) -> Ticket {
        Ticket {
            id: id.into(),
            kind,
            parent: parent.map(Into::into),
            order,
            created: Some(created.into()),
            ..Default::default()
        }
    }

    #[test]
    fn depth_first_phases_first_siblings_by_order_then_creation_then_id() {
        let ts = vec![
            t("J-orphan", Kind::Job, None, Some(0), "2026-01-01T00:00:00Z"),
            t(
                "P-b",
                Kind::PhaseSpec,
                None,
                Some(1),
                "2026-01-01T00:00:00Z",
            ),
            t("J-b1", Kind::Job, Some("P-b"), None, "2026-01-01T00:00:02Z"),
            t("J-b0", Kind::Job, Some("P-b"), None, "2026-01-01T00:00:01Z"),
            t(
                "P-a",
                Kind::PhaseSpec,
                None,
                Some(0),
                "2026-01-02T00:00:00Z",
            ),
            t(
                "T-x",
                Kind::Task,
                Some("J-b0"),
                Some(0),
                "2026-01-01T00:00:00Z",
            ),
            t(
                "J-a",
                Kind::Job,
                Some("P-a"),
                Some(0),
                "2026-01-01T00:00:00Z",
            ),
            t(
                "T-lost",
                Kind::Task,
                Some("J-gone"),
                None,
                "2026-01-01T00:00:00Z",
            ),
        ];
        let ids: Vec<&str> = plan_order(&ts).iter().map(|&i| ts[i].id.as_str()).collect();
        assert_eq!(
            ids,
            ["P-a", "J-a", "P-b", "J-b0", "T-x", "J-b1", "J-orphan", "T-lost"]
        );
    }

    #[test]
    fn parent_loops_are_listed_too() {
        let ts = vec![
            t("J-a", Kind::Job, Some("J-b"), None, "x"),
            t("J-b", Kind::Job, Some("J-a"), None, "x"),
            t("J-c", Kind::Job, Some("J-c"), None, "x"),
        ];
        let mut o = plan_order(&ts);
        o.sort();
        assert_eq!(o, [0, 1, 2]);
    }

    #[test]
    fn the_rank_from_a_first_ticket_index_is_the_plan_rank_also_when_ids_repeat() {
        fn first(ts: &[Ticket]) -> FxHashMap<&str, usize> {
            let mut m = FxHashMap::default();
            for (i, t) in ts.iter().enumerate() {
                m.entry(t.id.as_str()).or_insert(i);
            }
            m
        }
        let mut ts = vec![
            t("P-a", Kind::PhaseSpec, None, Some(1), "x"),
            t("J-a", Kind::Job, Some("P-b"), Some(0), "x"),
            t("P-b", Kind::PhaseSpec, None, Some(0), "x"),
            t("J-b", Kind::Job, Some("P-a"), Some(1), "x"),
            t("J-c", Kind::Job, Some("P-a"), Some(0), "x"),
        ];
        assert_eq!(plan_rank_with(&ts, &first(&ts)), plan_rank(&ts));
        // Two tickets named P-a: plan order takes the last one as J-b's and J-c's parent.
        ts.push(t("P-a", Kind::PhaseSpec, None, Some(2), "x"));
        let want = plan_rank(&ts);
        assert_eq!(plan_rank_with(&ts, &first(&ts)), want);
        assert!(want[3] > want[5] && want[4] > want[5], "{want:?}");
    }
}
