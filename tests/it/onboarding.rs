//! Onboarding and the ecosystem: `wt prime`, `wt setup`, `wt completions`, `wt man`.

use std::process::Command;

use clap::CommandFactory;

use crate::common::*;

/// Run wt outside any repository (prime, completions and man need none).
fn wt_anywhere(dir: &std::path::Path, args: &[&str]) -> Run {
    let mut cmd = Command::new(wt_bin());
    hermetic(&mut cmd, dir);
    cmd.current_dir(dir).args(args);
    Run {
        out: cmd.output().expect("run wt"),
    }
}

/// The verbs, as clap defines them (every page and completion must know them).
/// The verbs a user sees (hidden ones, like the fake agent, have no page or completion).
fn verbs() -> Vec<String> {
    wt::cli::Cli::command()
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .map(|c| c.get_name().to_string())
        .collect()
}

#[test]
fn prime_fits_in_2048_bytes_walks_the_loop_in_order_and_is_versioned() {
    let tmp = tempfile::tempdir().unwrap();
    let out = wt_anywhere(tmp.path(), &["prime"]);
    let text = out.ok();
    assert!(text.len() <= 2048, "`wt prime | wc -c` = {}", text.len());
    assert!(text.starts_with("# wt prime v1"), "{text}");
    let mut at = 0;
    for step in [
        "wt ready",
        "wt claim",
        "wt context",
        "wt progress",
        "wt tick ID N",
        "git commit",
        "wt done",
    ] {
        let i = text[at..]
            .find(step)
            .unwrap_or_else(|| panic!("`{step}` missing or out of order in:\n{text}"));
        at += i;
    }
    for code in [
        "0 ok",
        "2 invalid",
        "3 not found",
        "4 claimed",
        "5 refused",
        "6 busy",
        "7 not set up",
    ] {
        assert!(
            text.contains(code),
            "exit code `{code}` not explained:\n{text}"
        );
    }
    for rule in ["another agent's ticket", "CI must be green"] {
        assert!(text.contains(rule), "rule `{rule}` missing:\n{text}");
    }
    let v = wt_anywhere(tmp.path(), &["--json", "prime"]);
    let v = v.json();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["prime_version"], 1);
    assert_eq!(v["text"], text.as_str());
    assert_eq!(v["bytes"], text.len());
}

#[test]
fn setup_twice_leaves_agents_md_identical_and_touches_nothing_outside_its_markers() {
    let r = Repo::new();
    let before = "# Agents\n\nOur own rules.\n";
    r.write("AGENTS.md", before);
    let first = r.wt_json(&["setup"]);
    assert_eq!(first["files"][0]["action"], "added", "{first}");
    assert_eq!(
        first["files"].as_array().unwrap().len(),
        1,
        "no CLAUDE.md made: {first}"
    );
    assert!(!r.root.join("CLAUDE.md").exists());
    let once = r.read("AGENTS.md");
    assert!(once.starts_with(before), "{once}");
    assert!(once.contains("`wt prime`"), "{once}");
    let second = r.wt_json(&["setup"]);
    assert_eq!(second["files"][0]["action"], "unchanged", "{second}");
    assert_eq!(r.read("AGENTS.md"), once, "a second run changes nothing");
    // An edited block is put back; text after it is kept as written.
    let edited = once.replace("Before you start", "Whenever") + "\nAfter the block.\n";
    r.write("AGENTS.md", &edited);
    let third = r.wt_json(&["setup"]);
    assert_eq!(third["files"][0]["action"], "updated", "{third}");
    assert_eq!(r.read("AGENTS.md"), format!("{once}\nAfter the block.\n"));
    // CLAUDE.md is updated where it exists; a link to AGENTS.md stays a link.
    r.write("CLAUDE.md", "Claude notes\n");
    r.wt(&["setup"]).ok();
    assert!(r
        .read("CLAUDE.md")
        .starts_with("Claude notes\n\n<!-- wt:setup begin"));
    std::fs::remove_file(r.root.join("CLAUDE.md")).unwrap();
    std::os::unix::fs::symlink("AGENTS.md", r.root.join("CLAUDE.md")).unwrap();
    let v = r.wt_json(&["setup"]);
    assert_eq!(v["files"][1]["action"], "unchanged", "{v}");
    assert!(std::fs::symlink_metadata(r.root.join("CLAUDE.md"))
        .unwrap()
        .file_type()
        .is_symlink());
    // Nothing was committed: these are the project's files.
    assert!(!r.subjects("main")[0].contains("setup"));
}

