//! The rules of the loop one by one: containers refuse to finish before what is under them
//! and close themselves after it; `wt tick`; `done` judged on a commit; a single
//! `claim --next` keeping clear of held files; batch claims carrying their tokens.

//!
//! The rules are tested through `wt::app` in this process (see `common`'s in-process
//! helpers); where what the binary prints or its environment is the point (the text of a
//! closing `done`, `show` from a feature worktree, CI runs, the cache switches), the binary.

use serde_json::Value;
use wt::app::done::DoneOptions;
use wt::app::tick::Which;

use crate::common::*;
use crate::fixtures::*;

/// The exit code the binary would give for `res`'s error, and what it would print.
#[track_caller]
fn refused<T>(res: wt::Result<T>) -> (i32, String) {
    match res {
        Ok(_) => panic!("expected a refusal, got success"),
        Err(e) => failure(&e),
    }
}

/// The exit code the binary would give for `res`'s error.
#[track_caller]
fn code<T>(res: wt::Result<T>) -> i32 {
    refused(res).0
}

/// `wt pass ID --agent AGENT`, in process: its `--json` document.
fn pass(r: &Repo, id: &str, agent: &str) -> wt::Result<Value> {
    r.app(|ws| wt::app::review::pass(ws, id, agent, None, None))
        .map(|w| {
            doc(
                &wt::app::report::TicketChange::new(&w.value.ticket, w.commit)
                    .closing(&w.value.closed),
            )
        })
}

/// `wt done ID --agent a --force --reason r`, in process.
fn done_forced(r: &Repo, id: &str) -> wt::Result<Value> {
    let forced = DoneOptions {
        force_reason: Some("r".into()),
        ..Default::default()
    };
    r.app(|ws| wt::app::done::done_as_configured(ws, id, "a", &forced))
        .map(|d| doc(&d.report))
}

/// `wt tick ID N... | --all [--undo] --agent AGENT`, in process: its `--json` document.
fn tick(r: &Repo, id: &str, agent: &str, which: Which, undo: bool) -> wt::Result<Value> {
    r.app(|ws| wt::app::tick::tick(ws, id, agent, &which, undo, None))
        .map(|w| doc(&wt::app::tick::TickReport::new(&w)))
}

fn trailer(msg: &str, key: &str) -> Vec<String> {
    msg.lines()
        .filter_map(|l| l.strip_prefix(&format!("{key}: ")))
        .map(str::to_string)
        .collect()
}

/// Add `- [ ] item` lines under the Acceptance Criteria heading of `id`'s file and commit.
fn add_criteria(r: &Repo, id: &str, items: &[&str]) -> String {
    let path = r.ticket_path_in(id);
    let boxes: String = items.iter().map(|i| format!("- [ ] {i}\n")).collect();
    let text = r.read(&path).replacen(
        "## Acceptance Criteria\n",
        &format!("## Acceptance Criteria\n\n{boxes}"),
        1,
    );
    git_commit_file(r, &path, &text, "criteria");
    path
}

// ------------------------------------------------------------------------ containers

#[test]
fn done_and_pass_refuse_a_container_with_open_children_naming_them() {
    let r = Repo::new();
    let phase = r.new_in(&["phase-spec", "Phase"]);
    let job = r.new_in(&["job", "Job", "--parent", &phase]);
    let t1 = r.new_in(&["task", "First", "--parent", &job]);
    let t2 = r.new_in(&["task", "Second", "--parent", &job]);
    r.claim_in(&phase, "a").unwrap();
    let head = rev(&r, "HEAD");
    let (code5, err) = refused(r.done_in(&phase, "a"));
    assert_eq!(code5, 5, "{err}");
    assert!(
        err.contains(&format!(
            "{phase} cannot be done: 3 tickets under it are not done"
        )),
        "{err}"
    );
    for id in [&job, &t1, &t2] {
        assert!(err.contains(id.as_str()), "{id} not named: {err}");
    }
    assert!(err.contains(&format!("wt list --parent {phase}")), "{err}");
    // Not even by force.
    assert_eq!(code(done_forced(&r, &phase)), 5);
    assert_eq!(rev(&r, "HEAD"), head);

    // A job in review with an open task (written by hand): the audit cannot pass it.
    let path = r.ticket_path_in(&job);
    let text = r
        .read(&path)
        .replacen("status: open", "status: review", 1)
        .replacen("implemented_by: null", "implemented_by: impl", 1);
    git_commit_file(&r, &path, &text, "by hand");
    r.claim_in(&job, "aud").unwrap();
    let (code5, err) = refused(pass(&r, &job, "aud"));
    assert_eq!(code5, 5, "{err}");
    assert!(
        err.contains(&format!(
            "{job} cannot be passed: 2 tickets under it are not done"
        )),
        "{err}"
    );
    assert_eq!(r.show_doc(&job)["status"], "review");
}

