//! What `wt ready` lists and in which order: priority, then the longest chain of work
//! waiting on a ticket, then age, then ID; dependency closure over containers; ancestors;
//! fail closed on unknown dependencies; plans that wait on themselves through the hierarchy
//! (a task on its own job, a phase-spec on its own job, crossed phases) are refused by
//! `dep add`/`new`/`import`, and when written by hand reported by `check` and never ready.

//!
//! The logic is tested through `wt::app` in this process (see `common`'s in-process helpers);
//! what the binary prints is pinned by `text_output` and `verbs`.

use wt::app::claim::{ClaimOptions, Wanted};
use wt::app::done::DoneOptions;
use wt::model::ticket::Kind;

use crate::common::*;
use crate::fixtures::*;

/// IDs `wt ready` lists (the config's default kind).
#[track_caller]
fn ready(r: &Repo) -> Vec<String> {
    ids(&r.ready_doc(None))
}

/// IDs `wt ready --kind K` lists (None: any).
#[track_caller]
fn ready_of(r: &Repo, kind: Option<Kind>) -> Vec<String> {
    ids(&r.ready_doc(Some(kind)))
}

/// `wt claim ID --agent a [--force]`, in process.
fn claim(r: &Repo, id: &str, force: bool) -> wt::Result<()> {
    let opts = ClaimOptions {
        force,
        ..Default::default()
    };
    r.app(|ws| wt::app::configured::claim(ws, Wanted::Id(id), "a", &opts, false))
        .map(drop)
}

/// `wt dep add|rm ID DEP`, in process.
fn dep(r: &Repo, add: bool, id: &str, on: &str) -> wt::Result<()> {
    r.app(|ws| match add {
        true => wt::app::dep::add(ws, id, on, None),
        false => wt::app::dep::rm(ws, id, on, None),
    })
    .map(drop)
}

/// `wt dep add ID DEP`, in process, refused with exit 2; what the binary would print.
#[track_caller]
fn refused_dep(r: &Repo, id: &str, on: &str) -> String {
    let (code, text) = failure(&dep(r, true, id, on).unwrap_err());
    assert_eq!(code, 2, "{text}");
    text
}

/// `wt check`, in process.
#[track_caller]
fn check(r: &Repo) -> wt::app::check::CheckReport {
    r.app_ok(wt::app::check::check_tip)
}

const T0: &str = "2026-01-01T00:00:00Z";
const T1: &str = "2026-01-02T00:00:00Z";
const T2: &str = "2026-01-03T00:00:00Z";
const T3: &str = "2026-01-04T00:00:00Z";

#[test]
fn ready_orders_by_priority_then_longest_waiting_chain_then_age_then_id() {
    let r = Repo::new();
    // Priority beats everything: the newest ticket, nothing waiting on it, but P1.
    let urgent = r.new_in_at(T3, &["job", "Urgent", "-p", "1"]);
    // P2 with a chain of two waiting on it (chain <- c1 <- c2).
    let chain = r.new_in_at(T2, &["job", "Chain head", "-p", "2"]);
    let c1 = r.new_in_at(T2, &["job", "Chain 1", "--dep", &chain]);
    let _c2 = r.new_in_at(T2, &["job", "Chain 2", "--dep", &c1]);
    // P2, one waiting on it, and the oldest of all: loses to the longer chain.
    let short = r.new_in_at(T0, &["job", "Short chain", "-p", "2"]);
    let _s1 = r.new_in_at(T0, &["job", "Short 1", "--dep", &short]);
    // P2, nothing waiting: ordered by age, then by ID.
    let older = r.new_in_at(T1, &["job", "Older"]);
    let same_a = r.new_in_at(T2, &["job", "Same age A"]);
    let same_b = r.new_in_at(T2, &["job", "Same age B"]);
    // Lowest priority last, though it has the longest chain of all.
    let lazy = r.new_in_at(T0, &["job", "Lazy", "-p", "4"]);
    let l1 = r.new_in_at(T0, &["job", "Lazy 1", "--dep", &lazy]);
    let l2 = r.new_in_at(T0, &["job", "Lazy 2", "--dep", &l1]);
    let _l3 = r.new_in_at(T0, &["job", "Lazy 3", "--dep", &l2]);

    let (first_same, second_same) = if same_a < same_b {
        (same_a, same_b)
    } else {
        (same_b, same_a)
    };
    let expected = vec![urgent, chain, short, older, first_same, second_same, lazy];
    assert_eq!(ready(&r), expected);
    // The binary's text lists them in the same order.
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
    let v = r.claim_next_in(None, "a").unwrap();
    assert_eq!(v["id"], expected[0].as_str());
    let v = r.claim_next_in(None, "a").unwrap();
    assert_eq!(v["id"], expected[1].as_str());
}

