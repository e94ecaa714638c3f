//! wt's commits as git sees them: only `.work/`, never the user's staged code, one line per
//! changed field, the same answers from every checkout, and never over a user's edits.

use crate::common::*;
use crate::fixtures::*;

fn staged(r: &Repo) -> Vec<String> {
    r.git(&["diff", "--cached", "--name-only"])
        .ok()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn a_wt_commit_leaves_staged_code_staged_and_out_of_the_commit() {
    let r = Repo::new();
    r.write("src/app.rs", "fn main() {}\n");
    r.write("README.md", "# test\n\nchanged, staged\n");
    r.git(&["add", "src/app.rs", "README.md"]).ok();
    r.write(
        "README.md",
        "# test\n\nchanged, staged\n\nand more, unstaged\n",
    );
    let before = staged(&r);
    assert_eq!(before, vec!["README.md", "src/app.rs"]);
    let staged_blob = r.git(&["rev-parse", ":README.md"]).ok();

    let id = r.new_ticket(&["job", "J"]);
    r.wt(&["claim", &id, "--agent", "a"]).ok();
    r.wt(&["done", &id, "--agent", "a"]).ok();

    for rev in ["HEAD", "HEAD~1", "HEAD~2"] {
        let files = files_of(&r, rev);
        assert_eq!(files.len(), 1, "{rev}: {files:?}");
        assert!(files[0].starts_with(".work/"), "{rev}: {files:?}");
    }
    // The code is in none of the commits, and still staged exactly as before.
    let tree = r.git(&["ls-tree", "-r", "--name-only", "HEAD"]).ok();
    assert!(!tree.lines().any(|l| l == "src/app.rs"), "{tree}");
    assert_eq!(r.git(&["show", "HEAD:README.md"]).ok(), "# test\n");
    assert_eq!(staged(&r), before);
    assert_eq!(r.git(&["rev-parse", ":README.md"]).ok(), staged_blob);
    assert_eq!(
        r.read("README.md"),
        "# test\n\nchanged, staged\n\nand more, unstaged\n"
    );
    // The ticket file is clean in the index and the work tree.
    let status = r.git(&["status", "--porcelain"]).ok();
    assert_eq!(status, "MM README.md\nA  src/app.rs\n");
    // The user's own next commit contains exactly what they staged.
    r.git(&["commit", "-q", "-m", "user work"]).ok();
    let mut files = files_of(&r, "HEAD");
    files.sort();
    assert_eq!(files, vec!["README.md", "src/app.rs"]);
}

const HANDWRITTEN: &str = "---
# Written by hand; wt must keep this comment.
id:   J-h4ndm4d3
kind: job
title: \"Refactor: the 'parser' module\"   # quoted, with a colon
status:    open   # where it is
priority: 1
parent:
depends_on: []
labels:
  - backend
  -   \"needs review\"
files:
    - src/parser.rs
    - src/lexer.rs
artifacts: [ ]
claimed_by:
claimed_at: ~
created: '2025-12-24T10:00:00Z'
updated:   \"2025-12-24T10:00:00Z\"
---

Free text before any heading.   Two spaces.  
Trailing spaces above.

## Acceptance Criteria

* [x] the parser is split in two
*   [x] odd list marker spacing

## Notes
| a | b |
|---|---|
| 1 | 2 |
";

#[test]
fn claiming_a_hand_written_ticket_changes_only_the_claim_lines_byte_for_byte() {
    let r = Repo::new();
    let path = ".work/J-h4ndm4d3-refactor.md";
    git_commit_file(&r, path, HANDWRITTEN, "hand-written ticket");
    let v = r.wt_json(&["show", "J-h4ndm4d3"]);
    assert_eq!(v["title"], "Refactor: the 'parser' module");
    assert_eq!(v["labels"], serde_json::json!(["backend", "needs review"]));
    assert_eq!(v["ready"], true);

    r.wt(&["claim", "J-h4ndm4d3", "--agent", "agent-7"]).ok();
    assert_eq!(files_of(&r, "HEAD"), vec![path]);
    let after = r.git(&["show", &format!("HEAD:{path}")]).ok();
    assert_eq!(r.read(path), after, "checkout matches the commit");
    let before_lines: Vec<&str> = HANDWRITTEN.split_inclusive('\n').collect();
    // Leases: a ticket without lease fields gains `claim_expires:` and `claim_token:` right
    // after `claimed_at:` (tickets from the templates have them already); set them aside.
    let lease = |l: &&str| l.starts_with("claim_expires:") || l.starts_with("claim_token:");
    let after_all: Vec<&str> = after.split_inclusive('\n').collect();
    let at = after_all
        .iter()
        .position(|l| l.starts_with("claimed_at:"))
        .expect("claimed_at");
    assert!(
        lease(&after_all[at + 1]) && lease(&after_all[at + 2]),
        "{after}"
    );
    let after_lines: Vec<&str> = after_all.into_iter().filter(|l| !lease(l)).collect();
    assert_eq!(
        before_lines.len(),
        after_lines.len(),
        "line count changed:\n{after}"
    );
    let allowed = ["status:", "claimed_by:", "claimed_at:", "updated:"];
    let mut changed = Vec::new();
    for (b, a) in before_lines.iter().zip(&after_lines) {
        if b != a {
            assert!(
                allowed.iter().any(|k| b.starts_with(k) && a.starts_with(k)),
                "unexpected change:\n- {b}+ {a}"
            );
            changed.push(a.trim_end().to_string());
        }
    }
    // Which lines, and their values (the author's spacing after the colon is kept; the
    // quoting of a value is wt's choice).
    let norm = |s: &String| {
        let (k, v) = s.split_once(':').expect("key: value");
        format!("{k}: {}", v.trim().replace(['"', '\''], ""))
    };
    assert_eq!(
        changed.iter().map(norm).collect::<Vec<_>>(),
        vec![
            "status: in_progress   # where it is".to_string(),
            "claimed_by: agent-7".to_string(),
            format!("claimed_at: {NOW}"),
            format!("updated: {NOW}"),
        ]
    );
    // The same through git's eyes: the diff of HEAD~1..HEAD touches only those lines.
    let diff = r
        .git(&["diff", "--unified=0", "HEAD~1", "HEAD", "--", path])
        .ok();
    for l in diff.lines() {
        if (l.starts_with('+') || l.starts_with('-'))
            && !l.starts_with("+++")
            && !l.starts_with("---")
        {
            assert!(
                allowed.iter().any(|k| l[1..].starts_with(k)) || lease(&&l[1..]),
                "diff touches another line: {l}\n{diff}"
            );
        }
    }
    let v = r.wt_json(&["show", "J-h4ndm4d3"]);
    assert_eq!(v["claimed_by"], "agent-7");
    assert_eq!(v["status"], "in_progress");

    // Releasing restores every other byte as well.
    r.wt(&["release", "J-h4ndm4d3", "--agent", "agent-7"]).ok();
    let released = r.read(path);
    let rel_lines: Vec<&str> = released
        .split_inclusive('\n')
        .filter(|l| !lease(l))
        .collect();
    assert_eq!(rel_lines.len(), before_lines.len(), "{released}");
    for (b, a) in before_lines.iter().zip(&rel_lines) {
        if b != a {
            assert!(
                allowed.iter().any(|k| b.starts_with(k)),
                "release changed another line:\n- {b}+ {a}"
            );
        }
    }
}

#[test]
fn done_changes_only_status_claim_and_updated_lines() {
    let r = Repo::without_review();
    let path = ".work/J-h4ndm4d3-refactor.md";
    git_commit_file(&r, path, HANDWRITTEN, "hand-written ticket");
    r.wt(&["claim", "J-h4ndm4d3", "--agent", "a"]).ok();
    let claimed = r.read(path);
    r.wt(&["done", "J-h4ndm4d3", "--agent", "a"]).ok();
    let done = r.read(path);
    let (b, a): (Vec<&str>, Vec<&str>) = (
        claimed.split_inclusive('\n').collect(),
        done.split_inclusive('\n').collect(),
    );
    assert_eq!(b.len(), a.len(), "{done}");
    for (x, y) in b.iter().zip(&a) {
        if x != y {
            assert!(
                [
                    "status:",
                    "claimed_by:",
                    "claimed_at:",
                    "claim_expires:",
                    "claim_token:",
                    "updated:"
                ]
                .iter()
                .any(|k| x.starts_with(k)),
                "done changed another line:\n- {x}+ {y}"
            );
        }
    }
    assert!(
        done.contains("\nstatus:    done   # where it is\n"),
        "{done}"
    );
    assert_eq!(r.wt_json(&["show", "J-h4ndm4d3"])["status"], "done");
}

/// The answers wt gives from `dir`: ready, list, and show of `id`.
fn answers(r: &Repo, dir: &std::path::Path, id: &str) -> (String, String, String, String) {
    let ready = r.wt_in(dir, &["--json", "ready", "--kind", "any"]);
    let list = r.wt_in(dir, &["--json", "list"]);
    let show = r.wt_in(dir, &["show", id]);
    let show_json = r.wt_in(dir, &["--json", "show", id]);
    (ready.ok(), list.ok(), show.ok(), show_json.ok())
}

#[test]
fn every_checkout_gets_the_same_answers_and_writes_reach_the_state_branch_checkout() {
    let r = Repo::without_review();
    let p = r.new_ticket(&["phase-spec", "P"]);
    let a = r.new_ticket(&["job", "A", "--parent", &p]);
    let b = r.new_ticket(&["job", "B", "--parent", &p, "--dep", &a]);
    git_commit_file(
        &r,
        "src/deep/nested/file.txt",
        "x\n",
        "code in a subdirectory",
    );
    let expected = answers(&r, &r.root, &b);
    assert!(expected.0.contains(&a) && !expected.0.contains(&b));

    // A subdirectory.
    let sub = r.root.join("src/deep/nested");
    assert_eq!(answers(&r, &sub, &b), expected, "from a subdirectory");

    // A second worktree on another branch that has an old copy of .work/.
    r.git(&["branch", "other", "HEAD~2"]).ok();
    let second = r.home().join("second");
    r.git(&[
        "worktree",
        "add",
        "-q",
        second.to_str().expect("utf8"),
        "other",
    ])
    .ok();
    assert!(!second.join(r.ticket_path(&b)).exists());
    assert_eq!(answers(&r, &second, &b), expected, "from a second worktree");

    // A write from the second worktree lands on main and in the main checkout.
    let head_other = r.git_in(&second, &["rev-parse", "HEAD"]).ok();
    r.wt_in(&second, &["claim", &a, "--agent", "from-second"])
        .ok();
    assert!(r.subjects("main")[0].starts_with(&format!("wt: claim {a}")));
    assert_eq!(r.git_in(&second, &["rev-parse", "HEAD"]).ok(), head_other);
    assert_eq!(r.git(&["status", "--porcelain"]).ok(), "");
    assert!(r
        .read(&r.ticket_path(&a))
        .contains("claimed_by: from-second\n"));
    assert_eq!(r.git_in(&second, &["status", "--porcelain"]).ok(), "");
    let after_claim = answers(&r, &r.root, &b);
    assert_ne!(after_claim, expected);
    assert_eq!(answers(&r, &second, &b), after_claim);
    assert_eq!(answers(&r, &sub, &b), after_claim);

    // A checkout of a feature branch in the main worktree.
    r.git(&["switch", "-q", "-c", "feature"]).ok();
    r.write("feature.txt", "feature work\n");
    r.git(&["add", "feature.txt"]).ok();
    r.git(&["commit", "-q", "-m", "feature work"]).ok();
    assert_eq!(
        answers(&r, &r.root, &b),
        after_claim,
        "from a feature branch"
    );
    // Writes from the feature branch go to main and leave the feature checkout alone.
    let feature_head = r.git(&["rev-parse", "HEAD"]).ok();
    r.wt(&["done", &a, "--agent", "from-second"]).ok();
    assert_eq!(r.git(&["rev-parse", "HEAD"]).ok(), feature_head);
    assert!(r.subjects("main")[0].starts_with(&format!("wt: done {a}")));
    assert_eq!(r.git(&["status", "--porcelain"]).ok(), "");
    assert_eq!(r.git_in(&second, &["status", "--porcelain"]).ok(), "");
    let ready_now = ids(&r.wt_json(&["ready"]));
    assert_eq!(ready_now, vec![b.clone()]);
    assert_eq!(
        ids(&serde_json::from_str(&r.wt_in(&second, &["--json", "ready"]).ok()).expect("json")),
        vec![b]
    );
}

#[test]
fn a_ticket_with_uncommitted_edits_in_the_state_checkout_is_never_overwritten() {
    let r = Repo::new();
    let j = r.new_ticket(&["job", "J"]);
    let other = r.new_ticket(&["job", "Other"]);
    let path = r.ticket_path(&j);
    let edited = r.read(&path) + "\nMy unsaved thoughts.\n";
    r.write(&path, &edited);
    let head = rev(&r, "HEAD");
    let run = r.wt(&["claim", &j, "--agent", "a"]);
    run.fails_with(5);
    assert!(run.stderr().contains(&path), "{}", run.stderr());
    assert!(run.stderr().contains("hint:"), "{}", run.stderr());
    assert_eq!(rev(&r, "HEAD"), head, "nothing committed");
    assert_eq!(r.read(&path), edited, "the edit survives");
    // Other tickets are still writable.
    r.wt(&["claim", &other, "--agent", "a"]).ok();
    // From a second worktree too.
    r.git(&["branch", "side"]).ok();
    let second = r.home().join("side");
    r.git(&[
        "worktree",
        "add",
        "-q",
        second.to_str().expect("utf8"),
        "side",
    ])
    .ok();
    let head = rev(&r, "HEAD");
    r.wt_in(&second, &["claim", &j, "--agent", "b"])
        .fails_with(5);
    assert_eq!(rev(&r, "HEAD"), head);
    assert_eq!(r.read(&path), edited);
    // A staged edit is protected the same way.
    r.git(&["add", &path]).ok();
    r.wt(&["claim", &j, "--agent", "a"]).fails_with(5);
    assert_eq!(r.read(&path), edited);
    assert_eq!(staged(&r), vec![path.clone()]);
    // Once committed, wt proceeds and keeps the edit.
    r.git(&["commit", "-q", "-m", "note"]).ok();
    r.wt(&["claim", &j, "--agent", "a"]).ok();
    assert!(r.read(&path).contains("My unsaved thoughts."));
    assert_eq!(r.git(&["status", "--porcelain"]).ok(), "");
}

/// `git ls-tree <rev> -- <path>`: "<mode> <type> <id>\t<path>" or "".
fn tree_entry(r: &Repo, rev: &str, path: &str) -> String {
    r.git(&["ls-tree", rev, "--", path]).ok().trim().to_string()
}

#[test]
fn new_refuses_to_drop_a_committed_file_or_gitlink_where_the_child_folder_goes() {
    // A gitlink (a submodule entry) committed where the phase's child folder must go, on
    // the state branch checked out here.
    let r = Repo::new();
    let p = r.new_ticket(&["phase-spec", "Phase one"]);
    let folder = r.ticket_path(&p).trim_end_matches(".md").to_string();
    let head = rev(&r, "HEAD");
    r.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{head},{folder}"),
    ])
    .ok();
    r.git(&["commit", "-q", "-m", "a submodule where the folder goes"])
        .ok();
    let before = rev(&r, "HEAD");
    let run = r.wt(&["new", "job", "Child", "--parent", &p]);
    run.fails_with(5);
    assert!(run.stderr().contains(&folder), "{}", run.stderr());
    assert_eq!(rev(&r, "HEAD"), before, "nothing committed");
    assert!(tree_entry(&r, "HEAD", &folder).starts_with("160000 commit"));

    // A plain file there, on a state branch no worktree has checked out.
    let r = Repo::bare_git();
    r.wt(&["init", "--no-hook", "--branch", "tickets"]).ok();
    let p = r.new_ticket(&["phase-spec", "Phase one"]);
    let folder = r.ticket_path(&p).trim_end_matches(".md").to_string();
    let side = r.home().join("tickets-checkout");
    let side_s = side.to_str().expect("utf8");
    r.git(&["worktree", "add", "-q", side_s, "tickets"]).ok();
    std::fs::write(side.join(&folder), "my notes, not a folder\n").unwrap();
    r.git_in(&side, &["add", &folder]).ok();
    r.git_in(&side, &["commit", "-q", "-m", "notes"]).ok();
    // From the checkout that has the file: refused, naming it.
    let run = r.wt_in(&side, &["new", "job", "Child", "--parent", &p]);
    run.fails_with(5);
    assert!(run.stderr().contains(&folder), "{}", run.stderr());
    r.git(&["worktree", "remove", "--force", side_s]).ok();
    // With no checkout in the way, the commit itself is refused.
    let before = rev(&r, "tickets");
    let run = r.wt(&["new", "job", "Child", "--parent", &p]);
    run.fails_with(5);
    assert!(run.stderr().contains(&folder), "{}", run.stderr());
    assert_eq!(rev(&r, "tickets"), before, "nothing committed");
    assert!(tree_entry(&r, "tickets", &folder).starts_with("100644 blob"));
}

