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

/// One blob that differs between two versions of a folder: its path, and its blob before
/// and after (None: absent).
pub type BlobChange = (String, Option<Oid>, Option<Oid>);

impl Store {
    /// The blobs under the top-level folder `dir` that differ between commits `old` (None:
    /// nothing) and `new`, with their ids on both sides. Only the two `dir` trees are
    /// compared. Paths that are not UTF-8 are left out.
    pub fn work_changes(&self, old: Option<Oid>, new: Oid, dir: &str) -> Result<Vec<BlobChange>> {
        let repo = &self.repo;
        let tree_of = |c: Oid| -> Result<Option<git2::Tree<'_>>> {
            let root = repo.find_commit(c)?.tree()?;
            let id = root
                .get_name(dir)
                .filter(|e| e.kind() == Some(git2::ObjectType::Tree))
                .map(|e| e.id());
            match id {
                Some(id) => Ok(Some(repo.find_tree(id)?)),
                None => Ok(None),
            }
        };
        let old_tree = match old {
            Some(o) => tree_of(o)?,
            None => None,
        };
        let new_tree = tree_of(new)?;
        if old_tree.as_ref().map(|t| t.id()) == new_tree.as_ref().map(|t| t.id()) {
            return Ok(Vec::new());
        }
        let diff = repo.diff_tree_to_tree(old_tree.as_ref(), new_tree.as_ref(), None)?;
        let blob = |f: git2::DiffFile<'_>| {
            (f.mode() == git2::FileMode::Blob || f.mode() == git2::FileMode::BlobExecutable)
                .then(|| f.id())
        };
        let mut out = Vec::new();
        for d in diff.deltas() {
            let (of, nf) = (d.old_file(), d.new_file());
            let Some(p) = nf.path().or_else(|| of.path()).and_then(|p| p.to_str()) else {
                continue;
            };
            let (b, a) = (blob(of), blob(nf));
            if b != a {
                out.push((format!("{dir}/{p}"), b, a));
            }
        }
        Ok(out)
    }
}

impl Store {
    /// The unified diff (`git diff a b`) between trees `a` and `b`, at most `max_bytes`
    /// (cut at a line, with a note saying how much was left out).
    pub fn tree_patch(&self, a: Oid, b: Oid, max_bytes: usize) -> Result<String> {
        let repo = &self.repo;
        let (ta, tb) = (repo.find_tree(a)?, repo.find_tree(b)?);
        let diff = repo.diff_tree_to_tree(Some(&ta), Some(&tb), None)?;
        let mut out = String::new();
        let mut left_out = 0usize;
        diff.print(git2::DiffFormat::Patch, |_, _, line| {
            let prefix = match line.origin() {
                c @ ('+' | '-' | ' ') => Some(c),
                _ => None,
            };
            let content = String::from_utf8_lossy(line.content());
            let piece = match prefix {
                Some(c) => format!("{c}{content}"),
                None => content.into_owned(),
            };
            if out.len() + piece.len() > max_bytes {
                left_out += piece.len();
            } else {
                out.push_str(&piece);
            }
            true
        })?;
        if left_out > 0 {
            out.push_str(&format!("\n[... {left_out} more bytes of diff left out]\n"));
        }
        Ok(out)
    }
}