#[test]
fn setup_creates_agents_md_in_the_repository_root_from_a_subdirectory() {
    let r = Repo::new();
    r.write("sub/x.txt", "x");
    let out = r.wt_in(&r.root.join("sub"), &["setup"]).ok();
    assert_eq!(out, "AGENTS.md: created\n");
    let text = r.read("AGENTS.md");
    assert!(text.starts_with("<!-- wt:setup begin") && text.ends_with("<!-- wt:setup end -->\n"));
}

#[test]
fn completions_for_every_shell_name_the_verbs_and_bash_parses_its_script() {
    let tmp = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = wt_anywhere(tmp.path(), &["completions", shell]).ok();
        assert!(script.len() > 500, "{shell}: {} bytes", script.len());
        for verb in ["claim", "ready", "done", "prime", "completions"] {
            assert!(
                script.contains(verb),
                "{shell} script does not know `{verb}`"
            );
        }
        if shell == "bash" {
            let p = tmp.path().join("wt.bash");
            std::fs::write(&p, &script).unwrap();
            match Command::new("bash").arg("-n").arg(&p).output() {
                Ok(o) => assert!(o.status.success(), "bash -n: {o:?}"),
                Err(_) => eprintln!("no bash here: `bash -n` skipped"),
            }
        }
    }
    wt_anywhere(tmp.path(), &["completions", "tcsh"]).fails_with(2);
}

#[test]
fn man_writes_a_page_for_every_verb_that_man_can_render() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("man1");
    let v = wt_anywhere(tmp.path(), &["--json", "man", dir.to_str().unwrap()]).json();
    let pages: Vec<&str> = v["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(pages.contains(&"wt.1"), "{pages:?}");
    for verb in verbs().iter().filter(|v| *v != "help") {
        let name = format!("wt-{verb}.1");
        assert!(
            pages.contains(&name.as_str()),
            "no page for {verb}: {pages:?}"
        );
        let roff = std::fs::read_to_string(dir.join(&name)).unwrap();
        assert!(
            roff.contains(".TH wt-"),
            "{name} has no roff title:\n{roff}"
        );
        assert!(roff.contains(".SH NAME"), "{name}:\n{roff}");
    }
    assert!(
        pages.contains(&"wt-plan-import.1"),
        "nested verbs too: {pages:?}"
    );
    // Without a folder: wt(1) on stdout.
    let page = wt_anywhere(tmp.path(), &["man"]).ok();
    assert!(page.contains(".TH wt 1"), "{page}");
    let rendered = Command::new("man")
        .env("MANWIDTH", "80")
        .args(["-l", "-P", "cat"])
        .arg(dir.join("wt-claim.1"))
        .output();
    match rendered {
        Ok(o) if o.status.success() => {
            let text = String::from_utf8_lossy(&o.stdout);
            assert!(text.contains("NAME") && text.contains("--next"), "{text}");
        }
        _ => eprintln!("`man -l` is not available here: checked the roff headers only"),
    }
}

#[test]
fn no_verb_argument_shares_an_id_with_a_global_flag() {
    // `wt man DIR` once had an argument called `dir`, the id of the global `-C DIR`: clap
    // then read DIR as -C.
    let cmd = wt::cli::Cli::command();
    let globals: Vec<String> = cmd
        .get_arguments()
        .map(|a| a.get_id().to_string())
        .collect();
    fn walk(c: &clap::Command, globals: &[String], path: &str) {
        for a in c.get_arguments() {
            assert!(
                !globals.contains(&a.get_id().to_string()) || a.is_global_set(),
                "`{path}` has an argument `{}`, the id of a global flag",
                a.get_id()
            );
        }
        for s in c.get_subcommands() {
            walk(s, globals, &format!("{path} {}", s.get_name()));
        }
    }
    for s in cmd.get_subcommands() {
        walk(s, &globals, s.get_name());
    }
}
