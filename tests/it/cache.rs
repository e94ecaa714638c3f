//! The parse cache under `<git dir>/wt/cache/` is derived data: deleting, truncating,
//! corrupting or racing on it changes speed only, never answers. `WT_DEBUG_STATS=1` makes
//! wt print what a load did (`wt-stats: cache=... parsed=N reused=N ...`) on stderr.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;

/// The read commands whose answers must not depend on the cache.
const READS: &[&[&str]] = &[
    &["--json", "ready"],
    &["--json", "ready", "--kind", "any"],
    &["ready"],
    &["--json", "blocked"],
    &["--json", "list"],
    &["list"],
    &["check"],
    &["--json", "check"],
    &["tree"],
];

fn cache_dir(r: &Repo) -> PathBuf {
    r.root.join(".git").join("wt").join("cache")
}

/// stdout, stderr (without the stats line) and exit code of every read command.
fn answers(r: &Repo, env: &[(&str, &str)]) -> Vec<(String, String, i32)> {
    READS
        .iter()
        .map(|args| {
            let run = r.wt_env(&r.root, args, env);
            let err: String = run
                .stderr()
                .lines()
                .filter(|l| !l.starts_with("wt-stats:"))
                .map(|l| format!("{l}\n"))
                .collect();
            (run.stdout(), err, run.code())
        })
        .collect()
}

/// The stats line of every read command (`WT_DEBUG_STATS=1`), by command.
fn read_stats(r: &Repo) -> Vec<(String, HashMap<String, String>)> {
    READS
        .iter()
        .map(|args| (args.join(" "), stats(r, &r.root, args)))
        .collect()
}

fn uncached(r: &Repo) -> Vec<(String, String, i32)> {
    answers(r, &[("WT_NO_CACHE", "1")])
}

fn cached(r: &Repo) -> Vec<(String, String, i32)> {
    answers(r, &[])
}

