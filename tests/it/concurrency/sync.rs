//! `wt sync` between clones through a local bare repository, and claims through the remote.

use super::*;

fn show(r: &Repo, dir: &Path, id: &str) -> Value {
    r.wt_in(dir, &["--json", "show", id]).json()
}

#[test]
fn sync_replays_local_commits_on_the_remote_and_merges_changes_to_different_fields() {
    let r = Repo::new();
    let ids = jobs(&r, 2, "Merge");
    let (bare, cl) = clones(&r, 2);
    // Clone 0 claims ids[0]; clone 1 makes it depend on ids[1]; neither has published.
    r.wt_in(&cl[0], &["claim", &ids[0], "--agent", "a"]).ok();
    r.wt_in(&cl[1], &["dep", "add", &ids[0], &ids[1]]).ok();
    let first = r.wt_in(&cl[1], &["--json", "sync"]).json();
    assert_eq!(first["pushed"], true);
    let second = r.wt_in(&cl[0], &["--json", "sync"]).json();
    assert_eq!(second["replayed"], 1);
    assert_eq!(second["pulled"], 1);
    assert_eq!(second["conflicts"], serde_json::json!([]));
    r.wt_in(&cl[1], &["sync"]).ok();
    for c in &cl {
        let t = show(&r, c, &ids[0]);
        assert_eq!(t["claimed_by"], "a");
        assert_eq!(t["depends_on"], serde_json::json!([ids[1]]));
        assert_eq!(r.git_in(c, &["status", "--porcelain"]).ok(), "");
    }
    // The remote's history is linear: the replayed claim sits on top of the dep commit.
    let log = r.git_in(&bare, &["log", "--format=%s", "-2", "main"]).ok();
    let subjects: Vec<&str> = log.lines().collect();
    assert!(
        subjects[0].starts_with(&format!("wt: claim {}", ids[0])),
        "{log}"
    );
    assert!(subjects[1].starts_with("wt: dep"), "{log}");
    assert_eq!(
        r.git_in(&bare, &["rev-list", "--merges", "--count", "main"])
            .ok()
            .trim(),
        "0"
    );
}

#[test]
fn two_clones_claiming_one_ticket_offline_keep_the_first_published_and_report_the_loser() {
    let r = Repo::new();
    let ids = jobs(&r, 1, "Offline");
    let (_bare, cl) = clones(&r, 2);
    r.wt_in(&cl[0], &["claim", &ids[0], "--agent", "a"]).ok();
    r.wt_in(&cl[1], &["claim", &ids[0], "--agent", "b"]).ok();
    r.wt_in(&cl[0], &["sync"]).ok();
    let rep = r.wt_in(&cl[1], &["--json", "sync"]).json();
    assert_eq!(rep["dropped"], 1, "{rep}");
    assert_eq!(rep["conflicts"][0]["field"], "claim");
    assert_eq!(rep["conflicts"][0]["ticket"], ids[0].as_str());
    let text = r.wt_in(&cl[1], &["sync"]).ok();
    assert!(text.contains("nothing to push"), "{text}");
    assert_eq!(show(&r, &cl[1], &ids[0])["claimed_by"], "a");
    assert_eq!(r.git_in(&cl[1], &["status", "--porcelain"]).ok(), "");
}

#[test]
fn a_claim_the_remote_does_not_accept_is_not_won_and_is_undone_locally() {
    let r = Repo::new();
    let id = r.new_ticket(&["job", "Unreachable"]);
    // Unreachable remote: the first fetch fails, nothing is claimed.
    r.git(&["remote", "add", "origin", "/nonexistent/remote.git"])
        .ok();
    let run = r.wt(&["claim", &id, "--agent", "a", "--remote"]);
    run.fails_with(6);
    assert!(run.stderr().contains("fetch"), "{}", run.stderr());
    assert_eq!(r.wt_json(&["show", &id])["claimed_by"], Value::Null);
    // A remote that refuses the push (a non-bare repository with the branch checked out):
    // the claim was made locally, the push is rejected, the claim is released again.
    let c = r.tmp.path().join("refusing-clone");
    r.git_in(
        r.tmp.path(),
        &["clone", "-q", r.root.to_str().unwrap(), c.to_str().unwrap()],
    )
    .ok();
    let run = r.wt_in(&c, &["claim", &id, "--agent", "a", "--remote"]);
    run.fails_with(5);
    assert!(
        run.stderr().contains("refused the push") && run.stderr().contains("undone locally"),
        "{}",
        run.stderr()
    );
    let t = r.wt_in(&c, &["--json", "show", &id]).json();
    assert_eq!(t["claimed_by"], Value::Null);
    assert_eq!(t["status"], "open");
    let log = r.git_in(&c, &["log", "--format=%s", "-2"]).ok();
    assert!(log.starts_with(&format!("wt: release {id}")), "{log}");
    // No remote configured at all: a setup error.
    let r2 = Repo::new();
    let id2 = r2.new_ticket(&["job", "No remote"]);
    r2.wt(&["claim", &id2, "--agent", "a", "--remote"])
        .fails_with(7);
}

