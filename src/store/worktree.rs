//! Working trees as git sees them: the tree `git add -A && git write-tree` would make of one
//! (less a top-level folder), and the worktrees of a repository. Also trees with one
//! top-level entry removed, which is how the CI rule leaves `.work/` out of "the code".

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

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
        self.worktree_tree_from(exclude, None)
    }

    /// [`Store::worktree_tree_without`] for a caller that has HEAD's tree without
    /// `exclude` already (`head_kept`: None when there is no HEAD commit), so it is not
    /// looked up and written again.
    pub fn worktree_tree_without_head(&self, exclude: &str, head_kept: Option<Oid>) -> Result<Oid> {
        self.worktree_tree_from(exclude, Some(head_kept))
    }

    /// `head_kept`: HEAD's tree without `exclude` if the caller knows it.
    fn worktree_tree_from(&self, exclude: &str, head_kept: Option<Option<Oid>>) -> Result<Oid> {
        let repo = &self.repo;
        let workdir = repo
            .workdir()
            .ok_or_else(|| Error::setup("this repository has no working tree"))?
            .to_path_buf();
        // wt's own reader first: it declines split and sparse indexes and skip-worktree
        // entries, which the checks below send to git.
        let own = self.code_index(exclude)?;
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
        self.tree_from_status(repo, own, exclude, &workdir, head_kept)
    }

    /// The code entries of this checkout's index (all but those under `exclude`), read with
    /// wt's own reader ([`crate::store::index::entries_except`]) into an in-memory index for
    /// the status comparison: libgit2 would read and hash every entry of the index, the
    /// 10,000 ticket files of a branch that tracks them included (15–20 ms a `wt done`).
    /// Racily clean entries (changed in the second the index was written) are smudged as git
    /// does, so their content is compared. None where the reader declines (see its docs), a
    /// conflict, or no index file: the caller's way then.
    fn code_index(&self, exclude: &str) -> Result<Option<Index>> {
        let Some((data, since)) = crate::store::index::read_index(self.repo.path()) else {
            return Ok(None);
        };
        let Ok(entries) = crate::store::index::entries_except(&data, exclude) else {
            return Ok(None);
        };
        drop(data);
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
        Ok(Some(index))
    }

    /// The rest of [`Store::worktree_tree_without`]: HEAD's tree (less `exclude`) with what
    /// `git status` lists on disk put in, through an in-memory index. When status lists
    /// nothing, that is HEAD's tree itself, and no index is built.
    fn tree_from_status(
        &self,
        repo: &Repository,
        own: Option<Index>,
        exclude: &str,
        workdir: &Path,
        head_kept: Option<Option<Oid>>,
    ) -> Result<Oid> {
        // The top-level names to look at: HEAD's and the disk's, except `exclude` (and
        // `.git`). Status is then asked about exactly those (literal paths, each with what is
        // under it), so it never lists or compares what is under `exclude`: with 10,000
        // ticket files checked out there that was most of the time.
        let mut top: std::collections::BTreeSet<Vec<u8>> = std::collections::BTreeSet::new();
        let head_kept = match head_kept {
            Some(known) => known,
            None => match self.head_commit() {
                Some(head) => Some(tree_without_in(
                    repo,
                    repo.find_commit(head)?.tree_id(),
                    exclude,
                )?),
                None => None,
            },
        };
        // HEAD's tree without `exclude`: what is under it never enters the index.
        let kept = head_kept.map(|k| repo.find_tree(k)).transpose()?;
        if let Some(kept) = &kept {
            top.extend(kept.iter().map(|e| e.name_bytes().to_vec()));
        }
        for e in fs::read_dir(workdir)? {
            let name = e?.file_name();
            if name != exclude && name != ".git" {
                top.insert(name.as_encoded_bytes().to_vec());
            }
        }
        // Nothing but `exclude` (an empty pathspec would mean everything): nothing to list.
        let listed = if top.is_empty() {
            Vec::new()
        } else {
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
            // What `git status` lists (less ignored and unchanged paths): against the code
            // entries alone when wt's reader gave them, set as the repository's index for the
            // comparison (libgit2's comparisons would otherwise load the whole index file, if
            // only to learn whether it ignores case), then taken off again.
            match own {
                Some(mut code) => {
                    repo.set_index(&mut code)?;
                    let listed = status_paths(repo, &mut opts);
                    forget_index(repo);
                    listed?
                }
                None => status_paths(repo, &mut opts)?,
            }
        };
        let excluded_prefix = format!("{exclude}/");
        let mut changed: Vec<&str> = Vec::with_capacity(listed.len());
        for path_bytes in &listed {
            let Ok(path) = std::str::from_utf8(path_bytes) else {
                return Err(Error::invalid(format!(
                    "path is not UTF-8: {}",
                    String::from_utf8_lossy(path_bytes)
                )));
            };
            if !(path.starts_with(&excluded_prefix) || path.ends_with('/')) {
                changed.push(path);
            }
        }
        if changed.is_empty() {
            // The disk holds HEAD's code: its tree, as it is (not as an index would rewrite it).
            return match head_kept {
                Some(k) => Ok(k),
                None => Ok(Index::new()?.write_tree_to(repo)?),
            };
        }
        let mut index = Index::new()?;
        if let Some(kept) = &kept {
            index.read_tree(kept)?;
        }
        let filemode = repo
            .config()
            .ok()
            .and_then(|c| c.get_bool("core.filemode").ok())
            .unwrap_or(true);
        for path in changed {
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

/// Take an index set with [`Repository::set_index`] off `repo`: the next use of the
/// repository's index reads the index file again, as on a handle just opened.
fn forget_index(repo: &Repository) {
    use git2::Binding;
    #[allow(unsafe_code)]
    // SAFETY: `repo.raw()` is the live handle `repo` owns. libgit2 takes NULL here: it drops
    // its reference to the index set before (the caller's `Index` keeps its own) and loads
    // the index from disk when it is next needed (`set_index` in repository.c).
    unsafe {
        libgit2_sys::git_repository_set_index(repo.raw(), std::ptr::null_mut());
    }
}

/// The paths `statuses` lists with `opts`, less ignored and unchanged ones.
fn status_paths(repo: &Repository, opts: &mut StatusOptions) -> Result<Vec<Vec<u8>>> {
    let statuses = repo.statuses(Some(opts))?;
    Ok(statuses
        .iter()
        .filter(|s| {
            let st = s.status();
            !(st.contains(Status::IGNORED) || st == Status::CURRENT)
        })
        .map(|s| s.path_bytes().to_vec())
        .collect())
}

// ---------------------------------------------------------------------------------------
// Ticket worktrees: linked worktrees on `wt/<ID>` branches, made and removed by `git
// worktree` itself (see [`Store::add_ticket_worktree`] for why not libgit2's worktree API).

/// `git` on the repository's common dir, run from `cwd`: never a `GIT_DIR`, work tree or
/// index from wt's own environment, no hook of the repository, no advice on stderr.
fn git_cmd(common_dir: &Path, cwd: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(cwd).arg("--git-dir").arg(common_dir).args([
        "-c",
        "core.hooksPath=/dev/null",
        "-c",
        "advice.detachedHead=false",
    ]);
    for var in [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_COMMON_DIR",
        "GIT_PREFIX",
        "GIT_OBJECT_DIRECTORY",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// A registration another git is writing (`git worktree add` writes `gitdir`, `commondir`,
/// `HEAD`, … one by one): a git that lists the worktrees meanwhile reads a file still empty
/// and dies with "failed to read …/worktrees/<id>/commondir" (or `gitdir`). Worth a retry.
fn half_written_registration(e: &Error) -> bool {
    let m = e.to_string();
    m.contains("failed to read") && m.contains("worktrees/")
}

/// Run the git command `make` builds, again (up to five times, 20–100 ms apart) while a git
/// outside wt's [`registration_lock`] is writing a registration (see
/// [`half_written_registration`]).
fn run_git_retried(mut make: impl FnMut() -> Command, what: &str) -> Result<Vec<u8>> {
    let mut attempt = 0u64;
    loop {
        match run_git(make(), what) {
            Err(e) if attempt < 5 && half_written_registration(&e) => {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(20 * attempt));
            }
            other => return other,
        }
    }
}

/// Held while wt changes worktree registrations (add, remove, prune): one at a time across
/// wt's threads and processes, so no `git worktree` of wt's reads a registration another one
/// is half-way through writing.
fn registration_lock(common_dir: &Path) -> Result<crate::store::lock::FileLock> {
    crate::store::lock::FileLock::acquire(&common_dir.join("wt-worktrees.lock"))
}

/// Run `cmd`; its stdout, or an error quoting git's stderr after `what`.
fn run_git(mut cmd: Command, what: &str) -> Result<Vec<u8>> {
    let out = cmd.output().map_err(|e| {
        Error::setup(format!("cannot run git: {e}"))
            .with_hint("ticket worktrees need the git command on PATH")
    })?;
    if out.status.success() {
        return Ok(out.stdout);
    }
    Err(Error::internal(format!(
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    )))
}

/// One linked worktree as `git worktree list --porcelain` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedWorktree {
    pub path: PathBuf,
    /// The branch checked out (without `refs/heads/`), None when detached.
    pub branch: Option<String>,
    pub head: Option<Oid>,
    /// git calls it prunable: its directory is gone (or its registration is broken).
    pub prunable: bool,
    pub locked: bool,
}

/// Parse `git worktree list --porcelain [-z]`: records of lines ended by `end` (NUL with
/// `-z`), each record ended by an empty line. The first record is the main worktree.
fn parse_worktree_list(out: &[u8], end: u8) -> Vec<LinkedWorktree> {
    let mut all = Vec::new();
    let mut cur: Option<LinkedWorktree> = None;
    for line in out.split(|&b| b == end) {
        if line.is_empty() {
            all.extend(cur.take());
            continue;
        }
        let text = String::from_utf8_lossy(line);
        let (key, value) = text.split_once(' ').unwrap_or((&text, ""));
        match key {
            "worktree" => {
                all.extend(cur.take());
                cur = Some(LinkedWorktree {
                    path: PathBuf::from(path_from_bytes(&line[9..])),
                    branch: None,
                    head: None,
                    prunable: false,
                    locked: false,
                });
            }
            "HEAD" => {
                if let Some(c) = cur.as_mut() {
                    c.head = Oid::from_str(value).ok().filter(|o| !o.is_zero());
                }
            }
            "branch" => {
                if let Some(c) = cur.as_mut() {
                    c.branch = Some(value.strip_prefix("refs/heads/").unwrap_or(value).into());
                }
            }
            "prunable" => {
                if let Some(c) = cur.as_mut() {
                    c.prunable = true;
                }
            }
            "locked" => {
                if let Some(c) = cur.as_mut() {
                    c.locked = true;
                }
            }
            _ => {}
        }
    }
    all.extend(cur);
    all
}

#[cfg(unix)]
fn path_from_bytes(b: &[u8]) -> std::ffi::OsString {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::OsStr::from_bytes(b).to_os_string()
}

#[cfg(not(unix))]
fn path_from_bytes(b: &[u8]) -> std::ffi::OsString {
    String::from_utf8_lossy(b).into_owned().into()
}

/// `path` made absolute and, as far as it exists, free of symbolic links (git records
/// worktree paths that way), for comparing with what git lists.
fn normalized(path: &Path) -> PathBuf {
    if let Ok(p) = fs::canonicalize(path) {
        return p;
    }
    // A path that does not exist (yet): its existing parent, resolved, plus the rest.
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) if !parent.as_os_str().is_empty() => {
            normalized(parent).join(name)
        }
        _ => std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()),
    }
}

