//! A clean checkout of one commit in a temporary directory: a detached linked worktree
//! (`git worktree add --detach`), so the commands run there see a real git checkout. It is
//! removed (`git worktree remove --force`, then the directory) when dropped; one left by a
//! killed process is a directory in the system's temp folder, which `git worktree prune`
//! forgets once it is gone.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{Oid, Store};
use crate::error::{Error, Result};

/// A temporary checkout of one commit; removed when dropped.
pub struct TempCheckout {
    git_dir: PathBuf,
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl TempCheckout {
    /// The checkout's root.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn git(git_dir: &Path, args: &[&std::ffi::OsStr]) -> Result<std::process::Output> {
    Command::new("git")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .arg("--git-dir")
        .arg(git_dir)
        // No hook of the repository runs for wt's own checkout.
        .args(["-c", "core.hooksPath=/dev/null"])
        .args(args)
        .output()
        .map_err(|e| {
            Error::setup(format!("cannot run git: {e}"))
                .with_hint("checking a commit's code needs the git command on PATH")
        })
}

impl Store {
    /// Check `commit` out into a new temporary directory.
    pub fn temp_checkout(&self, commit: Oid) -> Result<TempCheckout> {
        let dir = tempfile::Builder::new().prefix("wt-check-").tempdir()?;
        let path = dir.path().join("checkout");
        let git_dir = self.common_dir().to_path_buf();
        let sha = commit.to_string();
        let out = git(
            &git_dir,
            &[
                "worktree".as_ref(),
                "add".as_ref(),
                "--detach".as_ref(),
                "--quiet".as_ref(),
                path.as_os_str(),
                sha.as_ref(),
            ],
        )?;
        if !out.status.success() {
            return Err(Error::internal(format!(
                "could not check {sha} out into {}: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(TempCheckout {
            git_dir,
            path,
            _dir: dir,
        })
    }
}

impl Drop for TempCheckout {
    fn drop(&mut self) {
        let _ = git(
            &self.git_dir,
            &[
                "worktree".as_ref(),
                "remove".as_ref(),
                "--force".as_ref(),
                self.path.as_os_str(),
            ],
        );
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
