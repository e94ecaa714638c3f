//! What killed processes left behind, noticed by every wt command before it starts: unstaged
//! edits a pre-commit hook killed outright had set aside (put back, see
//! [`hooks::restore_left_patches`]), an `index.lock` or branch ref lock a killed wt left
//! (removed: they block every git command or commit), and wt writes that were interrupted after their commit (finished, see
//! [`recovery::recover`]), so that no ordinary `git commit -a` afterwards takes a stale
//! checkout for the truth. `wt doctor` reports the same things without changing them
//! unless asked (`--fix`).

use crate::app::hooks;
use crate::store::recovery;
use crate::workspace::Workspace;

/// Repair what killed processes left, where that is safe now; say what was done or what is
/// left to do. A wt writer running at the moment is left to finish its own write.
pub fn tidy(ws: &Workspace) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(root) = ws.workdir() {
        notes.extend(hooks::restore_left_patches(root, ws.store.git_dir()));
    }
    let git_dir = ws.store.git_dir();
    let own_index_lock = git_dir.join(recovery::INDEX_MARKER).exists();
    let own_ref_lock = ws.store.common_dir().join(recovery::REF_MARKER).exists();
    if !own_index_lock && !own_ref_lock && recovery::pending_journals(&ws.store).is_empty() {
        return notes;
    }
    // Held by a running writer: its journal is in flight, its index lock in use.
    let Ok(Some(_lock)) = ws.try_lock() else {
        return notes;
    };
    // An index.lock a killed wt left here blocks every git command (`git commit` says
    // "Another git process seems to be running"): wt's marker proves it dead.
    if own_index_lock {
        match recovery::clear_own_index_lock(git_dir) {
            Ok(Some(n)) => notes.push(n),
            Ok(None) => {}
            Err(e) => notes.push(format!("{}; run `wt doctor --fix`", e.message)),
        }
    }
    // A ref lock a killed wt left: every commit on the branch fails until it is gone.
    match recovery::clear_own_ref_lock(&ws.store) {
        Ok(Some(n)) => notes.push(n),
        Ok(None) => {}
        Err(e) => notes.push(format!("{}; run `wt doctor --fix`", e.message)),
    }
    if recovery::pending_journals(&ws.store).is_empty() {
        return notes;
    }
    if ws.store.checkout_index_locked(&ws.branch).unwrap_or(true) {
        notes.push(
            "an interrupted wt write left a checkout of the state branch stale, and that checkout's index is locked (a git command is running there): run `wt doctor --fix` once it is done"
                .into(),
        );
        return notes;
    }
    match recovery::recover(&ws.store) {
        Ok(n) => notes.extend(n),
        Err(e) => notes.push(format!(
            "could not finish an interrupted wt write: {}; run `wt doctor --fix`",
            e.message
        )),
    }
    notes
}
