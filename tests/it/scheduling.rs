//! What `wt ready` lists and in which order: priority, then the longest chain of work
//! waiting on a ticket, then age, then ID; dependency closure over containers; ancestors;
//! fail closed on unknown dependencies.

use crate::common::*;
use crate::fixtures::*;

const T0: &str = "2026-01-01T00:00:00Z";
const T1: &str = "2026-01-02T00:00:00Z";
const T2: &str = "2026-01-03T00:00:00Z";
const T3: &str = "2026-01-04T00:00:00Z";

#[test]
fn ready_orders_by_priority_then_longest_waiting_chain_then_age_then_id() {
    let r = Repo::new();
    // Priority beats everything: the newest ticket, nothing waiting on it, but P1.
    let urgent = new_at(&r, T3, &["job", "Urgent", "-p", "1"]);
    // P2 with a chain of two waiting on it (chain <- c1 <- c2).
    let chain = new_at(&r, T2, &["job", "Chain head", "-p", "2"]);
    let c1 = new_at(&r, T2, &["job", "Chain 1", "--dep", &chain]);
    let _c2 = new_at(&r, T2, &["job", "Chain 2", "--dep", &c1]);
    // P2, one waiting on it, and the oldest of all: loses to the longer chain.
    let short = new_at(&r, T0, &["job", "Short chain", "-p", "2"]);
    let _s1 = new_at(&r, T0, &["job", "Short 1", "--dep", &short]);
    // P2, nothing waiting: ordered by age, then by ID.
    let older = new_at(&r, T1, &["job", "Older"]);
    let same_a = new_at(&r, T2, &["job", "Same age A"]);
    let same_b = new_at(&r, T2, &["job", "Same age B"]);
    // Lowest priority last, though it has the longest chain of all.
    let lazy = new_at(&r, T0, &["job", "Lazy", "-p", "4"]);
    let l1 = new_at(&r, T0, &["job", "Lazy 1", "--dep", &lazy]);
    let l2 = new_at(&r, T0, &["job", "Lazy 2", "--dep", &l1]);
    let _l3 = new_at(&r, T0, &["job", "Lazy 3", "--dep", &l2]);

    let (first_same, second_same) = if same_a < same_b {
        (same_a, same_b)
    } else {
        (same_b, same_a)
    };
    let expected = vec![urgent, chain, short, older, first_same, second_same, lazy];
    assert_eq!(ids(&r.wt_json(&["ready"])), expected);
    // Text output lists them in the same order.
    let text = r.wt(&["ready"]).ok();
    let order: Vec<&str> = text
        .lines()
        .map(|l| l.split_whitespace().next().expect("id"))
        .collect();
    assert_eq!(
        order,
        expected.iter().map(String::as_str).collect::<Vec<_>>()
    );
    // claim --next follows the same order.
    let v = r.wt_json(&["claim", "--next", "--agent", "a"]);
    assert_eq!(v["id"], expected[0].as_str());
    let v = r.wt_json(&["claim", "--next", "--agent", "a"]);
    assert_eq!(v["id"], expected[1].as_str());
}

#[test]
fn work_waiting_on_a_tasks_parent_counts_toward_the_tasks_chain() {
    let r = Repo::new();
    // Two jobs; three jobs wait on job A, none on job B. Their tasks are ordered by that,
    // although B's task is older.
    let ja = new_at(&r, T1, &["job", "A"]);
    let jb = new_at(&r, T0, &["job", "B"]);
    let w1 = new_at(&r, T1, &["job", "W1", "--dep", &ja]);
    new_at(&r, T1, &["job", "W2", "--dep", &w1]);
    let tb = new_at(&r, T0, &["task", "task of B", "--parent", &jb]);
    let ta = new_at(&r, T1, &["task", "task of A", "--parent", &ja]);
    assert_eq!(ids(&r.wt_json(&["ready", "--kind", "task"])), vec![ta, tb]);
}

#[test]
fn a_dependency_on_a_job_counts_only_when_the_job_and_all_its_tasks_are_done() {
    let r = Repo::new();
    let job = r.new_ticket(&["job", "Container"]);
    let task = r.new_ticket(&["task", "Part", "--parent", &job]);
    let waiter = r.new_ticket(&["job", "Waiter", "--dep", &job]);
    // Finish the job while its task is still open.
    r.wt(&["claim", &job, "--agent", "a", "--force"]).ok();
    r.wt(&["done", &job, "--agent", "a"]).ok();
    assert_eq!(r.wt_json(&["show", &job])["status"], "done");
    assert!(!ids(&r.wt_json(&["ready"])).contains(&waiter));
    let v = r.wt_json(&["show", &waiter]);
    assert_eq!(v["ready"], false);
    let why = v["blocked_by"][0].as_str().expect("reason");
    assert!(
        why.contains(&job) && why.contains("1 ticket(s) under it are not"),
        "{why}"
    );
    let blocked = r.wt(&["blocked"]).ok();
    assert!(blocked.contains(&waiter), "{blocked}");
    // Finishing the task completes the job, and the waiter becomes ready.
    r.wt(&["claim", &task, "--agent", "a"]).ok();
    r.wt(&["done", &task, "--agent", "a"]).ok();
    assert_eq!(ids(&r.wt_json(&["ready"])), vec![waiter.clone()]);
    assert_eq!(r.wt_json(&["show", &waiter])["ready"], true);
}

