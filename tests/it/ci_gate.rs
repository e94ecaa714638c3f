//! The CI-green rule: `wt ci`, `wt done` gated on green, and the real pre-commit hook run by
//! real `git commit` in real repositories.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::*;

/// A repository set up for wt with the hook installed and these checks committed.
fn repo_with_checks(checks: &[(&str, &str)]) -> Repo {
    let r = Repo::new();
    r.wt(&["hook", "install"]).ok();
    set_checks(&r, checks);
    r
}

/// Replace the `ci:` section of .work/config.yaml and commit it (through the hook).
fn set_checks(r: &Repo, checks: &[(&str, &str)]) {
    let text = r.read(".work/config.yaml");
    let start = text.find("\nci:").expect("config has a ci: section") + 1;
    let mut section = String::from("ci:\n");
    for (name, cmd) in checks {
        section.push_str(&format!("  {name}: {}\n", yaml_str(cmd)));
    }
    if checks.is_empty() {
        section = "ci: {}\n".into();
    }
    let head = &text[..start];
    r.write(".work/config.yaml", &format!("{head}{section}"));
    // Only the config: whatever else is staged stays staged.
    r.git(&[
        "commit",
        "-q",
        "-m",
        "set ci checks",
        "--",
        ".work/config.yaml",
    ])
    .ok();
}

fn yaml_str(s: &str) -> String {
    serde_json::to_string(s).expect("json string")
}

/// A shell word for a path.
fn sq(p: &Path) -> String {
    format!("'{}'", p.display())
}

/// A check command that appends a line to `counter` (outside the repository) each run.
fn counting(counter: &Path, then: &str) -> String {
    format!("echo run >> {}; {then}", sq(counter))
}

