//! Working trees as git sees them: the tree `git add -A && git write-tree` would make of one
//! (less a top-level folder), and the worktrees of a repository. Also trees with one
//! top-level entry removed, which is how the CI rule leaves `.work/` out of "the code".

use std::fs;
use std::path::{Path, PathBuf};

use git2::{ErrorCode, Index, IndexEntry, IndexTime, Repository, Status, StatusOptions};

use super::{Oid, Store};
use crate::error::{Error, Result};

/// The tree `root` without its top-level entry `name` (written if it differs; `root` itself
/// when there is no such entry).
fn tree_without_in(repo: &Repository, root: Oid, name: &str) -> Result<Oid> {
    let tree = repo.find_tree(root)?;
    if tree.get_name(name).is_none() {
        return Ok(root);
    }
    let mut b = repo.treebuilder(Some(&tree))?;
    b.remove(name)?;
    Ok(b.write()?)
}

impl Store {
    /// The tree `root` (a root tree id) without its top-level entry `name`.
    pub fn tree_without(&self, root: Oid, name: &str) -> Result<Oid> {
        tree_without_in(&self.repo, root, name)
    }

    /// The main worktree and every linked one of this repository, each as (working tree,
    /// git dir). Worktrees that cannot be opened are left out.
    pub fn worktree_git_dirs(&self) -> Vec<(PathBuf, PathBuf)> {
        let mut out = Vec::new();
        let Ok(main) = Repository::open(self.common_dir()) else {
            return out;
        };
        if let Some(w) = main.workdir() {
            out.push((w.to_path_buf(), main.path().to_path_buf()));
        }
        if let Ok(names) = main.worktrees() {
            for name in names.iter().filter_map(|n| n.ok().flatten()) {
                if let Ok(wt) = main.find_worktree(name) {
                    if let Ok(r) = Repository::open_from_worktree(&wt) {
                        if let Some(w) = r.workdir() {
                            out.push((w.to_path_buf(), r.path().to_path_buf()));
                        }
                    }
                }
            }
        }
        out
    }

    /// The tree of the working tree as `git add -A && git write-tree` would make it (tracked
    /// files as they are on disk, plus untracked files that are not ignored), without the
    /// top-level entry `exclude`. It is built in an in-memory index from HEAD's tree: the
    /// user's index is neither read for content nor written, and no lock is taken. Blobs of
    /// changed files are written to the object database like `git add` would, with
    /// libgit2's filters (end-of-line conversion, `ident`; not filter drivers such as LFS).
    /// Submodules keep HEAD's commit. An index libgit2 cannot read (split, sparse) or a
    /// sparse checkout (skip-worktree entries) is left to git: `git add -A` and
    /// `git write-tree` in a copy of the index (submodules then take their checked-out
    /// commit, as `git add -A` does).
    pub fn worktree_tree_without(&self, exclude: &str) -> Result<Oid> {
        let repo = &self.repo;
        let workdir = repo
            .workdir()
            .ok_or_else(|| Error::setup("this repository has no working tree"))?
            .to_path_buf();
        // wt's own reader first: it declines split and sparse indexes and skip-worktree
        // entries, which the checks below send to git.
        let own = self.code_index_repo(exclude, &workdir)?;
        // An index libgit2 cannot read (a split or sparse index), or a sparse checkout
        // (libgit2 would take the files git leaves out for deleted ones): git itself, in a
        // copy of the index.
        let needs_git = own.is_none()
            && match repo.index() {
                Err(_) => true,
                Ok(ix) => {
                    ix.version() >= 3
                        && ix
                            .iter()
                            .any(|e| e.flags_extended & INDEX_SKIP_WORKTREE != 0)
                }
            };
        if needs_git {
            let temp = repo
                .path()
                .join(format!("wt-ci-index.{}.tmp", std::process::id()));
            let index = crate::store::index::index_path(repo.path());
            let root = crate::store::index::cli::worktree_tree(
                repo.path(),
                &workdir,
                &index,
                &temp,
                exclude,
            )
            .map_err(|why| {
                Error::internal(format!(
                    "cannot compute the tree of the working tree with git: {why}"
                ))
            })?;
            return tree_without_in(repo, root, exclude);
        }
        self.tree_from_status(repo, own, exclude, &workdir)
    }

