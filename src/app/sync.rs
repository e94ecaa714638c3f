//! `wt sync`: exchange the state branch with a git remote, and publish claims through it.
//!
//! One round: fetch the remote's branch; if the local branch has commits the remote lacks and
//! the remote has commits the local branch lacks, replay the local ones on top of the
//! remote's tip, each ticket file merged field by field ([`crate::model::merge`]); move the local
//! branch (compare-and-swap, refreshing checked-out ticket files like every wt write); push
//! with `--force-with-lease=<branch>:<fetched tip>`, which the remote accepts only while its
//! branch is still what we built on. A rejected push starts another round.
//!
//! Fetch and push run the `git` command (NOTES.md allows it; [`crate::store::remote`] says why
//! the git library's own transport will not do); every local read, merge, commit and ref
//! update goes through the git library ([`crate::store::history`], [`crate::store::replay`]).
//!
//! Only wt's own commits (those with a `Wt-Verb:` trailer, touching only `.work/`) are
//! replayed: local commits of anything else stop the sync with an error, so a sync never
//! rewrites anybody's code commits. Unpublished wt commits are replayed (new ids); published
//! history is never rewritten.

use std::fs::{File, OpenOptions};
use std::path::Path;
use std::time::{Duration, Instant};

use rand::RngExt;
use serde::Serialize;

use crate::app::claim::{self, ClaimOptions, Claimed};
use crate::error::{Error, ErrorKind, Result};
use crate::model::config::{SyncMode, WORK_DIR};
use crate::model::merge;
use crate::model::ticket;
use crate::model::ticket::Kind;
use crate::store::history::CommitInfo;
use crate::store::recovery;
use crate::store::remote::{Fetched, Pushed, RemoteError};
use crate::store::replay::BranchMove;
use crate::store::{Edit, Oid, Store};
use crate::workspace::{Workspace, Written};

/// Rounds of fetch-replay-push before giving up.
const MAX_ROUNDS: u32 = 30;

#[derive(Debug, Clone, Default)]
pub struct SyncOptions {
    /// The remote (default `sync.remote` from config).
    pub remote: Option<String>,
}

/// Both sides changed the same thing; the remote's version was kept.
#[derive(Debug, Clone, Serialize)]
pub struct Conflict {
    pub path: String,
    pub ticket: Option<String>,
    /// Subject of the local commit whose change lost.
    pub commit: String,
    pub field: String,
    pub ours: String,
    pub theirs: String,
}

/// What one `sync` did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncReport {
    pub remote: String,
    pub branch: String,
    /// Local tip before and after.
    pub local_before: Option<String>,
    pub tip: Option<String>,
    /// The remote's tip as last fetched.
    pub remote_tip: Option<String>,
    /// Remote commits the local branch took in.
    pub pulled: usize,
    /// Local commits replayed on top of the remote's.
    pub replayed: usize,
    /// Local commits left out because nothing of them survived the merge.
    pub dropped: usize,
    /// The remote accepted our tip.
    pub pushed: bool,
    pub rounds: u32,
    pub conflicts: Vec<Conflict>,
    pub warnings: Vec<String>,
}

/// `wt sync`: what the exchange with the remote did.
#[derive(Debug, Clone, Serialize)]
pub struct SyncCommandReport {
    pub schema_version: crate::app::report::SchemaVersion,
    #[serde(flatten)]
    pub sync: SyncReport,
}

/// The sync mode and remote configured at the state branch's tip.
pub fn configured(ws: &Workspace) -> Result<(SyncMode, String)> {
    // Only the config file: cheaper than a snapshot of every ticket.
    let cfg = match ws.tip()? {
        Some(tip) => match ws.store.blob_at(tip, crate::model::config::CONFIG_PATH)? {
            Some(b) => crate::model::config::Config::parse(&String::from_utf8_lossy(
                &ws.store.read_blob(b)?,
            ))
            .unwrap_or_default(),
            None => crate::model::config::Config::default(),
        },
        None => crate::model::config::Config::default(),
    };
    Ok((cfg.sync.mode, cfg.sync.remote))
}

/// An advisory lock serialising syncs of one repository (fetches update the same
/// remote-tracking ref); released by the OS when the process dies.
struct SyncLock {
    _file: File,
}

