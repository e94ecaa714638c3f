//! A fast path for the one thing wt does to a checkout's git index: look up, and refresh in
//! place, the stage-0 entries of ticket files it just rewrote.
//!
//! libgit2 reads and writes the whole index through its general machinery (collision-detecting
//! SHA-1, a hash map of every entry, path validation of every entry); at 10,000 tickets that
//! costs 12–20 ms per write. Here the index is handled as bytes in git's own format
//! (`git help format-index`): entries whose path exists at stage 0 keep their size and place,
//! so a refresh overwrites their stat data and object id where they are, invalidates the
//! cache tree (`TREE`) along the changed paths and recomputes the trailer.
//!
//! Anything this module does not handle is reported as a fallback and the caller uses libgit2
//! as before: versions other than 2, 3 and 4; a null trailer (`index.skipHash`); a split index
//! (`link`), a sparse index (`sdir`) or any other required (lowercase) extension; a path that
//! is new, conflicted (other stages), skip-worktree or intent-to-add; a mode that is not a
//! plain non-executable file. (An assume-unchanged entry is refreshed in place: entry flags are
//! never touched, so the bit stays.) What libgit2 cannot read either (split
//! and sparse indexes), sparse checkouts and content git's filters convert go to the `git`
//! command ([`cli`]). A trailer that does not match the
//! content is never re-signed. Optional extensions: `EOIE` and `IEOT` (offsets and hashes of
//! the old layout) and `FSMN` (fsmonitor token: dropping it costs one full refresh) are
//! dropped; `UNTR`, `REUC` and other optional ones are kept byte for byte.
//!
//! The update follows git's protocol: `index.lock` is created exclusively (an existing lock
//! means somebody else is writing: [`Update::Locked`]), the index is read under it, and the
//! new content is written to the lock file and renamed over `index`. Like git, it writes
//! nothing when every entry already holds the new stat data and blob, and it smudges
//! racily clean entries of other paths before the index gets a newer timestamp (see
//! [`smudge_racy`]).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use git2::Oid;
use sha1::{Digest, Sha1};

const HASH_LEN: usize = 20;
/// Stat data (40 bytes) + object id + flags.
const ENTRY_HEADER: usize = 40 + HASH_LEN + 2;

const FLAG_EXTENDED: u16 = 0x4000;
const EXT_SKIP_WORKTREE: u16 = 0x4000;
const EXT_INTENT_TO_ADD: u16 = 0x2000;
const MODE_FILE: u32 = 0o100644;
const MODE_GITLINK: u32 = 0o160000;

static FAST_READS: AtomicUsize = AtomicUsize::new(0);
static FALLBACK_READS: AtomicUsize = AtomicUsize::new(0);
static FAST_UPDATES: AtomicUsize = AtomicUsize::new(0);
static FALLBACK_UPDATES: AtomicUsize = AtomicUsize::new(0);
static GIT_CLI: AtomicUsize = AtomicUsize::new(0);
/// Time spent in the fast path (reads, updates), in microseconds.
static READ_MICROS: AtomicUsize = AtomicUsize::new(0);
static UPDATE_MICROS: AtomicUsize = AtomicUsize::new(0);

fn add_micros(counter: &AtomicUsize, since: std::time::Instant) {
    let us = usize::try_from(since.elapsed().as_micros()).unwrap_or(usize::MAX);
    counter.fetch_add(us, Ordering::Relaxed);
}
static LAST_FALLBACK: std::sync::Mutex<Option<&'static str>> = std::sync::Mutex::new(None);

/// One line for stderr (`WT_DEBUG_INDEX=1`):
/// `wt-index: fast_reads=1 fallback_reads=0 fast_updates=1 fallback_updates=0 git_cli=0
/// read_us=800 update_us=1500 last_fallback=-` (fallbacks go to libgit2; `git_cli` counts
/// runs of `git` for indexes libgit2 cannot read either; `*_us`: time in this module).
pub fn stats_line() -> String {
    let last = LAST_FALLBACK.lock().ok().and_then(|l| *l).unwrap_or("-");
    format!(
        "wt-index: fast_reads={} fallback_reads={} fast_updates={} fallback_updates={} git_cli={} read_us={} update_us={} last_fallback={}",
        FAST_READS.load(Ordering::Relaxed),
        FALLBACK_READS.load(Ordering::Relaxed),
        FAST_UPDATES.load(Ordering::Relaxed),
        FALLBACK_UPDATES.load(Ordering::Relaxed),
        GIT_CLI.load(Ordering::Relaxed),
        READ_MICROS.load(Ordering::Relaxed),
        UPDATE_MICROS.load(Ordering::Relaxed),
        last.replace(' ', "_"),
    )
}

fn note_fallback(counter: &AtomicUsize, why: &'static str) {
    counter.fetch_add(1, Ordering::Relaxed);
    if let Ok(mut l) = LAST_FALLBACK.lock() {
        *l = Some(why);
    }
}

/// Count an index update that went to libgit2 without trying the fast path.
pub fn note_update_fallback(why: &'static str) {
    note_fallback(&FALLBACK_UPDATES, why);
}

/// `WT_FAST_INDEX=0` turns the fast path off (libgit2 only, as before it existed): for
/// comparisons, and as an escape hatch.
fn disabled() -> bool {
    std::env::var("WT_FAST_INDEX").is_ok_and(|v| v.trim() == "0")
}

/// Why the byte-level path was not taken (the caller falls back to libgit2).
pub type Unsupported = &'static str;

/// Git's index file of the working tree whose git dir is `git_dir` (as libgit2 opens it).
pub fn index_path(git_dir: &Path) -> PathBuf {
    git_dir.join("index")
}

/// The index of `git_dir` for reading, and its modification time in seconds (the racy-git
/// timestamp: entries modified in that second or later cannot be trusted by their stat data;
/// `u32::MAX` when unknown), both from one open file. None when there is no index file or
/// it cannot be read.
pub fn read_index(git_dir: &Path) -> Option<(IndexBytes, u32)> {
    let file = fs::File::open(index_path(git_dir)).ok()?;
    let meta = file.metadata().ok();
    let since = meta
        .as_ref()
        .and_then(|m| m.modified().ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(u32::MAX, |d| d.as_secs() as u32);
    let len = meta.map(|m| m.len());
    #[cfg(unix)]
    if let Some(map) = len
        .and_then(|l| usize::try_from(l).ok())
        .and_then(|l| crate::store::mapped::Mapped::of(&file, l))
    {
        return Some((IndexBytes::Mapped(map), since));
    }
    let mut data = Vec::with_capacity(len.unwrap_or(0) as usize);
    std::io::Read::read_to_end(&mut &file, &mut data).ok()?;
    Some((IndexBytes::Owned(data), since))
}

/// The bytes of an index file, read-only: mapped where possible (as git maps its index:
/// a 2 MB index read into fresh memory costs more in page faults and copying than
/// everything else `wt done` does with it), else read.
pub type IndexBytes = crate::store::mapped::FileBytes;

/// Index bytes whose trailer matched their content when they were read.
pub struct Verified(IndexBytes);

/// A path's stage-0 entry in an index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Staged {
    pub oid: Oid,
    /// The entry's mode (`0o100644`, `0o100755`, ...).
    pub mode: u32,
    /// The entry is marked skip-worktree (git does not look at its file; a sparse checkout
    /// leaves the file out of the work tree).
    pub skip_worktree: bool,
}

