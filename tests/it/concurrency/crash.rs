//! Crash safety: processes killed at any point leave no half-written ticket, no lock that
//! blocks others forever, no corrupted repository.

use std::time::{Duration, Instant};

use rand::RngExt;

use super::*;

fn ref_lock(r: &Repo) -> PathBuf {
    r.root.join(".git/refs/heads/main.lock")
}

#[test]
fn a_stale_ref_lock_left_by_a_killed_process_is_removed_by_the_next_write_which_says_so() {
    let r = Repo::new();
    let lock = ref_lock(&r);
    std::fs::write(&lock, "").unwrap();
    age_file(&lock, 60);
    let run = r.wt(&["new", "job", "After the crash"]);
    run.ok();
    assert!(
        run.stderr().contains("removed stale git lock") && run.stderr().contains("main.lock"),
        "{}",
        run.stderr()
    );
    assert!(!lock.exists());
    assert_eq!(r.git(&["status", "--porcelain"]).ok(), "");
}

#[test]
fn a_fresh_ref_lock_is_waited_for_and_cleared_once_it_is_stale() {
    let r = Repo::new();
    let id = r.new_ticket(&["job", "Wait for it"]);
    let lock = ref_lock(&r);
    std::fs::write(&lock, "").unwrap();
    let start = Instant::now();
    let run = r.wt_env(
        &r.root,
        &["claim", &id, "--agent", "a"],
        &[("WT_STALE_LOCK_SECS", "1")],
    );
    run.ok();
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "{:?}",
        start.elapsed()
    );
    assert!(
        run.stderr().contains("removed stale git lock"),
        "{}",
        run.stderr()
    );
    assert_eq!(r.wt_json(&["show", &id])["claimed_by"], "a");
}

#[test]
fn doctor_reports_leftovers_and_fix_removes_only_what_is_provably_dead() {
    let r = Repo::new();
    r.new_ticket(&["job", "Doctor"]);
    let git = r.root.join(".git");
    // A stale ref lock, a foreign index.lock (a running git may hold it), a wt temp file.
    let lock = ref_lock(&r);
    std::fs::write(&lock, "").unwrap();
    age_file(&lock, 60);
    let index_lock = git.join("index.lock");
    std::fs::write(&index_lock, "").unwrap();
    age_file(&index_lock, 60);
    let tmp = r.root.join(".work/.J-x.md.wt-99999.tmp");
    std::fs::write(&tmp, "half").unwrap();
    let report = r.wt(&["--json", "doctor"]);
    report.fails_with(1);
    let kinds: Vec<String> = report.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{}:{}",
                f["severity"].as_str().unwrap(),
                f["kind"].as_str().unwrap()
            )
        })
        .collect();
    for k in [
        "problem:ref_lock",
        "problem:index_lock",
        "problem:temp_file",
    ] {
        assert!(kinds.contains(&k.to_string()), "{kinds:?}");
    }
    assert!(
        lock.exists() && tmp.exists(),
        "doctor without --fix changes nothing"
    );
    let fixed = r.wt(&["doctor", "--fix"]);
    fixed.fails_with(1); // the foreign index.lock remains a problem
    let out = fixed.stdout();
    assert!(out.contains("fixed: removed stale git lock"), "{out}");
    assert!(
        out.contains("fixed: removed") && out.contains(".wt-99999.tmp"),
        "{out}"
    );
    assert!(
        out.contains("problem:") && out.contains("index.lock"),
        "{out}"
    );
    assert!(!lock.exists() && !tmp.exists());
    assert!(
        index_lock.exists(),
        "an index.lock wt cannot prove dead is left alone"
    );
    // The same lock marked as taken by a (now dead) wt is removed.
    std::fs::write(git.join("wt-index-writer"), "12345").unwrap();
    std::fs::write(&index_lock, "").unwrap();
    let fixed = r.wt(&["doctor", "--fix"]);
    fixed.ok();
    assert!(
        fixed
            .stdout()
            .contains("a wt process was killed while refreshing"),
        "{}",
        fixed.stdout()
    );
    assert!(!index_lock.exists());
    assert!(r.wt(&["doctor"]).ok().contains("ok: nothing to repair"));
}

