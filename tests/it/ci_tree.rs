//! Which tree `wt ci` checks: the working tree as `git add -A && git write-tree` would make
//! it, without the top-level `.work/` (which is left out of the walk, not only of the result).

use crate::common::Repo;

/// `git add -A` into a throwaway index, then the root tree without its `.work` entry.
fn git_code_tree(r: &Repo) -> String {
    let index = r.home().join("probe-index");
    let _ = std::fs::remove_file(&index);
    let index = index.to_str().expect("utf8 path");
    let git = |args: &[&str]| {
        let mut cmd = std::process::Command::new("git");
        crate::common::hermetic(&mut cmd, &r.home());
        let out = cmd
            .current_dir(&r.root)
            .env("GIT_INDEX_FILE", index)
            .args(args)
            .output()
            .expect("git");
        assert!(out.status.success(), "git {args:?} failed");
        String::from_utf8(out.stdout).expect("utf8")
    };
    git(&["read-tree", "HEAD"]);
    git(&["add", "-A"]);
    let root = git(&["write-tree"]);
    let listing = git(&["ls-tree", root.trim()]);
    let kept: String = listing
        .lines()
        .filter(|l| !l.ends_with("\t.work"))
        .map(|l| format!("{l}\n"))
        .collect();
    let mut cmd = std::process::Command::new("git");
    crate::common::hermetic(&mut cmd, &r.home());
    let mut child = cmd
        .current_dir(&r.root)
        .args(["mktree"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("git mktree");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(kept.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("mktree");
    String::from_utf8(out.stdout)
        .expect("utf8")
        .trim()
        .to_string()
}

fn ci_tree(r: &Repo) -> String {
    let v = r.wt_json(&["ci", "-q"]);
    v["record"]["tree"].as_str().expect("tree id").to_string()
}

#[test]
fn ci_tree_is_git_add_all_without_top_level_work_dir() {
    let r = Repo::new();
    let config = r.read(".work/config.yaml");
    let start = config.find("\nci:").expect("config has a ci: section") + 1;
    let end = config[start..]
        .find("\n")
        .map(|n| start + n + 1)
        .unwrap_or(config.len());
    assert!(config[start..end].starts_with("ci: {}"), "{config}");
    r.write(
        ".work/config.yaml",
        &format!(
            "{}ci:\n  ok: \"true\"\n{}",
            &config[..start],
            &config[end..]
        ),
    );
    r.write("README.md", "# one\n");
    r.write("src/lib.rs", "// lib\n");
    r.write("gone.txt", "bye\n");
    r.git(&[
        "add",
        "README.md",
        "src/lib.rs",
        "gone.txt",
        ".work/config.yaml",
    ])
    .ok();
    r.git(&["commit", "-q", "-m", "code"]).ok();
    let clean = ci_tree(&r);
    assert_eq!(clean, git_code_tree(&r));
    // A stray file under .work/ does not change the code tree.
    r.write(".work/stray.md", "not code\n");
    assert_eq!(ci_tree(&r), clean, ".work/ leaked into the CI tree");
    // Modified, deleted, new at the top, new deep down, names like .work but not it, a
    // nested .work, and a name with glob characters all count, as `git add -A` sees them.
    r.write("README.md", "# two\n");
    std::fs::remove_file(r.root.join("gone.txt")).expect("rm");
    r.write("new.txt", "new\n");
    r.write("a/b/c.txt", "deep\n");
    r.write(".workfoo", "not the state dir\n");
    r.write("d/.work/x", "nested\n");
    r.write("[x]*", "glob\n");
    let changed = ci_tree(&r);
    assert_ne!(changed, clean);
    assert_eq!(changed, git_code_tree(&r));
}
