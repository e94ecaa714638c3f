//! Advisory locks on files in the git common dir (`flock`, through `std::fs::File::lock`):
//! held across threads and processes on one machine, released when dropped or when the
//! process exits, however it exits. The writer lock (`wt.lock`) and the lock on ticket
//! worktree registrations (`wt-worktrees.lock`) are both this.

use std::fs::{File, OpenOptions};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// How long [`FileLock::acquire`] waits for another holder before it gives up.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(60);

/// A held lock on one file.
pub struct FileLock {
    _file: File,
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
            Ok(()) => Ok(Some(FileLock { _file: file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(e.into()),
        }
    }

    /// The lock on `path`, waiting for another holder (polling, 1 to 20 ms apart) for up to
    /// [`LOCK_TIMEOUT`]; then a busy error naming the file.
    pub fn acquire(path: &Path) -> Result<FileLock> {
        let file = open(path)?;
        let deadline = Instant::now() + LOCK_TIMEOUT;
        let mut wait = 1u64;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(FileLock { _file: file }),
                Err(std::fs::TryLockError::WouldBlock) => {
                    if Instant::now() > deadline {
                        return Err(Error::busy(format!(
                            "another wt process has held {} for over {}s",
                            path.display(),
                            LOCK_TIMEOUT.as_secs()
                        ))
                        .with_hint(
                            "wait for it to finish; the lock is released when that process exits",
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(wait));
                    wait = (wait * 2).min(20);
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(e.into()),
            }
        }
    }
}