#[test]
fn a_writer_killed_after_moving_the_branch_leaves_a_checkout_the_next_write_repairs() {
    let r = Repo::new();
    let ids = jobs(&r, 2, "Crash");
    let killed = r.wt_env(
        &r.root,
        &["claim", &ids[0], "--agent", "a"],
        &[("WT_FAULT", "after-commit")],
    );
    assert_ne!(killed.code(), 0);
    // The claim landed whole (the branch moved), but the checkout was not refreshed.
    let path = format!(
        "main:{}",
        r.git(&["ls-files", ".work/*crash-0.md"]).ok().trim()
    );
    assert!(r.git(&["show", &path]).ok().contains("claimed_by: a\n"));
    assert_ne!(r.git(&["status", "--porcelain"]).ok(), "");
    let doctor = r.wt(&["doctor"]);
    doctor.fails_with(1);
    assert!(
        doctor.stdout().contains("a wt write was interrupted"),
        "{}",
        doctor.stdout()
    );
    // The next write (on another ticket) finishes the interrupted one's checkout update.
    let next = r.wt(&["claim", &ids[1], "--agent", "b"]);
    next.ok();
    assert!(next.stderr().contains("refreshed"), "{}", next.stderr());
    assert_eq!(r.git(&["status", "--porcelain"]).ok(), "");
    r.wt(&["doctor"]).ok();
}

#[test]
fn a_writer_killed_between_files_and_index_is_repaired_by_doctor_fix() {
    let r = Repo::new();
    let id = r.new_ticket(&["job", "Half refreshed"]);
    let killed = r.wt_env(
        &r.root,
        &["claim", &id, "--agent", "a"],
        &[("WT_FAULT", "before-index")],
    );
    assert_ne!(killed.code(), 0);
    assert_ne!(r.git(&["status", "--porcelain"]).ok(), "");
    let fixed = r.wt(&["doctor", "--fix"]);
    fixed.ok();
    assert!(
        fixed.stdout().contains("fixed: refreshed"),
        "{}",
        fixed.stdout()
    );
    assert_eq!(r.git(&["status", "--porcelain"]).ok(), "");
}

#[test]
fn a_user_edit_is_never_overwritten_by_crash_repair() {
    let r = Repo::new();
    let id = r.new_ticket(&["job", "Mine"]);
    let path = r.ticket_path(&id);
    let killed = r.wt_env(
        &r.root,
        &["claim", &id, "--agent", "a"],
        &[("WT_FAULT", "after-commit")],
    );
    assert_ne!(killed.code(), 0);
    // The user edits the file the crashed write did not refresh.
    let edited = r.read(&path) + "\nmy notes\n";
    r.write(&path, &edited);
    let fixed = r.wt(&["doctor", "--fix"]);
    assert!(
        fixed.stdout().contains("edits wt did not make"),
        "{}",
        fixed.stdout()
    );
    assert_eq!(r.read(&path), edited);
}

#[test]
fn killing_writers_at_random_moments_never_loses_or_corrupts_tickets() {
    let r = Repo::new();
    let initial = jobs(&r, 12, "Survivor");
    let mut created = Vec::new();
    let mut rng = rand::rng();
    let start = Instant::now();
    let mut rounds = 0;
    let (mut killed, mut repaired) = (0, 0);
    while rounds < 40 && start.elapsed() < Duration::from_secs(6) {
        rounds += 1;
        let title = format!("Born in round {rounds}");
        let mut children: Vec<std::process::Child> = vec![
            wt_cmd(&r, &r.root, &["new", "job", &title], &[]),
            wt_cmd(
                &r,
                &r.root,
                &["claim", "--next", "--agent", &format!("k{rounds}")],
                &[],
            ),
            wt_cmd(
                &r,
                &r.root,
                &[
                    "release",
                    &initial[rounds % initial.len()],
                    "--force",
                    "--agent",
                    "x",
                ],
                &[],
            ),
        ]
        .into_iter()
        .map(|mut c| {
            c.stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn wt")
        })
        .collect();
        std::thread::sleep(Duration::from_micros(rng.random_range(0..60_000)));
        for c in &mut children {
            let _ = c.kill();
        }
        let outs: Vec<std::process::Output> = children
            .into_iter()
            .map(|c| c.wait_with_output().expect("wait"))
            .collect();
        if outs[0].status.success() {
            created.push(String::from_utf8_lossy(&outs[0].stdout).trim().to_string());
        }
        for o in &outs {
            if !o.status.success() {
                killed += 1;
            }
            let err = String::from_utf8_lossy(&o.stderr);
            repaired += err.matches("refreshed").count() + err.matches("removed").count();
        }
    }
    // Repair whatever the kills left, then everything must hold.
    let doctor = r.wt(&["doctor", "--fix"]);
    assert_eq!(doctor.code(), 0, "{}\n{}", doctor.stdout(), doctor.stderr());
    // Shown with --nocapture: how often a kill landed mid-write and was repaired later.
    eprintln!(
        "{rounds} rounds: {killed} processes killed, {} tickets created, {repaired} repairs by later writers; doctor: {}",
        created.len(),
        doctor.stdout().trim()
    );
    let fsck = r.git(&["fsck", "--full", "--no-dangling"]);
    assert_eq!(fsck.code(), 0, "{}{}", fsck.stdout(), fsck.stderr());
    assert!(
        !(fsck.stdout() + &fsck.stderr()).contains("error"),
        "{}{}",
        fsck.stdout(),
        fsck.stderr()
    );
    r.wt(&["check"]).ok();
    let listed: BTreeSet<String> = ids(&r.wt_json(&["list"])).into_iter().collect();
    for id in initial.iter().chain(created.iter()) {
        assert!(
            listed.contains(id),
            "{id} lost after {rounds} rounds of kills"
        );
    }
    // No lock blocks anybody and the checkout is clean.
    r.wt(&["new", "job", "After the storm"]).ok();
    assert_eq!(r.git(&["status", "--porcelain"]).ok(), "");
}

