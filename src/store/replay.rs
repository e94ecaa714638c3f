//! Re-making a commit on another base and moving a branch by compare-and-swap: the local
//! mechanics of `wt sync` (which commits to replay and what goes into them is its business).

use git2::ErrorCode;

use super::{signature, Edit, Oid, Store};
use crate::error::Result;

/// What a compare-and-swap branch move came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BranchMove {
    Moved,
    /// The branch was not at the expected commit, or its lock was held.
    Raced,
}

impl Store {
    /// The root tree of commit `base` with `edits` applied, as a wt commit builds it (an
    /// entry wt did not create is never dropped: see `apply` in this folder's mod.rs); new
    /// blobs are written to the object database. Returns the new tree's id.
    pub fn tree_with_edits(&self, base: Oid, edits: &[Edit]) -> Result<Oid> {
        let repo = &self.repo;
        let tree = repo.find_commit(base)?.tree()?;
        super::tree_with_edits(repo, Some(&tree), edits)
    }

    /// Write a commit of `tree` on the single parent `parent` with `message`, keeping the
    /// author (name, email and date) of commit `original`; the committer is the current
    /// identity (as for every wt commit). No ref moves. Returns the new commit's id.
    pub fn recommit(&self, original: Oid, tree: Oid, parent: Oid, message: &str) -> Result<Oid> {
        let repo = &self.repo;
        let original = repo.find_commit(original)?;
        let tree = repo.find_tree(tree)?;
        let committer = signature("COMMITTER", repo)?;
        let parent = repo.find_commit(parent)?;
        let author = original.author();
        let new = repo.commit(None, &author, &committer, message, &tree, &[&parent])?;
        Ok(new)
    }

    /// Point `refs/heads/<branch>` at `new`, only if it still points at `old` (only if it
    /// does not exist, when `old` is None). `log` is the reflog message.
    pub fn move_branch(
        &self,
        branch: &str,
        old: Option<Oid>,
        new: Oid,
        log: &str,
    ) -> Result<BranchMove> {
        let refname = format!("refs/heads/{branch}");
        let repo = &self.repo;
        // Lock, compare, write: while the lock is held nobody (git or libgit2) moves the ref.
        let mut tx = repo.transaction()?;
        match tx.lock_ref(&refname) {
            Ok(()) => {}
            Err(e) if matches!(e.code(), ErrorCode::Locked | ErrorCode::Exists) => {
                return Ok(BranchMove::Raced)
            }
            Err(e) => return Err(e.into()),
        }
        crate::store::recovery::fault("ref-locked");
        let now = match repo.refname_to_id(&refname) {
            Ok(o) => Some(o),
            Err(e) if e.code() == ErrorCode::NotFound => None,
            Err(e) => return Err(e.into()),
        };
        if now != old {
            // Dropping the transaction releases the lock.
            return Ok(BranchMove::Raced);
        }
        let committer = signature("COMMITTER", repo)?;
        tx.set_target(&refname, new, Some(&committer), log)?;
        match tx.commit() {
            Ok(()) => Ok(BranchMove::Moved),
            Err(e) if matches!(e.code(), ErrorCode::Locked | ErrorCode::Modified) => {
                Ok(BranchMove::Raced)
            }
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::scratch::ScratchRepo;

    #[test]
    fn a_commit_is_remade_on_another_base_and_the_branch_moves_by_cas() {
        let dir = tempfile::tempdir().expect("temp dir");
        let repo = ScratchRepo::init(dir.path(), "main").expect("init");
        std::fs::write(dir.path().join("a"), "a\n").expect("write");
        repo.commit_path("a", "first\n", "Orig Author", "o@example.com")
            .expect("commit");
        let store = Store::discover(dir.path()).expect("open");
        let base = store.branch_tip("main").unwrap().expect("main");

        let edits = [
            Edit::Write {
                path: ".work/x.md".into(),
                content: b"x\n".to_vec(),
            },
            Edit::Delete { path: "a".into() },
            Edit::Delete {
                path: "missing".into(),
            },
        ];
        let tree = store.tree_with_edits(base, &edits).unwrap();
        let new = store.recommit(base, tree, base, "again\n").unwrap();
        let info = store.commit_info(new).unwrap();
        assert_eq!(info.author, "Orig Author");
        assert_eq!(info.message, "again\n");
        assert_eq!(info.parents, vec![base]);
        assert!(store.blob_in(tree, ".work/x.md").unwrap().is_some());
        assert_eq!(store.blob_in(tree, "a").unwrap(), None);

        // The branch is at `base`, not `new`: a move that expects `new` loses.
        assert_eq!(
            store.move_branch("main", Some(new), new, "test").unwrap(),
            BranchMove::Raced
        );
        assert_eq!(
            store.move_branch("main", Some(base), new, "test").unwrap(),
            BranchMove::Moved
        );
        assert_eq!(store.branch_tip("main").unwrap(), Some(new));
    }
}
