//! Which paths differ between two commits or two trees (names only, no content).

use super::{Oid, Store};
use crate::error::Result;

impl Store {
    /// Paths that differ between the trees of commits `old` and `new` (every path, not only
    /// `.work/`), each once: for a change, its old and its new name. `old` None compares with
    /// the empty tree. Paths that are not UTF-8 are left out.
    pub fn changed_paths(&self, old: Option<Oid>, new: Oid) -> Result<Vec<String>> {
        let repo = &self.repo;
        let old_tree = match old {
            Some(o) => Some(repo.find_commit(o)?.tree()?),
            None => None,
        };
        let new_tree = repo.find_commit(new)?.tree()?;
        let diff = repo.diff_tree_to_tree(old_tree.as_ref(), Some(&new_tree), None)?;
        let mut out = Vec::new();
        for d in diff.deltas() {
            for f in [d.old_file(), d.new_file()] {
                if let Some(p) = f.path().and_then(|p| p.to_str()) {
                    if !out.iter().any(|x: &String| x == p) {
                        out.push(p.to_string());
                    }
                }
            }
        }
        Ok(out)
    }

    /// The first `limit` paths that differ between trees `a` and `b` (the new name of each
    /// change, else its old one), for messages; names that are not UTF-8 come out lossily.
    pub fn tree_changed_paths(&self, a: Oid, b: Oid, limit: usize) -> Result<Vec<String>> {
        let repo = &self.repo;
        let (ta, tb) = (repo.find_tree(a)?, repo.find_tree(b)?);
        let diff = repo.diff_tree_to_tree(Some(&ta), Some(&tb), None)?;
        let mut out = Vec::new();
        for d in diff.deltas().take(limit) {
            let f = d.new_file().path().or_else(|| d.old_file().path());
            if let Some(p) = f {
                out.push(p.to_string_lossy().into_owned());
            }
        }
        Ok(out)
    }
}
