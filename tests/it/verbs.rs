//! Each verb's happy path and its refusals, with exit codes, against the real binary.

use serde_json::Value;

use crate::common::*;
use crate::fixtures::*;

// ---------------------------------------------------------------- init

#[test]
fn init_commits_config_and_templates_and_a_second_run_is_a_noop() {
    let r = Repo::bare_git();
    let v = {
        let run = r.wt(&["--json", "init"]);
        run.ok();
        run.json()
    };
    assert_eq!(v["branch"], "main");
    assert_eq!(v["already"], false);
    let created: Vec<&str> = v["created"]
        .as_array()
        .expect("created")
        .iter()
        .map(|x| x.as_str().expect("str"))
        .collect();
    for p in [
        ".work/config.yaml",
        ".work/templates/phase-spec.md",
        ".work/templates/job.md",
        ".work/templates/task.md",
    ] {
        assert!(created.contains(&p), "{p} not in {created:?}");
    }
    assert_eq!(commit_count(&r, "main"), 2);
    assert_eq!(files_of(&r, "HEAD").len(), 4);
    let head = rev(&r, "HEAD");

    let again = r.wt(&["init"]);
    let text = again.ok();
    assert!(text.contains("already set up"), "{text}");
    assert_eq!(rev(&r, "HEAD"), head, "a second init must not commit");
    let j = r.wt_json(&["init"]);
    assert_eq!(j["already"], true);
    assert_eq!(j["commit"], Value::Null);
    assert_eq!(rev(&r, "HEAD"), head);
    assert_eq!(r.git(&["status", "--porcelain"]).ok(), "");
}

#[test]
fn init_on_a_detached_head_exits_7_with_a_hint() {
    let r = Repo::bare_git();
    r.git(&["checkout", "-q", "--detach"]).ok();
    let run = r.wt(&["init"]);
    run.fails_with(7);
    assert!(run.stderr().contains("detached"), "{}", run.stderr());
    assert!(run.stderr().contains("hint:"), "{}", run.stderr());
    assert!(!r.root.join(".work").exists());
    // --json: the error is one JSON document naming the kind and code.
    let run = r.wt(&["--json", "init"]);
    run.fails_with(7);
    let j = run.json();
    assert_eq!(j["error"]["code"], 7);
    assert_eq!(j["error"]["kind"], "not_set_up");
    assert!(j["error"]["hint"].as_str().is_some_and(|h| !h.is_empty()));
}

#[test]
fn init_outside_a_git_repository_exits_7() {
    let r = Repo::bare_git();
    let outside = r.home().join("not-a-repo");
    std::fs::create_dir_all(&outside).expect("mkdir");
    let run = r.wt_env(
        &outside,
        &["init"],
        &[("GIT_CEILING_DIRECTORIES", r.home().to_str().expect("utf8"))],
    );
    run.fails_with(7);
    assert!(
        run.stderr().contains("not a git repository"),
        "{}",
        run.stderr()
    );
    assert!(!outside.join(".work").exists());
}

#[test]
fn verbs_in_a_repository_without_wt_init_exit_7_and_point_at_wt_init() {
    let r = Repo::bare_git();
    for args in [
        vec!["ready"],
        vec!["list"],
        vec!["new", "job", "x"],
        vec!["check"],
    ] {
        let run = r.wt(&args);
        run.fails_with(7);
        assert!(
            run.stderr().contains("wt init"),
            "{args:?}: {}",
            run.stderr()
        );
    }
    assert_eq!(commit_count(&r, "main"), 1);
}

// ---------------------------------------------------------------- new

#[test]
fn new_prints_the_id_with_its_kind_prefix_and_files_mirror_the_tree() {
    let r = Repo::new();
    let p = r.wt(&["new", "phase-spec", "Accounts"]).ok();
    // stdout is exactly the ID and a newline, for scripts.
    assert!(p.ends_with('\n') && p.trim().lines().count() == 1, "{p:?}");
    let p = p.trim().to_string();
    let j = r.new_ticket(&["job", "Login form", "--parent", &p]);
    let t = r.new_ticket(&["task", "Validate email", "--parent", &j]);
    for (id, prefix) in [(&p, "P-"), (&j, "J-"), (&t, "T-")] {
        assert!(id.starts_with(prefix), "{id}");
        assert_eq!(id.len(), 10, "{id}");
        assert!(id[2..]
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase()));
    }
    let pp = r.ticket_path(&p);
    let jp = r.ticket_path(&j);
    let tp = r.ticket_path(&t);
    assert_eq!(pp, format!(".work/{p}-accounts.md"));
    assert_eq!(jp, format!(".work/{p}-accounts/{j}-login-form.md"));
    assert_eq!(
        tp,
        format!(".work/{p}-accounts/{j}-login-form/{t}-validate-email.md")
    );
    // On the branch and in the checkout.
    let tree = r.git(&["ls-tree", "-r", "--name-only", "HEAD"]).ok();
    for path in [&pp, &jp, &tp] {
        assert!(tree.lines().any(|l| l == path), "{path} not in\n{tree}");
        assert!(r.root.join(path).is_file());
    }
    assert_eq!(r.git(&["status", "--porcelain"]).ok(), "");
    let shown = r.wt_json(&["show", &t]);
    assert_eq!(shown["parent"], Value::String(j.clone()));
    assert_eq!(shown["kind"], "task");
    assert_eq!(shown["status"], "open");
    assert_eq!(shown["created"], NOW);
}

#[test]
fn new_records_dependencies_priority_files_artifacts_labels_and_description() {
    let r = Repo::new();
    let a = r.new_ticket(&["job", "Schema"]);
    let b = r.new_ticket(&[
        "job",
        "API",
        "--dep",
        &a,
        "-p",
        "0",
        "--file",
        "src/api.rs",
        "--artifact",
        "docs/api.md",
        "--label",
        "backend",
        "--label",
        "v1",
        "-d",
        "Serve the schema over HTTP.",
    ]);
    let v = r.wt_json(&["show", &b]);
    assert_eq!(v["depends_on"], serde_json::json!([a]));
    assert_eq!(v["priority"], 0);
    assert_eq!(v["files"], serde_json::json!(["src/api.rs"]));
    assert_eq!(v["artifacts"], serde_json::json!(["docs/api.md"]));
    assert_eq!(v["labels"], serde_json::json!(["backend", "v1"]));
    assert!(v["body"]
        .as_str()
        .expect("body")
        .contains("Serve the schema over HTTP."));
    // The dependency edge is in the same commit as the ticket.
    assert_eq!(files_of(&r, "HEAD"), vec![v["path"].as_str().expect("p")]);
    let msg = message_of(&r, "HEAD");
    assert!(
        msg.starts_with(&format!("wt: new job {b} \"API\"")),
        "{msg}"
    );
    assert!(msg.contains("Wt-Verb: new\n"), "{msg}");
    assert!(msg.contains(&format!("Wt-Ticket: {b}\n")), "{msg}");
}