/// The stats of one command: cache state and counters.
fn stats(r: &Repo, dir: &Path, args: &[&str]) -> HashMap<String, String> {
    let run = r.wt_env(dir, args, &[("WT_DEBUG_STATS", "1")]);
    let line = run
        .stderr()
        .lines()
        .find(|l| l.starts_with("wt-stats:"))
        .unwrap_or_else(|| panic!("no stats line in stderr:\n{}", run.stderr()))
        .to_string();
    line.trim_start_matches("wt-stats:")
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A plan of `n` independent jobs `k0`, `k1`, ... for `wt import`.
fn jobs_plan(n: usize) -> String {
    let jobs: Vec<String> = (0..n)
        .map(|i| format!(r#"{{"key": "k{i}", "kind": "job", "title": "Job {i}"}}"#))
        .collect();
    format!("[{}]", jobs.join(","))
}

fn num(s: &HashMap<String, String>, k: &str) -> usize {
    s[k].parse().expect("number")
}

/// A tree with everything a parse can meet: a plan with dependencies and claims, a
/// dependency cycle, a ticket with an unknown field, invalid YAML, a file without
/// frontmatter and one that is not UTF-8.
fn varied_repo() -> Repo {
    let r = Repo::new();
    let ids = r.import(
        r#"[
        {"key": "p", "kind": "phase-spec", "title": "Phase"},
        {"key": "a", "kind": "job", "title": "Job A", "parent": "p", "priority": 1},
        {"key": "b", "kind": "job", "title": "Job B", "parent": "p", "depends_on": ["a"]},
        {"key": "c", "kind": "job", "title": "Job C", "parent": "p", "status": "done"},
        {"key": "d", "kind": "job", "title": "Job D", "parent": "p", "depends_on": ["c"]},
        {"key": "t1", "kind": "task", "title": "Task 1", "parent": "a"},
        {"key": "t2", "kind": "task", "title": "Task 2", "parent": "a", "depends_on": ["t1"]},
        {"key": "x", "kind": "job", "title": "Cycle X"},
        {"key": "y", "kind": "job", "title": "Cycle Y", "depends_on": ["x"]}
    ]"#,
    );
    let id = |k: &str| ids[k].as_str().expect("id").to_string();
    r.wt(&["claim", &id("d"), "--agent", "agent-1"]).ok();
    // wt refuses to close a cycle, so close one by hand: x also depends on y.
    let x = r.ticket_path(&id("x"));
    let text = r
        .read(&x)
        .replace("depends_on: []", &format!("depends_on: [{}]", id("y")));
    r.write(&x, &text);
    r.write(
        ".work/J-unknown1-extra-field.md",
        "---\nid: J-unknown1\nkind: job\ntitle: Has an extra field\nestimate: 3\n---\n# x\n",
    );
    r.write(
        ".work/J-badyaml1-broken.md",
        "---\nid: J-badyaml1\nkind: job\ntitle: [unclosed\n---\n",
    );
    r.write(".work/T-nofront1-plain.md", "just text, no frontmatter\n");
    std::fs::write(
        r.root.join(".work/T-notutf81-bytes.md"),
        b"---\nid: T-notutf81\ntitle: \xff\xfe\n---\n",
    )
    .expect("write");
    r.git(&["add", ".work"]).ok();
    r.git(&["commit", "-q", "-m", "hand-written tickets"]).ok();
    r
}

#[test]
fn answers_are_identical_with_and_without_the_cache_including_parse_problems() {
    let r = varied_repo();
    let _ = std::fs::remove_dir_all(cache_dir(&r));
    let plain = uncached(&r);
    // WT_NO_CACHE=1 bypasses the cache: it wrote none (so `plain` was computed, not read).
    assert!(
        !cache_dir(&r).exists(),
        "WT_NO_CACHE=1 wrote {}",
        cache_dir(&r).display()
    );
    // The tree really has parse problems and check findings, so they are compared too.
    assert!(plain[0].1.contains("not UTF-8"), "{}", plain[0].1);
    assert!(
        plain[6].0.contains("unknown field `estimate`"),
        "{}",
        plain[6].0
    );
    assert!(plain[6].0.contains("dependency cycle"), "{}", plain[6].0);
    let first = cached(&r); // builds the cache
    assert!(cache_dir(&r).join("snapshot.bin").is_file());
    // Every read command now answers from the cache (a kept result or the snapshot)
    // without parsing a ticket, so `second` really is the cached answer.
    for (cmd, s) in read_stats(&r) {
        assert!(
            matches!(s["cache"].as_str(), "hit" | "result") && num(&s, "parsed") == 0,
            "{cmd}: {s:?}"
        );
    }
    let second = cached(&r); // answers from it
    assert_eq!(first, plain);
    assert_eq!(second, plain);
}

/// The varied tree plus what hostile input brings: a symbolic link, a submodule and a name
/// that is not UTF-8 under `.work/`, tickets sharing an ID exactly and but for case, a ticket
/// whose parent is itself, a title with a control character, look-alike files.
fn hostile_repo() -> Repo {
    use std::os::unix::ffi::OsStrExt;
    let r = varied_repo();
    let t = |id: &str, extra: &str| {
        format!("---\nid: {id}\nkind: job\ntitle: T {id}\nstatus: open\n{extra}---\n# t\n")
    };
    r.write(".work/J-same0001-a.md", &t("J-same0001", ""));
    r.write(".work/J-same0001-b.md", &t("J-same0001", ""));
    r.write(".work/J-case0001-a.md", &t("J-case0001", ""));
    r.write(".work/J-CASE0001-b.md", &t("J-CASE0001", ""));
    r.write(
        ".work/J-self0001-a.md",
        &t("J-self0001", "parent: J-self0001\n"),
    );
    r.write(
        ".work/J-ctrl0001-a.md",
        "---\nid: J-ctrl0001\nkind: job\ntitle: \"a\\eb\"\n---\n",
    );
    r.write(".work/J-look0001-a.txt", &t("J-look0001", ""));
    r.write(".work/J-fold0001-a.md/notes", "x\n");
    std::os::unix::fs::symlink("/etc/passwd", r.root.join(".work/J-link0001-a.md")).expect("link");
    std::fs::write(
        r.root
            .join(".work")
            .join(std::ffi::OsStr::from_bytes(b"J-name0001-\xfe.md")),
        t("J-name0001", ""),
    )
    .expect("write");
    r.git(&["add", ".work"]).ok();
    let head = r.git(&["rev-parse", "HEAD"]).ok();
    r.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{},.work/sub", head.trim()),
    ])
    .ok();
    r.git(&["commit", "-q", "-m", "hostile entries"]).ok();
    r
}

