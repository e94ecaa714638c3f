//! `wt run`'s merge queue step (`wt::app::run::merge::integrate`), its ticket worktrees, and
//! `wt doctor`'s orphan report, on real temporary repositories: the integration branch moves
//! only by compare-and-swap to a commit whose code is green, its checkout stays truthful,
//! and what a ticket branch does under `.work/` never lands.

use std::path::{Path, PathBuf};

use wt::app::run::merge::{integrate, Integrated, MergeMode, MergeRequest};
use wt::workspace::Workspace;

use crate::common::Repo;

/// A wt repository on `main` whose one CI check is `test -f ok`, with `ok` and `a.txt`
/// committed.
fn setup(checks: &str) -> Repo {
    let r = Repo::without_review();
    let text = r.read(".work/config.yaml");
    let start = text.find("\nci:").expect("config has a ci: section") + 1;
    r.write(
        ".work/config.yaml",
        &format!("{}ci:\n{checks}", &text[..start]),
    );
    r.write("ok", "");
    r.write("a.txt", "one\ntwo\nthree\n");
    r.git(&["add", "-A"]).ok();
    r.git(&["commit", "-q", "-m", "code and checks"]).ok();
    r
}

const OK_CHECK: &str = "  ok: \"test -f ok\"\n";

/// A linked worktree (made with git) on a new branch `wt/<id>` from `main`.
fn ticket_branch(r: &Repo, id: &str) -> PathBuf {
    let path = r.tmp.path().join(format!("wt-{id}"));
    r.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        &format!("wt/{id}"),
        path.to_str().unwrap(),
        "main",
    ])
    .ok();
    path
}