#[test]
fn work_waiting_on_a_tasks_parent_counts_toward_the_tasks_chain() {
    let r = Repo::new();
    // Two jobs; three jobs wait on job A, none on job B. Their tasks are ordered by that,
    // although B's task is older.
    let ja = r.new_in_at(T1, &["job", "A"]);
    let jb = r.new_in_at(T0, &["job", "B"]);
    let w1 = r.new_in_at(T1, &["job", "W1", "--dep", &ja]);
    r.new_in_at(T1, &["job", "W2", "--dep", &w1]);
    let tb = r.new_in_at(T0, &["task", "task of B", "--parent", &jb]);
    let ta = r.new_in_at(T1, &["task", "task of A", "--parent", &ja]);
    assert_eq!(ready_of(&r, Some(Kind::Task)), vec![ta, tb]);
}

#[test]
fn a_dependency_on_a_job_waits_for_its_tasks_and_the_last_task_closes_the_job() {
    let r = Repo::without_review();
    let job = r.new_in(&["job", "Container"]);
    let task = r.new_in(&["task", "Part", "--parent", &job]);
    let waiter = r.new_in(&["job", "Waiter", "--dep", &job]);
    // The job cannot be finished while its task is open, not even by force.
    claim(&r, &job, true).unwrap();
    let forced = DoneOptions {
        force_reason: Some("r".into()),
        ..Default::default()
    };
    let refused = r.app_err(5, |ws| {
        wt::app::done::done_as_configured(ws, &job, "a", &forced)
    });
    assert!(
        refused.contains(&format!(
            "{job} cannot be done: 1 ticket under it is not done"
        )),
        "{refused}"
    );
    assert!(refused.contains(&task), "{refused}");
    assert_eq!(r.show_doc(&job)["status"], "in_progress");
    assert!(!ready(&r).contains(&waiter));
    let v = r.show_doc(&waiter);
    let why = v["blocked_by"][0].as_str().expect("reason");
    assert!(
        why.contains(&format!("waits on {job} (in_progress)")),
        "{why}"
    );
    // Its holder gives it back; finishing the task then closes the job in the same commit,
    // and the waiter becomes ready.
    r.release_in(&job, "a").unwrap();
    claim(&r, &task, false).unwrap();
    let done = r.done_in(&task, "a").unwrap();
    assert_eq!(done["closed"][0]["id"], job.as_str());
    assert_eq!(done["closed"][0]["reason"], "its only task done");
    assert_eq!(r.show_doc(&job)["status"], "done");
    assert_eq!(
        r.subjects("main")[0],
        format!("wt: done {task} \"Part\", closing {job} (a)")
    );
    assert_eq!(ready(&r), vec![waiter.clone()]);
    assert_eq!(r.show_doc(&waiter)["ready"], true);
}