/// The stage-0 entry of each of `paths` in the index of `git_dir` (None for a path without
/// a stage-0 entry) and the bytes read, or None when the index must be read by libgit2
/// instead.
pub fn staged_blobs(git_dir: &Path, paths: &[&str]) -> Option<(Vec<Option<Staged>>, Verified)> {
    if disabled() {
        note_fallback(&FALLBACK_READS, "WT_FAST_INDEX=0");
        return None;
    }
    let start = std::time::Instant::now();
    let out = read_index(git_dir)
        .ok_or("the index could not be read")
        .and_then(|(data, _)| lookup_entries(&data, paths).map(|found| (found, Verified(data))));
    add_micros(&READ_MICROS, start);
    match out {
        Ok(v) => {
            FAST_READS.fetch_add(1, Ordering::Relaxed);
            Some(v)
        }
        Err(why) => {
            note_fallback(&FALLBACK_READS, why);
            None
        }
    }
}

/// The stage-0 object ids of `paths` in index bytes `data` (trailer checked).
pub fn lookup(data: &[u8], paths: &[&str]) -> Result<Vec<Option<Oid>>, Unsupported> {
    Ok(lookup_entries(data, paths)?
        .into_iter()
        .map(|e| e.map(|e| e.oid))
        .collect())
}

/// The stage-0 entries of `paths` in index bytes `data` (trailer checked).
pub fn lookup_entries(data: &[u8], paths: &[&str]) -> Result<Vec<Option<Staged>>, Unsupported> {
    let wanted: Vec<&[u8]> = paths.iter().map(|p| p.as_bytes()).collect();
    let parsed = parse(data, &wanted, false, None)?;
    (0..paths.len())
        .map(|i| {
            let stage0 = parsed.hits.iter().find(|(w, h)| *w == i && h.stage == 0);
            match stage0 {
                Some((_, h)) => {
                    let id = data
                        .get(h.offset + 40..h.offset + 40 + HASH_LEN)
                        .ok_or("entry out of range")?;
                    let oid = Oid::from_bytes(id).map_err(|_| "bad object id")?;
                    Ok(Some(Staged {
                        oid,
                        mode: be32(data, h.offset + 24)?,
                        skip_worktree: h.ext_flags & EXT_SKIP_WORKTREE != 0,
                    }))
                }
                None => Ok(None),
            }
        })
        .collect()
}

/// An entry of the index with everything git records about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: Vec<u8>,
    pub stat: Stat,
    pub oid: Oid,
    /// Stage (0 unless conflicted).
    pub stage: u8,
}

/// Every entry of index bytes `data` except those under the top-level folder `skip`
/// (`.work`): the code entries of a checkout whose branch also tracks the ticket files,
/// without building anything for the thousands of those. Err where the index is one this
/// module does not read (see the module docs) or an entry is skip-worktree or
/// intent-to-add: the caller then leaves it to libgit2 (or git).
///
/// The trailer is not checked: this only reads, as git reads an index (git checks the
/// checksum in `git fsck`, not on a normal read; see `verify_index_checksum` in git's
/// read-cache.c), and hashing the whole file cost more than the rest of the read. Every
/// entry is still checked for its shape. What rewrites an index ([`update_entries`],
/// [`patch`]) checks the trailer before it signs new content.
pub fn entries_except(data: &[u8], skip: &str) -> Result<Vec<Entry>, Unsupported> {
    if disabled() {
        note_fallback(&FALLBACK_READS, "WT_FAST_INDEX=0");
        return Err("WT_FAST_INDEX=0");
    }
    let start = std::time::Instant::now();
    let prefix = format!("{skip}/");
    let prefix = prefix.as_bytes();
    // A prefix of at most 8 bytes is compared with a path of 8 or more as one word (this
    // runs for each of the thousands of ticket entries).
    let word = (prefix.len() <= 8).then(|| {
        let mut w = [0u8; 8];
        w[..prefix.len()].copy_from_slice(prefix);
        (u64::from_le_bytes(w), u64::MAX >> (64 - 8 * prefix.len()))
    });
    let under = |path: &[u8]| match (word, path.get(..8)) {
        (Some((w, mask)), Some(head)) => {
            let mut h = [0u8; 8];
            h.copy_from_slice(head);
            u64::from_le_bytes(h) & mask == w
        }
        _ => path.starts_with(prefix),
    };
    let mut out = Vec::new();
    let res = parse_visiting(data, &[], true, None, &mut |path: &[u8], hit: &Hit| {
        if under(path) {
            return Ok(());
        }
        if hit.ext_flags & (EXT_SKIP_WORKTREE | EXT_INTENT_TO_ADD) != 0 {
            return Err("a skip-worktree or intent-to-add entry");
        }
        let at = hit.offset;
        let id = data
            .get(at + 40..at + 40 + HASH_LEN)
            .ok_or("entry out of range")?;
        out.push(Entry {
            path: path.to_vec(),
            stat: Stat {
                ctime: (be32(data, at)?, be32(data, at + 4)?),
                mtime: (be32(data, at + 8)?, be32(data, at + 12)?),
                dev: be32(data, at + 16)?,
                ino: be32(data, at + 20)?,
                mode: be32(data, at + 24)?,
                uid: be32(data, at + 28)?,
                gid: be32(data, at + 32)?,
                size: be32(data, at + 36)?,
            },
            oid: Oid::from_bytes(id).map_err(|_| "bad object id")?,
            stage: hit.stage,
        });
        Ok(())
    });
    add_micros(&READ_MICROS, start);
    match res {
        Ok(_) => {
            FAST_READS.fetch_add(1, Ordering::Relaxed);
            Ok(out)
        }
        Err(why) => {
            note_fallback(&FALLBACK_READS, why);
            Err(why)
        }
    }
}

/// What [`update_entries`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Update {
    /// The entries were refreshed and the index replaced.
    Done,
    /// `index.lock` exists: somebody else is writing the index.
    Locked,
    /// Not handled here (nothing was changed): use libgit2.
    Fallback(Unsupported),
}

/// The stat data git records for a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    pub ctime: (u32, u32),
    pub mtime: (u32, u32),
    pub dev: u32,
    pub ino: u32,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u32,
}

impl Stat {
    /// The stat data of a regular non-executable file (what wt writes), from lstat like git;
    /// Err for anything else.
    #[cfg(unix)]
    pub fn of(path: &Path) -> Result<Stat, Unsupported> {
        use std::os::unix::fs::MetadataExt;
        let m = fs::symlink_metadata(path).map_err(|_| "a changed file could not be read")?;
        if !m.file_type().is_file() || m.mode() & 0o111 != 0 {
            return Err("a changed file is not a plain file");
        }
        // git keeps the low 32 bits of every field.
        Ok(Stat {
            ctime: (m.ctime() as u32, m.ctime_nsec() as u32),
            mtime: (m.mtime() as u32, m.mtime_nsec() as u32),
            dev: m.dev() as u32,
            ino: m.ino() as u32,
            mode: MODE_FILE,
            uid: m.uid(),
            gid: m.gid(),
            size: m.size() as u32,
        })
    }

    #[cfg(not(unix))]
    pub fn of(_path: &Path) -> Result<Stat, Unsupported> {
        Err("stat data is only computed on unix")
    }
}