/// Write `files` in `dir` and commit them all there (`-A`).
fn commit_in(r: &Repo, dir: &Path, files: &[(&str, &str)], msg: &str) {
    for (rel, text) in files {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    r.git_in(dir, &["add", "-A"]).ok();
    r.git_in(dir, &["commit", "-q", "-m", msg]).ok();
}

fn rev(r: &Repo, spec: &str) -> String {
    r.git(&["rev-parse", spec]).ok().trim().to_string()
}

fn req<'a>(id: &'a str, branch: &'a str, mode: MergeMode) -> MergeRequest<'a> {
    MergeRequest {
        ticket_id: id,
        title: "Teach the widget to count",
        branch,
        target: "main",
        mode,
        agent: "fake-agent",
    }
}

fn open(r: &Repo) -> Workspace {
    Workspace::open(&r.root).unwrap()
}

fn merged(out: Integrated) -> String {
    match out {
        Integrated::Merged { commit } => commit.to_string(),
        other => panic!("expected a merge, got {other:?}"),
    }
}

#[test]
fn squash_lands_one_commit_on_the_target_tip_that_moved_meanwhile() {
    let r = setup(OK_CHECK);
    let wt = ticket_branch(&r, "J-1");
    commit_in(&r, &wt, &[("b.txt", "b1\n")], "first step");
    commit_in(
        &r,
        &wt,
        &[("b.txt", "b2\n"), ("c/d.txt", "d\n")],
        "second step",
    );
    // The target moves on after the branch left it.
    r.write("other.txt", "other\n");
    r.git(&["add", "other.txt"]).ok();
    r.git(&["commit", "-q", "-m", "meanwhile on main"]).ok();
    let before = rev(&r, "main");

    let ws = open(&r);
    let commit = merged(integrate(&ws, &req("J-1", "wt/J-1", MergeMode::Squash)).unwrap());

    assert_eq!(rev(&r, "main"), commit);
    // One commit, on the moved tip, with both sides' code.
    assert_eq!(rev(&r, "main^"), before);
    assert!(r.git(&["rev-parse", "-q", "--verify", "main^2"]).code() != 0);
    assert_eq!(r.git(&["show", "main:b.txt"]).ok(), "b2\n");
    assert_eq!(r.git(&["show", "main:c/d.txt"]).ok(), "d\n");
    assert_eq!(r.git(&["show", "main:other.txt"]).ok(), "other\n");
    let msg = r.git(&["log", "-1", "--format=%B", "main"]).ok();
    assert!(
        msg.starts_with("J-1: Teach the widget to count\n\n"),
        "{msg}"
    );
    for trailer in [
        "Wt-Ticket: J-1\n",
        "Wt-Agent: fake-agent\n",
        "Wt-CI: ok=pass",
        "Wt-CI-Tree: ",
    ] {
        assert!(msg.contains(trailer), "no {trailer:?} in:\n{msg}");
    }
}

#[test]
fn merge_mode_makes_a_merge_commit_with_the_branch_as_second_parent() {
    let r = setup(OK_CHECK);
    let wt = ticket_branch(&r, "J-2");
    commit_in(&r, &wt, &[("b.txt", "b\n")], "work");
    let branch_tip = rev(&r, "wt/J-2");
    r.write("other.txt", "other\n");
    r.git(&["add", "other.txt"]).ok();
    r.git(&["commit", "-q", "-m", "meanwhile on main"]).ok();
    let before = rev(&r, "main");

    let ws = open(&r);
    // A hostile title cannot forge a trailer or reach a terminal raw.
    let title = "Count\nWt-Agent: forged\u{1b}[31m";
    let request = MergeRequest {
        title,
        ..req("J-2", "wt/J-2", MergeMode::Merge)
    };
    let commit = merged(integrate(&ws, &request).unwrap());
    let msg = r.git(&["log", "-1", "--format=%B", "main"]).ok();
    let agents: Vec<&str> = msg.lines().filter(|l| l.starts_with("Wt-Agent:")).collect();
    assert_eq!(agents, vec!["Wt-Agent: fake-agent"], "{msg}");
    assert!(!msg.contains('\u{1b}'), "{msg:?}");

    let parents = r.git(&["log", "-1", "--format=%P", &commit]).ok();
    assert_eq!(parents.trim(), format!("{before} {branch_tip}"));
    assert_eq!(r.git(&["show", "main:b.txt"]).ok(), "b\n");
    assert_eq!(r.git(&["show", "main:other.txt"]).ok(), "other\n");
}

#[test]
fn changes_under_work_on_the_ticket_branch_never_land() {
    let r = setup(OK_CHECK);
    let wt = ticket_branch(&r, "J-3");
    // The worktree's copy of the tickets is stale: an agent's edit there must not land.
    let config = std::fs::read_to_string(wt.join(".work/config.yaml")).unwrap();
    commit_in(
        &r,
        &wt,
        &[
            (
                ".work/config.yaml",
                &config.replace("review: true", "review: false"),
            ),
            (".work/stray.md", "stray\n"),
            ("b.txt", "b\n"),
        ],
        "code and a stale ticket edit",
    );
    // Meanwhile wt itself writes on main's `.work/`.
    let id = r.new_ticket(&["job", "Written meanwhile"]);
    let work_before = rev(&r, "main:.work");

    let ws = open(&r);
    merged(integrate(&ws, &req("J-3", "wt/J-3", MergeMode::Squash)).unwrap());

    assert_eq!(rev(&r, "main:.work"), work_before);
    assert_eq!(r.git(&["show", "main:b.txt"]).ok(), "b\n");
    assert!(r.wt(&["show", &id]).code() == 0);

    // A branch that changed nothing but `.work/` has nothing to integrate.
    let wt4 = ticket_branch(&r, "J-4");
    commit_in(&r, &wt4, &[(".work/other.md", "x\n")], "tickets only");
    let tip = rev(&r, "main");
    let out = integrate(&ws, &req("J-4", "wt/J-4", MergeMode::Squash)).unwrap();
    assert_eq!(out, Integrated::Nothing);
    assert_eq!(rev(&r, "main"), tip);
}

#[test]
fn a_conflict_reports_its_paths_and_leaves_the_target_untouched() {
    let r = setup(OK_CHECK);
    let wt = ticket_branch(&r, "J-5");
    commit_in(
        &r,
        &wt,
        &[("a.txt", "one\nTWO (branch)\nthree\n"), ("b.txt", "b\n")],
        "work",
    );
    commit_in(
        &r,
        &r.root,
        &[("a.txt", "one\nTWO (main)\nthree\n")],
        "main edits a",
    );
    let before = rev(&r, "main");

    let ws = open(&r);
    let out = integrate(&ws, &req("J-5", "wt/J-5", MergeMode::Squash)).unwrap();

    assert_eq!(
        out,
        Integrated::Conflict {
            paths: vec!["a.txt".to_string()]
        }
    );
    assert_eq!(rev(&r, "main"), before);
    assert_eq!(r.git(&["status", "--porcelain"]).ok(), "");
}

#[test]
fn red_ci_on_the_result_leaves_the_target_untouched_and_first_parents_green() {
    let r = setup(OK_CHECK);
    let base = rev(&r, "main");
    // A green ticket first, then one whose result is red.
    let wt = ticket_branch(&r, "J-6");
    commit_in(&r, &wt, &[("b.txt", "b\n")], "green work");
    let ws = open(&r);
    merged(integrate(&ws, &req("J-6", "wt/J-6", MergeMode::Squash)).unwrap());
    let before = rev(&r, "main");

    let wt7 = ticket_branch(&r, "J-7");
    r.git_in(&wt7, &["rm", "-q", "ok"]).ok();
    commit_in(&r, &wt7, &[("c.txt", "c\n")], "breaks the check");
    let out = integrate(&ws, &req("J-7", "wt/J-7", MergeMode::Squash)).unwrap();

    let Integrated::Red { summary } = out else {
        panic!("expected red CI, got {out:?}");
    };
    assert!(summary.contains("check `ok` failed"), "{summary}");
    assert_eq!(rev(&r, "main"), before);
    // Every first-parent commit since the checks were set has green code.
    let commits = r
        .git(&["rev-list", "--first-parent", &format!("{base}^..main")])
        .ok();
    let commits: Vec<&str> = commits.lines().collect();
    assert!(commits.len() >= 2, "{commits:?}");
    for c in commits {
        assert_eq!(
            r.git(&["cat-file", "-e", &format!("{c}:ok")]).code(),
            0,
            "commit {c} on main is red"
        );
    }
}

/// A repository whose CI check, the first time it runs, makes `meanwhile` happen in the
/// main checkout (as another process would while the checks run), and a ticket branch
/// `wt/J-8` with one code change.
fn moved_during_ci(meanwhile: &str) -> Repo {
    let r = Repo::new();
    let root = r.root.to_str().unwrap().to_string();
    let check = format!(
        "  ok: \"test -f ok && if [ ! -e {root}/../moved ]; then touch {root}/../moved && cd {root} && {meanwhile}; fi\"\n"
    );
    let text = r.read(".work/config.yaml");
    let start = text.find("\nci:").unwrap() + 1;
    r.write(
        ".work/config.yaml",
        &format!("{}ci:\n{check}", &text[..start]),
    );
    r.write("ok", "");
    r.git(&["add", "-A"]).ok();
    r.git(&["commit", "-q", "-m", "code and checks"]).ok();
    let wt = ticket_branch(&r, "J-8");
    commit_in(&r, &wt, &[("b.txt", "b\n")], "work");
    r
}

#[test]
fn a_wt_state_commit_during_ci_lands_the_merge_on_the_new_tip() {
    let wt = crate::common::wt_bin();
    let r = moved_during_ci(&format!("{} new job Meanwhile >/dev/null", wt.display()));
    let ws = open(&r);
    let commit = merged(integrate(&ws, &req("J-8", "wt/J-8", MergeMode::Squash)).unwrap());

    assert_eq!(rev(&r, "main"), commit);
    let parent_subject = r.git(&["log", "-1", "--format=%s", "main^"]).ok();
    assert!(parent_subject.starts_with("wt: new"), "{parent_subject}");
    assert_eq!(r.git(&["show", "main:b.txt"]).ok(), "b\n");
    assert_eq!(r.git(&["status", "--porcelain"]).ok(), "");
}

#[test]
fn a_code_commit_during_ci_gets_the_merge_redone_and_checked_on_the_new_tip() {
    let r = moved_during_ci(
        "echo z > z.txt && git add z.txt && git -c user.name=x -c user.email=x@y commit -q -m moved-during-ci",
    );
    let ws = open(&r);
    let commit = merged(integrate(&ws, &req("J-8", "wt/J-8", MergeMode::Squash)).unwrap());

    assert_eq!(rev(&r, "main"), commit);
    let parent_subject = r.git(&["log", "-1", "--format=%s", "main^"]).ok();
    assert_eq!(parent_subject.trim(), "moved-during-ci");
    assert_eq!(r.git(&["show", "main:z.txt"]).ok(), "z\n");
    assert_eq!(r.git(&["show", "main:b.txt"]).ok(), "b\n");
    // The verdict it lands with is about the code it lands.
    let msg = r.git(&["log", "-1", "--format=%B", "main"]).ok();
    let oid = wt::store::Oid::from_str(&commit).unwrap();
    let code = wt::app::ci::tree::code_tree(&ws.store, ws.store.commit_tree(oid).unwrap()).unwrap();
    assert!(
        msg.contains(&format!("Wt-CI-Tree: {code}\n")),
        "{code}\n{msg}"
    );
}

#[test]
fn the_checked_out_target_is_brought_along_and_git_status_stays_clean() {
    let r = setup(OK_CHECK);
    let wt = ticket_branch(&r, "J-9");
    std::fs::remove_file(wt.join("a.txt")).unwrap();
    commit_in(
        &r,
        &wt,
        &[("b.txt", "b\n"), ("tools/run.sh", "#!/bin/sh\necho hi\n")],
        "work",
    );
    r.git_in(&wt, &["update-index", "--chmod=+x", "tools/run.sh"])
        .ok();
    std::os::unix::fs::symlink("b.txt", wt.join("link")).unwrap();
    r.git_in(&wt, &["add", "link"]).ok();
    r.git_in(&wt, &["commit", "-q", "-m", "executable and a link"])
        .ok();
    // A local edit elsewhere in the user's checkout is not in the way and stays.
    r.write("README.md", "# my local notes\n");

    let ws = open(&r);
    merged(integrate(&ws, &req("J-9", "wt/J-9", MergeMode::Squash)).unwrap());

    assert_eq!(
        r.git(&["status", "--porcelain"]).ok(),
        " M README.md\n",
        "the checkout of main must show only the user's own edit"
    );
    assert_eq!(r.read("b.txt"), "b\n");
    assert!(!r.root.join("a.txt").exists());
    assert_eq!(r.read("README.md"), "# my local notes\n");
    let ls = r.git(&["ls-files", "-s", "tools/run.sh"]).ok();
    assert!(ls.starts_with("100755 "), "{ls}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(r.root.join("tools/run.sh"))
        .unwrap()
        .permissions()
        .mode();
    assert!(mode & 0o111 != 0, "{mode:o}");
    assert_eq!(
        std::fs::read_link(r.root.join("link")).unwrap(),
        std::path::PathBuf::from("b.txt")
    );
}

#[test]
fn a_dirty_checkout_of_the_target_in_a_changed_path_is_refused_before_the_branch_moves() {
    let r = setup(OK_CHECK);
    let wt = ticket_branch(&r, "J-10");
    commit_in(&r, &wt, &[("a.txt", "one\ntwo\nthree\nfour\n")], "work");
    r.write("a.txt", "my uncommitted edit\n");
    let before = rev(&r, "main");

    let ws = open(&r);
    let err = integrate(&ws, &req("J-10", "wt/J-10", MergeMode::Squash)).unwrap_err();

    assert_eq!(err.kind, wt::error::ErrorKind::Refused, "{err:?}");
    let root = std::fs::canonicalize(&r.root).unwrap();
    assert!(
        err.message.contains(&root.display().to_string())
            || err.message.contains(r.root.to_str().unwrap()),
        "{}",
        err.message
    );
    assert!(
        err.message.contains("a.txt has uncommitted changes"),
        "{}",
        err.message
    );
    assert!(
        err.hint.as_deref().unwrap_or("").contains("stash"),
        "{err:?}"
    );
    assert_eq!(rev(&r, "main"), before);
    assert_eq!(r.read("a.txt"), "my uncommitted edit\n");

    // An untracked file where the merge puts one is in the way too.
    let wt11 = ticket_branch(&r, "J-11");
    commit_in(
        &r,
        &wt11,
        &[("new.txt", "from the branch\n")],
        "adds new.txt",
    );
    r.write("new.txt", "mine\n");
    let err = integrate(&ws, &req("J-11", "wt/J-11", MergeMode::Squash)).unwrap_err();
    assert!(
        err.message.contains("new.txt is untracked"),
        "{}",
        err.message
    );
    assert_eq!(rev(&r, "main"), before);

    // So is an untracked file where the merge needs a folder.
    std::fs::remove_file(r.root.join("new.txt")).unwrap();
    let wt12 = ticket_branch(&r, "J-12");
    commit_in(&r, &wt12, &[("sub/x.txt", "x\n")], "adds sub/x.txt");
    r.write("sub", "a file, not a folder\n");
    let err = integrate(&ws, &req("J-12", "wt/J-12", MergeMode::Squash)).unwrap_err();
    assert!(err.message.contains("sub is untracked"), "{}", err.message);
    assert_eq!(rev(&r, "main"), before);
}

/// Regression: `wt run`'s workers add their worktrees at the same time, and a `git worktree
/// add` that read another's registration half-written died ("failed to read
/// .../worktrees/J-x/commondir"): the demo run's test failed about one run in six.
#[test]
fn ticket_worktrees_added_and_removed_by_many_workers_at_once_all_succeed() {
    let r = setup(OK_CHECK);
    let tip = open(&r).store.branch_tip("main").unwrap().unwrap();
    let base = r.root.join(".git/wt/run/worktrees");
    let (workers, each) = (6, 4);
    // Every worker, on its own workspace and thread, does `step` to its tickets' worktrees
    // at once with the others.
    let at_once = |step: &(dyn Fn(&Workspace, &Path, &str) -> wt::error::Result<()> + Sync)| {
        std::thread::scope(|s| {
            for w in 0..workers {
                let (r, base) = (&r, &base);
                s.spawn(move || {
                    let ws = open(r);
                    for id in (0..each).map(|k| format!("J-{w}{k}")) {
                        step(&ws, &base.join(&id), &format!("wt/{id}"))
                            .unwrap_or_else(|e| panic!("{id}: {}", e.message));
                    }
                });
            }
        })
    };
    at_once(&|ws, path, branch| ws.store.add_ticket_worktree(path, branch, tip));
    let listed = open(&r).store.ticket_worktrees("wt/").unwrap();
    assert_eq!(listed.len(), workers * each, "{listed:?}");
    at_once(&|ws, path, branch| ws.store.remove_ticket_worktree(path, branch, true));
    assert!(open(&r).store.ticket_worktrees("wt/").unwrap().is_empty());
    let list = r.git(&["worktree", "list", "--porcelain"]).ok();
    assert!(!list.contains("wt/J-"), "{list}");
}

#[test]
fn ticket_worktrees_are_added_listed_reused_and_removed_like_git_worktree() {
    let r = setup(OK_CHECK);
    let ws = open(&r);
    let store = &ws.store;
    let tip = store.branch_tip("main").unwrap().unwrap();
    // Where `wt run` puts them by default: under the git common dir.
    let path = r.root.join(".git/wt/run/worktrees/J-20");

    store.add_ticket_worktree(&path, "wt/J-20", tip).unwrap();

    let list = r.git(&["worktree", "list", "--porcelain"]).ok();
    let canon = std::fs::canonicalize(&path).unwrap();
    assert!(
        list.contains(&format!("worktree {}\n", canon.display())),
        "{list}"
    );
    assert!(list.contains("branch refs/heads/wt/J-20\n"), "{list}");
    assert_eq!(r.git_in(&path, &["status", "--porcelain"]).ok(), "");
    assert_eq!(
        r.git_in(&path, &["symbolic-ref", "HEAD"]).ok().trim(),
        "refs/heads/wt/J-20"
    );
    assert_eq!(
        std::fs::read_to_string(path.join("a.txt")).unwrap(),
        "one\ntwo\nthree\n"
    );
    let listed = store.ticket_worktrees("wt/").unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(std::fs::canonicalize(&listed[0].0).unwrap(), canon);
    assert_eq!(listed[0].1, "wt/J-20");
    assert_eq!(listed[0].2, Some(tip));

    // Again: the same worktree is reused, its files kept.
    std::fs::write(path.join("scratch.txt"), "kept\n").unwrap();
    store.add_ticket_worktree(&path, "wt/J-20", tip).unwrap();
    assert!(path.join("scratch.txt").exists());
    // Another branch at the same folder is refused.
    assert!(store.add_ticket_worktree(&path, "wt/J-21", tip).is_err());

    store
        .remove_ticket_worktree(&path, "wt/J-20", true)
        .unwrap();
    assert!(!path.exists());
    let list = r.git(&["worktree", "list", "--porcelain"]).ok();
    assert!(!list.contains("J-20"), "{list}");
    assert!(
        r.git(&["rev-parse", "-q", "--verify", "refs/heads/wt/J-20"])
            .code()
            != 0
    );
    assert!(store.ticket_worktrees("wt/").unwrap().is_empty());

    // A worktree whose folder vanished is pruned on removal.
    store.add_ticket_worktree(&path, "wt/J-22", tip).unwrap();
    std::fs::remove_dir_all(&path).unwrap();
    store
        .remove_ticket_worktree(&path, "wt/J-22", true)
        .unwrap();
    let list = r.git(&["worktree", "list", "--porcelain"]).ok();
    assert!(!list.contains("J-22"), "{list}");
}

/// `wt --json doctor [--fix]`: the findings of kind `orphan_worktree` or `orphan_branch`.
fn orphan_findings(r: &Repo, fix: bool) -> (serde_json::Value, Vec<serde_json::Value>) {
    let mut args = vec!["--json", "doctor"];
    if fix {
        args.push("--fix");
    }
    let doc = r.wt(&args).json();
    let found = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "orphan_worktree" || f["kind"] == "orphan_branch")
        .cloned()
        .collect();
    (doc, found)
}

#[test]
fn doctor_reports_orphan_ticket_worktrees_and_branches_and_fix_removes_only_those_without_work() {
    let r = setup(OK_CHECK);
    let idle = r.new_ticket(&["job", "Nobody works on this"]);
    let claimed = r.new_ticket(&["job", "Somebody works on this"]);
    let with_work = r.new_ticket(&["job", "Work left behind"]);
    let resumable = r.new_ticket(&["job", "A stopped run resumes this"]);
    r.wt(&["claim", &claimed, "--agent", "runner"]).ok();
    let (idle_wt, claimed_wt, work_wt, resumable_wt) = (
        r.tmp.path().join("trees").join(&idle),
        r.tmp.path().join("trees").join(&claimed),
        r.tmp.path().join("trees").join(&with_work),
        r.tmp.path().join("trees").join(&resumable),
    );
    {
        let ws = open(&r);
        let tip = ws.store.branch_tip("main").unwrap().unwrap();
        for (path, id) in [
            (&idle_wt, &idle),
            (&claimed_wt, &claimed),
            (&work_wt, &with_work),
            (&resumable_wt, &resumable),
        ] {
            ws.store
                .add_ticket_worktree(path, &format!("wt/{id}"), tip)
                .unwrap();
        }
    }
    commit_in(
        &r,
        &work_wt,
        &[("w.txt", "unmerged\n")],
        "work nobody integrated",
    );
    // The state a stopped `wt run` keeps for a ticket it will resume.
    let slot = r.root.join(".git/wt/run/slot-1/tickets");
    std::fs::create_dir_all(&slot).unwrap();
    std::fs::write(slot.join(format!("{resumable}.json")), "{}").unwrap();
    // An escalated ticket's branch: kept for a human, with work or not.
    let escalated = r.new_ticket(&["job", "Too hard"]);
    r.git(&["branch", &format!("wt/{escalated}"), "main"]).ok();
    let path = r.ticket_path(&escalated);
    let text = r.read(&path);
    r.write(
        &path,
        &text.replacen("status: open", "status: escalated", 1),
    );
    r.git(&["commit", "-q", "-am", "escalate by hand"]).ok();
    // A ticket branch without a worktree, whose ticket is done.
    let finished = r.new_ticket(&["job", "Finished"]);
    r.git(&["branch", &format!("wt/{finished}"), "main"]).ok();
    r.wt(&["claim", &finished, "--agent", "runner"]).ok();
    r.wt(&[
        "done", &finished, "--agent", "runner", "--no-ci", "--reason", "test",
    ])
    .ok();

    let (doc, found) = orphan_findings(&r, false);
    assert_eq!(doc["ok"], false, "{doc}");
    let about = |id: &str| -> Vec<&serde_json::Value> {
        found
            .iter()
            .filter(|f| f["message"].as_str().unwrap().contains(&format!("wt/{id}")))
            .collect()
    };
    let idle_f = about(&idle);
    assert_eq!(idle_f.len(), 1, "{found:?}");
    assert_eq!(idle_f[0]["kind"], "orphan_worktree");
    assert_eq!(idle_f[0]["severity"], "problem");
    assert!(
        about(&claimed).is_empty(),
        "a live claim is not an orphan: {found:?}"
    );
    assert!(about(&resumable).is_empty(), "a run resumes it: {found:?}");
    let work_f = about(&with_work);
    assert_eq!(work_f.len(), 1, "{found:?}");
    assert_eq!(work_f[0]["severity"], "note", "{found:?}");
    let esc_f = about(&escalated);
    assert_eq!(esc_f.len(), 1, "{found:?}");
    assert_eq!(esc_f[0]["severity"], "note", "{found:?}");
    let fin_f = about(&finished);
    assert_eq!(fin_f.len(), 1, "{found:?}");
    assert_eq!(fin_f[0]["kind"], "orphan_branch");
    assert!(
        fin_f[0]["message"].as_str().unwrap().contains("is done"),
        "{found:?}"
    );

    let (_, fixed) = orphan_findings(&r, true);
    assert_eq!(
        fixed.iter().filter(|f| f["severity"] == "fixed").count(),
        2,
        "{fixed:?}"
    );
    assert!(!idle_wt.exists());
    let branches = r.git(&["branch", "--list", "wt/*"]).ok();
    assert!(!branches.contains(&idle), "{branches}");
    assert!(!branches.contains(&finished), "{branches}");
    assert!(branches.contains(&claimed), "{branches}");
    assert!(branches.contains(&with_work), "{branches}");
    assert!(branches.contains(&escalated), "{branches}");
    assert!(claimed_wt.exists() && work_wt.exists() && resumable_wt.exists());

    // Once fixed, only the kept ones are left, as notes.
    let (doc, found) = orphan_findings(&r, false);
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(doc["ok"], true, "{doc}");
}

#[test]
fn merges_wait_for_each_other_on_the_merge_lock() {
    let r = setup(OK_CHECK);
    let wt = ticket_branch(&r, "J-30");
    commit_in(&r, &wt, &[("b.txt", "b\n")], "work");
    let before = rev(&r, "main");
    let common = r.root.join(".git");
    // Another process's merge holds the queue.
    let held = wt::app::run::merge::MergeLock::acquire(&common).unwrap();
    // The holder records its process id, for the message of a merge that waits too long.
    let holder = std::fs::read_to_string(common.join("wt/run/merge.lock")).unwrap();
    assert_eq!(holder.trim(), std::process::id().to_string());
    let root = r.root.clone();
    let waiter = std::thread::spawn(move || {
        let ws = Workspace::open(&root).unwrap();
        integrate(&ws, &req("J-30", "wt/J-30", MergeMode::Squash)).map(|o| format!("{o:?}"))
    });
    std::thread::sleep(std::time::Duration::from_millis(700));
    assert!(!waiter.is_finished(), "the merge did not wait for the lock");
    assert_eq!(rev(&r, "main"), before);
    drop(held);
    let out = waiter.join().unwrap().unwrap();
    assert!(out.starts_with("Merged"), "{out}");
    assert_ne!(rev(&r, "main"), before);
}

#[test]
fn a_merge_killed_after_moving_the_branch_is_finished_by_doctor_fix() {
    let r = setup(OK_CHECK);
    let old = rev(&r, "main");
    // What a killed merge leaves: the branch moved (here by hand), the checkout not
    // brought along, and its journal.
    let wt = ticket_branch(&r, "J-31");
    commit_in(&r, &wt, &[("b.txt", "b\n"), ("a.txt", "changed\n")], "work");
    let new = rev(&r, "wt/J-31");
    r.git(&["update-ref", "refs/heads/main", &new, &old]).ok();
    assert_ne!(r.git(&["status", "--porcelain"]).ok(), "");
    let journal = r.root.join(".git/wt/run/merges/1-1.json");
    std::fs::create_dir_all(journal.parent().unwrap()).unwrap();
    std::fs::write(
        &journal,
        format!("{{\"target\":\"main\",\"old\":\"{old}\",\"new\":\"{new}\"}}"),
    )
    .unwrap();

    let doc = r.wt(&["--json", "doctor"]).json();
    let merge: Vec<&serde_json::Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "merge")
        .collect();
    assert_eq!(merge.len(), 1, "{doc}");
    assert_eq!(merge[0]["severity"], "problem");

    let doc = r.wt(&["--json", "doctor", "--fix"]).json();
    assert!(
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "merge" && f["severity"] == "fixed"),
        "{doc}"
    );
    assert_eq!(r.git(&["status", "--porcelain"]).ok(), "");
    assert_eq!(r.read("a.txt"), "changed\n");
    assert!(!journal.exists());
}