#[test]
fn the_last_task_closes_its_job_and_the_job_its_phase_in_one_commit_saying_why() {
    let r = Repo::without_review();
    let phase = r.new_in(&["phase-spec", "Phase"]);
    let j1 = r.new_in(&["job", "Job one", "--parent", &phase]);
    let j2 = r.new_in(&["job", "Job two", "--parent", &phase]);
    let t1 = r.new_in(&["task", "T1", "--parent", &j2]);
    let t2 = r.new_in(&["task", "T2", "--parent", &j2]);
    r.claim_in(&j1, "a").unwrap();
    let first = r.done_in(&j1, "a").unwrap();
    assert_eq!(first["closed"], serde_json::json!([]), "job two is open");
    r.claim_in(&t1, "a").unwrap();
    r.done_in(&t1, "a").unwrap();
    assert_eq!(r.show_doc(&j2)["status"], "open");
    r.claim_in(&t2, "b").unwrap();
    let before = commit_count(&r, "main");
    // The binary: what it prints about the containers it closed is the point.
    let last = r.wt(&["done", &t2, "--agent", "b"]);
    let text = last.ok();
    assert_eq!(commit_count(&r, "main"), before + 1, "one commit");
    assert!(
        text.contains(&format!("closed {j2} Job two (all 2 tasks done)")),
        "{text}"
    );
    assert!(
        text.contains(&format!("closed {phase} Phase (all 2 jobs done)")),
        "{text}"
    );
    assert_eq!(
        r.subjects("main")[0],
        format!("wt: done {t2} \"T2\", closing {j2}, {phase} (b)")
    );
    let msg = message_of(&r, "main");
    assert_eq!(
        trailer(&msg, "Wt-Closed"),
        vec![
            format!("{j2} (all 2 tasks done)"),
            format!("{phase} (all 2 jobs done)")
        ],
        "{msg}"
    );
    assert!(
        msg.contains(&format!("{j2} \"Job two\" closed: all 2 tasks done.")),
        "{msg}"
    );
    let mut touched = files_of(&r, "main");
    touched.sort();
    let mut want = vec![
        r.ticket_path_in(&t2),
        r.ticket_path_in(&j2),
        r.ticket_path_in(&phase),
    ];
    want.sort();
    assert_eq!(touched, want);
    for id in [&j2, &phase] {
        let t = r.show_doc(id);
        assert_eq!(t["status"], "done");
        assert_eq!(t["claimed_by"], Value::Null);
        assert!(
            t["body"]
                .as_str()
                .expect("body")
                .contains("b: closed: all 2"),
            "{t}"
        );
    }
    let json = doc(&r.app_ok(|ws| wt::app::log::log_of(ws, &phase)));
    assert!(json.to_string().contains("closing"), "{json}");
}