#[cfg(unix)]
fn chmod(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(unix)]
fn is_executable(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o111 != 0
}

#[cfg(unix)]
#[test]
fn a_mode_change_to_a_ticket_file_is_refused_like_an_edit_and_a_committed_one_is_kept() {
    let r = Repo::new();
    let id = r.new_ticket(&["job", "Modes"]);
    let path = r.ticket_path(&id);
    let file = r.root.join(&path);
    // Unstaged `chmod +x`: refused like an uncommitted edit, nothing changes.
    chmod(&file, 0o755);
    let head = rev(&r, "HEAD");
    let run = r.wt(&["claim", &id, "--agent", "a"]);
    run.fails_with(5);
    assert!(
        run.stderr().contains(&path) && run.stderr().contains("mode"),
        "{}",
        run.stderr()
    );
    assert_eq!(rev(&r, "HEAD"), head);
    assert!(is_executable(&file));
    // Staged: refused too, and still staged.
    r.git(&["add", &path]).ok();
    r.wt(&["claim", &id, "--agent", "a"]).fails_with(5);
    assert_eq!(rev(&r, "HEAD"), head);
    assert!(r
        .git(&["diff", "--cached", "--summary"])
        .ok()
        .contains("mode change 100644 => 100755"));
    // Committed: wt's next write keeps the file executable, in the commit and on disk.
    r.git(&["commit", "-q", "-m", "executable ticket"]).ok();
    r.wt(&["claim", &id, "--agent", "a"]).ok();
    assert!(
        tree_entry(&r, "HEAD", &path).starts_with("100755 blob"),
        "{}",
        tree_entry(&r, "HEAD", &path)
    );
    assert!(is_executable(&file));
    assert_eq!(r.git(&["status", "--porcelain"]).ok(), "");
}