/// Timing, not a check: `cargo test --test it run_merge::timing -- --ignored --nocapture`
/// prints what one merge costs (merge, a clean checkout for CI with a trivial check, the
/// compare-and-swap and the checkout update), for `wt run`'s overhead per ticket.
#[test]
#[ignore]
fn timing_of_one_merge_through_the_queue() {
    let r = setup("  ok: \"true\"\n");
    for i in 0..80 {
        r.write(&format!("src/f{i}.txt"), &format!("{i}\n"));
    }
    r.git(&["add", "-A"]).ok();
    r.git(&["commit", "-q", "-m", "some files"]).ok();
    let ws = open(&r);
    let n = 20;
    let mut total = std::time::Duration::ZERO;
    for k in 0..n {
        let id = format!("J-{}", 100 + k);
        let wt = ticket_branch(&r, &id);
        commit_in(&r, &wt, &[(&format!("src/f{k}.txt"), "changed\n")], "work");
        let branch = format!("wt/{id}");
        let started = std::time::Instant::now();
        merged(integrate(&ws, &req(&id, &branch, MergeMode::Squash)).unwrap());
        total += started.elapsed();
    }
    assert_eq!(r.git(&["status", "--porcelain"]).ok(), "");
    eprintln!(
        "{n} merges: {:.0} ms each on average (merge + clean checkout + CI `true` + CAS + checkout update)",
        total.as_secs_f64() * 1000.0 / n as f64
    );
}

