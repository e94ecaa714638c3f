//! A checkout's git index after wt writes: the byte-level refresh of existing entries
//! (`src/store/index.rs`) must leave exactly what git itself would, with the cache tree, index
//! version 4 and the untracked cache; split indexes, skip-worktree entries and a locked index
//! go the old ways. `WT_DEBUG_INDEX=1` makes wt print which path it took.

use std::time::Duration;

use crate::common::*;

/// Run `wt` with `WT_DEBUG_INDEX=1`; assert success and return the counters it printed.
#[track_caller]
fn wt_counted(r: &Repo, args: &[&str], env: &[(&str, &str)]) -> (Run, String) {
    let mut all = vec![("WT_DEBUG_INDEX", "1")];
    all.extend_from_slice(env);
    let run = r.wt_env(&r.root, args, &all);
    run.ok();
    let line = run
        .stderr()
        .lines()
        .find(|l| l.starts_with("wt-index:"))
        .unwrap_or_else(|| panic!("no wt-index line in:\n{}", run.stderr()))
        .to_string();
    (run, line)
}

fn counter(line: &str, name: &str) -> usize {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {line}"))
}

/// The index agrees with HEAD and the work tree, and the repository is sound.
#[track_caller]
fn assert_index_exact(r: &Repo) {
    assert_eq!(r.git(&["status", "--porcelain"]).ok(), "");
    r.git(&["diff", "--cached", "--quiet"]).ok();
    r.git(&["diff", "--quiet"]).ok();
    let fsck = r.git(&["fsck", "--full"]);
    fsck.ok();
    assert_eq!(fsck.stderr(), "", "git fsck complained");
    let staged: Vec<String> = r
        .git(&["ls-files", "-s", "--", ".work"])
        .ok()
        .lines()
        // <mode> <oid> <stage>\t<path>
        .map(|l| {
            let (meta, path) = l.split_once('\t').expect("tab");
            let f: Vec<&str> = meta.split(' ').collect();
            assert_eq!(f[2], "0", "{l}");
            format!("{} {} {path}", f[0], f[1])
        })
        .collect();
    let committed: Vec<String> = r
        .git(&["ls-tree", "-r", "HEAD", "--", ".work"])
        .ok()
        .lines()
        // <mode> blob <oid>\t<path>
        .map(|l| {
            let (meta, path) = l.split_once('\t').expect("tab");
            let f: Vec<&str> = meta.split(' ').collect();
            format!("{} {} {path}", f[0], f[2])
        })
        .collect();
    assert!(!committed.is_empty());
    assert_eq!(staged, committed);
}

fn has_extension(r: &Repo, sig: &[u8; 4]) -> bool {
    let data = std::fs::read(r.root.join(".git/index")).expect("index");
    data.windows(4).any(|w| w == sig)
}

/// A job, committed, with the index written by `git commit` (so it carries a cache tree).
fn job(r: &Repo) -> String {
    let id = r.new_ticket(&["job", "Index me"]);
    r.git(&["commit", "-q", "--allow-empty", "-m", "user commit"])
        .ok();
    id
}

#[test]
fn claim_release_done_refresh_existing_entries_through_the_fast_path() {
    let r = Repo::without_review();
    let id = job(&r);
    for args in [
        vec!["claim", id.as_str(), "--agent", "a"],
        vec!["release", id.as_str(), "--agent", "a"],
        vec!["claim", id.as_str(), "--agent", "a"],
        vec!["done", id.as_str(), "--agent", "a"],
    ] {
        let (_, line) = wt_counted(&r, &args, &[]);
        assert_eq!(counter(&line, "fast_updates"), 1, "{args:?}: {line}");
        assert_eq!(counter(&line, "fallback_updates"), 0, "{args:?}: {line}");
        // `done` also reads the code entries of the index to judge the working tree (wt's
        // reader, not libgit2's: it skips the ticket files a branch that tracks them has).
        let reads = if args[0] == "done" { 2 } else { 1 };
        assert_eq!(counter(&line, "fast_reads"), reads, "{args:?}: {line}");
        assert_eq!(counter(&line, "git_cli"), 0, "{args:?}: {line}");
        assert_index_exact(&r);
    }
    assert_eq!(r.wt_json(&["show", &id])["status"], "done");
}

#[test]
fn the_cache_tree_is_invalidated_so_the_next_git_commit_has_the_wt_tree() {
    let r = Repo::new();
    let id = job(&r);
    assert!(has_extension(&r, b"TREE"), "git commit wrote a cache tree");
    let (_, line) = wt_counted(&r, &["claim", &id, "--agent", "a"], &[]);
    assert_eq!(counter(&line, "fast_updates"), 1, "{line}");
    assert!(has_extension(&r, b"TREE"), "the cache tree is kept");
    assert_index_exact(&r);
    let wt_tip = r.git(&["rev-parse", "HEAD"]).ok();
    r.write("notes.txt", "mine\n");
    r.git(&["add", "notes.txt"]).ok();
    r.git(&["commit", "-q", "-m", "user work"]).ok();
    // The user's commit is the wt tip's tree plus notes.txt: a stale cache tree entry for
    // .work (or the root) would have committed the tree from before the claim.
    let diff = r
        .git(&["diff", "--name-status", wt_tip.trim(), "HEAD"])
        .ok();
    assert_eq!(diff, "A\tnotes.txt\n");
    assert_eq!(
        r.git(&["rev-parse", "HEAD:.work"]).ok(),
        r.git(&["rev-parse", &format!("{}:.work", wt_tip.trim())])
            .ok()
    );
    assert_eq!(r.wt_json(&["show", &id])["claimed_by"], "a");
    assert_index_exact(&r);
}

