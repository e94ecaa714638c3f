//! The git side of `wt run`'s merge queue: three-way merges of trees, commits that move no
//! ref, and bringing a checkout of the target branch along when the branch moves (what
//! `git merge` would leave in it: index and files of the changed paths, nothing else).

use std::process::Command;
use std::time::{Duration, Instant};

use git2::{MergeOptions, ObjectType};

use super::{signature, Checkout, Oid, Store};
use crate::error::{Error, Result};

/// What a three-way merge of trees came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeMerge {
    /// The merged root tree, written to the object database.
    Clean(Oid),
    /// The paths both sides changed in ways that do not merge, sorted.
    Conflict(Vec<String>),
}

/// Why a path of a checkout stops the checkout from being brought along.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InTheWay {
    pub path: String,
    /// "has staged changes", "has uncommitted changes", "is untracked and in the way",
    /// "is unmerged".
    pub why: &'static str,
}

impl Store {
    /// Merge `theirs` into `ours` (root trees) against `base` (None: the empty tree), as
    /// `git merge` would (libgit2's `merge_trees`, renames found). Nothing is checked out.
    pub fn merge_trees(&self, base: Option<Oid>, ours: Oid, theirs: Oid) -> Result<TreeMerge> {
        let repo = &self.repo;
        let empty;
        let base_tree = match base {
            Some(b) => repo.find_tree(b)?,
            None => {
                empty = repo.treebuilder(None)?.write()?;
                repo.find_tree(empty)?
            }
        };
        let (ours_t, theirs_t) = (repo.find_tree(ours)?, repo.find_tree(theirs)?);
        let mut opts = MergeOptions::new();
        opts.find_renames(true);
        let mut index = repo.merge_trees(&base_tree, &ours_t, &theirs_t, Some(&opts))?;
        if index.has_conflicts() {
            let mut paths = std::collections::BTreeSet::new();
            for c in index.conflicts()? {
                let c = c?;
                for e in [c.ancestor, c.our, c.their].into_iter().flatten() {
                    paths.insert(String::from_utf8_lossy(&e.path).into_owned());
                }
            }
            return Ok(TreeMerge::Conflict(paths.into_iter().collect()));
        }
        Ok(TreeMerge::Clean(index.write_tree_to(repo)?))
    }

    /// The root tree `root` with its top-level entry `name` as it is in the root tree
    /// `from` (removed when `from` is None or has no such entry).
    pub fn tree_with_entry_of(&self, root: Oid, name: &str, from: Option<Oid>) -> Result<Oid> {
        let repo = &self.repo;
        let tree = repo.find_tree(root)?;
        let source = match from {
            Some(f) => repo
                .find_tree(f)?
                .get_name(name)
                .map(|e| (e.id(), e.filemode())),
            None => None,
        };
        let current = tree.get_name(name).map(|e| (e.id(), e.filemode()));
        if source == current {
            return Ok(root);
        }
        let mut b = repo.treebuilder(Some(&tree))?;
        match source {
            Some((id, mode)) => {
                b.insert(name, id, mode)?;
            }
            None => {
                b.remove(name)?;
            }
        }
        Ok(b.write()?)
    }

    /// Write a commit of the root tree `tree` with `parents` and `message` (author and
    /// committer as for every wt commit); no ref moves. Returns its id.
    pub fn make_commit(&self, tree: Oid, parents: &[Oid], message: &str) -> Result<Oid> {
        let repo = &self.repo;
        let tree = repo.find_tree(tree)?;
        let author = signature("AUTHOR", repo)?;
        let committer = signature("COMMITTER", repo)?;
        let parents = parents
            .iter()
            .map(|p| repo.find_commit(*p))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
        Ok(repo.commit(None, &author, &committer, message, &tree, &refs)?)
    }

    /// Every path that differs between the root trees `a` and `b` (files, links and
    /// submodules; both names of a change), sorted. Names that are not UTF-8 come out lossily.
    pub fn tree_diff_paths(&self, a: Oid, b: Oid) -> Result<Vec<String>> {
        let repo = &self.repo;
        let (ta, tb) = (repo.find_tree(a)?, repo.find_tree(b)?);
        let diff = repo.diff_tree_to_tree(Some(&ta), Some(&tb), None)?;
        let mut out = std::collections::BTreeSet::new();
        for d in diff.deltas() {
            for f in [d.old_file(), d.new_file()] {
                if let Some(p) = f.path() {
                    out.insert(p.to_string_lossy().into_owned());
                }
            }
        }
        Ok(out.into_iter().collect())
    }