fn runs(counter: &Path) -> usize {
    std::fs::read_to_string(counter)
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

fn head(r: &Repo) -> String {
    r.git(&["rev-parse", "HEAD"]).ok().trim().to_string()
}

fn message(r: &Repo, rev: &str) -> String {
    r.git(&["log", "-1", "--format=%B", rev]).ok()
}

fn trailer(msg: &str, key: &str) -> Vec<String> {
    msg.lines()
        .filter_map(|l| l.strip_prefix(&format!("{key}: ")))
        .map(str::to_string)
        .collect()
}

/// A claimed job, ready to be finished (no criteria, no artifacts).
fn claimed_job(r: &Repo, title: &str) -> String {
    let id = r.new_ticket(&["job", title]);
    r.wt(&["claim", &id, "--agent", "a1"]).ok();
    id
}

#[test]
fn red_check_blocks_code_commit_and_done_until_fixed_then_done_names_the_green_tree() {
    let r = repo_with_checks(&[("test", "echo checking; echo 'FAIL: 1 != 2'; exit 1")]);
    let id = claimed_job(&r, "Add main");
    r.write("main.rs", "fn main() {}\n");
    r.git(&["add", "main.rs"]).ok();
    let before = head(&r);

    let commit = r.git(&["commit", "-m", "add main"]);
    commit.fails_with(1);
    assert_eq!(head(&r), before, "a red check let the commit through");
    assert!(
        commit.stderr().contains("check `test` failed (exit 1)"),
        "{}",
        commit.stderr()
    );
    assert!(
        commit.stderr().contains("FAIL: 1 != 2"),
        "{}",
        commit.stderr()
    );

    let done = r.wt(&["done", &id, "--agent", "a1"]);
    done.fails_with(5);
    let err = done.stderr();
    assert!(err.contains(&format!("{id} cannot be done")), "{err}");
    assert!(err.contains("check `test` failed"), "{err}");
    assert!(err.contains("| FAIL: 1 != 2"), "the tail is missing: {err}");
    assert_eq!(r.wt_json(&["show", &id])["status"], "in_progress");

    // Fix the command: both go through.
    set_checks(&r, &[("test", "echo checking; echo ok")]);
    r.git(&["commit", "-q", "-m", "add main"]).ok();
    assert_eq!(r.git(&["show", "HEAD:main.rs"]).ok(), "fn main() {}\n");
    r.wt(&["done", &id, "--agent", "a1"]).ok();
    let msg = message(&r, "main");
    let tree = trailer(&msg, "Wt-CI-Tree");
    assert_eq!(tree.len(), 1, "{msg}");
    assert_eq!(trailer(&msg, "Wt-CI").len(), 1, "{msg}");
    assert!(trailer(&msg, "Wt-CI")[0].starts_with("test=pass("), "{msg}");
    // The tree named is the committed code, without .work/.
    let names = r.git(&["ls-tree", "--name-only", &tree[0]]).ok();
    assert_eq!(names, "README.md\nmain.rs\n");
    r.git(&[
        "diff",
        "--quiet",
        "HEAD",
        &tree[0],
        "--",
        ".",
        ":(exclude).work",
    ])
    .ok();
}

#[test]
fn second_done_on_an_unchanged_tree_reuses_the_green_result() {
    let r = Repo::new();
    let counter = r.home().join("count");
    set_checks(&r, &[("test", &counting(&counter, "true"))]);
    let a = claimed_job(&r, "First");
    let b = claimed_job(&r, "Second");
    r.wt(&["done", &a, "--agent", "a1"]).ok();
    assert_eq!(runs(&counter), 1);
    // done A changed .work/ only: the code tree is the same, so the checks do not rerun.
    r.wt(&["done", &b, "--agent", "a1"]).ok();
    assert_eq!(
        runs(&counter),
        1,
        "the checks ran again on an unchanged tree"
    );
    let reused = trailer(&message(&r, "main"), "Wt-CI-Reused");
    assert_eq!(reused.len(), 1);
    assert_eq!(
        trailer(&message(&r, "main"), "Wt-CI-Tree"),
        trailer(&message(&r, "main~1"), "Wt-CI-Tree")
    );
    // done judges committed work: an untracked file does not count (and done says so).
    let c = claimed_job(&r, "Third");
    r.write("notes.txt", "new\n");
    let done = r.wt(&["done", &c, "--agent", "a1"]);
    done.ok();
    assert_eq!(runs(&counter), 1);
    assert!(
        done.stderr()
            .contains("1 uncommitted change was not checked: done judged commit"),
        "{}",
        done.stderr()
    );
    // `wt ci` checks the working tree: untracked files are part of it, a new run.
    r.wt(&["ci"]).ok();
    assert_eq!(runs(&counter), 2);
    // An ignored one is not.
    r.write(".git/info/exclude", "*.log\n");
    r.write("debug.log", "noise\n");
    r.wt(&["ci"]).ok();
    assert_eq!(runs(&counter), 2);
}

#[test]
fn partially_staged_file_is_restored_byte_for_byte_after_the_hook_green_or_red() {
    let r = Repo::new();
    r.wt(&["hook", "install"]).ok();
    let seen = r.home().join("seen");
    // The check copies what it sees; `verdict` decides green or red.
    let verdict = r.home().join("verdict");
    set_checks(
        &r,
        &[(
            "test",
            &format!("cat code.txt > {}; sh {}", sq(&seen), sq(&verdict)),
        )],
    );
    r.write("code.txt", "line 1\nline 2\n");
    r.git(&["add", "code.txt"]).ok();
    r.git(&["commit", "-q", "--no-verify", "-m", "base"]).ok();
    let staged = "line 1 staged\nline 2\n";
    // Unstaged: other lines, trailing whitespace, CRLF, no final newline, non-UTF-8 bytes.
    let unstaged: &[u8] = b"line 1 staged\nline 2  \r\nunstaged \xff\xfe tail";
    for (green, expect_code) in [(false, 1), (true, 0)] {
        std::fs::write(&verdict, if green { "exit 0\n" } else { "exit 1\n" }).expect("write");
        r.write("code.txt", staged);
        r.git(&["add", "code.txt"]).ok();
        std::fs::write(r.root.join("code.txt"), unstaged).expect("write");
        r.write("untracked.txt", "stays\n");
        let before = head(&r);
        let c = r.git(&["commit", "-q", "-m", "partial"]);
        c.fails_with(expect_code);
        assert_eq!(
            std::fs::read_to_string(&seen).expect("seen"),
            staged,
            "the check did not see the staged version"
        );
        assert_eq!(
            std::fs::read(r.root.join("code.txt")).expect("read"),
            unstaged,
            "unstaged edits not restored exactly (green={green})"
        );
        assert_eq!(r.read("untracked.txt"), "stays\n");
        if green {
            assert_ne!(head(&r), before);
            assert_eq!(r.git(&["show", "HEAD:code.txt"]).ok(), staged);
        } else {
            assert_eq!(head(&r), before);
            assert_eq!(r.git(&["show", ":code.txt"]).ok(), staged, "index changed");
        }
        let leftovers = std::fs::read_dir(r.root.join(".git/wt/unstaged"))
            .map(|d| d.count())
            .unwrap_or(0);
        assert_eq!(leftovers, 0, "patch file left behind");
    }
}

#[test]
fn interrupted_hook_still_restores_unstaged_edits() {
    let r = Repo::new();
    r.wt(&["hook", "install"]).ok();
    let started = r.home().join("started");
    set_checks(
        &r,
        &[("test", &format!("touch {}; sleep 30", sq(&started)))],
    );
    r.write("code.txt", "v1\n");
    r.git(&["add", "code.txt"]).ok();
    r.git(&["commit", "-q", "--no-verify", "-m", "base"]).ok();
    r.write("code.txt", "v2 staged\n");
    r.git(&["add", "code.txt"]).ok();
    r.write("code.txt", "v3 unstaged\n");

    let mut cmd = Command::new("git");
    hermetic(&mut cmd, &r.home());
    cmd.current_dir(&r.root)
        .args(["commit", "-q", "-m", "slow"]);
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    let mut child = cmd.spawn().expect("spawn git commit");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !started.exists() {
        assert!(Instant::now() < deadline, "the check never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        r.read("code.txt"),
        "v2 staged\n",
        "edits were not set aside"
    );
    // Ctrl-C: SIGINT to the whole foreground group (git, the hook, wt).
    let pgid = child.id().to_string();
    Command::new("kill")
        .args(["-INT", "--", &format!("-{pgid}")])
        .status()
        .expect("kill");
    let status = child.wait().expect("wait");
    assert!(!status.success());
    // wt may still be restoring after git is gone.
    let deadline = Instant::now() + Duration::from_secs(10);
    while r.read("code.txt") != "v3 unstaged\n" && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(r.read("code.txt"), "v3 unstaged\n");
    assert_eq!(r.git(&["show", ":code.txt"]).ok(), "v2 staged\n");
    assert_eq!(r.git(&["show", "HEAD:code.txt"]).ok(), "v1\n");
}

#[test]
fn hook_validates_the_staged_ticket_tree_not_the_working_copy() {
    let r = Repo::new();
    r.wt(&["hook", "install"]).ok();
    let id = r.new_ticket(&["job", "Tickets"]);
    let path = r.ticket_path(&id);
    let good = r.read(&path);
    let broken = good.replace("depends_on: []", "depends_on: [J-nosuch99]");
    assert_ne!(good, broken);
    r.write(&path, &broken);
    r.git(&["add", &path]).ok();
    let c = r.git(&["commit", "-m", "break it"]);
    c.fails_with(1);
    assert!(
        c.stderr()
            .contains(&format!("{path}:8: depends on unknown ticket J-nosuch99")),
        "{}",
        c.stderr()
    );
    // Stage a valid edit, keep the broken one unstaged: the commit checks what is staged.
    let retitled = good.replace("title: Tickets", "title: Tickets, renamed");
    r.write(&path, &retitled);
    r.git(&["add", &path]).ok();
    r.write(&path, &broken);
    r.git(&["commit", "-q", "-m", "rename"]).ok();
    assert_eq!(r.git(&["show", &format!("HEAD:{path}")]).ok(), retitled);
    assert_eq!(r.read(&path), broken);
}

/// Every file in a folder: name → (bytes, mode).
fn listing(dir: &Path) -> BTreeMap<String, (Vec<u8>, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(dir).expect("read_dir") {
        let e = e.expect("entry");
        let meta = std::fs::symlink_metadata(e.path()).expect("meta");
        out.insert(
            e.file_name().to_string_lossy().into_owned(),
            (
                std::fs::read(e.path()).expect("read"),
                meta.permissions().mode(),
            ),
        );
    }
    out
}

#[test]
fn an_existing_hook_keeps_running_and_uninstall_leaves_the_folder_as_it_was() {
    let r = Repo::new();
    let hooks = r.root.join(".git/hooks");
    let user_ran = r.home().join("user-hook-ran");
    let user_hook = format!("#!/bin/sh\necho ran >> {}\nexit 0\n", sq(&user_ran));
    std::fs::write(hooks.join("pre-commit"), &user_hook).expect("write");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            hooks.join("pre-commit"),
            std::fs::Permissions::from_mode(0o750),
        )
        .expect("chmod");
    }
    let before = listing(&hooks);

    let out = r.wt_json(&["hook", "install"]);
    assert_eq!(out["action"], "installed");
    assert!(out["chained"].as_str().is_some());
    let after_one = listing(&hooks);
    assert_eq!(r.wt_json(&["hook", "install"])["action"], "unchanged");
    assert_eq!(
        listing(&hooks),
        after_one,
        "second install changed something"
    );
    let status = r.wt_json(&["hook", "status"]);
    assert_eq!(status["installed"], true);
    assert_eq!(status["wt_found"], true);

    // Both hooks run: the user's (counted) and wt's (a red check blocks).
    let counter = r.home().join("count");
    set_checks(&r, &[("test", &counting(&counter, "exit 1"))]);
    assert_eq!(runs(&user_ran), 1);
    r.write("code.txt", "x\n");
    r.git(&["add", "code.txt"]).ok();
    r.git(&["commit", "-q", "-m", "code"]).fails_with(1);
    assert_eq!(runs(&user_ran), 2, "the user's hook did not run");
    assert_eq!(runs(&counter), 1, "wt's hook did not run the check");

    let un = r.wt_json(&["hook", "uninstall"]);
    assert_eq!(un["removed"], true);
    assert_eq!(listing(&hooks), before);
    assert_eq!(r.wt_json(&["hook", "uninstall"])["removed"], false);
    // Back to the user's hook only: the commit goes through.
    r.git(&["commit", "-q", "-m", "code"]).ok();
    assert_eq!(runs(&user_ran), 3);
    assert_eq!(runs(&counter), 1);
}