/// The IDs of the tickets on branch `main` (from the file names), sorted.
fn ids_on_main(r: &Repo) -> BTreeSet<String> {
    r.git(&["ls-tree", "-r", "--name-only", "main", "--", ".work"])
        .ok()
        .lines()
        .filter_map(|l| l.rsplit('/').next())
        .filter(|n| n.ends_with(".md") && n.as_bytes().get(1) == Some(&b'-'))
        .map(|n| n.split('-').take(2).collect::<Vec<_>>().join("-"))
        .collect()
}

fn ids_in(doc: &Value) -> BTreeSet<String> {
    ids(doc).into_iter().collect()
}

#[test]
fn commit_a_through_the_hook_after_a_killed_write_never_deletes_its_tickets() {
    let r = Repo::new();
    r.wt(&["hook", "install"]).ok();
    // Killed right after its commit: the branch has the ticket, the checkout does not.
    let killed = r.wt_env(
        &r.root,
        &["new", "job", "Born before the crash"],
        &[("WT_FAULT", "after-commit")],
    );
    assert_ne!(killed.code(), 0);
    let born = ids_on_main(&r);
    assert_eq!(born.len(), 1, "{born:?}");
    let head = rev(&r, "HEAD");
    // An ordinary `git commit -a` of unrelated code: the hook refuses, naming the fix.
    r.write("README.md", "# test\n\nmore code\n");
    let commit = r.git(&["commit", "-q", "-a", "-m", "code"]);
    commit.fails_with(1);
    assert!(
        commit.stderr().contains("would undo what wt committed")
            && commit.stderr().contains("wt doctor --fix"),
        "{}",
        commit.stderr()
    );
    assert_eq!(rev(&r, "HEAD"), head, "nothing committed");
    // The fix it names, then the same commit goes through with the ticket intact.
    r.wt(&["doctor", "--fix"]).ok();
    r.git(&["commit", "-q", "-a", "-m", "code"]).ok();
    assert_eq!(ids_on_main(&r), born);
    assert_eq!(r.git(&["status", "--porcelain"]).ok(), "");

    // A plain `git commit` of staged code: the hook finishes the interrupted write itself
    // (git reads the index again after the hook), and the commit keeps the tickets.
    let plan: Vec<Value> = (0..30)
        .map(|i| serde_json::json!({"key": format!("k{i}"), "kind": "job", "title": format!("Imported {i}")}))
        .collect();
    let plan_file = r.home().join("plan.json");
    std::fs::write(&plan_file, Value::Array(plan).to_string()).unwrap();
    let killed = r.wt_env(
        &r.root,
        &["import", plan_file.to_str().unwrap()],
        &[("WT_FAULT", "before-index")],
    );
    assert_ne!(killed.code(), 0);
    let all = ids_on_main(&r);
    assert_eq!(all.len(), 31);
    r.write("code.rs", "fn main() {}\n");
    r.git(&["add", "code.rs"]).ok();
    let commit = r.git(&["commit", "-q", "-m", "more code"]);
    commit.ok();
    assert!(commit.stderr().contains("refreshed"), "{}", commit.stderr());
    assert_eq!(ids_on_main(&r), all);
    assert_eq!(r.git(&["status", "--porcelain"]).ok(), "");
    r.wt(&["doctor"]).ok();
}

