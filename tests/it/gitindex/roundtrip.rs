//! Round trips of the byte-level index updater (`wt::store::index`) against git itself, in the
//! spirit of gitoxide's gix-index tests: real `git` writes an index (version 2, 3 or 4, with
//! the extension under test), the same repository is copied twice, and the same change is
//! made to both copies, once by wt's updater and once by `git update-index`. The two index
//! files must then be byte-identical except for:
//!
//! - the stat fields `ctime` (seconds and nanoseconds) and `ino` of every entry, which differ
//!   between two copies of a directory and cannot be set (`mtime` is set to the same value
//!   in both copies; `dev`, `uid`, `gid`, `size` and `mode` are compared as they are);
//! - the trailer, which hashes those fields (each file's trailer is checked against its own
//!   content instead);
//! - `EOIE`, `IEOT` and `FSMN`, which wt drops by design (they describe the old layout: see
//!   `src/store/index.rs`); where they occur, git's rewrite of wt's file puts them back and
//!   then matches git's own output.
//!
//! Both copies are also compared through git: `git ls-files --stage --debug` (with the same
//! two stat fields masked), `git status --porcelain`, `git diff --cached --quiet` and
//! `git fsck`. A no-op update (the same blob, the file untouched) must leave the index file
//! byte-identical, as `git update-index` does.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

use wt::store::index::{self, Update};
use wt::store::Oid;

use crate::common::*;

/// The files wt rewrites in every scenario: two tickets in different folders.
const CHANGED: [&str; 2] = [
    ".work/jobs/J-aaaa0001-index-me.md",
    ".work/P-aaaa0002-phase.md",
];
/// Their new content (what a claim would write).
const NEW: [&str; 2] = [
    "---\nid: J-aaaa0001\nkind: job\ntitle: Index me\nstatus: claimed\n---\n",
    "---\nid: P-aaaa0002\nkind: phase-spec\ntitle: Phase\nstatus: active\n---\n",
];
/// mtime of every file before the change (so that no entry is racily clean).
const AGED: u64 = 1_600_000_000;
/// mtime of the changed files after the change, the same in both copies.
const CHANGED_MTIME: u64 = 1_700_000_000;

fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

fn set_mtime(path: &Path, t: SystemTime) {
    fs::OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(t))
        .unwrap_or_else(|e| panic!("set mtime of {}: {e}", path.display()));
}

fn git_env(r: &Repo, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new("git");
    hermetic(&mut cmd, &r.home());
    cmd.current_dir(&r.root).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    Run {
        out: cmd.output().expect("run git"),
    }
}

/// Assert equal bytes, reporting the first difference (not two dumps of the files).
#[track_caller]
fn assert_bytes_eq(a: &[u8], b: &[u8], what: &str) {
    if a != b {
        let at = a
            .iter()
            .zip(b)
            .position(|(x, y)| x != y)
            .unwrap_or(a.len().min(b.len()));
        let show = |d: &[u8]| format!("{:02x?}", &d[at.saturating_sub(8)..(at + 24).min(d.len())]);
        panic!(
            "{what}: lengths {} and {}, first difference at byte {at}:\n  {}\n  {}",
            a.len(),
            b.len(),
            show(a),
            show(b)
        );
    }
}

fn index_bytes(r: &Repo) -> Vec<u8> {
    fs::read(r.root.join(".git/index")).expect("read .git/index")
}

// ---- A reader of git's index format, independent of the one under test. ----

/// One index file taken apart: header, entries (with their byte ranges), extensions.
struct Parsed {
    version: u32,
    /// Byte range of each entry and its path.
    entries: Vec<(std::ops::Range<usize>, Vec<u8>)>,
    /// Signature and whole byte range (header included) of each extension.
    exts: Vec<([u8; 4], std::ops::Range<usize>)>,
}

fn be32(d: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(d[at..at + 4].try_into().unwrap())
}