#[test]
fn a_checkout_edited_while_ci_runs_is_still_refused_before_the_branch_moves() {
    let r = Repo::new();
    let root = r.root.to_str().unwrap().to_string();
    // The user edits a path the merge changes while the checks run.
    let check = format!("  ok: \"test -f ok && echo 'edited meanwhile' > {root}/a.txt\"\n");
    let text = r.read(".work/config.yaml");
    let start = text.find("\nci:").unwrap() + 1;
    r.write(
        ".work/config.yaml",
        &format!("{}ci:\n{check}", &text[..start]),
    );
    r.write("ok", "");
    r.write("a.txt", "one\n");
    r.git(&["add", "-A"]).ok();
    r.git(&["commit", "-q", "-m", "code and checks"]).ok();
    let wt = ticket_branch(&r, "J-40");
    commit_in(&r, &wt, &[("a.txt", "one\ntwo\n")], "work");
    let before = rev(&r, "main");

    let ws = open(&r);
    let err = integrate(&ws, &req("J-40", "wt/J-40", MergeMode::Squash)).unwrap_err();

    assert!(
        err.message.contains("a.txt has uncommitted changes"),
        "{}",
        err.message
    );
    assert_eq!(rev(&r, "main"), before);
    assert_eq!(r.read("a.txt"), "edited meanwhile\n");
}