#[test]
fn install_honours_core_hooks_path_and_uninstall_removes_the_folder_it_made() {
    let r = Repo::new();
    r.git(&["config", "core.hooksPath", "my-hooks"]).ok();
    let out = r.wt_json(&["hook", "install"]);
    let dir = r.root.join("my-hooks");
    assert_eq!(
        PathBuf::from(out["hook"].as_str().expect("hook")),
        dir.join("pre-commit")
    );
    assert!(dir.join("pre-commit").is_file());
    assert!(!r.root.join(".git/hooks/pre-commit").exists());
    let counter = r.home().join("count");
    set_checks(&r, &[("test", &counting(&counter, "exit 1"))]);
    r.write("code.txt", "x\n");
    r.git(&["add", "code.txt"]).ok();
    r.git(&["commit", "-q", "-m", "code"]).fails_with(1);
    assert_eq!(runs(&counter), 1);
    r.wt(&["hook", "uninstall"]).ok();
    assert!(!dir.exists(), "the folder install created is still there");
}

#[test]
fn install_from_a_second_worktree_guards_commits_in_both() {
    let r = Repo::new();
    let counter = r.home().join("count");
    set_checks(&r, &[("test", &counting(&counter, "exit 1"))]);
    let second = r.home().join("second");
    r.git(&[
        "worktree",
        "add",
        "-q",
        second.to_str().expect("utf8"),
        "-b",
        "feature",
    ])
    .ok();
    let out = r.wt_in(&second, &["--json", "hook", "install"]);
    out.ok();
    let hook = PathBuf::from(out.json()["hook"].as_str().expect("hook").to_string());
    assert_eq!(hook, r.root.join(".git/hooks/pre-commit"));
    std::fs::write(second.join("feature.txt"), "x\n").expect("write");
    r.git_in(&second, &["add", "feature.txt"]).ok();
    r.git_in(&second, &["commit", "-q", "-m", "feature"])
        .fails_with(1);
    assert_eq!(runs(&counter), 1);
    r.write("main.txt", "x\n");
    r.git(&["add", "main.txt"]).ok();
    r.git(&["commit", "-q", "-m", "main"]).fails_with(1);
    assert_eq!(runs(&counter), 2);
    let st = r.wt_in(&second, &["--json", "hook", "status"]);
    assert_eq!(st.json()["installed"], true);
}