#[test]
fn with_review_on_the_last_task_sends_an_unclaimed_job_to_review() {
    let r = Repo::new();
    let phase = r.new_in(&["phase-spec", "Phase"]);
    let job = r.new_in(&["job", "Job", "--parent", &phase]);
    let task = r.new_in(&["task", "Only", "--parent", &job]);
    r.claim_in(&task, "impl").unwrap();
    let v = r.done_in(&task, "impl").unwrap();
    assert_eq!(v["closed"][0]["id"], job.as_str());
    assert_eq!(v["closed"][0]["status"], "review");
    let j = r.show_doc(&job);
    assert_eq!(j["status"], "review");
    assert_eq!(j["implemented_by"], "impl");
    assert_eq!(r.show_doc(&phase)["status"], "open");
    assert_eq!(
        trailer(&message_of(&r, "main"), "Wt-Review"),
        vec![format!("{job} (its only task done)")]
    );
    // Its auditor is someone else; the pass closes the phase.
    assert_eq!(code(r.claim_in(&job, "impl")), 5);
    r.claim_in(&job, "aud").unwrap();
    let p = pass(&r, &job, "aud").unwrap();
    assert_eq!(p["closed"][0]["id"], phase.as_str());
    assert_eq!(r.show_doc(&phase)["status"], "done");
}

#[test]
fn a_container_with_unticked_criteria_stays_open_for_them_and_is_ready() {
    let r = Repo::without_review();
    let phase = r.new_in(&["phase-spec", "Phase"]);
    let job = r.new_in(&["job", "Job", "--parent", &phase]);
    let task = r.new_in(&["task", "Only", "--parent", &job]);
    add_criteria(&r, &job, &["reviewed by a person", "documented"]);
    r.claim_in(&task, "a").unwrap();
    let v = r.done_in(&task, "a").unwrap();
    assert_eq!(v["closed"], serde_json::json!([]));
    assert_eq!(r.show_doc(&job)["status"], "open");
    let msg = message_of(&r, "main");
    assert!(
        msg.contains(&format!(
            "{job} \"Job\": its only task done; it stays open for its 2 unticked acceptance criteria (`wt tick {job} 1 2`, then `wt done {job}`)"
        )),
        "{msg}"
    );
    assert!(ids(&r.ready_doc(None)).contains(&job));
    r.claim_in(&job, "b").unwrap();
    tick(&r, &job, "b", Which::All, false).unwrap();
    let d = r.done_in(&job, "b").unwrap();
    assert_eq!(d["closed"][0]["id"], phase.as_str());
}

/// A phase with one job, done (the job closed it): the starting point of the reopen tests.
fn done_phase(r: &Repo) -> (String, String) {
    let phase = r.new_ticket(&["phase-spec", "Phase"]);
    let job = r.new_ticket(&["job", "Job", "--parent", &phase]);
    r.wt(&["claim", &job, "--agent", "a"]).ok();
    r.wt(&["done", &job, "--agent", "a"]).ok();
    assert_eq!(r.wt_json(&["show", &phase])["status"], "done");
    (phase, job)
}

#[test]
fn new_under_a_done_container_reopens_it_in_the_same_commit_saying_so() {
    let r = Repo::without_review();
    let (phase, job) = done_phase(&r);
    // A task under the done job: the job and the phase above it reopen.
    let before = commit_count(&r, "main");
    let run = r.wt(&["new", "task", "Forgotten", "--parent", &job, "--agent", "p"]);
    let task = run.ok().trim().to_string();
    assert!(task.starts_with("T-"), "stdout stays the ID alone: {task}");
    assert!(
        run.stderr()
            .contains(&format!("reopened {job} Job ({task} is open under it)")),
        "{}",
        run.stderr()
    );
    assert_eq!(commit_count(&r, "main"), before + 1, "one commit");
    assert_eq!(
        r.subjects("main")[0],
        format!("wt: new task {task} \"Forgotten\", reopening {job}, {phase} (p)")
    );
    let msg = message_of(&r, "main");
    assert_eq!(
        trailer(&msg, "Wt-Reopened"),
        vec![
            format!("{job} ({task} is open under it)"),
            format!("{phase} ({task} is open under it)")
        ],
        "{msg}"
    );
    for id in [&job, &phase] {
        let t = r.wt_json(&["show", id]);
        assert_eq!(t["status"], "open", "{id}");
        assert!(
            t["body"]
                .as_str()
                .expect("body")
                .contains("reopened (was done)"),
            "{t}"
        );
    }
    r.wt(&["check"]).ok();
    // The JSON report names them too; a parent that is open reopens nothing.
    let v = r.wt_json(&["new", "task", "Another", "--parent", &job]);
    assert_eq!(v["reopened"], serde_json::json!([]));
    // Finishing both tasks closes the job and phase again.
    for t in [task.as_str(), v["id"].as_str().expect("id")] {
        r.wt(&["claim", t, "--agent", "a"]).ok();
        r.wt(&["done", t, "--agent", "a"]).ok();
    }
    assert_eq!(r.wt_json(&["show", &phase])["status"], "done");
    let v = r.wt_json(&["new", "job", "Late", "--parent", &phase]);
    assert_eq!(v["reopened"][0]["id"], phase.as_str());
    assert_eq!(v["reopened"][0]["status"], "open");
    assert_eq!(
        v["reopened"][0]["reason"],
        format!("{} is open under it", v["id"].as_str().unwrap())
    );
}

