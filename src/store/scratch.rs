//! A fresh repository made from scratch (for `wt demo`): init, commit and stage files, read
//! its log. It is opened directly, without [`super::Store::discover`]'s environment handling.

use std::path::Path;

use git2::{Repository, RepositoryInitOptions, Signature};

use super::history::{history_of_ref, History, Order};
use crate::error::Result;

/// A repository created by [`ScratchRepo::init`].
pub struct ScratchRepo {
    repo: Repository,
}

impl ScratchRepo {
    /// `git init` at `root`, with HEAD on the unborn branch `initial_branch`.
    pub fn init(root: &Path, initial_branch: &str) -> Result<ScratchRepo> {
        let mut opts = RepositoryInitOptions::new();
        opts.initial_head(initial_branch);
        let repo = Repository::init_opts(root, &opts)?;
        Ok(ScratchRepo { repo })
    }

    /// Open the repository (or linked worktree) at `root` itself, without discovery.
    pub fn open(root: &Path) -> Result<ScratchRepo> {
        Ok(ScratchRepo {
            repo: Repository::open(root)?,
        })
    }

    /// Remove `path` from the working tree and the index, and commit the index on HEAD
    /// (`git rm path && git commit`).
    pub fn commit_removal(&self, path: &str, message: &str, name: &str, email: &str) -> Result<()> {
        let repo = &self.repo;
        if let Some(root) = repo.workdir() {
            let _ = std::fs::remove_file(root.join(path));
        }
        let mut index = repo.index()?;
        index.read(true)?;
        index.remove_path(Path::new(path))?;
        index.write()?;
        let tree = repo.find_tree(index.write_tree()?)?;
        let sig = Signature::now(name, email)?;
        let head = repo.head()?.peel_to_commit()?;
        repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &[&head])?;
        Ok(())
    }

    /// The working tree (None when bare).
    pub fn workdir(&self) -> Option<&Path> {
        self.repo.workdir()
    }

    /// Set `key` to `value` in the repository's git config.
    pub fn set_config(&self, key: &str, value: &str) -> Result<()> {
        self.repo.config()?.set_str(key, value)?;
        Ok(())
    }

    /// Stage `path` (relative to the working tree) as it is on disk, and commit the whole
    /// index on HEAD (its first commit when HEAD is unborn) as `name <email>`, now.
    pub fn commit_path(&self, path: &str, message: &str, name: &str, email: &str) -> Result<()> {
        let repo = &self.repo;
        let mut index = repo.index()?;
        // wt's own commits rewrite the index file: start from what is on disk.
        index.read(true)?;
        index.add_path(Path::new(path))?;
        index.write()?;
        let tree = repo.find_tree(index.write_tree()?)?;
        let sig = Signature::now(name, email)?;
        let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)?;
        Ok(())
    }

    /// Commit `path` as it is on disk, and nothing else, on HEAD (which must have a commit),
    /// as `name <email>`, now (`git commit -- path`): whatever else is staged stays staged.
    pub fn commit_only(&self, path: &str, message: &str, name: &str, email: &str) -> Result<()> {
        let repo = &self.repo;
        let root = repo
            .workdir()
            .ok_or_else(|| crate::error::Error::internal("no working tree"))?;
        let head = repo.head()?.peel_to_commit()?;
        let blob = repo.blob_path(&root.join(path))?;
        let mut update = git2::build::TreeUpdateBuilder::new();
        update.upsert(path, blob, git2::FileMode::Blob);
        let tree = repo.find_tree(update.create_updated(repo, &head.tree()?)?)?;
        let sig = Signature::now(name, email)?;
        repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &[&head])?;
        // The index agrees with the new HEAD for this path.
        self.stage(path)
    }

    /// Stage `path` as it is on disk (`git add`), re-reading the index from disk first.
    pub fn stage(&self, path: &str) -> Result<()> {
        let mut index = self.repo.index()?;
        index.read(true)?;
        index.add_path(Path::new(path))?;
        index.write()?;
        Ok(())
    }

    /// Whether the index (re-read from disk) has `path` staged.
    pub fn is_staged(&self, path: &str) -> Result<bool> {
        let mut index = self.repo.index()?;
        index.read(true)?;
        Ok(index.get_path(Path::new(path), 0).is_some())
    }

    /// Whether HEAD's tree has `path`.
    pub fn head_has(&self, path: &str) -> Result<bool> {
        Ok(self
            .repo
            .head()?
            .peel_to_tree()?
            .get_path(Path::new(path))
            .is_ok())
    }

    /// The commits reachable from `refs/heads/<branch>`, in libgit2's default order.
    pub fn log(&self, branch: &str) -> Result<History<'_>> {
        history_of_ref(&self.repo, &format!("refs/heads/{branch}"), Order::Unsorted)
    }
}