/// The snapshot cache records what each entry is (file, link, submodule, odd name): a hit, a
/// reload after a change by git and one after wt's own write answer as a cold load does.
#[test]
fn answers_are_identical_with_and_without_the_cache_for_hostile_trees() {
    let r = hostile_repo();
    let _ = std::fs::remove_dir_all(cache_dir(&r));
    let plain = uncached(&r);
    let check = &plain[6].0;
    for word in [
        "symbolic link",
        "submodule",
        "not UTF-8",
        "duplicate id J-CASE0001",
        "parent is the ticket itself",
    ] {
        assert!(check.contains(word), "{word}: {check}");
    }
    assert_eq!(cached(&r), plain); // builds the cache
    assert_eq!(cached(&r), plain); // answers from it
                                   // A change by git: the cache reuses what it knows of the unchanged entries.
    r.write(
        ".work/J-more0001-a.md",
        "---\nid: J-more0001\nkind: job\ntitle: More\n---\n",
    );
    std::os::unix::fs::symlink("/etc", r.root.join(".work/J-link0002-b")).expect("link");
    r.git(&["add", ".work"]).ok();
    r.git(&["commit", "-q", "-m", "more"]).ok();
    let plain = uncached(&r);
    assert!(
        plain[6].0.contains("J-link0002-b:1: is a symbolic link"),
        "{}",
        plain[6].0
    );
    assert_eq!(cached(&r), plain);
    assert_eq!(cached(&r), plain);
    // wt's own write: the delta log carries it.
    r.wt(&["claim", "J-more0001", "--agent", "a"]).ok();
    let plain = uncached(&r);
    assert_eq!(cached(&r), plain);
    assert_eq!(cached(&r), plain);
}

#[test]
fn deleting_the_cache_changes_speed_only() {
    let r = varied_repo();
    let plain = uncached(&r);
    cached(&r);
    std::fs::remove_dir_all(cache_dir(&r)).expect("rm cache");
    let s = stats(&r, &r.root, &["list"]);
    assert_eq!(s["cache"], "absent");
    assert!(num(&s, "parsed") > 0);
    assert_eq!(cached(&r), plain);
    let s = stats(&r, &r.root, &["list"]);
    assert_eq!((s["cache"].as_str(), num(&s, "parsed")), ("hit", 0));
}

#[test]
fn truncated_cache_files_are_ignored_and_replaced() {
    let r = varied_repo();
    let plain = uncached(&r);
    cached(&r);
    // A claim leaves a delta record too, so all three files exist.
    let job = ids(&r.wt_json(&["ready"]))[0].clone();
    r.wt(&["claim", &job, "--agent", "a"]).ok();
    let plain = {
        let now = uncached(&r);
        assert_ne!(now, plain);
        now
    };
    for name in ["snapshot.bin", "trees.bin", "delta.bin"] {
        let p = cache_dir(&r).join(name);
        let bytes = std::fs::read(&p).unwrap_or_else(|_| panic!("{name} exists"));
        std::fs::write(&p, &bytes[..bytes.len() / 2]).expect("truncate");
    }
    let s = stats(&r, &r.root, &["list"]);
    assert_eq!(s["cache"], "invalid");
    assert_eq!(cached(&r), plain);
    assert_eq!(stats(&r, &r.root, &["list"])["cache"], "hit");
    // Truncated to nothing, and to less than a header.
    for len in [0, 7] {
        let p = cache_dir(&r).join("snapshot.bin");
        let bytes = std::fs::read(&p).expect("read");
        std::fs::write(&p, &bytes[..len]).expect("truncate");
        assert_eq!(cached(&r), plain);
    }
}

#[test]
fn corrupted_cache_files_are_ignored_and_replaced() {
    let r = varied_repo();
    let plain = uncached(&r);
    cached(&r);
    let p = cache_dir(&r).join("snapshot.bin");
    let good = std::fs::read(&p).expect("read");
    // Flip bytes in the payload (ticket data), in the header, and fill with garbage.
    let mut payload = good.clone();
    for i in (60..payload.len()).step_by(97) {
        payload[i] ^= 0x5a;
    }
    let mut header = good.clone();
    header[0] ^= 0xff;
    let garbage: Vec<u8> = (0..good.len()).map(|i| (i * 31 % 251) as u8).collect();
    for bad in [payload, header, garbage] {
        std::fs::write(&p, &bad).expect("corrupt");
        let s = stats(&r, &r.root, &["list"]);
        assert_eq!(s["cache"], "invalid");
        assert_eq!(cached(&r), plain);
    }
}

#[test]
fn a_cache_written_by_another_build_is_not_trusted() {
    let r = varied_repo();
    let plain = uncached(&r);
    cached(&r);
    let p = cache_dir(&r).join("snapshot.bin");
    let mut bytes = std::fs::read(&p).expect("read");
    // Bytes 12..20 hold the build fingerprint (a hash of the sources that parse tickets).
    bytes[12] ^= 1;
    std::fs::write(&p, &bytes).expect("write");
    assert_eq!(stats(&r, &r.root, &["list"])["cache"], "stale");
    assert_eq!(cached(&r), plain);
}