#[test]
fn no_ci_needs_a_reason_which_is_recorded_in_commit_and_ticket() {
    let r = Repo::new();
    let counter = r.home().join("count");
    set_checks(&r, &[("test", &counting(&counter, "exit 1"))]);
    let id = claimed_job(&r, "Docs only");
    r.wt(&["done", &id, "--agent", "a1", "--no-ci"])
        .fails_with(2);
    r.wt(&[
        "done",
        &id,
        "--agent",
        "a1",
        "--no-ci",
        "--reason",
        "CI runner is down",
    ])
    .ok();
    assert_eq!(runs(&counter), 0);
    assert_eq!(
        trailer(&message(&r, "main"), "Wt-No-CI"),
        ["CI runner is down"]
    );
    let text = r.read(&r.ticket_path(&id));
    assert!(
        text.contains(&format!("{NOW} a1: done without CI: CI runner is down")),
        "{text}"
    );
}

#[test]
fn ci_stops_at_the_first_failure_unless_keep_going() {
    let r = Repo::new();
    let counter = r.home().join("count");
    set_checks(
        &r,
        &[
            ("lint", "echo lint-output-$((1+1))"),
            ("test", "echo test-failure-line; exit 3"),
            ("build", &counting(&counter, "true")),
        ],
    );
    let run = r.wt(&["--json", "ci"]);
    run.fails_with(1);
    let j = run.json();
    assert_eq!(j["green"], false);
    let statuses: Vec<&str> = j["record"]["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| c["status"].as_str().expect("status"))
        .collect();
    assert_eq!(statuses, ["pass", "fail", "skipped"]);
    assert_eq!(j["record"]["checks"][1]["exit_code"], 3);
    assert_eq!(runs(&counter), 0);
    // Output is streamed (to stderr; stdout is the JSON), with which check ran and its time.
    let err = run.stderr();
    assert!(err.contains("lint-output-2"), "{err}");
    assert!(err.contains("wt ci: [2/3] test FAILED in"), "{err}");

    let run = r.wt(&["ci", "--keep-going", "--quiet"]);
    run.fails_with(1);
    assert_eq!(runs(&counter), 1);
    assert!(!run.stderr().contains("lint-output-2"), "--quiet streamed");
    assert!(run.stdout().contains("check `test` failed (exit 3)"));
    assert!(run.stdout().contains("| test-failure-line"));
}

#[test]
fn ci_since_lists_code_commits_that_were_never_checked() {
    let r = repo_with_checks(&[("test", "true")]);
    let base = head(&r);
    r.write("a.txt", "a\n");
    r.git(&["add", "a.txt"]).ok();
    r.git(&["commit", "-q", "-m", "checked by the hook"]).ok();
    r.write("b.txt", "b\n");
    r.git(&["add", "b.txt"]).ok();
    r.git(&["commit", "-q", "--no-verify", "-m", "skipped the hook"])
        .ok();
    let id = r.new_ticket(&["job", "Only tickets"]);
    assert!(!id.is_empty());
    let run = r.wt(&["--json", "ci", "--since", &base]);
    run.fails_with(1);
    let j = run.json();
    let rows: Vec<(String, String)> = j["commits"]
        .as_array()
        .expect("commits")
        .iter()
        .map(|c| {
            (
                c["subject"].as_str().expect("subject").to_string(),
                c["status"].as_str().expect("status").to_string(),
            )
        })
        .collect();
    // wt's own ticket commit changes no code and is not listed.
    assert_eq!(
        rows,
        [
            ("skipped the hook".to_string(), "unchecked".to_string()),
            ("checked by the hook".to_string(), "green".to_string()),
        ]
    );
    assert_eq!(j["not_green"], 1);
    // Checking the tree now makes it green.
    r.wt(&["ci"]).ok();
    r.wt(&["ci", "--since", &base]).ok();
}

#[test]
fn checks_come_from_the_committed_config_not_the_working_copy() {
    let r = Repo::new();
    set_checks(&r, &[("test", "true")]);
    let text = r.read(".work/config.yaml");
    r.write(
        ".work/config.yaml",
        &text.replace("test: \"true\"", "test: \"exit 7\""),
    );
    let j = r.wt_json(&["ci"]);
    assert_eq!(j["green"], true);
    assert_eq!(j["record"]["checks"][0]["command"], "true");
}

#[test]
fn ticket_titles_never_reach_a_shell() {
    let r = Repo::new();
    set_checks(&r, &[("test", "true")]);
    let title = "Title $(touch pwned1) `touch pwned2`; touch pwned3";
    let id = claimed_job(&r, title);
    r.wt(&["done", &id, "--agent", "a1"]).ok();
    for f in ["pwned1", "pwned2", "pwned3"] {
        assert!(!r.root.join(f).exists(), "{f} was created");
        assert!(!r.home().join(f).exists(), "{f} was created");
    }
}

#[test]
fn a_check_that_rewrites_tracked_files_blocks_the_commit() {
    let r = repo_with_checks(&[("fmt", "echo formatted > code.txt")]);
    r.write("code.txt", "messy\n");
    r.git(&["add", "code.txt"]).ok();
    let c = r.git(&["commit", "-q", "-m", "code"]);
    c.fails_with(1);
    assert!(
        c.stderr().contains("changed while the checks ran"),
        "{}",
        c.stderr()
    );
    assert!(c.stderr().contains("code.txt"), "{}", c.stderr());
}

#[test]
fn init_proposes_checks_for_the_project_type_and_installs_the_hook() {
    let r = Repo::bare_git();
    r.write(
        "Cargo.toml",
        "[package]\nname = \"x\"\nversion = \"0.1.0\"\n",
    );
    let out = r.wt(&["init"]);
    let text = out.ok();
    assert!(
        text.contains("ci: found Cargo.toml, proposed checks fmt, lint, test"),
        "{text}"
    );
    assert!(text.contains("hook: installed"), "{text}");
    let cfg = r.read(".work/config.yaml");
    let ci = &cfg[cfg.find("\nci:\n").expect("ci section")..];
    assert!(
        ci.contains(
            "  fmt: \"cargo fmt --all -- --check\"\n  lint: \"cargo clippy --all-targets -- -D warnings\"\n  test: \"cargo test\"\n"
        ),
        "{ci}"
    );
    assert!(r.root.join(".git/hooks/pre-commit").is_file());
    r.wt(&["check"]).ok();

    let n = Repo::bare_git();
    n.write(
        "package.json",
        r#"{"scripts": {"build": "tsc -b", "lint": "eslint .", "typecheck": "tsc --noEmit", "test": "vitest"}}"#,
    );
    n.write("yarn.lock", "");
    let j = n.wt_json(&["init", "--no-hook"]);
    let checks: Vec<(String, String)> = j["ci"]["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().expect("name").into(),
                c["command"].as_str().expect("command").into(),
            )
        })
        .collect();
    let want = [
        ("type_check", "yarn run typecheck"),
        ("lint", "yarn run lint"),
        ("test", "yarn run test"),
        ("build", "yarn run build"),
    ];
    assert_eq!(checks, want.map(|(a, b)| (a.to_string(), b.to_string())));
    assert!(j["hook"].is_null());
    assert!(!n.root.join(".git/hooks/pre-commit").exists());
}

