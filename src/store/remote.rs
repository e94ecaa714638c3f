//! Fetch and push of one branch through the `git` command, for `wt sync`.
//!
//! The `git` command speaks every transport with the user's ssh and credential setup, and its
//! receive-pack updates the remote ref under a lock with the old value checked. libgit2 1.9's
//! local transport does not: it overwrites the remote ref without checking
//! (`local_push_update_remote_ref` in `transports/local.c` calls
//! `git_reference_create(..., force)`), so two clones pushing to one bare repository through
//! it could both "win". So only fetch and push run `git`; every local read, merge, commit and
//! ref update stays in libgit2.
//!
//! These functions report what git did as typed outcomes; what to tell the user about each is
//! the caller's.

use std::path::PathBuf;
use std::process::{Command, Output};

use git2::ErrorCode;

use super::{Oid, Store};
use crate::error::Error;

/// Why a remote operation could not say what happened.
#[derive(Debug)]
pub enum RemoteError {
    /// The `git` command could not be started (not installed, not on PATH).
    NoGit(std::io::Error),
    /// Reading the repository failed.
    Store(Error),
}

impl From<git2::Error> for RemoteError {
    fn from(e: git2::Error) -> Self {
        RemoteError::Store(e.into())
    }
}

/// What fetching a remote's branch came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// The remote's branch is at this commit (now also its remote-tracking ref).
    Tip(Oid),
    /// The remote has no such branch.
    NoBranch,
    /// git fetch failed; what it printed on stderr.
    Failed(String),
}

/// What pushing to a remote's branch came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushed {
    Accepted,
    /// A lost race: the remote moved since our fetch (the lease did not hold, or the push
    /// was not a fast-forward), or another push held its ref lock. The `!` line of
    /// `git push --porcelain`.
    Stale(String),
    /// The remote refused for another reason (a hook, a permission). The `!` line of
    /// `git push --porcelain`.
    Refused(String),
    /// git push failed without a verdict on the ref (e.g. unreachable); its stderr.
    Failed(String),
}

/// The `git` command, run against one repository's git directory.
struct Git {
    git_dir: PathBuf,
}

impl Git {
    fn run(&self, args: &[&str]) -> Result<Output, RemoteError> {
        Command::new("git")
            .arg("--git-dir")
            .arg(&self.git_dir)
            .env("GIT_TERMINAL_PROMPT", "0")
            .args(args)
            .output()
            .map_err(RemoteError::NoGit)
    }
}

impl Store {
    fn git(&self) -> Git {
        Git {
            git_dir: self.repo.path().to_path_buf(),
        }
    }

    /// Is `remote` a configured git remote (`git remote get-url` knows it)?
    pub fn has_remote(&self, remote: &str) -> Result<bool, RemoteError> {
        let out = self.git().run(&["remote", "get-url", remote])?;
        Ok(out.status.success())
    }

    /// Fetch `remote`'s `refs/heads/<branch>` into `refs/remotes/<remote>/<branch>` (forced,
    /// no tags, no FETCH_HEAD), and say where it is.
    pub fn fetch_branch(&self, remote: &str, branch: &str) -> Result<Fetched, RemoteError> {
        let tracking = format!("refs/remotes/{remote}/{branch}");
        let spec = format!("+refs/heads/{branch}:{tracking}");
        let out = self.git().run(&[
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-write-fetch-head",
            remote,
            &spec,
        ])?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            if err.contains("couldn't find remote ref") {
                return Ok(Fetched::NoBranch);
            }
            return Ok(Fetched::Failed(err.into_owned()));
        }
        match self.repo.refname_to_id(&tracking) {
            Ok(o) => Ok(Fetched::Tip(o)),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(Fetched::NoBranch),
            Err(e) => Err(e.into()),
        }
    }

    /// Push commit `new` to `remote`'s `refs/heads/<branch>`, only if that still is
    /// `expected` (`--force-with-lease`; None: only if it does not exist). Hooks are not run.
    pub fn push_branch(
        &self,
        remote: &str,
        branch: &str,
        new: Oid,
        expected: Option<Oid>,
    ) -> Result<Pushed, RemoteError> {
        let lease = format!(
            "--force-with-lease=refs/heads/{branch}:{}",
            expected.map(|o| o.to_string()).unwrap_or_default()
        );
        let spec = format!("{new}:refs/heads/{branch}");
        let out = self
            .git()
            .run(&["push", "--porcelain", "--no-verify", &lease, remote, &spec])?;
        if out.status.success() {
            return Ok(Pushed::Accepted);
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        let rejected = stdout.lines().find(|l| l.starts_with('!'));
        // Lost races: the remote moved since our fetch, or another push held its ref lock.
        let transient = |l: &str| {
            !l.contains("[remote rejected]")
                || [
                    "failed to update ref",
                    "failed to lock",
                    "cannot lock ref",
                    "incorrect old value",
                ]
                .iter()
                .any(|m| l.contains(m))
        };
        Ok(match rejected {
            Some(l) if transient(l) => Pushed::Stale(l.to_string()),
            Some(l) => Pushed::Refused(l.to_string()),
            None => Pushed::Failed(String::from_utf8_lossy(&out.stderr).into_owned()),
        })
    }
}