    /// The code entries of this checkout's index (all but those under `exclude`), read with
    /// wt's own reader ([`crate::store::index::entries_except`]) into an in-memory index, on
    /// a repository handle of its own for `statuses` to compare with: libgit2 would read and
    /// hash every entry of the index, the 10,000 ticket files of a branch that tracks them
    /// included (15–20 ms a `wt done`). Racily clean entries (changed in the second the index
    /// was written) are smudged as git does, so their content is compared. None where the
    /// reader declines (see its docs), a conflict, or no index file: the caller's way then.
    fn code_index_repo(&self, exclude: &str, workdir: &Path) -> Result<Option<Repository>> {
        let file = crate::store::index::index_path(self.repo.path());
        let data = match fs::read(&file) {
            Ok(d) => d,
            Err(_) => return Ok(None),
        };
        let since = fs::metadata(&file)
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(u32::MAX, |d| d.as_secs() as u32);
        let Ok(entries) = crate::store::index::entries_except(&data, exclude) else {
            return Ok(None);
        };
        if entries.iter().any(|e| e.stage != 0) {
            return Ok(None);
        }
        let mut index = Index::new()?;
        for e in entries {
            let st = e.stat;
            // git's racy rule (seconds): such an entry's stat data cannot be trusted.
            let size = if st.mtime.0 >= since && st.mode != 0o160000 {
                0
            } else {
                st.size
            };
            index.add(&IndexEntry {
                ctime: IndexTime::new(st.ctime.0 as i32, st.ctime.1),
                mtime: IndexTime::new(st.mtime.0 as i32, st.mtime.1),
                dev: st.dev,
                ino: st.ino,
                mode: st.mode,
                uid: st.uid,
                gid: st.gid,
                file_size: size,
                id: e.oid,
                flags: 0,
                flags_extended: 0,
                path: e.path,
            })?;
        }
        let handle = Repository::open(workdir)?;
        handle.set_index(&mut index)?;
        Ok(Some(handle))
    }

    /// The rest of [`Store::worktree_tree_without`]: an in-memory index from HEAD's tree
    /// (less `exclude`) with what `git status` lists on disk added.
    fn tree_from_status(
        &self,
        repo: &Repository,
        own: Option<Repository>,
        exclude: &str,
        workdir: &Path,
    ) -> Result<Oid> {
        // Status against the code entries alone when wt's reader gave them.
        let status_repo = own.as_ref().unwrap_or(repo);
        let mut index = Index::new()?;
        // The top-level names to look at: HEAD's and the disk's, except `exclude` (and
        // `.git`). Status is then asked about exactly those (literal paths, each with what is
        // under it), so it never lists or compares what is under `exclude`: with 10,000
        // ticket files checked out there that was most of the time.
        let mut top: std::collections::BTreeSet<Vec<u8>> = std::collections::BTreeSet::new();
        if let Some(head) = self.head_commit() {
            // HEAD's tree without `exclude`: what is under it never enters this index.
            let kept = tree_without_in(repo, repo.find_commit(head)?.tree_id(), exclude)?;
            let kept = repo.find_tree(kept)?;
            top.extend(kept.iter().map(|e| e.name_bytes().to_vec()));
            index.read_tree(&kept)?;
        }
        for e in fs::read_dir(workdir)? {
            let name = e?.file_name();
            if name != exclude && name != ".git" {
                top.insert(name.as_encoded_bytes().to_vec());
            }
        }
        if top.is_empty() {
            // Nothing but `exclude` (an empty pathspec would mean everything).
            let root = index.write_tree_to(repo)?;
            return tree_without_in(repo, root, exclude);
        }
        let filemode = repo
            .config()
            .ok()
            .and_then(|c| c.get_bool("core.filemode").ok())
            .unwrap_or(true);
        let mut opts = StatusOptions::new();
        opts.include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_ignored(false)
            .include_unmodified(false)
            .exclude_submodules(true)
            .renames_head_to_index(false)
            .renames_index_to_workdir(false)
            .disable_pathspec_match(true);
        for name in top {
            opts.pathspec(name);
        }
        let statuses = status_repo.statuses(Some(&mut opts))?;
        let excluded_prefix = format!("{exclude}/");
        for s in statuses.iter() {
            let st = s.status();
            if st.contains(Status::IGNORED) || st == Status::CURRENT {
                continue;
            }
            let path_bytes = s.path_bytes();
            let Ok(path) = std::str::from_utf8(path_bytes) else {
                return Err(Error::invalid(format!(
                    "path is not UTF-8: {}",
                    String::from_utf8_lossy(path_bytes)
                )));
            };
            if path.starts_with(&excluded_prefix) || path.ends_with('/') {
                continue;
            }
            let full = workdir.join(path);
            let meta = match fs::symlink_metadata(&full) {
                Ok(m) => m,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    match index.remove(Path::new(path), 0) {
                        Ok(()) => {}
                        Err(e) if e.code() == ErrorCode::NotFound => {}
                        Err(e) => return Err(e.into()),
                    }
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let (oid, mode) = if meta.file_type().is_symlink() {
                let target = fs::read_link(&full)?;
                let bytes = target.to_string_lossy().into_owned().into_bytes();
                (repo.blob(&bytes)?, 0o120000)
            } else if meta.is_file() {
                let old_mode = index.get_path(Path::new(path), 0).map(|e| e.mode);
                (repo.blob_path(&full)?, file_mode(&meta, filemode, old_mode))
            } else {
                continue;
            };
            index.add(&entry(path, oid, mode))?;
        }
        let root = index.write_tree_to(repo)?;
        tree_without_in(repo, root, exclude)
    }
}

#[cfg(unix)]
fn file_mode(meta: &fs::Metadata, filemode: bool, old: Option<u32>) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    match (filemode, old) {
        (false, Some(m)) if m == 0o100755 || m == 0o100644 => m,
        _ if meta.permissions().mode() & 0o111 != 0 => 0o100755,
        _ => 0o100644,
    }
}