/// Refresh the stage-0 entries of `writes` (path relative to `workdir`, new blob id) in the
/// index of `git_dir` from the files now in `workdir`. `known`: bytes of this index read and
/// verified before (if the index still holds exactly them, the trailer is not checked again).
pub fn update_entries(
    git_dir: &Path,
    workdir: &Path,
    writes: &[(&str, Oid)],
    known: Option<Verified>,
) -> Update {
    if writes.is_empty() {
        return Update::Done;
    }
    if disabled() {
        note_fallback(&FALLBACK_UPDATES, "WT_FAST_INDEX=0");
        return Update::Fallback("WT_FAST_INDEX=0");
    }
    let start = std::time::Instant::now();
    let out = update_locked(git_dir, workdir, writes, known);
    add_micros(&UPDATE_MICROS, start);
    match out {
        Update::Done => {
            FAST_UPDATES.fetch_add(1, Ordering::Relaxed);
        }
        Update::Fallback(why) => note_fallback(&FALLBACK_UPDATES, why),
        Update::Locked => {}
    }
    out
}

/// `index.lock`, removed on drop unless it was renamed into place.
struct LockFile {
    path: PathBuf,
    file: Option<fs::File>,
    done: bool,
}

impl Drop for LockFile {
    fn drop(&mut self) {
        self.file.take();
        if !self.done {
            let _ = fs::remove_file(&self.path);
        }
    }
}

fn update_locked(
    git_dir: &Path,
    workdir: &Path,
    writes: &[(&str, Oid)],
    known: Option<Verified>,
) -> Update {
    let index = index_path(git_dir);
    let lock_path = git_dir.join("index.lock");
    let file = match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&lock_path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Update::Locked,
        Err(_) => return Update::Fallback("index.lock could not be created"),
    };
    let mut lock = LockFile {
        path: lock_path,
        file: Some(file),
        done: false,
    };
    // The index's timestamp, as git takes it when it reads the index: entries whose files
    // were modified in that second or later are racily clean.
    let since = fs::metadata(&index)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs() as u32);
    // Read under the lock: whatever was read before may have been replaced since. Bytes
    // equal to the verified ones need no second check. Mapped privately where possible:
    // the entries are patched in the mapping's own copy of the pages they are on (the file
    // is never written through it), so the 2 MB are neither copied nor zeroed first.
    #[cfg(unix)]
    let mapped = fs::File::open(&index).ok().and_then(|f| {
        let len = usize::try_from(f.metadata().ok()?.len()).ok()?;
        crate::store::mapped::Mapped::of_private_writable(&f, len)
    });
    #[cfg(not(unix))]
    let mapped: Option<Vec<u8>> = None;
    let (mut data, trusted): (IndexBuf, bool) = match mapped {
        #[cfg(unix)]
        Some(m) => {
            let trusted = known.is_some_and(|k| *k.0 == *m.bytes());
            (IndexBuf::Mapped(m), trusted)
        }
        _ => match known.and_then(|k| same_content(&index, k)) {
            Some(d) => (IndexBuf::Owned(d), true),
            None => match fs::read(&index) {
                Ok(d) => (IndexBuf::Owned(d), false),
                Err(_) => return Update::Fallback("the index could not be read"),
            },
        },
    };
    let data = data.bytes_mut();
    let mut changes = Vec::with_capacity(writes.len());
    for (path, oid) in writes {
        let stat = match Stat::of(&workdir.join(path)) {
            Ok(s) => s,
            Err(why) => return Update::Fallback(why),
        };
        changes.push((*path, stat, *oid));
    }
    let racy = Racy { since, workdir };
    let (entries_end, tail) = match patch_in_place(data, &changes, trusted, Some(racy)) {
        Ok(Some(n)) => n,
        // Every entry already says so: like `git update-index`, leave the file alone.
        Ok(None) => return Update::Done,
        Err(why) => return Update::Fallback(why),
    };
    let Some(mut f) = lock.file.take() else {
        return Update::Fallback("index.lock was lost");
    };
    if f.write_all(&data[..entries_end]).is_err() || f.write_all(&tail).is_err() {
        return Update::Fallback("index.lock could not be written");
    }
    drop(f);
    if fs::rename(&lock.path, &index).is_err() {
        return Update::Fallback("index.lock could not be renamed");
    }
    lock.done = true;
    Update::Done
}

/// Index bytes to patch: a private writable mapping of the file, or a copy in memory.
enum IndexBuf {
    #[cfg(unix)]
    Mapped(crate::store::mapped::Mapped),
    Owned(Vec<u8>),
}

impl IndexBuf {
    fn bytes_mut(&mut self) -> &mut [u8] {
        match self {
            #[cfg(unix)]
            IndexBuf::Mapped(m) => m.bytes_mut(),
            IndexBuf::Owned(v) => v,
        }
    }
}

/// `known`'s bytes (in memory) if the file at `path` holds exactly them (compared chunk by
/// chunk).
fn same_content(path: &Path, known: Verified) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut f = fs::File::open(path).ok()?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut at = 0;
    loop {
        let n = f.read(&mut buf).ok()?;
        if n == 0 {
            return (at == known.0.len()).then(|| known.0.to_vec());
        }
        if known.0.get(at..at + n)? != &buf[..n] {
            return None;
        }
        at += n;
    }
}

/// The `git` command, for what libgit2 cannot do or does differently: indexes libgit2
/// cannot read (a split index: libgit2 1.9 fails with "unsupported mandatory extension:
/// 'link'"; a sparse index: 'sdir'), sparse checkouts (skip-worktree entries, whose files
/// git leaves out of the work tree) and git's filters (end-of-line conversion, `ident`,
/// filter drivers), which only git applies exactly as git does.
pub mod cli {
    use std::io::Write;
    use std::path::Path;
    use std::process::{Command, Stdio};

    use git2::Oid;

    use super::Staged;

    /// Why a git command did not do its job.
    #[derive(Debug)]
    pub enum Failure {
        /// `index.lock` exists: somebody else is writing the index.
        Locked,
        Failed(String),
    }

