//! The throwaway repository `wt demo` works in: made from scratch on `main`, with the demo's
//! own git identity (the git side is [`crate::store::scratch`]); and the report of `wt demo`.

use std::path::Path;

use crate::error::{Error, Result};
use crate::store::history::History;
use crate::store::scratch::ScratchRepo;

/// The demo's git identity (its code commits and its repository's `user.*` config).
const NAME: &str = "demo user";
const EMAIL: &str = "demo@example.com";
/// The branch the demo repository starts on.
const BRANCH: &str = "main";

/// A demo repository.
pub struct DemoRepo {
    repo: ScratchRepo,
}

impl DemoRepo {
    /// `git init` at `root` on [`BRANCH`], with the demo identity in its config.
    pub fn create(root: &Path) -> Result<DemoRepo> {
        let repo = ScratchRepo::init(root, BRANCH)?;
        repo.set_config("user.name", NAME)?;
        repo.set_config("user.email", EMAIL)?;
        Ok(DemoRepo { repo })
    }

    /// Write `content` to `path` in the working tree and commit it (with whatever else is
    /// staged) on HEAD as the demo user.
    pub fn commit_file(&self, path: &str, content: &str, msg: &str) -> Result<()> {
        let root = self
            .repo
            .workdir()
            .ok_or_else(|| Error::internal("demo repository has no work tree"))?;
        std::fs::write(root.join(path), content)?;
        self.repo.commit_path(path, msg, NAME, EMAIL)
    }

    /// Write `content` to `path` in the working tree and commit only it on HEAD as the demo
    /// user (whatever else is staged stays staged).
    pub fn commit_only(&self, path: &str, content: &str, msg: &str) -> Result<()> {
        let root = self
            .repo
            .workdir()
            .ok_or_else(|| Error::internal("demo repository has no work tree"))?;
        let p = root.join(path);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d)?;
        }
        std::fs::write(p, content)?;
        self.repo.commit_only(path, msg, NAME, EMAIL)
    }

    /// Stage `path` as it is on disk.
    pub fn stage(&self, path: &str) -> Result<()> {
        self.repo.stage(path)
    }

    /// Whether `path` is staged.
    pub fn is_staged(&self, path: &str) -> Result<bool> {
        self.repo.is_staged(path)
    }

    /// Whether HEAD's tree has `path`.
    pub fn head_has(&self, path: &str) -> Result<bool> {
        self.repo.head_has(path)
    }

    /// The commits on `branch`, newest first (`git log` order).
    pub fn log(&self, branch: &str) -> Result<History<'_>> {
        self.repo.log(branch)
    }
}

/// `wt demo`: what the walk-through did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DemoReport {
    pub schema_version: super::report::SchemaVersion,
    /// The subjects of the demo repository's commits, newest first (`git log`).
    pub log: Vec<String>,
    /// Where the demo repository was kept (`--keep`); null when it was deleted.
    pub kept: Option<String>,
    /// What the text output prints, one step per line.
    pub transcript: String,
}
