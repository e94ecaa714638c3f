//! Plan import and export, parallel picks over overlapping files, and the waves graph.
//!
//! Plan files go through the binary (reading them, and the text of exports and graphs, are
//! the point); the checks of what landed, and the picks, call `wt::app` in this process.

use crate::common::*;
use crate::fixtures::{commit_count, rev};

const EXAMPLE_PLAN: &str = include_str!("../../examples/plan.md");

fn kinds(nodes: &serde_json::Value) -> (usize, usize, usize) {
    let n = |k: &str| {
        nodes
            .as_array()
            .expect("nodes")
            .iter()
            .filter(|x| x["kind"] == k)
            .count()
    };
    (n("phase-spec"), n("job"), n("task"))
}

#[test]
fn importing_then_exporting_the_example_plan_gives_it_back_byte_for_byte() {
    let r = Repo::new();
    r.write("plan.md", EXAMPLE_PLAN);
    let j = r.wt_json(&["plan", "import", "plan.md", "--agent", "planner"]);
    let (p, jobs, t) = kinds(&j["nodes"]);
    assert!(
        p >= 3 && jobs >= 8 && t >= 20,
        "{p} phase-specs, {jobs} jobs, {t} tasks"
    );
    // One commit, touching only .work/, one file per ticket.
    assert_eq!(
        r.subjects("main")[0],
        format!("wt: plan-import {p} phase-specs, {jobs} jobs, {t} tasks from plan.md (planner)")
    );
    let files = r.git(&["show", "--name-only", "--format=", "HEAD"]).ok();
    assert_eq!(files.lines().count(), p + jobs + t);
    assert!(files.lines().all(|f| f.starts_with(".work/")));

    let out = r.wt(&["plan", "export"]).ok();
    assert_eq!(out, EXAMPLE_PLAN);
    r.wt(&["plan", "export", "--out", "back.md"]).ok();
    assert_eq!(r.read("back.md"), EXAMPLE_PLAN);

    // Every line of the input is in some ticket's body.
    let mut bodies = String::new();
    for f in files.lines() {
        bodies.push_str(&r.read(f));
    }
    for line in EXAMPLE_PLAN.lines().filter(|l| !l.trim().is_empty()) {
        assert!(bodies.contains(line), "line lost: {line}");
    }
    // Fields from the plan's lines.
    let schema = &j["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["title"] == "Schema")
        .unwrap()["id"];
    let migr = j["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["title"] == "Migrations")
        .unwrap();
    let m = r.show_doc(migr["id"].as_str().unwrap());
    assert_eq!(m["depends_on"], serde_json::json!([schema]));
    assert_eq!(m["files"], serde_json::json!(["src/db/**"]));
    let p1 = r.show_doc(j["nodes"][0]["id"].as_str().unwrap());
    assert_eq!(p1["gate"], "approval");
    // `wt tree` follows the plan's order.
    let tree = r.wt(&["tree"]).ok();
    let pos = |s: &str| tree.find(s).unwrap_or_else(|| panic!("{s} not in {tree}"));
    assert!(pos("Phase 1: Storage") < pos("Schema") && pos("Schema") < pos("Config loader"));
    assert!(pos("Users table with") < pos("Unique index on"));
}

const EDGE: &str = "---\r\ntitle: edge cases\r\n---\r\nPreamble line.\r\n\r\nPhase A\r\n-------\r\n\r\n### Job one\r\n- [ ] first\r\n  - nested detail\r\n- [X] second\r\n\r\n````md\r\n## not a phase\r\n- [ ] not a task\r\n````\r\n### Job two\r\n**Depends on:** Job one\r\n- [ ] last task";

#[test]
fn crlf_frontmatter_setext_code_fences_and_a_missing_final_newline_round_trip() {
    let r = Repo::new();
    r.write("edge.md", EDGE);
    let j = r.wt_json(&["plan", "import", "edge.md", "--agent", "planner"]);
    let titles: Vec<&str> = j["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        vec![
            "Phase A",
            "Job one",
            "first",
            "second",
            "Job two",
            "last task"
        ]
    );
    assert_eq!(j["nodes"][3]["done"], true);
    assert_eq!(r.wt(&["plan", "export"]).ok(), EDGE);

    // A task's checkbox in the export follows its status; the wt:node line keeps the
    // checkbox its own text had, so that importing the export gives the same task back.
    let first = j["nodes"][2]["id"].as_str().unwrap();
    r.claim_in(first, "a").unwrap();
    r.done_in(first, "a").unwrap();
    // Its job's last task is done, so the job went to review with a progress entry: the job's
    // tail carries that entry (what wt appended after the plan text), in the file's line ending,
    // and who implemented it.
    let out = r.wt(&["plan", "export"]).ok();
    let tail_at = out
        .find("<!-- wt:node {\"implemented_by\":\"a\",\"body\":\"after\"} -->\r\n```wt-body\r\n<!-- wt:plan-end -->")
        .unwrap_or_else(|| panic!("the job's tail:\n{out}"));
    let tail_end = tail_at + out[tail_at..].find("\r\n```\r\n").expect("fence end") + 7;
    assert!(out[tail_at..tail_end].contains("## Progress"), "{out}");
    let without_tail = format!("{}{}", &out[..tail_at], &out[tail_end..]);
    assert_eq!(
        without_tail,
        EDGE.replace(
            "- [ ] first\r\n  - nested detail\r\n",
            "- [x] first\r\n  - nested detail\r\n  <!-- wt:node {\"box\":\" \"} -->\r\n"
        )
    );
}

#[test]
fn folder_layout_imports_phase_specs_and_their_jobs_and_reports_other_files() {
    let r = Repo::new();
    r.write(
        "plans/auth/phase-specs/auth-storage-spec.md",
        "# Storage\n\nTables first.\n",
    );
    r.write(
        "plans/auth/phase-specs/auth-login-spec.md",
        "# Login\nDepends on: storage\n\nThe flow.\n",
    );
    r.write(
        "plans/auth/phase-implementation/storage/users.md",
        "# Users table\nFiles: src/db/users.sql\n\n## Tasks\n\n- [ ] Create table\n- [ ] Add index\n\n## Acceptance Criteria\n\n- [ ] migration runs\n",
    );
    r.write(
        "plans/auth/phase-implementation/login/endpoint.md",
        "# Endpoint\nDepends on: users\n\n- [ ] POST /login\n",
    );
    r.write("plans/auth/spec.md", "the original spec\n");
    let run = r.wt(&[
        "--json",
        "plan",
        "import",
        "plans/auth",
        "--agent",
        "planner",
    ]);
    run.ok();
    assert!(
        run.stderr()
            .contains("spec.md is not part of the plan layout"),
        "{}",
        run.stderr()
    );
    let j = run.json();
    assert_eq!(kinds(&j["nodes"]), (2, 2, 3));
    let by_title = |t: &str| -> serde_json::Value {
        let id = j["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["title"] == t)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        r.show_doc(&id)
    };
    let (storage, login, users, endpoint) = (
        by_title("Storage"),
        by_title("Login"),
        by_title("Users table"),
        by_title("Endpoint"),
    );
    assert_eq!(users["parent"], storage["id"]);
    assert_eq!(endpoint["parent"], login["id"]);
    assert_eq!(login["depends_on"], serde_json::json!([storage["id"]]));
    assert_eq!(endpoint["depends_on"], serde_json::json!([users["id"]]));
    // Checklists under Acceptance Criteria are criteria, not tasks; the file is kept whole.
    let body = users["body"].as_str().unwrap();
    assert!(
        body.starts_with("# Users table\nFiles: src/db/users.sql\n"),
        "{body}"
    );
    assert!(
        body.contains(
            "- [ ] migration runs\n<!-- wt:plan-end file=phase-implementation/storage/users.md -->"
        ),
        "{body}"
    );
    assert_eq!(
        tickets(&doc(&r
            .app_ok(|ws| wt::app::read::list(
                ws,
                &wt::app::read::ListFilter {
                    parent: Some(users["id"].as_str().unwrap().to_string()),
                    ..Default::default()
                }
            ))
            .report))
        .len(),
        2
    );
}

#[test]
fn dry_run_commits_nothing_and_bad_plans_name_file_and_line() {
    let r = Repo::new();
    let n = r.subjects("main").len();
    r.write("plan.md", EXAMPLE_PLAN);
    let out = r.wt(&["plan", "import", "plan.md", "--dry-run"]).ok();
    assert!(
        out.starts_with("would import 3 phase-specs, 8 jobs, 23 tasks from plan.md:"),
        "{out}"
    );
    assert!(
        out.contains("\n  job Schema  (plan.md:19)  [P1; files src/db/schema.sql]\n"),
        "{out}"
    );
    assert_eq!(r.subjects("main").len(), n);

    r.write("bad.md", "### Job first\n");
    let e = r.wt(&["plan", "import", "bad.md"]);
    e.fails_with(2);
    assert!(
        e.stderr()
            .contains("bad.md:1: job heading `### Job first` comes before any phase-spec heading"),
        "{}",
        e.stderr()
    );
    r.write("bad.md", "## P\n\n### J\nDepends on: Nope\n");
    let e = r.wt(&["plan", "import", "bad.md"]);
    e.fails_with(2);
    assert!(
        e.stderr().contains("bad.md:4: `Depends on: Nope`"),
        "{}",
        e.stderr()
    );
    r.write("bad.md", "## P\n\n### J\nDepends on: P\n");
    r.wt(&["plan", "import", "bad.md"]).fails_with(2);
    assert_eq!(r.subjects("main").len(), n);
}

#[test]
fn config_gates_put_an_approval_gate_on_imported_phase_specs() {
    let r = Repo::new();
    let cfg = r.read(".work/config.yaml");
    r.write(
        ".work/config.yaml",
        &cfg.replace("approval: []", "approval: [phase-spec]"),
    );
    r.git(&["commit", "-q", "-am", "gates"]).ok();
    r.write("p.md", "## One\n\n### J\n\n## Two\n\n### K\n");
    let j = r.wt_json(&["plan", "import", "p.md", "--agent", "planner"]);
    for n in j["nodes"].as_array().unwrap() {
        let t = r.show_doc(n["id"].as_str().unwrap());
        let want = if n["kind"] == "phase-spec" {
            "approval"
        } else {
            ""
        };
        assert_eq!(t["gate"].as_str().unwrap_or(""), want, "{t}");
    }
    assert!(ids(&r.ready_doc(Some(None))).is_empty());
}

/// Jobs with files, in a fixed ready order (by priority).
fn jobs_with_files(r: &Repo, specs: &[(&str, &str)]) -> Vec<String> {
    specs
        .iter()
        .enumerate()
        .map(|(k, (title, file))| {
            r.new_in(&["job", title, "--file", file, "-p", &k.min(4).to_string()])
        })
        .collect()
}

#[test]
fn ready_parallel_leaves_out_tickets_whose_files_overlap_a_pick_or_a_claim() {
    let r = Repo::new();
    let ids_ = jobs_with_files(
        &r,
        &[
            ("Auth", "src/auth/**"),
            ("Login", "src/auth/login.rs"),
            ("Schema", "src/db/schema.sql"),
            ("Docs", "docs/*.md"),
        ],
    );
    let (auth, login, schema, docs) = (&ids_[0], &ids_[1], &ids_[2], &ids_[3]);
    let parallel = |n: usize| {
        let opts = wt::app::ready::ReadyOptions {
            parallel: Some(n),
            ..Default::default()
        };
        doc(&r.app_ok(|ws| wt::app::ready::ready(ws, &opts)).report)
    };
    let j = parallel(3);
    assert_eq!(ids(&j), vec![auth.clone(), schema.clone(), docs.clone()]);
    assert_eq!(j["skipped"][0]["id"], login.as_str());
    assert_eq!(j["skipped"][0]["conflicts_with"], auth.as_str());
    assert_eq!(
        j["skipped"][0]["entries"],
        serde_json::json!(["src/auth/login.rs", "src/auth/**"])
    );
    // The binary: how the text says why a ticket was left out.
    let text = r.wt(&["ready", "--parallel", "3"]).ok();
    assert!(
        text.contains(&format!(
            "(left out {login}: src/auth/login.rs overlaps src/auth/** of {auth})"
        )),
        "{text}"
    );
    // A claim on src/db/** keeps Schema out too.
    let holder = r.new_in(&["job", "Migrations", "--file", "src/db", "-p", "4"]);
    r.claim_in(&holder, "someone").unwrap();
    let j = parallel(5);
    assert_eq!(ids(&j), vec![auth.clone(), docs.clone()]);
}

#[test]
fn claim_batch_claims_a_set_that_can_run_together_in_one_commit() {
    let r = Repo::new();
    let ids_ = jobs_with_files(
        &r,
        &[
            ("Auth", "src/auth/**"),
            ("Login", "src/auth/login.rs"),
            ("Schema", "src/db/schema.sql"),
        ],
    );
    let (auth, login, schema) = (&ids_[0], &ids_[1], &ids_[2]);
    let other = r.new_in(&["job", "Other", "-p", "4"]);
    r.claim_in(&other, "impl-1").unwrap();
    let n = r.subjects("main").len();
    let batch = |n: usize, agents: wt::app::batch::Agents| {
        r.app(|ws| wt::app::batch::claim_batch_with_default_kind(ws, None, n, &agents))
            .map(|w| doc(&wt::app::batch::BatchReport::new(&w)))
    };
    let j = batch(3, wt::app::batch::Agents::Prefix("impl".into())).unwrap();
    let claimed: Vec<(String, String)> = j["claimed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["id"].as_str().unwrap().to_string(),
                t["claimed_by"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // impl-1 is busy, so the names start at impl-2; Login overlaps Auth and stays out.
    assert_eq!(
        claimed,
        vec![
            (auth.clone(), "impl-2".into()),
            (schema.clone(), "impl-3".into())
        ]
    );
    assert_eq!(r.subjects("main").len(), n + 1, "one commit");
    assert_eq!(
        r.subjects("main")[0],
        format!("wt: claim 2 tickets: {auth} \"Auth\" (impl-2), {schema} \"Schema\" (impl-3)")
    );
    // What is left overlaps a claim: nothing to claim.
    let none = batch(2, wt::app::batch::Agents::One("x".into()));
    assert_eq!(failure(&none.unwrap_err()).0, 3);
    assert_eq!(r.show_doc(login)["status"], "open");
}

#[test]
fn graph_shows_waves_and_the_critical_path_as_text_json_mermaid_and_dot() {
    let r = Repo::new();
    let a = r.new_in(&["job", "A"]);
    let b = r.new_in(&["job", "B"]);
    let c = r.new_in(&["job", "C", "--dep", &a]);
    let d = r.new_in(&["job", "D", "--dep", &c, "--dep", &b]);
    let j = doc(&r.app_ok(|ws| wt::app::graph::graph(ws, None)).report);
    let wave = |k: usize| -> Vec<String> {
        let mut v: Vec<String> = j["waves"][k]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["id"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    let mut w0 = vec![a.clone(), b.clone()];
    w0.sort();
    assert_eq!(wave(0), w0);
    assert_eq!(wave(1), vec![c.clone()]);
    assert_eq!(wave(2), vec![d.clone()]);
    assert_eq!(j["critical_path"], serde_json::json!([a, c, d]));
    // The binary: the text, mermaid and dot renderings are the point.
    let text = r.wt(&["graph"]).ok();
    assert!(
        text.contains(&format!("critical path (3): {a} -> {c} -> {d}")),
        "{text}"
    );
    let mermaid = r.wt(&["graph", "--format", "mermaid"]).ok();
    assert!(mermaid.starts_with("flowchart LR\n"), "{mermaid}");
    assert!(mermaid.contains(&format!(
        "  {} --> {}\n",
        c.replace('-', "_"),
        d.replace('-', "_")
    )));
    let dot = r.wt(&["graph", "--format", "dot"]).ok();
    assert!(dot.starts_with("digraph wt {"), "{dot}");
    assert!(
        dot.contains(&format!("\"{a}\" -> \"{c}\" [color=red, penwidth=2];")),
        "{dot}"
    );
    assert!(dot.contains(&format!("\"{b}\" -> \"{d}\";")), "{dot}");
}

const SPECKIT: &str = include_str!("fixtures/speckit/001-photo-albums/tasks.md");

/// The IDs of the nodes of a `wt plan import --json`, by title prefix (`T013`, `Phase 2`).
fn node_ids(j: &serde_json::Value) -> std::collections::HashMap<String, String> {
    j["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| {
            let title = n["title"].as_str().expect("title");
            let short = if title.starts_with("Phase") {
                title.split(':').next().unwrap_or(title).to_string()
            } else {
                title.split(' ').next().unwrap_or(title).to_string()
            };
            (short, n["id"].as_str().unwrap_or("").to_string())
        })
        .collect()
}

#[test]
fn a_spec_kit_tasks_file_imports_as_phases_and_jobs_with_spec_kits_order() {
    let r = Repo::without_review();
    let path = "specs/001-photo-albums/tasks.md";
    r.write(path, SPECKIT);
    let run = r.wt(&["--json", "plan", "import", path, "--agent", "planner"]);
    let j = run.json();
    assert_eq!(kinds(&j["nodes"]), (4, 17, 0), "every T-item is a job");
    // The checklist item outside every phase is named, not dropped silently.
    assert!(
        run.stderr()
            .contains("tasks.md:87: `- [ ] Remember to update the changelog`"),
        "{}",
        run.stderr()
    );
    let id = node_ids(&j);
    let show = |k: &str| r.wt_json(&["show", &id[k]]);
    let deps = |k: &str| -> Vec<String> {
        show(k)["depends_on"]
            .as_array()
            .expect("deps")
            .iter()
            .map(|d| d.as_str().expect("id").to_string())
            .collect()
    };
    // Phases in order.
    assert_eq!(deps("Phase 2"), vec![id["Phase 1"].clone()]);
    assert_eq!(deps("Phase 4"), vec![id["Phase 3"].clone()]);
    // In a phase: [P] tasks after the previous task without [P]; a task without [P] after
    // everything since it; "depends on" read.
    assert_eq!(deps("T003"), vec![id["T002"].clone()]);
    assert_eq!(deps("T004"), vec![id["T002"].clone()]);
    assert_eq!(deps("T005"), Vec::<String>::new(), "the first of its phase");
    assert_eq!(
        deps("T008"),
        vec![id["T005"].clone(), id["T006"].clone(), id["T007"].clone()]
    );
    assert_eq!(
        deps("T013"),
        ["T009", "T010", "T011", "T012"]
            .iter()
            .map(|k| id[*k].clone())
            .collect::<Vec<_>>()
    );
    // Fields: done boxes, story labels, files from the text, the ID in the title.
    assert_eq!(show("T001")["status"], "done");
    assert_eq!(show("T011")["labels"], serde_json::json!(["US1"]));
    assert_eq!(
        show("T011")["files"],
        serde_json::json!(["backend/src/models/album.py"])
    );
    assert_eq!(
        show("T004")["files"],
        serde_json::json!(["frontend/.eslintrc.json"])
    );
    assert_eq!(show("T011")["source"], "speckit:001-photo-albums:T011");
    assert!(show("T014")["body"]
        .as_str()
        .expect("body")
        .contains("  - return 409 when the name is taken"));
    // What is ready is what spec-kit would run now: the [P] setup tasks after T002.
    let ready = ids(&r.wt_json(&["ready", "--kind", "job"]));
    let mut want = vec![id["T003"].clone(), id["T004"].clone()];
    want.sort();
    let mut got = ready.clone();
    got.sort();
    assert_eq!(got, want);
    r.wt(&["check"]).ok();
    // The tree exports (and reads back) as a wt plan.
    r.wt(&["plan", "export"]).ok();

    // Again: nothing changes. Edited (T003 checked, a new task): one commit.
    let tip = rev(&r, "main");
    let again = r.wt_json(&["plan", "import", path]);
    assert!(again["commit"].is_null(), "{again}");
    assert_eq!(again["unchanged"], 21);
    assert_eq!(rev(&r, "main"), tip);
    r.write(
        path,
        &SPECKIT
            .replace("- [ ] T003 [P]", "- [x] T003 [P]")
            .replace(
                "- [ ] T017 Run the quickstart.md validation\n",
                "- [ ] T017 Run the quickstart.md validation\n- [ ] T018 [P] Add a changelog entry in CHANGELOG.md\n",
            ),
    );
    let n = commit_count(&r, "main");
    let upd = r.wt_json(&["plan", "import", path]);
    assert_eq!(commit_count(&r, "main"), n + 1);
    assert_eq!(
        (upd["created"].clone(), upd["updated"].clone()),
        (1.into(), 1.into())
    );
    assert_eq!(show("T003")["status"], "done");
    let id2 = node_ids(&upd);
    assert_eq!(id2["T003"], id["T003"]);
    assert_eq!(
        r.wt_json(&["show", &id2["T018"]])["depends_on"],
        serde_json::json!([id["T017"]])
    );
}

#[test]
fn a_checklist_item_outside_every_job_is_named_not_dropped_silently() {
    let r = Repo::new();
    r.write(
        "plan.md",
        "## Phase 1\n\n- [ ] stray item\n\n#### Acceptance Criteria\n\n- [ ] a criterion\n\n### Job\n\n- [ ] a task\n",
    );
    let run = r.wt(&["--json", "plan", "import", "plan.md"]);
    let j = run.json();
    assert_eq!(kinds(&j["nodes"]), (1, 1, 1));
    let ignored: Vec<&str> = j["ignored"]
        .as_array()
        .expect("ignored")
        .iter()
        .map(|x| x.as_str().expect("str"))
        .collect();
    assert_eq!(ignored.len(), 1, "{ignored:?}");
    assert!(
        ignored[0].contains("`- [ ] stray item` in phase-spec \"Phase 1\""),
        "{ignored:?}"
    );
    assert!(run.stderr().contains("stray item"), "{}", run.stderr());
}