impl Store {
    /// The linked worktrees of this repository (not the main one), as git lists them.
    pub fn linked_worktrees(&self) -> Result<Vec<LinkedWorktree>> {
        let list = || {
            let mut cmd = git_cmd(self.common_dir(), self.common_dir());
            cmd.args(["worktree", "list", "--porcelain", "-z"]);
            cmd
        };
        let mut all = match run_git_retried(list, "git worktree list failed") {
            Ok(out) => parse_worktree_list(&out, 0),
            // git before 2.36 has no -z: lines end with a newline.
            Err(_) => {
                let mut cmd = git_cmd(self.common_dir(), self.common_dir());
                cmd.args(["worktree", "list", "--porcelain"]);
                parse_worktree_list(&run_git(cmd, "git worktree list failed")?, b'\n')
            }
        };
        if !all.is_empty() {
            all.remove(0);
        }
        Ok(all)
    }

    /// Linked worktrees whose branch starts with `prefix` (e.g. `wt/`): (path, branch,
    /// head). A worktree whose directory is gone is listed too (its path does not exist).
    pub fn ticket_worktrees(&self, prefix: &str) -> Result<Vec<(PathBuf, String, Option<Oid>)>> {
        Ok(self
            .linked_worktrees()?
            .into_iter()
            .filter_map(|w| match w.branch {
                Some(b) if b.starts_with(prefix) => Some((w.path, b, w.head)),
                _ => None,
            })
            .collect())
    }