impl SyncLock {
    fn acquire(common: &Path) -> Result<SyncLock> {
        let path = common.join("wt-sync.lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(SyncLock { _file: file }),
                Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(Error::busy(format!(
                        "another wt sync has held {} for over 120s",
                        path.display()
                    )))
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(e.into()),
            }
        }
    }
}

/// A remote operation's failure as the user sees it.
fn remote_error(e: RemoteError) -> Error {
    match e {
        RemoteError::NoGit(e) => Error::setup(format!("cannot run git: {e}"))
            .with_hint("wt sync runs the `git` command for fetch and push; install git"),
        RemoteError::Store(e) => e,
    }
}

fn check_remote(store: &Store, remote: &str) -> Result<()> {
    if !store.has_remote(remote).map_err(remote_error)? {
        return Err(Error::setup(format!("there is no git remote `{remote}`"))
            .with_hint(format!(
                "add it (`git remote add {remote} URL`) or set `sync: {{remote: NAME}}` in .work/config.yaml"
            )));
    }
    Ok(())
}

/// Fetch the remote's branch into `refs/remotes/<remote>/<branch>`; None when the remote
/// has no such branch.
fn fetch(store: &Store, remote: &str, branch: &str) -> Result<Option<Oid>> {
    match store.fetch_branch(remote, branch).map_err(remote_error)? {
        Fetched::Tip(o) => Ok(Some(o)),
        Fetched::NoBranch => Ok(None),
        Fetched::Failed(err) => {
            let e = Error::new(
                ErrorKind::Busy,
                format!("git fetch {remote} failed: {}", err.trim()),
            );
            // A remote-tracking ref's lock: a git fetch running, or one killed (with a wt sync
            // killed with its process group) whose lock nobody can tell from a running one's.
            let tracking = format!("refs/remotes/{remote}/{branch}");
            Err(
                if err.contains("cannot lock ref") && err.contains(&tracking) {
                    e.with_hint(format!(
                    "{tracking}.lock is held: wait for the git command using it; if none is running, `wt doctor --fix` removes the lock once it is older than {}s (or delete the file)",
                    recovery::stale_after().as_secs()
                ))
                } else {
                    e.with_hint("check the remote is reachable (`git fetch` by hand), then retry")
                },
            )
        }
    }
}

/// The outcome of a push that did not fail outright.
enum Push {
    Accepted,
    /// The remote moved since we fetched (or the push was not a fast-forward).
    Rejected(String),
}

/// Push `new` to the remote's branch, only if it still is `expected`.
fn push(
    store: &Store,
    remote: &str,
    branch: &str,
    new: Oid,
    expected: Option<Oid>,
) -> Result<Push> {
    match store
        .push_branch(remote, branch, new, expected)
        .map_err(remote_error)?
    {
        Pushed::Accepted => Ok(Push::Accepted),
        Pushed::Stale(l) => Ok(Push::Rejected(l)),
        Pushed::Refused(l) => Err(Error::refused(format!(
            "the remote refused the push: {}",
            l.trim_start_matches('!').trim()
        ))
        .with_hint("a hook or permission on the remote rejects it; see `git push` by hand")),
        Pushed::Failed(stderr) => Err(Error::new(
            ErrorKind::Busy,
            format!("git push {remote} failed: {}", stderr.trim()),
        )
        .with_hint("check the remote is reachable, then retry")),
    }
}

/// A commit wt made (it carries a `Wt-Verb:` trailer).
fn is_wt_commit(c: &CommitInfo) -> bool {
    c.message.lines().any(|l| l.starts_with("Wt-Verb: "))
}

fn under_work(p: &str) -> bool {
    p.starts_with(&format!("{WORK_DIR}/"))
}

/// Exchange the state branch with the remote: fetch, replay, push (see the module docs).
pub fn sync(ws: &Workspace, opts: &SyncOptions) -> Result<SyncReport> {
    sync_from(ws, opts, None)
}

