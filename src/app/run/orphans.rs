//! Ticket worktrees and `wt/<ID>` branches that no running `wt run` will come back to: their
//! ticket is done or gone, or nobody holds a live claim on it and no `wt run` state names it
//! (a stopped run resumes those), or the worktree's folder is gone. An escalated ticket's
//! worktree and branch are kept for a human (a note).
//! `wt doctor` reports them and `wt doctor --fix` removes them — except where removing
//! would lose work nobody integrated (commits the state branch lacks, or uncommitted files,
//! on a ticket that is not done): those are reported and kept.

use std::path::PathBuf;

use crate::error::Result;
use crate::model::ticket::Status;
use crate::workspace::{Snapshot, Workspace};

/// The branch prefix of ticket branches.
pub const BRANCH_PREFIX: &str = "wt/";

/// One orphan: a ticket branch, with its worktree if it has one.
#[derive(Debug, Clone)]
pub struct Orphan {
    pub branch: String,
    /// The linked worktree on the branch, if any.
    pub worktree: Option<PathBuf>,
    /// The worktree is registered but its folder is gone.
    pub folder_missing: bool,
    /// Why nothing will come back to it.
    pub reason: String,
    /// Set when removing it would lose work: what the work is. Such an orphan is kept.
    pub holds_work: Option<String>,
}

impl Orphan {
    /// A one-line description.
    pub fn describe(&self) -> String {
        let what = match &self.worktree {
            Some(p) if self.folder_missing => format!(
                "ticket branch {} has a worktree registered at {}, whose folder is gone",
                self.branch,
                p.display()
            ),
            Some(p) => format!("ticket worktree {} (branch {})", p.display(), self.branch),
            None => format!("ticket branch {}", self.branch),
        };
        format!("{what}: {}", self.reason)
    }
}

/// The ticket branches (and their worktrees) nothing will come back to.
pub fn find(ws: &Workspace, snap: &Snapshot) -> Result<Vec<Orphan>> {
    let store = &ws.store;
    let worktrees = store.ticket_worktrees(BRANCH_PREFIX)?;
    let mut branches: Vec<(String, Option<crate::store::Oid>)> = store
        .branches_with_prefix(BRANCH_PREFIX)?
        .into_iter()
        .map(|(b, tip)| (b, Some(tip)))
        .collect();
    for (_, b, head) in &worktrees {
        if !branches.iter().any(|(x, _)| x == b) {
            branches.push((b.clone(), *head));
        }
    }
    let state_tip = ws.tip()?;
    let now = crate::model::clock::now();
    let mut out = Vec::new();
    for (branch, tip) in branches {
        let id = &branch[BRANCH_PREFIX.len()..];
        let worktree = worktrees
            .iter()
            .find(|(_, b, _)| *b == branch)
            .map(|(p, _, _)| p.clone());
        let folder_missing = worktree.as_ref().is_some_and(|p| !p.exists());
        let ticket = snap.get(id);
        if ticket.is_some_and(|t| t.status == Status::Escalated) {
            // A human looks at what the agent left: kept, shown as a note.
            out.push(Orphan {
                reason: format!("ticket {id} is escalated"),
                holds_work: Some("its last attempt, for a human to inspect".to_string()),
                branch,
                worktree,
                folder_missing,
            });
            continue;
        }
        let resumable = named_by_run_state(store.common_dir(), id);
        let reason = match ticket {
            None => format!("there is no ticket {id}"),
            Some(t) if t.status == Status::Done => format!("ticket {id} is done"),
            Some(t) if t.claimed_by.is_none() => format!("nobody has claimed ticket {id}"),
            Some(t) if t.is_stale(now) => format!(
                "the claim of {} on ticket {id} has expired",
                t.claimed_by.as_deref().unwrap_or("?")
            ),
            Some(_) if folder_missing => "its folder is gone".to_string(),
            Some(_) => continue,
        };
        // A `wt run` that stopped (Ctrl-C releases its claims) resumes the ticket from its
        // state, worktree and all.
        let handed_in = ticket.is_some_and(|t| t.status == Status::Done);
        if resumable && !folder_missing && !handed_in {
            continue;
        }
        let mut holds_work = None;
        if !handed_in {
            let unmerged = match (tip, state_tip) {
                (Some(b), Some(s)) => !store.is_ancestor(b, s)?,
                (Some(_), None) => true,
                _ => false,
            };
            let dirty = match &worktree {
                Some(p) if !folder_missing => store.worktree_changes(p, 5)?,
                _ => Vec::new(),
            };
            if unmerged {
                holds_work = Some(format!("commits the state branch {} lacks", ws.branch));
            } else if !dirty.is_empty() {
                holds_work = Some(format!("uncommitted work ({})", dirty.join(", ")));
            }
        }
        out.push(Orphan {
            branch,
            worktree,
            folder_missing,
            reason,
            holds_work,
        });
    }
    Ok(out)
}

/// Does the state of some `wt run` slot (`<common>/wt/run/slot-*/tickets/<ID>.json`) name
/// ticket `id`?
fn named_by_run_state(common_dir: &std::path::Path, id: &str) -> bool {
    let root = crate::app::run::merge::run_dir(common_dir);
    let Ok(rd) = std::fs::read_dir(&root) else {
        return false;
    };
    rd.filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("slot-") && e.path().is_dir())
        .any(|e| {
            e.path()
                .join("tickets")
                .join(format!("{id}.json"))
                .is_file()
        })
}

/// Remove an orphan that holds no work: its worktree (files and registration) and its
/// branch. Returns what was done.
pub fn remove(ws: &Workspace, o: &Orphan) -> Result<String> {
    match &o.worktree {
        Some(p) => ws.store.remove_ticket_worktree(p, &o.branch, true)?,
        None => ws.store.delete_branch(&o.branch)?,
    }
    Ok(match &o.worktree {
        Some(p) => format!(
            "removed the worktree {} and the branch {} ({})",
            p.display(),
            o.branch,
            o.reason
        ),
        None => format!("deleted the branch {} ({})", o.branch, o.reason),
    })
}
