//! Property tests over random plans: `ready` never lists a ticket with an open dependency,
//! an incomplete container dependency, a blocked ancestor or a waits-on cycle (dependencies
//! plus the plan hierarchy: see `fixtures::WaitModel`); every cycle group is reported once,
//! with a real cycle; `cycle_if_added` answers exactly when an edge would close one. Checked
//! against an independent model (`fixtures::expected_ready`, `on_cycle`, `closes_cycle`), on
//! the library (`wt::schedule::graph::Graph`) for many plans and through the real binary (`wt import`)
//! for a few.

use std::collections::BTreeSet;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::Config;

use wt::model::ticket::{Kind, Status, Ticket};
use wt::schedule::graph::{Blocker, Graph};

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
/// earlier) with dependencies on earlier items outside the item's own ancestor chain.
///
/// Without `odd`, a dependency that would make something wait on itself (per the model,
/// `closes_cycle`: e.g. crossed phases) is left out, so the plan is free of waits-on cycles
/// and `wt import` accepts it. With `odd`, those stay, some items deliberately depend on an
/// ancestor, `extra` edges go in any direction (self, ancestor, descendant), and there are
/// claims on open tickets and dangling dependencies.
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
            deps: Vec::new(),
            claimed,
            dangling: odd && dang == 0,
        });
        let chain = ancestors(&items, i);
        let targets: Vec<usize> = (0..i).filter(|j| !chain.contains(j)).collect();
        for d in deps {
            if targets.is_empty() {
                break;
            }
            let d = targets[d as usize % targets.len()];
            if items[i].deps.contains(&d) || closes_cycle(&items, i, d) {
                continue;
            }
            items[i].deps.push(d);
        }
        if odd && dang == 1 && !chain.is_empty() {
            // Deliberately wait on its own container.
            let a = chain[pick as usize % chain.len()];
            items[i].deps.push(a);
        }
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
    // Waiting on itself: a ticket is blocked by a cycle exactly when the model says it
    // waits on itself, and the cycle named starts at the ticket and is a real one.
    let model = WaitModel::new(items);
    let reach = model.reach_matrix();
    let index = |id: &String| g.index_of(id).expect("known ID");
    for i in 0..items.len() {
        let own: Vec<Vec<String>> = g
            .blockers(i)
            .into_iter()
            .filter_map(|b| match b {
                Blocker::Cycle { cycle } => Some(cycle),
                _ => None,
            })
            .collect();
        prop_assert_eq!(
            !own.is_empty(),
            cyc[i],
            "{}: cycle blockers {:?}",
            &ts[i].id,
            own
        );
        for c in &own {
            prop_assert_eq!(c.first(), Some(&ts[i].id), "{:?}", c);
            let idx: Vec<usize> = c.iter().map(index).collect();
            prop_assert!(model.closed_walk(&idx).is_some(), "not a cycle: {:?}", c);
        }
    }
    // Cycles: one per group of tickets waiting on each other, each one real, no group twice.
    let cycles = g.cycles();
    prop_assert_eq!(
        cycles.is_empty(),
        !cyc.iter().any(|&c| c),
        "cycles() = {:?}",
        cycles
    );
    prop_assert_eq!(
        cycles.len(),
        cycle_groups(&reach),
        "cycles() = {:?}",
        &cycles
    );
    let mut groups: Vec<usize> = Vec::new();
    for c in &cycles {
        prop_assert!(c.len() >= 2 && c.first() == c.last(), "not closed: {:?}", c);
        let idx: Vec<usize> = c.iter().map(index).collect();
        // It starts where `wt check` points: at a ticket that has dependencies.
        prop_assert!(
            !items[idx[0]].deps.is_empty(),
            "{:?} starts without deps",
            c
        );
        let node = model.closed_walk(&idx);
        prop_assert!(node.is_some(), "not a waits-on cycle: {:?}", c);
        let node = node.expect("checked");
        for &other in &groups {
            prop_assert!(
                !(reach[node][other] && reach[other][node]),
                "two cycles reported for one group: {:?}",
                &cycles
            );
        }
        groups.push(node);
    }
    // Adding an edge closes a cycle exactly when the model says so, and the cycle named
    // starts with the new edge and is real once the edge is added.
    let n = items.len();
    let mut pairs: Vec<(usize, usize)> = vec![(n - 1, 0), (0, n - 1), (n / 2, n / 2)];
    for (i, it) in items.iter().enumerate().take(6) {
        if let Some(p) = it.parent {
            pairs.push((i, p));
            pairs.push((p, i));
        }
    }
    pairs.extend((0..4).map(|k| ((7 * k + 3) % n, (13 * k + 5) % n)));
    for (a, b) in pairs {
        let want = closes_cycle(items, a, b);
        prop_assert_eq!(want, a == b || reach[finish(b)][start(a)]);
        let got = g.cycle_if_added(&ts[a].id, &ts[b].id);
        prop_assert_eq!(
            got.is_some(),
            want,
            "cycle_if_added({}, {}) = {:?}",
            &ts[a].id,
            &ts[b].id,
            got
        );
        if let Some(c) = got {
            prop_assert!(
                c.len() >= 2 && c[0] == ts[a].id && c[1] == ts[b].id && c.last() == c.first(),
                "{:?}",
                c
            );
            let mut with = items.to_vec();
            with[a].deps.push(b);
            let idx: Vec<usize> = c.iter().map(index).collect();
            prop_assert!(
                WaitModel::new(&with).closed_walk(&idx).is_some(),
                "not a cycle once {} depends on {}: {:?}",
                &ts[a].id,
                &ts[b].id,
                c
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(Config { cases: 2000, failure_persistence: None, ..Config::default() })]

    /// Plans with well-formed data and nothing waiting on itself.
    #[test]
    fn ready_matches_the_model_on_random_plans_without_cycles(items in plan(40, 0, false)) {
        prop_assert!(!on_cycle(&items).contains(&true), "the generator made a cycle");
        check_library(&items)?;
    }

    /// Plans with odd data: extra edges that may close cycles, dangling dependencies, claims
    /// on open tickets.
    #[test]
    fn ready_never_lists_blocked_work_and_cycles_are_found_on_random_graphs(
        items in plan(16, 4, true)
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
            .any(|b| matches!(b, wt::schedule::graph::Blocker::Cycle { .. })),
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
        // The generated plan is well-formed, but for done containers above open work (a
        // random status each): `wt check` flags exactly those, and nothing else.
        let mut open_under = vec![false; items.len()];
        for (j, it) in items.iter().enumerate() {
            if it.status != "done" {
                let mut p = items[j].parent;
                while let Some(k) = p {
                    open_under[k] = true;
                    p = items[k].parent;
                }
            }
        }
        let flagged_want = (0..items.len())
            .filter(|&i| items[i].status == "done" && open_under[i])
            .count();
        let check = r.wt(&["check"]);
        let out = check.stdout();
        let flagged = out.lines().filter(|l| l.contains(": done, but ")).count();
        prop_assert_eq!(flagged, flagged_want, "{}", out);
        let problems = out.lines().filter(|l| l.starts_with(".work/")).count();
        prop_assert_eq!(problems, flagged, "{}", out);
        prop_assert_eq!(check.code(), i32::from(flagged_want > 0), "{}", out);
    }
}

/// The generators still exercise readiness: the plan hierarchy makes many random
/// dependency sets wait on themselves, so check that the plans above keep a good share of
/// ready tickets, that the odd ones do contain cycles, and that the well-formed ones don't.
#[test]
fn generated_plans_keep_a_good_share_of_ready_tickets() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    // (plans, plans with a ready ticket, plans with a cycle, open+unclaimed, ready, deps)
    let mut sample = |s: &dyn Fn() -> BoxedStrategy<Vec<PlanItem>>| {
        let mut t = (0usize, 0usize, 0usize, 0usize, 0usize, 0usize);
        for _ in 0..400 {
            let items = s().new_tree(&mut runner).expect("plan").current();
            let ready = expected_ready(&items);
            t.0 += 1;
            t.1 += usize::from(!ready.is_empty());
            t.2 += usize::from(on_cycle(&items).contains(&true));
            t.3 += items
                .iter()
                .filter(|it| it.status == "open" && !it.claimed)
                .count();
            t.4 += ready.len();
            t.5 += items.iter().map(|it| it.deps.len()).sum::<usize>();
        }
        t
    };
    let clean = sample(&|| plan(40, 0, false).boxed());
    let odd = sample(&|| plan(16, 4, true).boxed());
    let binary = sample(&|| binary_plan().boxed());
    println!("plans, with ready, with cycle, open+unclaimed, ready, deps");
    println!("clean  {clean:?}\nodd    {odd:?}\nbinary {binary:?}");
    // Measured (deterministic runner): clean 335/400 plans with a ready ticket, 864 of 2871
    // open tickets ready; odd 194/400 with ready, 286/400 with a cycle; binary 264/400.
    for (name, t) in [("clean", clean), ("binary", binary)] {
        assert_eq!(t.2, 0, "{name}: plans with a cycle");
        assert!(
            t.1 * 100 >= t.0 * 60,
            "{name}: too few plans with ready work {t:?}"
        );
        assert!(t.4 * 100 >= t.3 * 20, "{name}: too few ready tickets {t:?}");
        assert!(t.5 >= t.0 * 3, "{name}: too few dependencies {t:?}");
    }
    assert!(
        odd.1 * 100 >= odd.0 * 30,
        "odd: too few plans with ready work {odd:?}"
    );
    assert!(
        odd.2 * 100 >= odd.0 * 40 && odd.2 * 100 <= odd.0 * 90,
        "odd: cycles should be common but not everywhere {odd:?}"
    );
}