#[test]
fn reopening_a_done_ticket_reopens_the_done_containers_above_it() {
    let r = Repo::without_review();
    let (phase, job) = done_phase(&r);
    let other = r.new_ticket(&["phase-spec", "Other"]);
    let before = commit_count(&r, "main");
    let text = r.wt(&["reopen", &job, "--agent", "alice"]).ok();
    assert_eq!(commit_count(&r, "main"), before + 1, "one commit");
    assert!(
        text.contains(&format!("reopened {phase} Phase ({job} is open under it)")),
        "{text}"
    );
    assert_eq!(r.wt_json(&["show", &phase])["status"], "open");
    assert_eq!(
        trailer(&message_of(&r, "main"), "Wt-Reopened"),
        vec![format!("{phase} ({job} is open under it)")]
    );
    let mut touched = files_of(&r, "main");
    touched.sort();
    let mut want = vec![r.ticket_path(&job), r.ticket_path(&phase)];
    want.sort();
    assert_eq!(touched, want);
    // A ticket without a parent reopens nothing else.
    r.wt(&["claim", &other, "--agent", "a"]).ok();
    r.wt(&["done", &other, "--agent", "a"]).ok();
    let v = r.wt_json(&["reopen", &other, "--agent", "alice"]);
    assert_eq!(v["reopened"], serde_json::json!([]));
    r.wt(&["check"]).ok();
}