#[test]
fn after_one_ticket_changes_only_that_ticket_is_parsed() {
    let r = Repo::new();
    let plan = jobs_plan(30);
    let ids = r.import(&plan);
    let s = stats(&r, &r.root, &["list"]);
    assert_eq!(num(&s, "parsed") + num(&s, "reused"), 30);
    let s = stats(&r, &r.root, &["list"]);
    assert_eq!((s["cache"].as_str(), num(&s, "parsed")), ("hit", 0));

    // A change made with plain git: the next load reads the changed trees and that one blob.
    let id = ids["k7"].as_str().expect("id");
    let path = r.ticket_path(id);
    let text = r.read(&path).replace("priority: 2", "priority: 0");
    r.write(&path, &text);
    r.git(&["commit", "-q", "-am", "reprioritise"]).ok();
    let s = stats(&r, &r.root, &["list"]);
    assert_eq!(s["cache"], "partial");
    assert_eq!(num(&s, "parsed"), 1, "{s:?}");
    assert_eq!(num(&s, "reused"), 29, "{s:?}");
    assert_eq!(ids_of_ready(&r)[0], id, "the new priority is seen");

    // A change made by wt: the writer recorded it, so the next load parses nothing.
    r.wt(&["claim", id, "--agent", "a"]).ok();
    let s = stats(&r, &r.root, &["list"]);
    assert_eq!(s["cache"], "delta");
    assert_eq!(num(&s, "parsed"), 0, "{s:?}");
    assert!(!ids_of_ready(&r).contains(&id.to_string()));
    assert_eq!(cached(&r), uncached(&r));
}

fn ids_of_ready(r: &Repo) -> Vec<String> {
    ids(&r.wt_json(&["ready"]))
}

#[test]
fn a_long_run_of_writes_keeps_answers_identical() {
    let r = varied_repo();
    let ready = ids(&r.wt_json(&["ready", "--kind", "any"]));
    assert!(!ready.is_empty());
    // More writes than the delta log is followed before a fresh snapshot is written.
    for round in 0..6 {
        for id in &ready {
            r.wt(&["claim", id, "--agent", "a"]).ok();
            if round % 2 == 0 {
                r.wt(&["release", id, "--agent", "a"]).ok();
            } else {
                r.wt(&["release", id, "--agent", "a"]).ok();
                // Refused (a ticket cannot wait on itself): no commit, no delta.
                r.wt(&["dep", "add", id, id]).fails_with(2);
            }
        }
        assert_eq!(cached(&r), uncached(&r), "round {round}");
    }
}

#[test]
fn racing_writers_on_the_cache_change_speed_only() {
    let r = Repo::new();
    let plan = jobs_plan(40);
    let ids = r.import(&plan);
    let ids: Vec<String> = (0..40)
        .map(|i| ids[&format!("k{i}")].as_str().expect("id").to_string())
        .collect();
    // Eight processes at once, each loading (and so rewriting) the cache while others
    // commit claims (and so append deltas); half start with no cache at all.
    let _ = std::fs::remove_dir_all(cache_dir(&r));
    let mut children = Vec::new();
    for (n, chunk) in ids.chunks(5).enumerate() {
        let root = r.root.clone();
        let home = r.home();
        let chunk = chunk.to_vec();
        children.push(std::thread::spawn(move || {
            for id in &chunk {
                let mut c = Command::new(wt_bin());
                hermetic(&mut c, &home);
                let st = c
                    .current_dir(&root)
                    .args(["claim", id, "--agent", &format!("agent-{n}")])
                    .output()
                    .expect("claim");
                assert!(
                    st.status.success(),
                    "{}",
                    String::from_utf8_lossy(&st.stderr)
                );
                let mut c = Command::new(wt_bin());
                hermetic(&mut c, &home);
                let st = c
                    .current_dir(&root)
                    .args(["--json", "ready"])
                    .output()
                    .expect("ready");
                assert!(st.status.success());
                if n % 2 == 0 {
                    let _ = std::fs::remove_dir_all(root.join(".git/wt/cache"));
                }
            }
        }));
    }
    for c in children {
        c.join().expect("racer");
    }
    assert_eq!(cached(&r), uncached(&r));
    assert!(tickets(&r.wt_json(&["ready"])).is_empty());
    // The racers left a cache that works: the next load takes all 40 tickets from it (the
    // snapshot, or the snapshot plus the claims' deltas) and parses none.
    let s = stats(&r, &r.root, &["list"]);
    assert!(
        matches!(s["cache"].as_str(), "hit" | "delta")
            && num(&s, "parsed") == 0
            && num(&s, "reused") == 40,
        "{s:?}"
    );
    // No temporary files are left behind by the atomic writes (the folder exists: the
    // check above wrote or read it).
    let names: Vec<String> = std::fs::read_dir(cache_dir(&r))
        .expect("the cache folder exists")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.contains(&"snapshot.bin".to_string()), "{names:?}");
    assert!(
        !names.iter().any(|n| n.ends_with(".tmp")),
        "left behind: {names:?}"
    );
}