    impl std::fmt::Display for Failure {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            match self {
                Failure::Locked => f.write_str("the index is locked (index.lock exists)"),
                Failure::Failed(why) => f.write_str(why),
            }
        }
    }

    /// `git` run in `workdir` on exactly this git dir and work tree (never a `GIT_DIR` or
    /// `GIT_INDEX_FILE` from wt's own environment), pathspecs taken literally, without
    /// advice on stderr.
    fn git(git_dir: &Path, workdir: &Path) -> Command {
        let mut cmd = git_magic(git_dir, workdir);
        cmd.arg("--literal-pathspecs");
        cmd
    }

    /// [`git`] with pathspec magic (`:(top)`, `:(exclude)`) understood.
    fn git_magic(git_dir: &Path, workdir: &Path) -> Command {
        super::GIT_CLI.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut cmd = Command::new("git");
        cmd.current_dir(workdir)
            .args(["-c", "advice.sparseIndexExpanded=false"])
            .arg(format!("--git-dir={}", git_dir.display()))
            .arg(format!("--work-tree={}", workdir.display()));
        for var in [
            "GIT_DIR",
            "GIT_WORK_TREE",
            "GIT_INDEX_FILE",
            "GIT_COMMON_DIR",
            "GIT_PREFIX",
            "GIT_LITERAL_PATHSPECS",
            "GIT_GLOB_PATHSPECS",
            "GIT_NOGLOB_PATHSPECS",
            "GIT_ICASE_PATHSPECS",
        ] {
            cmd.env_remove(var);
        }
        cmd
    }

    /// Run `cmd` with `input` on its stdin (written from another thread, so that a large
    /// output cannot block a large input) and return its stdout.
    fn run(git_dir: &Path, mut cmd: Command, input: Vec<u8>) -> Result<Vec<u8>, Failure> {
        let child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let mut child = child.map_err(|e| Failure::Failed(format!("cannot run git: {e}")))?;
        let writer = child.stdin.take().map(|mut stdin| {
            std::thread::spawn(move || {
                // A git that exits early closes its stdin: its status tells why.
                let _ = stdin.write_all(&input);
            })
        });
        let out = child
            .wait_with_output()
            .map_err(|e| Failure::Failed(format!("cannot run git: {e}")))?;
        if let Some(w) = writer {
            let _ = w.join();
        }
        if out.status.success() {
            return Ok(out.stdout);
        }
        let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
        if err.contains("index.lock")
            && (err.contains("exists") || git_dir.join("index.lock").exists())
        {
            Err(Failure::Locked)
        } else {
            Err(Failure::Failed(err))
        }
    }

    fn nul_list(paths: &[&str]) -> Vec<u8> {
        let mut input = Vec::new();
        for p in paths {
            input.extend_from_slice(p.as_bytes());
            input.push(0);
        }
        input
    }

    /// More paths than this are not passed as arguments: the whole index is listed instead.
    const MAX_ARGS: usize = 64;

    /// The stage-0 entry of each of `paths`, from `git ls-files -s -t` (tag `S`:
    /// skip-worktree).
    pub fn staged_entries(
        git_dir: &Path,
        workdir: &Path,
        paths: &[&str],
    ) -> Result<Vec<Option<Staged>>, String> {
        let mut cmd = git(git_dir, workdir);
        cmd.args(["ls-files", "-s", "-t", "-z"]);
        if paths.len() <= MAX_ARGS {
            cmd.arg("--").args(paths);
        }
        let out = run(git_dir, cmd, Vec::new()).map_err(|e| e.to_string())?;
        let mut found = std::collections::HashMap::new();
        for rec in out.split(|&b| b == 0).filter(|r| !r.is_empty()) {
            // <tag> SP <mode> SP <oid> SP <stage> TAB <path>
            let text = String::from_utf8_lossy(rec);
            let Some((meta, path)) = text.split_once('\t') else {
                return Err(format!("unexpected git ls-files output: {text}"));
            };
            let mut f = meta.split(' ');
            let (tag, mode, oid, stage) = (f.next(), f.next(), f.next(), f.next());
            if stage == Some("0") {
                let oid = oid
                    .and_then(|o| Oid::from_str(o).ok())
                    .ok_or_else(|| format!("unexpected git ls-files output: {text}"))?;
                let mode = mode
                    .and_then(|m| u32::from_str_radix(m, 8).ok())
                    .ok_or_else(|| format!("unexpected git ls-files output: {text}"))?;
                let skip_worktree = tag == Some("S");
                found.insert(
                    path.to_string(),
                    Staged {
                        oid,
                        mode,
                        skip_worktree,
                    },
                );
            }
        }
        Ok(paths.iter().map(|p| found.get(*p).copied()).collect())
    }

    /// Every path in the index (`git ls-files`; a sparse index is listed in full).
    pub fn tracked_paths(git_dir: &Path, workdir: &Path) -> Result<Vec<String>, String> {
        let mut cmd = git(git_dir, workdir);
        cmd.args(["ls-files", "-z"]);
        let out = run(git_dir, cmd, Vec::new()).map_err(|e| e.to_string())?;
        Ok(out
            .split(|&b| b == 0)
            .filter(|r| !r.is_empty())
            .filter_map(|r| String::from_utf8(r.to_vec()).ok())
            .collect())
    }

    /// The blob id git gives each file at `paths` (relative to `workdir`, each present), with
    /// git's filters for its path applied, as `git add` would (nothing is written).
    pub fn hash_files(git_dir: &Path, workdir: &Path, paths: &[&str]) -> Result<Vec<Oid>, String> {
        if paths.is_empty() {
            return Ok(Vec::new());
        }
        let mut input = Vec::new();
        for p in paths {
            // One path a line; git unquotes a line that starts with a double quote.
            if p.contains(['\n', '"', '\\']) {
                input.push(b'"');
                for c in p.bytes() {
                    match c {
                        b'\n' => input.extend_from_slice(b"\\n"),
                        b'"' | b'\\' => input.extend_from_slice(&[b'\\', c]),
                        _ => input.push(c),
                    }
                }
                input.push(b'"');
            } else {
                input.extend_from_slice(p.as_bytes());
            }
            input.push(b'\n');
        }
        let mut cmd = git(git_dir, workdir);
        cmd.args(["hash-object", "--stdin-paths"]);
        let out = run(git_dir, cmd, input).map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&out);
        let oids: Vec<Oid> = text
            .lines()
            .map(|l| Oid::from_str(l.trim()))
            .collect::<Result<_, _>>()
            .map_err(|_| format!("unexpected git hash-object output: {text}"))?;
        if oids.len() != paths.len() {
            return Err(format!("unexpected git hash-object output: {text}"));
        }
        Ok(oids)
    }

    /// `git reset -q <commit> -- <paths>`: the index entry of each path becomes the
    /// commit's (or goes when the commit has none), the work tree is not touched. git keeps
    /// skip-worktree bits and gives a new path outside a sparse checkout one.
    pub fn reset(
        git_dir: &Path,
        workdir: &Path,
        commit: Oid,
        paths: &[&str],
    ) -> Result<(), Failure> {
        let mut cmd = git(git_dir, workdir);
        cmd.args(["reset", "-q"])
            .arg(commit.to_string())
            .args(["--pathspec-from-file=-", "--pathspec-file-nul"]);
        run(git_dir, cmd, nul_list(paths)).map(|_| ())
    }

    /// `git checkout-index --prefix=<dir>/`: each of `paths` (index entries) written as git
    /// would check it out, to `<dir>/<path>` (never into the work tree: `--temp` would write
    /// `.merge_file_*` files into its root, left there if wt is killed meanwhile).
    /// Skip-worktree entries are written only with `ignore_skip_worktree`.
    pub fn checkout_to(
        git_dir: &Path,
        workdir: &Path,
        paths: &[&str],
        ignore_skip_worktree: bool,
        dir: &Path,
    ) -> Result<(), Failure> {
        let mut prefix = dir.as_os_str().to_os_string();
        prefix.push("/");
        let mut arg = std::ffi::OsString::from("--prefix=");
        arg.push(&prefix);
        let mut cmd = git(git_dir, workdir);
        cmd.args(["checkout-index", "-z", "--stdin"]).arg(arg);
        if ignore_skip_worktree {
            cmd.arg("--ignore-skip-worktree-bits");
        }
        run(git_dir, cmd, nul_list(paths)).map(|_| ())
    }

    /// `git add --refresh -- <paths>`: the stat data of each entry is taken from its file
    /// when the file holds the entry's content.
    pub fn refresh(git_dir: &Path, workdir: &Path, paths: &[&str]) -> Result<(), Failure> {
        if paths.is_empty() {
            return Ok(());
        }
        let mut cmd = git(git_dir, workdir);
        cmd.args([
            "add",
            "--refresh",
            "--pathspec-from-file=-",
            "--pathspec-file-nul",
        ]);
        run(git_dir, cmd, nul_list(paths)).map(|_| ())
    }

    /// The working tree's tree as `git add -A && git write-tree` would make it, without the
    /// top-level entry `exclude` being looked at, in a copy of the index (`index` is the
    /// index file; the user's index is neither written nor locked). `temp` is the path for
    /// the copy, removed afterwards.
    pub fn worktree_tree(
        git_dir: &Path,
        workdir: &Path,
        index: &Path,
        temp: &Path,
        exclude: &str,
    ) -> Result<Oid, String> {
        match std::fs::copy(index, temp) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("cannot copy the index: {e}")),
        }
        let out = (|| {
            let with_index = |args: &[&str]| {
                let mut cmd = git_magic(git_dir, workdir);
                // A copy of a split index is written whole, never as a new shared index.
                cmd.env("GIT_INDEX_FILE", temp)
                    .args(["-c", "core.splitIndex=false"])
                    .args(args);
                cmd
            };
            let mut add = with_index(&["add", "-A", "--", ":(top)"]);
            add.arg(format!(":(top,exclude,literal){exclude}"));
            run(git_dir, add, Vec::new()).map_err(|e| e.to_string())?;
            let tree =
                run(git_dir, with_index(&["write-tree"]), Vec::new()).map_err(|e| e.to_string())?;
            let text = String::from_utf8_lossy(&tree);
            Oid::from_str(text.trim())
                .map_err(|_| format!("unexpected git write-tree output: {text}"))
        })();
        let _ = std::fs::remove_file(temp);
        out
    }
}

