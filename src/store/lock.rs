//! Advisory locks on files in the git common dir (`flock`, through `std::fs::File::lock`):
//! held across threads and processes on one machine, released when dropped or when the
//! process exits, however it exits. The writer lock (`wt.lock`) and the lock on ticket
//! worktree registrations (`wt-worktrees.lock`) are both this.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// How long [`FileLock::acquire`] waits for another holder before it gives up.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(60);

/// A held lock on one file.
pub struct FileLock {
    file: File,
}

fn open(path: &Path) -> Result<File> {
    Ok(OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?)
}

impl FileLock {
    /// The lock on `path` if it is free now; None when another holder has it.
    pub fn try_acquire(path: &Path) -> Result<Option<FileLock>> {
        let file = open(path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(FileLock { file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(e.into()),
        }
    }

    /// The lock on `path`, waiting for another holder (polling, 1 to 20 ms apart) for up to
    /// [`LOCK_TIMEOUT`]; then a busy error naming the file.
    pub fn acquire(path: &Path) -> Result<FileLock> {
        FileLock::acquire_within(path, LOCK_TIMEOUT, Duration::from_millis(20))?.ok_or_else(|| {
            Error::busy(format!(
                "another wt process has held {} for over {}s",
                path.display(),
                LOCK_TIMEOUT.as_secs()
            ))
            .with_hint("wait for it to finish; the lock is released when that process exits")
        })
    }

    /// The lock on `path`, waiting for another holder for up to `timeout` (polling from 1 ms
    /// apart, doubling up to `max_poll`); None when it is still held then.
    pub fn acquire_within(
        path: &Path,
        timeout: Duration,
        max_poll: Duration,
    ) -> Result<Option<FileLock>> {
        let file = open(path)?;
        let deadline = Instant::now() + timeout;
        let mut wait = Duration::from_millis(1);
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Some(FileLock { file })),
                Err(std::fs::TryLockError::WouldBlock) => {
                    if Instant::now() > deadline {
                        return Ok(None);
                    }
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(max_poll);
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(e.into()),
            }
        }
    }

    /// Write this process's id into the locked file, for the message of a process that waits
    /// too long ([`holder`]).
    pub fn record_holder(&self) {
        let mut f = &self.file;
        let _ = f.set_len(0);
        let _ = writeln!(f, "{}", std::process::id());
    }
}

/// What the holder of the lock on `path` recorded of itself ([`FileLock::record_holder`]):
/// its process id, or nothing.
pub fn holder(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .trim()
        .to_string()
}
