//! The audit loop and the human gates: review, pass, fail with amendments, escalation,
//! reopen, approve; the progress log and `wt status`.

use crate::common::*;

/// Replace `from` by `to` in .work/config.yaml and commit it (the state branch is checked out).
fn configure(r: &Repo, from: &str, to: &str) {
    let text = r.read(".work/config.yaml");
    assert!(text.contains(from), "config has no `{from}`:\n{text}");
    r.write(".work/config.yaml", &text.replacen(from, to, 1));
    r.git(&["commit", "-q", "-am", "configure"]).ok();
}

/// A job claimed by `implementer` and handed in for review.
fn job_in_review(r: &Repo, title: &str, implementer: &str) -> String {
    let id = r.new_ticket(&["job", title]);
    r.wt(&["claim", &id, "--agent", implementer]).ok();
    r.wt(&["done", &id, "--agent", implementer]).ok();
    id
}

#[test]
fn done_sends_a_job_to_review_and_only_another_agent_may_audit_it() {
    let r = Repo::new();
    let id = job_in_review(&r, "Schema", "impl-1");
    let t = r.wt_json(&["show", &id]);
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
        ids(&r.wt_json(&["ready"])).is_empty(),
        "review is not ready work"
    );
    assert_eq!(ids(&r.wt_json(&["ready", "--review"])), vec![id.clone()]);
    assert!(ids(&r.wt_json(&["ready", "--review", "--agent", "impl-1"])).is_empty());

    let own = r.wt(&["claim", &id, "--agent", "impl-1"]);
    own.fails_with(5);
    assert!(
        own.stderr().contains("an audit needs a different agent"),
        "{}",
        own.stderr()
    );
    r.wt(&["claim", "--next", "--review", "--agent", "impl-1"])
        .fails_with(3);
    // `wt done` does not finish a job in review.
    r.wt(&["done", &id, "--agent", "impl-1"]).fails_with(5);

    r.wt(&["claim", "--next", "--review", "--agent", "auditor-1"])
        .ok();
    let t = r.wt_json(&["show", &id]);
    assert_eq!(
        (t["status"].as_str(), t["claimed_by"].as_str()),
        (Some("review"), Some("auditor-1"))
    );
    assert_eq!(
        r.subjects("main")[0],
        format!("wt: claim {id} \"Schema\" for review (auditor-1)")
    );
    // Only the auditor holding it gives the verdict.
    r.wt(&["pass", &id, "--agent", "auditor-2"]).fails_with(5);
    r.wt(&[
        "pass",
        &id,
        "--agent",
        "auditor-1",
        "-m",
        "schema matches the spec",
    ])
    .ok();
    let t = r.wt_json(&["show", &id]);
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
    let job = r.new_ticket(&["job", "Schema"]);
    let task = r.new_ticket(&["task", "Table", "--parent", &job]);
    // The job is held, so its last task leaves it to its holder.
    r.wt(&["claim", &job, "--agent", "a"]).ok();
    r.wt(&["claim", &task, "--agent", "a"]).ok();
    r.wt(&["done", &task, "--agent", "a"]).ok();
    assert_eq!(r.wt_json(&["show", &task])["status"], "done");
    assert_eq!(r.wt_json(&["show", &job])["status"], "in_progress");
    configure(&r, "review: true", "review: false");
    r.wt(&["done", &job, "--agent", "a"]).ok();
    assert_eq!(r.wt_json(&["show", &job])["status"], "done");
    assert_eq!(
        r.subjects("main")[0],
        format!("wt: done {job} \"Schema\" (a)")
    );
}