#[test]
fn a_checkout_whose_index_stays_locked_gets_a_warning_and_doctor_fix_brings_it_along() {
    let r = setup(OK_CHECK);
    let wt = ticket_branch(&r, "J-41");
    commit_in(&r, &wt, &[("b.txt", "b\n")], "work");
    // A git command died holding the index of the main checkout.
    let lock = r.root.join(".git/index.lock");
    std::fs::write(&lock, "").unwrap();
    crate::common::age_file(&lock, 600);

    let ws = open(&r);
    let reporter = wt::app::ci::Reporter::stderr("test");
    let out = wt::app::run::merge::integrate_full(
        &ws,
        &req("J-41", "wt/J-41", MergeMode::Squash),
        &reporter,
    )
    .unwrap();

    let commit = merged(out.integrated);
    assert_eq!(rev(&r, "main"), commit);
    assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
    assert!(
        out.warnings[0].contains("stayed locked") && out.warnings[0].contains("read-tree"),
        "{:?}",
        out.warnings
    );
    // Another merge lands while the checkout is still behind: both are remembered.
    let wt2 = ticket_branch(&r, "J-42");
    commit_in(&r, &wt2, &[("c.txt", "c\n")], "more work");
    let out = wt::app::run::merge::integrate_full(
        &ws,
        &req("J-42", "wt/J-42", MergeMode::Squash),
        &reporter,
    )
    .unwrap();
    merged(out.integrated);
    // Until the lock goes the checkout is behind, and doctor says so; then it catches up.
    std::fs::remove_file(&lock).unwrap();
    let doc = r.wt(&["--json", "doctor"]).json();
    assert!(
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "merge" && f["severity"] == "problem"),
        "{doc}"
    );
    r.wt(&["doctor", "--fix"]);
    assert_eq!(r.git(&["status", "--porcelain"]).ok(), "");
    assert_eq!(r.read("b.txt"), "b\n");
    assert_eq!(r.read("c.txt"), "c\n");
}

