//! The audit loop and the human gates: review, pass, fail with amendments, escalation,
//! reopen, approve; the progress log and `wt status`.
//!
//! The logic is tested through `wt::app` in this process (see `common`'s in-process helpers);
//! what the binary prints is pinned by `text_output`, and here where the text is the point.

use serde_json::Value;
use wt::app::claim::Wanted;
use wt::app::report::TicketChange;

use crate::common::*;

/// `wt pass ID --agent AGENT [-m NOTE]`, in process: its `--json` document.
fn pass(r: &Repo, id: &str, agent: &str, note: Option<&str>) -> wt::Result<Value> {
    r.app(|ws| wt::app::review::pass(ws, id, agent, note, None))
        .map(|w| doc(&TicketChange::new(&w.value.ticket, w.commit).closing(&w.value.closed)))
}

/// `wt fail ID --agent AGENT -m TEXT`, in process: its `--json` document.
fn fail(r: &Repo, id: &str, agent: &str, text: &str) -> wt::Result<Value> {
    r.app(|ws| wt::app::review::fail(ws, id, agent, text, None))
        .map(|w| doc(&wt::app::review::FailReport::new(&w)))
}

/// `wt reopen ID --agent AGENT [-m NOTE]`, in process.
fn reopen(r: &Repo, id: &str, agent: &str, note: Option<&str>) -> wt::Result<()> {
    r.app(|ws| wt::app::review::reopen(ws, id, agent, note))
        .map(drop)
}

/// `wt approve ID --agent AGENT`, in process.
fn approve(r: &Repo, id: &str, agent: &str) -> wt::Result<()> {
    r.app(|ws| wt::app::review::approve(ws, &[id.to_string()], agent))
        .map(drop)
}

/// `wt claim --next --review --agent AGENT`, in process.
fn claim_next_review(r: &Repo, agent: &str) -> wt::Result<Value> {
    r.app(|ws| {
        wt::app::configured::claim(
            ws,
            Wanted::NextReview(None),
            agent,
            &Default::default(),
            false,
        )
    })
    .map(|c| doc(&c.report))
}

/// IDs of `wt ready --review [--agent AGENT]`, in process.
#[track_caller]
fn ready_for_review(r: &Repo, agent: Option<&str>) -> Vec<String> {
    let opts = wt::app::ready::ReadyOptions {
        review: true,
        agent: agent.map(str::to_string),
        ..Default::default()
    };
    ids(&doc(&r
        .app_ok(|ws| wt::app::ready::ready(ws, &opts))
        .report))
}

/// `wt --json status [--stale-after SECS]` at `now`, in process.
#[track_caller]
fn status_at(r: &Repo, now: &str, stale_after_secs: i64) -> Value {
    let st = r.app_at(now, |ws| wt::app::status::status(ws, stale_after_secs));
    doc(&st.unwrap_or_else(|e| panic!("{}", failure(&e).1)).report)
}

/// The exit code the binary would give for `res`'s error.
#[track_caller]
fn code<T>(res: wt::Result<T>) -> i32 {
    match res {
        Ok(_) => panic!("expected a refusal, got success"),
        Err(e) => failure(&e).0,
    }
}

/// `wt status`'s default `--stale-after` (2h).
const TWO_HOURS: i64 = 2 * 3600;

/// Replace `from` by `to` in .work/config.yaml and commit it (the state branch is checked out).
fn configure(r: &Repo, from: &str, to: &str) {
    let text = r.read(".work/config.yaml");
    assert!(text.contains(from), "config has no `{from}`:\n{text}");
    r.write(".work/config.yaml", &text.replacen(from, to, 1));
    r.git(&["commit", "-q", "-am", "configure"]).ok();
}

/// A job claimed by `implementer` and handed in for review.
fn job_in_review(r: &Repo, title: &str, implementer: &str) -> String {
    let id = r.new_in(&["job", title]);
    r.claim_in(&id, implementer).unwrap();
    r.done_in(&id, implementer).unwrap();
    id
}

