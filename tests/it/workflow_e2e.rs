//! The whole agent loop, scripted: examples/workflow/run.sh drives fake agents (shell scripts
//! implementer.sh and auditor.sh) against the real binary, and this test asserts the state
//! branch's `git log --format=%s` line by line.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use crate::common::*;

fn examples() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/workflow")
}

/// Is `window` some interleaving of `a` and `b` (each in its own order)?
fn is_interleaving(window: &[String], a: &[String], b: &[String]) -> bool {
    let (mut i, mut j) = (0, 0);
    for line in window {
        if i < a.len() && *line == a[i] {
            i += 1;
        } else if j < b.len() && *line == b[j] {
            j += 1;
        } else {
            return false;
        }
    }
    i == a.len() && j == b.len()
}

#[test]
fn scripted_agents_run_plan_gate_parallel_work_audits_escalation_and_reopen() {
    let tmp = tempfile::Builder::new()
        .prefix("wt-e2e-")
        .tempdir()
        .expect("tempdir");
    let root = tmp.path().join("repo");
    let mut cmd = Command::new("bash");
    hermetic(&mut cmd, tmp.path());
    cmd.arg(examples().join("run.sh"))
        .arg(&root)
        .env("WT", wt_bin())
        .current_dir(tmp.path());
    let out = cmd.output().expect("run run.sh");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "run.sh failed\nstdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = Repo { tmp, root };

    // IDs by title.
    let all = r.wt_json(&["list"]);
    let id: HashMap<String, String> = tickets(&all)
        .iter()
        .map(|t| {
            (
                t["title"].as_str().expect("title").to_string(),
                t["id"].as_str().expect("id").to_string(),
            )
        })
        .collect();
    let (p1, s, c, imp) = (
        &id["Phase 1: Storage"],
        &id["Schema"],
        &id["Config loader"],
        &id["Import legacy users"],
    );
    // The implementer took the tasks in `wt list` order.
    let tasks: Vec<(String, String)> =
        tickets(&r.wt_json(&["list", "--parent", s, "--kind", "task"]))
            .iter()
            .map(|t| {
                (
                    t["id"].as_str().expect("id").to_string(),
                    t["title"].as_str().expect("title").to_string(),
                )
            })
            .collect();
    assert_eq!(tasks.len(), 2);

    let mut log = r.subjects("main");
    log.reverse(); // oldest first
    let before = [
        "initial".to_string(),
        "wt: init ticket state on branch main".to_string(),
        "config: max_attempts 2".to_string(),
        "wt: plan-import 3 phase-specs, 5 jobs, 2 tasks from plan.md (planner)".to_string(),
        format!("wt: approve {p1} \"Phase 1: Storage\" (alice)"),
        format!("wt: claim 2 tickets: {s} \"Schema\" (impl-1), {c} \"Config loader\" (impl-2)"),
    ];
    let mut impl1: Vec<String> = Vec::new();
    for (t, title) in &tasks {
        impl1.push(format!("wt: claim {t} \"{title}\" (impl-1)"));
        impl1.push(format!("wt: done {t} \"{title}\" (impl-1)"));
    }
    impl1.push(format!("wt: progress {s} \"Schema\" (impl-1)"));
    impl1.push(format!("wt: done {s} \"Schema\" for review (impl-1)"));
    let impl2 = [
        format!("wt: progress {c} \"Config loader\" (impl-2)"),
        format!("wt: done {c} \"Config loader\" for review (impl-2)"),
    ];
    let imp_t = "\"Import legacy users\"";
    let after = [
        format!("wt: claim {s} \"Schema\" for review (auditor-1)"),
        format!("wt: fail {s} \"Schema\": amendment 1, attempt 1 of 2 (auditor-1)"),
        format!("wt: claim {c} \"Config loader\" for review (auditor-1)"),
        format!("wt: pass {c} \"Config loader\" (auditor-1)"),
        format!("wt: claim {s} \"Schema\" (impl-1)"),
        format!("wt: progress {s} \"Schema\" (impl-1)"),
        format!("wt: done {s} \"Schema\" for review (impl-1)"),
        format!("wt: claim {s} \"Schema\" for review (auditor-1)"),
        format!("wt: pass {s} \"Schema\" (auditor-1)"),
        format!("wt: claim {imp} {imp_t} (impl-3)"),
        format!("wt: progress {imp} {imp_t} (impl-3)"),
        format!("wt: done {imp} {imp_t} for review (impl-3)"),
        format!("wt: claim {imp} {imp_t} for review (auditor-1)"),
        format!("wt: fail {imp} {imp_t}: amendment 1, attempt 1 of 2 (auditor-1)"),
        format!("wt: claim {imp} {imp_t} (impl-3)"),
        format!("wt: progress {imp} {imp_t} (impl-3)"),
        format!("wt: done {imp} {imp_t} for review (impl-3)"),
        format!("wt: claim {imp} {imp_t} for review (auditor-1)"),
        format!(
            "wt: fail {imp} {imp_t}: amendment 2, escalated after 2 failed attempts (auditor-1)"
        ),
        format!("wt: reopen {imp} {imp_t} (alice)"),
    ];
    let window = impl1.len() + impl2.len();
    assert_eq!(
        log.len(),
        before.len() + window + after.len(),
        "log:\n{}",
        log.join("\n")
    );
    assert_eq!(log[..before.len()], before[..], "log:\n{}", log.join("\n"));
    assert_eq!(
        log[before.len() + window..],
        after[..],
        "log:\n{}",
        log.join("\n")
    );
    // The two implementers ran at the same time: their commits may interleave in any way,
    // but each one's own commits are in its order.
    assert!(
        is_interleaving(&log[before.len()..before.len() + window], &impl1, &impl2),
        "parallel window is not an interleaving of impl-1's and impl-2's steps:\n{}",
        log[before.len()..before.len() + window].join("\n")
    );

    // Every wt commit touched only .work/.
    let revs = r.git(&["log", "--format=%H %s", "main"]).ok();
    for line in revs.lines().filter(|l| l.contains(" wt: ")) {
        let rev = line.split(' ').next().expect("rev");
        let files = r.git(&["show", "--name-only", "--format=", rev]).ok();
        assert!(
            files.lines().all(|f| f.starts_with(".work/")),
            "{line}: {files}"
        );
    }

    // The parallel pick left out the job whose files overlap Schema's.
    let migrations = &id["Migrations"];
    assert!(
        stdout.contains(&format!(
            "(left out {migrations}: src/db/** overlaps src/db/schema.sql of {s})"
        )),
        "{stdout}"
    );
    // Before approval nothing was ready, and blocked said why.
    assert!(stdout.contains("nothing ready (job)"), "{stdout}");
    assert!(
        stdout.contains(&format!("ancestor {p1} awaiting approval")),
        "{stdout}"
    );
    // The implementer could not audit its own job.
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!(
            "impl-1 implemented {s}; an audit needs a different agent"
        )),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The second attempt's context bundle carried the amendment, within its budget.
    let first = r.read(&format!(".agents/{s}-attempt1.md"));
    let second = r.read(&format!(".agents/{s}-attempt2.md"));
    assert!(!first.contains("Amendment 1"), "{first}");
    assert!(second.contains("#### Amendment 1"), "{second}");
    assert!(
        second.contains(
            "it must be on lower(email), so that A@x.org and a@x.org cannot both sign up"
        ),
        "{second}"
    );
    // The tasks done in the first attempt show as done.
    for (_, title) in &tasks {
        assert!(second.contains(&format!("- [x] {title}\n")), "{second}");
    }
    assert!(second.contains("Its tasks (2 of 2 done):"), "{second}");
    assert!(second.len().div_ceil(4) <= 8000);
    assert!(
        second.starts_with(&format!("<!-- wt context {s}: ~")),
        "{second}"
    );
    assert!(r.read("src/db/schema.sql").contains("lower(email)"));

    // The escalated job was reopened: ready again, attempts start over, amendments kept.
    let ready = ids(&r.wt_json(&["ready"]));
    assert!(ready.contains(imp), "{ready:?}");
    let t = r.wt_json(&["show", imp]);
    assert_eq!(t["status"], "open");
    assert_eq!(t["attempts"], 0);
    let body = t["body"].as_str().expect("body");
    assert!(body.contains("### Amendment 1 — "), "{body}");
    assert!(body.contains("### Amendment 2 — "), "{body}");
    assert!(
        body.contains("reopened (was escalated) after 2 failed attempts"),
        "{body}"
    );
    assert_eq!(r.wt_json(&["show", s])["status"], "done");
}