/// An entry of a wanted path.
#[derive(Debug, Clone, Copy)]
struct Hit {
    offset: usize,
    stage: u8,
    ext_flags: u16,
}

/// What [`parse`] found out about an index.
struct Parsed {
    /// Where the extensions start.
    entries_end: usize,
    /// Signature and data range of each extension.
    exts: Vec<([u8; 4], std::ops::Range<usize>)>,
    /// Entries of wanted paths: index into `wanted`, entry.
    hits: Vec<(usize, Hit)>,
    /// Offset and path of every other entry modified at or after `racy_since` (see
    /// [`smudge_racy`]).
    racy: Vec<(usize, Vec<u8>)>,
}

fn be32(data: &[u8], at: usize) -> Result<u32, Unsupported> {
    data.get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_be_bytes)
        .ok_or("truncated index")
}

fn be16(data: &[u8], at: usize) -> Result<u16, Unsupported> {
    data.get(at..at + 2)
        .and_then(|b| b.try_into().ok())
        .map(u16::from_be_bytes)
        .ok_or("truncated index")
}

/// The trailer must be the SHA-1 of everything before it (a null trailer means
/// `index.skipHash`, not handled here).
fn verify(data: &[u8]) -> Result<usize, Unsupported> {
    if data.len() < 12 + HASH_LEN {
        return Err("truncated index");
    }
    let end = data.len() - HASH_LEN;
    let trailer = &data[end..];
    if trailer.iter().all(|&b| b == 0) {
        return Err("the index has no checksum (index.skipHash)");
    }
    if Sha1::digest(&data[..end]).as_slice() != trailer {
        return Err("the index checksum does not match");
    }
    Ok(end)
}

/// Check the trailer (unless `trusted`: bytes checked before) and walk every entry and
/// extension, recording the entries of `wanted` paths and, given an index timestamp
/// (seconds, not 0), the other entries that are racily clean by it.
fn parse(
    data: &[u8],
    wanted: &[&[u8]],
    trusted: bool,
    racy_since: Option<u32>,
) -> Result<Parsed, Unsupported> {
    parse_visiting(data, wanted, trusted, racy_since, &mut |_, _| Ok(()))
}

/// [`parse`], calling `visit` with every entry's path and [`Hit`] as it walks.
fn parse_visiting<F>(
    data: &[u8],
    wanted: &[&[u8]],
    trusted: bool,
    racy_since: Option<u32>,
    visit: &mut F,
) -> Result<Parsed, Unsupported>
where
    F: FnMut(&[u8], &Hit) -> Result<(), Unsupported>,
{
    let end = if trusted {
        data.len().checked_sub(HASH_LEN).ok_or("truncated index")?
    } else {
        verify(data)?
    };
    if end < 12 || data.get(0..4) != Some(b"DIRC") {
        return Err("not an index file");
    }
    // Everything below reads entries and extensions from `data[..end]` only.
    let data = &data[..end];
    let version = be32(data, 4)?;
    if !(2..=4).contains(&version) {
        return Err("unsupported index version");
    }
    let count = be32(data, 8)? as usize;
    let mut hits = Vec::new();
    let mut racy = Vec::new();
    let mut off = 12;
    let mut prev: Vec<u8> = Vec::new();
    let mut nameless = false;
    let racy_since = racy_since.filter(|&s| s != 0);
    // Many wanted paths (`wt doctor` looks at every ticket): look them up by path.
    let by_path = (wanted.len() > 16).then(|| {
        let mut map: std::collections::HashMap<&[u8], Vec<usize>> =
            std::collections::HashMap::with_capacity(wanted.len());
        for (i, w) in wanted.iter().enumerate() {
            map.entry(*w).or_default().push(i);
        }
        map
    });
    for _ in 0..count {
        // The fixed part of the entry (stat data, object id, flags), checked once.
        let head: &[u8; ENTRY_HEADER] = data
            .get(off..off + ENTRY_HEADER)
            .and_then(|b| b.try_into().ok())
            .ok_or("truncated index")?;
        let flags = u16::from_be_bytes([head[40 + HASH_LEN], head[40 + HASH_LEN + 1]]);
        let (header, ext_flags) = if flags & FLAG_EXTENDED != 0 {
            if version < 3 {
                return Err("extended flags in a version 2 index");
            }
            (ENTRY_HEADER + 2, be16(data, off + ENTRY_HEADER)?)
        } else {
            (ENTRY_HEADER, 0)
        };
        // The name length in the flags (0xFFF: that long or longer) saves a scan for the NUL.
        let name_len = (flags & 0x0FFF) as usize;
        let name_start = off + header;
        let next;
        let path: &[u8] = if version == 4 {
            let (strip, suffix_start) = varint(data, name_start, end)?;
            let keep = prev
                .len()
                .checked_sub(strip)
                .ok_or("bad path compression")?;
            let nul = find_nul(data, suffix_start, end)?;
            prev.truncate(keep);
            prev.extend_from_slice(&data[suffix_start..nul]);
            next = nul + 1;
            &prev
        } else {
            let nul = if name_len < 0xFFF && name_start + name_len < end {
                name_start + name_len
            } else {
                // 0xFFF: that long or longer.
                let nul = find_nul(data, name_start, end)?;
                if name_len != 0xFFF || nul - name_start < 0xFFF {
                    return Err("bad path length");
                }
                nul
            };
            // Entries are padded with 1-8 NULs to a multiple of 8 bytes: the last `pad`
            // bytes of the entry (which is longer than 8 bytes), checked as one word.
            next = off + ((header + (nul - name_start) + 8) & !7);
            let pad = next - nul;
            let last: [u8; 8] = data
                .get(next - 8..next)
                .and_then(|b| b.try_into().ok())
                .ok_or("bad entry padding")?;
            if u64::from_be_bytes(last) & (u64::MAX >> (64 - 8 * pad)) != 0 {
                return Err("bad entry padding");
            }
            &data[name_start..nul]
        };
        if version == 4 && path.len().min(0xFFF) != name_len {
            return Err("bad path length");
        }
        // (Entries of a split index replacing shared ones have no name: see `link` below.)
        nameless |= path.is_empty();
        let mut is_wanted = false;
        let hit = Hit {
            offset: off,
            stage: ((flags >> 12) & 3) as u8,
            ext_flags,
        };
        visit(path, &hit)?;
        if !wanted.is_empty() {
            match &by_path {
                Some(map) => {
                    if let Some(is) = map.get(path) {
                        is_wanted = true;
                        hits.extend(is.iter().map(|&i| (i, hit)));
                    }
                }
                None => {
                    for (i, w) in wanted.iter().enumerate() {
                        if *w == path {
                            is_wanted = true;
                            hits.push((i, hit));
                        }
                    }
                }
            }
        }
        // git's is_racy_timestamp (seconds only: a superset of its nanosecond variant;
        // submodules are never racy).
        if let Some(since) = racy_since {
            let mtime = u32::from_be_bytes([head[8], head[9], head[10], head[11]]);
            let mode = u32::from_be_bytes([head[24], head[25], head[26], head[27]]);
            if !is_wanted && mtime >= since && mode != MODE_GITLINK {
                racy.push((off, path.to_vec()));
            }
        }
        off = next;
    }
    let entries_end = off;
    let mut exts = Vec::new();
    while off < end {
        let sig: [u8; 4] = data
            .get(off..off + 4)
            .and_then(|b| b.try_into().ok())
            .ok_or("truncated extension")?;
        let size = be32(data, off + 4)? as usize;
        let start = off + 8;
        let stop = start.checked_add(size).ok_or("bad extension size")?;
        if stop > end {
            return Err("truncated extension");
        }
        match &sig {
            b"link" => return Err("split index"),
            b"sdir" => return Err("sparse index"),
            s if !s[0].is_ascii_uppercase() => return Err("unknown required index extension"),
            _ => {}
        }
        exts.push((sig, start..stop));
        off = stop;
    }
    if nameless {
        return Err("empty path in the index");
    }
    Ok(Parsed {
        entries_end,
        exts,
        hits,
        racy,
    })
}