#[test]
fn done_sends_a_job_to_review_and_only_another_agent_may_audit_it() {
    let r = Repo::new();
    let id = job_in_review(&r, "Schema", "impl-1");
    let t = r.show_doc(&id);
    assert_eq!(t["status"], "review");
    assert_eq!(t["implemented_by"], "impl-1");
    assert_eq!(t["claimed_by"], serde_json::Value::Null);
    let msg = r.git(&["log", "-1", "--format=%B", "main"]).ok();
    assert!(
        msg.starts_with(&format!("wt: done {id} \"Schema\" for review (impl-1)")),
        "{msg}"
    );
    assert!(msg.contains("Wt-Status: review"), "{msg}");

    assert!(
        ids(&r.ready_doc(None)).is_empty(),
        "review is not ready work"
    );
    assert_eq!(ready_for_review(&r, None), vec![id.clone()]);
    assert!(ready_for_review(&r, Some("impl-1")).is_empty());

    let own = failure(&r.claim_in(&id, "impl-1").unwrap_err());
    assert_eq!(own.0, 5);
    assert!(
        own.1.contains("an audit needs a different agent"),
        "{}",
        own.1
    );
    assert_eq!(code(claim_next_review(&r, "impl-1")), 3);
    // `wt done` does not finish a job in review.
    assert_eq!(code(r.done_in(&id, "impl-1")), 5);

    claim_next_review(&r, "auditor-1").unwrap();
    let t = r.show_doc(&id);
    assert_eq!(
        (t["status"].as_str(), t["claimed_by"].as_str()),
        (Some("review"), Some("auditor-1"))
    );
    assert_eq!(
        r.subjects("main")[0],
        format!("wt: claim {id} \"Schema\" for review (auditor-1)")
    );
    // Only the auditor holding it gives the verdict.
    assert_eq!(code(pass(&r, &id, "auditor-2", None)), 5);
    pass(&r, &id, "auditor-1", Some("schema matches the spec")).unwrap();
    let t = r.show_doc(&id);
    assert_eq!(t["status"], "done");
    assert_eq!(t["claimed_by"], serde_json::Value::Null);
    assert!(t["body"].as_str().unwrap().contains(&format!(
        "- {NOW} auditor-1: audit of attempt 1 passed: schema matches the spec"
    )));
    assert_eq!(
        r.subjects("main")[0],
        format!("wt: pass {id} \"Schema\" (auditor-1)")
    );
}

#[test]
fn with_review_off_done_finishes_a_job_and_tasks_never_wait_for_review() {
    let r = Repo::new();
    let job = r.new_in(&["job", "Schema"]);
    let task = r.new_in(&["task", "Table", "--parent", &job]);
    // The job is held, so its last task leaves it to its holder.
    r.claim_in(&job, "a").unwrap();
    r.claim_in(&task, "a").unwrap();
    r.done_in(&task, "a").unwrap();
    assert_eq!(r.show_doc(&task)["status"], "done");
    assert_eq!(r.show_doc(&job)["status"], "in_progress");
    configure(&r, "review: true", "review: false");
    r.done_in(&job, "a").unwrap();
    assert_eq!(r.show_doc(&job)["status"], "done");
    assert_eq!(
        r.subjects("main")[0],
        format!("wt: done {job} \"Schema\" (a)")
    );
}

#[test]
fn fail_appends_numbered_amendments_and_never_rewrites_earlier_ones() {
    let r = Repo::new();
    let id = job_in_review(&r, "Schema", "impl-1");
    r.claim_in(&id, "aud").unwrap();
    let j = fail(
        &r,
        &id,
        "aud",
        "## Problems\n\nThe index is on email, not lower(email).",
    )
    .unwrap();
    assert_eq!(
        (j["amendment"].as_u64(), j["escalated"].as_bool()),
        (Some(1), Some(false))
    );
    let path = r.ticket_path_in(&id);
    let after_first = r.read(&path);
    let t = r.show_doc(&id);
    assert_eq!(
        (t["status"].as_str(), t["attempts"].as_u64()),
        (Some("open"), Some(1))
    );
    assert_eq!(t["claimed_by"], serde_json::Value::Null);
    assert_eq!(ids(&r.ready_doc(None)), vec![id.clone()], "ready again");
    assert_eq!(
        r.subjects("main")[0],
        format!("wt: fail {id} \"Schema\": amendment 1, attempt 1 of 10 (aud)")
    );

    // Second attempt, amendment from a file.
    r.claim_in(&id, "impl-2").unwrap();
    r.done_in(&id, "impl-2").unwrap();
    r.claim_in(&id, "aud").unwrap();
    // (`--file amend.md` reads the file's text; the binary's reading is tested in `verbs`.)
    fail(&r, &id, "aud", "Still no test for A@x and a@x.\n").unwrap();
    let after_second = r.read(&path);
    let section = |text: &str| -> String {
        let a = text.find("## Amendments").expect("amendments");
        let p = text.find("## Progress").expect("progress");
        text[a..p].trim_end().to_string()
    };
    let (s1, s2) = (section(&after_first), section(&after_second));
    assert!(
        s2.starts_with(&s1),
        "earlier amendment rewritten:\n{s1}\n---\n{s2}"
    );
    assert!(s1.contains(&format!("### Amendment 1 — {NOW} by aud\n\n_Audit of attempt 1 by impl-1: failed._\n\n#### Problems\n\nThe index is on email, not lower(email).")), "{s1}");
    assert!(s2.contains(&format!("### Amendment 2 — {NOW} by aud\n\n_Audit of attempt 2 by impl-2: failed._\n\nStill no test for A@x and a@x.")), "{s2}");
    assert_eq!(r.show_doc(&id)["attempts"], 2);
    // Outside the Amendments and Progress sections nothing changed but frontmatter lines.
    let body = |text: &str| {
        text[text.find("\n---\n").unwrap()..text.find("## Amendments").unwrap()].to_string()
    };
    assert_eq!(body(&after_first), body(&after_second));
}

