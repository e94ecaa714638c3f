//! The whole loop as agents live it, with no hand-made git command on the state branch:
//! a plan imported onto a separate state branch, implementers claiming from their own
//! worktrees (a single `claim --next` keeping clear of a held claim's files), tasks done,
//! criteria ticked with `wt tick`, code committed on feature branches (through the
//! pre-commit hook), `done` judged on committed work (red CI refuses until fixed), audits
//! that fail and pass, phases that close themselves and the next phase becoming ready. The
//! state branch's `git log --format=%s` is asserted line by line.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::*;

const PLAN: &str = "# Plan: calculator

## Phase 1: Core

### Calculator
Files: src/calc.txt
Priority: 0

Adds and subtracts.

- [ ] Add
- [ ] Subtract

#### Acceptance Criteria

- [ ] adds and subtracts

### Docs
Files: src/calc.txt
Priority: 1

Documents the calculator, in the same file.

### Parser
Files: src/parse.txt
Priority: 2

Reads numbers.

## Phase 2: Screen
Depends on: Phase 1: Core

### Screen
Files: src/screen.txt

Shows the result.
";

/// The project's test: every file under src/ must be free of the word BUG.
const TEST_SH: &str = "#!/bin/sh\nif grep -rl BUG src 2>/dev/null; then echo 'FAIL: a BUG in the files above'; exit 1; fi\necho ok\n";

/// A stand-in for npm on PATH: `npm test` runs the project's test.sh (what the package.json
/// script says).
const NPM: &str = "#!/bin/sh\n[ \"$1\" = test ] || exit 2\nexec sh ./test.sh\n";

struct Env {
    r: Repo,
    path: String,
}

impl Env {
    fn cmd(&self, prog: &Path, dir: &Path, args: &[&str]) -> Run {
        let mut c = Command::new(prog);
        hermetic(&mut c, &self.r.home());
        c.env("PATH", &self.path).current_dir(dir).args(args);
        Run {
            out: c.output().expect("run"),
        }
    }
    fn wt(&self, dir: &Path, args: &[&str]) -> Run {
        self.cmd(&wt_bin(), dir, args)
    }
    #[track_caller]
    fn wt_json(&self, dir: &Path, args: &[&str]) -> Value {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        let run = self.wt(dir, &a);
        run.ok();
        run.json()
    }
    fn git(&self, dir: &Path, args: &[&str]) -> Run {
        self.cmd(Path::new("git"), dir, args)
    }
    /// Write `content` to `rel` in worktree `dir` and commit it there (through the hook).
    #[track_caller]
    fn commit(&self, dir: &Path, rel: &str, content: &str, msg: &str) -> String {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, content).expect("write");
        self.git(dir, &["add", rel]).ok();
        self.git(dir, &["commit", "-q", "-m", msg]).ok();
        self.git(dir, &["rev-parse", "HEAD"])
            .ok()
            .trim()
            .to_string()
    }
}