#[test]
fn worktrees_share_one_cache() {
    let r = varied_repo();
    cached(&r);
    let other = r.tmp.path().join("other");
    r.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "side",
        other.to_str().expect("utf8"),
    ])
    .ok();
    let s = stats(&r, &other, &["list"]);
    assert_eq!((s["cache"].as_str(), num(&s, "parsed")), ("hit", 0));
    assert_eq!(
        r.wt_in(&other, &["--json", "ready"]).stdout(),
        r.wt(&["--json", "ready"]).stdout()
    );
}

#[test]
fn a_large_import_is_written_as_one_pack() {
    let r = Repo::new();
    let plan = jobs_plan(300);
    let before = r.git(&["count-objects", "-v"]).ok();
    let loose = |s: &str| -> usize {
        s.lines()
            .find_map(|l| l.strip_prefix("count: "))
            .and_then(|n| n.trim().parse().ok())
            .expect("count")
    };
    r.import(&plan);
    let after = r.git(&["count-objects", "-v"]).ok();
    assert!(
        loose(&after) < loose(&before) + 10,
        "300 tickets became loose objects:\n{after}"
    );
    assert!(after.contains("packs: 1"), "{after}");
    r.git(&["fsck", "--strict"]).ok();
    assert_eq!(tickets(&r.wt_json(&["list"])).len(), 300);
    assert_eq!(r.git(&["status", "--porcelain"]).ok(), "");
}

/// `wt ready` keeps its whole answer by `.work` tree id (`results/`): the second run prints
/// it without loading a ticket, a damaged or foreign result file is ignored, and a list
/// with a lease on it (whose `stale` flag reads the clock) is not kept.
#[test]
fn ready_answers_are_kept_by_tree_and_only_when_they_do_not_read_the_clock() {
    let r = varied_repo();
    let plain = uncached(&r);
    assert_eq!(cached(&r), plain); // computes and keeps
    let s = stats(&r, &r.root, &["--json", "ready"]);
    assert_eq!((s["cache"].as_str(), num(&s, "reused")), ("result", 0));
    assert_eq!(cached(&r), plain); // answered from the kept results
    let results = cache_dir(&r).join("results");
    let files: Vec<PathBuf> = std::fs::read_dir(&results)
        .expect("results")
        .map(|e| e.expect("entry").path())
        .collect();
    assert!(!files.is_empty());
    // Damaged files: ignored (and replaced).
    for f in &files {
        let mut b = std::fs::read(f).expect("read");
        let last = b.len() - 1;
        b[last] ^= 0x40;
        std::fs::write(f, &b).expect("damage");
    }
    assert_ne!(stats(&r, &r.root, &["--json", "ready"])["cache"], "result");
    assert_eq!(cached(&r), plain);
    // A result kept for another tree (the tree before a hand edit) is not used.
    let before = uncached(&r);
    let job = ids(&r.wt_json(&["ready"]))[0].clone();
    let p = r.ticket_path(&job);
    let text = r.read(&p).replacen("status: open", "status: done", 1);
    r.write(&p, &text);
    r.git(&["commit", "-q", "-am", "done by hand"]).ok();
    let after = uncached(&r);
    assert_ne!(after, before);
    assert_eq!(cached(&r), after);
    // A ready ticket with a lease (hand-made, claimed_by empty): its `stale` flag depends
    // on the time, so that answer is computed every time.
    let next = ids(&r.wt_json(&["ready"]))[0].clone();
    let p = r.ticket_path(&next);
    let text = r.read(&p).replace("claim_expires:\n", "").replacen(
        "\ntitle:",
        "\nclaim_expires: \"2026-01-02T03:00:00Z\"\ntitle:",
        1,
    );
    assert!(text.contains("03:00:00Z"), "{text}");
    r.write(&p, &text);
    r.git(&["commit", "-q", "-am", "a lease without a holder"])
        .ok();
    r.wt(&["--json", "ready"]).ok();
    assert_ne!(stats(&r, &r.root, &["--json", "ready"])["cache"], "result");
    let later = r.wt_env(
        &r.root,
        &["--json", "ready"],
        &[("WT_NOW", "2025-01-01T00:00:00Z")],
    );
    assert!(later.stdout().contains(&next));
    assert_eq!(cached(&r), uncached(&r));
}