#[test]
fn a_dependency_on_a_phase_spec_needs_every_job_and_task_under_it_done() {
    let r = Repo::without_review();
    let p1 = r.new_in(&["phase-spec", "Phase 1"]);
    let j1 = r.new_in(&["job", "J1", "--parent", &p1]);
    let t1 = r.new_in(&["task", "T1", "--parent", &j1]);
    let p2 = r.new_in(&["phase-spec", "Phase 2", "--dep", &p1]);
    let j2 = r.new_in(&["job", "J2", "--parent", &p2]);
    let t2 = r.new_in(&["task", "T2", "--parent", &j2]);
    let any = |r: &Repo| {
        ready_of(r, None)
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>()
    };
    let set = |xs: &[&String]| xs.iter().map(|s| s.to_string()).collect();
    assert_eq!(any(&r), set(&[&p1, &j1, &t1]));
    // Neither the phase nor the job can be done while the task is open.
    for id in [&p1, &j1] {
        claim(&r, id, false).unwrap();
        assert_eq!(failure(&r.done_in(id, "a").unwrap_err()).0, 5);
        r.release_in(id, "a").unwrap();
    }
    let v = r.show_doc(&j2);
    let why = v["blocked_by"][0].as_str().expect("reason");
    assert!(
        why.contains(&format!("ancestor {p2} waits on {p1}")),
        "{why}"
    );
    // The last task closes its job, which closes its phase: the next phase is ready.
    claim(&r, &t1, false).unwrap();
    r.done_in(&t1, "a").unwrap();
    assert_eq!(r.show_doc(&j1)["status"], "done");
    assert_eq!(r.show_doc(&p1)["status"], "done");
    assert_eq!(any(&r), set(&[&p2, &j2, &t2]));
}

#[test]
fn a_job_under_a_phase_spec_that_waits_on_an_unfinished_phase_spec_is_not_ready() {
    let r = Repo::new();
    let p1 = r.new_in(&["phase-spec", "Foundations"]);
    let p2 = r.new_in(&["phase-spec", "Features", "--dep", &p1]);
    let job = r.new_in(&["job", "Feature job", "--parent", &p2]);
    let task = r.new_in(&["task", "Feature task", "--parent", &job]);
    assert!(ready(&r).is_empty());
    assert!(ready_of(&r, Some(Kind::Task)).is_empty());
    assert_eq!(failure(&claim(&r, &job, false).unwrap_err()).0, 5);
    assert_eq!(failure(&r.claim_next_in(None, "a").unwrap_err()).0, 3);
    let v = r.blocked_doc(None);
    let row = tickets(&v)
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
    claim(&r, &p1, false).unwrap();
    r.done_in(&p1, "a").unwrap();
    assert_eq!(ready(&r), vec![job]);
    assert_eq!(ready_of(&r, Some(Kind::Task)), vec![task]);
}

#[test]
fn an_unknown_dependency_blocks_fail_closed() {
    let r = Repo::new();
    let ok = r.new_in(&["job", "Fine"]);
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
    assert_eq!(ready(&r), vec![ok]);
    let v = r.show_doc("J-dangling1");
    assert_eq!(v["ready"], false);
    assert!(v["blocked_by"][0]
        .as_str()
        .expect("r")
        .contains("unknown ticket J-gone0000"));
    let b = r.blocked_doc(None);
    assert_eq!(
        tickets(&b)[0]["blocked_by"][0]["reason"],
        "unknown_dependency"
    );
    assert_eq!(tickets(&b)[0]["blocked_by"][0]["id"], "J-gone0000");
    assert_eq!(failure(&claim(&r, "J-dangling1", false).unwrap_err()).0, 5);
    // Removing the dangling edge unblocks it.
    dep(&r, false, "J-dangling1", "J-gone0000").unwrap();
    assert!(ready(&r).contains(&"J-dangling1".to_string()));
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
    assert!(ready_of(&r, None).is_empty());
    let v = r.show_doc("J-orphan001");
    assert!(v["blocked_by"][0]
        .as_str()
        .expect("r")
        .contains("parent P-gone0000 does not exist"));
    let v = r.show_doc("T-orphkid1");
    assert!(v["blocked_by"][0]
        .as_str()
        .expect("r")
        .contains("ancestor J-orphan001 parent P-gone0000 does not exist"));
}

