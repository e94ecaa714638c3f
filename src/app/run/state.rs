//! What a `wt run` keeps outside git so that it can resume after a crash: its identity, and
//! for each ticket it holds the claim token, worktree, branch, the iteration it reached, the
//! outcomes of the last iterations and the process group of a running agent.
//!
//! Everything lives under `<git common dir>/wt/run/`:
//! ```text
//! slot-1.lock            held (an OS file lock) while a run uses slot 1; a crashed run's
//!                        lock is released by the kernel, so the next run takes its slot
//! slot-1/identity        the agent name the run claims as (`wt-run-1-k3f9`)
//! slot-1/tickets/<ID>.json
//! logs/<ID>/<n>.prompt.md, <n>.log (stdout), <n>.stderr
//! worktrees/<ID>/        the ticket's worktree (unless `run.worktrees` says otherwise)
//! ```
//! Several runs on one repository take different slots, hence different identities, so they
//! never hold each other's claims.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The root of the executor's files under a git common dir.
pub fn root(common_dir: &Path) -> PathBuf {
    common_dir.join("wt").join("run")
}

/// The folder of ticket `id`'s iteration logs.
pub fn logs_dir(common_dir: &Path, id: &str) -> PathBuf {
    root(common_dir).join("logs").join(id)
}

/// One run's slot: held for the life of the process.
pub struct Slot {
    pub number: u32,
    pub identity: String,
    pub dir: PathBuf,
    /// Keeps the OS lock (released when the process ends, however it ends).
    _lock: File,
}

/// The first free slot (a crashed run's slot is free again), created if new.
pub fn take_slot(common_dir: &Path) -> Result<Slot> {
    let root = root(common_dir);
    fs::create_dir_all(&root)?;
    for number in 1..=64u32 {
        let lock_path = root.join(format!("slot-{number}.lock"));
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => continue,
            Err(std::fs::TryLockError::Error(e)) => return Err(e.into()),
        }
        let dir = root.join(format!("slot-{number}"));
        fs::create_dir_all(dir.join("tickets"))?;
        let id_path = dir.join("identity");
        let identity = match fs::read_to_string(&id_path) {
            Ok(s) if valid_identity(s.trim()) => s.trim().to_string(),
            _ => {
                let token = crate::model::lease::new_token();
                let id = format!(
                    "wt-run-{number}-{}",
                    token.get(..4).unwrap_or("0000").to_lowercase()
                );
                crate::store::write_atomic(&id_path, format!("{id}\n").as_bytes())?;
                id
            }
        };
        return Ok(Slot {
            number,
            identity,
            dir,
            _lock: file,
        });
    }
    Err(Error::busy(
        "64 `wt run` processes already work this repository",
    ))
}

fn valid_identity(s: &str) -> bool {
    !s.is_empty()
        && s.len() < 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What a run keeps about one ticket it holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TicketState {
    pub id: String,
    pub token: String,
    pub branch: String,
    pub worktree: PathBuf,
    /// The agent profile working it.
    pub agent: String,
    /// The last iteration started (0: none yet).
    pub iteration: u32,
    /// Why the last iterations did not finish the ticket, newest last (at most a few).
    pub outcomes: Vec<String>,
    /// The process group of the agent running now, if any.
    pub pgid: Option<u32>,
    /// Verified work waiting for or in the merge queue (commit id).
    pub verified: Option<String>,
    /// With votes: the attempt that won (its branch and worktree are this state's now).
    pub vote_winner: Option<u32>,
}

impl Slot {
    fn ticket_path(&self, id: &str) -> PathBuf {
        self.dir.join("tickets").join(format!("{id}.json"))
    }

    /// Every ticket state this slot kept (unreadable files are skipped and reported).
    pub fn tickets(&self) -> (Vec<TicketState>, Vec<String>) {
        let mut out = Vec::new();
        let mut bad = Vec::new();
        let Ok(rd) = fs::read_dir(self.dir.join("tickets")) else {
            return (out, bad);
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.extension().and_then(|x| x.to_str()) != Some("json") {
                continue;
            }
            match fs::read(&p)
                .ok()
                .and_then(|b| serde_json::from_slice::<TicketState>(&b).ok())
            {
                Some(s) => out.push(s),
                None => bad.push(p.display().to_string()),
            }
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        (out, bad)
    }

    pub fn save(&self, s: &TicketState) -> Result<()> {
        save_at(&self.ticket_path(&s.id), s)
    }

    pub fn forget(&self, id: &str) {
        let _ = fs::remove_file(self.ticket_path(id));
    }

    /// Where ticket state files of this slot live (for workers on other threads).
    pub fn ticket_file(&self, id: &str) -> PathBuf {
        self.ticket_path(id)
    }
}

/// Write a ticket state atomically.
pub fn save_at(path: &Path, s: &TicketState) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(s).map_err(|e| Error::internal(e.to_string()))?;
    crate::store::write_atomic(path, &bytes)
}

/// Every ticket state of every slot, with whether that slot's run is alive (its lock held):
/// what `wt status` shows as running loops.
pub fn all_tickets(common_dir: &Path) -> Vec<(String, bool, TicketState)> {
    let root = root(common_dir);
    let mut out = Vec::new();
    let Ok(rd) = fs::read_dir(&root) else {
        return out;
    };
    let mut slots: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("slot-"))
        })
        .collect();
    slots.sort();
    for dir in slots {
        let identity = fs::read_to_string(dir.join("identity"))
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        let alive = fs::OpenOptions::new()
            .write(true)
            .open(dir.with_extension("lock"))
            .map(|f| matches!(f.try_lock(), Err(std::fs::TryLockError::WouldBlock)))
            .unwrap_or(false);
        let Ok(rd) = fs::read_dir(dir.join("tickets")) else {
            continue;
        };
        for e in rd.flatten() {
            if let Some(s) = fs::read(e.path())
                .ok()
                .and_then(|b| serde_json::from_slice::<TicketState>(&b).ok())
            {
                out.push((identity.clone(), alive, s));
            }
        }
    }
    out.sort_by(|a, b| a.2.id.cmp(&b.2.id));
    out
}