fn trailer(msg: &str, key: &str) -> Vec<String> {
    msg.lines()
        .filter_map(|l| l.strip_prefix(&format!("{key}: ")))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_whole_loop_runs_on_wt_verbs_alone_and_phases_close_themselves() {
    let r = Repo::bare_git();
    let bin: PathBuf = r.home().join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    std::fs::write(bin.join("npm"), NPM).expect("npm");
    Command::new("chmod")
        .arg("+x")
        .arg(bin.join("npm"))
        .status()
        .expect("chmod");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let e = Env { r, path };
    let root = e.r.root.clone();

    // The project (the user's git on main): a test script npm runs.
    std::fs::write(
        root.join("package.json"),
        "{\"scripts\": {\"test\": \"sh test.sh\"}}\n",
    )
    .expect("write");
    std::fs::write(root.join("test.sh"), TEST_SH).expect("write");
    e.git(&root, &["add", "package.json", "test.sh"]).ok();
    e.git(&root, &["commit", "-q", "-m", "project test"]).ok();

    // wt on its own branch; it proposes `npm test` from package.json and installs the hook.
    let init = e.wt_json(&root, &["init", "--branch", "tickets"]);
    assert_eq!(init["ci"]["checks"][0]["command"], "npm test", "{init}");
    std::fs::write(root.join("plan.md"), PLAN).expect("plan");
    e.wt(&root, &["plan", "import", "plan.md", "--agent", "planner"])
        .ok();
    let listed = e.wt_json(&root, &["list"]);
    let id: HashMap<String, String> = listed["tickets"]
        .as_array()
        .expect("tickets")
        .iter()
        .map(|t| {
            (
                t["title"].as_str().expect("title").to_string(),
                t["id"].as_str().expect("id").to_string(),
            )
        })
        .collect();
    let [p1, p2, calc, docs, parse, screen, add, sub] = [
        "Phase 1: Core",
        "Phase 2: Screen",
        "Calculator",
        "Docs",
        "Parser",
        "Screen",
        "Add",
        "Subtract",
    ]
    .map(|t| id[t].clone());

    // Two implementers, each in its own worktree on its own branch.
    let w1 = e.r.tmp.path().join("agent-1");
    let w2 = e.r.tmp.path().join("agent-2");
    let w3 = e.r.tmp.path().join("auditor");
    for (w, b) in [(&w1, "feat-1"), (&w2, "feat-2"), (&w3, "audit")] {
        e.git(
            &root,
            &["worktree", "add", "-q", "-b", b, w.to_str().expect("utf8")],
        )
        .ok();
    }

    // agent-1 takes the best job; agent-2's `claim --next` skips Docs, whose file agent-1
    // holds, and takes Parser.
    let c1 = e.wt_json(&w1, &["claim", "--next", "--agent", "agent-1"]);
    assert_eq!(c1["id"], calc.as_str());
    let c2 = e.wt_json(&w2, &["claim", "--next", "--agent", "agent-2"]);
    assert_eq!(
        c2["id"],
        parse.as_str(),
        "Docs overlaps Calculator's src/calc.txt"
    );

    // agent-1 does the job's tasks, committing code on its branch, and ticks its criterion.
    e.wt(&w1, &["claim", &add, "--agent", "agent-1"]).ok();
    e.commit(&w1, "src/calc.txt", "add\n", "add");
    e.wt(
        &w1,
        &[
            "progress",
            &calc,
            "add works",
            "--files",
            "src/calc.txt",
            "--agent",
            "agent-1",
        ],
    )
    .ok();
    e.wt(&w1, &["done", &add, "--agent", "agent-1"]).ok();
    e.wt(&w1, &["claim", &sub, "--agent", "agent-1"]).ok();
    let head1 = e.commit(&w1, "src/calc.txt", "add\nsubtract\n", "subtract");
    let last_task = e.wt_json(&w1, &["done", &sub, "--agent", "agent-1"]);
    assert_eq!(
        last_task["closed"],
        serde_json::json!([]),
        "agent-1 holds the job"
    );
    let refused = e.wt(&w1, &["done", &calc, "--agent", "agent-1"]);
    refused.fails_with(5);
    assert!(
        refused.stderr().contains(&format!("`wt tick {calc} 1`")),
        "{}",
        refused.stderr()
    );
    e.wt(&w1, &["tick", &calc, "1", "--agent", "agent-1"]).ok();
    let d = e.wt_json(&w1, &["done", &calc, "--agent", "agent-1"]);
    assert_eq!(d["status"], "review");
    assert_eq!(d["checked_commit"], head1.as_str());

    // agent-2 commits a bug past the hook: done judges that commit, and CI is red. Fixing it
    // on disk is not enough; committing the fix is.
    std::fs::create_dir_all(w2.join("src")).expect("mkdir");
    std::fs::write(w2.join("src/parse.txt"), "BUG\n").expect("write");
    e.git(&w2, &["add", "src/parse.txt"]).ok();
    e.git(&w2, &["commit", "-q", "--no-verify", "-m", "parse (buggy)"])
        .ok();
    let red = e.wt(&w2, &["done", &parse, "--agent", "agent-2"]);
    red.fails_with(5);
    assert!(
        red.stderr().contains("check `test` failed"),
        "{}",
        red.stderr()
    );
    std::fs::write(w2.join("src/parse.txt"), "numbers\n").expect("write");
    let still = e.wt(&w2, &["done", &parse, "--agent", "agent-2"]);
    still.fails_with(5);
    assert!(
        still.stderr().contains("clean checkout"),
        "the working tree is not the commit: {}",
        still.stderr()
    );
    let head2 = e.commit(&w2, "src/parse.txt", "numbers\n", "parse");
    std::fs::write(w2.join("scratch.txt"), "notes\n").expect("write");
    let ok = e.wt(&w2, &["--json", "done", &parse, "--agent", "agent-2"]);
    ok.ok();
    assert_eq!(ok.json()["checked_commit"], head2.as_str());
    assert!(
        ok.stderr().contains("1 uncommitted change was not checked"),
        "{}",
        ok.stderr()
    );

    // The auditor fails Calculator (agent-1 redoes it) and passes Parser.
    let a = e.wt_json(&w3, &["claim", "--next", "--review", "--agent", "auditor"]);
    assert_eq!(a["id"], calc.as_str());
    e.wt(
        &w3,
        &[
            "fail",
            &calc,
            "-m",
            "Subtract must handle negatives.",
            "--agent",
            "auditor",
        ],
    )
    .ok();
    e.wt(&w3, &["claim", "--next", "--review", "--agent", "auditor"])
        .ok();
    e.wt(&w3, &["pass", &parse, "--agent", "auditor"]).ok();
    assert_eq!(
        e.wt_json(&root, &["show", &p1])["status"],
        "open",
        "Calculator and Docs are not done"
    );

    let again = e.wt_json(&w1, &["claim", "--next", "--agent", "agent-1"]);
    assert_eq!(again["id"], calc.as_str());
    e.commit(
        &w1,
        "src/calc.txt",
        "add\nsubtract (negatives too)\n",
        "negatives",
    );
    e.wt(
        &w1,
        &["progress", &calc, "negatives handled", "--agent", "agent-1"],
    )
    .ok();
    e.wt(&w1, &["done", &calc, "--agent", "agent-1"]).ok();
    e.wt(&w3, &["claim", "--next", "--review", "--agent", "auditor"])
        .ok();
    e.wt(&w3, &["pass", &calc, "--agent", "auditor"]).ok();

    // Docs, the last job of phase 1: its pass closes the phase, and phase 2 is ready.
    let dc = e.wt_json(&w2, &["claim", "--next", "--agent", "agent-2"]);
    assert_eq!(dc["id"], docs.as_str());
    e.commit(&w2, "src/calc.txt", "add and subtract\n", "docs");
    e.wt(&w2, &["done", &docs, "--agent", "agent-2"]).ok();
    e.wt(&w3, &["claim", "--next", "--review", "--agent", "auditor"])
        .ok();
    let passed = e.wt_json(&w3, &["pass", &docs, "--agent", "auditor"]);
    assert_eq!(passed["closed"][0]["id"], p1.as_str());
    assert_eq!(passed["closed"][0]["reason"], "all 3 jobs done");
    assert_eq!(e.wt_json(&root, &["show", &p1])["status"], "done");
    let ready = e.wt_json(&root, &["ready"]);
    assert_eq!(ready["tickets"][0]["id"], screen.as_str());

    let sc = e.wt_json(&w1, &["claim", "--next", "--agent", "agent-1"]);
    assert_eq!(sc["id"], screen.as_str());
    e.commit(&w1, "src/screen.txt", "= 4\n", "screen");
    e.wt(&w1, &["done", &screen, "--agent", "agent-1"]).ok();
    e.wt(&w3, &["claim", "--next", "--review", "--agent", "auditor"])
        .ok();
    e.wt(&w3, &["pass", &screen, "--agent", "auditor"]).ok();
    assert_eq!(e.wt_json(&root, &["show", &p2])["status"], "done");
    let tree = e.wt(&root, &["tree"]).ok();
    assert!(!tree.contains("open"), "{tree}");

    // The state branch, line by line.
    let mut log: Vec<String> = e
        .git(&root, &["log", "--format=%s", "tickets"])
        .ok()
        .lines()
        .map(str::to_string)
        .collect();
    log.reverse();
    let q = |t: &str| format!("\"{t}\"");
    let want = vec![
        "wt: init ticket state on branch tickets".to_string(),
        "wt: plan-import 2 phase-specs, 4 jobs, 2 tasks from plan.md (planner)".to_string(),
        format!("wt: claim {calc} {} (agent-1)", q("Calculator")),
        format!("wt: claim {parse} {} (agent-2)", q("Parser")),
        format!("wt: claim {add} {} (agent-1)", q("Add")),
        format!("wt: progress {calc} {} (agent-1)", q("Calculator")),
        format!("wt: done {add} {} (agent-1)", q("Add")),
        format!("wt: claim {sub} {} (agent-1)", q("Subtract")),
        format!("wt: done {sub} {} (agent-1)", q("Subtract")),
        format!("wt: tick {calc} {}: 1 (agent-1)", q("Calculator")),
        format!("wt: done {calc} {} for review (agent-1)", q("Calculator")),
        format!("wt: done {parse} {} for review (agent-2)", q("Parser")),
        format!("wt: claim {calc} {} for review (auditor)", q("Calculator")),
        format!(
            "wt: fail {calc} {}: amendment 1, attempt 1 of 10 (auditor)",
            q("Calculator")
        ),
        format!("wt: claim {parse} {} for review (auditor)", q("Parser")),
        format!("wt: pass {parse} {} (auditor)", q("Parser")),
        format!("wt: claim {calc} {} (agent-1)", q("Calculator")),
        format!("wt: progress {calc} {} (agent-1)", q("Calculator")),
        format!("wt: done {calc} {} for review (agent-1)", q("Calculator")),
        format!("wt: claim {calc} {} for review (auditor)", q("Calculator")),
        format!("wt: pass {calc} {} (auditor)", q("Calculator")),
        format!("wt: claim {docs} {} (agent-2)", q("Docs")),
        format!("wt: done {docs} {} for review (agent-2)", q("Docs")),
        format!("wt: claim {docs} {} for review (auditor)", q("Docs")),
        format!("wt: pass {docs} {}, closing {p1} (auditor)", q("Docs")),
        format!("wt: claim {screen} {} (agent-1)", q("Screen")),
        format!("wt: done {screen} {} for review (agent-1)", q("Screen")),
        format!("wt: claim {screen} {} for review (auditor)", q("Screen")),
        format!("wt: pass {screen} {}, closing {p2} (auditor)", q("Screen")),
    ];
    assert_eq!(log, want, "log:\n{}", log.join("\n"));

    // What closed, and why, is in the commit; the done commits name the commit judged.
    let msg = e.git(&root, &["log", "-1", "--format=%B", "tickets"]).ok();
    assert_eq!(
        trailer(&msg, "Wt-Closed"),
        vec![format!("{p2} (its only job done)")],
        "{msg}"
    );
    assert!(
        msg.contains(&format!(
            "{p2} \"Phase 2: Screen\" closed: its only job done."
        )),
        "{msg}"
    );
    let revs = e.git(&root, &["log", "--format=%H %s", "tickets"]).ok();
    let parse_done = revs
        .lines()
        .find(|l| l.contains(&format!("done {parse}")))
        .and_then(|l| l.split(' ').next())
        .expect("parse's done");
    let msg = e.git(&root, &["log", "-1", "--format=%B", parse_done]).ok();
    assert_eq!(
        trailer(&msg, "Wt-Checked-Commit"),
        vec![head2.clone()],
        "{msg}"
    );
    assert_eq!(
        trailer(&msg, "Wt-Uncommitted-Not-Checked"),
        vec!["1"],
        "{msg}"
    );
    // Every wt commit touched only .work/; main and the feature branches have no wt commit.
    for line in revs.lines() {
        let rev = line.split(' ').next().expect("rev");
        let files = e
            .git(&root, &["show", "--name-only", "--format=", rev])
            .ok();
        assert!(
            files.lines().all(|f| f.starts_with(".work/")),
            "{line}: {files}"
        );
    }
    for b in ["main", "feat-1", "feat-2"] {
        let subjects = e.git(&root, &["log", "--format=%s", b]).ok();
        assert!(!subjects.contains("wt: "), "{b}: {subjects}");
    }
}