#[test]
fn new_with_a_parent_of_the_wrong_kind_exits_2_and_commits_nothing() {
    let r = Repo::new();
    let p = r.new_ticket(&["phase-spec", "P"]);
    let j = r.new_ticket(&["job", "J", "--parent", &p]);
    let t = r.new_ticket(&["task", "T", "--parent", &j]);
    let head = rev(&r, "HEAD");
    for args in [
        vec!["new", "job", "x", "--parent", &j],
        vec!["new", "job", "x", "--parent", &t],
        vec!["new", "task", "x", "--parent", &p],
        vec!["new", "task", "x", "--parent", &t],
        vec!["new", "phase-spec", "x", "--parent", &p],
    ] {
        let run = r.wt(&args);
        run.fails_with(2);
        assert!(
            run.stderr().contains("parent"),
            "{args:?}: {}",
            run.stderr()
        );
    }
    assert_eq!(rev(&r, "HEAD"), head);
}

#[test]
fn new_with_an_unknown_dependency_or_parent_exits_3_and_commits_nothing() {
    let r = Repo::new();
    let head = rev(&r, "HEAD");
    let run = r.wt(&["new", "job", "x", "--dep", "J-nosuchid"]);
    run.fails_with(3);
    assert!(run.stderr().contains("J-nosuchid"), "{}", run.stderr());
    r.wt(&["new", "job", "x", "--parent", "P-nosuchid"])
        .fails_with(3);
    assert_eq!(rev(&r, "HEAD"), head);
}

#[test]
fn new_rejects_an_out_of_range_priority_an_empty_title_and_an_unknown_kind_with_exit_2() {
    let r = Repo::new();
    let head = rev(&r, "HEAD");
    r.wt(&["new", "job", "x", "-p", "9"]).fails_with(2);
    r.wt(&["new", "job", "   "]).fails_with(2);
    r.wt(&["new", "epic", "x"]).fails_with(2);
    assert_eq!(rev(&r, "HEAD"), head);
}

// ---------------------------------------------------------------- show

#[test]
fn show_finds_a_ticket_by_id_or_unique_prefix_in_any_case() {
    let r = Repo::new();
    let j = r.new_ticket(&["job", "Only job"]);
    let path = r.ticket_path(&j);
    let full = r.wt(&["show", &j]).ok();
    assert!(full.starts_with(&format!("{path}\n")), "{full}");
    assert!(full.contains(&format!("id: {j}\n")), "{full}");
    assert!(full.contains("-- ready"), "{full}");
    let rand = &j[2..];
    for q in [
        j[..5].to_string(),
        j.to_ascii_lowercase(),
        rand[..3].to_string(),
        rand.to_ascii_uppercase(),
    ] {
        assert_eq!(r.wt(&["show", &q]).ok(), full, "query {q}");
    }
    let v = r.wt_json(&["show", &rand[..4]]);
    assert_eq!(v["id"], Value::String(j.clone()));
    assert_eq!(v["ready"], true);
}

#[test]
fn show_with_an_ambiguous_prefix_exits_2_listing_the_candidates() {
    let r = Repo::new();
    let a = r.new_ticket(&["job", "A"]);
    let b = r.new_ticket(&["job", "B"]);
    let run = r.wt(&["show", "J-"]);
    run.fails_with(2);
    assert!(run.stderr().contains("ambiguous"), "{}", run.stderr());
    assert!(
        run.stderr().contains(&a) && run.stderr().contains(&b),
        "{}",
        run.stderr()
    );
    let (code, v) = json_any(&r, &["show", "j"]);
    assert_eq!(code, 2);
    assert_eq!(v["error"]["kind"], "invalid");
}

#[test]
fn show_of_an_unknown_id_exits_3() {
    let r = Repo::new();
    r.new_ticket(&["job", "A"]);
    let run = r.wt(&["show", "J-zzzzzzzz"]);
    run.fails_with(3);
    assert!(run.stderr().contains("J-zzzzzzzz"), "{}", run.stderr());
    let (code, v) = json_any(&r, &["show", "T-0"]);
    assert_eq!(code, 3);
    assert_eq!(v["error"]["code"], 3);
    assert_eq!(v["error"]["kind"], "not_found");
}

// ---------------------------------------------------------------- list, tree

#[test]
fn list_filters_by_status_kind_parent_and_claimant() {
    let r = Repo::without_review();
    let p1 = r.new_ticket(&["phase-spec", "P1"]);
    let p2 = r.new_ticket(&["phase-spec", "P2"]);
    let j1 = r.new_ticket(&["job", "J1", "--parent", &p1]);
    let j2 = r.new_ticket(&["job", "J2", "--parent", &p1]);
    let j3 = r.new_ticket(&["job", "J3", "--parent", &p2]);
    let t1 = r.new_ticket(&["task", "T1", "--parent", &j1]);
    r.wt(&["claim", &j2, "--agent", "ann"]).ok();
    r.wt(&["claim", &j3, "--agent", "bob"]).ok();
    r.wt(&["done", &j3, "--agent", "bob"]).ok();
    let set = |args: &[&str]| {
        let mut a = vec!["list"];
        a.extend_from_slice(args);
        id_set(&r.wt_json(&a))
    };
    let s = |ids: &[&String]| ids.iter().map(|x| x.to_string()).collect();
    assert_eq!(set(&[]), s(&[&p1, &p2, &j1, &j2, &j3, &t1]));
    assert_eq!(set(&["--kind", "job"]), s(&[&j1, &j2, &j3]));
    assert_eq!(set(&["--kind", "phase-spec"]), s(&[&p1, &p2]));
    // J3 was P2's only job: P2 closed with it.
    assert_eq!(set(&["--status", "open"]), s(&[&p1, &j1, &t1]));
    assert_eq!(set(&["--status", "in_progress"]), s(&[&j2]));
    assert_eq!(set(&["--status", "done"]), s(&[&p2, &j3]));
    assert_eq!(set(&["--parent", &p1]), s(&[&j1, &j2]));
    assert_eq!(set(&["--parent", &j1]), s(&[&t1]));
    assert_eq!(set(&["--parent", &p1, "--status", "open"]), s(&[&j1]));
    assert_eq!(set(&["--claimed-by", "ann"]), s(&[&j2]));
    r.wt(&["list", "--status", "bogus"]).fails_with(2);
    r.wt(&["list", "--parent", "P-nosuchid"]).fails_with(3);
    // Text: one line per ticket, with the holder.
    let text = r.wt(&["list", "--status", "in_progress"]).ok();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.contains(&j2) && text.contains("in_progress") && text.contains("(ann)"),
        "{text}"
    );
}

