//! Broken ticket files: `wt check` names `path:line: message` for each problem and fails;
//! the other verbs skip an unreadable ticket, say so on stderr, and serve the rest.

use crate::common::*;
use crate::fixtures::*;

/// A repository whose state has one good job and the files in `files` (committed with git).
fn repo_with(files: &[(&str, &str)]) -> (Repo, String) {
    let r = Repo::new();
    let good = r.new_ticket(&["job", "Good job"]);
    for (path, text) in files {
        r.write(path, text);
        r.git(&["add", path]).ok();
    }
    r.git(&["commit", "-q", "-m", "hand-written tickets"]).ok();
    (r, good)
}

#[test]
fn a_malformed_ticket_is_named_with_file_line_column_and_hint_and_ready_serves_the_rest() {
    let bad = ".work/J-broken01-broken.md";
    let (r, good) = repo_with(&[(
        bad,
        "---\nid: J-broken01\nkind: job\ntitle: [unclosed\nstatus: open\n---\nbody\n",
    )]);
    let run = r.wt(&["ready"]);
    let out = run.ok();
    assert!(out.contains(&good), "{out}");
    let err = run.stderr();
    let line = err
        .lines()
        .find(|l| l.contains(bad))
        .unwrap_or_else(|| panic!("no warning naming {bad}:\n{err}"));
    assert!(
        line.starts_with("warning: skipped unreadable ticket: "),
        "{line}"
    );
    assert!(line.contains(&format!("{bad}:4:8: ")), "{line}");
    assert!(line.contains("(hint: "), "{line}");
    // --json: stdout is still one document with the good ticket; the warning is on stderr.
    let run = r.wt(&["--json", "ready"]);
    run.ok();
    assert_eq!(ids(&run.json()), vec![good.clone()]);
    assert!(run.stderr().contains(bad), "{}", run.stderr());
    for verb in [vec!["list"], vec!["tree"], vec!["blocked"]] {
        let run = r.wt(&verb);
        run.ok();
        assert!(run.stderr().contains(bad), "{verb:?}: {}", run.stderr());
    }
    // Writes to other tickets still work.
    r.wt(&["claim", &good, "--agent", "a"]).ok();
    // check fails and prints the same location.
    let run = r.wt(&["check"]);
    run.fails_with(1);
    assert!(
        run.stdout().contains(&format!("{bad}:4:8: ")),
        "{}",
        run.stdout()
    );
    let run = r.wt(&["--json", "check"]);
    run.fails_with(1);
    let v = run.json();
    assert_eq!(v["ok"], false);
    assert_eq!(v["problems"][0]["path"], bad);
    assert_eq!(v["problems"][0]["line"], 4);
    assert_eq!(v["problems"][0]["column"], 8);
    assert!(v["problems"][0]["hint"].is_string());
}

/// Regression: a YAML syntax error's message carried the YAML parser's own location
/// (`line 3 column 8`, counted from the first line after `---`) next to the file location
/// (`:4:8`), so one message named two different lines.
#[test]
fn regression_yaml_error_named_two_different_lines() {
    let bad = ".work/J-broken01-broken.md";
    let (r, _) = repo_with(&[(
        bad,
        "---\nid: J-broken01\nkind: job\ntitle: [unclosed\nstatus: open\n---\nbody\n",
    )]);
    let out = r.wt(&["check"]).stdout();
    let line = out.lines().find(|l| l.contains(bad)).expect("problem");
    assert!(line.starts_with(&format!("{bad}:4:8: ")), "{line}");
    assert!(!line.contains("line 3"), "{line}");
}

#[test]
fn check_passes_on_a_clean_tree() {
    let r = Repo::new();
    let p = r.new_ticket(&["phase-spec", "P"]);
    let j = r.new_ticket(&["job", "J", "--parent", &p]);
    r.new_ticket(&["task", "T", "--parent", &j]);
    r.new_ticket(&["job", "K", "--dep", &j]);
    let out = r.wt(&["check"]).ok();
    assert!(out.starts_with("ok: 4 tickets"), "{out}");
    let v = r.wt_json(&["check"]);
    assert_eq!(v["ok"], true);
    assert_eq!(v["problems"], serde_json::json!([]));
}

/// One `wt check` case: what, the files, and the path, line and message expected.
type CheckCase = (
    &'static str,
    Vec<(String, String)>,
    &'static str,
    usize,
    &'static str,
);

