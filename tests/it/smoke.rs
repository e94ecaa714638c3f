//! The shortest path through wt: init, new, claim, done, with the git log it leaves.

use crate::common::*;

#[test]
fn new_claim_done_leaves_one_structured_commit_per_verb_touching_only_work() {
    let r = Repo::new();
    let id = r.new_ticket(&["job", "Add login form"]);
    assert!(id.starts_with("J-"), "{id}");
    r.wt(&["claim", &id, "--agent", "agent-2"]).ok();
    r.wt(&["done", &id, "--agent", "agent-2"]).ok();
    let subjects = r.subjects("main");
    assert_eq!(
        subjects[0],
        // `review: true` (the default) sends a finished job to an auditor.
        format!("wt: done {id} \"Add login form\" for review (agent-2)")
    );
    assert_eq!(
        subjects[1],
        format!("wt: claim {id} \"Add login form\" (agent-2)")
    );
    assert!(
        subjects[2].starts_with(&format!("wt: new job {id} \"Add login form\"")),
        "{}",
        subjects[2]
    );
    assert_eq!(subjects[3], "wt: init ticket state on branch main");
    for rev in ["HEAD", "HEAD~1", "HEAD~2", "HEAD~3"] {
        let files = r.git(&["show", "--name-only", "--format=", rev]).ok();
        assert!(!files.trim().is_empty());
        for f in files.lines() {
            assert!(f.starts_with(".work/"), "{rev} touched {f}");
        }
    }
    assert_eq!(r.git(&["status", "--porcelain"]).ok(), "");
}