#[test]
fn tree_nests_jobs_under_phase_specs_and_tasks_under_jobs() {
    let r = Repo::new();
    let p = r.new_ticket(&["phase-spec", "Phase"]);
    let j = r.new_ticket(&["job", "Job", "--parent", &p]);
    let t = r.new_ticket(&["task", "Task", "--parent", &j]);
    let lone = r.new_ticket(&["job", "Lone job"]);
    let text = r.wt(&["tree"]).ok();
    let line_of = |id: &str| {
        text.lines()
            .find(|l| l.contains(id))
            .unwrap_or_else(|| panic!("{id} missing from\n{text}"))
            .to_string()
    };
    assert!(line_of(&p).starts_with(&p), "{text}");
    assert!(line_of(&j).starts_with(&format!("  {j}")), "{text}");
    assert!(line_of(&t).starts_with(&format!("    {t}")), "{text}");
    assert!(line_of(&lone).starts_with(&lone), "{text}");
    let v = r.wt_json(&["tree"]);
    assert_eq!(v["schema_version"], 1);
    let roots = v["roots"].as_array().expect("roots");
    assert_eq!(roots.len(), 2);
    let proot = roots.iter().find(|n| n["id"] == p.as_str()).expect("p");
    assert_eq!(proot["children"][0]["id"], j.as_str());
    assert_eq!(proot["children"][0]["children"][0]["id"], t.as_str());
    // A subtree.
    let sub = r.wt_json(&["tree", &j]);
    assert_eq!(sub["roots"].as_array().expect("a").len(), 1);
    assert_eq!(sub["roots"][0]["id"], j.as_str());
    assert_eq!(sub["roots"][0]["children"][0]["id"], t.as_str());
}

// ---------------------------------------------------------------- ready

#[test]
fn ready_defaults_to_jobs_and_takes_task_phase_spec_or_any_and_a_limit() {
    let r = Repo::new();
    let p = r.new_ticket(&["phase-spec", "P"]);
    let j1 = r.new_ticket(&["job", "J1", "--parent", &p, "-p", "1"]);
    let j2 = r.new_ticket(&["job", "J2", "--parent", &p, "-p", "3"]);
    let t = r.new_ticket(&["task", "T", "--parent", &j1]);
    let ready = |args: &[&str]| {
        let mut a = vec!["ready"];
        a.extend_from_slice(args);
        ids(&r.wt_json(&a))
    };
    assert_eq!(ready(&[]), vec![j1.clone(), j2.clone()]);
    assert_eq!(ready(&["--kind", "job"]), vec![j1.clone(), j2.clone()]);
    assert_eq!(ready(&["--kind", "task"]), vec![t.clone()]);
    assert_eq!(ready(&["--kind", "phase-spec"]), vec![p.clone()]);
    assert_eq!(
        id_set(&r.wt_json(&["ready", "--kind", "any"])),
        [&p, &j1, &j2, &t].iter().map(|s| s.to_string()).collect()
    );
    assert_eq!(ready(&["--limit", "1"]), vec![j1.clone()]);
    assert_eq!(ready(&["--kind", "any", "--limit", "2"]).len(), 2);
    assert_eq!(ready(&["--limit", "0"]), Vec::<String>::new());
    let text = r.wt(&["ready"]).ok();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.lines().next().is_some_and(|l| l.contains(&j1)));
    r.wt(&["ready", "--kind", "epic"]).fails_with(2);
}

/// Regression: `--kind` on `ready` and `claim --next` was declared `Option<Option<Kind>>`,
/// which clap's derive reads as "flag with optional value", so every `--kind VALUE` panicked
/// with "Mismatch between definition and access of `kind`".
#[test]
fn regression_ready_and_claim_next_kind_flag_panicked_in_clap() {
    let r = Repo::new();
    let t_parent = r.new_ticket(&["job", "J"]);
    let t = r.new_ticket(&["task", "T", "--parent", &t_parent]);
    for k in ["job", "task", "phase-spec", "any", "ANY", "all"] {
        let run = r.wt(&["ready", "--kind", k]);
        assert!(!run.stderr().contains("panicked"), "{k}: {}", run.stderr());
        run.ok();
    }
    let v = r.wt_json(&["claim", "--next", "--kind", "task", "--agent", "a"]);
    assert_eq!(v["id"], t.as_str());
    let v = r.wt_json(&["claim", "--next", "--kind", "any", "--agent", "a"]);
    assert_eq!(v["id"], t_parent.as_str());
}

#[test]
fn ready_with_nothing_ready_prints_an_empty_list_and_says_so() {
    let r = Repo::new();
    assert_eq!(
        r.wt_json(&["ready"]),
        serde_json::json!({"schema_version": 1, "kind": "job", "mode": "ready", "tickets": [], "skipped": []})
    );
    let text = r.wt(&["ready"]).ok();
    assert!(text.contains("nothing ready"), "{text}");
}

// ---------------------------------------------------------------- blocked

#[test]
fn blocked_names_the_dependency_and_the_ancestor_that_hold_a_ticket_back() {
    let r = Repo::new();
    let base = r.new_ticket(&["job", "Base"]);
    let waits = r.new_ticket(&["job", "Waits", "--dep", &base]);
    let p1 = r.new_ticket(&["phase-spec", "First phase"]);
    let p2 = r.new_ticket(&["phase-spec", "Second phase", "--dep", &p1]);
    let inner = r.new_ticket(&["job", "Inner", "--parent", &p2]);
    let text = r.wt(&["blocked"]).ok();
    assert!(text.contains(&format!("waits on {base} (open)")), "{text}");
    assert!(
        text.contains(&format!("ancestor {p2} waits on {p1} (open)")),
        "{text}"
    );
    let v = r.wt_json(&["blocked"]);
    let row = |id: &str| {
        tickets(&v)
            .iter()
            .find(|x| x["id"] == id)
            .unwrap_or_else(|| panic!("{id} not blocked: {v}"))
            .clone()
    };
    let w = row(&waits);
    assert_eq!(w["blocked_by"][0]["reason"], "dependency");
    assert_eq!(w["blocked_by"][0]["id"], base.as_str());
    let i = row(&inner);
    assert_eq!(i["blocked_by"][0]["reason"], "ancestor");
    assert_eq!(i["blocked_by"][0]["id"], p2.as_str());
    assert_eq!(i["blocked_by"][0]["because"]["reason"], "dependency");
    assert_eq!(i["blocked_by"][0]["because"]["id"], p1.as_str());
    let p2row = row(&p2);
    assert_eq!(p2row["blocked_by"][0]["id"], p1.as_str());
    // Ready tickets are not listed.
    assert!(tickets(&v).iter().all(|x| x["id"] != base.as_str()));
    let jobs = r.wt_json(&["blocked", "--kind", "job"]);
    assert_eq!(
        id_set(&jobs),
        [&waits, &inner].iter().map(|s| s.to_string()).collect()
    );
}

// ---------------------------------------------------------------- claim, release

