//! Racing real `wt` processes: exactly one winner per ticket, `claim --next` hands out each
//! ticket exactly once, in one worktree, across two worktrees, and across two clones that
//! share a bare remote.

use std::collections::{BTreeMap, BTreeSet};

use super::*;

/// Race `racers` claimers (racer i runs in `dirs[i % dirs.len()]`) on one ticket and check
/// that exactly one won and every loser got exit 4 naming the winner. Returns the winner.
fn race_one_ticket(r: &Repo, dirs: &[PathBuf], id: &str, racers: usize, extra: &[&str]) -> String {
    let names: Vec<String> = (0..racers).map(|i| format!("racer-{i}")).collect();
    let cmds = (0..racers)
        .map(|i| {
            let mut args = vec!["--json", "claim", id, "--agent", &names[i]];
            args.extend_from_slice(extra);
            wt_cmd(r, &dirs[i % dirs.len()], &args, &[])
        })
        .collect();
    let outs = race(cmds);
    let winners: Vec<usize> = (0..racers).filter(|&i| code(&outs[i]) == 0).collect();
    assert_eq!(
        winners.len(),
        1,
        "exactly one winner expected; exit codes {:?}; stderr {:?}",
        outs.iter().map(code).collect::<Vec<_>>(),
        outs.iter()
            .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
            .collect::<Vec<_>>()
    );
    let winner = names[winners[0]].clone();
    for (i, o) in outs.iter().enumerate() {
        if i == winners[0] {
            continue;
        }
        assert_eq!(
            code(o),
            4,
            "loser {i}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(json_of(o)["error"]["detail"]["claimed_by"], winner.as_str());
    }
    winner
}

/// Run `workers` loops of `claim --next` (worker i in `dirs[i % dirs.len()]`) until nothing
/// is ready; return worker name → IDs it was handed.
fn next_workers(
    r: &Repo,
    dirs: &[PathBuf],
    workers: usize,
    extra: &[&str],
) -> BTreeMap<String, Vec<String>> {
    let barrier = Arc::new(Barrier::new(workers));
    let handles: Vec<_> = (0..workers)
        .map(|i| {
            let b = barrier.clone();
            let dir = dirs[i % dirs.len()].clone();
            let name = format!("worker-{i}");
            let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
            let home = r.home();
            std::thread::spawn(move || {
                b.wait();
                let mut got = Vec::new();
                loop {
                    let mut cmd = Command::new(wt_bin());
                    hermetic(&mut cmd, &home);
                    cmd.current_dir(&dir)
                        .args(["--json", "claim", "--next", "--agent", &name])
                        .args(&extra);
                    let o = cmd.output().expect("run wt");
                    match code(&o) {
                        0 => got.push(json_of(&o)["id"].as_str().expect("id").to_string()),
                        3 => break,
                        c => panic!("{name}: exit {c}: {}", String::from_utf8_lossy(&o.stderr)),
                    }
                }
                (name, got)
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().expect("worker thread"))
        .collect()
}

/// Every ticket handed out exactly once, to the agent the ticket names.
fn assert_exactly_once(r: &Repo, dir: &Path, ids: &[String], got: &BTreeMap<String, Vec<String>>) {
    let all: Vec<&String> = got.values().flatten().collect();
    let distinct: BTreeSet<&String> = all.iter().copied().collect();
    assert_eq!(
        all.len(),
        distinct.len(),
        "a ticket was handed out twice: {got:?}"
    );
    let want: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(distinct, want, "tickets skipped or unknown: {got:?}");
    let list = r.wt_in(dir, &["--json", "list"]).json();
    for t in tickets(&list) {
        let id = t["id"].as_str().unwrap().to_string();
        if !ids.contains(&id) {
            continue;
        }
        let holder = got
            .iter()
            .find(|(_, v)| v.contains(&id))
            .map(|(k, _)| k.as_str());
        assert_eq!(t["claimed_by"].as_str(), holder, "{id}");
    }
}

#[test]
fn eight_racers_on_one_ticket_have_exactly_one_winner_every_trial() {
    let r = Repo::new();
    let ids = jobs(&r, 6, "Race");
    let dirs = [r.root.clone()];
    for id in &ids {
        let winner = race_one_ticket(&r, &dirs, id, 8, &[]);
        assert_eq!(r.wt_json(&["show", id])["claimed_by"], winner.as_str());
    }
    // One claim commit per ticket, never more.
    let claims = r
        .subjects("main")
        .iter()
        .filter(|s| s.starts_with("wt: claim "))
        .count();
    assert_eq!(claims, ids.len());
    assert_eq!(r.git(&["status", "--porcelain"]).ok(), "");
}

#[test]
fn eight_next_workers_hand_out_forty_tickets_exactly_once() {
    let r = Repo::new();
    let ids = jobs(&r, 40, "Next");
    let got = next_workers(&r, std::slice::from_ref(&r.root), 8, &[]);
    assert_exactly_once(&r, &r.root, &ids, &got);
    assert_eq!(r.git(&["status", "--porcelain"]).ok(), "");
    r.wt(&["check"]).ok();
}

/// A second worktree of the repository, on its own branch (the state branch stays checked
/// out in the first).
fn second_worktree(r: &Repo) -> PathBuf {
    let b = r.tmp.path().join("worktree-b");
    r.git(&["worktree", "add", "-q", "-b", "side", b.to_str().unwrap()])
        .ok();
    b
}

#[test]
fn racers_across_two_worktrees_have_one_winner_and_next_hands_out_each_ticket_once() {
    let r = Repo::new();
    let ids = jobs(&r, 4, "Two worktrees");
    let b = second_worktree(&r);
    let dirs = [r.root.clone(), b.clone()];
    for id in &ids {
        race_one_ticket(&r, &dirs, id, 8, &[]);
    }
    let more = jobs(&r, 24, "Next across worktrees");
    let got = next_workers(&r, &dirs, 8, &[]);
    assert_exactly_once(&r, &b, &more, &got);
    assert_eq!(r.git(&["status", "--porcelain"]).ok(), "");
    assert_eq!(r.git_in(&b, &["status", "--porcelain"]).ok(), "");
}

#[test]
fn a_claim_made_in_worktree_b_is_seen_by_ready_in_a_at_once_and_a_stays_clean() {
    let r = Repo::new();
    let ids = jobs(&r, 2, "Seen");
    let b = second_worktree(&r);
    r.wt_in(&b, &["claim", &ids[0], "--agent", "in-b"]).ok();
    let ready = ids_of(&r.wt_json(&["ready"]));
    assert_eq!(ready, vec![ids[1].clone()]);
    assert_eq!(r.git(&["status", "--porcelain"]).ok(), "");
    // A's checked-out ticket file shows the claim.
    assert!(r
        .read(&r.ticket_path(&ids[0]))
        .contains("claimed_by: in-b\n"));
}

fn ids_of(v: &Value) -> Vec<String> {
    ids(v)
}

#[test]
fn racers_on_two_clones_sharing_a_bare_remote_have_one_winner_and_next_is_exactly_once() {
    let r = Repo::new();
    let ids = jobs(&r, 2, "Remote race");
    let more = jobs(&r, 10, "Remote next");
    let (_bare, cl) = clones(&r, 2);
    for id in &ids {
        let winner = race_one_ticket(&r, &cl, id, 6, &["--remote"]);
        // Both clones see the winner after a sync.
        for c in &cl {
            r.wt_in(c, &["sync"]).ok();
            assert_eq!(
                r.wt_in(c, &["--json", "show", id]).json()["claimed_by"],
                winner.as_str()
            );
        }
    }
    let got = next_workers(&r, &cl, 4, &["--remote"]);
    r.wt_in(&cl[0], &["sync"]).ok();
    assert_exactly_once(&r, &cl[0], &more, &got);
    for c in &cl {
        assert_eq!(r.git_in(c, &["status", "--porcelain"]).ok(), "");
    }
}