/// [`sync`], where `known` is the remote's tip as fetched a moment ago (the first round then
/// pushes without fetching again; the push's lease still checks it).
fn sync_from(ws: &Workspace, opts: &SyncOptions, known: Option<Option<Oid>>) -> Result<SyncReport> {
    let remote = match &opts.remote {
        Some(r) => r.clone(),
        None => configured(ws)?.1,
    };
    check_remote(&ws.store, &remote)?;
    let _sync = SyncLock::acquire(ws.store.common_dir())?;
    let mut report = SyncReport {
        remote: remote.clone(),
        branch: ws.branch.clone(),
        local_before: ws.tip()?.map(|o| o.to_string()),
        ..Default::default()
    };
    let mut rng = rand::rng();
    for round in 1..=MAX_ROUNDS {
        report.rounds = round;
        let theirs = match (round, known) {
            (1, Some(k)) => k,
            _ => fetch(&ws.store, &remote, &ws.branch)?,
        };
        report.remote_tip = theirs.map(|o| o.to_string());
        let tip = {
            let _lock = ws.lock()?;
            report.warnings.extend(recovery::recover(&ws.store)?);
            integrate(ws, theirs, &mut report)?
        };
        report.tip = tip.map(|o| o.to_string());
        let Some(tip) = tip else { break };
        if Some(tip) == theirs {
            break;
        }
        match push(&ws.store, &remote, &ws.branch, tip, theirs)? {
            Push::Accepted => {
                report.pushed = true;
                report.remote_tip = Some(tip.to_string());
                break;
            }
            Push::Rejected(why) => {
                if round == MAX_ROUNDS {
                    return Err(Error::busy(format!(
                        "the remote's {} kept moving; gave up after {MAX_ROUNDS} rounds ({why})",
                        ws.branch
                    ))
                    .with_hint("retry `wt sync` in a moment"));
                }
                let cap = 2u64.saturating_pow(round.min(6)) * 4;
                std::thread::sleep(Duration::from_millis(rng.random_range(1..=cap)));
            }
        }
    }
    Ok(report)
}

/// Bring the local branch on top of `theirs` (holding the writer lock). Returns the new tip.
fn integrate(ws: &Workspace, theirs: Option<Oid>, report: &mut SyncReport) -> Result<Option<Oid>> {
    let store = &ws.store;
    let local = ws.tip()?;
    let (Some(local), Some(theirs)) = (local, theirs) else {
        return match (local, theirs) {
            (None, Some(t)) => {
                move_branch(ws, None, t)?;
                Ok(Some(t))
            }
            (l, _) => Ok(l),
        };
    };
    if local == theirs {
        return Ok(Some(local));
    }
    let Some(base) = store.merge_base(local, theirs)? else {
        return Err(Error::refused(format!(
            "the local and the remote `{}` have no history in common",
            ws.branch
        ))
        .with_hint("they were set up separately; keep one (git push --force, or reset the local branch to the remote's)"));
    };
    if base == theirs {
        return Ok(Some(local));
    }
    report.pulled += store.count_commits(theirs, local)?;
    if base == local {
        move_branch(ws, Some(local), theirs)?;
        return Ok(Some(theirs));
    }
    // Local commits since the common base, oldest first; each must be wt's own.
    let mut mine = Vec::new();
    let mut cur = store.commit_info(local)?;
    while cur.id != base {
        if cur.parents.len() != 1 {
            return Err(Error::refused(format!(
                "local commit {} on `{}` is a merge; wt sync replays only wt's own commits",
                short(cur.id),
                ws.branch
            ))
            .with_hint("integrate the remote with git (`git pull --rebase`), then `wt sync`"));
        }
        if !is_wt_commit(&cur) {
            return Err(Error::refused(format!(
                "local commit {} \"{}\" on `{}` is not wt's and is not on the remote yet",
                short(cur.id),
                cur.summary,
                ws.branch
            ))
            .with_hint("wt sync never rewrites other commits: push them with git (`git pull --rebase && git push`), then `wt sync`"));
        }
        let parent = store.commit_info(cur.parents[0])?;
        mine.push(cur.id);
        cur = parent;
    }
    mine.reverse();
    let mut onto = theirs;
    for c in mine {
        onto = replay(ws, c, onto, report)?;
    }
    move_branch(ws, Some(local), onto)?;
    Ok(Some(onto))
}

fn short(o: Oid) -> String {
    o.to_string()[..10].to_string()
}

