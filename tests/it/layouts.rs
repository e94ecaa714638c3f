//! Every index layout and line-ending setting (issue 13): a split index, a sparse index, a
//! sparse checkout without one, `core.autocrlf` (`true`, `input`), `.gitattributes` with
//! `eol=crlf` or `text=auto`. Every verb that touches the index or the working tree (claim,
//! release, done with and without CI, ci, new, import, hook run, doctor, status, context,
//! sync) must work there, with the state branch checked out or not; afterwards `git status`
//! is clean, `git diff` is empty, the index keeps its layout, the CI tree is the one git
//! would commit, and every ticket file wt wrote is what `git checkout` would have written
//! (none where a sparse checkout leaves `.work/` out).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::*;

/// Where the state branch is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    /// Checked out in the repository (main).
    CheckedOut,
    /// On `tickets`, checked out nowhere: the repository's checkout is code only.
    Elsewhere,
    /// On `tickets`, checked out in a linked worktree (where the layout is set up).
    Linked,
}

/// A repository for the matrix: code in `src/` and `docs/`, wt set up with `review: false`
/// and one CI check, a phase with a job and two more jobs, and the index last written by
/// `git commit`. The layout is applied in `checkout` (the state branch's checkout when
/// there is one, else the repository) by the caller.
struct Setup {
    r: Repo,
    state: State,
    /// The working tree whose index and files are under test.
    checkout: PathBuf,
    jobs: [String; 3],
}

fn git_in(r: &Repo, dir: &Path, args: &[&str]) -> String {
    r.git_in(dir, args).ok()
}

/// Run git in `dir` with `input` on stdin; stdout as bytes (asserting success).
fn git_bytes(r: &Repo, dir: &Path, args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut cmd = Command::new("git");
    hermetic(&mut cmd, &r.home());
    let mut child = cmd
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run git");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write stdin");
    let out = child.wait_with_output().expect("git");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `review: false` and one CI check, in the config file of the checkout at `dir`.
fn configure(r: &Repo, dir: &Path) {
    let path = dir.join(".work/config.yaml");
    let cfg = std::fs::read_to_string(&path).expect("config");
    assert!(cfg.contains("\nreview: true\n"), "{cfg}");
    assert!(cfg.contains("\nci: {}\n"), "{cfg}");
    let cfg = cfg
        .replacen("\nreview: true\n", "\nreview: false\n", 1)
        .replacen("\nci: {}\n", "\nci:\n  ok: \"true\"\n", 1);
    std::fs::write(&path, cfg).expect("write config");
    git_in(
        r,
        dir,
        &["commit", "-q", "-am", "config: review false, one check"],
    );
}

fn setup(state: State) -> Setup {
    let r = Repo::bare_git();
    r.write("src/a.rs", "fn main() {}\n");
    r.write("docs/d.md", "doc\n");
    r.git(&["add", "-A"]).ok();
    r.git(&["commit", "-q", "-m", "code"]).ok();
    let checkout = match state {
        State::CheckedOut => {
            r.wt(&["init", "--no-hook"]).ok();
            configure(&r, &r.root);
            r.root.clone()
        }
        State::Elsewhere | State::Linked => {
            r.wt(&["init", "--no-hook", "--branch", "tickets"]).ok();
            let linked = r.tmp.path().join("tickets");
            let at = linked.to_str().expect("utf8");
            r.git(&["worktree", "add", "-q", at, "tickets"]).ok();
            configure(&r, &linked);
            if state == State::Elsewhere {
                r.git(&["worktree", "remove", at]).ok();
                r.root.clone()
            } else {
                linked
            }
        }
    };
    let phase = r.new_ticket(&["phase-spec", "Phase"]);
    let jobs = [
        r.new_ticket(&["job", "Job one", "--parent", &phase]),
        r.new_ticket(&["job", "Job two"]),
        r.new_ticket(&["job", "Job three"]),
    ];
    // The index as git writes it (with a cache tree).
    git_in(
        &r,
        &checkout,
        &["commit", "-q", "--allow-empty", "-m", "user"],
    );
    Setup {
        r,
        state,
        checkout,
        jobs,
    }
}