#[test]
fn reaching_max_attempts_escalates_until_a_human_reopens() {
    let r = Repo::new();
    configure(&r, "max_attempts: 10", "max_attempts: 2");
    let id = r.new_in(&["job", "Importer"]);
    for attempt in 1..=2 {
        r.claim_in(&id, "impl").unwrap();
        r.done_in(&id, "impl").unwrap();
        r.claim_in(&id, "aud").unwrap();
        fail(&r, &id, "aud", &format!("wrong {attempt}")).unwrap();
    }
    let t = r.show_doc(&id);
    assert_eq!(
        (t["status"].as_str(), t["attempts"].as_u64()),
        (Some("escalated"), Some(2))
    );
    assert_eq!(
        r.subjects("main")[0],
        format!("wt: fail {id} \"Importer\": amendment 2, escalated after 2 failed attempts (aud)")
    );
    assert!(ids(&r.ready_doc(Some(None))).is_empty());
    assert_eq!(code(r.claim_in(&id, "impl")), 5);
    assert_eq!(code(r.claim_in("--next", "impl")), 3);
    assert_eq!(
        ids(&doc(&r
            .app_ok(|ws| wt::app::read::list(
                ws,
                &wt::app::read::ListFilter {
                    status: Some(wt::model::ticket::Status::Escalated),
                    ..Default::default()
                }
            ))
            .report)),
        vec![id.clone()]
    );
    let st = status_at(&r, NOW, TWO_HOURS);
    assert_eq!(st["escalated"][0]["id"], id.as_str());
    assert_eq!(st["counts"]["escalated"], 1);
    assert!(r
        .wt(&["status"])
        .ok()
        .contains(&format!("a human runs `wt reopen {id}`")));

    reopen(&r, &id, "alice", Some("split it first")).unwrap();
    let t = r.show_doc(&id);
    assert_eq!(
        (t["status"].as_str(), t["attempts"].as_u64()),
        (Some("open"), Some(0))
    );
    assert!(t["body"].as_str().unwrap().contains(&format!(
        "- {NOW} alice: reopened (was escalated) after 2 failed attempts; attempts start again: split it first"
    )));
    assert_eq!(ids(&r.ready_doc(None)), vec![id.clone()]);
    assert_eq!(
        r.subjects("main")[0],
        format!("wt: reopen {id} \"Importer\" (alice)")
    );
    assert_eq!(code(reopen(&r, &id, "alice", None)), 5);
}

#[test]
fn a_gate_blocks_everything_under_and_depending_on_it_until_approved() {
    let r = Repo::new();
    configure(&r, "approval: []", "approval: [phase-spec]");
    let p = r.new_in(&["phase-spec", "Storage"]);
    let job = r.new_in(&["job", "Schema", "--parent", &p]);
    let other = r.new_in(&["job", "Docs", "--dep", &p]);
    assert_eq!(r.show_doc(&p)["gate"], "approval");
    assert!(ids(&r.ready_doc(Some(None))).is_empty());
    // The reasons `wt blocked` prints.
    let blocked = r.blocked_doc(None).to_string();
    assert!(
        blocked.contains(&format!("awaiting approval (wt approve {p})")),
        "{blocked}"
    );
    assert!(
        blocked.contains(&format!("ancestor {p} awaiting approval")),
        "{blocked}"
    );
    assert_eq!(code(r.claim_in(&job, "a")), 5);
    let st = status_at(&r, NOW, TWO_HOURS);
    assert_eq!(st["awaiting_approval"][0]["id"], p.as_str());
    assert_eq!(st["awaiting_approval"][0]["waiting"], 2);

    approve(&r, &p, "alice").unwrap();
    let msg = r.git(&["log", "-1", "--format=%B", "main"]).ok();
    assert!(
        msg.starts_with(&format!("wt: approve {p} \"Storage\" (alice)\n")),
        "{msg}"
    );
    assert!(msg.contains("Wt-Approved-By: alice"), "{msg}");
    let t = r.show_doc(&p);
    assert_eq!(t["approved_by"], "alice");
    assert_eq!(ids(&r.ready_doc(None)), vec![job.clone()]);
    // Docs depends on the whole phase: approved now, but the phase is not done.
    assert!(!ids(&r.ready_doc(None)).contains(&other));
    // Approving again changes nothing; a ticket without a gate is refused.
    let n = r.subjects("main").len();
    approve(&r, &p, "alice").unwrap();
    assert_eq!(r.subjects("main").len(), n);
    assert_eq!(code(approve(&r, &job, "alice")), 5);
}