#[test]
fn a_fix_to_the_checks_can_be_committed_with_the_code_it_fixes() {
    let r = repo_with_checks(&[("test", "exit 1")]);
    r.write("code.txt", "x\n");
    r.git(&["add", "code.txt"]).ok();
    r.git(&["commit", "-q", "-m", "code"]).fails_with(1);
    let text = r.read(".work/config.yaml");
    r.write(".work/config.yaml", &text.replace("\"exit 1\"", "\"true\""));
    r.git(&["commit", "-q", "-am", "code and the fixed check"])
        .ok();
    assert_eq!(r.git(&["show", "HEAD:code.txt"]).ok(), "x\n");
}

#[test]
fn check_names_a_bad_ci_entry_by_line_and_the_hook_refuses_to_commit_it() {
    let r = Repo::new();
    r.wt(&["hook", "install"]).ok();
    let text = r.read(".work/config.yaml");
    let line = text.lines().count() + 1;
    r.write(
        ".work/config.yaml",
        &text.replace("ci: {}", "ci:\n  \"unit tests\": \"cargo test\""),
    );
    r.git(&["add", ".work/config.yaml"]).ok();
    let c = r.git(&["commit", "-q", "-m", "bad check name"]);
    c.fails_with(1);
    assert!(
        c.stderr().contains(&format!(
            ".work/config.yaml:{line}: ci check name `unit tests` is not a simple name"
        )),
        "{}",
        c.stderr()
    );
}