/// Check out everything again as git would, in the layout's setting (after a setting that
/// changes how files are written).
fn recheckout(s: &Setup) {
    let r = &s.r;
    for entry in std::fs::read_dir(&s.checkout).expect("read checkout") {
        let entry = entry.expect("entry");
        if entry.file_name() != ".git" {
            let p = entry.path();
            if p.is_dir() {
                std::fs::remove_dir_all(&p).expect("rm");
            } else {
                std::fs::remove_file(&p).expect("rm");
            }
        }
    }
    git_in(r, &s.checkout, &["checkout", "--", "."]);
    assert_clean(s, "after checking out again");
}

fn assert_clean(s: &Setup, after: &str) {
    let r = &s.r;
    assert_eq!(
        git_in(r, &s.checkout, &["status", "--porcelain"]),
        "",
        "git status after {after}"
    );
    r.git_in(&s.checkout, &["diff", "--quiet"]).ok();
    r.git_in(&s.checkout, &["diff", "--cached", "--quiet"]).ok();
}

/// Every ticket file in the checkout holds what `git checkout` writes for it (with git's
/// filters), and none is there that a sparse checkout leaves out.
fn assert_files_as_git_writes(s: &Setup, after: &str) {
    let r = &s.r;
    if s.state == State::Elsewhere {
        return;
    }
    let listing = git_in(r, &s.checkout, &["ls-files", "-t", "-z", "--", ".work"]);
    let mut seen = 0;
    for rec in listing.split('\0').filter(|l| !l.is_empty()) {
        let (tag, path) = rec.split_once(' ').expect("tag and path");
        let file = s.checkout.join(path);
        if tag == "S" && sparse(s) {
            assert!(
                !file.exists(),
                "{path} left out by the sparse checkout exists after {after}"
            );
            continue;
        }
        let want = git_bytes(
            r,
            &s.checkout,
            &["cat-file", "--filters", &format!("HEAD:{path}")],
            b"",
        );
        let got = std::fs::read(&file).unwrap_or_else(|e| panic!("{path} after {after}: {e}"));
        assert!(
            got == want,
            "{path} after {after} is not what git checks out:\n{:?}\nwant:\n{:?}",
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want)
        );
        seen += 1;
    }
    if !sparse(s) {
        assert!(seen > 5, "only {seen} ticket files checked after {after}");
    }
}

fn sparse(s: &Setup) -> bool {
    s.r.git_in(&s.checkout, &["config", "--bool", "core.sparseCheckout"])
        .stdout()
        .trim()
        == "true"
}

/// The index of the checkout still has the extension `sig` (a split or sparse index).
fn has_extension(s: &Setup, sig: &[u8; 4]) -> bool {
    let git_dir = git_in(
        &s.r,
        &s.checkout,
        &["rev-parse", "--path-format=absolute", "--git-dir"],
    );
    let data = std::fs::read(Path::new(git_dir.trim()).join("index")).expect("index");
    data.windows(4).any(|w| w == sig)
}

/// The tree `git add -A && git write-tree` makes of the repository's working tree (in a
/// copy of its index, so that a split or sparse index keeps what it says), without `.work`.
fn git_code_tree(r: &Repo) -> String {
    let copy = r.tmp.path().join("probe-index");
    std::fs::copy(r.root.join(".git/index"), &copy).expect("copy the index");
    let with_copy = |args: &[&str]| {
        let mut cmd = Command::new("git");
        hermetic(&mut cmd, &r.home());
        let out = cmd
            .current_dir(&r.root)
            .env("GIT_INDEX_FILE", &copy)
            .args(["-c", "core.splitIndex=false"])
            .args(args)
            .output()
            .expect("git");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf8")
    };
    with_copy(&["add", "-A"]);
    let root = with_copy(&["write-tree"]);
    std::fs::remove_file(&copy).expect("rm probe index");
    let listing = git_in(r, &r.root, &["ls-tree", root.trim()]);
    let kept: String = listing
        .lines()
        .filter(|l| !l.ends_with("\t.work"))
        .map(|l| format!("{l}\n"))
        .collect();
    let out = git_bytes(r, &r.root, &["mktree"], kept.as_bytes());
    String::from_utf8(out).expect("utf8").trim().to_string()
}