#[test]
fn claim_takes_the_agent_from_the_flag_then_wt_agent_then_git_user_name() {
    let r = Repo::new();
    let a = r.new_ticket(&["job", "A"]);
    let b = r.new_ticket(&["job", "B"]);
    let c = r.new_ticket(&["job", "C"]);
    let d = r.new_ticket(&["job", "D"]);
    // Nobody: exit 2 with a hint.
    let run = r.wt(&["claim", &d]);
    run.fails_with(2);
    assert!(run.stderr().contains("WT_AGENT"), "{}", run.stderr());
    r.git(&["config", "user.name", "Git Person"]).ok();
    let env = [("WT_AGENT", "env-agent")];
    r.wt_env(&r.root, &["claim", &a, "--agent", "flag-agent"], &env)
        .ok();
    r.wt_env(&r.root, &["claim", &b], &env).ok();
    r.wt(&["claim", &c]).ok();
    assert_eq!(r.wt_json(&["show", &a])["claimed_by"], "flag-agent");
    assert_eq!(r.wt_json(&["show", &b])["claimed_by"], "env-agent");
    assert_eq!(r.wt_json(&["show", &c])["claimed_by"], "Git Person");
    let v = r.wt_json(&["show", &c]);
    assert_eq!(v["status"], "in_progress");
    assert_eq!(v["claimed_at"], NOW);
    let msg = message_of(&r, "HEAD");
    assert!(
        msg.starts_with(&format!("wt: claim {c} \"C\" (Git Person)")),
        "{msg}"
    );
    assert!(msg.contains("Wt-Agent: Git Person\n"), "{msg}");
}

#[test]
fn claiming_a_ticket_someone_else_holds_exits_4_and_names_the_holder() {
    let r = Repo::new();
    let j = r.new_ticket(&["job", "Contended"]);
    r.wt(&["claim", &j, "--agent", "alice"]).ok();
    let head = rev(&r, "HEAD");
    let run = r.wt(&["claim", &j, "--agent", "bob"]);
    run.fails_with(4);
    assert!(run.stderr().contains("alice"), "{}", run.stderr());
    assert!(run.stderr().contains("hint:"), "{}", run.stderr());
    let run = r.wt(&["--json", "claim", &j, "--agent", "bob"]);
    run.fails_with(4);
    let v = run.json();
    assert_eq!(v["error"]["code"], 4);
    assert_eq!(v["error"]["kind"], "already_claimed");
    assert_eq!(v["error"]["detail"]["claimed_by"], "alice");
    assert_eq!(v["error"]["detail"]["id"], j.as_str());
    assert!(v["error"]["message"].as_str().expect("m").contains("alice"));
    // --force does not steal a claim either.
    r.wt(&["claim", &j, "--agent", "bob", "--force"])
        .fails_with(4);
    assert_eq!(rev(&r, "HEAD"), head);
    assert_eq!(r.wt_json(&["show", &j])["claimed_by"], "alice");
}

#[test]
fn claiming_your_own_claim_again_exits_0_without_a_new_commit() {
    let r = Repo::new();
    let j = r.new_ticket(&["job", "Mine"]);
    let first = r.wt_json(&["claim", &j, "--agent", "alice"]);
    assert_eq!(first["already_yours"], false);
    assert!(first["commit"].is_string());
    let head = rev(&r, "HEAD");
    let again = r.wt_json(&["claim", &j, "--agent", "alice"]);
    assert_eq!(again["already_yours"], true);
    assert_eq!(again["commit"], Value::Null);
    let text = r.wt(&["claim", &j, "--agent", "alice"]).ok();
    assert!(text.contains("already claimed by you"), "{text}");
    assert_eq!(rev(&r, "HEAD"), head);
}

#[test]
fn claiming_a_blocked_ticket_is_refused_with_exit_5_unless_forced() {
    let r = Repo::without_review();
    let a = r.new_ticket(&["job", "A"]);
    let b = r.new_ticket(&["job", "B", "--dep", &a]);
    let head = rev(&r, "HEAD");
    let run = r.wt(&["claim", &b, "--agent", "x"]);
    run.fails_with(5);
    assert!(run.stderr().contains(&a), "{}", run.stderr());
    assert_eq!(rev(&r, "HEAD"), head);
    r.wt(&["claim", &b, "--agent", "x", "--force"]).ok();
    assert_eq!(r.wt_json(&["show", &b])["claimed_by"], "x");
    // A finished ticket cannot be claimed.
    r.wt(&["claim", &a, "--agent", "y"]).ok();
    r.wt(&["done", &a, "--agent", "y"]).ok();
    r.wt(&["claim", &a, "--agent", "z"]).fails_with(5);
}

#[test]
fn claim_next_takes_the_best_ready_ticket_and_exits_3_when_nothing_is_ready() {
    let r = Repo::new();
    let low = r.new_ticket(&["job", "Low", "-p", "3"]);
    let high = r.new_ticket(&["job", "High", "-p", "0"]);
    let task = r.new_ticket(&["task", "Task", "--parent", &low]);
    let first = r.wt_json(&["claim", "--next", "--agent", "a1"]);
    assert_eq!(first["id"], high.as_str());
    assert_eq!(first["claimed_by"], "a1");
    let second = r.wt_json(&["claim", "--next", "--agent", "a2"]);
    assert_eq!(second["id"], low.as_str());
    let head = rev(&r, "HEAD");
    let run = r.wt(&["claim", "--next", "--agent", "a3"]);
    run.fails_with(3);
    assert!(run.stderr().contains("hint:"), "{}", run.stderr());
    assert_eq!(rev(&r, "HEAD"), head);
    let t = r.wt_json(&["claim", "--next", "--kind", "task", "--agent", "a3"]);
    assert_eq!(t["id"], task.as_str());
    // An ID and --next together are invalid.
    r.wt(&["claim", &low, "--next", "--agent", "a"])
        .fails_with(2);
}

#[test]
fn release_is_for_the_holder_unless_forced_and_makes_the_ticket_ready_again() {
    let r = Repo::new();
    let j = r.new_ticket(&["job", "J"]);
    r.wt(&["release", &j, "--agent", "alice"]).fails_with(5);
    r.wt(&["claim", &j, "--agent", "alice"]).ok();
    assert!(ids(&r.wt_json(&["ready"])).is_empty());
    let head = rev(&r, "HEAD");
    let run = r.wt(&["release", &j, "--agent", "bob"]);
    run.fails_with(5);
    assert!(run.stderr().contains("alice"), "{}", run.stderr());
    assert_eq!(rev(&r, "HEAD"), head);
    assert_eq!(r.wt_json(&["show", &j])["claimed_by"], "alice");
    let v = r.wt_json(&["release", &j, "--agent", "bob", "--force"]);
    assert_eq!(v["status"], "open");
    assert_eq!(v["claimed_by"], Value::Null);
    let shown = r.wt_json(&["show", &j]);
    assert_eq!(shown["status"], "open");
    assert_eq!(shown["claimed_by"], Value::Null);
    assert_eq!(shown["claimed_at"], Value::Null);
    assert_eq!(ids(&r.wt_json(&["ready"])), vec![j.clone()]);
    assert!(message_of(&r, "HEAD").contains("Wt-Verb: release\n"));
    // The holder releases without --force.
    r.wt(&["claim", &j, "--agent", "carol"]).ok();
    r.wt(&["release", &j, "--agent", "carol"]).ok();
    assert_eq!(ids(&r.wt_json(&["ready"])), vec![j]);
}

// ---------------------------------------------------------------- done