#[test]
fn an_import_under_a_done_container_reopens_it_in_its_commit() {
    let r = Repo::without_review();
    let (phase, job) = done_phase(&r);
    r.write(
        "more.json",
        &format!(r#"[{{"key": "t", "kind": "task", "title": "Late task", "parent": "{job}"}}]"#),
    );
    let v = r.wt_json(&["import", "more.json"]);
    let reopened: Vec<&str> = v["reopened"]
        .as_array()
        .expect("reopened")
        .iter()
        .map(|c| c["id"].as_str().expect("id"))
        .collect();
    assert_eq!(reopened, vec![job.as_str(), phase.as_str()]);
    assert_eq!(
        r.subjects("main")[0],
        format!("wt: import 1 ticket from more.json, reopening {job}, {phase}")
    );
    assert_eq!(trailer(&message_of(&r, "main"), "Wt-Reopened").len(), 2);
    assert_eq!(r.wt_json(&["show", &phase])["status"], "open");
    r.wt(&["check"]).ok();
}

#[test]
fn check_flags_a_done_container_with_open_work_under_it() {
    let r = Repo::without_review();
    let (phase, job) = done_phase(&r);
    r.wt(&["check"]).ok();
    // Edited by hand: the job open again, the phase still done.
    let path = r.ticket_path(&job);
    let text = r.read(&path).replacen("status: done", "status: open", 1);
    git_commit_file(&r, &path, &text, "by hand");
    let run = r.wt(&["check"]);
    run.fails_with(1);
    let out = format!("{}{}", run.stdout(), run.stderr());
    assert!(
        out.contains(&format!("done, but {job} under it is open")),
        "{out}"
    );
    assert!(out.contains(&format!("wt reopen {phase}")), "{out}");
    let v = r.wt(&["--json", "check"]).json();
    assert_eq!(v["problems"][0]["path"], r.ticket_path(&phase));
    // The fix the hint names makes it clean.
    r.wt(&["reopen", &phase, "--agent", "alice"]).ok();
    r.wt(&["check"]).ok();
}

// ------------------------------------------------------------------------ tick

#[test]
fn tick_rewrites_only_the_box_characters_through_one_commit_from_a_feature_worktree() {
    let r = Repo::new();
    let job = r.new_in(&["job", "Criteria"]);
    let path = add_criteria(&r, &job, &["one", "two", "three"]);
    r.claim_in(&job, "a").unwrap();
    let feature = r.tmp.path().join("feature");
    r.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "feature",
        feature.to_str().expect("utf8"),
    ])
    .ok();
    let before = r.git(&["show", &format!("main:{path}")]).ok();
    // The binary, in the feature worktree: how `show` numbers the criteria.
    let shown = r.wt_in(&feature, &["show", &job]).ok();
    assert!(
        shown.contains(&format!(
            "-- acceptance criteria (`wt tick {job} N`):\n  1 [ ] one\n  2 [ ] two\n  3 [ ] three\n"
        )),
        "{shown}"
    );
    let v = r.show_doc(&job);
    assert_eq!(v["criteria"][1]["number"], 2);
    assert_eq!(v["criteria"][1]["text"], "two");

    let t = r
        .app_in(&feature, NOW, |ws| {
            wt::app::tick::tick(ws, &job, "a", &Which::Numbers(vec![3, 1]), false, None)
        })
        .unwrap();
    assert_eq!(
        doc(&wt::app::tick::TickReport::new(&t))["changed"],
        serde_json::json!([1, 3])
    );
    let after = r.git(&["show", &format!("main:{path}")]).ok();
    assert_eq!(
        after,
        before
            .replace("- [ ] one", "- [x] one")
            .replace("- [ ] three", "- [x] three")
    );
    // Byte for byte: only two bytes differ.
    let diff = before
        .bytes()
        .zip(after.bytes())
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!((diff, before.len()), (2, after.len()));
    assert_eq!(
        r.subjects("main")[0],
        format!("wt: tick {job} \"Criteria\": 1, 3 (a)")
    );
    // The checked-out state branch follows.
    assert_eq!(r.read(&path), after);
    // Nothing to change: no commit.
    let head = rev(&r, "main");
    tick(&r, &job, "a", Which::Numbers(vec![1]), false).unwrap();
    assert_eq!(rev(&r, "main"), head);
    // --undo, --all; bad numbers; someone else's ticket.
    tick(&r, &job, "a", Which::Numbers(vec![1]), true).unwrap();
    assert_eq!(
        r.subjects("main")[0],
        format!("wt: untick {job} \"Criteria\": 1 (a)")
    );
    assert_eq!(code(tick(&r, &job, "a", Which::Numbers(vec![4]), false)), 2);
    assert_eq!(code(tick(&r, &job, "a", Which::Numbers(vec![]), false)), 2);
    let (code5, other) = refused(tick(&r, &job, "b", Which::Numbers(vec![2]), false));
    assert_eq!(code5, 5, "{other}");
    assert!(other.contains("a"), "{other}");
    tick(&r, &job, "a", Which::All, false).unwrap();
    assert!(r.show_doc(&job)["criteria"]
        .as_array()
        .expect("criteria")
        .iter()
        .all(|c| c["checked"] == true));
    r.done_in(&job, "a").unwrap();
    r.claim_in(&job, "aud").unwrap();
    pass(&r, &job, "aud").unwrap();
    assert_eq!(
        code(tick(&r, &job, "aud", Which::Numbers(vec![1]), true)),
        5
    );
}

// ------------------------------------------------------------------------ done on commits