/// Re-make local commit `c` on top of `onto`, merging each ticket it changed.
fn replay(ws: &Workspace, c: Oid, onto: Oid, report: &mut SyncReport) -> Result<Oid> {
    let store = &ws.store;
    let commit = store.commit_info(c)?;
    // integrate() replays only commits with exactly one parent.
    let parent = *commit
        .parents
        .first()
        .ok_or_else(|| Error::internal(format!("commit {} has no parent", short(c))))?;
    let subject = commit.summary.clone();
    let paths = store.changed_paths(Some(parent), c)?;
    if let Some(p) = paths.iter().find(|p| !under_work(p)) {
        return Err(Error::refused(format!(
            "local commit {} \"{subject}\" changes {p}, outside {WORK_DIR}/",
            short(c)
        ))
        .with_hint("push it with git, then `wt sync`"));
    }
    let mut edits = Vec::new();
    let mut notes = Vec::new();
    for p in &paths {
        let base = store.blob_at(parent, p)?;
        let ours = store.blob_at(c, p)?;
        let theirs = store.blob_at(onto, p)?;
        if ours == theirs {
            continue;
        }
        if theirs == base {
            edits.push(match ours {
                Some(o) => Edit::Write {
                    path: p.clone(),
                    content: store.read_blob(o)?,
                },
                None => Edit::Delete { path: p.clone() },
            });
            continue;
        }
        let text =
            |o: Oid| -> Result<Option<String>> { Ok(String::from_utf8(store.read_blob(o)?).ok()) };
        let merged = match (base, ours, theirs) {
            (Some(b), Some(o), Some(t)) if ticket::is_ticket_path(p) => {
                match (text(b)?, text(o)?, text(t)?) {
                    (Some(b), Some(o), Some(t)) => merge::merge_ticket(&b, &o, &t).map(|m| (m, t)),
                    _ => None,
                }
            }
            _ => None,
        };
        let id = p
            .rsplit('/')
            .next()
            .and_then(|n| n.get(..2 + crate::model::id::ID_LEN))
            .filter(|_| ticket::is_ticket_path(p))
            .map(str::to_string);
        match merged {
            Some((m, theirs_text)) => {
                for f in m.conflicts {
                    notes.push(format!("{}: {} (kept remote)", p, f.field));
                    report.conflicts.push(Conflict {
                        path: p.clone(),
                        ticket: id.clone(),
                        commit: subject.clone(),
                        field: f.field,
                        ours: f.ours,
                        theirs: f.theirs,
                    });
                }
                if m.text != theirs_text {
                    edits.push(Edit::Write {
                        path: p.clone(),
                        content: m.text.into_bytes(),
                    });
                }
            }
            None => {
                let say = |o: Option<Oid>| if o.is_some() { "changed" } else { "deleted" };
                notes.push(format!("{p}: whole file (kept remote)"));
                report.conflicts.push(Conflict {
                    path: p.clone(),
                    ticket: id.clone(),
                    commit: subject.clone(),
                    field: "file".into(),
                    ours: say(ours).into(),
                    theirs: say(theirs).into(),
                });
            }
        }
    }
    if edits.is_empty() {
        report.dropped += 1;
        return Ok(onto);
    }
    // The tree of `onto` with the edits applied.
    let tree = store.tree_with_edits(onto, &edits)?;
    let mut message = commit.message.trim_end().to_string();
    for n in &notes {
        message.push_str(&format!("\nWt-Sync-Conflict: {n}"));
    }
    message.push('\n');
    let new = store.recommit(c, tree, onto, &message)?;
    report.replayed += 1;
    Ok(new)
}