/// A job whose Acceptance Criteria has one unchecked box, committed with git; returns
/// (id, path, line of the box).
fn job_with_criterion(r: &Repo, title: &str) -> (String, String, usize) {
    let id = r.new_ticket(&["job", title]);
    let path = r.ticket_path(&id);
    let text = r.read(&path);
    let text = text.replacen(
        "## Acceptance Criteria\n",
        "## Acceptance Criteria\n\n- [x] compiles\n- [ ] tests pass on CI\n",
        1,
    );
    let line = text
        .lines()
        .position(|l| l == "- [ ] tests pass on CI")
        .expect("box")
        + 1;
    git_commit_file(r, &path, &text, "add criteria");
    (id, path, line)
}

#[test]
fn done_is_only_for_the_claimant() {
    let r = Repo::without_review();
    let j = r.new_ticket(&["job", "J"]);
    r.wt(&["done", &j, "--agent", "alice"]).fails_with(5);
    r.wt(&["claim", &j, "--agent", "alice"]).ok();
    let head = rev(&r, "HEAD");
    let run = r.wt(&["done", &j, "--agent", "bob"]);
    run.fails_with(5);
    assert!(run.stderr().contains("alice"), "{}", run.stderr());
    assert_eq!(rev(&r, "HEAD"), head);
    let v = r.wt_json(&["done", &j, "--agent", "alice"]);
    assert_eq!(v["status"], "done");
    assert_eq!(v["claimed_by"], Value::Null);
    let shown = r.wt_json(&["show", &j]);
    assert_eq!(shown["status"], "done");
    assert_eq!(shown["claimed_by"], Value::Null);
    // Done again: nothing to do, no commit.
    let head = rev(&r, "HEAD");
    r.wt(&["done", &j, "--agent", "alice"]).ok();
    assert_eq!(rev(&r, "HEAD"), head);
}

#[test]
fn done_with_an_unchecked_acceptance_criterion_exits_5_naming_item_and_line() {
    let r = Repo::without_review();
    let (id, path, line) = job_with_criterion(&r, "Criteria");
    r.wt(&["claim", &id, "--agent", "a"]).ok();
    let head = rev(&r, "HEAD");
    let run = r.wt(&["done", &id, "--agent", "a"]);
    run.fails_with(5);
    let err = run.stderr();
    assert!(
        err.contains(&format!(
            "criterion 2 is not ticked: tests pass on CI ({path}:{line})"
        )),
        "{err}"
    );
    assert!(err.contains(&format!("`wt tick {id} 2`")), "{err}");
    assert!(!err.contains("compiles"), "{err}");
    assert_eq!(rev(&r, "HEAD"), head);
    assert_eq!(r.wt_json(&["show", &id])["status"], "in_progress");
    // Tick it as the refusal says, through wt; then done succeeds.
    let before = r.read(&path);
    r.wt(&["tick", &id, "2", "--agent", "a"]).ok();
    assert_eq!(
        r.read(&path),
        before.replace("- [ ] tests pass on CI", "- [x] tests pass on CI")
    );
    r.wt(&["done", &id, "--agent", "a"]).ok();
    assert_eq!(r.wt_json(&["show", &id])["status"], "done");
}

#[test]
fn done_with_a_missing_or_empty_artifact_exits_5() {
    let r = Repo::without_review();
    let j = r.new_ticket(&["job", "Report", "--artifact", "out/report.txt"]);
    r.wt(&["claim", &j, "--agent", "a"]).ok();
    let run = r.wt(&["done", &j, "--agent", "a"]);
    run.fails_with(5);
    assert!(run.stderr().contains("out/report.txt"), "{}", run.stderr());
    git_commit_file(&r, "out/report.txt", "", "empty report");
    let run = r.wt(&["done", &j, "--agent", "a"]);
    run.fails_with(5);
    assert!(run.stderr().contains("out/report.txt"), "{}", run.stderr());
    assert_eq!(r.wt_json(&["show", &j])["status"], "in_progress");
    // On disk but not committed: done judges the commit, not the working tree.
    r.write("out/report.txt", "all good\n");
    let run = r.wt(&["done", &j, "--agent", "a"]);
    run.fails_with(5);
    assert!(
        run.stderr()
            .contains("artifact out/report.txt is missing or empty in commit"),
        "{}",
        run.stderr()
    );
    assert!(
        run.stderr().contains("commit the artifacts"),
        "{}",
        run.stderr()
    );
    git_commit_file(&r, "out/report.txt", "all good\n", "report");
    let head = rev(&r, "HEAD");
    let v = r.wt_json(&["done", &j, "--agent", "a"]);
    assert_eq!(v["status"], "done");
    assert_eq!(v["checked_commit"], head.as_str());
    // The artifact is evidence, not part of the wt commit.
    assert!(files_of(&r, "HEAD").iter().all(|f| f.starts_with(".work/")));
}

#[test]
fn done_with_force_records_the_reason_in_the_commit_trailer_and_the_ticket() {
    let r = Repo::without_review();
    let (id, path, _) = job_with_criterion(&r, "Forced");
    r.wt(&["claim", &id, "--agent", "alice"]).ok();
    // --force without --reason is invalid.
    r.wt(&["done", &id, "--agent", "bob", "--force"])
        .fails_with(2);
    r.wt(&["done", &id, "--agent", "bob", "--force", "--reason", "  "])
        .fails_with(2);
    r.wt(&[
        "done",
        &id,
        "--agent",
        "bob",
        "--force",
        "--reason",
        "verified by hand on staging",
    ])
    .ok();
    let msg = message_of(&r, "HEAD");
    assert!(
        msg.contains("Wt-Forced: verified by hand on staging\n"),
        "{msg}"
    );
    assert!(msg.contains("tests pass on CI"), "{msg}");
    assert!(msg.contains("Wt-Agent: bob\n"), "{msg}");
    let text = r.read(&path);
    let progress = text.split("## Progress").nth(1).expect("progress section");
    assert!(
        progress.contains("bob: done by force: verified by hand on staging"),
        "{text}"
    );
    assert_eq!(r.wt_json(&["show", &id])["status"], "done");
}

// ---------------------------------------------------------------- dep

#[test]
fn dep_add_and_rm_edit_the_edge_and_ready_follows() {
    let r = Repo::new();
    let a = r.new_ticket(&["job", "A"]);
    let b = r.new_ticket(&["job", "B"]);
    let v = r.wt_json(&["dep", "add", &b, &a]);
    assert_eq!(v["changed"], true);
    assert_eq!(v["depends_on"], serde_json::json!([a]));
    assert_eq!(ids(&r.wt_json(&["ready"])), vec![a.clone()]);
    let msg = message_of(&r, "HEAD");
    assert!(msg.starts_with(&format!("wt: dep add {b} {a}")), "{msg}");
    // Adding it again changes nothing.
    let head = rev(&r, "HEAD");
    assert_eq!(r.wt_json(&["dep", "add", &b, &a])["changed"], false);
    assert_eq!(rev(&r, "HEAD"), head);
    let v = r.wt_json(&["dep", "rm", &b, &a]);
    assert_eq!(v["changed"], true);
    assert_eq!(v["depends_on"], serde_json::json!([]));
    assert_eq!(
        id_set(&r.wt_json(&["ready"])),
        [&a, &b].iter().map(|s| s.to_string()).collect()
    );
    let head = rev(&r, "HEAD");
    assert_eq!(r.wt_json(&["dep", "rm", &b, &a])["changed"], false);
    assert_eq!(rev(&r, "HEAD"), head);
    r.wt(&["dep", "add", &b, "J-nosuchid"]).fails_with(3);
}