    /// Local branches whose name starts with `prefix`, with their tips, sorted by name.
    pub fn branches_with_prefix(&self, prefix: &str) -> Result<Vec<(String, Oid)>> {
        let mut out = Vec::new();
        for b in self.repo.branches(Some(git2::BranchType::Local))? {
            let (b, _) = b?;
            let Ok(Some(name)) = b.name() else { continue };
            if !name.starts_with(prefix) {
                continue;
            }
            if let Some(tip) = b.get().target() {
                out.push((name.to_string(), tip));
            }
        }
        out.sort();
        Ok(out)
    }

    /// Create (or reuse, if it is there and on `branch`) a linked worktree at `path` with
    /// `branch` checked out; the branch is created at `from` when missing. It is made by
    /// `git worktree add`, so it is exactly what git would make: registered (`git worktree
    /// list` shows it), HEAD on `refs/heads/<branch>`, files checked out with the
    /// repository's filters and sparse-checkout rules. (libgit2's worktree API was the
    /// alternative: it names the registration after the folder and fails when two ticket
    /// folders share a name, runs no filter drivers such as LFS, ignores sparse checkouts,
    /// and has no `remove`; wt already relies on `git worktree` for its clean checkouts.)
    /// No hook of the repository runs. A registration whose folder is gone is pruned first.
    pub fn add_ticket_worktree(&self, path: &Path, branch: &str, from: Oid) -> Result<()> {
        // git runs in the common dir: a relative path is made absolute here, against the
        // current directory, as the caller meant it.
        let abs = std::path::absolute(path)?;
        let path = abs.as_path();
        if !crate::store::branch_name_is_valid(branch) {
            return Err(Error::invalid(format!(
                "`{branch}` is not a valid branch name"
            )));
        }
        let want = normalized(path);
        let _lock = registration_lock(self.common_dir())?;
        let listed = self.linked_worktrees()?;
        if let Some(w) = listed.iter().find(|w| normalized(&w.path) == want) {
            if !w.prunable && w.path.exists() {
                return match w.branch.as_deref() {
                    Some(b) if b == branch => Ok(()),
                    other => Err(Error::refused(format!(
                        "{} is already a worktree, on {}, not on {branch}",
                        path.display(),
                        other.map_or("a detached HEAD".to_string(), |b| format!("branch {b}"))
                    ))
                    .with_hint(format!(
                        "remove it (`git worktree remove {}`) or choose another folder",
                        path.display()
                    ))),
                };
            }
        }
        if listed.iter().any(|w| w.prunable) {
            self.prune_worktrees()?;
        }
        if path.exists() {
            let empty = fs::read_dir(path)
                .map(|mut d| d.next().is_none())
                .unwrap_or(false);
            if !empty {
                return Err(Error::refused(format!(
                    "cannot make a worktree at {}: the folder exists and is not a worktree of {branch}",
                    path.display()
                ))
                .with_hint("move it out of the way, or set another folder for worktrees"));
            }
        }
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        self.create_branch(branch, from, "wt run: ticket branch")?;
        run_git_retried(
            || {
                let mut cmd = git_cmd(self.common_dir(), self.common_dir());
                cmd.args(["worktree", "add", "--quiet"])
                    .arg(path)
                    .arg(branch);
                cmd
            },
            &format!(
                "git could not add a worktree for {branch} at {}",
                path.display()
            ),
        )?;
        Ok(())
    }