/// Move the local state branch from `old` to `new` by compare-and-swap, refreshing the ticket
/// files of worktrees that have it checked out (refusing first if they have local edits).
fn move_branch(ws: &Workspace, old: Option<Oid>, new: Oid) -> Result<()> {
    let store = &ws.store;
    let checkouts = store.checkouts_of(&ws.branch)?;
    let paths = store.changed_paths(old, new)?;
    let mut edits = Vec::new();
    if !checkouts.is_empty() {
        if let Some(p) = paths.iter().find(|p| !under_work(p)) {
            return Err(Error::refused(format!(
                "the remote's `{}` changes {p} (outside {WORK_DIR}/), and `{}` is checked out at {}",
                ws.branch,
                ws.branch,
                checkouts[0].display()
            ))
            .with_hint(format!(
                "wt updates only ticket files in a worktree: bring the code in with git (`git -C {} pull --rebase`), then `wt sync`; or keep tickets on a branch of their own (`branch:` in .work/config.yaml)",
                checkouts[0].display()
            )));
        }
        let mut old_blobs = Vec::new();
        for p in &paths {
            let before = match old {
                Some(o) => store.blob_at(o, p)?,
                None => None,
            };
            old_blobs.push((p.clone(), before));
            edits.push(match store.blob_at(new, p)? {
                Some(b) => Edit::Write {
                    path: p.clone(),
                    content: store.read_blob(b)?,
                },
                None => Edit::Delete { path: p.clone() },
            });
        }
        for c in &checkouts {
            store.check_checkout_clean(c, &old_blobs)?;
        }
    }
    let journal = match edits.is_empty() {
        true => None,
        false => Some(recovery::Journal::begin(store, &ws.branch, old, &edits)?),
    };
    // wt's marker for the ref lock: one a killed sync leaves is removed at once by the next
    // wt (see recovery::clear_own_ref_lock), not after the staleness delay.
    let marker = recovery::RefMarker::new(store, &ws.branch);
    let moved = store.move_branch(&ws.branch, old, new, "wt: sync");
    drop(marker);
    if !matches!(moved, Ok(BranchMove::Moved)) {
        if let Some(j) = journal {
            j.finish();
        }
        return Err(match moved {
            Ok(_) => Error::busy(format!("`{}` moved while syncing", ws.branch))
                .with_hint("retry `wt sync`"),
            Err(e) => e,
        });
    }
    let mut behind = false;
    for c in &checkouts {
        if let Some(w) = store.update_checkout(c, &edits)? {
            behind = true;
            let _ = w;
        }
    }
    if let (Some(j), false) = (journal, behind) {
        j.finish();
    }
    Ok(())
}

/// Run a local write so that it is published: sync first (so the write sees the remote's
/// state), write, then sync again (push; replay when the remote moved). When the second sync
/// fails, `undo` runs (best effort; it says whether it undid the change) so that an
/// unpublished change is not pushed later by surprise, and the error is returned.
pub fn published<T>(
    ws: &Workspace,
    opts: &SyncOptions,
    write: impl FnOnce() -> Result<Written<T>>,
    undo: impl FnOnce(&Written<T>) -> bool,
) -> Result<(Written<T>, SyncReport)> {
    let before = sync(ws, opts)?;
    let w = write()?;
    if w.commit.is_none() {
        let rep = SyncReport {
            branch: ws.branch.clone(),
            tip: ws.tip()?.map(|o| o.to_string()),
            ..Default::default()
        };
        return Ok((w, rep));
    }
    let known = before
        .remote_tip
        .as_deref()
        .map(Oid::from_str)
        .transpose()
        .map_err(Error::from)?;
    match sync_from(ws, opts, Some(known)) {
        Ok(rep) => Ok((w, rep)),
        Err(e) => {
            let hint = if undo(&w) {
                "the change was not published and has been undone locally; retry"
            } else {
                "the change was not published; `wt sync` publishes it once the remote is reachable"
            };
            Err(Error {
                hint: Some(format!("{}; {hint}", e.hint.clone().unwrap_or_default())),
                ..e
            })
        }
    }
}

/// `sync: {mode: claim}` is set: the sync options to publish claims and their changes with.
pub fn claim_mode(ws: &Workspace) -> Result<Option<SyncOptions>> {
    let (mode, remote) = configured(ws)?;
    Ok((mode == SyncMode::Claim).then_some(SyncOptions {
        remote: Some(remote),
    }))
}

/// Run a write of a claim's life (release, heartbeat, done); in claim mode publish it through
/// the remote and check with `survived` that it is still in effect there. Returns the write
/// and warnings about sync conflicts.
pub fn maybe_published<T>(
    ws: &Workspace,
    write: impl FnOnce() -> Result<Written<T>>,
    survived: impl FnOnce(&Workspace, &T) -> Result<()>,
) -> Result<(Written<T>, Vec<String>)> {
    let Some(so) = claim_mode(ws)? else {
        return Ok((write()?, Vec::new()));
    };
    let (w, rep) = published(ws, &so, write, |_| false)?;
    survived(ws, &w.value)?;
    let warnings = rep
        .conflicts
        .iter()
        .map(|c| format!("sync conflict on {}: {} (kept remote)", c.path, c.field))
        .collect();
    Ok((w, warnings))
}