/// The branch checked out tracks `.work/` (the state branch is the code branch): judging the
/// working tree reads only the code entries of the index (wt's reader), and counts every
/// kind of change outside `.work/` as libgit2's whole-index way does.
#[test]
fn done_counts_uncommitted_code_changes_alike_with_and_without_the_fast_index_reader() {
    let r = Repo::without_review();
    git_commit_file(&r, "gone.txt", "bye\n", "a file to delete");
    for (fast, n) in [(true, 1), (false, 2)] {
        let job = r.new_ticket(&["job", &format!("Work {n}")]);
        r.wt(&["claim", &job, "--agent", "a"]).ok();
        git_commit_file(&r, "code.txt", &format!("v{n}\n"), "code");
        // Same size as committed; deleted; untracked; and a file under .work/ (not code:
        // not counted).
        r.write("code.txt", "vX\n");
        std::fs::remove_file(r.root.join("gone.txt")).expect("rm");
        r.write(&format!("new-{n}.txt"), "x\n");
        r.write(&format!(".work/notes-{n}.txt"), "x\n");
        let env: &[(&str, &str)] = if fast { &[] } else { &[("WT_FAST_INDEX", "0")] };
        let run = r.wt_env(
            &r.root,
            &["done", &job, "--agent", "a", "--no-ci", "--reason", "test"],
            env,
        );
        assert_eq!(run.code(), 0, "{}", run.stderr());
        let untracked = if n == 1 { 1 } else { 2 };
        assert!(
            run.stderr().contains(&format!(
                "{} uncommitted changes were not checked",
                2 + untracked
            )),
            "fast={fast}: {}",
            run.stderr()
        );
        // Put things back for the next round.
        r.git(&["checkout", "--", "gone.txt", "code.txt"]).ok();
    }
}

#[test]
fn done_judges_a_commit_rev_or_head_not_the_working_tree() {
    let r = Repo::without_review();
    // The check passes only when the committed src.txt says "good"; it records where it ran.
    let wherefile = r.home().join("where");
    let cfg = r.read(".work/config.yaml").replace(
        "ci: {}",
        &format!(
            "ci:\n  test: \"pwd > '{}'; grep -q good src.txt\"",
            wherefile.display()
        ),
    );
    git_commit_file(&r, ".work/config.yaml", &cfg, "ci");
    let job = r.new_ticket(&["job", "Work", "--artifact", "src.txt"]);
    r.wt(&["claim", &job, "--agent", "a"]).ok();
    git_commit_file(&r, "src.txt", "good\n", "good");
    let good = rev(&r, "HEAD");
    // Edited on disk, not committed: the checks run on a clean checkout of HEAD, and pass.
    r.write("src.txt", "bad\n");
    r.write("untracked.txt", "x\n");
    let done = r.wt(&["--json", "done", &job, "--agent", "a"]);
    done.ok();
    let v = done.json();
    let head = rev(&r, "HEAD~1"); // the done commit is HEAD now (main is the state branch)
    assert_eq!(v["checked_commit"], head.as_str());
    assert_eq!(head, good);
    assert!(
        done.stderr()
            .contains("2 uncommitted changes were not checked: done judged commit"),
        "{}",
        done.stderr()
    );
    let ran_in = std::fs::read_to_string(&wherefile).expect("the check ran");
    assert!(
        !ran_in.trim().starts_with(r.root.to_str().expect("utf8")),
        "ran in {ran_in}"
    );
    assert!(ran_in.contains("wt-check-"), "{ran_in}");
    // The clean checkout is gone again.
    let wts = r.git(&["worktree", "list"]).ok();
    assert_eq!(wts.lines().count(), 1, "{wts}");
    let msg = message_of(&r, "main");
    assert_eq!(trailer(&msg, "Wt-Checked-Commit"), vec![good.clone()]);
    assert_eq!(trailer(&msg, "Wt-Uncommitted-Not-Checked"), vec!["2"]);

    // --rev: a commit without the artifact is refused; the error names it.
    let second = r.new_ticket(&["job", "Again", "--artifact", "src.txt"]);
    r.wt(&["claim", &second, "--agent", "a"]).ok();
    let first_commit = r
        .git(&["rev-list", "--max-parents=0", "HEAD"])
        .ok()
        .trim()
        .to_string();
    let run = r.wt(&["done", &second, "--agent", "a", "--rev", &first_commit]);
    run.fails_with(5);
    assert!(
        run.stderr().contains(&format!(
            "artifact src.txt is missing or empty in commit {}",
            &first_commit[..12]
        )),
        "{}",
        run.stderr()
    );
    r.wt(&["done", &second, "--agent", "a", "--rev", "nope"])
        .fails_with(3);
    let v = r.wt_json(&["done", &second, "--agent", "a", "--rev", &good]);
    assert_eq!(v["checked_commit"], good.as_str());
}

