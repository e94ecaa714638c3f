//! `wt context`: the bundle an agent gets for one ticket, within a token budget.

use crate::common::*;

/// Estimated tokens as wt counts them: UTF-8 bytes / 4, rounded up.
fn tokens(s: &str) -> usize {
    s.len().div_ceil(4)
}

/// A plan whose phase text is long, with one job; the job fails one audit.
fn job_with_amendment(r: &Repo) -> String {
    let mut plan = String::from("## Phase 1: Storage\n\n");
    for k in 0..300 {
        plan.push_str(&format!(
            "Background paragraph {k}: why the storage layer looks the way it does.\n\n"
        ));
    }
    plan.push_str(
        "### Schema\nFiles: src/db/schema.sql\n\nCreate the users table.\n\n- [ ] Users table\n",
    );
    r.write("plan.md", &plan);
    let j = r.wt_json(&["plan", "import", "plan.md", "--agent", "planner"]);
    let job = j["nodes"][1]["id"].as_str().unwrap().to_string();
    for k in 1..=4 {
        r.wt(&["progress", &job, &format!("step {k}"), "--agent", "impl-1"])
            .ok();
    }
    r.wt(&["claim", &job, "--agent", "impl-1"]).ok();
    // Its task first: a job is done only once everything under it is.
    let tasks = r.wt_json(&["list", "--parent", &job]);
    let task = tasks["tickets"][0]["id"]
        .as_str()
        .expect("task")
        .to_string();
    r.wt(&["claim", &task, "--agent", "impl-1"]).ok();
    r.wt(&["done", &task, "--agent", "impl-1"]).ok();
    r.wt(&["done", &job, "--agent", "impl-1"]).ok();
    r.wt(&["claim", &job, "--agent", "aud"]).ok();
    r.wt(&[
        "fail",
        &job,
        "--agent",
        "aud",
        "-m",
        "The index must be on lower(email): A@x and a@x are one user.",
    ])
    .ok();
    job
}

#[test]
fn a_job_with_amendments_gets_them_in_its_bundle_within_the_budget() {
    let r = Repo::new();
    let job = job_with_amendment(&r);
    // Default budget (8,000) is enough for everything.
    let full = r.wt_json(&["context", &job]);
    let text = full["text"].as_str().unwrap();
    assert_eq!(full["budget"], 8000);
    assert!(full["tokens"].as_u64().unwrap() as usize <= 8000);
    assert_eq!(full["trimmed"], serde_json::json!([]));
    assert!(text.contains("The index must be on lower(email): A@x and a@x are one user."));
    assert!(text.contains("attempt 2 of 10"), "{text}");
    assert!(
        text.contains("Background paragraph 299"),
        "ancestor text is in"
    );
    assert!(text.contains("## Progress (latest 5 of 5)"), "{text}");

    // A small budget trims the ancestor's text, never the amendment.
    r.wt(&["context", &job, "--budget", "1000", "--out", "ctx.md"])
        .ok();
    let small = r.read("ctx.md");
    assert!(tokens(&small) <= 1000, "{} tokens", tokens(&small));
    assert!(small.contains("#### Amendment 1 — "), "{small}");
    assert!(small.contains("The index must be on lower(email): A@x and a@x are one user."));
    assert!(small.contains("Create the users table."));
    assert!(!small.contains("Background paragraph 299"));
    assert!(small.contains("more line(s) trimmed: `wt show "), "{small}");
    let first = small.lines().next().unwrap();
    let claimed: usize = first
        .split('~')
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no estimate in {first}"));
    assert_eq!(
        claimed,
        tokens(&small),
        "the report states the bundle's own size"
    );
    assert!(
        first.contains("of 1000 tokens (estimate: UTF-8 bytes / 4, not a tokenizer)"),
        "{first}"
    );
    assert!(
        first.contains("trimmed: ") && first.contains("part of the text of phase-spec"),
        "{first}"
    );
}