#[test]
fn a_dependency_on_a_phase_spec_needs_every_job_and_task_under_it_done() {
    let r = Repo::new();
    let p1 = r.new_ticket(&["phase-spec", "Phase 1"]);
    let j1 = r.new_ticket(&["job", "J1", "--parent", &p1]);
    let t1 = r.new_ticket(&["task", "T1", "--parent", &j1]);
    let p2 = r.new_ticket(&["phase-spec", "Phase 2", "--dep", &p1]);
    let j2 = r.new_ticket(&["job", "J2", "--parent", &p2]);
    let t2 = r.new_ticket(&["task", "T2", "--parent", &j2]);
    let any = |r: &Repo| id_set(&r.wt_json(&["ready", "--kind", "any"]));
    let set = |xs: &[&String]| xs.iter().map(|s| s.to_string()).collect();
    assert_eq!(any(&r), set(&[&p1, &j1, &t1]));
    // Mark the phase and the job done while the task is open: still not complete.
    for id in [&p1, &j1] {
        r.wt(&["claim", id, "--agent", "a", "--force"]).ok();
        r.wt(&["done", id, "--agent", "a"]).ok();
    }
    assert_eq!(any(&r), set(&[&t1]));
    let v = r.wt_json(&["show", &j2]);
    let why = v["blocked_by"][0].as_str().expect("reason");
    assert!(
        why.contains(&format!("ancestor {p2} waits on {p1}")),
        "{why}"
    );
    r.wt(&["claim", &t1, "--agent", "a"]).ok();
    r.wt(&["done", &t1, "--agent", "a"]).ok();
    assert_eq!(any(&r), set(&[&p2, &j2, &t2]));
}

#[test]
fn a_job_under_a_phase_spec_that_waits_on_an_unfinished_phase_spec_is_not_ready() {
    let r = Repo::new();
    let p1 = r.new_ticket(&["phase-spec", "Foundations"]);
    let p2 = r.new_ticket(&["phase-spec", "Features", "--dep", &p1]);
    let job = r.new_ticket(&["job", "Feature job", "--parent", &p2]);
    let task = r.new_ticket(&["task", "Feature task", "--parent", &job]);
    assert!(ids(&r.wt_json(&["ready"])).is_empty());
    assert!(ids(&r.wt_json(&["ready", "--kind", "task"])).is_empty());
    r.wt(&["claim", &job, "--agent", "a"]).fails_with(5);
    r.wt(&["claim", "--next", "--agent", "a"]).fails_with(3);
    let v = r.wt_json(&["blocked"]);
    let row = v
        .as_array()
        .expect("a")
        .iter()
        .find(|x| x["id"] == task.as_str())
        .expect("task is blocked")
        .clone();
    // The task's reason goes through both ancestors' chain: its grandparent waits on p1.
    assert!(
        row["reasons"][0]
            .as_str()
            .expect("r")
            .contains(&format!("ancestor {p2} waits on {p1}")),
        "{row}"
    );
    // Finishing p1 (it has no children) releases the whole subtree.
    r.wt(&["claim", &p1, "--agent", "a"]).ok();
    r.wt(&["done", &p1, "--agent", "a"]).ok();
    assert_eq!(ids(&r.wt_json(&["ready"])), vec![job]);
    assert_eq!(ids(&r.wt_json(&["ready", "--kind", "task"])), vec![task]);
}

