//! All of git2 behind a small API: read the ticket tree at a branch tip, commit a change to
//! `.work/` paths by compare-and-swap, and keep checked-out worktrees of the state branch in
//! step with what was committed.
//!
//! A wt commit is built in memory from the tip's tree plus changed blobs: it never reads or
//! writes anybody's index except to refresh the entries of the exact files it changed.

pub mod checkout;
pub mod diff;
pub mod filters;
pub mod history;
pub mod hooks;
pub mod index;
pub mod lock;
pub mod mapped;
pub mod merge;
pub mod recovery;
pub mod remote;
pub mod replay;
pub mod scratch;
pub mod worktree;

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use git2::{ErrorCode, ObjectType, Repository, Signature, Time, Tree};

/// A git object id (20 bytes). git2's value type, re-exported as the one git2 name the layers
/// above may hold: it carries no repository and reaches no git operation, and nothing
/// outside this folder can name the git2 types (`ObjectType`, `Repository`) that would.
pub use git2::Oid;

/// The hash git gives `content` as a blob, without writing it anywhere.
pub fn hash_blob(content: &[u8]) -> Option<Oid> {
    Oid::hash_object(ObjectType::Blob, content).ok()
}

/// Is `name` a valid branch name for git?
pub fn branch_name_is_valid(name: &str) -> bool {
    git2::Branch::name_is_valid(name).ok() == Some(true)
}

use crate::error::{Error, ErrorKind, Result};
pub use crate::model::ticket_file::EntryKind;

/// A file name that is not UTF-8, readable: its invalid bytes as `\xNN`.
fn escaped_name(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// What a tree entry is, by its mode.
fn entry_kind(e: &git2::TreeEntry<'_>) -> EntryKind {
    match e.filemode() {
        0o100644 | 0o100755 | 0o100664 => EntryKind::File,
        0o040000 => EntryKind::Tree,
        0o120000 => EntryKind::Symlink,
        0o160000 => EntryKind::Gitlink,
        _ => EntryKind::Other,
    }
}

/// One change to a file in the state branch's tree.
#[derive(Debug, Clone)]
pub enum Edit {
    Write { path: String, content: Vec<u8> },
    Delete { path: String },
}

impl Edit {
    pub fn path(&self) -> &str {
        match self {
            Edit::Write { path, .. } | Edit::Delete { path } => path,
        }
    }
}

/// A blob in the `.work/` tree.
#[derive(Debug, Clone)]
pub struct Entry {
    pub path: String,
    pub oid: Oid,
}

/// A path split into components and its new blob (None = delete).
type PathChange<'a> = (Vec<&'a str>, Option<Oid>);

/// From this many edits on, a commit's objects are written as one pack, not loose files.
const BULK_EDITS: usize = 256;

/// A working tree with the state branch checked out, opened once per write: the check for
/// local edits and the update after the commit share one read of its index (re-read only
/// if the index file changed in between), which matters when the index has 10,000 entries.
pub struct Checkout {
    path: PathBuf,
    repo: Repository,
    index: std::cell::RefCell<Option<git2::Index>>,
    /// The index bytes the clean check read and verified (see crate::store::index).
    index_bytes: std::cell::RefCell<Option<crate::store::index::Verified>>,
    /// What the clean check found out about the layout, for the update that follows.
    layout: std::cell::RefCell<Option<Layout>>,
}

/// How a checkout's files and index entries for some paths relate to blobs, as found by
/// [`Store::checkout_files`].
#[derive(Debug, Clone, Default)]
struct Layout {
    /// git's filters may convert these paths' content (see crate::store::filters).
    convert: bool,
    /// Neither the byte-level reader nor libgit2 could read the index (a split or sparse
    /// index): only git can.
    git_only: bool,
    /// `core.sparseCheckout`: git keeps skip-worktree paths out of the work tree, and
    /// decides for a new path whether its file belongs in it.
    sparse: bool,
    /// The stage-0 entry of each path looked at (None: no entry).
    entries: std::collections::HashMap<String, Option<crate::store::index::Staged>>,
}

/// One path of a checkout: its stage-0 index entry, and the blob its file would make (with
/// git's filters, as `git add` hashes it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileState {
    pub staged: Option<Oid>,
    /// The mode of the staged entry (`0o100644`, `0o100755`, ...).
    pub staged_mode: Option<u32>,
    /// A sparse checkout leaves the path out of the work tree (its entry is
    /// skip-worktree): git never looks at a file there, so `on_disk` is None and means
    /// nothing.
    pub left_out: bool,
    /// None: no file.
    pub on_disk: Option<Oid>,
}