#[test]
fn fail_appends_numbered_amendments_and_never_rewrites_earlier_ones() {
    let r = Repo::new();
    let id = job_in_review(&r, "Schema", "impl-1");
    r.wt(&["claim", &id, "--agent", "aud"]).ok();
    let j = r.wt_json(&[
        "fail",
        &id,
        "--agent",
        "aud",
        "-m",
        "## Problems\n\nThe index is on email, not lower(email).",
    ]);
    assert_eq!(
        (j["amendment"].as_u64(), j["escalated"].as_bool()),
        (Some(1), Some(false))
    );
    let path = r.ticket_path(&id);
    let after_first = r.read(&path);
    let t = r.wt_json(&["show", &id]);
    assert_eq!(
        (t["status"].as_str(), t["attempts"].as_u64()),
        (Some("open"), Some(1))
    );
    assert_eq!(t["claimed_by"], serde_json::Value::Null);
    assert_eq!(ids(&r.wt_json(&["ready"])), vec![id.clone()], "ready again");
    assert_eq!(
        r.subjects("main")[0],
        format!("wt: fail {id} \"Schema\": amendment 1, attempt 1 of 10 (aud)")
    );

    // Second attempt, amendment from a file.
    r.wt(&["claim", &id, "--agent", "impl-2"]).ok();
    r.wt(&["done", &id, "--agent", "impl-2"]).ok();
    r.wt(&["claim", &id, "--agent", "aud"]).ok();
    r.write("amend.md", "Still no test for A@x and a@x.\n");
    r.wt(&["fail", &id, "--agent", "aud", "--file", "amend.md"])
        .ok();
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
    assert_eq!(r.wt_json(&["show", &id])["attempts"], 2);
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
    let id = r.new_ticket(&["job", "Importer"]);
    for attempt in 1..=2 {
        r.wt(&["claim", &id, "--agent", "impl"]).ok();
        r.wt(&["done", &id, "--agent", "impl"]).ok();
        r.wt(&["claim", &id, "--agent", "aud"]).ok();
        r.wt(&[
            "fail",
            &id,
            "--agent",
            "aud",
            "-m",
            &format!("wrong {attempt}"),
        ])
        .ok();
    }
    let t = r.wt_json(&["show", &id]);
    assert_eq!(
        (t["status"].as_str(), t["attempts"].as_u64()),
        (Some("escalated"), Some(2))
    );
    assert_eq!(
        r.subjects("main")[0],
        format!("wt: fail {id} \"Importer\": amendment 2, escalated after 2 failed attempts (aud)")
    );
    assert!(ids(&r.wt_json(&["ready", "--kind", "any"])).is_empty());
    r.wt(&["claim", &id, "--agent", "impl"]).fails_with(5);
    r.wt(&["claim", "--next", "--agent", "impl"]).fails_with(3);
    assert_eq!(
        ids(&r.wt_json(&["list", "--status", "escalated"])),
        vec![id.clone()]
    );
    let st = r.wt_json(&["status"]);
    assert_eq!(st["escalated"][0]["id"], id.as_str());
    assert_eq!(st["counts"]["escalated"], 1);
    assert!(r
        .wt(&["status"])
        .ok()
        .contains(&format!("a human runs `wt reopen {id}`")));

    r.wt(&["reopen", &id, "--agent", "alice", "-m", "split it first"])
        .ok();
    let t = r.wt_json(&["show", &id]);
    assert_eq!(
        (t["status"].as_str(), t["attempts"].as_u64()),
        (Some("open"), Some(0))
    );
    assert!(t["body"].as_str().unwrap().contains(&format!(
        "- {NOW} alice: reopened (was escalated) after 2 failed attempts; attempts start again: split it first"
    )));
    assert_eq!(ids(&r.wt_json(&["ready"])), vec![id.clone()]);
    assert_eq!(
        r.subjects("main")[0],
        format!("wt: reopen {id} \"Importer\" (alice)")
    );
    r.wt(&["reopen", &id, "--agent", "alice"]).fails_with(5);
}