fn find_nul(data: &[u8], from: usize, end: usize) -> Result<usize, Unsupported> {
    data.get(from..end)
        .and_then(|s| s.iter().position(|&b| b == 0))
        .map(|p| from + p)
        .ok_or("unterminated path")
}

/// Git's offset varint (as in index v4 path compression): value and the offset after it.
fn varint(data: &[u8], mut at: usize, end: usize) -> Result<(usize, usize), Unsupported> {
    let byte = |at: usize| -> Result<u8, Unsupported> {
        if at >= end {
            return Err("truncated varint");
        }
        Ok(data[at])
    };
    let mut c = byte(at)?;
    at += 1;
    let mut val = (c & 127) as usize;
    while c & 128 != 0 {
        c = byte(at)?;
        at += 1;
        val = val
            .checked_add(1)
            .and_then(|v| v.checked_mul(128))
            .and_then(|v| v.checked_add((c & 127) as usize))
            .ok_or("varint overflow")?;
    }
    Ok((val, at))
}

/// Rewrite the stage-0 entries of `changes` in index bytes `data` (stat data and object id),
/// invalidate the cache tree along the paths whose entries changed, drop extensions that
/// describe the old layout, and sign the result; `data` unchanged if no entry changed.
/// (Racily clean entries are not looked at: that needs the work tree.)
pub fn patch(mut data: Vec<u8>, changes: &[(&str, Stat, Oid)]) -> Result<Vec<u8>, Unsupported> {
    if let Some((entries_end, tail)) = patch_in_place(&mut data, changes, false, None)? {
        data.truncate(entries_end);
        data.extend_from_slice(&tail);
    }
    Ok(data)
}

/// The index's timestamp (seconds) and the work tree, to find racily clean entries.
#[derive(Clone, Copy)]
struct Racy<'a> {
    since: u32,
    workdir: &'a Path,
}

/// [`patch`] without copying the entries: they are patched in `data`, and the new index is
/// `data[..n]` followed by the returned tail (extensions and trailer); None when every entry
/// already held its new stat data and object id (nothing to write). With `racy`, racily
/// clean entries of other paths are smudged as git does.
fn patch_in_place(
    data: &mut [u8],
    changes: &[(&str, Stat, Oid)],
    trusted: bool,
    racy: Option<Racy<'_>>,
) -> Result<Option<(usize, Vec<u8>)>, Unsupported> {
    let wanted: Vec<&[u8]> = changes.iter().map(|(p, _, _)| p.as_bytes()).collect();
    let parsed = parse(data, &wanted, trusted, racy.map(|r| r.since))?;
    let mut changed: Vec<&[u8]> = Vec::with_capacity(changes.len());
    for (i, (_, stat, oid)) in changes.iter().enumerate() {
        let mut hits = parsed.hits.iter().filter(|(w, _)| *w == i).map(|(_, h)| h);
        let Some(hit) = hits.next() else {
            return Err("a changed path is not in the index");
        };
        if hit.stage != 0 || hits.next().is_some() {
            return Err("a changed path is conflicted");
        }
        // An assume-unchanged entry is refreshed like any other; its flags are not touched,
        // so the user's bit stays set.
        if hit.ext_flags & (EXT_SKIP_WORKTREE | EXT_INTENT_TO_ADD) != 0 {
            return Err("a changed path is skip-worktree or intent-to-add");
        }
        let o = hit.offset;
        if be32(data, o + 24)? != MODE_FILE || stat.mode != MODE_FILE {
            return Err("a changed path is not a plain file");
        }
        let fields = [
            stat.ctime.0,
            stat.ctime.1,
            stat.mtime.0,
            stat.mtime.1,
            stat.dev,
            stat.ino,
            stat.mode,
            stat.uid,
            stat.gid,
            stat.size,
        ];
        let mut new = [0u8; 40 + HASH_LEN];
        for (i, v) in fields.iter().enumerate() {
            new[i * 4..i * 4 + 4].copy_from_slice(&v.to_be_bytes());
        }
        new[40..].copy_from_slice(oid.as_bytes());
        let area = data
            .get_mut(o..o + 40 + HASH_LEN)
            .ok_or("entry out of range")?;
        // An entry that already says so is left as it is (git does not even invalidate the
        // cache tree for it).
        if area != new.as_slice() {
            area.copy_from_slice(&new);
            changed.push(wanted[i]);
        }
    }
    if changed.is_empty() {
        return Ok(None);
    }
    if let Some(racy) = racy {
        smudge_racy(data, &parsed.racy, racy.workdir)?;
    }
    let mut tail = Vec::new();
    for (sig, range) in &parsed.exts {
        let body = &data[range.clone()];
        match sig {
            b"TREE" => {
                let tree = invalidate_tree(body, &changed)?;
                push_ext(&mut tail, sig, &tree)?;
            }
            b"EOIE" | b"IEOT" | b"FSMN" => {}
            _ => push_ext(&mut tail, sig, body)?,
        }
    }
    let mut hasher = Sha1::new();
    hasher.update(&data[..parsed.entries_end]);
    hasher.update(&tail);
    tail.extend_from_slice(hasher.finalize().as_slice());
    Ok(Some((parsed.entries_end, tail)))
}