#[test]
fn dep_add_that_would_close_a_cycle_exits_2_naming_the_cycle() {
    let r = Repo::new();
    let a = r.new_ticket(&["job", "A"]);
    let b = r.new_ticket(&["job", "B", "--dep", &a]);
    let c = r.new_ticket(&["job", "C", "--dep", &b]);
    let head = rev(&r, "HEAD");
    let run = r.wt(&["dep", "add", &a, &c]);
    run.fails_with(2);
    assert!(
        run.stderr().contains(&format!("{a} -> {c} -> {b} -> {a}")),
        "{}",
        run.stderr()
    );
    let run = r.wt(&["dep", "add", &a, &a]);
    run.fails_with(2);
    assert!(run.stderr().contains("cycle"), "{}", run.stderr());
    assert_eq!(rev(&r, "HEAD"), head);
    assert_eq!(
        r.wt_json(&["show", &a])["depends_on"],
        serde_json::json!([])
    );
}

// ---------------------------------------------------------------- import

#[test]
fn import_creates_every_ticket_in_one_commit_and_prints_the_key_to_id_map() {
    let r = Repo::new();
    let before = commit_count(&r, "main");
    let map = r.import(
        r#"[
          {"key": "p", "kind": "phase-spec", "title": "Phase"},
          {"key": "schema", "kind": "job", "title": "Schema", "parent": "p", "priority": 1},
          {"key": "api", "kind": "job", "title": "API", "parent": "p", "depends_on": ["schema"]},
          {"key": "t1", "kind": "task", "title": "Write migration", "parent": "schema",
           "labels": ["db"], "description": "Use the new column."},
          {"key": "old", "kind": "job", "title": "Already there", "status": "done"}
        ]"#,
    );
    assert_eq!(commit_count(&r, "main"), before + 1);
    assert_eq!(map.len(), 5);
    let id = |k: &str| map[k].as_str().expect("id").to_string();
    assert!(id("p").starts_with("P-"));
    assert!(id("schema").starts_with("J-") && id("api").starts_with("J-"));
    assert!(id("t1").starts_with("T-"));
    let api = r.wt_json(&["show", &id("api")]);
    assert_eq!(api["parent"], id("p").as_str());
    assert_eq!(api["depends_on"], serde_json::json!([id("schema")]));
    let t1 = r.wt_json(&["show", &id("t1")]);
    assert_eq!(t1["parent"], id("schema").as_str());
    assert_eq!(t1["labels"], serde_json::json!(["db"]));
    assert!(t1["body"]
        .as_str()
        .expect("b")
        .contains("Use the new column."));
    let p_path = r.ticket_path(&id("p"));
    let t1_path = t1["path"].as_str().expect("path");
    assert!(
        t1_path.starts_with(&format!(
            "{}/{}-",
            p_path.trim_end_matches(".md"),
            id("schema")
        )),
        "{t1_path}"
    );
    assert_eq!(r.wt_json(&["show", &id("old")])["status"], "done");
    let files = files_of(&r, "HEAD");
    assert_eq!(files.len(), 5, "{files:?}");
    let msg = message_of(&r, "HEAD");
    assert!(msg.contains("Wt-Verb: import\n"), "{msg}");
    for k in ["p", "schema", "api", "t1", "old"] {
        assert!(msg.contains(&format!("Wt-Ticket: {}\n", id(k))), "{msg}");
    }
    assert_eq!(ids(&r.wt_json(&["ready"])), vec![id("schema")]);
    // A second import may refer to existing tickets by ID.
    let more = r.import(&format!(
        r#"[{{"key": "x", "kind": "job", "title": "X", "depends_on": ["{}"]}}]"#,
        id("api")
    ));
    let x = more["x"].as_str().expect("x");
    assert_eq!(
        r.wt_json(&["show", x])["depends_on"],
        serde_json::json!([id("api")])
    );
    // Text output lists each key.
    let plan = r.home().join("one.json");
    std::fs::write(&plan, r#"[{"key": "k1", "kind": "job", "title": "K"}]"#).expect("w");
    let text = r.wt(&["import", plan.to_str().expect("utf8")]).ok();
    assert!(
        text.contains("imported 1 ticket\n") && text.contains("k1 -> J-"),
        "{text}"
    );
}

#[test]
fn import_of_bad_json_exits_2_with_line_and_column_and_commits_nothing() {
    let r = Repo::new();
    let head = rev(&r, "HEAD");
    let plan = r.home().join("bad.json");
    std::fs::write(
        &plan,
        "[\n  {\"key\": \"a\", \"kind\": \"job\", \"title\": \"A\"},\n  {\"key\": \"b\" \"kind\": \"job\"}\n]\n",
    )
    .expect("write");
    let run = r.wt(&["import", plan.to_str().expect("utf8")]);
    run.fails_with(2);
    assert!(run.stderr().contains("bad.json:3:15"), "{}", run.stderr());
    assert!(run.stderr().contains("hint:"), "{}", run.stderr());
    let run = r.wt(&["--json", "import", plan.to_str().expect("utf8")]);
    run.fails_with(2);
    assert!(run.json()["error"]["message"]
        .as_str()
        .expect("m")
        .contains(":3:15"));
    // Well-formed JSON with a wrong field, a wrong kind, an unknown key, a cycle, a parent of
    // the wrong kind: all refused, nothing committed.
    for (body, code) in [
        (
            r#"[{"key": "a", "kind": "job", "title": "A", "colour": "red"}]"#,
            2,
        ),
        (r#"[{"key": "a", "kind": "epic", "title": "A"}]"#, 2),
        (
            r#"[{"key": "a", "kind": "job", "title": "A", "depends_on": ["zz"]}]"#,
            3,
        ),
        (
            r#"[{"key": "a", "kind": "job", "title": "A", "depends_on": ["b"]},
                {"key": "b", "kind": "job", "title": "B", "depends_on": ["a"]}]"#,
            2,
        ),
        (
            r#"[{"key": "a", "kind": "job", "title": "A"},
                {"key": "b", "kind": "job", "title": "B", "parent": "a"}]"#,
            2,
        ),
        ("[]", 2),
    ] {
        std::fs::write(&plan, body).expect("write");
        let run = r.wt(&["import", plan.to_str().expect("utf8")]);
        run.fails_with(code);
    }
    assert_eq!(rev(&r, "HEAD"), head);
    assert_eq!(
        r.wt_json(&["list"]),
        serde_json::json!({"schema_version": 1, "tickets": []})
    );
}

// ---------------------------------------------------------------- log