/// Parse `d`, asserting that its trailer is the SHA-1 of the rest (checked with `git
/// hash-object`-free arithmetic: sha1 of the bytes).
fn parse(d: &[u8]) -> Parsed {
    use sha1::{Digest, Sha1};
    let end = d.len() - 20;
    assert_eq!(
        Sha1::digest(&d[..end]).as_slice(),
        &d[end..],
        "the trailer is the SHA-1 of the content"
    );
    assert_eq!(&d[..4], b"DIRC");
    let version = be32(d, 4);
    let count = be32(d, 8) as usize;
    let mut off = 12;
    let mut prev: Vec<u8> = Vec::new();
    let mut entries = Vec::new();
    for _ in 0..count {
        let flags = u16::from_be_bytes([d[off + 60], d[off + 61]]);
        let header = if flags & 0x4000 != 0 { 64 } else { 62 };
        let name = off + header;
        let (path, next) = if version == 4 {
            // varint: how many bytes to drop from the previous path, then a NUL-terminated suffix.
            let mut at = name;
            let mut c = d[at];
            at += 1;
            let mut strip = (c & 127) as usize;
            while c & 128 != 0 {
                c = d[at];
                at += 1;
                strip = ((strip + 1) << 7) | (c & 127) as usize;
            }
            let nul = at + d[at..].iter().position(|&b| b == 0).unwrap();
            let mut p = prev[..prev.len() - strip].to_vec();
            p.extend_from_slice(&d[at..nul]);
            (p, nul + 1)
        } else {
            let nul = name + d[name..].iter().position(|&b| b == 0).unwrap();
            (
                d[name..nul].to_vec(),
                off + ((header + nul - name + 8) & !7),
            )
        };
        prev = path.clone();
        entries.push((off..next, path));
        off = next;
    }
    let mut exts = Vec::new();
    while off < end {
        let sig: [u8; 4] = d[off..off + 4].try_into().unwrap();
        let stop = off + 8 + be32(d, off + 4) as usize;
        exts.push((sig, off..stop));
        off = stop;
    }
    assert_eq!(off, end, "extensions end at the trailer");
    Parsed {
        version,
        entries,
        exts,
    }
}

fn sigs(d: &[u8]) -> Vec<String> {
    parse(d)
        .exts
        .iter()
        .map(|(s, _)| String::from_utf8_lossy(s).into_owned())
        .collect()
}

/// `d` without its trailer, with `ctime` and `ino` of every entry zeroed and the extensions
/// named in `drop` left out (see the module documentation for why exactly these).
fn normalised(d: &[u8], drop: &[&[u8; 4]]) -> Vec<u8> {
    let p = parse(d);
    let mut out = d[..p.entries.last().map_or(12, |(r, _)| r.end)].to_vec();
    for (r, _) in &p.entries {
        out[r.start..r.start + 8].fill(0); // ctime seconds, nanoseconds
        out[r.start + 20..r.start + 24].fill(0); // ino
    }
    for (sig, r) in &p.exts {
        if !drop.contains(&sig) {
            out.extend_from_slice(&d[r.clone()]);
        }
    }
    out
}