/// Smudge (set the recorded size to 0 of) each racily clean entry whose file no longer
/// holds its blob, as git does whenever it writes an index (`ce_smudge_racily_clean_entry`;
/// git's Documentation/technical/racy-git.txt): an entry recorded in the same second as the
/// index was written may describe a file modified again within that second, and once the
/// index is rewritten with a later timestamp nothing would tell git to look at its content.
/// `racy`: offset and path of each entry recorded at or after the index's timestamp.
///
/// As in git, an entry whose mtime or size no longer matches its file is left alone (git
/// sees the change anyway), and so is a file that cannot be read. Where this differs from
/// git it smudges more, never less: the stat fields git can be told to ignore (ctime, inode,
/// owner, nanoseconds, the executable bit) are not compared, and content is hashed without
/// git's filters; a smudged entry only makes git hash the file once more.
#[cfg(unix)]
fn smudge_racy(
    data: &mut [u8],
    racy: &[(usize, Vec<u8>)],
    workdir: &Path,
) -> Result<(), Unsupported> {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::MetadataExt;
    for (o, path) in racy {
        let o = *o;
        let file = workdir.join(OsStr::from_bytes(path));
        let Ok(m) = fs::symlink_metadata(&file) else {
            continue;
        };
        // Only the fields git always compares; with any of them changed git sees the
        // change anyway.
        let matches =
            be32(data, o + 8)? == m.mtime() as u32 && be32(data, o + 36)? == m.size() as u32;
        if !matches {
            continue;
        }
        let content = if m.file_type().is_symlink() {
            fs::read_link(&file).map(|t| t.into_os_string().into_encoded_bytes())
        } else {
            fs::read(&file)
        };
        let Ok(content) = content else {
            continue;
        };
        let mut hasher = Sha1::new();
        hasher.update(format!("blob {}\0", content.len()).as_bytes());
        hasher.update(&content);
        let recorded = data
            .get(o + 40..o + 40 + HASH_LEN)
            .ok_or("entry out of range")?;
        if hasher.finalize().as_slice() != recorded {
            data[o + 36..o + 40].fill(0);
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn smudge_racy(_: &mut [u8], racy: &[(usize, Vec<u8>)], _: &Path) -> Result<(), Unsupported> {
    if racy.is_empty() {
        Ok(())
    } else {
        Err("racily clean entries are only checked on unix")
    }
}

fn push_ext(out: &mut Vec<u8>, sig: &[u8; 4], body: &[u8]) -> Result<(), Unsupported> {
    let size = u32::try_from(body.len()).map_err(|_| "extension too big")?;
    out.extend_from_slice(sig);
    out.extend_from_slice(&size.to_be_bytes());
    out.extend_from_slice(body);
    Ok(())
}

/// Parse an ASCII decimal (optionally negative) ending at `stop`.
fn decimal(data: &[u8], at: &mut usize, stop: u8) -> Result<i64, Unsupported> {
    let rest = data.get(*at..).ok_or("truncated cache tree")?;
    let len = rest
        .iter()
        .position(|&b| b == stop)
        .ok_or("truncated cache tree")?;
    let text = std::str::from_utf8(&rest[..len]).map_err(|_| "bad cache tree")?;
    let n = text.parse::<i64>().map_err(|_| "bad cache tree")?;
    *at += len + 1;
    Ok(n)
}

/// Re-encode a `TREE` extension with every directory on the way to `paths` (the root
/// included) invalidated, as git's `cache_tree_invalidate_path` does.
fn invalidate_tree(body: &[u8], paths: &[&[u8]]) -> Result<Vec<u8>, Unsupported> {
    let mut dirs: Vec<&[u8]> = vec![b""];
    for p in paths {
        for (i, &c) in p.iter().enumerate() {
            if c == b'/' && !dirs.contains(&&p[..i]) {
                dirs.push(&p[..i]);
            }
        }
    }
    let mut out = Vec::with_capacity(body.len());
    let mut at = 0;
    // The full path of the current node; per open directory: the length of its full path
    // and how many of its subtrees are still to come.
    let mut path: Vec<u8> = Vec::new();
    let mut stack: Vec<(usize, i64)> = Vec::new();
    let mut seen_root = false;
    while at < body.len() {
        if seen_root && stack.is_empty() {
            return Err("trailing data in the cache tree");
        }
        let node_start = at;
        let nul = find_nul(body, at, body.len()).map_err(|_| "bad cache tree")?;
        let name = &body[at..nul];
        at = nul + 1;
        let entries = decimal(body, &mut at, b' ')?;
        let subtrees = decimal(body, &mut at, b'\n')?;
        if subtrees < 0 || entries < -1 {
            return Err("bad cache tree");
        }
        let has_oid = entries >= 0;
        if has_oid {
            if body.len() < at + HASH_LEN {
                return Err("truncated cache tree");
            }
            at += HASH_LEN;
        }
        match stack.last_mut() {
            None => {
                if !name.is_empty() {
                    return Err("bad cache tree root");
                }
                seen_root = true;
                path.clear();
            }
            Some((parent_len, left)) => {
                *left -= 1;
                path.truncate(*parent_len);
                if !path.is_empty() {
                    path.push(b'/');
                }
                path.extend_from_slice(name);
            }
        }
        if has_oid && dirs.contains(&path.as_slice()) {
            out.extend_from_slice(name);
            out.push(0);
            out.extend_from_slice(format!("-1 {subtrees}\n").as_bytes());
        } else {
            out.extend_from_slice(&body[node_start..at]);
        }
        if subtrees > 0 {
            stack.push((path.len(), subtrees));
        }
        while stack.last().is_some_and(|(_, left)| *left == 0) {
            stack.pop();
        }
    }
    if !stack.is_empty() {
        return Err("truncated cache tree");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry_v2(path: &str, oid: [u8; 20], flags_extra: u16) -> Vec<u8> {
        let mut e = vec![0u8; 24];
        e.extend_from_slice(&MODE_FILE.to_be_bytes());
        e.extend_from_slice(&[0u8; 12]);
        e.extend_from_slice(&oid);
        e.extend_from_slice(&((path.len() as u16) | flags_extra).to_be_bytes());
        e.extend_from_slice(path.as_bytes());
        let len = (ENTRY_HEADER + path.len() + 8) & !7;
        e.resize(len, 0);
        e
    }

    fn index(entries: &[Vec<u8>], exts: &[(&[u8; 4], Vec<u8>)]) -> Vec<u8> {
        let mut d = b"DIRC".to_vec();
        d.extend_from_slice(&2u32.to_be_bytes());
        d.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        for e in entries {
            d.extend_from_slice(e);
        }
        for (sig, body) in exts {
            push_ext(&mut d, sig, body).unwrap();
        }
        let sum = Sha1::digest(&d);
        d.extend_from_slice(&sum);
        d
    }

    fn tree_node(name: &str, entries: i64, subs: i64, oid: u8) -> Vec<u8> {
        let mut v = name.as_bytes().to_vec();
        v.push(0);
        v.extend_from_slice(format!("{entries} {subs}\n").as_bytes());
        if entries >= 0 {
            v.extend_from_slice(&[oid; 20]);
        }
        v
    }

    fn stat() -> Stat {
        Stat {
            ctime: (1, 2),
            mtime: (3, 4),
            dev: 5,
            ino: 6,
            mode: MODE_FILE,
            uid: 7,
            gid: 8,
            size: 9,
        }
    }

    fn sample() -> Vec<u8> {
        let tree = [
            tree_node("", 3, 2, 1),
            tree_node(".work", 2, 1, 2),
            tree_node("jobs", 1, 0, 3),
            tree_node("src", 1, 0, 4),
        ]
        .concat();
        index(
            &[
                entry_v2(".work/a.md", [0xaa; 20], 0),
                entry_v2(".work/jobs/b.md", [0xbb; 20], 0),
                entry_v2("src/c.rs", [0xcc; 20], 0),
            ],
            &[
                (b"TREE", tree),
                (b"EOIE", vec![0; 24]),
                (b"UNTR", b"keep me".to_vec()),
            ],
        )
    }

    #[test]
    fn looks_up_stage0_blobs() {
        let d = sample();
        let got = lookup(&d, &[".work/jobs/b.md", "nope", "src/c.rs"]).unwrap();
        assert_eq!(got[0], Some(Oid::from_bytes(&[0xbb; 20]).unwrap()));
        assert_eq!(got[1], None);
        assert_eq!(got[2], Some(Oid::from_bytes(&[0xcc; 20]).unwrap()));
    }

    #[test]
    fn patch_rewrites_entry_invalidates_tree_and_resigns() {
        let d = sample();
        let new = Oid::from_bytes(&[0x11; 20]).unwrap();
        let out = patch(d.clone(), &[(".work/jobs/b.md", stat(), new)]).unwrap();
        assert_eq!(lookup(&out, &[".work/jobs/b.md"]).unwrap()[0], Some(new));
        let parsed = parse(&out, &[], false, None).unwrap();
        let sigs: Vec<&[u8; 4]> = parsed.exts.iter().map(|(s, _)| s).collect();
        assert_eq!(sigs, vec![b"TREE", b"UNTR"]);
        let tree = &out[parsed.exts[0].1.clone()];
        let want = [
            tree_node("", -1, 2, 0),
            tree_node(".work", -1, 1, 0),
            tree_node("jobs", -1, 0, 0),
            tree_node("src", 1, 0, 4),
        ]
        .concat();
        assert_eq!(tree, want.as_slice());
        assert_eq!(&out[parsed.exts[1].1.clone()], b"keep me");
        // The other entries are untouched.
        assert_eq!(out[..12 + 80], d[..12 + 80]);
    }

    #[test]
    fn patch_refuses_new_conflicted_and_skip_worktree_paths() {
        let new = Oid::from_bytes(&[0x11; 20]).unwrap();
        let d = sample();
        assert!(patch(d, &[("new.md", stat(), new)]).is_err());
        let conflicted = index(
            &[
                entry_v2("a.md", [1; 20], 1 << 12),
                entry_v2("a.md", [2; 20], 2 << 12),
            ],
            &[],
        );
        assert!(patch(conflicted, &[("a.md", stat(), new)]).is_err());
        let mut skip = entry_v2("a.md", [1; 20], FLAG_EXTENDED);
        skip.splice(62..62, EXT_SKIP_WORKTREE.to_be_bytes());
        skip.truncate((ENTRY_HEADER + 2 + 4 + 8) & !7);
        skip.resize((ENTRY_HEADER + 2 + 4 + 8) & !7, 0);
        let mut d = index(&[skip], &[]);
        d[4..8].copy_from_slice(&3u32.to_be_bytes());
        let end = d.len() - 20;
        let sum = Sha1::digest(&d[..end]);
        d[end..].copy_from_slice(&sum);
        assert!(lookup(&d, &["a.md"]).unwrap()[0].is_some());
        assert!(patch(d, &[("a.md", stat(), new)]).is_err());
    }

    #[test]
    fn refuses_required_extensions_and_null_trailer() {
        let d = index(&[entry_v2("a.md", [1; 20], 0)], &[(b"link", vec![0; 20])]);
        assert_eq!(lookup(&d, &["a.md"]), Err("split index"));
        let mut d = index(&[entry_v2("a.md", [1; 20], 0)], &[]);
        let end = d.len() - 20;
        d[end..].fill(0);
        assert!(lookup(&d, &["a.md"]).is_err());
    }

    #[test]
    fn damaged_index_never_panics_and_is_never_resigned() {
        let d = sample();
        let new = Oid::from_bytes(&[0x11; 20]).unwrap();
        for len in 0..d.len() {
            assert!(lookup(&d[..len], &[".work/a.md"]).is_err());
            assert!(patch(d[..len].to_vec(), &[(".work/a.md", stat(), new)]).is_err());
        }
        for i in 0..d.len() {
            for bit in [0x01u8, 0x80] {
                let mut bad = d.clone();
                bad[i] ^= bit;
                assert!(lookup(&bad, &[".work/a.md"]).is_err(), "flip at {i}");
                assert!(patch(bad, &[(".work/a.md", stat(), new)]).is_err());
            }
        }
    }

    #[test]
    fn damaged_but_signed_index_never_panics() {
        // Garbage with a valid trailer exercises the parser itself.
        let d = sample();
        let new = Oid::from_bytes(&[0x11; 20]).unwrap();
        let resign = |mut v: Vec<u8>| {
            if v.len() >= 20 {
                let end = v.len() - 20;
                let sum = Sha1::digest(&v[..end]);
                v[end..].copy_from_slice(&sum);
            }
            v
        };
        for len in 0..d.len() {
            let v = resign(d[..len].to_vec());
            let _ = lookup(&v, &[".work/a.md"]);
            let _ = patch(v, &[(".work/a.md", stat(), new)]);
        }
        for i in 0..d.len() - 20 {
            for bit in [0x01u8, 0x10, 0x80] {
                let mut bad = d.clone();
                bad[i] ^= bit;
                let bad = resign(bad);
                let _ = entries_except(&bad, ".work");
                let _ = lookup(&bad, &[".work/a.md"]);
                let _ = patch(bad, &[(".work/a.md", stat(), new)]);
            }
        }
    }

    #[test]
    fn entries_except_reads_without_the_trailer_and_checks_every_entry() {
        let d = sample();
        let code = |d: &[u8]| {
            entries_except(d, ".work").map(|es| {
                es.into_iter()
                    .map(|e| String::from_utf8_lossy(&e.path).into_owned())
                    .collect::<Vec<_>>()
            })
        };
        assert_eq!(code(&d), Ok(vec!["src/c.rs".to_string()]));
        // A read does not check the trailer (as git does not): a stale one reads the same.
        let mut stale = d.clone();
        let end = stale.len() - 1;
        stale[end] ^= 1;
        assert_eq!(code(&stale), Ok(vec!["src/c.rs".to_string()]));
        // Every entry's shape still is: a non-NUL padding byte, a wrong name length.
        let first_pad = 12 + ENTRY_HEADER + ".work/a.md".len();
        for at in first_pad..12 + 80 {
            let mut bad = d.clone();
            bad[at] = b'x';
            assert_eq!(code(&bad), Err("bad entry padding"), "padding byte {at}");
        }
        let mut bad = d.clone();
        bad[12 + ENTRY_HEADER - 1] -= 1;
        assert!(code(&bad).is_err());
        for len in 0..d.len() {
            let _ = code(&d[..len]);
        }
    }

    #[test]
    fn varint_matches_git() {
        // git encodes 128 as 0x80 0x00.
        assert_eq!(varint(&[0x80, 0x00], 0, 2), Ok((128, 2)));
        assert_eq!(varint(&[0x05], 0, 1), Ok((5, 1)));
        assert!(varint(&[0x80], 0, 1).is_err());
    }
}
