//! Property tests over random plans: `ready` never lists a ticket with an open dependency,
//! an incomplete container dependency, a blocked ancestor or a cycle, and cycles are always
//! found. Checked against an independent model (`fixtures::expected_ready`), on the library
//! (`wt::graph::Graph`) for many plans and through the real binary (`wt import`) for a few.

use std::collections::BTreeSet;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::Config;

use wt::graph::Graph;
use wt::ticket::{Kind, Status, Ticket};

use crate::common::*;
use crate::fixtures::*;

const STATUSES: [&str; 9] = [
    "open",
    "open",
    "open",
    "done",
    "done",
    "done",
    "in_progress",
    "review",
    "escalated",
];

/// Raw random choices for one item.
type RawItem = (u8, u16, Vec<u16>, usize, u8, bool, u8);

fn raw_item() -> impl Strategy<Value = RawItem> {
    (
        0..4u8,
        any::<u16>(),
        vec(any::<u16>(), 0..4),
        0..STATUSES.len(),
        0..5u8,
        any::<bool>(),
        0..12u8,
    )
}

/// Turn random choices into a plan: a forest of phase-specs, jobs and tasks (parents come
/// earlier), dependencies on earlier items, then `extra` edges (any direction, so they can
/// close cycles). `odd` allows claims on open tickets and dangling dependencies.
fn build(raw: Vec<RawItem>, extra: Vec<(usize, usize)>, odd: bool) -> Vec<PlanItem> {
    let mut items: Vec<PlanItem> = Vec::with_capacity(raw.len());
    for (i, (k, pick, deps, st, prio, claim, dang)) in raw.into_iter().enumerate() {
        let kind = match k {
            0 => "phase-spec",
            1 | 2 => "job",
            _ => "task",
        };
        let parent_kind = match kind {
            "job" => Some("phase-spec"),
            "task" => Some("job"),
            _ => None,
        };
        let candidates: Vec<usize> = parent_kind
            .map(|pk| (0..i).filter(|&j| items[j].kind == pk).collect())
            .unwrap_or_default();
        let parent = if candidates.is_empty() || pick % 4 == 0 {
            None
        } else {
            Some(candidates[pick as usize % candidates.len()])
        };
        let mut ds: Vec<usize> = Vec::new();
        if i > 0 {
            for d in deps {
                let d = d as usize % i;
                if !ds.contains(&d) {
                    ds.push(d);
                }
            }
        }
        let status = STATUSES[st];
        let claimed = match status {
            "in_progress" => true,
            "open" => odd && claim && dang % 3 == 0,
            _ => false,
        };
        items.push(PlanItem {
            key: format!("k{i}"),
            kind,
            status,
            priority: prio,
            parent,
            deps: ds,
            claimed,
            dangling: odd && dang == 0,
        });
    }
    for (a, b) in extra {
        let n = items.len();
        let (a, b) = (a % n, b % n);
        if !items[a].deps.contains(&b) {
            items[a].deps.push(b);
        }
    }
    items
}

fn plan(max: usize, max_extra: usize, odd: bool) -> impl Strategy<Value = Vec<PlanItem>> {
    (1..=max)
        .prop_flat_map(move |n| (vec(raw_item(), n), vec((0..n, 0..n), 0..=max_extra)))
        .prop_map(move |(raw, extra)| build(raw, extra, odd))
}

fn id_of(items: &[PlanItem], i: usize) -> String {
    let prefix = match items[i].kind {
        "phase-spec" => "P",
        "job" => "J",
        _ => "T",
    };
    format!("{prefix}-{i:08}")
}