#[test]
fn every_wt_command_finishes_an_interrupted_write_before_it_starts() {
    let r = Repo::new();
    let ids = jobs(&r, 1, "Read after crash");
    let killed = r.wt_env(
        &r.root,
        &["claim", &ids[0], "--agent", "a"],
        &[("WT_FAULT", "after-commit")],
    );
    assert_ne!(killed.code(), 0);
    assert_ne!(r.git(&["status", "--porcelain"]).ok(), "");
    // A read, not a write.
    let list = r.wt(&["list"]);
    list.ok();
    assert!(list.stderr().contains("refreshed"), "{}", list.stderr());
    assert_eq!(r.git(&["status", "--porcelain"]).ok(), "");
    r.wt(&["doctor"]).ok();
}

#[test]
fn doctor_finds_tickets_a_later_commit_undid_and_fix_restores_them_with_a_wt_commit() {
    for (fault, n) in [("after-commit", 1), ("before-index", 12)] {
        let r = Repo::new();
        let kept = jobs(&r, 2, "Kept");
        // No hook: nothing stops `git commit -a` from committing the stale checkout.
        let plan: Vec<Value> = (0..n)
            .map(|i| serde_json::json!({"key": format!("k{i}"), "kind": "job", "title": format!("Doomed {i}")}))
            .collect();
        let plan_file = r.home().join("plan.json");
        std::fs::write(&plan_file, Value::Array(plan).to_string()).unwrap();
        let killed = r.wt_env(
            &r.root,
            &["import", plan_file.to_str().unwrap()],
            &[("WT_FAULT", fault)],
        );
        assert_ne!(killed.code(), 0);
        let born = ids_on_main(&r);
        assert_eq!(born.len(), n + 2);
        r.write("README.md", "# test\n\ncode\n");
        r.git(&["commit", "-q", "-a", "-m", "my code"]).ok();
        let lost: Vec<String> = born.difference(&ids_on_main(&r)).cloned().collect();
        assert_eq!(
            lost.len(),
            n,
            "{fault}: the commit took the new tickets back"
        );
        // doctor names the undoing commit, the wt commit and the tickets, and changes nothing.
        let doctor = r.wt(&["--json", "doctor"]);
        doctor.fails_with(1);
        let doc = doctor.json();
        let found: Vec<&Value> = doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["kind"] == "undone")
            .collect();
        assert_eq!(found.len(), 1, "{fault}: {doc}");
        let msg = found[0]["message"].as_str().unwrap();
        assert!(
            msg.contains("\"my code\"") && msg.contains(&lost[0]),
            "{msg}"
        );
        assert_eq!(found[0]["severity"], "problem");
        assert_eq!(born.difference(&ids_on_main(&r)).count(), n);
        // --fix restores them through a wt commit; then nothing is left to repair.
        let fixed = r.wt(&["doctor", "--fix"]);
        fixed.ok();
        assert!(
            fixed.stdout().contains("restored them"),
            "{}",
            fixed.stdout()
        );
        assert_eq!(ids_on_main(&r), born, "{fault}");
        let message = r.git(&["log", "-1", "--format=%B"]).ok();
        assert!(message.starts_with("wt: restore"), "{message}");
        assert!(message.contains("Wt-Verb: restore"), "{message}");
        for id in &lost {
            assert!(message.contains(&format!("Wt-Ticket: {id}")), "{message}");
        }
        assert!(ids_in(&r.wt_json(&["list"])).is_superset(&born));
        assert!(ids_in(&r.wt_json(&["list"])).contains(&kept[0]));
        assert_eq!(r.git(&["status", "--porcelain"]).ok(), "");
        assert!(r.wt(&["doctor"]).ok().contains("ok: nothing to repair"));
        // Deleting a restored ticket on purpose is not flagged again.
        let path = r.ticket_path(&lost[0]);
        r.git(&["rm", "-q", &path]).ok();
        r.git(&["commit", "-q", "-m", "drop it"]).ok();
        r.wt(&["doctor"]).ok();
    }
}

