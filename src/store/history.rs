//! Reading commit history: walks from a tip, single commits as plain [`CommitInfo`] values,
//! merge bases and ref-like names resolved to commits. Nothing here writes.

use git2::{ErrorCode, Repository, Revwalk, Sort};

use super::{Oid, Store};
use crate::error::Result;

/// One commit, read out of the repository: plain values, no handle on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    pub id: Oid,
    /// The commit's root tree.
    pub tree: Oid,
    /// The first paragraph of the message on one line ("" when it is not UTF-8).
    pub summary: String,
    /// The whole message ("" when it is not UTF-8).
    pub message: String,
    /// The author's name ("" when it is not UTF-8).
    pub author: String,
    /// Commit time, in seconds since the Unix epoch.
    pub time: i64,
    /// Parent ids, first parent first.
    pub parents: Vec<Oid>,
}

impl CommitInfo {
    fn of(c: &git2::Commit<'_>) -> CommitInfo {
        CommitInfo {
            id: c.id(),
            tree: c.tree_id(),
            summary: c.summary().ok().flatten().unwrap_or("").to_string(),
            message: c.message().unwrap_or("").to_string(),
            author: c.author().name().unwrap_or("").to_string(),
            time: c.time().seconds(),
            parents: c.parent_ids().collect(),
        }
    }
}

/// The order a [`History`] walk yields commits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// libgit2's default order (no sorting asked for): reverse chronological as commits are
    /// discovered, like `git rev-list` without options.
    Unsorted,
    /// Parents never before their children, otherwise newest commit time first
    /// (`git log --topo-order`).
    TopoTime,
}

/// Where a walk starts.
enum Start<'a> {
    Commit(Oid),
    Ref(&'a str),
}

/// A lazy walk over commits; each item is read when the iterator gets to it, so a caller
/// that stops early (`take`, `break`) reads no further.
pub struct History<'r> {
    repo: &'r Repository,
    walk: Revwalk<'r>,
}

impl Iterator for History<'_> {
    type Item = Result<CommitInfo>;

    fn next(&mut self) -> Option<Result<CommitInfo>> {
        let oid = self.walk.next()?;
        Some(
            oid.and_then(|oid| self.repo.find_commit(oid))
                .map(|c| CommitInfo::of(&c))
                .map_err(Into::into),
        )
    }
}

/// A walk over the commits of `repo` reachable from `start` and not from `hide`.
fn walk<'r>(
    repo: &'r Repository,
    start: Start<'_>,
    hide: Option<Oid>,
    order: Order,
) -> Result<History<'r>> {
    let mut walk = repo.revwalk()?;
    if order == Order::TopoTime {
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)?;
    }
    match start {
        Start::Commit(oid) => walk.push(oid)?,
        Start::Ref(name) => walk.push_ref(name)?,
    }
    if let Some(h) = hide {
        walk.hide(h)?;
    }
    Ok(History { repo, walk })
}

/// The commits of `repo` reachable from the ref `refname` (a full name), in `order`.
pub(crate) fn history_of_ref<'r>(
    repo: &'r Repository,
    refname: &str,
    order: Order,
) -> Result<History<'r>> {
    walk(repo, Start::Ref(refname), None, order)
}

impl Store {
    /// The commits reachable from `tip` and not from `hide`, in `order`, read lazily.
    pub fn history(&self, tip: Oid, hide: Option<Oid>, order: Order) -> Result<History<'_>> {
        walk(&self.repo, Start::Commit(tip), hide, order)
    }

    /// How many commits are reachable from `tip` and not from `hide` (`git rev-list --count
    /// tip ^hide`), without reading them into [`CommitInfo`]s.
    pub fn count_commits(&self, tip: Oid, hide: Oid) -> Result<usize> {
        let mut walk = self.repo.revwalk()?;
        walk.push(tip)?;
        walk.hide(hide)?;
        Ok(walk.count())
    }

    /// The commit `id`.
    pub fn commit_info(&self, id: Oid) -> Result<CommitInfo> {
        Ok(CommitInfo::of(&self.repo.find_commit(id)?))
    }

    /// The commit a revision (`HEAD~3`, a branch, a tag, an id) names, or None when it names
    /// none (or nothing that peels to a commit).
    pub fn resolve_commit(&self, spec: &str) -> Option<Oid> {
        self.repo
            .revparse_single(spec)
            .and_then(|o| o.peel_to_commit())
            .map(|c| c.id())
            .ok()
    }

    /// The best common ancestor of two commits, or None when they share no history.
    pub fn merge_base(&self, a: Oid, b: Oid) -> Result<Option<Oid>> {
        match self.repo.merge_base(a, b) {
            Ok(base) => Ok(Some(base)),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}