impl Checkout {
    fn new(repo: Repository) -> Option<Checkout> {
        let path = repo.workdir()?.to_path_buf();
        Some(Checkout {
            path,
            repo,
            index: std::cell::RefCell::new(None),
            index_bytes: std::cell::RefCell::new(None),
            layout: std::cell::RefCell::new(None),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The checkout's own git dir (`.git`, or `.git/worktrees/<name>` of a linked worktree).
    pub fn git_dir(&self) -> &Path {
        self.repo.path()
    }

    /// The index, read on first use.
    fn index(&self) -> std::result::Result<std::cell::RefMut<'_, git2::Index>, git2::Error> {
        let mut slot = self.index.borrow_mut();
        if slot.is_none() {
            *slot = Some(self.repo.index()?);
        }
        std::cell::RefMut::filter_map(slot, Option::as_mut)
            .map_err(|_| git2::Error::from_str("the index could not be opened"))
    }
}

impl AsRef<Path> for Checkout {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

impl std::ops::Deref for Checkout {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
    }
}

/// What happened to a compare-and-swap commit.
pub enum CasOutcome {
    Committed(Oid),
    /// The branch moved (or its lock was held) between reading and writing: retry.
    Raced,
}

pub struct Store {
    repo: Repository,
}

impl Store {
    /// Find the repository containing `cwd` (like git does, honouring GIT_DIR).
    pub fn discover(cwd: &Path) -> Result<Store> {
        honour_git_config_env();
        // Reads trust the object database as git's own commands do; re-hashing every object
        // read cost a few percent of a 10,000-ticket load. (`git fsck` is the integrity check.)
        git2::opts::strict_hash_verification(false);
        cache_trees();
        let repo = if std::env::var_os("GIT_DIR").is_some() {
            Repository::open_from_env()
        } else {
            Repository::discover(cwd)
        };
        let repo = repo.map_err(|e| {
            if e.code() == ErrorCode::NotFound {
                Error::setup(format!("not a git repository: {}", cwd.display()))
                    .with_hint("run wt inside a git repository, or `git init` first")
            } else if e.message().contains("reftable") || e.message().contains("extensions") {
                Error::setup(format!("cannot open the repository: {}", e.message())).with_hint(
                    "wt's git library cannot read this repository format (e.g. reftable); use the files ref backend",
                )
            } else {
                Error::from(e)
            }
        })?;
        if let Some(global) = global_config_file() {
            // GIT_CONFIG_GLOBAL names a file libgit2's search path cannot express.
            if global.is_file() {
                repo.config()?
                    .add_file(&global, git2::ConfigLevel::Global, true)?;
            }
        }
        Ok(Store { repo })
    }

    /// The open repository, for the modules of this folder only.
    pub(in crate::store) fn repo(&self) -> &Repository {
        &self.repo
    }

    /// The working tree of the repository wt was started in (None when bare).
    pub fn workdir(&self) -> Option<&Path> {
        self.repo.workdir()
    }

    /// The shared git directory (the same for every worktree).
    pub fn common_dir(&self) -> &Path {
        self.repo.commondir()
    }

    /// The git directory of the worktree wt was started in (`.git` in the main worktree,
    /// `.git/worktrees/<name>` in a linked one).
    pub fn git_dir(&self) -> &Path {
        self.repo.path()
    }

    /// Whether `index.lock` exists in the git dir of any worktree that has `branch` checked
    /// out (a git command is writing that index, or one died doing so).
    pub fn checkout_index_locked(&self, branch: &str) -> Result<bool> {
        Ok(self
            .checkouts_of(branch)?
            .iter()
            .any(|c| c.repo.path().join("index.lock").exists()))
    }

    /// The branch HEAD points at, if HEAD is attached (even when unborn).
    pub fn head_branch(&self) -> Result<Option<String>> {
        let head = self.repo.find_reference("HEAD")?;
        Ok(head
            .symbolic_target()?
            .and_then(|t| t.strip_prefix("refs/heads/"))
            .map(str::to_string))
    }

    /// The commit HEAD resolves to, if any.
    pub fn head_commit(&self) -> Option<Oid> {
        self.repo.head().ok().and_then(|h| h.target())
    }

    /// Tip of `refs/heads/<branch>`, or None when the branch does not exist yet.
    pub fn branch_tip(&self, branch: &str) -> Result<Option<Oid>> {
        match self.repo.refname_to_id(&format!("refs/heads/{branch}")) {
            Ok(oid) => Ok(Some(oid)),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Local branches, then remote-tracking branches, as full ref names.
    pub fn branch_refs(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for kind in [git2::BranchType::Local, git2::BranchType::Remote] {
            for b in self.repo.branches(Some(kind))? {
                let (b, _) = b?;
                if let Ok(Some(name)) = b.get().name().map(Some) {
                    if !name.ends_with("/HEAD") {
                        out.push(name.to_string());
                    }
                }
            }
        }
        Ok(out)
    }

    /// The commit a full ref name points at.
    pub fn ref_target(&self, refname: &str) -> Option<Oid> {
        self.repo.refname_to_id(refname).ok()
    }

    /// A value from git config (repository, then global), if set.
    pub fn config_string(&self, key: &str) -> Option<String> {
        self.repo
            .config()
            .ok()
            .and_then(|c| c.get_string(key).ok())
            .filter(|s| !s.is_empty())
    }

    /// Create `refs/heads/<branch>` at `target` if no such branch exists (compare-and-swap
    /// against "absent"): true when this call created it, false when it was there already.
    pub fn create_branch(&self, branch: &str, target: Oid, log: &str) -> Result<bool> {
        let name = format!("refs/heads/{branch}");
        match self.repo.reference(&name, target, false, log) {
            Ok(_) => Ok(true),
            Err(e) if e.code() == ErrorCode::Exists => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Make `branch` track `remote`'s branch of the same name (`branch.<b>.remote` and
    /// `.merge`, as `git branch <b> <remote>/<b>` does); best effort.
    pub fn set_upstream(&self, branch: &str, remote: &str) {
        let _ = self.set_config_string(&format!("branch.{branch}.remote"), remote);
        let _ = self.set_config_string(
            &format!("branch.{branch}.merge"),
            &format!("refs/heads/{branch}"),
        );
    }

    /// Set a value in the repository's own git config.
    pub fn set_config_string(&self, key: &str, value: &str) -> Result<()> {
        let mut cfg = self.repo.config()?.open_level(git2::ConfigLevel::Local)?;
        cfg.set_str(key, value)?;
        Ok(())
    }

    /// The tree of `.work/` at `commit` and every blob under it, sorted by path.
    pub fn work_entries(&self, commit: Oid, dir: &str) -> Result<(Option<Oid>, Vec<Entry>)> {
        let root = self.repo.find_commit(commit)?.tree_id();
        self.work_entries_in_tree(root, dir)
    }

    /// Like [`Store::work_entries`], for a root tree that need not belong to a commit (e.g.
    /// the tree of what is staged).
    pub fn work_entries_in_tree(&self, root: Oid, dir: &str) -> Result<(Option<Oid>, Vec<Entry>)> {
        let root = self.repo.find_tree(root)?;
        let Some(entry) = root.get_name(dir) else {
            return Ok((None, Vec::new()));
        };
        if entry.kind() != Some(ObjectType::Tree) {
            return Ok((None, Vec::new()));
        }
        let tree_id = entry.id();
        let tree = self.repo.find_tree(tree_id)?;
        let mut out = Vec::new();
        self.walk(&tree, dir, &mut out)?;
        Ok((Some(tree_id), out))
    }

    fn walk(&self, tree: &Tree<'_>, prefix: &str, out: &mut Vec<Entry>) -> Result<()> {
        for e in tree.iter() {
            let Ok(name) = e.name() else { continue };
            let path = format!("{prefix}/{name}");
            match e.kind() {
                Some(ObjectType::Tree) => {
                    let sub = self.repo.find_tree(e.id())?;
                    self.walk(&sub, &path, out)?;
                }
                Some(ObjectType::Blob) if entry_kind(&e) == EntryKind::File => {
                    out.push(Entry { path, oid: e.id() })
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The id of the tree at `dir` (one level below the root) in `commit`, if it is a tree.
    pub fn work_tree(&self, commit: Oid, dir: &str) -> Result<Option<Oid>> {
        self.work_tree_in(self.repo.find_commit(commit)?.tree_id(), dir)
    }

    /// The id of the tree at `dir` in the root tree `root`, if it is a tree.
    /// The root tree of commit `commit`.
    pub fn commit_tree(&self, commit: Oid) -> Result<Oid> {
        Ok(self.repo.find_commit(commit)?.tree_id())
    }

    pub fn work_tree_in(&self, root: Oid, dir: &str) -> Result<Option<Oid>> {
        let root = self.repo.find_tree(root)?;
        Ok(root
            .get_name(dir)
            .filter(|e| e.kind() == Some(ObjectType::Tree))
            .map(|e| e.id()))
    }

    /// The entries of one tree that wt walks: (name, id, what it is). A name that is not
    /// UTF-8 is given with its stray bytes as `\xNN`, as [`EntryKind::NotUtf8`] whatever the
    /// entry is.
    pub fn tree_entries(&self, tree: Oid) -> Result<Vec<(String, Oid, EntryKind)>> {
        let tree = self.repo.find_tree(tree)?;
        let mut out = Vec::with_capacity(tree.len());
        for e in tree.iter() {
            match e.name() {
                Ok(name) => out.push((name.to_string(), e.id(), entry_kind(&e))),
                Err(_) => out.push((escaped_name(e.name_bytes()), e.id(), EntryKind::NotUtf8)),
            }
        }
        Ok(out)
    }

    /// Paths tracked in this worktree's index (for expanding globs over the user's files).
    pub fn tracked_paths(&self) -> Result<Vec<String>> {
        let index = match self.repo.index() {
            Ok(index) => index,
            // An index libgit2 cannot read (a split or sparse index): ask git.
            Err(e) => {
                let Some(workdir) = self.repo.workdir() else {
                    return Err(e.into());
                };
                return crate::store::index::cli::tracked_paths(self.repo.path(), workdir)
                    .map_err(|_| e.into());
            }
        };
        Ok(index
            .iter()
            .filter_map(|e| String::from_utf8(e.path).ok())
            .collect())
    }

    pub fn read_blob(&self, oid: Oid) -> Result<Vec<u8>> {
        Ok(self.repo.find_blob(oid)?.content().to_vec())
    }

    /// The blob at `path` in `commit`, if there is one.
    pub fn blob_at(&self, commit: Oid, path: &str) -> Result<Option<Oid>> {
        self.blob_in(self.repo.find_commit(commit)?.tree_id(), path)
    }

    /// The regular file at `path` in the root tree `root`, if there is one (a symbolic link
    /// or a submodule there counts as none: wt never reads through them).
    pub fn blob_in(&self, root: Oid, path: &str) -> Result<Option<Oid>> {
        let tree = self.repo.find_tree(root)?;
        match tree.get_path(Path::new(path)) {
            Ok(e) if entry_kind(&e) == EntryKind::File => Ok(Some(e.id())),
            Ok(_) => Ok(None),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Build the tree of `parent` with `edits` applied, commit it, and move
    /// `refs/heads/<branch>` from `parent` to the new commit only if it still points at
    /// `parent` (create it only if it does not exist when `parent` is None).
    pub fn commit_cas(
        &self,
        branch: &str,
        parent: Option<Oid>,
        edits: &[Edit],
        message: &str,
    ) -> Result<CasOutcome> {
        if edits.len() < BULK_EDITS {
            return commit_cas_in(&self.repo, branch, parent, edits, message, None);
        }
        // A large change (an import): collect the new objects in memory and write them as
        // one pack instead of one loose file each. A separate handle keeps the in-memory
        // backend out of this store's object database.
        let bulk = Repository::open(self.repo.path())?;
        let odb = bulk.odb()?;
        let mempack = odb.add_new_mempack_backend(1000)?;
        let out = commit_cas_in(&bulk, branch, parent, edits, message, Some(&mempack));
        let _ = mempack.reset();
        out
    }

    /// Working trees (main and linked) whose HEAD is `refs/heads/<branch>`, opened.
    pub fn checkouts_of(&self, branch: &str) -> Result<Vec<Checkout>> {
        let target = format!("refs/heads/{branch}");
        let mut out = Vec::new();
        let main = Repository::open(self.repo.commondir())?;
        let on_branch = |r: &Repository| -> bool {
            r.find_reference("HEAD")
                .ok()
                .and_then(|h| h.symbolic_target().ok().flatten().map(|t| t == target))
                .unwrap_or(false)
        };
        let mut linked = Vec::new();
        if let Ok(names) = main.worktrees() {
            for name in names.iter().filter_map(|n| n.ok().flatten()) {
                let Ok(wt) = main.find_worktree(name) else {
                    continue;
                };
                if !wt.path().exists() {
                    continue;
                }
                let Ok(r) = Repository::open_from_worktree(&wt) else {
                    continue;
                };
                if on_branch(&r) {
                    linked.push(r);
                }
            }
        }
        if !main.is_bare() && on_branch(&main) {
            out.extend(Checkout::new(main));
        }
        out.extend(linked.into_iter().filter_map(Checkout::new));
        Ok(out)
    }

    /// Each of `paths` in `checkout`: its stage-0 index entry, and the blob its file makes
    /// as `git add` would hash it. The index is read as bytes, else by libgit2, else by git
    /// itself (a split or sparse index); files are hashed here unless git's filters may
    /// convert them (`core.autocrlf`, `.gitattributes`: see crate::store::filters), then by
    /// git. What this learns about the checkout is kept for [`Store::update_checkout`].
    pub fn checkout_files(&self, checkout: &Checkout, paths: &[&str]) -> Result<Vec<FileState>> {
        use crate::store::index::{self, Staged};
        let mut layout = Layout::default();
        let entries: Vec<Option<Staged>> = match index::staged_blobs(checkout.repo.path(), paths) {
            Some((entries, bytes)) => {
                *checkout.index_bytes.borrow_mut() = Some(bytes);
                entries
            }
            None => match checkout.index() {
                Ok(index) => paths
                    .iter()
                    .map(|p| {
                        index.get_path(Path::new(p), 0).map(|e| Staged {
                            oid: e.id,
                            mode: e.mode,
                            skip_worktree: e.flags_extended & INDEX_SKIP_WORKTREE != 0,
                        })
                    })
                    .collect(),
                // An index libgit2 cannot read (a split or sparse index): ask git itself.
                Err(e) => {
                    layout.git_only = true;
                    index::cli::staged_entries(checkout.repo.path(), checkout, paths).map_err(
                        |why| {
                            Error::from(e).with_hint(format!(
                                "git could not read it either: {why}; try `git -C {} status`",
                                checkout.display()
                            ))
                        },
                    )?
                }
            },
        };
        layout.convert = crate::store::filters::may_convert(&checkout.repo, checkout, paths);
        layout.sparse = checkout
            .repo
            .config()
            .and_then(|c| c.get_bool("core.sparseCheckout"))
            .unwrap_or(false);
        // The paths git keeps out of the work tree.
        let left_out: Vec<bool> = entries
            .iter()
            .map(|e| layout.sparse && e.is_some_and(|e| e.skip_worktree))
            .collect();
        let mut on_disk: Vec<Option<Oid>> = vec![None; paths.len()];
        let mut to_hash: Vec<(usize, &str)> = Vec::new();
        for (i, path) in paths.iter().enumerate() {
            if left_out[i] {
                continue;
            }
            let file = checkout.join(path);
            if layout.convert {
                match fs::metadata(&file) {
                    Ok(_) => to_hash.push((i, path)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e.into()),
                }
            } else {
                on_disk[i] = match fs::read(&file) {
                    Ok(bytes) => Some(Oid::hash_object(ObjectType::Blob, &bytes)?),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                    Err(e) => return Err(e.into()),
                };
            }
        }
        if !to_hash.is_empty() {
            let files: Vec<&str> = to_hash.iter().map(|(_, p)| *p).collect();
            let oids =
                index::cli::hash_files(checkout.repo.path(), checkout, &files).map_err(|why| {
                    Error::internal(format!(
                        "cannot hash the files in {} as git would: {why}",
                        checkout.display()
                    ))
                })?;
            for ((i, _), oid) in to_hash.iter().zip(oids) {
                on_disk[*i] = Some(oid);
            }
        }
        let states = (0..paths.len())
            .map(|i| FileState {
                staged: entries[i].map(|e| e.oid),
                staged_mode: entries[i].map(|e| e.mode),
                left_out: left_out[i],
                on_disk: on_disk[i],
            })
            .collect();
        layout.entries = paths
            .iter()
            .zip(entries)
            .map(|(p, e)| (p.to_string(), e))
            .collect();
        *checkout.layout.borrow_mut() = Some(layout);
        Ok(states)
    }

    /// Refuse if any file about to change has uncommitted (or staged) edits in `checkout`.
    /// `old` gives, per edited path, the blob the tip had (None when the path is new).
    /// Files are compared as git compares them (after its filters); a path a sparse
    /// checkout leaves out has no file to compare.
    pub fn check_checkout_clean(
        &self,
        checkout: &Checkout,
        old: &[(String, Option<Oid>)],
    ) -> Result<()> {
        let paths: Vec<&str> = old.iter().map(|(p, _)| p.as_str()).collect();
        // A link on the way to any of the files refuses before anything is read.
        for p in &paths {
            no_link_on_the_way(checkout, p)?;
        }
        let states = self.checkout_files(checkout, &paths)?;
        for ((path, old_oid), st) in old.iter().zip(states) {
            let what = if !st.left_out && st.on_disk != *old_oid {
                match (st.on_disk, old_oid) {
                    (Some(_), None) => Some("an untracked file is in the way"),
                    (None, Some(_)) => Some("it was deleted in the working tree"),
                    _ => Some("it has uncommitted changes"),
                }
            } else if st.staged != *old_oid {
                Some("it has staged changes")
            } else {
                match st.staged_mode {
                    Some(mode) if old_oid.is_some() && !st.left_out => {
                        mode_change(checkout, path, mode)?
                    }
                    _ => None,
                }
            };
            if let Some(what) = what {
                return Err(Error::refused(format!(
                    "refusing to overwrite {path} in {}: {what}",
                    checkout.display()
                ))
                .with_hint(format!(
                    "commit or discard your edits first (git -C {} commit {path}, or git -C {} checkout -- {path})",
                    checkout.display(),
                    checkout.display()
                )));
            }
        }
        Ok(())
    }

    /// Does the update of `edits` in `checkout` need the git command: content git's filters
    /// may convert, an index only git can read, a skip-worktree entry (git keeps the bit;
    /// a sparse checkout keeps the file out), or a new path in a sparse checkout (git
    /// decides whether its file belongs in the work tree)?
    fn update_needs_git(&self, checkout: &Checkout, edits: &[Edit]) -> Result<bool> {
        let known = checkout
            .layout
            .borrow()
            .as_ref()
            .is_some_and(|l| edits.iter().all(|e| l.entries.contains_key(e.path())));
        if !known {
            let paths: Vec<&str> = edits.iter().map(Edit::path).collect();
            self.checkout_files(checkout, &paths)?;
        }
        let slot = checkout.layout.borrow();
        let Some(layout) = slot.as_ref() else {
            return Ok(true);
        };
        if layout.convert || layout.git_only {
            return Ok(true);
        }
        Ok(edits.iter().any(|e| match layout.entries.get(e.path()) {
            Some(Some(s)) => s.skip_worktree,
            _ => layout.sparse && matches!(e, Edit::Write { .. }),
        }))
    }

    /// [`Store::update_checkout`] by the git command, so that the result is what git itself
    /// makes of the commit: the edited paths' index entries are reset to a tree holding the
    /// new blobs (git keeps skip-worktree bits, and gives them to new paths outside a sparse
    /// checkout), files are written only where git keeps them in the work tree and as git
    /// would check them out (`git checkout-index`, filters applied), atomically, and their
    /// entries' stat data refreshed.
    fn update_checkout_via_git(
        &self,
        checkout: &Checkout,
        edits: &[Edit],
    ) -> Result<Option<String>> {
        use crate::store::index::cli::{self, Failure};
        let layout = checkout.layout.borrow().clone().unwrap_or_default();
        let left_out = |p: &str| {
            layout.sparse && matches!(layout.entries.get(p), Some(Some(s)) if s.skip_worktree)
        };
        for e in edits {
            if matches!(e, Edit::Delete { .. }) && !left_out(e.path()) {
                remove_checkout_file(checkout, e.path())?;
            }
        }
        crate::store::recovery::fault("before-index");
        let r = &checkout.repo;
        let git_dir = r.path();
        let _marker = crate::store::recovery::IndexMarker::new(git_dir);
        // A tree of exactly the written blobs: resetting the edited paths to it gives each
        // its new entry and drops the deleted ones.
        let mut staging = git2::Index::new()?;
        let mut contents: BTreeMap<&str, &[u8]> = BTreeMap::new();
        for e in edits {
            if let Edit::Write { path, content } = e {
                let oid = Oid::hash_object(ObjectType::Blob, content)?;
                let mut entry = index_entry(path, oid);
                // The reset gives the entry this mode: an executable ticket's entry stays
                // executable (a new path is a plain file).
                if let Some(Some(staged)) = layout.entries.get(path.as_str()) {
                    if staged.mode == 0o100755 {
                        entry.mode = 0o100755;
                    }
                }
                staging.add(&entry)?;
                contents.insert(path.as_str(), content.as_slice());
            }
        }
        let tree = staging.write_tree_to(r)?;
        let paths: Vec<&str> = edits.iter().map(Edit::path).collect();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let attempt = (|| -> std::result::Result<(), Failure> {
                cli::reset(git_dir, checkout, tree, &paths)?;
                let written: Vec<&str> = contents.keys().copied().collect();
                // The files a sparse checkout keeps in the work tree (not skip-worktree
                // after the reset).
                let shown: Vec<&str> = if layout.sparse && !written.is_empty() {
                    let entries = cli::staged_entries(git_dir, checkout, &written)
                        .map_err(Failure::Failed)?;
                    written
                        .iter()
                        .zip(entries)
                        .filter(|(_, e)| !e.is_some_and(|e| e.skip_worktree))
                        .map(|(p, _)| *p)
                        .collect()
                } else {
                    written
                };
                let failed = |e: Error| Failure::Failed(e.message);
                if layout.convert && !shown.is_empty() {
                    let all = !layout.sparse;
                    // git writes the files into a private folder (removed when dropped; one a
                    // killed wt left goes on the next write), wt moves them into place.
                    let scratch =
                        crate::store::recovery::checkout_scratch(git_dir).map_err(failed)?;
                    cli::checkout_to(git_dir, checkout, &shown, all, scratch.path())?;
                    crate::store::recovery::fault("checked-out");
                    for path in &shown {
                        let bytes = fs::read(scratch.path().join(path))
                            .map_err(|e| Failure::Failed(format!("{path}: {e}")))?;
                        write_atomic(&checkout.join(path), &bytes).map_err(failed)?;
                    }
                } else {
                    for p in &shown {
                        let content = contents.get(p).copied().unwrap_or_default();
                        write_atomic(&checkout.join(p), content).map_err(failed)?;
                    }
                }
                // Entries of skip-worktree paths keep no stat data (git never looks at their
                // files, and `git add` refuses them).
                let fresh: Vec<&str> = shown
                    .iter()
                    .copied()
                    .filter(|p| !matches!(layout.entries.get(*p), Some(Some(s)) if s.skip_worktree))
                    .collect();
                cli::refresh(git_dir, checkout, &fresh)
            })();
            match attempt {
                Ok(()) => return Ok(None),
                Err(Failure::Locked)
                    if Instant::now() < deadline
                        && !crate::store::recovery::index_lock_is_old(git_dir) =>
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(Failure::Locked) => return Ok(Some(stale_index_warning(checkout))),
                Err(Failure::Failed(why)) => {
                    return Err(Error::internal(format!(
                        "git could not update the index of {}: {why}",
                        checkout.display()
                    ))
                    .with_hint(format!(
                        "the commit is made; run `git -C {} reset -q -- .work` to refresh the index, and `wt doctor`",
                        checkout.display()
                    )))
                }
            }
        }
    }

    /// Bring `checkout`'s copies of exactly the edited files, and their index entries, up
    /// to date with what was just committed. Returns a warning when the index stayed locked.
    pub fn update_checkout(&self, checkout: &Checkout, edits: &[Edit]) -> Result<Option<String>> {
        // A link on the way to any file refuses the whole update before one is touched.
        for e in edits {
            no_link_on_the_way(checkout, e.path())?;
        }
        if self.update_needs_git(checkout, edits)? {
            return self.update_checkout_via_git(checkout, edits);
        }
        for e in edits {
            match e {
                Edit::Write { content, .. } => write_atomic(&checkout.join(e.path()), content)?,
                Edit::Delete { .. } => remove_checkout_file(checkout, e.path())?,
            }
        }
        crate::store::recovery::fault("before-index");
        let r = &checkout.repo;
        let deadline = Instant::now() + Duration::from_secs(5);
        // Mark the index lock we are about to take as wt's, so that if we are killed holding
        // it the next writer can tell it from a running git's (see crate::store::recovery).
        let _marker = crate::store::recovery::IndexMarker::new(r.path());
        // The fast path (see crate::store::index) refreshes existing entries in place; new or
        // deleted paths and anything else it does not handle go through libgit2.
        let writes: Option<Vec<(&str, Oid)>> = edits
            .iter()
            .map(|e| match e {
                Edit::Write { path, content } => Oid::hash_object(ObjectType::Blob, content)
                    .ok()
                    .map(|oid| (path.as_str(), oid)),
                Edit::Delete { .. } => None,
            })
            .collect();
        if writes.is_none() {
            crate::store::index::note_update_fallback("a file was deleted or could not be hashed");
        }
        let mut git_only = false;
        loop {
            let attempt = (|| -> std::result::Result<(), git2::Error> {
                if let Some(writes) = &writes {
                    let known = checkout.index_bytes.borrow_mut().take();
                    match crate::store::index::update_entries(
                        r.path(),
                        checkout.path(),
                        writes,
                        known,
                    ) {
                        crate::store::index::Update::Done => return Ok(()),
                        crate::store::index::Update::Locked => {
                            return Err(git2::Error::new(
                                ErrorCode::Locked,
                                git2::ErrorClass::Index,
                                "the index is locked (index.lock exists)",
                            ))
                        }
                        crate::store::index::Update::Fallback(_) => {}
                    }
                }
                // Re-read only if the index file changed since the clean check read it.
                let loaded = checkout
                    .index()
                    .and_then(|mut index| index.read(false).map(|()| index));
                let mut index = match loaded {
                    Ok(index) => index,
                    Err(e) if e.code() == ErrorCode::Locked => return Err(e),
                    // An index libgit2 cannot read (it became a split or sparse index since
                    // the clean check): let git itself update it.
                    Err(_) => {
                        git_only = true;
                        return Ok(());
                    }
                };
                for e in edits {
                    match e {
                        Edit::Write { .. } => add_keeping_flags(&mut index, e.path())?,
                        Edit::Delete { .. } => match index.remove_path(Path::new(e.path())) {
                            Ok(()) => {}
                            Err(err) if err.code() == ErrorCode::NotFound => {}
                            Err(err) => return Err(err),
                        },
                    }
                }
                index.write()
            })();
            match attempt {
                Ok(()) if git_only => {
                    if let Some(layout) = checkout.layout.borrow_mut().as_mut() {
                        layout.git_only = true;
                    }
                    return self.update_checkout_via_git(checkout, edits);
                }
                Ok(()) => return Ok(None),
                Err(e)
                    if e.code() == ErrorCode::Locked
                        && Instant::now() < deadline
                        && !crate::store::recovery::index_lock_is_old(r.path()) =>
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) if e.code() == ErrorCode::Locked => {
                    return Ok(Some(stale_index_warning(checkout)));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// The warning for a checkout whose index stayed locked while wt wanted to refresh it.
fn stale_index_warning(checkout: &Checkout) -> String {
    format!(
        "the index of {} stayed locked; its entries for the changed tickets are stale (run `git -C {} reset -q -- .work` to refresh, and `wt doctor` if no git command is running there)",
        checkout.display(),
        checkout.display()
    )
}

/// `flags_extended` bit of a skip-worktree index entry (libgit2's
/// `GIT_INDEX_ENTRY_SKIP_WORKTREE`).
const INDEX_SKIP_WORKTREE: u16 = 1 << 14;
/// `flags` bit of an assume-unchanged index entry (libgit2's `GIT_INDEX_ENTRY_VALID`).
const INDEX_ASSUME_UNCHANGED: u16 = 0x8000;

/// Refresh the entry of `path` from the file (libgit2's `add_path`), keeping the user's
/// assume-unchanged and skip-worktree bits, which `add_path` clears.
fn add_keeping_flags(index: &mut git2::Index, path: &str) -> std::result::Result<(), git2::Error> {
    let p = Path::new(path);
    let bits = index.get_path(p, 0).map(|e| {
        (
            e.flags & INDEX_ASSUME_UNCHANGED,
            e.flags_extended & INDEX_SKIP_WORKTREE,
        )
    });
    index.add_path(p)?;
    if let Some((flags, ext)) = bits.filter(|b| *b != (0, 0)) {
        if let Some(mut entry) = index.get_path(p, 0) {
            entry.flags |= flags;
            entry.flags_extended |= ext;
            index.add(&entry)?;
        }
    }
    Ok(())
}

/// A mode change (`chmod +x`, `chmod -x`) to the tracked file `path` in `checkout`, staged
/// (`staged_mode` differs from the mode at HEAD, which is the state branch's tip there) or
/// not (the file's executable bit differs from the mode at HEAD, when git tracks it:
/// `core.fileMode`). Most ticket files are plain files staged as such, and HEAD is only read
/// when the index or the file says otherwise.
fn mode_change(checkout: &Checkout, path: &str, staged_mode: u32) -> Result<Option<&'static str>> {
    let file_exec = is_executable(&checkout.join(path));
    if staged_mode == 0o100644 && !file_exec {
        // A user's staged `chmod -x` of an executable ticket also lands here: wt keeps it
        // (it writes the file as it is and refreshes the entry's content only).
        return Ok(None);
    }
    let committed = checkout
        .repo
        .head()
        .and_then(|h| h.peel_to_tree())
        .and_then(|t| t.get_path(Path::new(path)))
        .map(|e| e.filemode() as u32)
        .ok();
    let Some(committed) = committed else {
        return Ok(None);
    };
    if staged_mode != committed {
        return Ok(Some("it has a staged mode change (chmod)"));
    }
    let tracks_exec = checkout
        .repo
        .config()
        .and_then(|c| c.get_bool("core.filemode"))
        .unwrap_or(true);
    if tracks_exec && file_exec != (committed == 0o100755) {
        return Ok(Some("it has an uncommitted mode change (chmod)"));
    }
    Ok(None)
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::symlink_metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(_path: &Path) -> bool {
    false
}

/// An index entry for a regular file (what wt commits), without stat data.
fn index_entry(path: &str, id: Oid) -> git2::IndexEntry {
    git2::IndexEntry {
        ctime: git2::IndexTime::new(0, 0),
        mtime: git2::IndexTime::new(0, 0),
        dev: 0,
        ino: 0,
        mode: 0o100644,
        uid: 0,
        gid: 0,
        file_size: 0,
        id,
        flags: 0,
        flags_extended: 0,
        path: path.as_bytes().to_vec(),
    }
}

/// Remove a deleted ticket's file from `checkout`, and the folders that leaves empty up to
/// the checkout root.
fn remove_checkout_file(checkout: &Checkout, path: &str) -> Result<()> {
    let file = checkout.join(path);
    match fs::remove_file(&file) {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(err.into()),
    }
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == checkout.path() || fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
    Ok(())
}

fn commit_cas_in(
    repo: &Repository,
    branch: &str,
    parent: Option<Oid>,
    edits: &[Edit],
    message: &str,
    mempack: Option<&git2::Mempack<'_>>,
) -> Result<CasOutcome> {
    let base = match parent {
        Some(p) => Some(repo.find_commit(p)?.tree()?),
        None => None,
    };
    let tree_id = tree_with_edits(repo, base.as_ref(), edits)?;
    let tree = repo.find_tree(tree_id)?;
    let author = signature("AUTHOR", repo)?;
    let committer = signature("COMMITTER", repo)?;
    let parents = match parent {
        Some(p) => vec![repo.find_commit(p)?],
        None => vec![],
    };
    let parent_refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
    let oid = repo.commit(None, &author, &committer, message, &tree, &parent_refs)?;
    if let Some(mp) = mempack {
        // The objects must be on disk before the branch can point at them.
        let mut buf = git2::Buf::new();
        mp.dump(repo, &mut buf)?;
        let odb = repo.odb()?;
        let mut w = odb.packwriter()?;
        w.write_all(&buf)?;
        w.commit()?;
    }
    let refname = format!("refs/heads/{branch}");
    let expected = parent.unwrap_or(Oid::ZERO_SHA1);
    let log = message.lines().next().unwrap_or("wt");
    match repo.reference_matching(&refname, oid, true, expected, log) {
        Ok(_) => Ok(CasOutcome::Committed(oid)),
        Err(e)
            if matches!(
                e.code(),
                ErrorCode::Locked | ErrorCode::Modified | ErrorCode::Exists
            ) =>
        {
            Ok(CasOutcome::Raced)
        }
        Err(e) => Err(e.into()),
    }
}

/// The root tree `base` (None: empty) with `edits` applied (see [`apply`]); new blobs are
/// written to the object database. Returns the new tree's id. wt's commits and `wt sync`'s
/// replays build their trees this way.
pub(in crate::store) fn tree_with_edits(
    repo: &Repository,
    base: Option<&Tree<'_>>,
    edits: &[Edit],
) -> Result<Oid> {
    let mut changes: Vec<PathChange<'_>> = Vec::with_capacity(edits.len());
    for e in edits {
        let oid = match e {
            Edit::Write { content, .. } => Some(repo.blob(content)?),
            Edit::Delete { .. } => None,
        };
        changes.push((e.path().split('/').collect(), oid));
    }
    match apply(repo, base, "", &changes)? {
        Some(id) => Ok(id),
        None => Ok(repo.treebuilder(None)?.write()?),
    }
}

/// The refusal for a commit that would replace or write through an entry wt did not create:
/// `path` is a symbolic link, a submodule or a folder (or a file where a folder must go).
fn not_a_place_for(path: &str, what: EntryKind, needed: &str) -> Error {
    let is = match what {
        EntryKind::Symlink => "a symbolic link",
        EntryKind::Gitlink => "a submodule (gitlink)",
        EntryKind::Tree => "a folder",
        EntryKind::File => "a file",
        EntryKind::NotUtf8 | EntryKind::Other => "an entry wt does not know",
    };
    Error::refused(format!(
        "refusing to change the state branch: {path} is {is} where wt needs {needed}; wt never writes through or replaces an entry it did not create"
    ))
    .with_hint(format!(
        "remove or rename {path} on the state branch (`git rm`), then retry; `wt check` lists such entries"
    ))
}

/// Apply `changes` (path components → new blob or deletion) to `base`, recursively,
/// rebuilding only the trees along changed paths. Returns None for an empty tree. Refuses a
/// change whose path runs through, or lands on, anything but folders and regular files.
fn apply(
    repo: &Repository,
    base: Option<&Tree<'_>>,
    prefix: &str,
    changes: &[PathChange<'_>],
) -> Result<Option<Oid>> {
    let mut builder = repo.treebuilder(base)?;
    let mut groups: BTreeMap<&str, Vec<PathChange<'_>>> = BTreeMap::new();
    let full = |name: &str| {
        if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}/{name}")
        }
    };
    for (parts, oid) in changes {
        let Some((first, rest)) = parts.split_first() else {
            continue;
        };
        if let Some(e) = builder.get(first)? {
            let kind = entry_kind(&e);
            if rest.is_empty() && kind != EntryKind::File {
                return Err(not_a_place_for(&full(first), kind, "a ticket file"));
            }
            if !rest.is_empty() && kind != EntryKind::Tree {
                return Err(not_a_place_for(&full(first), kind, "a folder"));
            }
        }
        if rest.is_empty() {
            match oid {
                Some(o) => {
                    // An executable ticket stays executable.
                    let mode = match builder.get(first)? {
                        Some(e) if e.filemode() == 0o100755 => 0o100755,
                        _ => 0o100644,
                    };
                    builder.insert(first, *o, mode)?;
                }
                None => {
                    if builder.get(first)?.is_some() {
                        builder.remove(first)?;
                    }
                }
            }
        } else {
            groups.entry(first).or_default().push((rest.to_vec(), *oid));
        }
    }
    for (name, sub) in groups {
        let sub_base = match builder.get(name)? {
            Some(e) if e.kind() == Some(ObjectType::Tree) => Some(repo.find_tree(e.id())?),
            _ => None,
        };
        match apply(repo, sub_base.as_ref(), &full(name), &sub)? {
            Some(id) => {
                builder.insert(name, id, 0o040000)?;
            }
            None => {
                if builder.get(name)?.is_some() {
                    builder.remove(name)?;
                }
            }
        }
    }
    if builder.is_empty() {
        return Ok(None);
    }
    Ok(Some(builder.write()?))
}

fn env_truthy(name: &str) -> bool {
    std::env::var(name)
        .map(|v| {
            !matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "" | "0" | "false" | "no" | "off"
            )
        })
        .unwrap_or(false)
}

/// The file `GIT_CONFIG_GLOBAL` names, when it is set to something other than empty or
/// /dev/null.
fn global_config_file() -> Option<PathBuf> {
    let v = std::env::var_os("GIT_CONFIG_GLOBAL")?;
    if v.is_empty() || v == "/dev/null" {
        return None;
    }
    Some(PathBuf::from(v))
}

/// libgit2's object cache keeps trees and commits only (never blobs: each ticket file is
/// read once), of any size: a one-ticket write looks up the same few trees (the root, `.work`,
/// the ticket's folders) five to ten times, and by default a tree over 4 KiB — `.work`
/// itself at 10,000 tickets — is read and inflated again each time.
fn cache_trees() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        #[allow(unsafe_code)]
        // SAFETY: called once, before any repository is opened, from the thread that opens
        // repositories; no other thread uses libgit2 yet.
        unsafe {
            let _ = git2::opts::set_cache_object_limit(git2::ObjectType::Blob, 0);
            let _ = git2::opts::set_cache_object_limit(git2::ObjectType::Tree, 1 << 24);
        }
        git2::opts::enable_caching(true);
    });
}

/// Make libgit2 read the same configuration files git would: it ignores
/// `GIT_CONFIG_NOSYSTEM` and `GIT_CONFIG_GLOBAL`, so point its search paths away from the
/// system and global files when those say so (the named global file is added after opening).
fn honour_git_config_env() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let nowhere = Path::new("/nonexistent/wt-no-config");
        let mut levels = Vec::new();
        if env_truthy("GIT_CONFIG_NOSYSTEM") {
            levels.push(git2::ConfigLevel::System);
            levels.push(git2::ConfigLevel::ProgramData);
        }
        if std::env::var_os("GIT_CONFIG_GLOBAL").is_some() {
            levels.push(git2::ConfigLevel::Global);
            levels.push(git2::ConfigLevel::XDG);
        }
        for level in levels {
            #[allow(unsafe_code)]
            // SAFETY: called once, before any repository is opened, from the thread that
            // opens repositories; no other thread reads libgit2's search paths concurrently.
            let _ = unsafe { git2::opts::set_search_path(level, nowhere) };
        }
    });
}

/// `rel` (a `.work/` path) inside the checkout `root`, after making sure that no part of it
/// below `root` — `.work`, a folder, the file itself — is a symbolic link: wt never reads or
/// writes through a link in a working tree.
pub fn no_link_on_the_way(root: &Path, rel: &str) -> Result<PathBuf> {
    let mut at = root.to_path_buf();
    let mut shown = String::new();
    let last = rel.split('/').count();
    for (k, part) in rel.split('/').enumerate() {
        if part.is_empty() || part == "." || part == ".." {
            return Err(Error::internal(format!("not a plain relative path: {rel}")));
        }
        at.push(part);
        if !shown.is_empty() {
            shown.push('/');
        }
        shown.push_str(part);
        match fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(Error::refused(format!(
                    "refusing to touch {rel} in {}: {shown} is a symbolic link, and wt never reads or writes through a link under .work/",
                    root.display()
                ))
                .with_hint(format!(
                    "remove the link (`git -C {} rm {shown}`, or `rm` if it is not tracked) and run `wt doctor`",
                    root.display()
                )))
            }
            Ok(m) if k + 1 < last && !m.is_dir() => {
                return Err(Error::refused(format!(
                    "refusing to touch {rel} in {}: {shown} is not a folder",
                    root.display()
                ))
                .with_hint(format!(
                    "move {shown} out of the way in {} (wt never replaces what it did not write)",
                    root.display()
                )))
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
            Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => break,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(root.join(rel))
}

/// Write a file by writing a temporary sibling and renaming it over the target.
pub fn write_atomic(path: &Path, content: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| Error::internal(format!("no parent folder for {}", path.display())))?;
    fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.wt-{}.tmp", std::process::id()));
    {
        // No fsync: a checkout copy is derived from the commit, which is the truth (git does
        // not fsync work-tree files either); the rename keeps readers from a torn file.
        let mut f = fs::File::create(&tmp)?;
        f.write_all(content)?;
        // The file it replaces keeps its permissions (an executable ticket stays one).
        if let Ok(m) = fs::metadata(path) {
            if m.is_file() {
                f.set_permissions(m.permissions())?;
            }
        }
    }
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(e.into());
    }
    Ok(())
}

/// Parse a git date as git accepts in GIT_AUTHOR_DATE: `@<secs> [+zzzz]`, `<secs> +zzzz`,
/// RFC 3339 or RFC 2822.
pub fn parse_git_date(s: &str) -> Option<Time> {
    let s = s.trim();
    let raw = s.strip_prefix('@').unwrap_or(s);
    let mut parts = raw.split_whitespace();
    if let Some(Ok(secs)) = parts.next().map(str::parse::<i64>) {
        let offset = parts.next().and_then(parse_tz).unwrap_or(0);
        return Some(Time::new(secs, offset));
    }
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(Time::new(
            dt.timestamp(),
            dt.offset().local_minus_utc() / 60,
        ));
    }
    if let Ok(dt) = chrono::DateTime::parse_from_rfc2822(s) {
        return Some(Time::new(
            dt.timestamp(),
            dt.offset().local_minus_utc() / 60,
        ));
    }
    None
}

fn parse_tz(s: &str) -> Option<i32> {
    let (sign, digits) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: i32 = digits[..2].parse().ok()?;
    let m: i32 = digits[2..].parse().ok()?;
    Some(sign * (h * 60 + m))
}

/// The author or committer signature: GIT_<ROLE>_NAME/EMAIL/DATE, then git config
/// user.name/user.email, then `wt <wt@localhost>`; the time honours WT_NOW too.
pub(crate) fn signature(role: &str, repo: &Repository) -> Result<Signature<'static>> {
    let cfg = repo.config().ok();
    let from_cfg = |k: &str| cfg.as_ref().and_then(|c| c.get_string(k).ok());
    let name = std::env::var(format!("GIT_{role}_NAME"))
        .ok()
        .or_else(|| from_cfg("user.name"))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "wt".to_string());
    let email = std::env::var(format!("GIT_{role}_EMAIL"))
        .ok()
        .or_else(|| from_cfg("user.email"))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "wt@localhost".to_string());
    let time = std::env::var(format!("GIT_{role}_DATE"))
        .ok()
        .and_then(|d| parse_git_date(&d))
        .or_else(|| crate::model::clock::override_now().map(|t| Time::new(t.timestamp(), 0)));
    let sig = match time {
        Some(t) => Signature::new(&name, &email, &t),
        None => Signature::now(&name, &email),
    };
    sig.map_err(|e| {
        Error::new(
            ErrorKind::Invalid,
            format!("bad git identity: {}", e.message()),
        )
    })
}

impl From<git2::Error> for Error {
    fn from(e: git2::Error) -> Self {
        let kind = match e.code() {
            git2::ErrorCode::Locked => ErrorKind::Busy,
            git2::ErrorCode::NotFound => ErrorKind::NotFound,
            _ => ErrorKind::Internal,
        };
        let mut err = Error::new(kind, format!("git: {}", e.message()));
        if e.code() == git2::ErrorCode::Locked {
            err = err.with_hint(
                "another process holds a git lock; retry, or run `wt doctor` if a crashed process left it behind",
            );
        }
        err
    }
}