/// Run `git commit -m slow` in its own process group with a hook check that signals it has
/// started and then sleeps; once it runs, send `signal` to the whole group.
fn commit_killed_mid_check(r: &Repo, signal: &str) {
    let started = r.home().join("started");
    let _ = std::fs::remove_file(&started);
    let mut cmd = std::process::Command::new("git");
    hermetic(&mut cmd, &r.home());
    cmd.current_dir(&r.root)
        .args(["commit", "-q", "-m", "slow"]);
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    cmd.stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("spawn git commit");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !started.exists() {
        if Instant::now() > deadline || child.try_wait().ok().flatten().is_some() {
            let out = child.wait_with_output().expect("wait");
            panic!(
                "the check never started: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let pgid = child.id().to_string();
    std::process::Command::new("kill")
        .args([signal, "--", &format!("-{pgid}")])
        .status()
        .expect("kill");
    let out = child.wait_with_output().expect("wait");
    assert!(!out.status.success());
    // Whatever wt still does after git is gone (SIGQUIT: it restores, like Ctrl-C).
    std::thread::sleep(Duration::from_millis(300));
}

/// A CI check that says it started (a file) and then takes 30 s; only the config is
/// committed.
fn slow_check(r: &Repo) {
    let started = r.home().join("started");
    let text = r.read(".work/config.yaml");
    let start = text.find("\nci:").expect("a ci: section") + 1;
    let check = format!("touch '{}'; sleep 30", started.display());
    let section = format!("ci:\n  test: {}\n", serde_json::to_string(&check).unwrap());
    r.write(".work/config.yaml", &format!("{}{section}", &text[..start]));
    r.git(&[
        "commit",
        "-q",
        "--no-verify",
        "-m",
        "slow check",
        "--",
        ".work/config.yaml",
    ])
    .ok();
}

#[test]
fn a_hook_killed_mid_check_leaves_edits_that_doctor_reports_and_the_next_command_restores() {
    let r = Repo::new();
    r.wt(&["hook", "install"]).ok();
    slow_check(&r);
    r.write("code.txt", "v1\n");
    r.git(&["add", "code.txt"]).ok();
    r.git(&["commit", "-q", "--no-verify", "-m", "base"]).ok();
    for (round, (signal, next)) in [("-KILL", "wt"), ("-KILL", "hook"), ("-QUIT", "wt")]
        .into_iter()
        .enumerate()
    {
        let (v2, v3) = (
            format!("v2 staged {round}\n"),
            format!("v3 unstaged {round}\n"),
        );
        r.write("code.txt", &v2);
        r.git(&["add", "code.txt"]).ok();
        r.write("code.txt", &v3);
        commit_killed_mid_check(&r, signal);
        let unstaged = r.root.join(".git/wt/unstaged");
        let left = || std::fs::read_dir(&unstaged).map(|d| d.count()).unwrap_or(0);
        if signal == "-QUIT" {
            // Caught like Ctrl-C: wt put the edits back itself.
            assert_eq!(r.read("code.txt"), v3);
            assert_eq!(left(), 0);
            continue;
        }
        // SIGKILL: the edits are only in the patch file.
        assert_eq!(r.read("code.txt"), v2);
        assert_eq!(left(), 1);
        if next == "wt" {
            let doctor = r.wt(&["--json", "doctor"]);
            doctor.fails_with(1);
            let doc = doctor.json();
            assert!(
                doc["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|f| f["kind"] == "unstaged_patch" && f["severity"] == "problem"),
                "{doc}"
            );
            assert_eq!(r.read("code.txt"), v2, "doctor changes nothing");
            // Any wt command puts them back.
            let list = r.wt(&["list"]);
            list.ok();
            assert!(
                list.stderr().contains("restored your unstaged edits"),
                "{}",
                list.stderr()
            );
        } else {
            // The next hook run puts them back before setting edits aside again.
            let fast = r.read(".work/config.yaml").replace("sleep 30", "true");
            r.write(".work/config.yaml", &fast);
            r.git(&[
                "commit",
                "-q",
                "--no-verify",
                "-m",
                "fast",
                ".work/config.yaml",
            ])
            .ok();
            let commit = r.git(&["commit", "-q", "-m", "v2"]);
            commit.ok();
            assert!(
                commit.stderr().contains("restored your unstaged edits"),
                "{}",
                commit.stderr()
            );
            assert_eq!(r.git(&["show", "HEAD:code.txt"]).ok(), v2);
            slow_check(&r);
        }
        assert_eq!(r.read("code.txt"), v3);
        assert_eq!(left(), 0);
    }
    r.wt(&["doctor"]).ok();
}

use std::collections::BTreeSet;

use crate::fixtures::rev;

#[test]
fn a_ref_lock_a_killed_wt_left_is_removed_before_git_needs_it_and_gits_own_is_left_alone() {
    let r = Repo::new();
    r.wt(&["hook", "install"]).ok();
    let lock = ref_lock(&r);
    let marker = r.root.join(".git/wt-ref-writer");
    // What a wt killed inside its compare-and-swap leaves: its marker, then the ref lock
    // (the marker names a process that is gone).
    let mut gone = Command::new("true").spawn().unwrap();
    let dead = gone.id();
    gone.wait().unwrap();
    let killed_mid_cas = || {
        std::fs::write(&marker, format!("{dead} main")).unwrap();
        std::fs::write(&lock, "").unwrap();
    };
    killed_mid_cas();
    // `git commit` (through the hook) would fail to move the branch; the hook clears it first.
    r.write("code.txt", "one\n");
    r.git(&["add", "code.txt"]).ok();
    let c = r.git(&["commit", "-q", "-m", "one"]);
    c.ok();
    assert!(
        c.stderr().contains("killed while moving the branch"),
        "{}",
        c.stderr()
    );
    assert!(!lock.exists() && !marker.exists());
    // doctor names it (a problem, though only milliseconds old); any wt command removes it.
    killed_mid_cas();
    let d = r.wt(&["doctor"]);
    d.fails_with(1);
    assert!(
        d.stdout().contains("killed while moving the branch"),
        "{}",
        d.stdout()
    );
    let list = r.wt(&["list"]);
    list.ok();
    assert!(!lock.exists());
    // A fresh ref lock without wt's marker may be a running git's: left alone.
    std::fs::write(&lock, "").unwrap();
    r.wt(&["list"]).ok();
    assert!(lock.exists());
    std::fs::remove_file(&lock).unwrap();
    r.wt(&["doctor"]).ok();
}

/// The severity of the one `journal` finding of `wt doctor --json` (which must succeed).
fn journal_finding(r: &Repo) -> String {
    let doctor = r.wt(&["--json", "doctor"]);
    doctor.ok();
    let doc = doctor.json();
    let journal: Vec<&Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "journal")
        .collect();
    assert_eq!(journal.len(), 1, "{doc}");
    journal[0]["severity"].as_str().unwrap().to_string()
}

#[test]
fn a_write_killed_after_refreshing_every_checkout_is_no_problem_for_doctor() {
    let r = Repo::new();
    let killed = r.wt_env(
        &r.root,
        &["new", "job", "Born whole"],
        &[("WT_FAULT", "after-checkouts")],
    );
    assert_ne!(killed.code(), 0);
    assert_eq!(ids_on_main(&r).len(), 1);
    assert_eq!(r.git(&["status", "--porcelain"]).ok(), "");
    assert_eq!(journal_finding(&r), "note");
}

#[test]
fn a_write_killed_before_its_commit_is_no_problem_for_doctor_once_the_branch_moved_on() {
    let r = Repo::new();
    let killed = r.wt_env(
        &r.root,
        &["new", "job", "Never born"],
        &[("WT_FAULT", "before-commit")],
    );
    assert_ne!(killed.code(), 0);
    assert!(ids_on_main(&r).is_empty());
    // The branch moves on (an ordinary commit), the journal is still there.
    r.write("code.txt", "x\n");
    r.git(&["add", "code.txt"]).ok();
    r.git(&["commit", "-q", "-m", "code"]).ok();
    assert_eq!(journal_finding(&r), "note");
    // Any wt command removes the record.
    r.wt(&["list"]).ok();
    assert!(!r.wt(&["doctor"]).ok().contains("journal"));
    assert_eq!(
        std::fs::read_dir(r.root.join(".git/wt-journal"))
            .map(|d| d.count())
            .unwrap_or(0),
        0
    );
}

/// Wait until `path` exists (at most 30 s).
fn wait_for(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_ref_lock_a_killed_sync_left_is_removed_at_once_by_the_next_command() {
    let r = Repo::new();
    let ids = jobs(&r, 2, "Sync");
    let (_bare, cl) = clones(&r, 2);
    r.wt_in(&cl[1], &["claim", &ids[0], "--agent", "b"]).ok();
    r.wt_in(&cl[1], &["sync"]).ok();
    // A real `wt sync` stopped while it holds the branch's ref lock, then killed (-9).
    let mut sync = wt_cmd(&r, &cl[0], &["sync"], &[("WT_FAULT_PAUSE", "ref-locked")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let lock = cl[0].join(".git/refs/heads/main.lock");
    wait_for(&lock);
    sync.kill().unwrap();
    sync.wait().unwrap();
    assert!(lock.exists(), "the killed sync left its ref lock");
    // The next command removes it at once, though it is far younger than the age rule.
    let stale = [("WT_STALE_LOCK_SECS", "600")];
    let start = Instant::now();
    let run = r.wt_env(&cl[0], &["claim", &ids[1], "--agent", "a"], &stale);
    run.ok();
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert!(
        run.stderr().contains("killed while moving the branch"),
        "{}",
        run.stderr()
    );
    assert!(!lock.exists());
    let rep = r.wt_env(&cl[0], &["--json", "sync"], &stale);
    assert_eq!(rep.json()["pushed"], true, "{}", rep.stderr());
    assert_eq!(
        r.wt_in(&cl[0], &["--json", "show", &ids[0]]).json()["claimed_by"],
        "b"
    );
    r.wt_in(&cl[0], &["doctor"]).ok();
}

#[cfg(target_os = "linux")]
#[test]
fn a_ref_lock_whose_marked_owner_is_alive_is_left_until_that_process_is_killed() {
    let r = Repo::new();
    let lock = ref_lock(&r);
    let marker = r.root.join(".git/wt-ref-writer");
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    // A live process named by wt's marker, holding the lock: nothing proves it dead.
    let mut owner = Command::new("sleep").arg("60").spawn().unwrap();
    std::fs::write(&marker, format!("{} main {}", owner.id(), host.trim())).unwrap();
    std::fs::write(&lock, "").unwrap();
    r.wt(&["list"]).ok();
    assert!(
        lock.exists() && marker.exists(),
        "a live owner's lock is left"
    );
    let d = r.wt(&["--json", "doctor", "--fix"]);
    assert!(lock.exists(), "{}", d.stdout());
    // The same marker naming another machine proves nothing either.
    owner.kill().unwrap();
    owner.wait().unwrap();
    std::fs::write(&marker, format!("{} main other-host", owner.id())).unwrap();
    r.wt(&["list"]).ok();
    assert!(lock.exists());
    // Killed (-9) on this machine: the next command removes it at once.
    std::fs::write(&marker, format!("{} main {}", owner.id(), host.trim())).unwrap();
    let run = r.wt(&["list"]);
    run.ok();
    assert!(
        run.stderr().contains("killed while moving the branch"),
        "{}",
        run.stderr()
    );
    assert!(!lock.exists() && !marker.exists());
}

#[test]
fn a_remote_tracking_ref_lock_left_by_a_killed_fetch_is_named_with_its_fix() {
    let r = Repo::new();
    let ids = jobs(&r, 1, "Fetch");
    let (_bare, cl) = clones(&r, 2);
    r.wt_in(&cl[1], &["claim", &ids[0], "--agent", "b"]).ok();
    r.wt_in(&cl[1], &["sync"]).ok();
    // What a `git fetch` killed with its `wt sync` (kill -9 of the process group) leaves.
    let lock = cl[0].join(".git/refs/remotes/origin/main.lock");
    std::fs::write(&lock, "").unwrap();
    let run = r.wt_in(&cl[0], &["sync"]);
    assert_ne!(run.code(), 0);
    assert!(
        run.stderr()
            .contains("refs/remotes/origin/main.lock is held")
            && run.stderr().contains("wt doctor --fix"),
        "{}",
        run.stderr()
    );
    assert!(lock.exists(), "a lock nobody can prove dead is left");
    age_file(&lock, 60);
    r.wt_in(&cl[0], &["doctor", "--fix"]).ok();
    assert!(!lock.exists());
    r.wt_in(&cl[0], &["sync"]).ok();
}