/// What to claim through the remote.
#[derive(Debug, Clone, Copy)]
pub enum ClaimTarget<'a> {
    Id(&'a str),
    Next(Option<Kind>),
}

/// How many claims `claim --next` tries when other clones keep winning.
const MAX_CLAIM_ROUNDS: u32 = 50;

/// Claim through the remote: the claim counts as won only once the remote accepted it with
/// our token. A claim another clone published first is lost: for an ID that is exit code 4
/// naming the winner; `--next` moves on to the next ready ticket.
pub fn claim_published(
    ws: &Workspace,
    target: ClaimTarget<'_>,
    agent: &str,
    opts: &ClaimOptions,
    sopts: &SyncOptions,
) -> Result<(Written<Claimed>, SyncReport)> {
    let mut lost = Vec::new();
    for _ in 0..MAX_CLAIM_ROUNDS {
        let (w, rep) = published(
            ws,
            sopts,
            || match target {
                ClaimTarget::Id(q) => claim::claim_with(ws, q, agent, opts),
                ClaimTarget::Next(k) => claim::claim_next_with(ws, k, agent, opts),
            },
            |w| {
                let t = &w.value.ticket;
                claim::release_with(ws, &t.id, agent, t.claim_token.as_deref(), false).is_ok()
            },
        )?;
        if w.commit.is_none() {
            return Ok((w, rep));
        }
        let id = w.value.ticket.id.clone();
        let snap = ws.snapshot()?;
        match snap.get(&id) {
            Some(t) if t.claim_token == w.value.ticket.claim_token => return Ok((w, rep)),
            Some(t) => {
                if let ClaimTarget::Id(_) = target {
                    let e = claim::held_by_other(t);
                    let hint = format!(
                        "another clone's claim reached the remote first; {}",
                        e.hint.clone().unwrap_or_default()
                    );
                    return Err(e.with_hint(hint));
                }
                lost.push(id);
            }
            None => {
                return Err(Error::not_found(format!(
                    "{id} is no longer on the remote's `{}`",
                    ws.branch
                )))
            }
        }
    }
    Err(Error::busy(format!(
        "other clones won every one of the {} tried ({})",
        crate::model::plural(lost.len(), "claim"),
        lost.join(", ")
    ))
    .with_hint("retry in a moment"))
}

/// After a published `wt done`: the remote's ticket must be done (else a remote change, such
/// as a takeover, superseded ours).
pub fn check_done(ws: &Workspace, t: &ticket::Ticket) -> Result<()> {
    match ws.snapshot()?.get(&t.id) {
        Some(now) if now.status == t.status => Ok(()),
        Some(now) => Err(Error::refused(format!(
            "{} was changed on the remote before your `done` reached it (now {}, claimed by {}); your done was not applied",
            t.id,
            now.status,
            now.claimed_by.as_deref().unwrap_or("nobody")
        ))
        .with_hint("your claim was superseded; pick another ticket (`wt ready`)")),
        None => Err(Error::not_found(format!("{} is no longer on the remote", t.id))),
    }
}

/// After a published heartbeat: the remote's claim must still be ours with our new expiry.
pub fn check_claim_unchanged(ws: &Workspace, t: &ticket::Ticket) -> Result<()> {
    match ws.snapshot()?.get(&t.id) {
        Some(now) if now.claim_token == t.claim_token && now.claim_expires == t.claim_expires => {
            Ok(())
        }
        Some(now) => Err(Error::refused(format!(
            "{}'s claim changed on the remote before your heartbeat reached it (now claimed by {})",
            t.id,
            now.claimed_by.as_deref().unwrap_or("nobody")
        ))
        .with_hint("your claim was superseded; stop working on this ticket")),
        None => Err(Error::not_found(format!(
            "{} is no longer on the remote",
            t.id
        ))),
    }
}