#[test]
fn a_target_whose_code_keeps_moving_during_ci_is_given_up_after_a_few_runs() {
    let r = Repo::new();
    let root = r.root.to_str().unwrap().to_string();
    // Every run of the check lands a code commit on main, as a busy team would.
    let check = format!(
        "  ok: \"echo x >> {root}/../runs && cd {root} && date +%s%N > busy.txt && git add busy.txt && git -c user.name=x -c user.email=x@y commit -q -m busy\"\n"
    );
    let text = r.read(".work/config.yaml");
    let start = text.find("\nci:").unwrap() + 1;
    r.write(
        ".work/config.yaml",
        &format!("{}ci:\n{check}", &text[..start]),
    );
    r.git(&["commit", "-q", "-am", "checks"]).ok();
    let wt = ticket_branch(&r, "J-50");
    commit_in(&r, &wt, &[("b.txt", "b\n")], "work");

    let ws = open(&r);
    let err = integrate(&ws, &req("J-50", "wt/J-50", MergeMode::Squash)).unwrap_err();

    assert_eq!(err.kind, wt::error::ErrorKind::Busy, "{err:?}");
    let runs = std::fs::read_to_string(r.tmp.path().join("runs")).unwrap();
    assert_eq!(runs.lines().count(), 5, "the checks ran {runs:?}");
    assert!(r.git(&["cat-file", "-e", "main:b.txt"]).code() != 0);
}