#[test]
fn the_bundle_has_dependency_outcomes_and_only_the_latest_progress_entries() {
    let r = Repo::new();
    let cfg = r.read(".work/config.yaml");
    r.write(
        ".work/config.yaml",
        &cfg.replace("progress_history: 10", "progress_history: 2"),
    );
    r.git(&["commit", "-q", "-am", "history 2"]).ok();
    let dep = r.new_ticket(&["job", "Schema"]);
    r.wt(&["claim", &dep, "--agent", "impl-1"]).ok();
    r.wt(&["done", &dep, "--agent", "impl-1"]).ok();
    r.wt(&["claim", &dep, "--agent", "aud"]).ok();
    r.wt(&[
        "pass",
        &dep,
        "--agent",
        "aud",
        "-m",
        "users table with a unique email index",
    ])
    .ok();
    let job = r.new_ticket(&["job", "Login", "--dep", &dep, "--file", "src/login.rs"]);
    for k in 1..=3 {
        r.wt(&["progress", &job, &format!("step {k}"), "--agent", "impl-2"])
            .ok();
    }
    let b = r.wt_json(&["context", &job]);
    let text = b["text"].as_str().unwrap();
    assert!(text.contains(&format!("## What it waits on\n\n- {dep} \"Schema\" (job): done\n  Last progress:\n    - {NOW} aud: audit of attempt 1 passed: users table with a unique email index\n")), "{text}");
    assert!(text.contains("## Progress (latest 2 of 3)"), "{text}");
    assert!(!text.contains("step 1") && text.contains("step 2") && text.contains("step 3"));
    assert!(text.contains("## Files\n\n- src/login.rs\n"), "{text}");
    assert_eq!(
        b["trimmed"][0],
        "1 older progress entry (context.progress_history is 2)"
    );
}

#[test]
fn with_files_includes_file_contents_and_trims_them_before_anything_else() {
    let r = Repo::new();
    r.write("src/x/a.rs", "fn a() {}\n");
    r.write("src/x/b.rs", &"// filler line for b\n".repeat(200));
    r.git(&["add", "src"]).ok();
    r.git(&["commit", "-q", "-m", "code"]).ok();
    let job = r.new_ticket(&["job", "Refactor x", "--file", "src/x/**"]);
    for k in 1..=2 {
        r.wt(&["progress", &job, &format!("step {k}"), "--agent", "i"])
            .ok();
    }
    let full = r.wt_json(&["context", &job, "--with-files"]);
    let text = full["text"].as_str().unwrap();
    assert!(
        text.contains("### src/x/a.rs\n\n```\nfn a() {}\n```\n"),
        "{text}"
    );
    assert!(text.contains("### src/x/b.rs"));
    // Just under the full size: only the end of the last file goes.
    let budget = (full["tokens"].as_u64().unwrap() - 200).to_string();
    let cut = r.wt_json(&["context", &job, "--with-files", "--budget", &budget]);
    let ctext = cut["text"].as_str().unwrap();
    assert!(cut["tokens"].as_u64().unwrap() <= budget.parse::<u64>().unwrap());
    assert_eq!(cut["trimmed"], serde_json::json!(["the end of src/x/b.rs"]));
    assert!(
        ctext.contains("more line(s) of src/x/b.rs trimmed"),
        "{ctext}"
    );
    assert!(
        ctext.contains("step 1"),
        "progress stays while file contents can go"
    );
    // A literal path naming a directory covers the tracked files under it.
    let dir_job = r.new_ticket(&["job", "Dir", "--file", "src/x"]);
    let d = r.wt_json(&["context", &dir_job, "--with-files"]);
    let dtext = d["text"].as_str().unwrap();
    assert!(
        dtext.contains("### src/x/a.rs") && dtext.contains("### src/x/b.rs"),
        "{dtext}"
    );
}

#[test]
fn a_ticket_larger_than_the_budget_is_reported_over_budget_not_cut() {
    let r = Repo::new();
    let long = "a requirement that must not be lost. ".repeat(100);
    let job = r.new_ticket(&["job", "Big", "-d", &long]);
    let b = r.wt_json(&["context", &job, "--budget", "100"]);
    assert_eq!(b["over_budget"], true);
    let text = b["text"].as_str().unwrap();
    assert!(
        text.contains(long.trim()),
        "the ticket itself is never trimmed"
    );
    assert!(
        text.lines().next().unwrap().contains("STILL OVER BUDGET"),
        "{text}"
    );
    let run = r.wt(&["context", &job, "--budget", "100"]);
    run.ok();
    assert!(run.stderr().contains("OVER BUDGET"), "{}", run.stderr());
}