    /// Is `id` a commit in this repository?
    pub fn is_commit(&self, id: Oid) -> bool {
        self.repo.find_object(id, Some(ObjectType::Commit)).is_ok()
    }

    /// What in `checkout` would keep `git read-tree -m -u` from bringing `paths` (the paths
    /// a move of its branch changes) to the new commit: staged or uncommitted changes to
    /// them, untracked files where they go (or under them, or in place of a folder on
    /// their way), and unmerged entries anywhere (git refuses those outright). Asked of
    /// `git status` itself, so it is exactly what the user would see.
    pub fn checkout_in_the_way(
        &self,
        checkout: &Checkout,
        paths: &[String],
    ) -> Result<Vec<InTheWay>> {
        let entries = super::worktree::status_entries(checkout.path())?;
        let mut out = Vec::new();
        for (code, path) in entries {
            // An untracked nested repository is listed as its folder, with a slash.
            let path = path.trim_end_matches('/').to_string();
            let unmerged = matches!(
                code.as_str(),
                "DD" | "AU" | "UD" | "UA" | "DU" | "AA" | "UU"
            );
            let touches = paths.iter().any(|p| {
                *p == path
                    || path
                        .strip_prefix(p.as_str())
                        .is_some_and(|rest| rest.starts_with('/'))
                    || p.strip_prefix(path.as_str())
                        .is_some_and(|rest| rest.starts_with('/'))
            });
            if !(unmerged || touches) {
                continue;
            }
            let bytes = code.as_bytes();
            let why = if unmerged {
                "is unmerged"
            } else if code == "??" {
                "is untracked and in the way"
            } else if bytes.first().is_some_and(|c| *c != b' ') {
                "has staged changes"
            } else {
                "has uncommitted changes"
            };
            out.push(InTheWay { path, why });
        }
        Ok(out)
    }

    /// Bring `checkout`, whose branch just moved from commit `old` to `new`, along: the index
    /// entries and files of the paths that differ between the two become `new`'s, as `git
    /// read-tree -m -u old new` (the two-tree merge `git checkout` does) makes them;
    /// everything else, local edits included, stays. git refuses (and changes nothing) when
    /// a local change is in the way. Returns a warning when the index stayed locked.
    pub fn advance_checkout(
        &self,
        checkout: &Checkout,
        old: Oid,
        new: Oid,
    ) -> Result<Option<String>> {
        let git_dir = checkout.repo.path().to_path_buf();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let mut cmd = Command::new("git");
            cmd.current_dir(checkout.path())
                .arg(format!("--git-dir={}", git_dir.display()))
                .arg(format!("--work-tree={}", checkout.path().display()))
                .args(["-c", "core.hooksPath=/dev/null"])
                .args([
                    "read-tree",
                    "-m",
                    "-u",
                    "--exclude-per-directory=.gitignore",
                ])
                .arg(old.to_string())
                .arg(new.to_string());
            for var in [
                "GIT_DIR",
                "GIT_WORK_TREE",
                "GIT_INDEX_FILE",
                "GIT_COMMON_DIR",
            ] {
                cmd.env_remove(var);
            }
            let out = cmd.output().map_err(|e| {
                Error::setup(format!("cannot run git: {e}"))
                    .with_hint("the merge queue needs the git command on PATH")
            })?;
            if out.status.success() {
                return Ok(None);
            }
            let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
            let locked = err.contains("index.lock");
            if locked
                && Instant::now() < deadline
                && !crate::store::recovery::index_lock_is_old(&git_dir)
            {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
            let redo = format!(
                "git -C {} read-tree -m -u {old} {new}",
                checkout.path().display()
            );
            if locked {
                return Ok(Some(format!(
                    "the index of {} stayed locked: its files and index still show the code before {}; once no git command runs there: {redo}",
                    checkout.path().display(),
                    &new.to_string()[..12]
                )));
            }
            return Err(Error::internal(format!(
                "the branch moved to {new}, but git could not bring {} along: {err}",
                checkout.path().display()
            ))
            .with_hint(format!("save your local edits there, then run: {redo}")));
        }
    }
}