fn tickets(items: &[PlanItem]) -> Vec<Ticket> {
    items
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let mut depends_on: Vec<String> = it.deps.iter().map(|&d| id_of(items, d)).collect();
            if it.dangling {
                depends_on.push("J-nowhere0".into());
            }
            Ticket {
                id: id_of(items, i),
                kind: it.kind.parse().expect("kind"),
                title: it.key.clone(),
                status: it.status.parse().expect("status"),
                priority: it.priority,
                parent: it.parent.map(|p| id_of(items, p)),
                depends_on,
                claimed_by: it.claimed.then(|| "agent".to_string()),
                created: Some(format!("2026-01-{:02}T00:00:00Z", 1 + i % 28)),
                path: format!(".work/{}.md", id_of(items, i)),
                ..Default::default()
            }
        })
        .collect()
}

/// Check every property of `Graph::ready` against the model; Err names the first failure.
fn check_library(items: &[PlanItem]) -> Result<(), TestCaseError> {
    let ts = tickets(items);
    let g = Graph::new(&ts);
    let complete = complete_set(items);
    let cyc = on_cycle(items);
    let ready = g.ready(None);
    let got: BTreeSet<usize> = ready.iter().copied().collect();
    for &i in &ready {
        let t = &ts[i];
        prop_assert_eq!(t.status, Status::Open, "{} is not open", t.id);
        prop_assert!(t.claimed_by.is_none(), "{} is claimed", t.id);
        prop_assert!(!cyc[i], "{} is on a dependency cycle", t.id);
        let mut cur = Some(i);
        while let Some(c) = cur {
            for &d in &items[c].deps {
                prop_assert!(
                    complete[d],
                    "ready {} has {} {} waiting on incomplete {} (status {})",
                    t.id,
                    if c == i { "itself" } else { "ancestor" },
                    ts[c].id,
                    ts[d].id,
                    ts[d].status
                );
            }
            prop_assert!(!items[c].dangling, "{}: dangling dependency", ts[c].id);
            prop_assert!(!cyc[c], "{}: ancestor {} on a cycle", t.id, ts[c].id);
            cur = items[c].parent;
        }
    }
    prop_assert_eq!(
        &got,
        &expected_ready(items),
        "ready set differs from the model"
    );
    for k in Kind::ALL {
        let want: BTreeSet<usize> = got.iter().copied().filter(|&i| ts[i].kind == k).collect();
        let by_kind: BTreeSet<usize> = g.ready(Some(k)).into_iter().collect();
        prop_assert_eq!(by_kind, want, "ready({}) is not ready(any) of that kind", k);
    }
    // Order: priority, then the waiting chain (when it is well defined), age, ID.
    for w in ready.windows(2) {
        prop_assert!(ts[w[0]].priority <= ts[w[1]].priority, "priority order");
    }
    if let Some(depth) = waiting_depths(items) {
        let mut want = ready.clone();
        want.sort_by(|&a, &b| {
            ts[a]
                .priority
                .cmp(&ts[b].priority)
                .then(depth[b].cmp(&depth[a]))
                .then(ts[a].created.cmp(&ts[b].created))
                .then(ts[a].id.cmp(&ts[b].id))
        });
        prop_assert_eq!(&ready, &want, "schedule order");
    }
    // Cycles: found exactly when there is one, and each one reported is real.
    let cycles = g.cycles();
    prop_assert_eq!(
        cycles.is_empty(),
        !cyc.iter().any(|&c| c),
        "cycles() = {:?}",
        cycles
    );
    for c in &cycles {
        prop_assert!(c.len() >= 2 && c.first() == c.last(), "not closed: {:?}", c);
        for pair in c.windows(2) {
            let from = g.index_of(&pair[0]).expect("known");
            prop_assert!(
                ts[from].depends_on.contains(&pair[1]),
                "{} does not depend on {} in {:?}",
                pair[0],
                pair[1],
                c
            );
        }
    }
    // Adding an edge closes a cycle exactly when the target already reaches the source.
    if items.len() >= 2 {
        let (a, b) = (items.len() - 1, 0);
        let closes = a == b || dep_reaches(items, b, a);
        let got = g.cycle_if_added(&ts[a].id, &ts[b].id);
        prop_assert_eq!(got.is_some(), closes, "cycle_if_added = {:?}", got);
    }
    Ok(())
}