#[test]
fn log_lists_the_history_of_one_ticket_newest_first() {
    let r = Repo::new();
    let a = r.new_ticket(&["job", "A"]);
    let b = r.new_ticket(&["job", "B"]);
    r.wt(&["claim", &a, "--agent", "ann"]).ok();
    r.wt(&["claim", &b, "--agent", "bob"]).ok();
    r.wt(&["done", &a, "--agent", "ann"]).ok();
    let v = r.wt_json(&["log", &a]);
    assert_eq!(v["schema_version"], 1);
    let entries = v["entries"].as_array().expect("entries");
    let verbs: Vec<&str> = entries
        .iter()
        .map(|e| e["verb"].as_str().expect("verb"))
        .collect();
    assert_eq!(verbs, vec!["done", "claim", "new"]);
    assert_eq!(entries[0]["agent"], "ann");
    assert!(entries[0]["subject"]
        .as_str()
        .expect("s")
        .starts_with(&format!("wt: done {a}")));
    assert_eq!(entries[0]["commit"].as_str().expect("c"), rev(&r, "HEAD"));
    let text = r.wt(&["log", &a]).ok();
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(!text.contains(&b), "{text}");
    // A hand edit committed with git shows up too.
    let path = r.ticket_path(&b);
    let edited = r.read(&path) + "\nA note.\n";
    git_commit_file(&r, &path, &edited, "note on B");
    let v = r.wt_json(&["log", &b]);
    assert_eq!(v["entries"][0]["subject"], "note on B");
    assert_eq!(v["entries"].as_array().expect("a").len(), 3);
}

// ---------------------------------------------------------------- --json, --help

#[test]
fn every_verb_prints_exactly_one_json_document_with_json() {
    let r = Repo::new();
    let plan = r.home().join("plan.json");
    std::fs::write(
        &plan,
        r#"[{"key": "p", "kind": "phase-spec", "title": "P"},
            {"key": "j", "kind": "job", "title": "J", "parent": "p"}]"#,
    )
    .expect("write");
    let map = r.wt_json(&["import", plan.to_str().expect("utf8")]);
    let j = map["ids"]["j"].as_str().expect("j").to_string();
    let p = map["ids"]["p"].as_str().expect("p").to_string();
    // Lower priority than J, so `claim --next` below takes J.
    let k = r.wt_json(&["new", "job", "K", "--agent", "a", "-p", "3"])["id"]
        .as_str()
        .expect("id")
        .to_string();
    let cases: Vec<(Vec<&str>, i32)> = vec![
        (vec!["init"], 0),
        (vec!["show", &j], 0),
        (vec!["list"], 0),
        (vec!["tree"], 0),
        (vec!["ready"], 0),
        (vec!["ready", "--kind", "any"], 0),
        (vec!["blocked"], 0),
        (vec!["dep", "add", &k, &j, "--agent", "a"], 0),
        (vec!["dep", "rm", &k, &j, "--agent", "a"], 0),
        (vec!["claim", &j, "--agent", "a"], 0),
        (vec!["claim", &j, "--agent", "b"], 4),
        (vec!["release", &j, "--agent", "a"], 0),
        (vec!["claim", "--next", "--agent", "a"], 0),
        (vec!["done", &j, "--agent", "a"], 0),
        (vec!["check"], 0),
        (vec!["log", &j], 0),
        (vec!["show", "J-zzzzzzzz"], 3),
        (vec!["new", "job", "x", "--parent", &j], 2),
        (vec!["release", &p, "--agent", "a"], 5),
    ];
    for (args, code) in cases {
        let mut a = vec!["--json"];
        a.extend_from_slice(&args);
        let run = r.wt(&a);
        assert_eq!(
            run.code(),
            code,
            "{args:?}\n{}\n{}",
            run.stdout(),
            run.stderr()
        );
        let v: Value = run.json();
        if code == 0 {
            assert!(v.get("error").is_none(), "{args:?}: {v}");
        } else {
            assert_eq!(v["error"]["code"], code, "{args:?}: {v}");
            assert!(v["error"]["message"].is_string(), "{args:?}: {v}");
        }
    }
    // --json may come after the verb too.
    let run = r.wt(&["list", "--json"]);
    run.ok();
    assert_eq!(run.json()["schema_version"], 1);
}

/// Every `--json` document, success or error, is an object whose first field is
/// `"schema_version": 1` (docs/reference/json.md). One loop over every verb, in an order that
/// takes one ticket through its whole life on one repository.
#[test]
fn every_json_document_is_an_object_that_starts_with_schema_version_1() {
    let r = Repo::new();
    let items = r.home().join("items.json");
    std::fs::write(
        &items,
        r#"[{"key": "j", "kind": "job", "title": "J", "priority": 1, "files": ["src/j.rs"]},
            {"key": "t", "kind": "task", "title": "T", "parent": "j"}]"#,
    )
    .expect("write");
    let plan = r.home().join("plan.md");
    std::fs::write(&plan, "## Gated\n\nGate: approval\n\n### Behind the gate\n").expect("write");
    let out = r.home().join("exported.md");
    let bundle = r.home().join("bundle.md");
    let [items, plan, out, bundle] = [items, plan, out, bundle].map(|p| p.display().to_string());
    let ids = r.import(r#"[{"key": "k", "kind": "job", "title": "K", "priority": 3}]"#);
    let k = ids["k"].as_str().expect("k").to_string();
    let step = |args: &[&str], code: i32| -> Value {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        let run = r.wt(&a);
        assert_eq!(
            run.code(),
            code,
            "{args:?}\n{}\n{}",
            run.stdout(),
            run.stderr()
        );
        let text = run.stdout();
        assert!(
            text.starts_with("{\n  \"schema_version\": 1,"),
            "{args:?} does not start with schema_version 1:\n{text}"
        );
        let v = run.json();
        assert!(v.is_object(), "{args:?}: {v}");
        assert_eq!(v["schema_version"], 1, "{args:?}");
        assert_eq!(v.get("error").is_some(), code != 0, "{args:?}: {v}");
        v
    };
    step(&["init"], 0);
    let tk = r.home().join("tk");
    std::fs::create_dir_all(tk.join(".tickets")).expect("mkdir");
    std::fs::write(
        tk.join(".tickets/x-0001.md"),
        "---\nid: x-0001\nstatus: open\ndeps: []\n---\n# From tk\n",
    )
    .expect("write");
    let tk = tk.display().to_string();
    step(&["import", "--from", "tk", &tk, "--dry-run"], 0);
    step(&["import", "--from", "tk", &tk], 0);
    step(&["import", "--from", "tk", &tk], 0);
    step(&["import", "--from", "beads", &tk], 3);
    let imported = step(&["import", &items], 0);
    let j = imported["ids"]["j"].as_str().expect("j").to_string();
    let t = imported["ids"]["t"].as_str().expect("t").to_string();
    step(&["new", "task", "U", "--parent", &k], 0);
    step(&["plan", "import", &plan, "--dry-run"], 0);
    let gated = step(&["plan", "import", &plan], 0);
    let gate = gated["nodes"][0]["id"]
        .as_str()
        .expect("gate id")
        .to_string();
    for read in [
        &["show", &j][..],
        &["list"],
        &["list", "--kind", "task"],
        &["tree"],
        &["tree", &j],
        &["ready"],
        &["ready", "--kind", "any"],
        &["ready", "--parallel", "2"],
        &["ready", "--review"],
        &["blocked"],
        &["graph"],
        &["graph", "--kind", "any", "--format", "dot"],
        &["status"],
        &["check"],
        &["log", &j],
        &["context", &j],
        &["context", &j, "--out", &bundle],
        &["plan", "export"],
        &["plan", "export", "--out", &out],
        &["doctor"],
        &["ci"],
        &["ci", "--since", "HEAD~1"],
        &["hook", "status"],
        &["prime"],
        &["completions", "bash"],
        &["man"],
    ] {
        step(read, 0);
    }
    let man_dir = r.home().join("man1").display().to_string();
    step(&["man", &man_dir], 0);
    step(&["setup"], 0);
    step(&["dep", "add", &k, &j, "--agent", "a"], 0);
    step(&["dep", "rm", &k, &j, "--agent", "a"], 0);
    step(&["approve", &gate, "--agent", "boss"], 0);
    let claimed = step(&["claim", &j, "--agent", "a"], 0);
    let token = claimed["claim_token"].as_str().expect("token").to_string();
    step(&["claim", &j, "--agent", "b"], 4);
    step(&["claim", &t, "--agent", "a"], 0);
    step(&["tick", &t, "--all", "--agent", "a"], 2);
    step(&["done", &t, "--agent", "a"], 0);
    step(&["heartbeat", &j, "--agent", "a", "--token", &token], 0);
    step(&["progress", &j, "did it", "--agent", "a"], 0);
    step(&["release", &j, "--agent", "a"], 0);
    step(&["claim", "--next", "--agent", "a"], 0);
    step(&["done", &j, "--agent", "a"], 0);
    step(&["claim", "--next", "--review", "--agent", "auditor"], 0);
    step(&["fail", &j, "-m", "again", "--agent", "auditor"], 0);
    step(&["claim", "--next", "--batch", "1", "--agent", "a"], 0);
    step(&["done", &j, "--agent", "a"], 0);
    step(&["claim", &j, "--agent", "auditor"], 0);
    step(&["pass", &j, "--agent", "auditor"], 0);
    step(&["reopen", &j, "--agent", "human"], 0);
    step(&["hook", "install"], 0);
    step(&["hook", "run", "pre-commit"], 0);
    step(&["hook", "uninstall"], 0);
    step(&["sync"], 7);
    step(&["show", "J-zzzzzzzz"], 3);
    step(&["new", "job", "x", "--parent", &j], 2);
    step(&["claim"], 2);
    step(&["ready", "--no-such-flag"], 2);
}