/// What one-ticket claims rely on (`src/lookup.rs`): `Graph::unblocked` is exactly "no
/// blocker but a claim", and changing a ticket without changing its `graph_key` (claim
/// fields, status between not-done states, title, priority...) changes no ticket's answer.
fn check_unblocked(items: &[PlanItem], k: usize, new_status: &str) -> Result<(), TestCaseError> {
    let ts = tickets(items);
    let g = Graph::new(&ts);
    let before: Vec<bool> = (0..ts.len()).map(|i| g.unblocked(i)).collect();
    for (i, &u) in before.iter().enumerate() {
        let only_claim = g
            .blockers(i)
            .iter()
            .all(|b| matches!(b, Blocker::Claimed { .. }));
        prop_assert_eq!(u, only_claim, "ticket {}", i);
    }
    let mut changed = ts.clone();
    let k = k % changed.len();
    let t = &mut changed[k];
    let was_done = t.status == Status::Done;
    t.status = if was_done {
        Status::Done
    } else {
        new_status.parse().expect("status")
    };
    t.claimed_by = match t.claimed_by {
        Some(_) => None,
        None => Some("someone".into()),
    };
    t.claim_token = Some("tok".into());
    t.title.push_str(" (edited)");
    t.priority = (t.priority + 1) % 5;
    t.updated = Some("2026-02-02T00:00:00Z".into());
    prop_assert_eq!(changed[k].graph_key(), ts[k].graph_key());
    let g2 = Graph::new(&changed);
    let after: Vec<bool> = (0..changed.len()).map(|i| g2.unblocked(i)).collect();
    prop_assert_eq!(before, after);
    Ok(())
}

proptest! {
    #![proptest_config(Config { cases: 1000, failure_persistence: None, ..Config::default() })]

    #[test]
    fn unblocked_depends_only_on_the_graph_key(
        items in plan(16, 4, true),
        k in any::<usize>(),
        st in prop::sample::select(vec!["open", "in_progress", "review", "escalated"]),
    ) {
        check_unblocked(&items, k, st)?;
    }
}
