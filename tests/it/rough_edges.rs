//! Small things an agent or a person trips over: argument errors under `--json`, `--kind any`
//! everywhere, `-C` to a missing directory, the live status line on dumb terminals, plurals,
//! the chained hook in `hook install`, the `--rerun` hint, and who may approve a gate.

use crate::common::*;

#[test]
fn json_argument_errors_print_the_error_document_on_stdout() {
    let r = Repo::new();
    for args in [
        &["--json", "claim"][..],
        &["--json", "show"][..],
        &["show", "--json", "--bogus-flag", "x"][..],
        &["--json", "no-such-verb"][..],
    ] {
        let run = r.wt(args);
        run.fails_with(2);
        let v = run.json();
        assert_eq!(v["schema_version"], 1, "{args:?}: {v}");
        assert_eq!(v["error"]["kind"], "invalid", "{args:?}: {v}");
        assert_eq!(v["error"]["code"], 2, "{args:?}: {v}");
        assert!(
            !v["error"]["message"].as_str().unwrap().is_empty(),
            "{args:?}: {v}"
        );
        assert!(run.stderr().contains("error: "), "{}", run.stderr());
    }
    // Without --json: clap's own message on stderr, nothing on stdout.
    let run = r.wt(&["claim"]);
    run.fails_with(2);
    assert_eq!(run.stdout(), "");
    // --help and --version are not errors.
    assert!(r.wt(&["--json", "--version"]).ok().starts_with("wt "));
}

#[test]
fn kind_any_works_for_ready_blocked_and_list_and_a_bad_kind_names_it() {
    let r = Repo::new();
    r.new_ticket(&["job", "J"]);
    for verb in ["ready", "blocked", "list"] {
        r.wt(&[verb, "--kind", "any"]).ok();
        let bad = r.wt(&[verb, "--kind", "bogus"]);
        bad.fails_with(2);
        assert!(
            bad.stderr().contains("phase-spec or any"),
            "{verb}: {}",
            bad.stderr()
        );
    }
    assert_eq!(ids(&r.wt_json(&["list", "--kind", "any"])).len(), 1);
}

#[test]
fn dash_c_to_a_missing_directory_says_it_does_not_exist() {
    let r = Repo::new();
    let missing = r.home().join("no-such-dir");
    let run = r.wt(&["-C", missing.to_str().unwrap(), "--json", "list"]);
    run.fails_with(2);
    assert!(run.stderr().contains("does not exist"), "{}", run.stderr());
    assert!(!run.stderr().contains("not a git repository"));
    assert_eq!(run.json()["error"]["kind"], "invalid");
    let file = r.root.join("README.md");
    let run = r.wt(&["-C", file.to_str().unwrap(), "list"]);
    run.fails_with(2);
    assert!(
        run.stderr().contains("is not a directory"),
        "{}",
        run.stderr()
    );
}

