//! Which tree the CI checks are about: the code as git would commit it, without `.work/`.
//!
//! Ticket files change with every `wt` verb but are not code; leaving `.work/` out means a
//! `wt claim` or `wt done` does not make the code look new, so a green result survives them.
//! (The checks themselves come from `.work/config.yaml`; a record is reused only when its
//! checks equal the configured ones, see [`super::record::reusable`].)

use std::fs;
use std::path::Path;

use git2::{Index, IndexEntry, IndexTime, ObjectType, Oid, Repository, Status, StatusOptions};

use crate::error::{Error, Result};
use crate::model::config::WORK_DIR;
use crate::store::Store;

/// The tree of `root` (a root tree id) without its `.work` entry.
pub fn code_tree(repo: &Repository, root: Oid) -> Result<Oid> {
    let tree = repo.find_tree(root)?;
    if tree.get_name(WORK_DIR).is_none() {
        return Ok(root);
    }
    let mut b = repo.treebuilder(Some(&tree))?;
    b.remove(WORK_DIR)?;
    Ok(b.write()?)
}

/// The id of the `.work` subtree of `root`, if any.
pub fn work_subtree(repo: &Repository, root: Oid) -> Result<Option<Oid>> {
    let tree = repo.find_tree(root)?;
    Ok(tree
        .get_name(WORK_DIR)
        .filter(|e| e.kind() == Some(ObjectType::Tree))
        .map(|e| e.id()))
}

/// The code tree of the working tree as `git add -A && git write-tree` would make it
/// (tracked files as they are on disk, plus untracked files that are not ignored), built in
/// an in-memory index from HEAD's tree: the user's index is neither read for content nor
/// written, and no lock is taken. Blobs of changed files are written to the object database
/// like `git add` would. Filters (autocrlf, LFS) are not applied. Submodules keep HEAD's
/// commit.
pub fn worktree_code_tree(store: &Store) -> Result<Oid> {
    let repo = store.repo();
    let workdir = repo
        .workdir()
        .ok_or_else(|| Error::setup("this repository has no working tree"))?
        .to_path_buf();
    let mut index = Index::new()?;
    // The top-level names to look at: HEAD's and the disk's, except `.work` (and `.git`).
    // Status is then asked about exactly those (literal paths, each with what is under it),
    // so it never lists or compares the ticket files: with 10,000 tickets checked out that
    // was most of the time.
    let mut top: std::collections::BTreeSet<Vec<u8>> = std::collections::BTreeSet::new();
    if let Some(head) = store.head_commit() {
        // HEAD's tree without `.work`: its ticket files never enter this index.
        let code = repo.find_tree(code_tree(repo, repo.find_commit(head)?.tree_id())?)?;
        top.extend(code.iter().map(|e| e.name_bytes().to_vec()));
        index.read_tree(&code)?;
    }
    for e in fs::read_dir(&workdir)? {
        let name = e?.file_name();
        if name != WORK_DIR && name != ".git" {
            top.insert(name.as_encoded_bytes().to_vec());
        }
    }
    if top.is_empty() {
        // Nothing but `.work` (an empty pathspec would mean everything).
        let root = index.write_tree_to(repo)?;
        return code_tree(repo, root);
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
    let statuses = repo.statuses(Some(&mut opts))?;
    let work_prefix = format!("{WORK_DIR}/");
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
        if path.starts_with(&work_prefix) || path.ends_with('/') {
            continue;
        }
        let full = workdir.join(path);
        let meta = match fs::symlink_metadata(&full) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                match index.remove(Path::new(path), 0) {
                    Ok(()) => {}
                    Err(e) if e.code() == git2::ErrorCode::NotFound => {}
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
    code_tree(repo, root)
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

/// Paths that differ between two trees (at most 20, for messages).
pub fn changed_paths(store: &Store, a: Oid, b: Oid) -> Result<Vec<String>> {
    let repo = store.repo();
    let (ta, tb) = (repo.find_tree(a)?, repo.find_tree(b)?);
    let diff = repo.diff_tree_to_tree(Some(&ta), Some(&tb), None)?;
    let mut out = Vec::new();
    for d in diff.deltas().take(20) {
        let f = d.new_file().path().or_else(|| d.old_file().path());
        if let Some(p) = f {
            out.push(p.to_string_lossy().into_owned());
        }
    }
    Ok(out)
}
