//! Which tree the CI checks are about: the code as git would commit it, without `.work/`.
//!
//! Ticket files change with every `wt` verb but are not code; leaving `.work/` out means a
//! `wt claim` or `wt done` does not make the code look new, so a green result survives them.
//! (The checks themselves come from `.work/config.yaml`; a record is reused only when its
//! checks equal the configured ones, see [`super::record::reusable`].) The git side of each
//! of these lives in [`crate::store::worktree`] and [`crate::store::diff`].

use crate::error::Result;
use crate::model::config::WORK_DIR;
use crate::store::{Oid, Store};

/// The tree of `root` (a root tree id) without its `.work` entry.
pub fn code_tree(store: &Store, root: Oid) -> Result<Oid> {
    store.tree_without(root, WORK_DIR)
}

/// The id of the `.work` subtree of `root`, if any.
pub fn work_subtree(store: &Store, root: Oid) -> Result<Option<Oid>> {
    store.work_tree_in(root, WORK_DIR)
}

/// The code tree of the working tree as `git add -A && git write-tree` would make it
/// (tracked files as they are on disk, plus untracked files that are not ignored), built in
/// an in-memory index from HEAD's tree: the user's index is neither read for content nor
/// written, and no lock is taken. See [`Store::worktree_tree_without`].
pub fn worktree_code_tree(store: &Store) -> Result<Oid> {
    store.worktree_tree_without(WORK_DIR)
}

/// [`worktree_code_tree`] given HEAD's code tree (None: HEAD has no commit), which the
/// caller computed already.
pub fn worktree_code_tree_given_head(store: &Store, head_code: Option<Oid>) -> Result<Oid> {
    store.worktree_tree_without_head(WORK_DIR, head_code)
}

/// Paths that differ between two trees (at most 20, for messages).
pub fn changed_paths(store: &Store, a: Oid, b: Oid) -> Result<Vec<String>> {
    store.tree_changed_paths(a, b, 20)
}