#[test]
fn claimed_in_progress_review_done_and_escalated_tickets_are_never_ready() {
    let r = Repo::new();
    let open = r.new_in(&["job", "Open"]);
    let claimed = r.new_in(&["job", "Claimed"]);
    claim(&r, &claimed, false).unwrap();
    let map = r.import_in(
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
    assert_eq!(ready(&r), vec![open]);
    let v = r.show_doc("J-half0000");
    assert_eq!(v["ready"], false);
}

#[test]
fn finishing_a_dependency_makes_its_dependents_ready_in_order() {
    let r = Repo::without_review();
    let base = r.new_in(&["job", "Base"]);
    let a = r.new_in_at(T1, &["job", "A", "--dep", &base, "-p", "3"]);
    let b = r.new_in_at(T0, &["job", "B", "--dep", &base, "-p", "1"]);
    assert_eq!(ready(&r), vec![base.clone()]);
    claim(&r, &base, false).unwrap();
    assert!(ready(&r).is_empty());
    r.done_in(&base, "a").unwrap();
    assert_eq!(ready(&r), vec![b, a]);
}

/// Point `id`'s depends_on at `deps` by editing its file by hand and committing it with git
/// (not wt); returns the file's path and the line of depends_on.
fn hand_write_deps(r: &Repo, id: &str, deps: &[&str]) -> (String, usize) {
    let path = r.ticket_path_in(id);
    let text = r.read(&path);
    let line = text
        .lines()
        .position(|l| l.starts_with("depends_on:"))
        .expect("depends_on line");
    let edited: Vec<String> = text
        .split_inclusive('\n')
        .enumerate()
        .map(|(k, l)| {
            if k == line {
                format!("depends_on: [{}]\n", deps.join(", "))
            } else {
                l.to_string()
            }
        })
        .collect();
    git_commit_file(r, &path, &edited.concat(), "hand-written dependency");
    (path, line + 1)
}

/// `wt check` fails with exactly one cycle problem, at `path:line`, naming one of `cycles`.
#[track_caller]
fn check_reports_one_cycle(r: &Repo, path: &str, line: usize, cycles: &[String]) {
    let report = check(r);
    // The lines `wt check` prints: each problem, then each warning.
    let out: Vec<String> = report
        .problems
        .iter()
        .chain(&report.warnings)
        .map(ToString::to_string)
        .collect();
    let lines: Vec<&String> = out.iter().filter(|l| l.contains("cycle")).collect();
    assert_eq!(lines.len(), 1, "one problem per cycle:\n{out:?}");
    assert!(
        lines[0].starts_with(&format!("{path}:{line}: dependency cycle: "))
            && cycles.iter().any(|c| lines[0].contains(c.as_str())),
        "{out:?}"
    );
    // Not ok: the binary exits 1.
    let v = doc(&report);
    assert_eq!(v["ok"], serde_json::json!(false), "{v}");
    let problems = v["problems"].as_array().expect("problems");
    assert_eq!(problems.len(), 1, "{v}");
    assert_eq!(problems[0]["path"], path);
    assert_eq!(problems[0]["line"], line);
}

/// `id` is not ready and is blocked by a cycle (its own, not an ancestor's) in `wt show` and
/// `wt blocked`; returns the cycle `wt blocked --json` names.
#[track_caller]
fn blocked_by_own_cycle(r: &Repo, id: &str) -> Vec<String> {
    let v = r.show_doc(id);
    assert_eq!(v["ready"], false, "{v}");
    let why = v["blocked_by"][0].as_str().expect("reason");
    assert!(
        why.starts_with(&format!("dependency cycle {id} -> ")),
        "{why}"
    );
    let b = r.blocked_doc(None);
    let row = tickets(&b)
        .iter()
        .find(|x| x["id"] == id)
        .unwrap_or_else(|| panic!("{id} not in wt blocked: {b}"))
        .clone();
    assert_eq!(row["blocked_by"][0]["reason"], "cycle", "{row}");
    let cycle: Vec<String> = row["blocked_by"][0]["cycle"]
        .as_array()
        .expect("cycle")
        .iter()
        .map(|x| x.as_str().expect("id").to_string())
        .collect();
    assert_eq!(cycle.first().map(String::as_str), Some(id));
    assert_eq!(cycle.first(), cycle.last());
    // The reasons `wt blocked` prints under the ticket.
    assert!(
        row["reasons"]
            .as_array()
            .expect("reasons")
            .iter()
            .any(|w| w == &format!("dependency cycle {}", cycle.join(" -> "))),
        "{row}"
    );
    cycle
}

#[test]
fn a_task_that_depends_on_its_own_job_is_refused_and_when_hand_written_never_ready() {
    // The job is complete only when the task is done, and the task would wait on the job:
    // neither could ever happen.
    let r = Repo::new();
    let job = r.new_in(&["job", "Job"]);
    let task = r.new_in(&["task", "Task", "--parent", &job]);
    let head = rev(&r, "HEAD");
    let e = dep(&r, true, &task, &job).unwrap_err();
    let (code, text) = failure(&e);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains(&format!("cycle: {task} -> {job} -> {task}")),
        "{text}"
    );
    assert!(
        e.message.contains(&format!("{task} -> {job} -> {task}")),
        "{text}"
    );
    // Nor can a new task be created that way.
    let text = r.new_in_err(2, &["task", "Another", "--parent", &job, "--dep", &job]);
    assert!(text.contains("cycle"), "{text}");
    assert_eq!(rev(&r, "HEAD"), head, "nothing committed");
    assert_eq!(r.show_doc(&task)["depends_on"], serde_json::json!([]));

    // Written by hand and committed with git: check reports it, the task is never ready.
    let (path, line) = hand_write_deps(&r, &task, &[&job]);
    check_reports_one_cycle(&r, &path, line, &[format!("{task} -> {job} -> {task}")]);
    assert!(ready_of(&r, Some(Kind::Task)).is_empty());
    assert_eq!(
        blocked_by_own_cycle(&r, &task),
        [&task, &job, &task].map(String::clone)
    );
    assert_eq!(failure(&claim(&r, &task, false).unwrap_err()).0, 5);
    // The job itself can be claimed, but not finished while its task is open; the task
    // still can't start.
    assert_eq!(ready(&r), vec![job.clone()]);
    claim(&r, &job, false).unwrap();
    assert_eq!(failure(&r.done_in(&job, "a").unwrap_err()).0, 5);
    assert!(ready_of(&r, Some(Kind::Task)).is_empty());
    blocked_by_own_cycle(&r, &task);
    // Removing the edge fixes it.
    dep(&r, false, &task, &job).unwrap();
    assert!(check(&r).ok);
    assert_eq!(ready_of(&r, Some(Kind::Task)), vec![task]);
}

