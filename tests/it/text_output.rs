//! Snapshots of what people see: the text output (stdout, stderr and exit code) of the main
//! verbs, run through the real binary on one small fixed plan. They pin the rendering, so a
//! change to it shows up as a reviewed snapshot diff (`tests/it/snapshots/`).
//!
//! Determinism: the plan is imported with `wt import`, then every random ID is replaced by a
//! fixed one (file names and contents, committed with git), so the plan order and the IDs
//! are stable; dates are pinned by `WT_NOW` and the git author/committer dates. What is
//! still random is redacted: commit hashes (`[HASH]`), claim tokens (`[TOKEN]`) and the
//! temporary repository path (`[REPO]`).
//!
//! A missing or different snapshot fails the test. Outside CI insta writes a `.snap.new`
//! next to it for review (`cargo insta review`, or rename it after reading it); in CI
//! (`CI=true`) nothing is written, and [`ci_guard`] refuses settings that would accept or
//! write snapshots there.

use crate::common::*;

/// The plan: a phase with four jobs, one of them with two tasks.
const PLAN: &str = r#"[
    {"key": "p", "kind": "phase-spec", "title": "Phase one"},
    {"key": "a", "kind": "job", "title": "Build the parser", "parent": "p", "priority": 1},
    {"key": "b", "kind": "job", "title": "Write the docs", "parent": "p", "depends_on": ["a"]},
    {"key": "c", "kind": "job", "title": "Set up CI", "parent": "p", "status": "done"},
    {"key": "d", "kind": "job", "title": "Ship it", "parent": "p", "depends_on": ["b", "c"]},
    {"key": "e", "kind": "job", "title": "Pick a logo", "parent": "p", "priority": 3},
    {"key": "t1", "kind": "task", "title": "Lexer", "parent": "a"},
    {"key": "t2", "kind": "task", "title": "Grammar", "parent": "a", "depends_on": ["t1"]}
]"#;

/// The fixed ID of each key (in the ID alphabet, and never all hex digits, so that the hash
/// redaction cannot touch them).
const IDS: &[(&str, &str)] = &[
    ("p", "P-ph000001"),
    ("a", "J-jb00000a"),
    ("b", "J-jb00000b"),
    ("c", "J-jb00000c"),
    ("d", "J-jb00000d"),
    ("e", "J-jb00000e"),
    ("t1", "T-tk000001"),
    ("t2", "T-tk000002"),
];

fn id(key: &str) -> &'static str {
    IDS.iter().find(|(k, _)| *k == key).expect("key").1
}

/// In CI, a snapshot may only be compared: no setting that writes or accepts one.
fn ci_guard() {
    let ci = std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false"));
    if ci {
        let update = std::env::var("INSTA_UPDATE").unwrap_or_default();
        assert!(
            matches!(update.as_str(), "" | "auto" | "no"),
            "INSTA_UPDATE={update} in CI would write snapshots instead of failing"
        );
        let force = std::env::var("INSTA_FORCE_PASS").unwrap_or_default();
        assert!(
            matches!(force.as_str(), "" | "0"),
            "INSTA_FORCE_PASS={force} in CI would pass failing snapshots"
        );
    }
}

/// A wt repository holding [`PLAN`] under the fixed IDs, and `t1` claimed by agent-1.
fn fixture() -> Repo {
    let r = Repo::new();
    let random = r.import(PLAN);
    // Every file of the plan, with each random ID replaced by its fixed one.
    let swap = |s: &str| {
        let mut s = s.to_string();
        for (key, fixed) in IDS {
            s = s.replace(random[*key].as_str().expect("id"), fixed);
        }
        s
    };
    let files = r.git(&["ls-files", "--", ".work/P-*"]).ok();
    let files: Vec<(String, String)> = files.lines().map(|p| (swap(p), swap(&r.read(p)))).collect();
    assert_eq!(files.len(), IDS.len());
    r.git(&["rm", "-q", "-r", "--", ".work/P-*"]).ok();
    for (path, text) in &files {
        r.write(path, text);
    }
    r.git(&["add", "-A", ".work"]).ok();
    r.git(&["commit", "-q", "-m", "fixture: fixed IDs"]).ok();
    r.wt(&["claim", id("t1"), "--agent", "agent-1"]).ok();
    r
}

