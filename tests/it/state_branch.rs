//! Finding the state branch from anywhere: a side branch, and a fresh clone.

use crate::common::*;

#[test]
fn state_kept_on_a_side_branch_is_found_in_a_fresh_clone_once_the_branch_exists_locally() {
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
    let miss = r.wt_in(&clone, &["ready"]);
    miss.fails_with(7);
    assert!(
        miss.stderr().contains("origin/tickets"),
        "{}",
        miss.stderr()
    );
    assert!(
        miss.stderr().contains("git branch tickets origin/tickets"),
        "{}",
        miss.stderr()
    );

    r.git_in(&clone, &["branch", "-q", "tickets", "origin/tickets"])
        .ok();
    let v = r.wt_in(&clone, &["--json", "ready"]);
    assert_eq!(ids(&v.json()), vec![id]);
}
