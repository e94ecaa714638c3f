//! STAND-IN (replaced by the integration branch): ticket worktrees and a plain squash.

use std::path::{Path, PathBuf};

use git2::{MergeOptions, WorktreeAddOptions, WorktreePruneOptions};

use super::{Oid, Store};
use crate::error::{Error, Result};

/// A squash attempt's outcome.
pub enum Squashed {
    Commit(Oid),
    Nothing,
    Conflict(Vec<String>),
}

impl Store {
    pub fn add_ticket_worktree(&self, path: &Path, branch: &str, from: Oid) -> Result<()> {
        if path.join(".git").exists() {
            return Ok(());
        }
        let name = format!("refs/heads/{branch}");
        if self.repo.find_reference(&name).is_err() {
            let c = self.repo.find_commit(from)?;
            self.repo.branch(branch, &c, false)?;
        }
        let r = self.repo.find_reference(&name)?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let wtname = branch.replace('/', "-");
        let mut o = WorktreeAddOptions::new();
        o.reference(Some(&r));
        self.repo.worktree(&wtname, path, Some(&o))?;
        Ok(())
    }

    pub fn remove_ticket_worktree(
        &self,
        path: &Path,
        branch: &str,
        delete_branch: bool,
    ) -> Result<()> {
        let wtname = branch.replace('/', "-");
        let _ = std::fs::remove_dir_all(path);
        if let Ok(wt) = self.repo.find_worktree(&wtname) {
            let mut o = WorktreePruneOptions::new();
            o.valid(true).working_tree(true);
            let _ = wt.prune(Some(&mut o));
        }
        if delete_branch {
            if let Ok(mut b) = self.repo.find_branch(branch, git2::BranchType::Local) {
                let _ = b.delete();
            }
        }
        Ok(())
    }

    pub fn ticket_worktrees(&self, _prefix: &str) -> Result<Vec<(PathBuf, String, Option<Oid>)>> {
        Ok(Vec::new())
    }

    /// Squash `branch` onto `target` (ignoring `.work/` on the branch) and move `target` by CAS.
    pub fn squash_standin(&self, branch: &str, target: &str, message: &str) -> Result<Squashed> {
        let repo = &self.repo;
        let tip = repo.refname_to_id(&format!("refs/heads/{target}"))?;
        let theirs = repo.refname_to_id(&format!("refs/heads/{branch}"))?;
        let base = repo.merge_base(tip, theirs)?;
        let base_tree = repo.find_commit(base)?.tree()?;
        let their_tree = repo.find_commit(theirs)?.tree()?;
        let mut b = repo.treebuilder(Some(&their_tree))?;
        let _ = b.remove(".work");
        if let Some(e) = base_tree.get_name(".work") {
            b.insert(".work", e.id(), e.filemode())?;
        }
        let their_tree = repo.find_tree(b.write()?)?;
        let our_tree = repo.find_commit(tip)?.tree()?;
        let mut idx = repo.merge_trees(
            &base_tree,
            &our_tree,
            &their_tree,
            Some(&MergeOptions::new()),
        )?;
        if idx.has_conflicts() {
            let mut paths = Vec::new();
            for c in idx.conflicts()?.flatten() {
                if let Some(e) = c.our.or(c.their).or(c.ancestor) {
                    paths.push(String::from_utf8_lossy(&e.path).into_owned());
                }
            }
            return Ok(Squashed::Conflict(paths));
        }
        let tree = idx.write_tree_to(repo)?;
        if tree == our_tree.id() {
            return Ok(Squashed::Nothing);
        }
        let sig = repo
            .signature()
            .or_else(|_| git2::Signature::now("wt", "wt@localhost"))?;
        let parent = repo.find_commit(tip)?;
        let commit = repo.commit(
            None,
            &sig,
            &sig,
            message,
            &repo.find_tree(tree)?,
            &[&parent],
        )?;
        repo.reference_matching(
            &format!("refs/heads/{target}"),
            commit,
            true,
            tip,
            "wt run: squash",
        )
        .map_err(|e| Error::busy(format!("target moved: {e}")))?;
        Ok(Squashed::Commit(commit))
    }
}