#[test]
fn an_unknown_dependency_blocks_fail_closed() {
    let r = Repo::new();
    let ok = r.new_ticket(&["job", "Fine"]);
    let path = ".work/J-dangling1-dangling.md";
    git_commit_file(
        &r,
        path,
        &ticket_text(
            "J-dangling1",
            "job",
            "Dangling",
            &[("status", "open"), ("depends_on", "[J-gone0000]")],
        ),
        "hand-written ticket with a dangling dependency",
    );
    assert_eq!(ids(&r.wt_json(&["ready"])), vec![ok]);
    let v = r.wt_json(&["show", "J-dangling1"]);
    assert_eq!(v["ready"], false);
    assert!(v["blocked_by"][0]
        .as_str()
        .expect("r")
        .contains("unknown ticket J-gone0000"));
    let b = r.wt_json(&["blocked"]);
    assert_eq!(b[0]["blocked_by"][0]["reason"], "unknown_dependency");
    assert_eq!(b[0]["blocked_by"][0]["id"], "J-gone0000");
    r.wt(&["claim", "J-dangling1", "--agent", "a"])
        .fails_with(5);
    // Removing the dangling edge unblocks it.
    r.wt(&["dep", "rm", "J-dangling1", "J-gone0000"]).ok();
    assert!(ids(&r.wt_json(&["ready"])).contains(&"J-dangling1".to_string()));
}

#[test]
fn an_unknown_parent_blocks_the_ticket_and_its_children() {
    let r = Repo::new();
    git_commit_file(
        &r,
        ".work/J-orphan001-orphan.md",
        &ticket_text("J-orphan001", "job", "Orphan", &[("parent", "P-gone0000")]),
        "orphan",
    );
    git_commit_file(
        &r,
        ".work/J-orphan001-orphan/T-orphkid1-kid.md",
        &ticket_text("T-orphkid1", "task", "Kid", &[("parent", "J-orphan001")]),
        "orphan's task",
    );
    assert!(ids(&r.wt_json(&["ready", "--kind", "any"])).is_empty());
    let v = r.wt_json(&["show", "J-orphan001"]);
    assert!(v["blocked_by"][0]
        .as_str()
        .expect("r")
        .contains("parent P-gone0000 does not exist"));
    let v = r.wt_json(&["show", "T-orphkid1"]);
    assert!(v["blocked_by"][0]
        .as_str()
        .expect("r")
        .contains("ancestor J-orphan001 parent P-gone0000 does not exist"));
}

#[test]
fn claimed_in_progress_review_done_and_escalated_tickets_are_never_ready() {
    let r = Repo::new();
    let open = r.new_ticket(&["job", "Open"]);
    let claimed = r.new_ticket(&["job", "Claimed"]);
    r.wt(&["claim", &claimed, "--agent", "a"]).ok();
    let map = r.import(
        r#"[{"key": "r", "kind": "job", "title": "In review", "status": "review"},
            {"key": "d", "kind": "job", "title": "Done", "status": "done"},
            {"key": "e", "kind": "job", "title": "Escalated", "status": "escalated"}]"#,
    );
    assert_eq!(map.len(), 3);
    // A ticket whose status says open but which names a holder is not ready either.
    git_commit_file(
        &r,
        ".work/J-half0000-half.md",
        &ticket_text(
            "J-half0000",
            "job",
            "Half claimed",
            &[("status", "open"), ("claimed_by", "someone")],
        ),
        "inconsistent ticket",
    );
    assert_eq!(ids(&r.wt_json(&["ready"])), vec![open]);
    let v = r.wt_json(&["show", "J-half0000"]);
    assert_eq!(v["ready"], false);
}

#[test]
fn finishing_a_dependency_makes_its_dependents_ready_in_order() {
    let r = Repo::new();
    let base = r.new_ticket(&["job", "Base"]);
    let a = new_at(&r, T1, &["job", "A", "--dep", &base, "-p", "3"]);
    let b = new_at(&r, T0, &["job", "B", "--dep", &base, "-p", "1"]);
    assert_eq!(ids(&r.wt_json(&["ready"])), vec![base.clone()]);
    r.wt(&["claim", &base, "--agent", "a"]).ok();
    assert!(ids(&r.wt_json(&["ready"])).is_empty());
    r.wt(&["done", &base, "--agent", "a"]).ok();
    assert_eq!(ids(&r.wt_json(&["ready"])), vec![b, a]);
}

#[test]
fn a_task_that_depends_on_its_own_job_is_never_ready() {
    // The job is complete only when the task is done, and the task waits on the job: fail
    // closed, the task stays blocked and says on what.
    let r = Repo::new();
    let job = r.new_ticket(&["job", "Job"]);
    let task = r.new_ticket(&["task", "Task", "--parent", &job]);
    r.wt(&["dep", "add", &task, &job]).ok();
    assert!(ids(&r.wt_json(&["ready", "--kind", "task"])).is_empty());
    r.wt(&["claim", &job, "--agent", "a"]).ok();
    r.wt(&["done", &job, "--agent", "a"]).ok();
    assert!(ids(&r.wt_json(&["ready", "--kind", "task"])).is_empty());
    let v = r.wt_json(&["show", &task]);
    let why = v["blocked_by"][0].as_str().expect("reason");
    assert!(
        why.contains(&job) && why.contains("1 ticket(s) under it are not"),
        "{why}"
    );
}