proptest! {
    #![proptest_config(Config { cases: 2000, failure_persistence: None, ..Config::default() })]

    /// Acyclic plans with well-formed data.
    #[test]
    fn ready_matches_the_model_on_random_dags(items in plan(40, 0, false)) {
        check_library(&items)?;
    }

    /// Plans with odd data: extra edges that may close cycles, dangling dependencies, claims
    /// on open tickets.
    #[test]
    fn ready_never_lists_blocked_work_and_cycles_are_found_on_random_graphs(
        items in plan(16, 8, true)
    ) {
        check_library(&items)?;
    }
}

/// Regression (found by the property above): blocking by cycle used only the cycles one
/// depth-first search reports, which miss a ticket that enters a strongly connected part
/// through an already finished node. Here `D` depends on `B` (done), `B` on `C` (done), `C`
/// on `A`, and `A` on `D`: `D` is on a cycle but was listed as ready.
#[test]
fn regression_ticket_on_a_cycle_missed_by_the_dfs_was_ready() {
    let mk = |id: &str, status: Status, deps: &[&str]| Ticket {
        id: id.into(),
        kind: Kind::Job,
        title: id.into(),
        status,
        priority: 2,
        depends_on: deps.iter().map(|s| s.to_string()).collect(),
        path: format!(".work/{id}.md"),
        ..Default::default()
    };
    let ts = vec![
        mk("J-a", Status::Open, &["J-b", "J-d"]),
        mk("J-b", Status::Done, &["J-c"]),
        mk("J-c", Status::Done, &["J-a"]),
        mk("J-d", Status::Open, &["J-b"]),
    ];
    let g = Graph::new(&ts);
    assert!(g.ready(None).is_empty(), "ready: {:?}", g.ready(None));
    let i = g.index_of("J-d").expect("d");
    assert!(
        g.blockers(i)
            .iter()
            .any(|b| matches!(b, wt::graph::Blocker::Cycle { .. })),
        "{:?}",
        g.blockers(i)
    );
}

// ---------------------------------------------------------------- through the binary

fn binary_plan() -> impl Strategy<Value = Vec<PlanItem>> {
    (1..=12usize)
        .prop_flat_map(|n| vec(raw_item(), n))
        .prop_map(|raw| {
            let mut items = build(raw, vec![], false);
            // `wt import` has no claimed_by; keep the data consistent for `wt check`.
            for it in &mut items {
                if it.status == "in_progress" {
                    it.status = "review";
                    it.claimed = false;
                }
            }
            items
        })
}

proptest! {
    #![proptest_config(Config { cases: 6, failure_persistence: None, ..Config::default() })]

    #[test]
    fn wt_ready_through_the_binary_matches_the_model(items in binary_plan()) {
        let r = Repo::new();
        let map = r.import(&plan_json(&items));
        let id = |i: usize| map[&items[i].key].as_str().expect("id").to_string();
        let want: BTreeSet<String> = expected_ready(&items).into_iter().map(id).collect();
        let got = id_set(&r.wt_json(&["ready", "--kind", "any"]));
        prop_assert_eq!(&got, &want);
        // Jobs, in order: all created at the same time, so priority, chain, then ID.
        if let Some(depth) = waiting_depths(&items) {
            let mut jobs: Vec<usize> = expected_ready(&items)
                .into_iter()
                .filter(|&i| items[i].kind == "job")
                .collect();
            jobs.sort_by(|&a, &b| {
                items[a]
                    .priority
                    .cmp(&items[b].priority)
                    .then(depth[b].cmp(&depth[a]))
                    .then(id(a).cmp(&id(b)))
            });
            let want: Vec<String> = jobs.into_iter().map(id).collect();
            prop_assert_eq!(ids(&r.wt_json(&["ready"])), want);
        }
        // The generated plan is well-formed, so `wt check` passes.
        let check = r.wt(&["check"]);
        prop_assert_eq!(check.code(), 0, "{}", check.stdout());
    }
}
