//! Crash safety: what a writer killed at any point (kill -9) can leave behind, and how the
//! next writer (or `wt doctor`) finds and clears it.
//!
//! - **The writer lock** (`wt.lock`) is an OS advisory lock: it dies with its process.
//! - **Objects and refs** are written by libgit2 to temporary files and renamed into place,
//!   and the branch moves by compare-and-swap, so a commit either landed whole or not at all.
//! - **`refs/heads/<branch>.lock`** left by a killed writer blocks every later ref update
//!   (libgit2 and git fail at once with "locked"). While *we* hold the writer lock no wt
//!   process on this machine can be updating the ref, and git holds ref locks for
//!   milliseconds, so a ref lock older than [`stale_after`] is stale: it is removed, and the
//!   removal is reported.
//! - **A checkout left behind**: the branch moved but a killed writer did not get to refresh
//!   the ticket files (or index entries) of a worktree that has the branch checked out. Every
//!   write that will touch checkouts records a *journal* (`<common dir>/wt-journal/*.json`:
//!   branch, old tip, paths) before committing and removes it once the checkouts are updated.
//!   A journal found by a later writer means its writer died: each recorded path whose file
//!   and index entry are still one of the versions wt itself could have left (old tip, new
//!   commit, tip now) is brought up to the tip; anything else is somebody's edit and is left.
//! - **`index.lock`** taken by a killed writer while refreshing a worktree's index: wt marks
//!   its own index writes with `wt-index-writer` next to the index, so a lock created together
//!   with that marker, found while we hold the writer lock, is provably a dead wt's and is
//!   removed. Any other `index.lock` may be a running git (e.g. `git commit` waiting for its
//!   editor) and is only reported.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use git2::{Oid, Repository};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::store::{Edit, Store};

/// Folder (in the common git dir) of journals of writes in flight.
pub const JOURNAL_DIR: &str = "wt-journal";
/// Marker wt writes next to a worktree's index while it holds that index's lock.
pub const INDEX_MARKER: &str = "wt-index-writer";
/// Default age after which a ref lock is stale.
const DEFAULT_STALE_SECS: u64 = 5;

/// How old a git ref lock must be before a writer holding the wt lock removes it
/// (`WT_STALE_LOCK_SECS`, default 5 seconds; git holds ref locks for milliseconds).
pub fn stale_after() -> Duration {
    let secs = std::env::var("WT_STALE_LOCK_SECS")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(DEFAULT_STALE_SECS);
    Duration::from_secs(secs)
}

/// Age of a file (zero when its time is in the future), None when it does not exist.
pub fn file_age(path: &Path) -> Option<Duration> {
    let m = fs::symlink_metadata(path).ok()?;
    let t = m.modified().ok()?;
    Some(SystemTime::now().duration_since(t).unwrap_or_default())
}

/// The lock file git and libgit2 take to update `refs/heads/<branch>`.
pub fn ref_lock_path(store: &Store, branch: &str) -> PathBuf {
    store
        .common_dir()
        .join("refs")
        .join("heads")
        .join(format!("{branch}.lock"))
}

fn describe(path: &Path, age: Duration) -> String {
    let size = fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    format!(
        "{} (age {:.1}s, {})",
        path.display(),
        age.as_secs_f64(),
        if size == 0 {
            "empty".to_string()
        } else {
            format!("{size} byte{}", if size == 1 { "" } else { "s" })
        }
    )
}