// ------------------------------------------------------------------------ overlap

fn held_and_overlapping(r: &Repo) -> (String, String, String) {
    let ids = r.import(
        r#"[
        {"key": "held", "kind": "job", "title": "Held", "priority": 0, "files": ["src/**"]},
        {"key": "calc", "kind": "job", "title": "Calc", "priority": 1, "files": ["src/calc.py"]},
        {"key": "docs", "kind": "job", "title": "Docs", "priority": 2, "files": ["docs/"]}
    ]"#,
    );
    let id = |k: &str| ids[k].as_str().expect("id").to_string();
    (id("held"), id("calc"), id("docs"))
}

#[test]
fn claim_next_skips_tickets_whose_files_overlap_a_held_claim() {
    let r = Repo::new();
    let (held, calc, docs) = held_and_overlapping(&r);
    r.wt(&["claim", &held, "--agent", "a"]).ok();
    r.wt(&["ready"]).ok(); // a lookup for the one-ticket path
    let run = r.wt_env(
        &r.root,
        &["--json", "claim", "--next", "--agent", "b"],
        &[("WT_DEBUG_STATS", "1")],
    );
    run.ok();
    assert_eq!(run.json()["id"], docs.as_str(), "calc.py is under src/**");
    assert!(
        run.stderr().contains("one_ticket=") && !run.stderr().contains("one_ticket=0"),
        "the one-ticket path answered: {}",
        run.stderr()
    );
    // It read `held` (rewritten by its claim since the lookup) and `docs`; `calc` is as the
    // lookup knows it, so its clash was seen without reading its file.
    assert!(
        run.stderr().contains("one_ticket=2\n") || run.stderr().ends_with("one_ticket=2"),
        "calc was skipped unread: {}",
        run.stderr()
    );
    // Nothing free is left: not found, naming the clash.
    let none = r.wt(&["claim", "--next", "--agent", "c"]);
    none.fails_with(3);
    assert!(
        none.stderr().contains(&format!(
            "{calc} would touch src/calc.py, which overlaps src/** of {held}"
        )),
        "{}",
        none.stderr()
    );
    assert!(
        none.stderr().contains("--ignore-overlap"),
        "{}",
        none.stderr()
    );
    // The same answers without the cache (the full path).
    r.wt(&["release", &docs, "--agent", "b"]).ok();
    let plain = r.wt_env(
        &r.root,
        &["--json", "claim", "--next", "--agent", "b"],
        &[("WT_NO_CACHE", "1")],
    );
    assert_eq!(plain.json()["id"], docs.as_str());
    // --ignore-overlap takes the best one anyway.
    let forced = r.wt_json(&["claim", "--next", "--ignore-overlap", "--agent", "c"]);
    assert_eq!(forced["id"], calc.as_str());
}

#[test]
fn claim_next_batch_prints_and_returns_each_claims_token() {
    let r = Repo::new();
    let (_, _, _) = held_and_overlapping(&r);
    let v = r.wt_json(&["claim", "--next", "--batch", "2", "--agent-prefix", "impl"]);
    let claimed = v["claimed"].as_array().expect("claimed");
    assert_eq!(claimed.len(), 2, "{v}");
    for c in claimed {
        let token = c["claim_token"].as_str().expect("a token");
        let id = c["id"].as_str().expect("id");
        let agent = c["claimed_by"].as_str().expect("agent");
        // It is the claim's real token: it finishes the work, a wrong one does not.
        r.wt(&["release", id, "--agent", agent, "--token", "wrong"])
            .fails_with(5);
        r.wt(&["heartbeat", id, "--agent", agent, "--token", token])
            .ok();
    }
    let r2 = Repo::new();
    held_and_overlapping(&r2);
    let text = r2
        .wt(&["claim", "--next", "--batch", "2", "--agent", "solo"])
        .ok();
    assert_eq!(text.matches("\n  token ").count(), 2, "{text}");
}