#[test]
fn counts_of_one_are_singular() {
    let r = Repo::new();
    let p = r.home().join("one.json");
    std::fs::write(&p, r#"[{"key": "a", "kind": "job", "title": "A"}]"#).unwrap();
    let out = r.wt(&["import", p.to_str().unwrap()]).ok();
    assert!(out.starts_with("imported 1 ticket\n"), "{out}");
    assert!(
        r.subjects("main")[0].contains("1 ticket from"),
        "{:?}",
        r.subjects("main")
    );
    r.write("plan.md", "## P\n\n### J\n\n- [ ] T\n");
    let out = r.wt(&["plan", "import", "plan.md", "--dry-run"]).ok();
    assert!(out.contains("1 phase-spec, 1 job, 1 task"), "{out}");
    assert!(!out.contains("1 tasks") && !out.contains("1 jobs"), "{out}");
    let out = r.wt(&["check"]).ok();
    assert!(!out.contains("1 tickets"), "{out}");
    let out = r.wt(&["status"]).ok();
    assert!(out.contains("1 ticket:"), "{out}");
}

#[test]
fn hook_install_reports_a_chained_hook_that_an_earlier_install_moved() {
    let r = Repo::new();
    let hook = r.root.join(".git/hooks/pre-commit");
    std::fs::create_dir_all(hook.parent().unwrap()).unwrap();
    std::fs::write(&hook, "#!/bin/sh\nexit 0\n").unwrap();
    let first = r.wt_json(&["hook", "install"]);
    assert_eq!(first["moved"], true, "{first}");
    assert!(first["chained"]
        .as_str()
        .unwrap()
        .ends_with("pre-commit.wt-chained"));
    let again = r.wt_json(&["hook", "install"]);
    assert_eq!(again["moved"], false, "{again}");
    assert_eq!(again["chained"], first["chained"], "{again}");
    let text = r.wt(&["hook", "install"]).ok();
    assert!(text.contains("runs first"), "{text}");
}

#[test]
fn the_reused_green_verdict_suggests_a_command_that_exists() {
    let r = Repo::new();
    let cfg = r.read(".work/config.yaml");
    let start = cfg.find("\nci:").unwrap() + 1;
    r.write(
        ".work/config.yaml",
        &format!("{}ci:\n  ok: \"true\"\n", &cfg[..start]),
    );
    r.git(&["commit", "-q", "-am", "ci"]).ok();
    r.wt(&["ci"]).ok();
    let again = r.wt(&["ci"]);
    again.ok();
    assert!(
        again.stderr().contains("`wt ci --rerun`"),
        "{}",
        again.stderr()
    );
    let j = r.new_ticket(&["job", "J"]);
    r.wt(&["claim", &j, "--agent", "a"]).ok();
    let done = r.wt(&["done", &j, "--agent", "a"]);
    done.ok();
    assert!(!done.stderr().contains("; --rerun"), "{}", done.stderr());
    assert!(
        done.stderr().contains("`wt ci --rerun`"),
        "{}",
        done.stderr()
    );
    r.wt(&["ci", "--rerun"]).ok();
}

/// `script` gives the command a terminal; the live line is drawn with `\r\e[2K` only where
/// the terminal can take it.
#[test]
fn no_erase_line_escapes_for_term_dumb_or_a_non_terminal() {
    let r = Repo::new();
    let cfg = r.read(".work/config.yaml");
    let start = cfg.find("\nci:").unwrap() + 1;
    r.write(
        ".work/config.yaml",
        &format!("{}ci:\n  nap: \"sleep 0.3\"\n", &cfg[..start]),
    );
    r.git(&["commit", "-q", "-am", "ci"]).ok();
    // Not a terminal: no escapes.
    let plain = r.wt_env(&r.root, &["ci", "--rerun"], &[("TERM", "xterm")]);
    plain.ok();
    assert!(!plain.stderr().contains('\u{1b}'), "{:?}", plain.stderr());
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped the terminal half: no `script` here");
        return;
    }
    let in_tty = |term: &str| -> String {
        let cmd = format!("'{}' ci --rerun", wt_bin().display());
        let mut c = std::process::Command::new("script");
        hermetic(&mut c, &r.home());
        c.current_dir(&r.root)
            .env("TERM", term)
            .args(["-qec", &cmd, "/dev/null"]);
        let out = c.output().expect("script");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let xterm = in_tty("xterm");
    assert!(
        xterm.contains("\u{1b}[2K"),
        "a terminal gets the live line: {xterm:?}"
    );
    let dumb = in_tty("dumb");
    assert!(!dumb.contains("\u{1b}[2K"), "TERM=dumb: {dumb:?}");
}

#[test]
fn only_the_approvers_the_config_names_may_approve_a_gate() {
    let r = Repo::new();
    let cfg = r.read(".work/config.yaml");
    let cfg = cfg
        .replace("  approval: []\n", "  approval: [phase-spec]\n")
        .replace("  approvers: []\n", "  approvers: [alice, bob]\n");
    assert!(cfg.contains("approvers: [alice, bob]"), "{cfg}");
    r.write(".work/config.yaml", &cfg);
    r.git(&["commit", "-q", "-am", "gates"]).ok();
    let p = r.new_ticket(&["phase-spec", "Gated"]);
    let run = r.wt(&["--json", "approve", &p, "--agent", "agent-7"]);
    run.fails_with(5);
    let v = run.json();
    assert_eq!(v["error"]["kind"], "refused", "{v}");
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("alice, bob") && msg.contains("agent-7"),
        "{msg}"
    );
    assert_eq!(v["error"]["detail"]["approvers"][1], "bob", "{v}");
    assert!(r.wt_json(&["show", &p])["approved_by"].is_null());
    let v = r.wt_json(&["approve", &p, "--agent", "bob"]);
    assert_eq!(v["approved"][0]["approved_by"], "bob", "{v}");
}