#[test]
fn sync_refuses_to_replay_commits_that_are_not_wts() {
    let r = Repo::new();
    jobs(&r, 1, "Code");
    let (_bare, cl) = clones(&r, 2);
    r.wt_in(&cl[1], &["new", "job", "Remote work"]).ok();
    r.wt_in(&cl[1], &["sync"]).ok();
    std::fs::write(cl[0].join("code.rs"), "fn main() {}\n").unwrap();
    r.git_in(&cl[0], &["add", "code.rs"]).ok();
    r.git_in(&cl[0], &["commit", "-qm", "my code"]).ok();
    let run = r.wt_in(&cl[0], &["sync"]);
    run.fails_with(5);
    assert!(
        run.stderr().contains("\"my code\"") && run.stderr().contains("not wt's"),
        "{}",
        run.stderr()
    );
    // Nothing moved.
    assert_eq!(
        r.git_in(&cl[0], &["log", "-1", "--format=%s"]).ok().trim(),
        "my code"
    );
}

#[test]
fn in_claim_mode_claims_and_done_reach_the_remote_and_a_superseded_done_is_refused() {
    let r = Repo::without_review();
    let ids = jobs(&r, 2, "Mode");
    let cfg = r
        .read(".work/config.yaml")
        .replace("mode: manual", "mode: claim");
    r.write(".work/config.yaml", &cfg);
    r.git(&["commit", "-qam", "sync mode claim"]).ok();
    let (bare, cl) = clones(&r, 2);
    let remote_file = |id: &str| -> String {
        let path = show(&r, &cl[0], id)["path"].as_str().unwrap().to_string();
        r.git_in(&bare, &["show", &format!("main:{path}")]).ok()
    };
    // A plain claim is published before it is reported.
    let ta = r
        .wt_in(&cl[0], &["--json", "claim", &ids[0], "--agent", "a"])
        .json()["claim_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(remote_file(&ids[0]).contains("claimed_by: a\n"));
    // The other clone sees it without a manual sync.
    r.wt_in(&cl[1], &["claim", &ids[0], "--agent", "b"])
        .fails_with(4);
    // Done goes out too.
    r.wt_in(&cl[0], &["done", &ids[0], "--agent", "a", "--token", &ta])
        .ok();
    assert!(remote_file(&ids[0]).contains("status: done\n"));
    // A takes ids[1]; its lease runs out; B (on the other clone) takes it over.
    let t1 = r
        .wt_in(&cl[0], &["--json", "claim", &ids[1], "--agent", "a"])
        .json()["claim_token"]
        .as_str()
        .unwrap()
        .to_string();
    let later = now_plus(31);
    let env = [("WT_NOW", later.as_str())];
    r.wt_env(
        &cl[1],
        &["claim", &ids[1], "--agent", "b", "--steal-stale"],
        &env,
    )
    .ok();
    // A, on its own clone, has not synced: its done and heartbeat are refused anyway.
    r.wt_env(
        &cl[0],
        &["done", &ids[1], "--agent", "a", "--token", &t1],
        &env,
    )
    .fails_with(5);
    r.wt_env(
        &cl[0],
        &["heartbeat", &ids[1], "--agent", "a", "--token", &t1],
        &env,
    )
    .fails_with(5);
    assert!(remote_file(&ids[1]).contains("claimed_by: b\n"));
    assert!(remote_file(&ids[1]).contains("status: in_progress\n"));
}

#[test]
fn sync_never_mixes_a_superseded_done_with_the_claim_that_took_over() {
    // Alice claims and publishes; her lease runs out; Bob takes the claim over through the
    // remote; Alice, offline, finishes (for review) and syncs.
    let r = Repo::new();
    let ids = jobs(&r, 1, "Taken over");
    let (bare, cl) = clones(&r, 2);
    let (alice, bob) = (&cl[0], &cl[1]);
    r.wt_in(alice, &["claim", &ids[0], "--agent", "alice"]).ok();
    r.wt_in(alice, &["sync"]).ok();
    let later = now_plus(31);
    let env = [("WT_NOW", later.as_str())];
    r.wt_env(
        bob,
        &[
            "claim",
            &ids[0],
            "--agent",
            "bob",
            "--steal-stale",
            "--remote",
        ],
        &env,
    )
    .ok();
    r.wt_env(alice, &["done", &ids[0], "--agent", "alice"], &env)
        .ok();
    let run = r.wt_env(alice, &["--json", "sync"], &env);
    let rep = run.json();
    // The claim that reached the remote first (Bob's) wins whole; Alice's done is reported.
    assert_eq!(rep["conflicts"][0]["ticket"], ids[0].as_str(), "{rep}");
    assert_eq!(rep["conflicts"][0]["field"], "claim", "{rep}");
    let path = show(&r, alice, &ids[0])["path"]
        .as_str()
        .unwrap()
        .to_string();
    let remote = r.git_in(&bare, &["show", &format!("main:{path}")]).ok();
    assert!(remote.contains("claimed_by: bob\n"), "{remote}");
    assert!(remote.contains("status: in_progress\n"), "{remote}");
    assert!(
        !remote.contains("implemented_by: alice"),
        "a field of Alice's done was mixed into Bob's claim:\n{remote}"
    );
    let t = show(&r, alice, &ids[0]);
    assert_eq!(t["claimed_by"], "bob");
    assert_eq!(t["implemented_by"], Value::Null, "{t}");
    assert_eq!(r.git_in(alice, &["status", "--porcelain"]).ok(), "");
}