/// `git ls-files --stage --debug` with the `ctime` and `ino` values masked.
fn ls_files_debug(r: &Repo) -> String {
    r.git(&["ls-files", "--stage", "--debug"])
        .ok()
        .lines()
        .map(|l| {
            if l.starts_with("  ctime: ") {
                "  ctime: *".to_string()
            } else if let Some((dev, _)) = l.split_once("\tino: ") {
                format!("{dev}\tino: *")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

// ---- The scenario. ----

/// A repository with tickets in two folders, source files and a deep folder, committed.
fn seeded() -> Repo {
    let r = Repo::bare_git();
    r.write(
        CHANGED[0],
        "---\nid: J-aaaa0001\nkind: job\ntitle: Index me\nstatus: open\n---\n",
    );
    r.write(
        CHANGED[1],
        "---\nid: P-aaaa0002\nkind: phase-spec\ntitle: Phase\nstatus: open\n---\n",
    );
    r.write(
        ".work/jobs/J-aaaa0003-other.md",
        "---\nid: J-aaaa0003\n---\n",
    );
    r.write("src/lib.rs", "pub fn f() {}\n");
    r.write("docs/a/b.txt", "deep\n");
    r.write("n.txt", "base\n");
    r.git(&["add", "-A"]).ok();
    r.git(&["commit", "-q", "-m", "seed"]).ok();
    r
}

/// Age every tracked file and let git refresh the index, so that no entry is racily clean
/// and every entry's stat data is exact; then commit the new content of [`CHANGED`] to the
/// branch without touching the index or the work tree (as wt's commit does) and return the
/// old and new blob of each.
fn prepare(r: &Repo) -> Vec<(Oid, Oid)> {
    for f in r.git(&["ls-files", "-z"]).ok().split('\0') {
        let p = r.root.join(f);
        if !f.is_empty() && p.is_file() {
            set_mtime(&p, at(AGED));
        }
    }
    r.git(&["update-index", "-q", "--refresh"]);
    let tmp_index = r.tmp.path().join("wt-commit.index");
    let tmp_index = tmp_index.to_str().unwrap();
    let env = [("GIT_INDEX_FILE", tmp_index)];
    git_env(r, &["read-tree", "HEAD"], &env).ok();
    let mut blobs = Vec::new();
    for (path, content) in CHANGED.iter().zip(NEW) {
        let old = r.git(&["rev-parse", &format!("HEAD:{path}")]).ok();
        let file = r.tmp.path().join("blob");
        fs::write(&file, content).unwrap();
        let new = r.git(&["hash-object", "-w", file.to_str().unwrap()]).ok();
        git_env(
            r,
            &[
                "update-index",
                "--cacheinfo",
                &format!("100644,{},{path}", new.trim()),
            ],
            &env,
        )
        .ok();
        blobs.push((
            Oid::from_str(old.trim()).unwrap(),
            Oid::from_str(new.trim()).unwrap(),
        ));
    }
    let tree = git_env(r, &["write-tree"], &env).ok();
    let commit = r
        .git(&["commit-tree", tree.trim(), "-p", "HEAD", "-m", "wt: claim"])
        .ok();
    r.git(&["update-ref", "refs/heads/main", commit.trim()])
        .ok();
    blobs
}

/// A copy of `r` (`cp -a`: contents and mtimes; inodes and ctimes are new).
fn copy_of(r: &Repo) -> Repo {
    let tmp = tempfile::Builder::new()
        .prefix("wt-test-")
        .tempdir()
        .expect("tempdir");
    let root = tmp.path().join("repo");
    let st = Command::new("cp")
        .arg("-a")
        .arg(&r.root)
        .arg(&root)
        .status()
        .expect("cp");
    assert!(st.success());
    Repo { tmp, root }
}

/// `cp -a` of `from` to `dest`.
fn restore_into(from: &Path, dest: &Path) {
    let st = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(dest)
        .status()
        .expect("cp");
    assert!(st.success());
}

/// Write the new content of [`CHANGED`] the way wt does, with a fixed mtime.
fn write_changed(r: &Repo) {
    for (path, content) in CHANGED.iter().zip(NEW) {
        let p = r.root.join(path);
        wt::store::write_atomic(&p, content.as_bytes()).expect("write_atomic");
        set_mtime(&p, at(CHANGED_MTIME));
    }
}

fn wt_update(r: &Repo, blobs: &[Oid]) -> Update {
    let writes: Vec<(&str, Oid)> = CHANGED.iter().copied().zip(blobs.iter().copied()).collect();
    index::update_entries(&r.root.join(".git"), &r.root, &writes, None)
}

/// `rm -rf` the repository and put the saved copy back at the same path, so that what the
/// index records about its location (the untracked cache's) stays valid.
fn restore(r: &Repo, saved: &Path) {
    fs::remove_dir_all(&r.root).expect("rm repo");
    restore_into(saved, &r.root);
}

/// What git shows of a repository after the change.
#[derive(Debug, PartialEq)]
struct Seen {
    ls_files: String,
    diff_cached: i32,
    status: String,
}

/// Check that the repository is sound and its index holds the tip's blobs, and return what
/// git shows of it (`git status` last: it may rewrite the index).
#[track_caller]
fn observe(r: &Repo, paths: &[&str]) -> Seen {
    let fsck = r.git(&["fsck", "--full", "--no-dangling"]);
    fsck.ok();
    assert_eq!(fsck.stderr(), "", "git fsck complained");
    for path in paths {
        assert_eq!(
            r.git(&["rev-parse", &format!(":0:{path}")]).ok(),
            r.git(&["rev-parse", &format!("HEAD:{path}")]).ok()
        );
    }
    Seen {
        ls_files: ls_files_debug(r),
        diff_cached: r.git(&["diff", "--cached", "--quiet"]).code(),
        status: r.git(&["status", "--porcelain"]).ok(),
    }
}

/// What a round trip left: the repository in wt's state, and both index files as written.
struct RoundTrip {
    repo: Repo,
    wt_index: Vec<u8>,
    git_index: Vec<u8>,
}

/// Run the scenario: `setup` shapes the index with real git; then a no-op update must leave
/// it byte-identical, and the change made by wt's updater (expected outcome `expect`) and by
/// `git update-index`, each on the same saved state at the same path, must give the same
/// index (`dropped`: extensions git writes and wt drops by design, absent from wt's file).
fn round_trip(setup: impl FnOnce(&Repo), expect: Update, dropped: &[&[u8; 4]]) -> RoundTrip {
    let r = seeded();
    setup(&r);
    let blobs = prepare(&r);
    let olds: Vec<Oid> = blobs.iter().map(|b| b.0).collect();
    let news: Vec<Oid> = blobs.iter().map(|b| b.1).collect();
    let saved = r.tmp.path().join("saved");
    restore_into(&r.root, &saved);

    // (b) A no-op: the same blobs, the files untouched.
    let before = index_bytes(&r);
    let noop = wt_update(&r, &olds);
    assert_bytes_eq(
        &index_bytes(&r),
        &before,
        &format!("a no-op update ({noop:?}) changed the index"),
    );
    assert!(!r.root.join(".git/index.lock").exists());

    // (a) The change, made by git ...
    restore(&r, &saved);
    write_changed(&r);
    let mut args = vec!["update-index", "--"];
    args.extend(CHANGED);
    r.git(&args).ok();
    let git_index = index_bytes(&r);
    let git_seen = observe(&r, &CHANGED);

    // ... and by wt.
    restore(&r, &saved);
    write_changed(&r);
    assert_eq!(wt_update(&r, &news), expect);
    assert!(!r.root.join(".git/index.lock").exists());
    let wt_index = index_bytes(&r);
    // (b) again: updating to what the index already holds changes nothing.
    if expect == Update::Done {
        assert_eq!(wt_update(&r, &news), Update::Done);
    }
    assert_bytes_eq(
        &index_bytes(&r),
        &wt_index,
        "a repeated update changed the index",
    );

    for sig in dropped {
        let name = String::from_utf8_lossy(*sig);
        assert!(
            parse(&git_index).exts.iter().any(|(s, _)| s == *sig),
            "git wrote {name}"
        );
        assert!(
            !parse(&wt_index).exts.iter().any(|(s, _)| s == *sig),
            "wt dropped {name}"
        );
    }
    assert_eq!(parse(&wt_index).version, parse(&git_index).version);
    assert_bytes_eq(
        &normalised(&wt_index, &[]),
        &normalised(&git_index, dropped),
        &format!(
            "wt's index ({:?}) differs from git's ({:?})",
            sigs(&wt_index),
            sigs(&git_index)
        ),
    );
    // The same through the bytes a read before the lock verified (as a write that checked
    // the checkout first does): not checked again, the same index.
    restore(&r, &saved);
    write_changed(&r);
    let (_, known) =
        index::staged_blobs(&r.root.join(".git"), &CHANGED).expect("the index reads as bytes");
    let writes: Vec<(&str, Oid)> = CHANGED.iter().copied().zip(news.iter().copied()).collect();
    assert_eq!(
        index::update_entries(&r.root.join(".git"), &r.root, &writes, Some(known)),
        expect
    );
    let from_known = index_bytes(&r);
    assert_bytes_eq(
        &normalised(&from_known, &[]),
        &normalised(&wt_index, &[]),
        "an update from verified bytes differs from one that read the index itself",
    );
    assert!(
        index::lookup(&from_known, &CHANGED).is_ok(),
        "its trailer is the SHA-1 of its content"
    );
    assert_eq!(observe(&r, &CHANGED), git_seen);
    RoundTrip {
        repo: r,
        wt_index,
        git_index,
    }
}

#[test]
fn version_2_with_a_cache_tree() {
    let rt = round_trip(
        |r| {
            r.git(&["update-index", "--index-version", "2"]).ok();
            r.git(&["write-tree"]).ok();
        },
        Update::Done,
        &[],
    );
    assert_eq!(sigs(&index_bytes(&rt.repo)), ["TREE"]);
    assert_eq!(rt.repo.git(&["status", "--porcelain"]).ok(), "");
    rt.repo.git(&["diff", "--cached", "--quiet"]).ok();
}

#[test]
fn version_3_with_extended_flags() {
    let rt = round_trip(
        |r| {
            r.git(&["update-index", "--index-version", "3"]).ok();
            r.write("new.txt", "intent\n");
            r.git(&["add", "-N", "new.txt"]).ok();
            r.git(&["update-index", "--skip-worktree", "docs/a/b.txt"])
                .ok();
        },
        Update::Done,
        &[],
    );
    let d = index_bytes(&rt.repo);
    assert_eq!(parse(&d).version, 3);
    let flags = rt.repo.git(&["ls-files", "-t", "-v"]).ok();
    assert!(flags.contains("S docs/a/b.txt"), "{flags}");
    assert_eq!(rt.repo.git(&["status", "--porcelain"]).ok(), " A new.txt\n");
    // A changed path that is itself skip-worktree or intent-to-add is left to libgit2.
    for (path, flag) in [(CHANGED[0], "--skip-worktree"), ("new.txt", "")] {
        let r = copy_of(&rt.repo);
        if !flag.is_empty() {
            r.git(&["update-index", flag, path]).ok();
        }
        let before = index_bytes(&r);
        r.write(path, "other\n");
        let oid = Oid::from_str(r.git(&["hash-object", path]).ok().trim()).unwrap();
        let got = index::update_entries(&r.root.join(".git"), &r.root, &[(path, oid)], None);
        assert_eq!(
            got,
            Update::Fallback("a changed path is skip-worktree or intent-to-add"),
            "{path}"
        );
        assert_eq!(index_bytes(&r), before);
    }
}

#[test]
fn version_4_with_path_compression() {
    let rt = round_trip(
        |r| {
            r.git(&["config", "index.version", "4"]).ok();
            r.git(&["update-index", "--index-version", "4"]).ok();
            r.git(&["write-tree"]).ok();
        },
        Update::Done,
        &[],
    );
    assert_eq!(parse(&index_bytes(&rt.repo)).version, 4);
    assert_eq!(
        rt.repo
            .git(&["update-index", "--show-index-version"])
            .ok()
            .trim(),
        "4"
    );
}

/// Resolve a conflict in n.txt and commit the merge: the resolve-undo record stays.
fn conflict_resolved(r: &Repo) {
    r.git(&["checkout", "-q", "-b", "side"]).ok();
    r.write("n.txt", "side\n");
    r.git(&["commit", "-q", "-am", "side"]).ok();
    r.git(&["checkout", "-q", "main"]).ok();
    r.write("n.txt", "main\n");
    r.git(&["commit", "-q", "-am", "main"]).ok();
    r.git(&["merge", "-q", "side"]).fails_with(1);
    r.write("n.txt", "resolved\n");
    r.git(&["add", "n.txt"]).ok();
    r.git(&["commit", "-q", "--no-edit"]).ok();
}

#[test]
fn resolve_undo_is_kept() {
    let rt = round_trip(conflict_resolved, Update::Done, &[]);
    let d = index_bytes(&rt.repo);
    assert!(sigs(&d).contains(&"REUC".to_string()), "{:?}", sigs(&d));
    // The record still works: the conflict can be brought back.
    rt.repo.git(&["checkout", "-m", "--", "n.txt"]).ok();
    assert!(rt.repo.read("n.txt").contains("<<<<<<<"));
}

#[test]
fn the_untracked_cache_is_kept() {
    let rt = round_trip(
        |r| {
            r.git(&["config", "core.untrackedCache", "true"]).ok();
            r.git(&["update-index", "--untracked-cache"]).ok();
            r.write("scratch.txt", "untracked\n");
            r.write(".work/stray.txt", "untracked\n");
            r.git(&["status", "--porcelain"]).ok();
        },
        Update::Done,
        &[],
    );
    let d = index_bytes(&rt.repo);
    assert!(sigs(&d).contains(&"UNTR".to_string()), "{:?}", sigs(&d));
    // New untracked files are still seen (the folders' mtimes changed).
    rt.repo.write(".work/jobs/later.txt", "new\n");
    assert_eq!(
        rt.repo.git(&["status", "--porcelain"]).ok(),
        "?? .work/jobs/later.txt\n?? .work/stray.txt\n?? scratch.txt\n"
    );
}

#[test]
fn end_of_index_entry_and_offset_table_are_dropped_and_git_puts_them_back() {
    let rt = round_trip(
        |r| {
            r.git(&["config", "index.recordEndOfIndexEntries", "true"])
                .ok();
            r.git(&["config", "index.recordOffsetTable", "true"]).ok();
            r.git(&["config", "index.threads", "2"]).ok();
            r.git(&["update-index", "--index-version", "3"]).ok();
            r.git(&["write-tree"]).ok();
        },
        Update::Done,
        &[b"EOIE", b"IEOT"],
    );
    assert_eq!(sigs(&rt.wt_index), ["TREE"]);
    // git's rewrite of wt's file is git's own file: only the dropped extensions differed.
    rt.repo.git(&["update-index", "--force-write-index"]).ok();
    let (wa, wb) = (index_bytes(&rt.repo), rt.git_index);
    assert_eq!(sigs(&wa), sigs(&wb));
    assert_bytes_eq(
        &normalised(&wa, &[]),
        &normalised(&wb, &[]),
        "after git's rewrite",
    );
}

/// n.txt becomes racily clean: recorded with mtime T, then rewritten with the same size and
/// mtime, and the index file's own mtime is T, so only its content shows the edit (ctime is
/// not trusted, as with `core.trustctime=false`). src/lib.rs is racily clean too, but
/// unchanged. git smudges the first (size 0) whenever it rewrites the index, and only the
/// first (see git's Documentation/technical/racy-git.txt).
fn racy(r: &Repo) -> Vec<Oid> {
    r.git(&["config", "core.trustctime", "false"]).ok();
    let blobs = prepare(r);
    let t = at(AGED + 60);
    for (f, before, after) in [
        ("n.txt", "aaaa\n", "bbbb\n"),
        ("src/lib.rs", "pub fn f() {}\n", "pub fn f() {}\n"),
    ] {
        r.write(f, before);
        set_mtime(&r.root.join(f), t);
        r.git(&["update-index", "--", f]).ok();
        r.write(f, after);
        set_mtime(&r.root.join(f), t);
    }
    set_mtime(&r.root.join(".git/index"), t);
    blobs.iter().map(|b| b.1).collect()
}

#[test]
fn a_racily_clean_entry_is_smudged_as_git_does() {
    // Two repositories built the same way, in place (a copy would change the inodes, which
    // git compares before it looks at the content).
    let (a, b) = (seeded(), seeded());
    let news = racy(&a);
    racy(&b);
    let size = |r: &Repo, f: &str| {
        let out = r.git(&["ls-files", "--debug", "--", f]).ok();
        out.lines()
            .find_map(|l| l.trim().strip_prefix("size: "))
            .and_then(|v| v.split_whitespace().next())
            .map(str::to_string)
            .unwrap_or_else(|| panic!("no size in {out}"))
    };
    assert_eq!(size(&a, "n.txt"), "5", "recorded, not yet smudged");

    write_changed(&a);
    assert_eq!(wt_update(&a, &news), Update::Done);
    write_changed(&b);
    let mut args = vec!["update-index", "--"];
    args.extend(CHANGED);
    b.git(&args).ok();

    assert_eq!(size(&b, "n.txt"), "0", "git smudged the racily clean entry");
    assert_eq!(size(&b, "src/lib.rs"), "14", "and only that one");
    assert_eq!(size(&a, "n.txt"), "0", "wt smudged it too");
    let (wa, wb) = (index_bytes(&a), index_bytes(&b));
    assert_bytes_eq(
        &normalised(&wa, &[]),
        &normalised(&wb, &[]),
        "wt's index differs from git's",
    );
    // The edit to n.txt stays visible (the second M), and `git commit -a` would take it.
    assert_eq!(a.git(&["status", "--porcelain"]).ok(), "MM n.txt\n");
    assert_eq!(observe(&a, &CHANGED), observe(&b, &CHANGED));
}

// ---- Through the real binary: `wt claim` with the state branch checked out. ----

/// What a claim's round trip left.
struct ClaimTrip {
    /// The repository, in git's state.
    repo: Repo,
    /// wt's `WT_DEBUG_INDEX` line.
    counters: String,
    /// The files the claim changed.
    paths: Vec<String>,
    wt_index: Vec<u8>,
    git_index: Vec<u8>,
}

/// `wt claim` of a job (wt's side) against `git update-index` of the same files, with the
/// same content and mtimes, on the saved state plus wt's commit (git's side), at the same
/// path. Both sides must look the same to git; the caller compares the index files.
fn claim_round_trip(setup: impl FnOnce(&Repo)) -> ClaimTrip {
    let r = Repo::new();
    let id = r.new_ticket(&["job", "Index me"]);
    r.write("src/lib.rs", "pub fn f() {}\n");
    r.write("docs/a/b.txt", "deep\n");
    r.write("n.txt", "base\n");
    r.git(&["add", "-A"]).ok();
    r.git(&["commit", "-q", "-m", "user work"]).ok();
    setup(&r);
    for f in r.git(&["ls-files", "-z"]).ok().split('\0') {
        let p = r.root.join(f);
        if !f.is_empty() && p.is_file() {
            set_mtime(&p, at(AGED));
        }
    }
    r.git(&["update-index", "-q", "--refresh"]);
    let saved = r.tmp.path().join("saved");
    restore_into(&r.root, &saved);
    let old = r.git(&["rev-parse", "HEAD"]).ok().trim().to_string();

    // wt's side.
    let run = r.wt_env(
        &r.root,
        &["claim", &id, "--agent", "a"],
        &[("WT_DEBUG_INDEX", "1")],
    );
    run.ok();
    let counters = run
        .stderr()
        .lines()
        .find(|l| l.starts_with("wt-index:"))
        .unwrap_or_else(|| panic!("no wt-index line in:\n{}", run.stderr()))
        .to_string();
    let new = r.git(&["rev-parse", "HEAD"]).ok().trim().to_string();
    assert_ne!(new, old);
    let paths: Vec<String> = r
        .git(&["diff", "--name-only", &old, &new])
        .ok()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(paths, [r.ticket_path(&id)]);
    let changed = paths.clone();
    let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
    let files: Vec<(Vec<u8>, SystemTime)> = paths
        .iter()
        .map(|p| {
            let p = r.root.join(p);
            (
                fs::read(&p).unwrap(),
                fs::metadata(&p).unwrap().modified().unwrap(),
            )
        })
        .collect();
    let wt_index = index_bytes(&r);
    let shared = shared_indexes(&r);
    let wt_seen = observe(&r, &paths);
    let objects = r.tmp.path().join("objects-after");
    restore_into(&r.root.join(".git/objects"), &objects);

    // git's side.
    restore(&r, &saved);
    let st = Command::new("cp")
        .arg("-a")
        .arg(objects.join("."))
        .arg(r.root.join(".git/objects"))
        .status()
        .expect("cp");
    assert!(st.success());
    r.git(&["update-ref", "refs/heads/main", &new, &old]).ok();
    for (p, (content, mtime)) in paths.iter().zip(&files) {
        let p = r.root.join(p);
        wt::store::write_atomic(&p, content).unwrap();
        set_mtime(&p, *mtime);
    }
    let mut args = vec!["update-index", "--"];
    args.extend(&paths);
    r.git(&args).ok();
    let git_index = index_bytes(&r);
    assert_eq!(shared_indexes(&r), shared, "the same shared index files");
    assert_eq!(observe(&r, &paths), wt_seen);
    ClaimTrip {
        repo: r,
        counters,
        paths: changed,
        wt_index,
        git_index,
    }
}

/// Names and bytes of the shared index files of a split index.
fn shared_indexes(r: &Repo) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = fs::read_dir(r.root.join(".git"))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name().to_string_lossy().starts_with("sharedindex."))
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

fn counter(line: &str, name: &str) -> usize {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {line}"))
}

#[test]
fn a_claim_on_an_index_with_every_optional_extension_matches_git() {
    let rt = claim_round_trip(|r| {
        conflict_resolved(r);
        r.git(&["update-index", "--index-version", "3"]).ok();
        r.git(&["config", "index.recordEndOfIndexEntries", "true"])
            .ok();
        r.git(&["config", "index.recordOffsetTable", "true"]).ok();
        r.git(&["config", "index.threads", "2"]).ok();
        r.git(&["config", "core.untrackedCache", "true"]).ok();
        r.git(&["update-index", "--untracked-cache"]).ok();
        r.write("new.txt", "intent\n");
        r.git(&["add", "-N", "new.txt"]).ok();
        r.git(&["update-index", "--skip-worktree", "docs/a/b.txt"])
            .ok();
        r.write("scratch.txt", "untracked\n");
        r.git(&["write-tree"]).ok();
        r.git(&["status", "--porcelain"]).ok();
    });
    assert_eq!(counter(&rt.counters, "fast_updates"), 1, "{}", rt.counters);
    assert_eq!(
        counter(&rt.counters, "fallback_updates"),
        0,
        "{}",
        rt.counters
    );
    assert_eq!(
        sigs(&rt.git_index),
        ["IEOT", "TREE", "REUC", "UNTR", "EOIE"].map(String::from)
    );
    assert_eq!(
        sigs(&rt.wt_index),
        ["TREE", "REUC", "UNTR"].map(String::from)
    );
    assert_bytes_eq(
        &normalised(&rt.wt_index, &[]),
        &normalised(&rt.git_index, &[b"EOIE", b"IEOT"]),
        "wt's index differs from git's",
    );
    assert_eq!(
        rt.repo.git(&["status", "--porcelain"]).ok(),
        " A new.txt\n?? scratch.txt\n"
    );
}

#[test]
fn a_split_index_is_left_to_git_and_ends_as_git_would_leave_it() {
    let rt = claim_round_trip(|r| {
        r.git(&["config", "core.splitIndex", "true"]).ok();
        r.git(&["update-index", "--split-index"]).ok();
    });
    // The byte-level path refused it, libgit2 cannot read it: `git update-index` did it.
    assert_eq!(counter(&rt.counters, "fast_updates"), 0, "{}", rt.counters);
    assert!(counter(&rt.counters, "git_cli") >= 1, "{}", rt.counters);
    assert!(sigs(&rt.wt_index).contains(&"link".to_string()));
    assert_bytes_eq(
        &normalised(&rt.wt_index, &[]),
        &normalised(&rt.git_index, &[]),
        "wt's index differs from git's",
    );
    // The byte-level updater itself leaves a split index alone.
    let r = &rt.repo;
    let path = rt.paths[0].as_str();
    let oid = Oid::from_str(r.git(&["rev-parse", &format!(":0:{path}")]).ok().trim()).unwrap();
    let before = index_bytes(r);
    assert_eq!(
        index::update_entries(&r.root.join(".git"), &r.root, &[(path, oid)], None),
        Update::Fallback("split index")
    );
    assert_eq!(index_bytes(r), before);
    assert!(!r.root.join(".git/index.lock").exists());
}