#[test]
fn progress_entries_append_agent_attempt_message_and_files() {
    let r = Repo::new();
    let id = r.new_in(&["job", "Schema"]);
    let path = r.ticket_path_in(&id);
    let progress = |message: &str, files: &[&str]| {
        let files: Vec<String> = files.iter().map(|f| f.to_string()).collect();
        r.app(|ws| wt::app::progress::progress(ws, &id, "impl-1", message, &files))
    };
    progress("Wrote the table", &["src/a.sql", "src/b.sql"]).unwrap();
    let first = r.read(&path);
    progress("Added the index\nwith a test", &[]).unwrap();
    let second = r.read(&path);
    assert!(second.starts_with(&first), "progress must only append");
    assert!(first.ends_with(&format!(
        "## Progress\n\n- {NOW} impl-1 (attempt 1): Wrote the table\n  Files: src/a.sql, src/b.sql\n"
    )), "{first}");
    assert!(
        second.ends_with(&format!(
            "\n\n- {NOW} impl-1 (attempt 1): Added the index\n  with a test\n"
        )),
        "{second}"
    );
    assert_eq!(
        r.subjects("main")[0],
        format!("wt: progress {id} \"Schema\" (impl-1)")
    );
    assert_eq!(code(progress("  ", &[])), 2);
}

#[test]
fn status_shows_holders_stale_claims_and_what_finished_last() {
    let r = Repo::new();
    let a = r.new_in(&["job", "Alpha"]);
    let b = r.new_in(&["job", "Beta"]);
    r.claim_in(&a, "impl-1").unwrap();
    r.claim_in(&b, "impl-2").unwrap();
    r.done_in(&b, "impl-2").unwrap();
    r.claim_in(&b, "aud").unwrap();
    pass(&r, &b, "aud", None).unwrap();
    // Three hours later.
    let st = status_at(&r, "2026-01-02T06:04:05Z", TWO_HOURS);
    assert_eq!(st["held"][0]["id"], a.as_str());
    assert_eq!(st["held"][0]["agent"], "impl-1");
    assert_eq!(st["held"][0]["since"], NOW);
    assert_eq!(st["held"][0]["stale"], true);
    assert_eq!(st["finished_last"][0]["id"], b.as_str());
    assert_eq!(st["finished_last"][0]["verb"], "pass");
    assert_eq!(st["counts"]["done"], 1);
    assert_eq!(st["counts"]["in_progress"], 1);
    // The 30-minute lease ran out long ago: stale whatever --stale-after says (the binary's
    // text: how `wt status` says it is the point).
    let text = r
        .wt_env(
            &r.root,
            &["status", "--stale-after", "4h"],
            &[("WT_NOW", "2026-01-02T06:04:05Z")],
        )
        .ok();
    assert!(
        text.contains("since 2026-01-02T03:04:05Z (3h00m) STALE  Alpha"),
        "{text}"
    );
    assert!(
        text.contains("stale claims (lease expired, or no lease and older than 4h00m): 1"),
        "{text}"
    );
    // A claim without a lease expiry is judged by --stale-after instead.
    r.release_in(&a, "impl-1").unwrap();
    let no_expiry = wt::app::claim::ClaimOptions {
        lease_minutes: Some(0),
        ..Default::default()
    };
    r.app(|ws| wt::app::configured::claim(ws, Wanted::Id(&a), "impl-1", &no_expiry, false))
        .unwrap();
    let no_lease = |after: &str| {
        r.wt_env(
            &r.root,
            &["status", "--stale-after", after],
            &[("WT_NOW", "2026-01-02T06:04:05Z")],
        )
        .ok()
    };
    let fresh = no_lease("4h");
    assert!(fresh.contains("(3h00m)  Alpha"), "{fresh}");
    assert!(fresh.contains("older than 4h00m): 0"), "{fresh}");
    let old = no_lease("2h");
    assert!(old.contains("(3h00m) STALE  Alpha"), "{old}");
    assert!(text.contains(&format!("pass  {b}  Beta (aud)")), "{text}");
}