#[test]
fn a_phase_spec_that_depends_on_its_own_job_is_refused_and_when_hand_written_blocks_its_plan() {
    // The job cannot start before its phase may start, and the phase would wait for the job.
    let r = Repo::new();
    let phase = r.new_in(&["phase-spec", "Phase"]);
    let job = r.new_in(&["job", "Job", "--parent", &phase]);
    let task = r.new_in(&["task", "Task", "--parent", &job]);
    let head = rev(&r, "HEAD");
    let text = refused_dep(&r, &phase, &job);
    assert!(
        text.contains(&format!("cycle: {phase} -> {job} -> {phase}")),
        "{text}"
    );
    // ... or on a task further down, and a job on its own phase.
    let text = refused_dep(&r, &phase, &task);
    assert!(
        text.contains(&format!("cycle: {phase} -> {task} -> {job} -> {phase}")),
        "{text}"
    );
    assert_eq!(failure(&dep(&r, true, &job, &phase).unwrap_err()).0, 2);
    r.new_in_err(2, &["job", "J2", "--parent", &phase, "--dep", &phase]);
    assert_eq!(rev(&r, "HEAD"), head, "nothing committed");

    let (path, line) = hand_write_deps(&r, &phase, &[&job]);
    check_reports_one_cycle(&r, &path, line, &[format!("{phase} -> {job} -> {phase}")]);
    assert!(ready_of(&r, None).is_empty());
    assert_eq!(
        blocked_by_own_cycle(&r, &phase),
        [&phase, &job, &phase].map(String::clone)
    );
    assert_eq!(
        blocked_by_own_cycle(&r, &job),
        [&job, &phase, &job].map(String::clone)
    );
    // The task is on the loop too: it cannot start before the phase may, and the phase
    // waits for the job, which needs the task done.
    assert_eq!(
        blocked_by_own_cycle(&r, &task),
        [&task, &job, &phase, &job, &task].map(String::clone)
    );
    assert_eq!(failure(&r.claim_next_in(None, "a").unwrap_err()).0, 3);
    dep(&r, false, &phase, &job).unwrap();
    assert!(check(&r).ok);
    assert_eq!(
        ready_of(&r, None)
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>(),
        [phase, job, task].into_iter().collect()
    );
}

