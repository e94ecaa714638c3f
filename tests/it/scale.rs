//! A generated plan of 1,000 tickets: `wt ready` lists exactly the open, unclaimed tickets
//! whose dependencies (and ancestors' dependencies) are complete, computed independently.

use std::collections::BTreeSet;

use crate::common::*;
use crate::fixtures::*;

/// 20 phase-specs, 140 jobs, 840 tasks in plan order (parents first), each depending on up
/// to three random earlier tickets outside its own ancestor chain (a dependency that would
/// make something wait on itself, per the model, is left out: `wt import` refuses those);
/// about 30% done and 5% in progress.
fn generate(seed: u64) -> Vec<PlanItem> {
    let mut rng = Rng::new(seed);
    let mut items: Vec<PlanItem> = Vec::with_capacity(1000);
    let push =
        |items: &mut Vec<PlanItem>, kind: &'static str, parent: Option<usize>, rng: &mut Rng| {
            let i = items.len();
            let roll = rng.below(100);
            let status = if roll < 30 {
                "done"
            } else if roll < 35 {
                "in_progress"
            } else {
                "open"
            };
            items.push(PlanItem {
                key: format!("k{i}"),
                kind,
                status,
                priority: rng.below(5) as u8,
                parent,
                deps: Vec::new(),
                claimed: false,
                dangling: false,
            });
            let chain = ancestors(items, i);
            for _ in 0..rng.below(4) {
                let d = rng.below(i.max(1));
                if d == i
                    || chain.contains(&d)
                    || items[i].deps.contains(&d)
                    || closes_cycle(items, i, d)
                {
                    continue;
                }
                items[i].deps.push(d);
            }
            i
        };
    for _ in 0..20 {
        let p = push(&mut items, "phase-spec", None, &mut rng);
        for _ in 0..7 {
            let j = push(&mut items, "job", Some(p), &mut rng);
            for _ in 0..6 {
                push(&mut items, "task", Some(j), &mut rng);
            }
        }
    }
    assert_eq!(items.len(), 1000);
    items
}

#[test]
fn ready_on_a_thousand_generated_tickets_is_exactly_the_independently_computed_set() {
    let mut items = generate(0x5eed_1000);
    // The state lives on a branch nobody has checked out, so the test measures the plan and
    // not the file-system writes that keep a checkout in step (about 1,000 fsyncs).
    let r = Repo::bare_git();
    r.wt(&["init", "--branch", "tickets"]).ok();
    let map = r.import(&plan_json(&items));
    assert_eq!(map.len(), 1000);
    let id = |items: &[PlanItem], i: usize| map[&items[i].key].as_str().expect("id").to_string();

    // Claim a few open tickets (some of them would be ready) with --force.
    let before = expected_ready(&items);
    let open: Vec<usize> = (0..items.len())
        .filter(|&i| items[i].status == "open")
        .collect();
    let to_claim: Vec<usize> = before
        .iter()
        .copied()
        .take(3)
        .chain(open.iter().copied().filter(|i| !before.contains(i)).take(3))
        .collect();
    for &i in &to_claim {
        r.wt(&["claim", &id(&items, i), "--force", "--agent", "scale-agent"])
            .ok();
        items[i].claimed = true;
        items[i].status = "in_progress";
    }

    let expected: BTreeSet<String> = expected_ready(&items)
        .into_iter()
        .map(|i| id(&items, i))
        .collect();
    let got = id_set(&r.wt_json(&["ready", "--json", "--kind", "any"]));
    let missing: Vec<&String> = expected.difference(&got).collect();
    let extra: Vec<&String> = got.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "wt ready differs from the model: missing {missing:?}, extra {extra:?}"
    );
    // The data exercises every rule: some ready, some not, claims excluded.
    let open_unclaimed = items
        .iter()
        .filter(|it| it.status == "open" && !it.claimed)
        .count();
    assert!(
        expected.len() >= 20 && expected.len() < open_unclaimed,
        "{} ready of {open_unclaimed} open",
        expected.len()
    );
    for &i in &to_claim {
        assert!(!got.contains(&id(&items, i)));
    }
    // ... and tickets held back only by the container rule or only by an ancestor.
    let complete = complete_set(&items);
    let own_ok = |i: usize| items[i].deps.iter().all(|&d| complete[d]);
    let candidates: Vec<usize> = (0..items.len())
        .filter(|&i| items[i].status == "open" && !items[i].claimed)
        .collect();
    let container_only = candidates
        .iter()
        .filter(|&&i| items[i].deps.iter().all(|&d| items[d].status == "done") && !own_ok(i))
        .count();
    let ancestor_only = candidates
        .iter()
        .filter(|&&i| own_ok(i) && !expected.contains(&id(&items, i)))
        .count();
    assert!(
        container_only > 0 && ancestor_only > 0,
        "{container_only} {ancestor_only}"
    );
    println!(
        "1000 tickets: {open_unclaimed} open and unclaimed, {} ready (wt and the model agree); \
         {container_only} wait only on an unfinished container, {ancestor_only} only on an ancestor",
        got.len()
    );
    // The per-kind answers are slices of the same set.
    let jobs = id_set(&r.wt_json(&["ready"]));
    let want_jobs: BTreeSet<String> = expected_ready(&items)
        .into_iter()
        .filter(|&i| items[i].kind == "job")
        .map(|i| id(&items, i))
        .collect();
    assert_eq!(jobs, want_jobs);
}