/// Each kind of problem on its own makes `wt check` fail with one `path:line: message`.
#[test]
fn check_names_each_problem_with_path_and_line_and_fails() {
    let job = |id: &str, extra: &[(&str, &str)]| ticket_text(id, "job", "A job", extra);
    let cases: Vec<CheckCase> = vec![
        (
            "unknown field",
            vec![(
                ".work/J-unknown1-a.md".into(),
                job("J-unknown1", &[("status", "open"), ("colour", "red")]),
            )],
            ".work/J-unknown1-a.md",
            6,
            "unknown field `colour`",
        ),
        (
            "duplicate id",
            vec![
                (".work/J-dupe0001-a.md".into(), job("J-dupe0001", &[])),
                (".work/J-dupe0001-b.md".into(), job("J-dupe0001", &[])),
            ],
            ".work/J-dupe0001-a.md",
            2,
            "duplicate id J-dupe0001 (also in .work/J-dupe0001-b.md)",
        ),
        (
            "dangling dependency",
            vec![(
                ".work/J-dangle01-a.md".into(),
                job(
                    "J-dangle01",
                    &[("priority", "1"), ("depends_on", "[J-gone0000]")],
                ),
            )],
            ".work/J-dangle01-a.md",
            6,
            "depends on unknown ticket J-gone0000",
        ),
        (
            "cycle",
            vec![
                (
                    ".work/J-cyclea01-a.md".into(),
                    job("J-cyclea01", &[("depends_on", "[J-cycleb01]")]),
                ),
                (
                    ".work/J-cycleb01-b.md".into(),
                    job("J-cycleb01", &[("depends_on", "\n  - J-cyclea01")]),
                ),
            ],
            ".work/J-cyclea01-a.md",
            5,
            "dependency cycle: J-cyclea01 -> J-cycleb01 -> J-cyclea01",
        ),
        (
            "parent of the wrong kind",
            vec![
                (".work/J-parent01-a.md".into(), job("J-parent01", &[])),
                (
                    ".work/J-parent01-a/J-child001-b.md".into(),
                    job(
                        "J-child001",
                        &[("status", "open"), ("parent", "J-parent01")],
                    ),
                ),
            ],
            ".work/J-parent01-a/J-child001-b.md",
            6,
            "parent J-parent01 is a job, but a job's parent must be: phase-spec",
        ),
        (
            "malformed YAML",
            vec![(
                ".work/J-yaml0001-a.md".into(),
                "---\nid: J-yaml0001\nkind: job\ntitle: A\nlabels: [a, b\n---\n".into(),
            )],
            ".work/J-yaml0001-a.md",
            5,
            "invalid frontmatter",
        ),
    ];
    for (what, files, path, line, message) in cases {
        let r = Repo::new();
        for (p, text) in &files {
            r.write(p, text);
            r.git(&["add", p]).ok();
        }
        r.git(&["commit", "-q", "-m", what]).ok();
        let run = r.wt(&["check"]);
        assert_ne!(run.code(), 0, "{what}: check passed\n{}", run.stdout());
        run.fails_with(1);
        let out = run.stdout();
        let want = format!("{path}:{line}:");
        let found = out
            .lines()
            .find(|l| l.starts_with(&want) && l.contains(message));
        assert!(
            found.is_some(),
            "{what}: no line `{want} ...{message}...` in\n{out}"
        );
        let (_, v) = json_any(&r, &["check"]);
        assert_eq!(v["ok"], false, "{what}");
        assert!(
            v["problems"]
                .as_array()
                .expect("problems")
                .iter()
                .any(|p| p["path"] == path && p["line"] == line),
            "{what}: {v}"
        );
    }
}

#[test]
fn an_unknown_config_key_and_a_file_outside_its_parents_folder_are_reported() {
    let r = Repo::new();
    let p = r.new_ticket(&["phase-spec", "P"]);
    let config = r.read(".work/config.yaml") + "colour: blue\n";
    let config_line = config.lines().count();
    git_commit_file(&r, ".work/config.yaml", &config, "config typo");
    git_commit_file(
        &r,
        ".work/J-stray001-stray.md",
        &ticket_text("J-stray001", "job", "Stray", &[("parent", &p)]),
        "stray",
    );
    let run = r.wt(&["check"]);
    run.fails_with(1);
    let out = run.stdout();
    assert!(
        out.contains(&format!(
            ".work/config.yaml:{config_line}: unknown config key `colour`"
        )),
        "{out}"
    );
    assert!(
        out.contains(".work/J-stray001-stray.md:5: file is not in its parent's folder"),
        "{out}"
    );
}

#[test]
fn a_malformed_ticket_file_names_its_line_for_each_kind_of_mistake() {
    let cases = [
        (
            "---\nid: J-bad00001\nkind: job\ntitle: ok\nstatus: opne\n---\n",
            "5: unknown status `opne`",
        ),
        (
            "---\nid: J-bad00001\nkind: job\ntitle: ok\npriority: 9\n---\n",
            "5: priority 9 is out of range (hint: ",
        ),
        (
            "---\nid: J-bad00001\nkind: job\ntitle: ok\n\nno closing line\n",
            "1: the frontmatter opened by '---' is never closed (hint: ",
        ),
        (
            "just text\n",
            "1: file does not start with a '---' line (hint: ",
        ),
        ("---\nid: J-bad00001\ntitle: ok\n---\n", "1: missing `kind`"),
        (
            "---\nid: J-bad00001\nkind: epic\ntitle: ok\n---\n",
            "3: unknown kind `epic`",
        ),
    ];
    for (text, want) in cases {
        let path = ".work/J-bad00001-x.md";
        let (r, good) = repo_with(&[(path, text)]);
        let run = r.wt(&["--json", "ready"]);
        run.ok();
        assert_eq!(ids(&run.json()), vec![good], "{text}");
        let expected = format!("{path}:{want}");
        assert!(
            run.stderr().contains(&expected),
            "stderr lacks `{expected}`:\n{}",
            run.stderr()
        );
        let run = r.wt(&["check"]);
        run.fails_with(1);
        assert!(run.stdout().contains(&expected), "{}", run.stdout());
    }
}