#[test]
fn help_lists_every_exit_code() {
    let r = Repo::new();
    let out = r.wt(&["--help"]).ok();
    assert!(out.contains("Exit codes:"), "{out}");
    for (code, word) in [
        (0, "success"),
        (1, "error"),
        (2, "invalid input"),
        (3, "not found"),
        (4, "already claimed"),
        (5, "refused"),
        (6, "busy"),
        (7, "not set up"),
    ] {
        assert!(
            out.lines()
                .any(|l| l.trim_start().starts_with(&format!("{code}  {word}"))),
            "exit code {code} ({word}) missing from --help:\n{out}"
        );
    }
    for verb in [
        "init", "new", "show", "list", "tree", "ready", "blocked", "claim", "release", "done",
        "dep", "check", "import", "log",
    ] {
        assert!(
            out.lines().any(|l| l.trim_start().starts_with(verb)),
            "{verb} missing from --help"
        );
    }
    // An unknown verb is invalid input.
    r.wt(&["frobnicate"]).fails_with(2);
}

#[test]
fn dash_c_runs_wt_as_if_started_in_that_directory() {
    let r = Repo::new();
    let j = r.new_ticket(&["job", "J"]);
    let elsewhere = r.home();
    let root = r.root.to_str().expect("utf8");
    let run = r.wt_in(&elsewhere, &["-C", root, "--json", "ready"]);
    run.ok();
    assert_eq!(ids(&run.json()), vec![j.clone()]);
    r.wt_in(&elsewhere, &["-C", root, "claim", &j, "--agent", "a"])
        .ok();
    assert_eq!(r.wt_json(&["show", &j])["claimed_by"], "a");
    r.wt_in(&elsewhere, &["ready"]).fails_with(7);
}

/// Regression: `wt init` run again from a feature branch (which carries `.work/` from main)
/// said "already set up on branch feature" and pointed git config `wt.branch` at the
/// feature branch, so every later write went there and the ticket state forked.
#[test]
fn regression_init_again_on_a_feature_branch_moved_the_state_branch() {
    let r = Repo::new();
    let j = r.new_ticket(&["job", "J"]);
    r.git(&["switch", "-q", "-c", "feature"]).ok();
    let feature_head = rev(&r, "HEAD");
    let main_head = rev(&r, "main");
    let v = r.wt_json(&["init"]);
    assert_eq!(v["already"], true);
    assert_eq!(v["branch"], "main");
    assert_eq!(r.git(&["config", "wt.branch"]).ok().trim(), "main");
    assert_eq!(rev(&r, "main"), main_head);
    r.wt(&["claim", &j, "--agent", "a"]).ok();
    assert_eq!(
        rev(&r, "HEAD"),
        feature_head,
        "the write went to the feature branch"
    );
    assert!(r.subjects("main")[0].starts_with(&format!("wt: claim {j}")));
}

/// `wt --json list` prints its tickets straight from a struct, every other command through
/// a JSON value (whose keys print sorted): the text must be the same, so the keys of each
/// ticket object come out sorted, and with every field a ticket can have.
#[test]
fn list_json_prints_tickets_exactly_as_the_other_commands_do() {
    let r = Repo::new();
    let a = r.new_ticket(&["job", "First", "--label", "ui"]);
    let b = r.new_ticket(&["job", "Second"]);
    r.new_ticket(&["job", "Third, ready"]);
    r.wt(&["dep", "add", &b, &a]).ok();
    r.wt(&["claim", &a, "--agent", "x"]).ok();
    let out = r.wt(&["--json", "list"]).ok();
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let again = serde_json::to_string_pretty(&v).expect("json");
    assert_eq!(out, format!("{again}\n"));
    let shown = r.wt(&["--json", "ready"]).ok();
    let ready: serde_json::Value = serde_json::from_str(&shown).expect("json");
    let listed = tickets(&v)
        .iter()
        .find(|t| t["id"] == ready["tickets"][0]["id"])
        .expect("the ready ticket is listed");
    assert_eq!(listed, &ready["tickets"][0]);
    let first = tickets(&v)
        .iter()
        .find(|t| t["id"] == a.as_str())
        .expect("listed");
    assert_eq!(first["labels"], serde_json::json!(["ui"]));
    assert_eq!(first["claimed_by"], "x");
    assert_eq!(first["stale"], false);
}