/// `$ wt <args>`, its exit code, stdout and stderr, with the random parts redacted.
fn run(r: &Repo, args: &[&str]) -> String {
    let out = r.wt(args);
    let text = format!(
        "$ wt {}\nexit: {}\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        out.code(),
        out.stdout(),
        out.stderr()
    );
    text.replace(r.root.to_str().expect("utf8 path"), "[REPO]")
}

/// Assert a snapshot of `run(r, args)` named `name`.
macro_rules! snap {
    ($name:expr, $r:expr, $args:expr) => {{
        ci_guard();
        let text = run($r, $args);
        insta::with_settings!({
            filters => vec![
                (r"\b[0-9a-f]{40}\b", "[HASH]"),
                (r"\b[0-9a-f]{7,12}\b", "[HASH]"),
                (r"(claim_token|token)([:= ]+)[0-9a-zA-Z_-]{8,}", "$1$2[TOKEN]"),
            ],
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!($name, text);
        });
    }};
}

#[test]
fn reads() {
    let r = fixture();
    snap!("list", &r, &["list"]);
    snap!("show", &r, &["show", id("a")]);
    snap!("tree", &r, &["tree"]);
    snap!("ready", &r, &["ready"]);
    snap!("blocked", &r, &["blocked"]);
    snap!("status", &r, &["status"]);
    snap!("log", &r, &["log", id("t1")]);
    snap!("context", &r, &["context", id("t1")]);
    snap!("graph", &r, &["graph"]);
}

#[test]
fn writes() {
    let r = fixture();
    snap!("claim", &r, &["claim", id("e"), "--agent", "agent-2"]);
    snap!(
        "claim_already_claimed",
        &r,
        &["claim", id("t1"), "--agent", "agent-2"]
    );
    snap!(
        "done_refused_not_the_claimant",
        &r,
        &["done", id("t1"), "--agent", "agent-2"]
    );
    snap!("done", &r, &["done", id("t1"), "--agent", "agent-1"]);
    r.wt(&["claim", id("a"), "--agent", "agent-1"]).ok();
    snap!(
        "done_refused_open_children",
        &r,
        &["done", id("a"), "--agent", "agent-1"]
    );
    r.wt(&["release", id("a"), "--agent", "agent-1"]).ok();
    snap!(
        "claim_batch",
        &r,
        &["claim", "--next", "--batch", "2", "--agent-prefix", "impl"]
    );
}

#[test]
fn problems_and_errors() {
    let r = fixture();
    r.write(
        ".work/P-ph000001-phase-one/J-jb00000f-hand-made.md",
        "---\nid: J-jb00000f\nkind: job\ntitle: Hand made\nstatus: open\nparent: P-ph000001\nestimate: 3\n---\n# Hand made\n",
    );
    r.git(&["add", "-A", ".work"]).ok();
    r.git(&["commit", "-q", "-m", "a hand-made ticket"]).ok();
    snap!("check_with_a_problem", &r, &["check"]);
    snap!("unknown_id", &r, &["show", "J-zzzzzzzz"]);
    snap!("ambiguous_prefix", &r, &["show", "J-jb"]);
}

/// `wt import --from`: the summary, the tickets made (in source order), what was kept in the
/// body and what did not carry over. Ticket IDs are random here, so they read `[ID]`.
#[test]
fn import_from_another_tracker() {
    ci_guard();
    let r = Repo::new();
    let src = r.root.join("tk-export");
    let st = std::process::Command::new("cp")
        .arg("-a")
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/fixtures/import/tk"))
        .arg(&src)
        .status()
        .expect("cp");
    assert!(st.success());
    let path = src.to_str().expect("utf8 path");
    for (name, args) in [
        (
            "import_from_dry_run",
            vec!["import", "--from", "tk", path, "--dry-run"],
        ),
        ("import_from", vec!["import", "--from", "tk", path]),
        ("import_from_again", vec!["import", "--from", "tk", path]),
    ] {
        let text = run(&r, &args);
        insta::with_settings!({
            filters => vec![
                (r"\b[PJT]-[0-9a-z]{8}\b", "[ID]"),
                (r"\b[0-9a-f]{40}\b", "[HASH]"),
                (r"\b[0-9a-f]{7,12}\b", "[HASH]"),
            ],
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!(name, text);
        });
    }
}
