//! Finding the state branch from anywhere: a side branch, and a fresh clone.

use crate::common::*;

#[test]
fn a_fresh_clone_finds_the_state_branch_on_the_remote_and_creates_it_locally() {
    let r = Repo::bare_git();
    r.wt(&["init", "--branch", "tickets"]).ok();
    let id = r.new_ticket(&["job", "On a side branch"]);
    // main did not move: the state lives only on `tickets`.
    assert_eq!(r.subjects("main"), vec!["initial"]);
    assert_eq!(r.git(&["status", "--porcelain"]).ok(), "");

    let clone = r.tmp.path().join("clone");
    r.git(&[
        "clone",
        "-q",
        r.root.to_str().expect("utf8"),
        clone.to_str().expect("utf8"),
    ])
    .ok();
    let git = |args: &[&str]| r.git_in(&clone, args);
    assert_eq!(
        git(&["branch", "--list", "tickets"]).ok(),
        "",
        "no local state branch yet"
    );
    // Right after the clone, with no manual step.
    let first = r.wt_in(&clone, &["--json", "ready"]);
    assert_eq!(ids(&first.json()), vec![id.clone()], "{}", first.stderr());
    assert!(
        first
            .stderr()
            .contains("created the local state branch `tickets` from origin/tickets"),
        "{}",
        first.stderr()
    );
    assert_eq!(
        git(&["rev-parse", "tickets"]).ok(),
        git(&["rev-parse", "origin/tickets"]).ok()
    );
    assert_eq!(
        git(&["config", "branch.tickets.remote"]).ok().trim(),
        "origin"
    );
    // Said once: the branch exists now.
    let second = r.wt_in(&clone, &["ready"]);
    second.ok();
    assert!(!second.stderr().contains("created"), "{}", second.stderr());
    // Every verb works, and so does sync.
    r.wt_in(&clone, &["claim", &id, "--agent", "a"]).ok();
    r.wt_in(&clone, &["sync"]).ok();
    assert_eq!(
        git(&["log", "-1", "--format=%s", "origin/tickets"])
            .ok()
            .trim(),
        format!("wt: claim {id} \"On a side branch\" (a)")
    );
}

#[test]
fn a_fresh_clone_follows_the_state_branch_the_default_branch_names() {
    // The project declares its state branch in main's config; the branch itself holds a
    // config naming it too. The clone's HEAD (main) names `tickets`: wt takes it from origin.
    let r = Repo::bare_git();
    r.wt(&["init", "--branch", "tickets"]).ok();
    r.git(&["show", "tickets:.work/config.yaml"]).ok();
    let cfg = r.git(&["show", "tickets:.work/config.yaml"]).ok();
    r.write(".work/config.yaml", &cfg);
    r.git(&["add", ".work/config.yaml"]).ok();
    r.git(&["commit", "-q", "-m", "declare the state branch"])
        .ok();
    let id = r.new_ticket(&["job", "Declared"]);
    let clone = r.tmp.path().join("clone2");
    r.git(&[
        "clone",
        "-q",
        r.root.to_str().expect("utf8"),
        clone.to_str().expect("utf8"),
    ])
    .ok();
    let v = r.wt_in(&clone, &["--json", "ready"]);
    assert_eq!(ids(&v.json()), vec![id], "{}", v.stderr());
    assert!(v.stderr().contains("from origin/tickets"), "{}", v.stderr());
}
