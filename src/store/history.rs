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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::scratch::ScratchRepo;

    /// A repository with commits "one", "two", "three" on `main`, each adding a file.
    fn three_commits() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("temp dir");
        let repo = ScratchRepo::init(dir.path(), "main").expect("init");
        for (i, name) in ["one", "two", "three"].iter().enumerate() {
            std::fs::write(dir.path().join(name), format!("{i}\n")).expect("write");
            repo.commit_path(
                name,
                &format!("{name}\n\nbody {i}\n"),
                "A U Thor",
                "a@example.com",
            )
            .expect("commit");
        }
        let store = Store::discover(dir.path()).expect("open");
        (dir, store)
    }

    #[test]
    fn a_walk_reads_commits_newest_first_as_plain_values() {
        let (_dir, store) = three_commits();
        let tip = store.branch_tip("main").unwrap().expect("main exists");
        let all: Vec<CommitInfo> = store
            .history(tip, None, Order::TopoTime)
            .unwrap()
            .collect::<Result<_>>()
            .unwrap();
        let subjects: Vec<&str> = all.iter().map(|c| c.summary.as_str()).collect();
        assert_eq!(subjects, ["three", "two", "one"]);
        assert_eq!(all[0].id, tip);
        assert_eq!(all[0].message, "three\n\nbody 2\n");
        assert_eq!(all[0].author, "A U Thor");
        assert_eq!(all[0].parents, vec![all[1].id]);
        assert!(all[2].parents.is_empty());
        assert_eq!(all[0].tree, store.commit_tree(tip).unwrap());
        assert_eq!(store.commit_info(all[1].id).unwrap(), all[1]);

        let first = all[2].id;
        let newer: Vec<Oid> = store
            .history(tip, Some(first), Order::Unsorted)
            .unwrap()
            .map(|c| c.map(|c| c.id))
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(newer, vec![all[0].id, all[1].id]);
        assert_eq!(store.count_commits(tip, first).unwrap(), 2);
    }

    #[test]
    fn revisions_and_merge_bases_resolve_to_commits() {
        let (_dir, store) = three_commits();
        let tip = store.branch_tip("main").unwrap().expect("main exists");
        let parent = store.resolve_commit("main~1").expect("main~1");
        assert_eq!(store.commit_info(tip).unwrap().parents, vec![parent]);
        assert_eq!(store.resolve_commit("no-such-branch"), None);
        assert_eq!(store.merge_base(tip, parent).unwrap(), Some(parent));
        assert_eq!(
            store.changed_paths(Some(parent), tip).unwrap(),
            vec!["three".to_string()]
        );
        let (a, b) = (
            store.commit_tree(parent).unwrap(),
            store.commit_tree(tip).unwrap(),
        );
        assert_eq!(store.tree_changed_paths(a, b, 20).unwrap(), vec!["three"]);
        assert_eq!(
            store.tree_changed_paths(a, b, 0).unwrap(),
            Vec::<String>::new()
        );
    }
}