#[test]
fn index_version_4_is_refreshed_in_place() {
    let r = Repo::without_review();
    let id = job(&r);
    r.git(&["update-index", "--index-version", "4"]).ok();
    for verb in ["claim", "release", "claim", "done"] {
        let (_, line) = wt_counted(&r, &[verb, &id, "--agent", "a"], &[]);
        assert_eq!(counter(&line, "fast_updates"), 1, "{verb}: {line}");
        assert_index_exact(&r);
    }
    assert_eq!(
        r.git(&["update-index", "--show-index-version"]).ok().trim(),
        "4"
    );
}

#[test]
fn a_split_index_is_left_to_git_itself() {
    let r = Repo::new();
    let id = job(&r);
    r.git(&["update-index", "--split-index"]).ok();
    let (_, line) = wt_counted(&r, &["claim", &id, "--agent", "a"], &[]);
    assert_eq!(counter(&line, "fast_updates"), 0, "{line}");
    assert!(counter(&line, "git_cli") >= 1, "{line}");
    assert_index_exact(&r);
    let other = r.new_ticket(&["job", "Another"]);
    wt_counted(&r, &["claim", &other, "--agent", "b"], &[]);
    assert_index_exact(&r);
    assert!(has_extension(&r, b"link"), "still a split index");
}

#[test]
fn a_skip_worktree_entry_keeps_its_bit_and_its_file_is_written_as_git_would() {
    // Without a sparse checkout git writes a changed skip-worktree file on checkout and
    // keeps the bit; wt lets git reset the entry, so the bit survives (libgit2 and the
    // byte-level path would clear it or refuse).
    let r = Repo::new();
    let id = job(&r);
    let path = r.ticket_path(&id);
    r.git(&["update-index", "--skip-worktree", &path]).ok();
    let (_, line) = wt_counted(&r, &["claim", &id, "--agent", "a"], &[]);
    assert_eq!(
        r.git(&["ls-files", "-t", "--", &path]).ok(),
        format!("S {path}\n"),
        "the skip-worktree bit is kept"
    );
    assert_eq!(
        r.read(&path),
        r.git(&["show", &format!("HEAD:{path}")]).ok()
    );
    assert_index_exact(&r);
    assert_eq!(counter(&line, "fast_updates"), 0, "{line}");
    assert!(counter(&line, "git_cli") >= 1, "{line}");
}

#[test]
fn the_untracked_cache_still_sees_files_created_after_a_write() {
    let r = Repo::new();
    let id = job(&r);
    r.git(&["config", "core.untrackedCache", "true"]).ok();
    r.git(&["update-index", "--untracked-cache"]).ok();
    assert_eq!(r.git(&["status", "--porcelain"]).ok(), "");
    assert!(has_extension(&r, b"UNTR"));
    let (_, line) = wt_counted(&r, &["claim", &id, "--agent", "a"], &[]);
    assert_eq!(counter(&line, "fast_updates"), 1, "{line}");
    assert!(has_extension(&r, b"UNTR"), "the untracked cache is kept");
    r.write("scratch.txt", "new\n");
    r.write(".work/stray.txt", "new\n");
    assert_eq!(
        r.git(&["status", "--porcelain"]).ok(),
        "?? .work/stray.txt\n?? scratch.txt\n"
    );
}

#[test]
fn an_index_locked_by_somebody_else_is_left_alone_with_a_warning() {
    let r = Repo::new();
    let id = job(&r);
    let lock = r.root.join(".git/index.lock");
    std::fs::write(&lock, "a running git's").unwrap();
    age_file(&lock, 60);
    let before = std::fs::read(r.root.join(".git/index")).unwrap();
    let (run, line) = wt_counted(
        &r,
        &["claim", &id, "--agent", "a"],
        &[("WT_STALE_LOCK_SECS", "1")],
    );
    assert!(run.stderr().contains("stayed locked"), "{}", run.stderr());
    assert_eq!(counter(&line, "fast_updates"), 0, "{line}");
    // The claim landed; the lock and the index are untouched.
    assert_eq!(r.wt_json(&["show", &id])["claimed_by"], "a");
    assert_eq!(std::fs::read(&lock).unwrap(), b"a running git's");
    assert_eq!(std::fs::read(r.root.join(".git/index")).unwrap(), before);
    // Once the other writer is gone, the hint's command repairs the entries.
    std::fs::remove_file(&lock).unwrap();
    r.git(&["reset", "-q", "--", ".work"]).ok();
    assert_index_exact(&r);
}

#[test]
fn a_briefly_held_index_lock_is_waited_for() {
    let r = Repo::new();
    let id = job(&r);
    let lock = r.root.join(".git/index.lock");
    std::fs::write(&lock, "").unwrap();
    let releaser = {
        let lock = lock.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            std::fs::remove_file(lock).unwrap();
        })
    };
    let (run, line) = wt_counted(&r, &["claim", &id, "--agent", "a"], &[]);
    releaser.join().unwrap();
    assert!(!run.stderr().contains("stayed locked"), "{}", run.stderr());
    assert_eq!(counter(&line, "fast_updates"), 1, "{line}");
    assert!(!lock.exists());
    assert_index_exact(&r);
}

mod roundtrip;