/// Run every verb that touches the index or the working tree, checking after each one.
fn every_verb(s: &Setup) {
    let r = &s.r;
    let [j1, j2, j3] = &s.jobs;
    let check = |after: &str| {
        assert_clean(s, after);
        assert_files_as_git_writes(s, after);
    };
    check("the setup");
    for args in [
        vec!["claim", j1, "--agent", "a"],
        vec!["release", j1, "--agent", "a"],
        vec!["claim", j1, "--agent", "a"],
        vec!["done", j1, "--agent", "a"],
        vec!["claim", j2, "--agent", "a"],
        vec![
            "done",
            j2,
            "--agent",
            "a",
            "--no-ci",
            "--reason",
            "layout test",
        ],
    ] {
        r.wt(&args).ok();
        check(&args.join(" "));
    }
    assert_eq!(r.wt_json(&["show", j1])["status"], "done");
    assert_eq!(r.wt_json(&["show", j2])["status"], "done");

    // The CI tree is the code as git would commit it: a changed file and a new one (with
    // CRLF, which git's filters may turn into LF), the rest as the index has it.
    r.write("src/a.rs", "fn main() { 1 }\r\n");
    r.write("src/b.rs", "// new\r\n");
    let ci = r.wt_json(&["ci", "-q", "--rerun"]);
    assert_eq!(ci["green"], true, "{ci}");
    assert_eq!(
        ci["record"]["tree"].as_str().expect("tree"),
        git_code_tree(r),
        "the CI tree is the code as git would commit it"
    );
    std::fs::remove_file(r.root.join("src/b.rs")).expect("rm");
    r.git(&["checkout", "--", "src/a.rs"]).ok();
    check("ci");

    r.new_ticket(&["job", "Job four"]);
    check("new");
    let keys = r.import(r#"[{"key": "k", "kind": "job", "title": "Imported"}]"#);
    assert_eq!(keys.len(), 1);
    check("import");

    r.wt(&["status"]).ok();
    let doctor = r.wt_json(&["doctor"]);
    assert_eq!(doctor["ok"], true, "{doctor}");
    assert_eq!(doctor["findings"], serde_json::json!([]), "{doctor}");
    r.wt(&["context", j3, "--with-files"]).ok();
    check("status, doctor, context");

    // The hook checks staged code.
    r.write("src/a.rs", "fn main() { }\n");
    r.git(&["add", "src/a.rs"]).ok();
    r.wt(&["hook", "run", "pre-commit"]).ok();
    r.git(&["commit", "-q", "--no-verify", "-m", "code change"])
        .ok();
    check("hook run");

    // sync: push, let a clone change a ticket, and take its change back in.
    let remote = r.tmp.path().join("remote.git");
    let remote = remote.to_str().expect("utf8");
    r.git(&["init", "-q", "--bare", remote]).ok();
    r.git(&["remote", "add", "origin", remote]).ok();
    r.wt(&["sync", "--remote", "origin"]).ok();
    check("sync (push)");
    let clone = r.tmp.path().join("clone");
    let branch = if s.state == State::CheckedOut {
        "main"
    } else {
        "tickets"
    };
    r.git(&[
        "clone",
        "-q",
        "-b",
        branch,
        remote,
        clone.to_str().expect("utf8"),
    ])
    .ok();
    r.wt_in(&clone, &["claim", j3, "--agent", "b"]).ok();
    // ... and deletes a finished ticket by hand (sync then deletes it here too).
    let gone = r.wt_in(&clone, &["--json", "show", j2]).json()["path"]
        .as_str()
        .expect("path")
        .to_string();
    r.git_in(&clone, &["rm", "-q", &gone]).ok();
    r.git_in(&clone, &["commit", "-q", "-m", "drop a finished ticket"])
        .ok();
    r.wt_in(&clone, &["sync", "--remote", "origin"]).ok();
    r.wt(&["sync", "--remote", "origin"]).ok();
    assert_eq!(r.wt_json(&["show", j3])["claimed_by"], "b");
    r.wt(&["show", j2]).fails_with(3);
    assert!(!s.checkout.join(&gone).exists());
    check("sync (pull)");
}

fn split_index(s: &Setup) {
    s.r.git_in(&s.checkout, &["update-index", "--split-index"])
        .ok();
    assert!(has_extension(s, b"link"));
}

#[test]
fn every_verb_works_in_a_split_index_with_the_state_branch_checked_out() {
    let s = setup(State::CheckedOut);
    split_index(&s);
    every_verb(&s);
    assert!(has_extension(&s, b"link"), "still a split index");
}

#[test]
fn every_verb_works_in_a_split_index_with_the_state_branch_elsewhere() {
    let s = setup(State::Elsewhere);
    split_index(&s);
    every_verb(&s);
    assert!(has_extension(&s, b"link"), "still a split index");
}

#[test]
fn every_verb_works_in_a_split_index_set_by_config_in_a_linked_worktree() {
    let s = setup(State::Linked);
    s.r.git_in(&s.checkout, &["config", "core.splitIndex", "true"])
        .ok();
    // The next index git writes is split.
    s.r.git_in(&s.checkout, &["reset", "-q"]).ok();
    assert!(has_extension(&s, b"link"));
    every_verb(&s);
}

/// `git sparse-checkout set --cone --sparse-index <dirs>` in the checkout.
fn sparse_index(s: &Setup, dirs: &[&str]) {
    let mut args = vec!["sparse-checkout", "set", "--cone", "--sparse-index"];
    args.extend_from_slice(dirs);
    s.r.git_in(&s.checkout, &args).ok();
    assert!(has_extension(s, b"sdir"));
}

#[test]
fn every_verb_works_in_a_sparse_index_that_leaves_the_tickets_out() {
    let s = setup(State::CheckedOut);
    sparse_index(&s, &["src"]);
    assert!(!s.checkout.join(".work").exists());
    every_verb(&s);
    // Nothing was written where git leaves the tickets out, and the index stayed sparse.
    assert!(!s.checkout.join(".work").exists());
    assert!(has_extension(&s, b"sdir"), "still a sparse index");
    assert!(git_in(&s.r, &s.checkout, &["ls-files", "--sparse"]).contains(".work/\n"));
}

#[test]
fn every_verb_works_in_a_sparse_index_with_the_state_branch_elsewhere() {
    let s = setup(State::Elsewhere);
    sparse_index(&s, &["src"]);
    every_verb(&s);
    assert!(has_extension(&s, b"sdir"), "still a sparse index");
}

#[test]
fn every_verb_works_in_a_sparse_index_that_keeps_the_tickets_in_a_linked_worktree() {
    let s = setup(State::Linked);
    sparse_index(&s, &[".work"]);
    every_verb(&s);
    assert!(has_extension(&s, b"sdir"), "still a sparse index");
}

#[test]
fn every_verb_works_in_a_sparse_checkout_without_a_sparse_index() {
    // libgit2 reads this index but knows nothing of skip-worktree: the tickets and docs/
    // it leaves out looked deleted (claim refused; the CI tree lost docs/).
    let s = setup(State::CheckedOut);
    s.r.git_in(&s.checkout, &["sparse-checkout", "set", "--cone", "src"])
        .ok();
    assert!(!has_extension(&s, b"sdir"));
    every_verb(&s);
    assert!(!s.checkout.join(".work").exists());
    assert!(!s.checkout.join("docs").exists());
}

fn autocrlf(s: &Setup, value: &str) {
    s.r.git_in(&s.checkout, &["config", "core.autocrlf", value])
        .ok();
    recheckout(s);
}

/// Commit `.gitattributes` with `line` on the state branch's checkout and check everything
/// out again under it.
fn attributes(s: &Setup, line: &str, eol: Option<&str>) {
    std::fs::write(s.checkout.join(".gitattributes"), format!("{line}\n")).expect("write");
    git_in(&s.r, &s.checkout, &["add", ".gitattributes"]);
    git_in(&s.r, &s.checkout, &["commit", "-q", "-m", "attributes"]);
    if let Some(eol) = eol {
        git_in(&s.r, &s.checkout, &["config", "core.eol", eol]);
    }
    recheckout(s);
}

fn has_crlf(s: &Setup, id: &str) -> bool {
    let path = s.r.ticket_path(id);
    let bytes = std::fs::read(s.checkout.join(path)).expect("ticket file");
    bytes.windows(2).any(|w| w == b"\r\n")
}

#[test]
fn a_crlf_checkout_that_git_calls_clean_is_clean_to_wt() {
    let s = setup(State::CheckedOut);
    autocrlf(&s, "true");
    let j = &s.jobs[0];
    assert!(has_crlf(&s, j), "git checked the ticket out with CRLF");
    s.r.wt(&["claim", j, "--agent", "a"]).ok();
    assert_clean(&s, "claim");
    assert!(
        has_crlf(&s, j),
        "wt wrote the ticket with CRLF, as git would"
    );
}

#[test]
fn a_real_edit_in_a_crlf_checkout_is_still_refused() {
    let s = setup(State::CheckedOut);
    autocrlf(&s, "true");
    let j = &s.jobs[0];
    let path = s.checkout.join(s.r.ticket_path(j));
    let mut text = std::fs::read_to_string(&path).expect("read");
    text.push_str("my note\r\n");
    std::fs::write(&path, text).expect("write");
    let run = s.r.wt(&["claim", j, "--agent", "a"]);
    run.fails_with(5);
    assert!(
        run.stderr().contains("uncommitted changes"),
        "{}",
        run.stderr()
    );
}

#[test]
fn every_verb_writes_files_as_git_checks_them_out_with_autocrlf_true() {
    let s = setup(State::CheckedOut);
    autocrlf(&s, "true");
    every_verb(&s);
    assert!(has_crlf(&s, &s.jobs[2]));
}

#[test]
fn every_verb_works_with_autocrlf_true_and_the_state_branch_elsewhere() {
    let s = setup(State::Elsewhere);
    autocrlf(&s, "true");
    every_verb(&s);
}

#[test]
fn every_verb_writes_files_as_git_checks_them_out_with_autocrlf_in_a_linked_worktree_with_a_split_index(
) {
    let s = setup(State::Linked);
    s.r.git_in(
        &s.checkout,
        &["config", "extensions.worktreeConfig", "true"],
    )
    .ok();
    s.r.git_in(
        &s.checkout,
        &["config", "--worktree", "core.autocrlf", "true"],
    )
    .ok();
    recheckout(&s);
    split_index(&s);
    every_verb(&s);
    assert!(has_crlf(&s, &s.jobs[2]));
    assert!(has_extension(&s, b"link"), "still a split index");
}

#[test]
fn every_verb_writes_files_as_git_checks_them_out_with_eol_crlf_for_the_tickets() {
    let s = setup(State::CheckedOut);
    attributes(&s, ".work/** eol=crlf", None);
    assert!(has_crlf(&s, &s.jobs[0]));
    every_verb(&s);
    assert!(has_crlf(&s, &s.jobs[2]));
}

#[test]
fn every_verb_writes_files_as_git_checks_them_out_with_text_auto_and_core_eol_crlf() {
    let s = setup(State::CheckedOut);
    attributes(&s, "* text=auto", Some("crlf"));
    assert!(has_crlf(&s, &s.jobs[0]));
    every_verb(&s);
    assert!(has_crlf(&s, &s.jobs[2]));
}

#[test]
fn a_ticket_saved_with_crlf_and_added_under_autocrlf_input_is_clean_to_wt() {
    // `input`: git checks out LF and takes CRLF back as LF, so a ticket an editor saved
    // with CRLF and `git add` renormalized is unchanged to git (its blob is the old one).
    let s = setup(State::CheckedOut);
    autocrlf(&s, "input");
    let j = &s.jobs[0];
    let rel = s.r.ticket_path(j);
    let path = s.checkout.join(&rel);
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(&path, text.replace('\n', "\r\n")).expect("write");
    git_in(&s.r, &s.checkout, &["add", &rel]);
    assert_clean(&s, "saving with CRLF and adding");
    assert!(has_crlf(&s, j));
    s.r.wt(&["claim", j, "--agent", "a"]).ok();
    assert_clean(&s, "claim");
    assert_files_as_git_writes(&s, "claim");
    assert!(!has_crlf(&s, j), "git writes LF under autocrlf=input");
    s.r.wt(&["done", j, "--agent", "a"]).ok();
    assert_clean(&s, "done");
    assert_files_as_git_writes(&s, "done");
}

#[test]
fn a_repository_without_eol_settings_runs_no_git_command_for_a_write() {
    // The fast path stays: an attributes file that converts nothing costs no git command;
    // one that may convert does.
    let s = setup(State::CheckedOut);
    attributes(&s, "*.png binary\n*.rs diff=rust", None);
    let j = &s.jobs[0];
    let run = s.r.wt_env(
        &s.r.root,
        &["claim", j, "--agent", "a"],
        &[("WT_DEBUG_INDEX", "1")],
    );
    run.ok();
    assert!(run.stderr().contains(" git_cli=0 "), "{}", run.stderr());
    assert!(
        run.stderr().contains(" fast_updates=1 "),
        "{}",
        run.stderr()
    );
    attributes(&s, "*.md text", None);
    let run = s.r.wt_env(
        &s.r.root,
        &["release", j, "--agent", "a"],
        &[("WT_DEBUG_INDEX", "1")],
    );
    run.ok();
    assert!(!run.stderr().contains(" git_cli=0 "), "{}", run.stderr());
    assert_clean(&s, "release");
}

#[test]
fn init_in_a_crlf_checkout_with_a_split_index_writes_files_as_git_would() {
    let r = Repo::bare_git();
    r.git(&["config", "core.autocrlf", "true"]).ok();
    r.git(&["update-index", "--split-index"]).ok();
    r.wt(&["init", "--no-hook"]).ok();
    let s = Setup {
        checkout: r.root.clone(),
        r,
        state: State::CheckedOut,
        jobs: [String::new(), String::new(), String::new()],
    };
    assert_clean(&s, "init");
    let config = std::fs::read(s.checkout.join(".work/config.yaml")).expect("config");
    assert!(
        config.windows(2).any(|w| w == b"\r\n"),
        "CRLF as git writes it"
    );
    let want = git_bytes(
        &s.r,
        &s.checkout,
        &["cat-file", "--filters", "HEAD:.work/config.yaml"],
        b"",
    );
    assert_eq!(config, want);
    assert!(has_extension(&s, b"link"), "still a split index");
}

/// The mode of `path` in the index of `s.checkout`, and in the tree at `rev`.
fn modes(s: &Setup, rev: &str, path: &str) -> (String, String) {
    let staged = git_in(&s.r, &s.checkout, &["ls-files", "-s", "--", path]);
    let committed = git_in(&s.r, &s.checkout, &["ls-tree", rev, "--", path]);
    let mode = |l: &str| l.split(' ').next().unwrap_or("").to_string();
    (mode(&staged), mode(&committed))
}

#[cfg(unix)]
#[test]
fn an_executable_ticket_keeps_its_mode_in_a_crlf_or_sparse_checkout() {
    use std::os::unix::fs::PermissionsExt;
    // The git-command update resets the written entries to a tree of the new blobs: made
    // with mode 100644 it staged `chmod -x` of a committed executable ticket.
    for layout in ["autocrlf", "sparse"] {
        let s = setup(State::CheckedOut);
        let j = &s.jobs[0];
        let path = s.r.ticket_path(j);
        let file = s.checkout.join(&path);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        git_in(
            &s.r,
            &s.checkout,
            &["update-index", "--chmod=+x", "--", &path],
        );
        git_in(
            &s.r,
            &s.checkout,
            &["commit", "-q", "-m", "executable ticket"],
        );
        if layout == "autocrlf" {
            autocrlf(&s, "true");
            assert!(has_crlf(&s, j));
        } else {
            s.r.git_in(&s.checkout, &["sparse-checkout", "set", "--cone", "src"])
                .ok();
            assert!(!file.exists(), "the sparse checkout leaves the ticket out");
        }
        for verb in [
            &["claim", j, "--agent", "a"][..],
            &["release", j, "--agent", "a"],
        ] {
            let run = s.r.wt_env(&s.r.root, verb, &[("WT_DEBUG_INDEX", "1")]);
            run.ok();
            assert!(
                !run.stderr().contains(" git_cli=0 "),
                "{layout}: the git command updated the index: {}",
                run.stderr()
            );
            let after = format!("{layout}: {}", verb[0]);
            assert_eq!(
                modes(&s, "HEAD", &path),
                ("100755".to_string(), "100755".to_string()),
                "{after}"
            );
            assert_clean(&s, &after);
            if layout == "autocrlf" {
                assert_files_as_git_writes(&s, &after);
                let mode = std::fs::metadata(&file).expect("file").permissions().mode();
                assert!(mode & 0o111 != 0, "{after}: the file is still executable");
            } else {
                assert!(!file.exists(), "{after}: still left out");
            }
        }
    }
}

#[test]
fn a_write_killed_while_git_checks_files_out_leaves_nothing_in_the_work_tree_and_doctor_removes_the_rest(
) {
    // `git checkout-index --temp` wrote `.merge_file_*` into the work tree's root: a killed
    // wt left them there as untracked files for the next `git add -A`.
    let s = setup(State::CheckedOut);
    autocrlf(&s, "true");
    let j = &s.jobs[0];
    let run = s.r.wt_env(
        &s.r.root,
        &["claim", j, "--agent", "a"],
        &[("WT_FAULT", "checked-out")],
    );
    assert_ne!(run.code(), 0, "the fault point was reached");
    let root: Vec<String> = std::fs::read_dir(&s.checkout)
        .expect("read checkout")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".merge_"))
        .collect();
    assert_eq!(
        root,
        Vec::<String>::new(),
        "git's temporaries in the work tree"
    );
    let scratch = s.checkout.join(".git/wt-checkout");
    let left = || std::fs::read_dir(&scratch).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left(), 1, "the killed write's folder is left");
    let doctor = s.r.wt(&["--json", "doctor"]);
    doctor.fails_with(1);
    let doc = doctor.json();
    assert!(
        doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["kind"] == "temp_file"
                && f["path"]
                    .as_str()
                    .is_some_and(|p| p.contains("wt-checkout"))),
        "{doc}"
    );
    s.r.wt(&["doctor", "--fix"]).ok();
    assert_eq!(left(), 0);
    assert_clean(&s, "doctor --fix");
    // The next write in a filtered checkout removes a leftover too.
    std::fs::create_dir_all(scratch.join("123-x/.work")).expect("mkdir");
    s.r.wt(&["release", j, "--agent", "a"]).ok();
    assert_eq!(left(), 0);
    assert_clean(&s, "release");
    assert_files_as_git_writes(&s, "release");
}