#[test]
fn assume_unchanged_and_skip_worktree_bits_survive_a_write_to_the_ticket() {
    // Both ways wt refreshes an index entry: in place, and through libgit2.
    for fast in ["1", "0"] {
        let r = Repo::new();
        let a = r.new_ticket(&["job", "Assumed"]);
        let b = r.new_ticket(&["job", "Skipped"]);
        let (pa, pb) = (r.ticket_path(&a), r.ticket_path(&b));
        r.git(&["update-index", "--assume-unchanged", &pa]).ok();
        r.git(&["update-index", "--skip-worktree", &pb]).ok();
        let env = [("WT_FAST_INDEX", fast)];
        r.wt_env(&r.root, &["claim", &a, "--agent", "x"], &env).ok();
        r.wt_env(&r.root, &["claim", &b, "--agent", "x"], &env).ok();
        let tag = |p: &str| r.git(&["ls-files", "-v", "--", p]).ok();
        assert_eq!(
            (tag(&pa), tag(&pb)),
            (format!("h {pa}\n"), format!("S {pb}\n")),
            "WT_FAST_INDEX={fast}: the bits were cleared"
        );
        // The entries hold the claimed versions.
        for (id, p) in [(&a, &pa), (&b, &pb)] {
            let staged = r.git(&["show", &format!(":{p}")]).ok();
            assert!(staged.contains("claimed_by: x"), "{id}: {staged}");
            assert_eq!(r.read(p), staged);
        }
        assert_eq!(r.git(&["status", "--porcelain"]).ok(), "");
    }
}