/// Remove a ref lock if it is stale. Call only while holding the wt writer lock.
/// Returns what was removed.
pub fn remove_if_stale(path: &Path) -> Result<Option<String>> {
    let Some(age) = file_age(path) else {
        return Ok(None);
    };
    if age < stale_after() {
        return Ok(None);
    }
    let what = describe(path, age);
    match fs::remove_file(path) {
        Ok(()) => Ok(Some(format!(
            "removed stale git lock {what}, left by a process that died while updating the ref"
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::internal(format!(
            "cannot remove stale lock {}: {e}",
            path.display()
        ))),
    }
}

/// After a compare-and-swap failed: if the branch's ref lock is held, wait until it goes away
/// or becomes stale, and remove it if stale. Call only while holding the wt writer lock.
/// Returns a note when a lock was removed.
pub fn wait_or_clear_ref_lock(store: &Store, branch: &str) -> Result<Option<String>> {
    let path = ref_lock_path(store, branch);
    let deadline = std::time::Instant::now() + stale_after() + Duration::from_secs(2);
    loop {
        if !path.exists() {
            return Ok(None);
        }
        if let Some(note) = remove_if_stale(&path)? {
            return Ok(Some(note));
        }
        if std::time::Instant::now() > deadline {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// A write in flight, recorded before committing and removed once checkouts are updated.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JournalEntry {
    pub branch: String,
    /// The tip the commit is made on (None: the branch is created).
    pub parent: Option<String>,
    pub paths: Vec<String>,
    /// Per path, the blob the write commits (None: deleted), to tell whether it landed.
    /// Absent in journals of earlier versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blobs: Option<Vec<Option<String>>>,
}

/// A journal file; [`Journal::finish`] removes it.
pub struct Journal {
    path: PathBuf,
}

impl Journal {
    pub fn begin(
        store: &Store,
        branch: &str,
        parent: Option<Oid>,
        edits: &[Edit],
    ) -> Result<Journal> {
        let dir = store.common_dir().join(JOURNAL_DIR);
        fs::create_dir_all(&dir)?;
        let entry = JournalEntry {
            branch: branch.to_string(),
            parent: parent.map(|p| p.to_string()),
            paths: edits.iter().map(|e| e.path().to_string()).collect(),
            blobs: Some(
                edits
                    .iter()
                    .map(|e| match e {
                        Edit::Write { content, .. } => {
                            crate::store::hash_blob(content).map(|o| o.to_string())
                        }
                        Edit::Delete { .. } => None,
                    })
                    .collect(),
            ),
        };
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let path = dir.join(format!("{nanos}-{}.json", std::process::id()));
        let text = serde_json::to_vec(&entry)
            .map_err(|e| Error::internal(format!("cannot encode the write journal: {e}")))?;
        // Written whole or not at all (temp + rename). Not fsynced: it guards against killed
        // processes, whose writes the OS keeps, and costs no disk flush on every write.
        let tmp = path.with_extension("tmp");
        fs::write(&tmp, &text)?;
        fs::rename(&tmp, &path)?;
        Ok(Journal { path })
    }

    /// The write finished (or never landed): forget it.
    pub fn finish(self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// Journals left by writers that died, oldest first.
pub fn pending_journals(store: &Store) -> Vec<(PathBuf, Option<JournalEntry>)> {
    let dir = store.common_dir().join(JOURNAL_DIR);
    let Ok(rd) = fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out: Vec<(PathBuf, Option<JournalEntry>)> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let entry = fs::read(&p)
                .ok()
                .and_then(|b| serde_json::from_slice::<JournalEntry>(&b).ok());
            (p, entry)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The journaled write never committed (no checkout is touched before the commit lands):
/// its branch is still at the tip it started from, or the commit that followed that tip on
/// the branch is not the write's (it does not hold the blobs the journal recorded).
pub fn never_landed(store: &Store, entry: &JournalEntry) -> bool {
    let Ok(Some(tip)) = store.branch_tip(&entry.branch) else {
        return true;
    };
    let parent = entry.parent.as_deref().and_then(|p| Oid::from_str(p).ok());
    if Some(tip) == parent {
        return true;
    }
    let Some(blobs) = &entry.blobs else {
        return false;
    };
    let Some(commit) = journaled_commit(store.repo(), tip, parent) else {
        return false;
    };
    let landed = entry.paths.iter().zip(blobs).all(|(p, want)| {
        let got = store
            .blob_at(commit, p)
            .ok()
            .flatten()
            .map(|o| o.to_string());
        got == *want
    });
    !landed
}

/// Every checkout of the journaled branch already holds the tip's version of every path
/// the write touched, in its files and its index (the writer was killed just before it
/// removed its journal): nothing is stale.
pub fn checkouts_current(store: &Store, entry: &JournalEntry) -> Result<bool> {
    let Some(tip) = store.branch_tip(&entry.branch)? else {
        return Ok(true);
    };
    let paths: Vec<&str> = entry.paths.iter().map(String::as_str).collect();
    for checkout in store.checkouts_of(&entry.branch)? {
        let states = store.checkout_files(&checkout, &paths)?;
        for (p, st) in paths.iter().zip(states) {
            let want = store.blob_at(tip, p)?;
            let on_disk = if st.left_out { st.staged } else { st.on_disk };
            if on_disk != want || st.staged != want {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

/// Folder (in a worktree's git dir) where git writes files for wt as it would check them
/// out (`git checkout-index --prefix`): one subfolder per update, removed afterwards.
pub const CHECKOUT_SCRATCH: &str = "wt-checkout";

/// The subfolders of [`CHECKOUT_SCRATCH`] in `git_dir`: each was left by a killed wt when
/// the caller holds the writer lock (every wt that makes one holds it).
pub fn checkout_scratch_leftovers(git_dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = fs::read_dir(git_dir.join(CHECKOUT_SCRATCH)) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    out.sort();
    out
}

/// Remove what killed wt processes left in `git_dir`'s [`CHECKOUT_SCRATCH`]. Call only while
/// holding the wt writer lock. Returns what was removed.
pub fn remove_checkout_scratch(git_dir: &Path) -> Vec<String> {
    let mut notes = Vec::new();
    for p in checkout_scratch_leftovers(git_dir) {
        let gone = if p.is_dir() {
            fs::remove_dir_all(&p)
        } else {
            fs::remove_file(&p)
        };
        if gone.is_ok() {
            notes.push(format!(
                "removed {}, left by an interrupted wt write",
                p.display()
            ));
        }
    }
    notes
}

/// A new private folder for git to write checked-out files into (see [`CHECKOUT_SCRATCH`]),
/// removed when dropped; leftovers of killed writers are removed first. Call only while
/// holding the wt writer lock.
pub fn checkout_scratch(git_dir: &Path) -> Result<tempfile::TempDir> {
    remove_checkout_scratch(git_dir);
    let parent = git_dir.join(CHECKOUT_SCRATCH);
    fs::create_dir_all(&parent)?;
    Ok(tempfile::Builder::new()
        .prefix(&format!("{}-", std::process::id()))
        .tempdir_in(&parent)?)
}

/// Finish what killed writers left: journals (stale checkouts), stale index locks of wt's own,
/// and temporary files. Call only while holding the wt writer lock. Returns what was changed.
pub fn recover(store: &Store) -> Result<Vec<String>> {
    let mut notes: Vec<String> = clear_own_ref_lock(store)?.into_iter().collect();
    // A journal's temporary (killed before the rename): that write never committed.
    if let Ok(rd) = fs::read_dir(store.common_dir().join(JOURNAL_DIR)) {
        for e in rd.filter_map(|e| e.ok()) {
            if e.path().extension().is_some_and(|x| x == "tmp") {
                let _ = fs::remove_file(e.path());
            }
        }
    }
    let journals = pending_journals(store);
    for (path, entry) in journals {
        let Some(entry) = entry else {
            // Killed while writing the journal itself: nothing was committed after it.
            let _ = fs::remove_file(&path);
            continue;
        };
        let done = recover_one(store, &entry, &mut notes)?;
        if done {
            let _ = fs::remove_file(&path);
        }
    }
    Ok(notes)
}

fn blob_of(store: &Store, commit: Option<Oid>, path: &str) -> Result<Option<Oid>> {
    match commit {
        Some(c) => store.blob_at(c, path),
        None => Ok(None),
    }
}

/// The commit on `tip`'s first-parent line whose parent is `parent` (the journaled write).
fn journaled_commit(repo: &Repository, tip: Oid, parent: Option<Oid>) -> Option<Oid> {
    let mut cur = repo.find_commit(tip).ok()?;
    for _ in 0..10_000 {
        let p = cur.parent_id(0).ok();
        if p == parent {
            return Some(cur.id());
        }
        cur = cur.parent(0).ok()?;
    }
    None
}

/// Bring one journaled write's checkouts up to the tip. Returns false when it must be retried
/// (an index stayed locked).
fn recover_one(store: &Store, entry: &JournalEntry, notes: &mut Vec<String>) -> Result<bool> {
    let parent = match &entry.parent {
        Some(p) => Some(Oid::from_str(p).map_err(|e| Error::internal(e.message().to_string()))?),
        None => None,
    };
    let tip = store.branch_tip(&entry.branch)?;
    clear_own_index_locks(store, &entry.branch, notes)?;
    if never_landed(store, entry) {
        // Checkouts are only touched after the commit lands.
        return Ok(true);
    }
    let commit = tip.and_then(|t| journaled_commit(store.repo(), t, parent));
    if let (Some(c), Some(t)) = (commit, tip) {
        if c != t {
            let mut undone = Vec::new();
            for p in &entry.paths {
                let (before, after, now) = (
                    blob_of(store, parent, p)?,
                    blob_of(store, Some(c), p)?,
                    blob_of(store, Some(t), p)?,
                );
                if before != after && now == before {
                    undone.push(p.clone());
                }
            }
            if !undone.is_empty() {
                notes.push(format!(
                    "a later commit undid what an interrupted wt write ({}) committed to {}; run `wt doctor --fix` to restore it",
                    short(c),
                    undone.join(", ")
                ));
            }
        }
    }
    let mut complete = true;
    for checkout in store.checkouts_of(&entry.branch)? {
        let paths: Vec<&str> = entry.paths.iter().map(String::as_str).collect();
        // Files as git sees them (after its filters), whatever the index layout.
        let states = store.checkout_files(&checkout, &paths)?;
        let mut edits = Vec::new();
        for (p, st) in entry.paths.iter().zip(states) {
            remove_temp_files(&checkout, p, notes);
            let want = blob_of(store, tip, p)?;
            let allowed = [blob_of(store, parent, p)?, blob_of(store, commit, p)?, want];
            let staged = st.staged;
            // A path a sparse checkout leaves out has no file: only its entry counts.
            let on_disk = if st.left_out { staged } else { st.on_disk };
            if on_disk == want && staged == want {
                continue;
            }
            if allowed.contains(&on_disk) && allowed.contains(&staged) {
                edits.push(match want {
                    Some(oid) => Edit::Write {
                        path: p.clone(),
                        content: store.read_blob(oid)?,
                    },
                    None => Edit::Delete { path: p.clone() },
                });
            } else {
                notes.push(format!(
                    "left {p} in {} as it is: it has edits wt did not make (an interrupted wt write could not refresh it)",
                    checkout.display()
                ));
            }
        }
        if edits.is_empty() {
            continue;
        }
        let paths: Vec<String> = edits.iter().map(|e| e.path().to_string()).collect();
        match store.update_checkout(&checkout, &edits)? {
            None => notes.push(format!(
                "refreshed {} in {} (left behind by an interrupted wt write)",
                paths.join(", "),
                checkout.display()
            )),
            Some(w) => {
                complete = false;
                notes.push(w);
            }
        }
    }
    Ok(complete)
}

fn short(id: Oid) -> String {
    id.to_string().chars().take(10).collect()
}

/// The paths of the writes in flight on `branch` (journals of writers that are running or
/// died): while one is pending, a checkout of `branch` may hold stale copies of them.
pub fn pending_paths(store: &Store, branch: &str) -> std::collections::BTreeSet<String> {
    pending_journals(store)
        .into_iter()
        .filter_map(|(_, e)| e)
        .filter(|e| e.branch == branch)
        .flat_map(|e| e.paths)
        .collect()
}

/// In every checkout of `branch`: remove each of `files` (path, blob) that is on disk with
/// exactly that blob's content but has no entry in the index (an untracked copy of what is
/// about to be written there). Returns what was removed.
pub fn drop_identical_untracked(
    store: &Store,
    branch: &str,
    files: &[(String, Oid)],
) -> Result<Vec<String>> {
    let mut removed = Vec::new();
    let paths: Vec<&str> = files
        .iter()
        .map(|(p, _)| p.as_str())
        .filter(|p| !p.is_empty())
        .collect();
    for checkout in store.checkouts_of(branch)? {
        // Never through a link; such a path is left for the write to refuse.
        let plain: Vec<&str> = paths
            .iter()
            .copied()
            .filter(|p| crate::store::no_link_on_the_way(&checkout, p).is_ok())
            .collect();
        let states = store.checkout_files(&checkout, &plain)?;
        for (p, st) in plain.iter().zip(states) {
            let want = files.iter().find(|(f, _)| f == p).map(|(_, o)| *o);
            if st.staged.is_none() && !st.left_out && st.on_disk.is_some() && st.on_disk == want {
                let file = checkout.join(p);
                if fs::remove_file(&file).is_ok() {
                    removed.push(file.display().to_string());
                }
            }
        }
    }
    Ok(removed)
}

/// Remove `write_atomic` temporaries next to `path` (`.<name>.wt-<pid>.tmp`).
fn remove_temp_files(checkout: &Path, path: &str, notes: &mut Vec<String>) {
    let file = checkout.join(path);
    let (Some(dir), Some(name)) = (file.parent(), file.file_name()) else {
        return;
    };
    let prefix = format!(".{}.wt-", name.to_string_lossy());
    let Ok(rd) = fs::read_dir(dir) else { return };
    for e in rd.filter_map(|e| e.ok()) {
        let n = e.file_name().to_string_lossy().into_owned();
        if n.starts_with(&prefix) && n.ends_with(".tmp") && fs::remove_file(e.path()).is_ok() {
            notes.push(format!(
                "removed temporary file {} left by an interrupted wt write",
                e.path().display()
            ));
        }
    }
}

/// Index locks left by a killed wt in checkouts of `branch` (see the module docs).
fn clear_own_index_locks(store: &Store, branch: &str, notes: &mut Vec<String>) -> Result<()> {
    for checkout in store.checkouts_of(branch)? {
        let Ok(r) = Repository::open(&checkout) else {
            continue;
        };
        if let Some(n) = clear_own_index_lock(r.path())? {
            notes.push(n);
        }
    }
    Ok(())
}

/// In a worktree's git dir: remove `index.lock` if wt's marker shows a dead wt took it (we
/// hold the writer lock, so any wt that wrote the marker is gone), and a stale marker.
pub fn clear_own_index_lock(git_dir: &Path) -> Result<Option<String>> {
    let marker = git_dir.join(INDEX_MARKER);
    let Some(marker_t) = fs::metadata(&marker).ok().and_then(|m| m.modified().ok()) else {
        return Ok(None);
    };
    let lock = git_dir.join("index.lock");
    let mut note = None;
    if let Some(lock_t) = fs::metadata(&lock).ok().and_then(|m| m.modified().ok()) {
        let gap = match lock_t.duration_since(marker_t) {
            Ok(d) => d,
            Err(e) => e.duration(),
        };
        // wt takes the index lock right after writing its marker.
        if gap <= Duration::from_secs(2) {
            let age = file_age(&lock).unwrap_or_default();
            fs::remove_file(&lock).or_else(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    Ok(())
                } else {
                    Err(e)
                }
            })?;
            note = Some(format!(
                "removed {} (age {:.1}s): a wt process was killed while refreshing that index",
                lock.display(),
                age.as_secs_f64()
            ));
        }
    }
    let _ = fs::remove_file(&marker);
    Ok(note)
}

/// Marker wt writes in the common git dir while it moves a branch (libgit2 holds
/// `refs/heads/<branch>.lock` meanwhile): `<pid> <branch> <host>` (earlier versions wrote
/// no host).
pub const REF_MARKER: &str = "wt-ref-writer";

/// This machine's name, as the kernel has it (empty when unknown).
fn host_name() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

/// Is process `pid` alive on this machine? None when that cannot be told here.
fn pid_alive(pid: u32) -> Option<bool> {
    if pid == std::process::id() {
        return Some(true);
    }
    if cfg!(target_os = "linux") {
        // A zombie still has its entry: counted alive (never a wrong removal).
        Some(Path::new("/proc").join(pid.to_string()).exists())
    } else {
        None
    }
}

/// What a ref marker says: the branch, and whether the wt that wrote it is certainly gone.
/// Gone: its process is not alive on this machine (the marker names this machine, or is
/// from a version that named none), or, where liveness cannot be checked, the caller holds
/// the writer lock every marker writer holds. A marker naming another machine (a repository
/// on a shared disk), or a live process, proves nothing: its lock is left to the age rule.
fn ref_marker(text: &str) -> Option<(&str, bool)> {
    let mut f = text.split_whitespace();
    let pid = f.next()?.parse::<u32>().ok()?;
    let branch = f.next()?;
    if !crate::store::branch_name_is_valid(branch) {
        return None;
    }
    let here = f.next().is_none_or(|h| {
        let me = host_name();
        me.is_empty() || h == me
    });
    let gone = here && pid_alive(pid) != Some(true);
    Some((branch, gone))
}

/// wt's marker for the ref lock a commit is about to take; removed when dropped (right after
/// the compare-and-swap), so one left behind means a wt was killed moving the branch.
pub struct RefMarker {
    path: Option<PathBuf>,
}

impl RefMarker {
    pub fn new(store: &Store, branch: &str) -> RefMarker {
        let path = store.common_dir().join(REF_MARKER);
        let text = format!("{} {branch} {}", std::process::id(), host_name());
        let ok = fs::write(&path, text.trim_end()).is_ok();
        RefMarker {
            path: ok.then_some(path),
        }
    }
}

impl Drop for RefMarker {
    fn drop(&mut self) {
        if let Some(p) = &self.path {
            let _ = fs::remove_file(p);
        }
    }
}

/// The ref lock wt's marker names, if the marker and that lock exist and the marker's
/// writer is gone (a wt killed while moving the branch; see `ref_marker`).
pub fn own_ref_lock(store: &Store) -> Option<PathBuf> {
    let text = fs::read_to_string(store.common_dir().join(REF_MARKER)).ok()?;
    let (branch, gone) = ref_marker(&text)?;
    Some(ref_lock_path(store, branch)).filter(|l| gone && l.exists())
}

/// Remove the ref lock a killed wt left while moving a branch, which blocks every commit on
/// it (git: "cannot lock ref … File exists") until removed: wt's marker, left with it, shows
/// whose it is, so it goes at once rather than after [`stale_after`]: its process is not
/// alive on this machine (where that cannot be checked: no wt that wrote a marker is alive,
/// since each wrote it holding the writer lock). Call only while holding the wt writer lock.
/// Also removes a dead writer's marker left without a lock.
pub fn clear_own_ref_lock(store: &Store) -> Result<Option<String>> {
    let marker = store.common_dir().join(REF_MARKER);
    let Ok(text) = fs::read_to_string(&marker) else {
        return Ok(None);
    };
    let marker_t = fs::metadata(&marker).ok().and_then(|m| m.modified().ok());
    let mut note = None;
    if let Some((branch, true)) = ref_marker(&text) {
        let lock = ref_lock_path(store, branch);
        let lock_t = fs::metadata(&lock).ok().and_then(|m| m.modified().ok());
        if let (Some(lock_t), Some(marker_t)) = (lock_t, marker_t) {
            let gap = match lock_t.duration_since(marker_t) {
                Ok(d) => d,
                Err(e) => e.duration(),
            };
            // wt takes the ref lock right after writing its marker.
            if gap <= Duration::from_secs(2) {
                let age = file_age(&lock).unwrap_or_default();
                match fs::remove_file(&lock) {
                    Ok(()) => {
                        note = Some(format!(
                        "removed {} (age {:.1}s): a wt process was killed while moving the branch",
                        lock.display(),
                        age.as_secs_f64()
                    ))
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
    // A live writer's marker (see `ref_marker`) stays: its writer removes it.
    if ref_marker(&text).is_none_or(|(_, gone)| gone) {
        let _ = fs::remove_file(&marker);
    }
    Ok(note)
}

/// wt's marker for an index lock it is about to take; removed when dropped.
pub struct IndexMarker {
    path: Option<PathBuf>,
}

impl IndexMarker {
    pub fn new(git_dir: &Path) -> IndexMarker {
        let path = git_dir.join(INDEX_MARKER);
        let ok = fs::write(&path, std::process::id().to_string()).is_ok();
        IndexMarker {
            path: ok.then_some(path),
        }
    }
}

impl Drop for IndexMarker {
    fn drop(&mut self) {
        if let Some(p) = &self.path {
            let _ = fs::remove_file(p);
        }
    }
}

/// Has `index.lock` in this git dir been held longer than [`stale_after`]? (Then a writer
/// does not wait for it: it warns at once.)
pub fn index_lock_is_old(git_dir: &Path) -> bool {
    file_age(&git_dir.join("index.lock")).is_some_and(|a| a >= stale_after())
}

/// Fault injection for crash tests: `WT_FAULT=<point>` makes the process abort (like a kill)
/// at that point. Points: `before-commit` (the journal written, the branch not moved),
/// `after-commit` (the branch moved, no checkout refreshed yet), `before-index` (a
/// checkout's files refreshed, its index not), `checked-out` (git wrote the files of a
/// filtered checkout into wt's private folder, none is in place yet), `after-checkouts`
/// (every checkout refreshed, the journal not yet removed).
/// `WT_FAULT_PAUSE=<point>` makes the process stop there (sleeping until it is killed), so a
/// test can kill it with SIGKILL at that point; `ref-locked` is `wt sync` holding the
/// branch's ref lock.
pub fn fault(point: &str) {
    if std::env::var("WT_FAULT").is_ok_and(|v| v == point) {
        std::process::abort();
    }
    if std::env::var("WT_FAULT_PAUSE").is_ok_and(|v| v == point) {
        loop {
            std::thread::sleep(Duration::from_secs(1));
        }
    }
}