    /// `git worktree prune`: forget registrations whose folders are gone.
    pub fn prune_worktrees(&self) -> Result<()> {
        let mut cmd = git_cmd(self.common_dir(), self.common_dir());
        cmd.args(["worktree", "prune"]);
        run_git(cmd, "git worktree prune failed")?;
        Ok(())
    }

    /// Remove the linked worktree at `path` on `branch` (its files, whatever state they are
    /// in, and git's registration) and, when `delete_branch`, the branch. A folder that is
    /// not a worktree of `branch` is never touched (refused); a registration whose folder
    /// is already gone is pruned. Removing what is not there is not an error.
    pub fn remove_ticket_worktree(
        &self,
        path: &Path,
        branch: &str,
        delete_branch: bool,
    ) -> Result<()> {
        let want = normalized(path);
        let _lock = registration_lock(self.common_dir())?;
        let listed = self.linked_worktrees()?;
        match listed.iter().find(|w| normalized(&w.path) == want) {
            Some(w) if w.branch.as_deref() != Some(branch) => {
                return Err(Error::refused(format!(
                    "{} is a worktree on {}, not on {branch}: not removing it",
                    path.display(),
                    w.branch.as_deref().unwrap_or("a detached HEAD")
                )));
            }
            Some(w) if w.path.exists() => {
                let mut cmd = git_cmd(self.common_dir(), self.common_dir());
                // Twice: also when it is locked.
                cmd.args(["worktree", "remove", "--force", "--force"])
                    .arg(&w.path);
                let removed = run_git(
                    cmd,
                    &format!("git could not remove the worktree {}", path.display()),
                );
                // git refuses some (one with submodules): it is a registered worktree of
                // `branch`, so its folder goes, then its registration.
                if removed.is_err() || w.path.exists() {
                    fs::remove_dir_all(&w.path)?;
                    self.prune_worktrees()?;
                }
            }
            Some(_) => self.prune_worktrees()?,
            None if path.exists() => {
                return Err(Error::refused(format!(
                    "{} is not a worktree of this repository: not removing it",
                    path.display()
                )));
            }
            None => {}
        }
        if delete_branch {
            self.delete_branch(branch)?;
        }
        Ok(())
    }