#[cfg(not(unix))]
fn file_mode(_meta: &fs::Metadata, _filemode: bool, old: Option<u32>) -> u32 {
    old.unwrap_or(0o100644)
}

/// `flags_extended` bit of a skip-worktree index entry.
const INDEX_SKIP_WORKTREE: u16 = 1 << 14;

fn entry(path: &str, id: Oid, mode: u32) -> IndexEntry {
    IndexEntry {
        ctime: IndexTime::new(0, 0),
        mtime: IndexTime::new(0, 0),
        dev: 0,
        ino: 0,
        mode,
        uid: 0,
        gid: 0,
        file_size: 0,
        id,
        flags: 0,
        flags_extended: 0,
        path: path.as_bytes().to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::scratch::ScratchRepo;

    #[test]
    fn the_worktree_tree_leaves_out_the_excluded_folder() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        let repo = ScratchRepo::init(root, "main").expect("init");
        std::fs::create_dir_all(root.join(".work")).expect("mkdir");
        std::fs::write(root.join(".work/t.md"), "t\n").expect("write");
        repo.commit_path(".work/t.md", "tickets\n", "A", "a@example.com")
            .expect("commit");
        std::fs::write(root.join("code.rs"), "fn main() {}\n").expect("write");
        repo.commit_path("code.rs", "code\n", "A", "a@example.com")
            .expect("commit");
        let store = Store::discover(root).expect("open");
        let head_tree = store
            .commit_tree(store.head_commit().expect("HEAD"))
            .unwrap();
        let code = store.tree_without(head_tree, ".work").unwrap();
        assert_eq!(store.work_tree_in(code, ".work").unwrap(), None);
        assert!(store.blob_in(code, "code.rs").unwrap().is_some());
        // Nothing changed on disk: the working tree's code is HEAD's.
        assert_eq!(store.worktree_tree_without(".work").unwrap(), code);
        // A ticket edit does not change it; a code edit, even untracked, does.
        std::fs::write(root.join(".work/t.md"), "changed\n").expect("write");
        assert_eq!(store.worktree_tree_without(".work").unwrap(), code);
        std::fs::write(root.join("new.rs"), "\n").expect("write");
        let now = store.worktree_tree_without(".work").unwrap();
        assert_ne!(now, code);
        assert_eq!(
            store.tree_changed_paths(code, now, 20).unwrap(),
            vec!["new.rs"]
        );

        let dirs = store.worktree_git_dirs();
        assert_eq!(dirs.len(), 1);
    }
}