#[test]
fn a_gate_blocks_everything_under_and_depending_on_it_until_approved() {
    let r = Repo::new();
    configure(&r, "approval: []", "approval: [phase-spec]");
    let p = r.new_ticket(&["phase-spec", "Storage"]);
    let job = r.new_ticket(&["job", "Schema", "--parent", &p]);
    let other = r.new_ticket(&["job", "Docs", "--dep", &p]);
    assert_eq!(r.wt_json(&["show", &p])["gate"], "approval");
    assert!(ids(&r.wt_json(&["ready", "--kind", "any"])).is_empty());
    let blocked = r.wt(&["blocked"]).ok();
    assert!(
        blocked.contains(&format!("awaiting approval (wt approve {p})")),
        "{blocked}"
    );
    assert!(
        blocked.contains(&format!("ancestor {p} awaiting approval")),
        "{blocked}"
    );
    r.wt(&["claim", &job, "--agent", "a"]).fails_with(5);
    let st = r.wt_json(&["status"]);
    assert_eq!(st["awaiting_approval"][0]["id"], p.as_str());
    assert_eq!(st["awaiting_approval"][0]["waiting"], 2);

    r.wt(&["approve", &p, "--agent", "alice"]).ok();
    let msg = r.git(&["log", "-1", "--format=%B", "main"]).ok();
    assert!(
        msg.starts_with(&format!("wt: approve {p} \"Storage\" (alice)\n")),
        "{msg}"
    );
    assert!(msg.contains("Wt-Approved-By: alice"), "{msg}");
    let t = r.wt_json(&["show", &p]);
    assert_eq!(t["approved_by"], "alice");
    assert_eq!(ids(&r.wt_json(&["ready"])), vec![job.clone()]);
    // Docs depends on the whole phase: approved now, but the phase is not done.
    assert!(!ids(&r.wt_json(&["ready"])).contains(&other));
    // Approving again changes nothing; a ticket without a gate is refused.
    let n = r.subjects("main").len();
    r.wt(&["approve", &p, "--agent", "alice"]).ok();
    assert_eq!(r.subjects("main").len(), n);
    r.wt(&["approve", &job, "--agent", "alice"]).fails_with(5);
}

#[test]
fn progress_entries_append_agent_attempt_message_and_files() {
    let r = Repo::new();
    let id = r.new_ticket(&["job", "Schema"]);
    let path = r.ticket_path(&id);
    r.wt(&[
        "progress",
        &id,
        "Wrote the table",
        "--files",
        "src/a.sql",
        "src/b.sql",
        "--agent",
        "impl-1",
    ])
    .ok();
    let first = r.read(&path);
    r.wt(&[
        "progress",
        &id,
        "Added the index\nwith a test",
        "--agent",
        "impl-1",
    ])
    .ok();
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
    r.wt(&["progress", &id, "  "]).fails_with(2);
}

#[test]
fn status_shows_holders_stale_claims_and_what_finished_last() {
    let r = Repo::new();
    let a = r.new_ticket(&["job", "Alpha"]);
    let b = r.new_ticket(&["job", "Beta"]);
    r.wt(&["claim", &a, "--agent", "impl-1"]).ok();
    r.wt(&["claim", &b, "--agent", "impl-2"]).ok();
    r.wt(&["done", &b, "--agent", "impl-2"]).ok();
    r.wt(&["claim", &b, "--agent", "aud"]).ok();
    r.wt(&["pass", &b, "--agent", "aud"]).ok();
    // Three hours later.
    let later = r.wt_env(
        &r.root,
        &["--json", "status"],
        &[("WT_NOW", "2026-01-02T06:04:05Z")],
    );
    later.ok();
    let st = later.json();
    assert_eq!(st["held"][0]["id"], a.as_str());
    assert_eq!(st["held"][0]["agent"], "impl-1");
    assert_eq!(st["held"][0]["since"], NOW);
    assert_eq!(st["held"][0]["stale"], true);
    assert_eq!(st["finished_last"][0]["id"], b.as_str());
    assert_eq!(st["finished_last"][0]["verb"], "pass");
    assert_eq!(st["counts"]["done"], 1);
    assert_eq!(st["counts"]["in_progress"], 1);
    // The 30-minute lease ran out long ago: stale whatever --stale-after says.
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
    r.wt(&["release", &a, "--agent", "impl-1"]).ok();
    r.wt(&["claim", &a, "--agent", "impl-1", "--lease", "0"])
        .ok();
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