    /// Delete the local branch `branch` if it exists and no worktree has it checked out.
    pub fn delete_branch(&self, branch: &str) -> Result<()> {
        match self.repo.find_branch(branch, git2::BranchType::Local) {
            Ok(mut b) => {
                if self.branch_checked_out(branch)? {
                    return Err(Error::refused(format!(
                        "branch {branch} is checked out in a worktree: not deleting it"
                    )));
                }
                b.delete()?;
                Ok(())
            }
            Err(e) if e.code() == ErrorCode::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Does some worktree (main or linked, its folder present) have `branch` checked out?
    pub fn branch_checked_out(&self, branch: &str) -> Result<bool> {
        Ok(!self.checkouts_of(branch)?.is_empty())
    }

    /// Is `ancestor` reachable from `of` (or equal to it)?
    pub fn is_ancestor(&self, ancestor: Oid, of: Oid) -> Result<bool> {
        if ancestor == of {
            return Ok(true);
        }
        Ok(self.repo.graph_descendant_of(of, ancestor)?)
    }

    /// Paths in the worktree at `path` that differ from its HEAD (`git status`: staged,
    /// modified or untracked and not ignored), at most `limit`.
    pub fn worktree_changes(&self, path: &Path, limit: usize) -> Result<Vec<String>> {
        Ok(status_entries(path)?
            .into_iter()
            .take(limit)
            .map(|(_, p)| p)
            .collect())
    }
}

/// `git status --porcelain -z --untracked-files=all --no-renames` in the worktree at
/// `workdir`: (XY code, path) per entry.
pub(in crate::store) fn status_entries(workdir: &Path) -> Result<Vec<(String, String)>> {
    let mut cmd = Command::new("git");
    // No optional locks: status does not rewrite the index behind anybody's back.
    cmd.current_dir(workdir).args([
        "--no-optional-locks",
        "-c",
        "core.hooksPath=/dev/null",
        "status",
        "--porcelain=v1",
        "-z",
        "--untracked-files=all",
        "--no-renames",
    ]);
    for var in [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_COMMON_DIR",
        "GIT_PREFIX",
    ] {
        cmd.env_remove(var);
    }
    let out = run_git(cmd, &format!("git status failed in {}", workdir.display()))?;
    let mut entries = Vec::new();
    for rec in out.split(|&b| b == 0).filter(|r| r.len() > 3) {
        let code = String::from_utf8_lossy(&rec[..2]).into_owned();
        let path = String::from_utf8_lossy(&rec[3..]).into_owned();
        entries.push((code, path));
    }
    Ok(entries)
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
    fn worktree_lists_parse_with_and_without_nul_separators() {
        let text = "worktree /r\nHEAD 1111111111111111111111111111111111111111\nbranch refs/heads/main\n\nworktree /r/.git/wt/run/worktrees/J-1\nHEAD 2222222222222222222222222222222222222222\nbranch refs/heads/wt/J-1\nlocked\n\nworktree /gone\nHEAD 3333333333333333333333333333333333333333\ndetached\nprunable gitdir file points to non-existent location\n\n";
        let nul = text.replace('\n', "\0");
        for (out, end) in [(text.as_bytes(), b'\n'), (nul.as_bytes(), 0)] {
            let all = parse_worktree_list(out, end);
            assert_eq!(all.len(), 3);
            assert_eq!(all[1].path, PathBuf::from("/r/.git/wt/run/worktrees/J-1"));
            assert_eq!(all[1].branch.as_deref(), Some("wt/J-1"));
            assert!(all[1].locked && !all[1].prunable);
            assert_eq!(all[2].branch, None);
            assert!(all[2].prunable);
        }
    }

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
        // The comparison ran against an index of the code entries alone, set on the store's
        // own handle: it was taken off again, so the handle's index is the file's (tickets
        // included), not the code-only one.
        let index = store.repo.index().unwrap();
        assert!(index.get_path(Path::new(".work/t.md"), 0).is_some());
        assert!(index.get_path(Path::new("code.rs"), 0).is_some());
    }
}