#[test]
fn crossed_phases_are_refused_and_when_hand_written_reported_as_one_cycle() {
    // P-a waits on J-b (under P-b) while P-b waits on J-a (under P-a): J-a cannot start
    // before P-a may, which needs J-b done, which cannot start before P-b may, which needs
    // J-a done.
    let r = Repo::new();
    let pa = r.new_in(&["phase-spec", "Phase A"]);
    let ja = r.new_in(&["job", "Job A", "--parent", &pa]);
    let ta = r.new_in(&["task", "Task A", "--parent", &ja]);
    let pb = r.new_in(&["phase-spec", "Phase B", "--dep", &ja]);
    let jb = r.new_in(&["job", "Job B", "--parent", &pb]);
    let head = rev(&r, "HEAD");
    let text = refused_dep(&r, &pa, &jb);
    assert!(
        text.contains(&format!("cycle: {pa} -> {jb} -> {pb} -> {ja} -> {pa}")),
        "{text}"
    );
    // Job A waiting on job B closes the same loop; so does a task of A.
    assert_eq!(failure(&dep(&r, true, &ja, &jb).unwrap_err()).0, 2);
    assert_eq!(failure(&dep(&r, true, &ta, &pb).unwrap_err()).0, 2);
    assert_eq!(rev(&r, "HEAD"), head, "nothing committed");
    // Job B waiting on job A is what the plan says already: accepted.
    dep(&r, true, &jb, &ja).unwrap();
    assert!(check(&r).ok);
    dep(&r, false, &jb, &ja).unwrap();

    // An import that crosses two phases is refused as a whole.
    let head = rev(&r, "HEAD");
    let plan = r#"[{"key": "pa", "kind": "phase-spec", "title": "PA", "depends_on": ["jb"]},
            {"key": "ja", "kind": "job", "title": "JA", "parent": "pa"},
            {"key": "pb", "kind": "phase-spec", "title": "PB", "depends_on": ["ja"]},
            {"key": "jb", "kind": "job", "title": "JB", "parent": "pb"}]"#;
    let text = r.app_err(2, |ws| {
        let items = wt::app::import::parse_items(plan, "crossed.json")?;
        wt::app::import::import(ws, &items, "crossed.json", "crossed.json", None)
    });
    assert!(text.contains("cycle"), "{text}");
    assert_eq!(rev(&r, "HEAD"), head, "nothing committed");

    // Written by hand: one problem for the whole loop, and nothing in it is ready.
    let (path, line) = hand_write_deps(&r, &pa, &[&jb]);
    let from_a = format!("{pa} -> {jb} -> {pb} -> {ja} -> {pa}");
    let from_b = format!("{pb} -> {ja} -> {pa} -> {jb} -> {pb}");
    let found = check(&r)
        .problems
        .iter()
        .any(|p| p.to_string().contains(&from_a));
    let (path, line) = if found {
        (path, line)
    } else {
        let p = r.ticket_path_in(&pb);
        let l = r
            .read(&p)
            .lines()
            .position(|l| l.starts_with("depends_on:"))
            .expect("line");
        (p, l + 1)
    };
    check_reports_one_cycle(&r, &path, line, &[from_a, from_b]);
    assert!(ready_of(&r, None).is_empty());
    // Every ticket of both phases waits on itself, task A included.
    for id in [&pa, &ja, &pb, &jb, &ta] {
        let cycle = blocked_by_own_cycle(&r, id);
        for x in [&pa, &ja, &pb, &jb] {
            assert!(cycle.contains(x), "{cycle:?}");
        }
    }
    // Breaking either edge releases phase A's work.
    dep(&r, false, &pa, &jb).unwrap();
    assert!(check(&r).ok);
    assert_eq!(
        ready_of(&r, None)
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>(),
        [pa, ja, ta].into_iter().collect()
    );
}
