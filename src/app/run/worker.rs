//! One ticket's Ralph loop: iterations of a fresh agent in the ticket's worktree until the
//! work verifies and merges, the iterations run out (escalation), or the run stops.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};

use super::audit;
use super::cost;
use super::events::{Event, IterationRecord, Phase};
use super::merge::{self, Integrated, MergeRequest};
use super::process::{self, Ended, Launch};
use super::state::{self, TicketState};
use crate::app::ci::{self, Reporter, RunOptions};
use crate::app::context::{self, ContextOptions};
use crate::app::done::{self, DoneOptions};
use crate::error::{Error, Result};
use crate::model::agent::{self, AgentProfile, Placeholders, PromptVia};
use crate::model::agent_output;
use crate::model::clock;
use crate::model::config::MergeMode;
use crate::model::criteria;
use crate::model::journal;
use crate::model::lease;
use crate::model::ticket::{Status, Ticket};
use crate::store::{Edit, Oid};
use crate::workspace::{quoted, Message, Outcome, Reads, Snapshot, Workspace};

/// Iterations in a row that fail the same way without a commit before the ticket is
/// escalated early (an agent that cannot start, a missing login): more would not help.
const SAME_FAILURE_LIMIT: u32 = 3;

/// How many past outcomes a prompt shows.
const OUTCOMES_KEPT: usize = 5;

/// What every ticket loop of one run shares.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where to open the repository (the directory `wt run` was started in).
    pub repo: PathBuf,
    pub common_dir: PathBuf,
    /// The run's agent name (claims are held under it).
    pub identity: String,
    pub max_iterations: u32,
    pub signal: String,
    /// The integration branch.
    pub target: String,
    pub merge: MergeMode,
    /// The folder ticket worktrees go in.
    pub worktrees: PathBuf,
    /// Folder of the running `wt` binary, put first on the agents' PATH so that their `wt`
    /// is this one.
    pub wt_dir: Option<PathBuf>,
    /// The auditor's profile (name and profile) when the run audits reviewed tickets.
    pub auditor: Option<(String, AgentProfile)>,
    /// Keep the branches and worktrees of attempts that lost a vote.
    pub keep_losers: bool,
}

/// Messages from a ticket loop to the run.
pub enum Msg {
    Event(Event),
    /// The loop ended.
    Finished {
        ticket: String,
        finish: Finish,
    },
}

/// How a ticket loop ended.
#[derive(Debug, Clone)]
pub enum Finish {
    /// Integrated and finished (done or review).
    Merged,
    /// Out of iterations, or a failure no iteration can fix: a human takes over.
    Escalated(String),
    /// The run stopped working on it (interrupted, claim lost, setup failure); `release`:
    /// whether the claim should be given back.
    Stopped { reason: String, release: bool },
}

/// One ticket a loop works.
pub struct Job {
    pub state: TicketState,
    pub title: String,
    pub profile: AgentProfile,
    /// What the run has spent, shared by its loops (budgets are checked on it).
    pub spend: Arc<Spend>,
}

/// The run's spending so far, shared by every loop of it, and its budget.
#[derive(Debug)]
pub struct Spend {
    pub budget: crate::model::config::Budget,
    /// (dollars, tokens) so far.
    pub so_far: Mutex<(Option<f64>, u64)>,
    /// Set once the budget is spent: no new iteration starts.
    pub spent: AtomicBool,
    /// Why (set with `spent`).
    pub why: Mutex<Option<String>>,
}

impl Spend {
    pub fn new(budget: crate::model::config::Budget) -> Spend {
        Spend {
            budget,
            so_far: Mutex::new((None, 0)),
            spent: AtomicBool::new(false),
            why: Mutex::new(None),
        }
    }

    /// Add an iteration's cost; true when this made the budget spent.
    pub fn add(&self, usd: Option<f64>, tokens: u64) -> bool {
        let Ok(mut s) = self.so_far.lock() else {
            return false;
        };
        if let Some(u) = usd {
            *s.0.get_or_insert(0.0) += u;
        }
        s.1 += tokens;
        let why = match (self.budget.usd, s.0, self.budget.tokens) {
            (Some(max), Some(u), _) if u >= max - 1e-9 => {
                Some(format!("${u:.2} spent of the run's budget of ${max:.2}"))
            }
            (_, _, Some(max)) if s.1 >= max => {
                Some(format!("{} tokens spent of the run's budget of {max}", s.1))
            }
            _ => None,
        };
        self.reach(why)
    }

    /// Mark the budget spent for `why` (if not already); true when this call did.
    pub fn reach(&self, why: Option<String>) -> bool {
        let Some(why) = why else {
            return false;
        };
        if self.spent.swap(true, Ordering::SeqCst) {
            return false;
        }
        if let Ok(mut w) = self.why.lock() {
            *w = Some(why);
        }
        true
    }
}

struct Loop<'a> {
    s: &'a Settings,
    ws: Workspace,
    state: TicketState,
    state_file: PathBuf,
    title: String,
    profile: AgentProfile,
    cancel: Arc<AtomicBool>,
    merge_lock: &'a Mutex<()>,
    tx: &'a Sender<Msg>,
    /// The last failure that made no commit, and how many iterations in a row ended so.
    repeated: Option<(String, u32)>,
    /// Set when the ticket went over its own budget (`max_usd`, `max_minutes`).
    over_budget: Option<String>,
    /// The run's spending and budget.
    spend: Arc<Spend>,
    /// With votes: the attempt this loop is (None: the ticket's own loop).
    attempt: Option<u32>,
}

/// Work one ticket until it merges, escalates or the run stops. Never panics; every outcome
/// comes back as a [`Finish`].
pub fn work(
    s: &Settings,
    slot_dir: &Path,
    job: Job,
    cancel: Arc<AtomicBool>,
    merge_lock: &Mutex<()>,
    tx: &Sender<Msg>,
) -> Finish {
    let ws = match Workspace::open(&s.repo) {
        Ok(ws) => ws,
        Err(e) => {
            return Finish::Stopped {
                reason: format!("cannot open the repository: {e}"),
                release: false,
            }
        }
    };
    let state_file = slot_dir
        .join("tickets")
        .join(format!("{}.json", job.state.id));
    let mut l = Loop {
        s,
        ws,
        state: job.state,
        state_file,
        title: job.title,
        profile: job.profile,
        cancel,
        merge_lock,
        tx,
        repeated: None,
        over_budget: None,
        spend: job.spend,
        attempt: None,
    };
    match l.run() {
        Ok(f) => f,
        Err(e) => Finish::Stopped {
            reason: e.to_string(),
            release: false,
        },
    }
}

impl Loop<'_> {
    fn emit(&self, e: Event) {
        let _ = self.tx.send(Msg::Event(e));
    }

    fn phase(&self, iteration: u32, phase: Phase) {
        self.emit(Event::Phase {
            ticket: self.state.id.clone(),
            iteration,
            phase,
        });
    }

    fn save(&self) -> Result<()> {
        state::save_at(&self.state_file, &self.state)
    }

    fn outcome(&mut self, line: String) -> Result<()> {
        self.state.outcomes.push(line);
        let n = self.state.outcomes.len();
        if n > OUTCOMES_KEPT {
            self.state.outcomes.drain(..n - OUTCOMES_KEPT);
        }
        self.save()
    }

    /// The ticket, if this run still holds it with its token.
    fn held(&self, snap: &Snapshot) -> Option<Ticket> {
        let t = snap.get(&self.state.id)?;
        (t.claimed_by.as_deref() == Some(self.s.identity.as_str())
            && t.claim_token.as_deref() == Some(self.state.token.as_str()))
        .then(|| t.clone())
    }

    fn run(&mut self) -> Result<Finish> {
        self.phase(self.state.iteration + 1, Phase::Preparing);
        if let Err(e) = self.ensure_worktree() {
            return Ok(Finish::Stopped {
                reason: format!("cannot create the worktree: {e}"),
                release: true,
            });
        }
        if let Some(commit) = self.state.verified.clone() {
            // A crash between verification and the merge: the verified commit may still be
            // the branch tip; go straight to the merge queue if so.
            let tip = self.ws.store.branch_tip(&self.state.branch)?;
            if tip.map(|t| t.to_string()) == Some(commit.clone()) {
                if let Some(f) = self.after_verified(self.state.iteration, &commit)? {
                    return Ok(f);
                }
            }
            self.state.verified = None;
            self.save()?;
        }
        if self.state.vote_winner.is_none() {
            if let Some(voters) = self.voters()? {
                if let Some(f) = self.run_vote(voters)? {
                    return Ok(f);
                }
            }
        }
        loop {
            match self.solo()? {
                Solo::Verified(n, commit) => {
                    if let Some(f) = self.after_verified(n, &commit)? {
                        return Ok(f);
                    }
                }
                Solo::Done(f) => return Ok(f),
                Solo::Exhausted(reason) => {
                    self.escalate(&reason)?;
                    return Ok(Finish::Escalated(reason));
                }
            }
        }
    }

    /// Iterations until the work verifies, the loop ends (interrupted, claim lost) or no
    /// more iterations may help. Escalates nothing itself.
    fn solo(&mut self) -> Result<Solo> {
        while self.state.iteration < self.s.max_iterations {
            if self.cancel.load(Ordering::SeqCst) {
                return Ok(Solo::Done(stopped("interrupted")));
            }
            if self.spend.spent.load(Ordering::SeqCst) {
                return Ok(Solo::Done(stopped("the run's budget is spent")));
            }
            let snap = self.ws.snapshot()?;
            let Some(t) = self.held(&snap) else {
                return Ok(Solo::Done(Finish::Stopped {
                    reason: "this run no longer holds the claim".into(),
                    release: false,
                }));
            };
            let n = self.state.iteration + 1;
            self.state.iteration = n;
            self.save()?;
            let verified = self.iterate(&snap, &t, n)?;
            if let Some(why) = self.over_budget.take() {
                return Ok(Solo::Exhausted(format!("after iteration {n}, {why}")));
            }
            let Some(verified) = verified else {
                if let Some((why, k)) = &self.repeated {
                    if *k >= SAME_FAILURE_LIMIT && n < self.s.max_iterations {
                        return Ok(Solo::Exhausted(format!(
                            "{k} iterations in a row ended the same way with no commit, so more would not help: {why}"
                        )));
                    }
                }
                continue;
            };
            return Ok(Solo::Verified(n, verified));
        }
        let last = self
            .state
            .outcomes
            .last()
            .cloned()
            .unwrap_or_else(|| "no iteration finished the ticket".into());
        Ok(Solo::Exhausted(format!(
            "{} iterations did not finish it; the last: {last}",
            self.s.max_iterations
        )))
    }

    /// How many independent attempts vote on this ticket (None: one, no vote): its own
    /// `vote: N`, else `run.vote` by label or kind.
    fn voters(&self) -> Result<Option<u32>> {
        if self.attempt.is_some() {
            return Ok(None);
        }
        let snap = self.ws.snapshot()?;
        let Some(t) = snap.get(&self.state.id) else {
            return Ok(None);
        };
        let fields = cost::run_fields(&self.ws.read_text(&snap, &t.path)?);
        let v = &snap.config.run.vote;
        let n = fields.vote.or_else(|| {
            (t.labels.iter().any(|l| v.labels.contains(l)) || v.kinds.contains(&t.kind))
                .then_some(v.voters)
        });
        Ok(n.filter(|&n| n > 1).map(|n| n.min(9)))
    }

    /// Work `voters` independent attempts at once (each its own worktree, branch and loop,
    /// none seeing the others), then choose one: the largest group of identical trees (two
    /// or more), else the auditor's choice, else the smallest diff; ties go to the lowest
    /// attempt. The winner goes on as the ticket's own loop; None when it should iterate on.
    fn run_vote(&mut self, voters: u32) -> Result<Option<Finish>> {
        let id = self.state.id.clone();
        let votes_dir = self.state_file.with_extension("votes");
        std::fs::create_dir_all(&votes_dir)?;
        let (s, merge_lock, tx) = (self.s, self.merge_lock, self.tx);
        let base = self.state.clone();
        let (title, profile) = (self.title.clone(), self.profile.clone());
        let (cancel, spend) = (Arc::clone(&self.cancel), Arc::clone(&self.spend));
        // Worktrees are added one at a time, before the attempts start.
        let from = match self.ws.store.branch_tip(&base.branch)? {
            Some(t) => t,
            None => self.ws.store.branch_tip(&self.s.target)?.ok_or_else(|| {
                Error::setup(format!(
                    "the integration branch `{}` has no commit",
                    self.s.target
                ))
            })?,
        };
        for k in 1..=voters {
            let wt = base.worktree.with_file_name(format!("{id}.v{k}"));
            if !wt.join(".git").exists() {
                self.ws
                    .store
                    .add_ticket_worktree(&wt, &format!("{}.v{k}", base.branch), from)?;
            }
        }
        let results: Vec<(u32, TicketState, Result<Solo>)> = std::thread::scope(|sc| {
            let handles: Vec<_> = (1..=voters)
                .map(|k| {
                    let file = votes_dir.join(format!("v{k}.json"));
                    let mut sub = std::fs::read(&file)
                        .ok()
                        .and_then(|b| serde_json::from_slice::<TicketState>(&b).ok())
                        .unwrap_or_else(|| TicketState {
                            branch: format!("{}.v{k}", base.branch),
                            worktree: base.worktree.with_file_name(format!("{id}.v{k}")),
                            iteration: 0,
                            outcomes: Vec::new(),
                            pgid: None,
                            verified: None,
                            vote_winner: None,
                            ..base.clone()
                        });
                    sub.token = base.token.clone();
                    let (title, profile) = (title.clone(), profile.clone());
                    let (cancel, spend) = (Arc::clone(&cancel), Arc::clone(&spend));
                    sc.spawn(move || {
                        let run = || -> Result<(TicketState, Solo)> {
                            let mut l = Loop {
                                s,
                                ws: Workspace::open(&s.repo)?,
                                state: sub,
                                state_file: file,
                                title,
                                profile,
                                cancel,
                                merge_lock,
                                tx,
                                repeated: None,
                                over_budget: None,
                                spend,
                                attempt: Some(k),
                            };
                            l.ensure_worktree()?;
                            l.save()?;
                            if let Some(c) = l.state.verified.clone() {
                                return Ok((l.state.clone(), Solo::Verified(l.state.iteration, c)));
                            }
                            let r = l.solo()?;
                            if let Solo::Verified(_, c) = &r {
                                l.state.verified = Some(c.clone());
                                l.save()?;
                            }
                            Ok((l.state, r))
                        };
                        match run() {
                            Ok((st, r)) => (k, st, Ok(r)),
                            Err(e) => (k, TicketState::default(), Err(e)),
                        }
                    })
                })
                .collect();
            handles.into_iter().filter_map(|h| h.join().ok()).collect()
        });
        // Interrupted or out of budget: stop as the attempts did.
        for (_, _, r) in &results {
            if let Ok(Solo::Done(f)) = r {
                return Ok(Some(f.clone()));
            }
        }
        let store = &self.ws.store;
        let target_tip = store.branch_tip(&self.s.target)?;
        let mut attempts = Vec::new();
        let mut candidates: Vec<(u32, String, Oid, usize)> = Vec::new();
        for (k, st, r) in &results {
            let (verified, outcome) = match r {
                Ok(Solo::Verified(_, c)) => (Some(c.clone()), "verified".to_string()),
                Ok(Solo::Exhausted(why)) => (None, why.clone()),
                Ok(Solo::Done(_)) => (None, "stopped".to_string()),
                Err(e) => (None, format!("failed: {e}")),
            };
            let mut tree = None;
            let mut lines = None;
            if let Some(c) = &verified {
                let oid = crate::app::ci::parse_oid(c)?;
                let code = ci::tree::code_tree(store, store.commit_tree(oid)?)?;
                let diff = match target_tip {
                    Some(t) => audit::branch_diff(&self.ws, t, oid)?,
                    None => String::new(),
                };
                let n = diff
                    .lines()
                    .filter(|l| {
                        (l.starts_with('+') && !l.starts_with("+++"))
                            || (l.starts_with('-') && !l.starts_with("---"))
                    })
                    .count();
                tree = Some(code.to_string());
                lines = Some(n);
                candidates.push((*k, c.clone(), code, n));
            }
            attempts.push(super::events::VoteAttempt {
                attempt: *k,
                verified: verified.is_some(),
                tree,
                iterations: st.iteration,
                diff_lines: lines,
                outcome,
            });
        }
        let decided = self.choose(&candidates)?;
        let record = |winner: Option<u32>, why: &str| {
            let mut line = format!("vote of {voters} attempts:");
            for a in &attempts {
                line.push_str(&format!(
                    "\nattempt {}: {} after {}{}",
                    a.attempt,
                    a.outcome.lines().next().unwrap_or(""),
                    crate::model::plural(a.iterations as usize, "iteration"),
                    match (&a.tree, a.diff_lines) {
                        (Some(t), Some(n)) =>
                            format!(", tree {}, {n} lines changed", &t[..t.len().min(12)]),
                        _ => String::new(),
                    }
                ));
            }
            match winner {
                Some(w) => line.push_str(&format!("\nwinner: attempt {w}, because {why}")),
                None => line.push_str(&format!("\nno winner: {why}")),
            }
            line
        };
        let Some((winner, why)) = decided else {
            let why = "no attempt verified".to_string();
            crate::app::progress::progress(
                &self.ws,
                &id,
                &self.s.identity,
                &record(None, &why),
                &[],
            )?;
            self.emit(Event::VoteDecided {
                ticket: id.clone(),
                attempts,
                winner: None,
                why: why.clone(),
            });
            let reason = format!("{voters} voting attempts and {why}");
            self.escalate(&reason)?;
            return Ok(Some(Finish::Escalated(reason)));
        };
        crate::app::progress::progress(
            &self.ws,
            &id,
            &self.s.identity,
            &record(Some(winner), &why),
            &[],
        )?;
        self.emit(Event::VoteDecided {
            ticket: id.clone(),
            attempts,
            winner: Some(winner),
            why,
        });
        // The winner goes on as the ticket's loop; the losers' branches go unless kept.
        let mut losers = Vec::new();
        for (k, st, _) in results {
            if k == winner {
                let old = std::mem::replace(&mut self.state, st);
                self.state.vote_winner = Some(k);
                self.state.token = old.token;
                self.state.pgid = None;
            } else if !st.branch.is_empty() {
                losers.push(st);
            }
        }
        self.save()?;
        let _ = std::fs::remove_dir_all(&votes_dir);
        // The ticket's own worktree was not used: the winner's is its worktree now.
        let _ = self
            .ws
            .store
            .remove_ticket_worktree(&base.worktree, &base.branch, true);
        if !self.s.keep_losers {
            for l in losers {
                let _ = self
                    .ws
                    .store
                    .remove_ticket_worktree(&l.worktree, &l.branch, true);
            }
        }
        let Some(commit) = self.state.verified.clone() else {
            return Ok(None);
        };
        self.after_verified(self.state.iteration, &commit)
    }

    /// The winner of a vote among verified candidates (attempt, commit, code tree, diff
    /// lines) and why; None when there is none.
    fn choose(&mut self, c: &[(u32, String, Oid, usize)]) -> Result<Option<(u32, String)>> {
        if c.is_empty() {
            return Ok(None);
        }
        // The largest group of identical trees, if two or more agree.
        let mut groups: Vec<(Oid, Vec<u32>)> = Vec::new();
        for (k, _, tree, _) in c {
            match groups.iter_mut().find(|g| g.0 == *tree) {
                Some(g) => g.1.push(*k),
                None => groups.push((*tree, vec![*k])),
            }
        }
        groups.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.1[0].cmp(&b.1[0])));
        if let Some((_, ks)) = groups.first().filter(|g| g.1.len() >= 2) {
            let tie = groups.get(1).is_some_and(|g| g.1.len() == ks.len());
            let names: Vec<String> = ks.iter().map(|k| k.to_string()).collect();
            return Ok(Some((
                ks[0],
                format!(
                    "attempts {} produced the same tree{}",
                    names.join(" and "),
                    if tie {
                        "; another group as large exists, and ties go to the lowest attempt"
                    } else {
                        ""
                    }
                ),
            )));
        }
        if c.len() == 1 {
            return Ok(Some((
                c[0].0,
                "it is the only attempt that verified".into(),
            )));
        }
        if let Some((name, profile)) = self.s.auditor.clone() {
            if let Some(k) = self.auditor_chooses(&name, &profile, c)? {
                return Ok(Some((
                    k,
                    format!("no two attempts agreed and the auditor ({name}) chose it"),
                )));
            }
        }
        let mut by_size: Vec<&(u32, String, Oid, usize)> = c.iter().collect();
        by_size.sort_by(|a, b| a.3.cmp(&b.3).then(a.0.cmp(&b.0)));
        let best = by_size[0];
        let tie = by_size.get(1).is_some_and(|b| b.3 == best.3);
        Ok(Some((
            best.0,
            format!(
                "no two attempts agreed and its diff is the smallest that verifies ({} lines){}",
                best.3,
                if tie {
                    "; tied, so the lowest attempt"
                } else {
                    ""
                }
            ),
        )))
    }

    /// Show the auditor the candidates' diffs; its `<choose N/>`, if it gave one.
    fn auditor_chooses(
        &mut self,
        name: &str,
        profile: &AgentProfile,
        c: &[(u32, String, Oid, usize)],
    ) -> Result<Option<u32>> {
        let snap = self.ws.snapshot()?;
        let Some(t) = snap.get(&self.state.id).cloned() else {
            return Ok(None);
        };
        let target_tip = self.ws.store.branch_tip(&self.s.target)?;
        let bundle = crate::app::context::bundle(&self.ws, &snap, &t, &Default::default())?;
        let mut p = format!(
            "Several agents worked ticket {} independently; each attempt below verified (CI green). \
             Choose the one that best does what the ticket asks.\n\n---\n\n{}\n",
            t.id, bundle.text
        );
        for (k, commit, _, _) in c {
            let oid = crate::app::ci::parse_oid(commit)?;
            let diff = match target_tip {
                Some(tt) => audit::branch_diff(&self.ws, tt, oid)?,
                None => String::new(),
            };
            p.push_str(&format!("\n## Attempt {k}\n\n```diff\n{diff}```\n"));
        }
        p.push_str("\nEnd your final message with exactly one line naming your choice, e.g.\n\n<choose 2/>\n");
        let n = self.state.iteration;
        let (agent, token) = (
            format!("{}-audit", self.s.identity),
            self.state.token.clone(),
        );
        let exit = self.launch(profile, "vote.choose", &p, n, &agent, &token)?;
        let _ = name;
        let last = exit
            .result
            .final_text
            .trim_end()
            .lines()
            .last()
            .unwrap_or("")
            .trim()
            .to_string();
        let k = last
            .strip_prefix("<choose")
            .and_then(|x| x.strip_suffix("/>"))
            .and_then(|x| x.trim().parse::<u32>().ok());
        Ok(k.filter(|k| c.iter().any(|x| x.0 == *k)))
    }

    fn ensure_worktree(&mut self) -> Result<()> {
        let path = self.state.worktree.clone();
        if path.join(".git").exists() {
            return Ok(());
        }
        let from = match self.ws.store.branch_tip(&self.state.branch)? {
            Some(tip) => tip,
            None => self.ws.store.branch_tip(&self.s.target)?.ok_or_else(|| {
                Error::setup(format!(
                    "the integration branch `{}` has no commit",
                    self.s.target
                ))
            })?,
        };
        self.ws
            .store
            .add_ticket_worktree(&path, &self.state.branch, from)
    }

    /// One agent iteration; Some(commit) when the agent claimed completion and the work
    /// verified.
    fn iterate(&mut self, snap: &Snapshot, t: &Ticket, n: u32) -> Result<Option<String>> {
        let id = self.state.id.clone();
        let logs = state::logs_dir(&self.s.common_dir, &id);
        std::fs::create_dir_all(&logs)?;
        let prompt_file = logs.join(format!("{n}.prompt.md"));
        let prompt = self.prompt(snap, t, n)?;
        let stdout_log = logs.join(format!("{n}.log"));
        self.emit(Event::IterationStarted {
            ticket: id.clone(),
            iteration: n,
            max_iterations: self.s.max_iterations,
            prompt_file: prompt_file.display().to_string(),
        });
        self.phase(n, Phase::Agent);
        let before = self.ws.store.branch_tip(&self.state.branch)?;
        let profile = self.profile.clone();
        let (agent, token) = (self.s.identity.clone(), self.state.token.clone());
        let exit = self.launch(&profile, &n.to_string(), &prompt, n, &agent, &token)?;
        let after = self.ws.store.branch_tip(&self.state.branch)?;
        let (commits, files_changed) = self.changes(before, after)?;
        let r = &exit.result;
        let claimed = !r.is_error && agent_output::completed(&r.final_text, &self.s.signal);
        let cost = cost::cost_of(r.cost_usd, r.tokens.as_ref(), self.profile.price.as_ref());
        let record = IterationRecord {
            attempt: self.attempt,
            iteration: n,
            max_iterations: self.s.max_iterations,
            ended: exit.ended.clone(),
            exit_code: exit.exit_code,
            duration_ms: exit.duration_ms,
            commits,
            files_changed: files_changed.clone(),
            claimed_completion: claimed,
            is_error: r.is_error,
            error: r.error.clone().or_else(|| exit.spawn_error.clone()),
            session_id: r.session_id.clone(),
            tokens: r.tokens.clone(),
            cost_usd: cost.map(|c| c.0),
            cost_estimated: cost.is_some_and(|c| c.1),
            log: stdout_log.display().to_string(),
        };
        let why_not = match exit.ended {
            Ended::Cancelled => None,
            _ if claimed => None,
            Ended::Exited => Some(if r.is_error {
                format!(
                    "the agent reported an error: {}",
                    r.error.as_deref().unwrap_or("(no message)")
                )
            } else {
                let mut w = format!(
                    "the agent ended (exit {}) without the completion signal `{}` as the last line of its final message",
                    exit.exit_code
                        .map(|c| c.to_string())
                        .unwrap_or_else(|| "by signal".into()),
                    self.s.signal
                );
                if exit.exit_code != Some(0) {
                    if let Some(tail) = last_lines(&exit.stderr_tail, 6) {
                        w.push_str(&format!("; its stderr ended with:\n{tail}"));
                    }
                }
                w
            }),
            Ended::Wall => Some(format!(
                "the wall-clock timer ({}) ended the agent",
                secs(self.profile.timeouts.wall)
            )),
            Ended::Idle => Some(format!(
                "the agent printed nothing for {} and was ended",
                secs(self.profile.timeouts.idle)
            )),
            Ended::AfterResult => Some(format!(
                "the agent was still running {} after its final record and was ended",
                secs(self.profile.timeouts.after_result)
            )),
            Ended::SpawnFailed => Some(format!(
                "the agent could not be started: {}",
                exit.spawn_error.as_deref().unwrap_or("unknown error")
            )),
        };
        self.spend.add(
            cost.map(|c| c.0),
            r.tokens.as_ref().map(cost::total_tokens).unwrap_or(0),
        );
        let over = self.log_progress(&record, cost, why_not.as_deref(), &files_changed, None)?;
        self.emit(Event::IterationEnded {
            ticket: id.clone(),
            record,
        });
        if matches!(exit.ended, Ended::Cancelled) {
            return Ok(None);
        }
        if let Some(why) = over {
            self.over_budget = Some(why);
            return Ok(None);
        }
        if let Some(why) = why_not {
            self.outcome(format!("iteration {n}: {why}"))?;
            self.repeated = match self.repeated.take() {
                Some((w, k)) if w == why && commits == 0 => Some((w, k + 1)),
                _ if commits == 0 => Some((why, 1)),
                _ => None,
            };
            return Ok(None);
        }
        self.repeated = None;
        self.phase(n, Phase::Verifying);
        match self.verify(n)? {
            Ok(commit) => {
                self.state.verified = Some(commit.to_string());
                self.save()?;
                Ok(Some(commit.to_string()))
            }
            Err(reason) => {
                self.emit(Event::VerificationFailed {
                    ticket: id,
                    iteration: n,
                    reason: reason.clone(),
                });
                self.outcome(format!(
                    "iteration {n}: the agent claimed completion, but {reason}"
                ))?;
                Ok(None)
            }
        }
    }

    /// Start `profile` on `prompt` in the worktree as `agent` holding `token`, with logs
    /// `<stem>.prompt.md`, `<stem>.log` and `<stem>.stderr`, and wait for it.
    fn launch(
        &mut self,
        profile: &AgentProfile,
        stem: &str,
        prompt: &str,
        n: u32,
        agent: &str,
        token: &str,
    ) -> Result<process::AgentExit> {
        let id = self.state.id.clone();
        let logs = state::logs_dir(&self.s.common_dir, &id);
        std::fs::create_dir_all(&logs)?;
        let prompt_file = logs.join(format!("{stem}.prompt.md"));
        std::fs::write(&prompt_file, prompt)?;
        let workdir = self.state.worktree.display().to_string();
        let prompt_path = prompt_file.display().to_string();
        let argv = agent::expand(
            profile,
            &Placeholders {
                prompt_file: &prompt_path,
                workdir: &workdir,
                ticket: &id,
                iteration: n,
                model: profile.model.as_deref(),
                prompt,
            },
        );
        let argv = match argv {
            Ok(a) if !a.is_empty() => a,
            Ok(_) => return Err(Error::invalid("an agent profile has an empty cmd")),
            Err(e) => return Err(Error::invalid(format!("agent profile: {e}"))),
        };
        let mut pg_state = self.state.clone();
        let pg_file = self.state_file.clone();
        let launch = Launch {
            argv,
            cwd: self.state.worktree.clone(),
            env: self.agent_env(n, &prompt_path, agent, token, profile),
            env_remove: Vec::new(),
            stdin: (profile.prompt == PromptVia::Stdin).then(|| prompt.as_bytes().to_vec()),
            stdout_log: logs.join(format!("{stem}.log")),
            stderr_log: logs.join(format!("{stem}.stderr")),
            timeouts: profile.timeouts.clone(),
            parser: profile.parser,
            cancel: Arc::clone(&self.cancel),
            on_start: Some(Box::new(move |pgid| {
                pg_state.pgid = Some(pgid);
                let _ = state::save_at(&pg_file, &pg_state);
            })),
        };
        let exit = process::run_agent(launch);
        self.state.pgid = None;
        self.save()?;
        Ok(exit)
    }

    fn agent_env(
        &self,
        n: u32,
        prompt_path: &str,
        agent: &str,
        token: &str,
        profile: &AgentProfile,
    ) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = vec![
            ("WT_TICKET".into(), self.state.id.clone()),
            ("WT_TOKEN".into(), token.to_string()),
            (lease::TOKEN_ENV.into(), token.to_string()),
            ("WT_AGENT".into(), agent.to_string()),
            ("WT_ITERATION".into(), n.to_string()),
            ("WT_PROMPT_FILE".into(), prompt_path.to_string()),
            ("WT_RUN".into(), self.s.identity.clone()),
        ];
        if let Some(dir) = &self.s.wt_dir {
            let path = std::env::var_os("PATH").unwrap_or_default();
            let mut parts = vec![dir.clone()];
            parts.extend(std::env::split_paths(&path));
            if let Ok(joined) = std::env::join_paths(parts) {
                env.push(("PATH".into(), joined.to_string_lossy().into_owned()));
            }
        }
        env.extend(process::profile_env(profile));
        env
    }

    /// Commits between `before` and `after` on the ticket branch, and the code paths they
    /// changed.
    fn changes(&self, before: Option<Oid>, after: Option<Oid>) -> Result<(usize, Vec<String>)> {
        let (Some(b), Some(a)) = (before, after) else {
            return Ok((0, Vec::new()));
        };
        if a == b {
            return Ok((0, Vec::new()));
        }
        let store = &self.ws.store;
        let commits = store.count_commits(a, b)?;
        let tb = ci::tree::code_tree(store, store.commit_tree(b)?)?;
        let ta = ci::tree::code_tree(store, store.commit_tree(a)?)?;
        let files = store.tree_changed_paths(tb, ta, 200)?;
        Ok((commits, files))
    }

    /// Log the iteration on the ticket (a progress entry, and its cost added to `spent:`) in
    /// one commit; why the ticket is now over its own budget, if it is.
    fn log_progress(
        &self,
        r: &IterationRecord,
        cost: Option<(f64, bool)>,
        why_not: Option<&str>,
        files: &[String],
        audit_by: Option<&str>,
    ) -> Result<Option<String>> {
        let how = match (&r.ended, r.exit_code) {
            (Ended::Exited, Some(c)) => format!("exit {c}"),
            (Ended::Exited, None) => "ended by a signal".to_string(),
            (e, _) => format!("ended ({})", ended_name(e)),
        };
        let took = secs(std::time::Duration::from_millis(r.duration_ms));
        let mut line = match audit_by {
            Some(by) => format!(
                "wt run audit of iteration {} by {by}: {how} after {took}",
                r.iteration
            ),
            None => format!(
                "wt run iteration {} of {}{}: {how} after {took}, {}, {}",
                r.iteration,
                r.max_iterations,
                match r.attempt {
                    Some(a) => format!(" (vote attempt {a})"),
                    None => String::new(),
                },
                crate::model::plural(r.commits, "commit"),
                crate::model::plural(files.len(), "file")
            ),
        };
        if let Some(t) = &r.tokens {
            line.push_str(&format!(
                ", {} tokens ({} in, {} out)",
                cost::total_tokens(t),
                t.input,
                t.output
            ));
        }
        if let Some((c, estimated)) = cost {
            line.push_str(&format!(
                ", ${c:.4}{}",
                if estimated { " (estimated)" } else { "" }
            ));
        }
        if r.claimed_completion {
            line.push_str(", claimed completion");
        }
        if let Some(w) = why_not {
            line.push_str(&format!("\n{w}"));
        }
        let files: Vec<String> = files.iter().take(20).cloned().collect();
        let id = self.state.id.clone();
        let agent = self.s.identity.clone();
        let w = self.ws.write(Reads::Ticket(&id), |snap| {
            let t = snap.resolve(&id)?;
            let text = self.ws.read_text(snap, &t.path)?;
            let fields = cost::run_fields(&text);
            let mut spent = fields.spent.clone().unwrap_or_default();
            spent.add(cost, r.tokens.as_ref(), r.duration_ms);
            let now = clock::timestamp();
            let text = crate::app::set_fields(
                &text,
                &[
                    ("spent", spent.value()),
                    (
                        "updated",
                        crate::model::frontmatter::Value::Str(now.clone()),
                    ),
                ],
            )?;
            let text = journal::append(
                &text,
                journal::PROGRESS,
                &journal::progress_entry(&now, &agent, None, &line, &files),
            )?;
            let after = cost::TicketRunFields {
                spent: Some(spent),
                ..fields
            };
            let mut msg = Message::new(
                "progress",
                format!("{} {}: iteration {}", t.id, quoted(&t.title), r.iteration),
            )
            .ticket(&t.id)
            .agent(Some(&agent))
            .trailer("Wt-Iteration", r.iteration.to_string());
            if let Some((c, _)) = cost {
                msg = msg.trailer("Wt-Cost-Usd", format!("{c:.4}"));
            }
            msg.body = Some(line.clone());
            Ok(Outcome::Commit {
                edits: vec![Edit::Write {
                    path: t.path.clone(),
                    content: text.into_bytes(),
                }],
                message: msg,
                value: cost::over_budget(&after),
            })
        })?;
        Ok(w.value)
    }

    /// Does the work verify as `wt done` would judge it? The commit, or why not.
    fn verify(&self, n: u32) -> Result<std::result::Result<Oid, String>> {
        let wt = Workspace::open(&self.state.worktree)?;
        let judged = done::judged(&wt, None)?;
        if judged.uncommitted > 0 {
            return Ok(Err(format!(
                "{} in the worktree: only committed work is judged; commit it (or remove it)",
                match judged.uncommitted {
                    1 => "1 path has uncommitted changes".to_string(),
                    k => format!("{k} paths have uncommitted changes"),
                }
            )));
        }
        let snap = self.ws.snapshot()?;
        let Some(t) = snap.get(&self.state.id) else {
            return Err(Error::not_found(format!("{} is gone", self.state.id)));
        };
        let text = self.ws.read_text(&snap, &t.path)?;
        let unticked = criteria::unticked(&text);
        if !unticked.is_empty() {
            let list: Vec<String> = unticked
                .iter()
                .map(|c| format!("{} ({})", c.number, c.text))
                .collect();
            return Ok(Err(format!(
                "acceptance criteria not ticked: {}; tick each one that holds with `wt tick {} <N>`",
                list.join("; "),
                t.id
            )));
        }
        let missing = done::missing_artifacts(&self.ws.store, t, judged.commit)?;
        if !missing.is_empty() {
            return Ok(Err(format!(
                "artifacts missing or empty in the last commit: {}",
                missing.join(", ")
            )));
        }
        self.phase(n, Phase::Ci);
        let config = self.ws.config()?;
        let checks = ci::checks_from(&config)?;
        let run = ci::check_commit(
            &wt,
            judged.commit,
            judged.run_in,
            &checks,
            &RunOptions::default(),
            &Reporter::silent(),
        )?;
        if run.interrupted {
            return Ok(Err("the CI checks were interrupted".into()));
        }
        if !run.green() {
            let sha = judged.commit.to_string();
            return Ok(Err(format!(
                "on commit {}, {}",
                ci::short_id(&sha),
                run.red_summary()
            )));
        }
        Ok(Ok(judged.commit))
    }

    /// Bring the branch onto the integration branch through the merge queue.
    fn merge_step(&mut self, n: u32) -> MergeStep {
        self.phase(n, Phase::Merging);
        let _guard = self.merge_lock.lock().unwrap_or_else(|p| p.into_inner());
        let req = MergeRequest {
            ticket_id: &self.state.id,
            title: &self.title,
            branch: &self.state.branch,
            target: &self.s.target,
            mode: self.s.merge,
            agent: &self.s.identity,
        };
        let out = merge::integrate_full(&self.ws, &req, &Reporter::silent());
        if let Ok(o) = &out {
            for w in &o.warnings {
                self.emit(Event::Warning {
                    ticket: Some(self.state.id.clone()),
                    message: w.clone(),
                });
            }
        }
        match out.map(|o| o.integrated) {
            Ok(Integrated::Merged { commit }) => MergeStep::Merged(Some(commit)),
            Ok(Integrated::Nothing) => MergeStep::Merged(None),
            Ok(Integrated::Conflict { paths }) => MergeStep::Back(format!(
                "its branch conflicts with `{t}` in {}: merge `{t}` into `{b}` (`git merge {t}`), resolve the conflicts, make the checks pass and commit",
                paths.join(", "),
                t = self.s.target,
                b = self.state.branch,
            )),
            Ok(Integrated::Red { summary }) => MergeStep::Back(format!(
                "the CI checks are red on its work merged onto `{t}`: {summary}; merge `{t}` into your branch and make them pass",
                t = self.s.target
            )),
            Err(e) if e.kind == crate::error::ErrorKind::Refused => MergeStep::Stop(format!(
                "verified, but not merged: {e}{}; the claim is kept: run `wt run` again once that is resolved",
                e.hint.as_deref().map(|h| format!(" ({h})")).unwrap_or_default()
            )),
            Err(e) => MergeStep::Stop(format!("the merge failed: {e}")),
        }
    }

    /// What follows verified work: an audit first when the ticket is reviewed and the run
    /// has an auditor, else the merge queue and `done`. None when the ticket goes back for
    /// another iteration.
    fn after_verified(&mut self, n: u32, verified: &str) -> Result<Option<Finish>> {
        let snap = self.ws.snapshot()?;
        let reviewed = snap
            .get(&self.state.id)
            .is_some_and(|t| snap.config.reviews(t.kind));
        match self.s.auditor.clone() {
            Some((name, profile)) if reviewed => self.audit(n, verified, &name, &profile),
            _ => self.integrate(n, verified),
        }
    }

    /// The merge queue step and `done`; None when the ticket goes back for another
    /// iteration.
    fn integrate(&mut self, n: u32, verified: &str) -> Result<Option<Finish>> {
        let result = match self.merge_step(n) {
            MergeStep::Merged(c) => c,
            MergeStep::Back(reason) => return self.back(n, reason),
            MergeStep::Stop(reason) => {
                return Ok(Some(Finish::Stopped {
                    reason,
                    release: false,
                }))
            }
        };
        let rev = match result {
            Some(c) => c.to_string(),
            None => verified.to_string(),
        };
        self.integration_checks(n, result)?;
        let opts = DoneOptions {
            token: Some(self.state.token.clone()),
            rev: Some(rev),
            quiet: true,
            ..Default::default()
        };
        let finished = match done::done(&self.ws, &self.state.id, &self.s.identity, &opts) {
            Ok(f) => f,
            Err(e) => {
                return Ok(Some(Finish::Stopped {
                    reason: format!("merged, but `done` refused: {e}"),
                    release: false,
                }))
            }
        };
        self.merged(
            result,
            finished.value.ticket.status.as_str(),
            finished
                .value
                .closed
                .iter()
                .map(|c| c.ticket.id.clone())
                .collect(),
        );
        Ok(Some(Finish::Merged))
    }

    /// When this ticket is the last open work under its phase-spec, run the integration
    /// checks (`run.integration`, else the `ci` checks) on the integration branch. Red: a new
    /// job "Integration failure: …" under the phase keeps it from closing and enters the loop
    /// like any job.
    fn integration_checks(&mut self, n: u32, merged: Option<Oid>) -> Result<()> {
        let snap = self.ws.snapshot()?;
        let Some(t) = snap.get(&self.state.id).cloned() else {
            return Ok(());
        };
        // The phase-spec above, and the containers between (they close with this ticket).
        let mut chain = Vec::new();
        let mut cur = t.parent.clone();
        let mut phase = None;
        while let Some(p) = cur {
            let Some(pt) = snap.get(&p) else { break };
            if chain.contains(&pt.id) {
                break;
            }
            chain.push(pt.id.clone());
            if pt.kind == crate::model::ticket::Kind::PhaseSpec {
                phase = Some(pt.clone());
                break;
            }
            cur = pt.parent.clone();
        }
        let Some(phase) = phase else { return Ok(()) };
        let open = snap.open_descendants(&phase)?;
        if open.iter().any(|o| o.id != t.id && !chain.contains(&o.id)) {
            return Ok(());
        }
        let Some(commit) = merged.or(self.ws.store.branch_tip(&self.s.target)?) else {
            return Ok(());
        };
        self.phase(n, Phase::Ci);
        let config = self.ws.config()?;
        let checks: Vec<ci::Check> = if config.run.integration.is_empty() {
            ci::checks_from(&config)?
        } else {
            config
                .run
                .integration
                .iter()
                .map(|(name, command)| ci::Check {
                    name: name.clone(),
                    command: command.clone(),
                })
                .collect()
        };
        let run = ci::check_commit(
            &self.ws,
            commit,
            ci::RunIn::CleanCheckout,
            &checks,
            &RunOptions::default(),
            &Reporter::silent(),
        )?;
        if run.green() {
            self.emit(Event::IntegrationChecked {
                phase: phase.id.clone(),
                green: true,
                job: None,
            });
            return Ok(());
        }
        let failed = run
            .failed()
            .map(|c| c.name.clone())
            .unwrap_or_else(|| "checks".into());
        let spec = crate::app::new::NewSpec {
            kind: Some(crate::model::ticket::Kind::Job),
            title: format!("Integration failure: {failed}"),
            parent: Some(phase.id.clone()),
            description: Some(format!(
                "The integration checks failed on `{}` after the last job of {} ({}) was merged. Make them pass.\n\n```text\n{}\n```",
                self.s.target,
                phase.id,
                phase.title,
                run.red_summary()
            )),
            ..Default::default()
        };
        let job = crate::app::new::run(&self.ws, &spec, Some(&self.s.identity))?;
        self.emit(Event::IntegrationChecked {
            phase: phase.id.clone(),
            green: false,
            job: Some(job.value.ticket.id.clone()),
        });
        Ok(())
    }

    fn merged(&self, commit: Option<Oid>, status: &str, closed: Vec<String>) {
        self.emit(Event::Merged {
            ticket: self.state.id.clone(),
            commit: commit.map(|c| c.to_string()),
            status: status.to_string(),
            closed,
        });
        let _ =
            self.ws
                .store
                .remove_ticket_worktree(&self.state.worktree, &self.state.branch, true);
    }

    /// Claim the ticket again as the implementer after a failed audit (a new token).
    fn reclaim(&mut self) -> Result<Option<Finish>> {
        let opts = crate::app::claim::ClaimOptions::default();
        match crate::app::claim::claim_if_free(&self.ws, &self.state.id, &self.s.identity, &opts) {
            Ok(w) => {
                self.state.token = w.value.ticket.claim_token.clone().unwrap_or_default();
                self.state.verified = None;
                self.save()?;
                Ok(None)
            }
            Err(e) => Ok(Some(Finish::Stopped {
                reason: format!("could not claim it again after the audit: {e}"),
                release: false,
            })),
        }
    }

    /// Verified work goes to review (`done`), an auditor agent judges it, and a pass is
    /// integrated; a fail is an amendment and the ticket goes back into the loop.
    fn audit(
        &mut self,
        n: u32,
        verified: &str,
        auditor_profile: &str,
        profile: &AgentProfile,
    ) -> Result<Option<Finish>> {
        let id = self.state.id.clone();
        let opts = DoneOptions {
            token: Some(self.state.token.clone()),
            rev: Some(verified.to_string()),
            quiet: true,
            ..Default::default()
        };
        let done = match done::done(&self.ws, &id, &self.s.identity, &opts) {
            Ok(d) => d,
            Err(e) => {
                return Ok(Some(Finish::Stopped {
                    reason: format!("`done` refused the verified work: {e}"),
                    release: false,
                }))
            }
        };
        if done.value.ticket.status != Status::Review {
            return self.integrate(n, verified);
        }
        let auditor = format!("{}-audit", self.s.identity);
        let claimed = self.ws.write(Reads::Ticket(&id), |snap| {
            let t = snap.resolve(&id)?;
            crate::app::review::claim_for_review(&self.ws, snap, t, &auditor)
        });
        let token = match claimed {
            Ok(w) => w.value.ticket.claim_token.unwrap_or_default(),
            Err(e) => {
                return Ok(Some(Finish::Stopped {
                    reason: format!("could not claim it for the audit: {e}"),
                    release: false,
                }))
            }
        };
        for attempt in 1..=2u32 {
            self.phase(n, Phase::Auditing);
            let snap = self.ws.snapshot()?;
            let Some(t) = snap.get(&id).cloned() else {
                return Err(Error::not_found(format!("{id} is gone")));
            };
            let target_tip = self.ws.store.branch_tip(&self.s.target)?;
            let tip = self.ws.store.branch_tip(&self.state.branch)?;
            let diff = match (target_tip, tip) {
                (Some(a), Some(b)) => audit::branch_diff(&self.ws, a, b)?,
                _ => String::new(),
            };
            let prompt = audit::prompt(
                &self.ws,
                &snap,
                &t,
                &self.state.branch,
                &self.s.target,
                &diff,
            )?;
            let stem = format!("{n}.audit{attempt}");
            let exit = self.launch(profile, &stem, &prompt, n, &auditor, &token)?;
            let r = &exit.result;
            let cost = cost::cost_of(r.cost_usd, r.tokens.as_ref(), profile.price.as_ref());
            self.spend.add(
                cost.map(|c| c.0),
                r.tokens.as_ref().map(cost::total_tokens).unwrap_or(0),
            );
            let mut v = if r.is_error {
                audit::Verdict::None
            } else {
                audit::verdict(&r.final_text)
            };
            // The auditor may have given its verdict with `wt pass` / `wt fail` itself.
            let now = self.ws.snapshot()?;
            let status = now.get(&id).map(|t| t.status);
            let self_judged = matches!(
                status,
                Some(Status::Done | Status::Open | Status::Escalated)
            );
            if self_judged {
                v = match status {
                    Some(Status::Done) => audit::Verdict::Pass,
                    _ => audit::Verdict::Fail("(given with `wt fail`)".into()),
                };
            }
            let logs = state::logs_dir(&self.s.common_dir, &id);
            let record = IterationRecord {
                attempt: None,
                iteration: n,
                max_iterations: self.s.max_iterations,
                ended: exit.ended.clone(),
                exit_code: exit.exit_code,
                duration_ms: exit.duration_ms,
                commits: 0,
                files_changed: Vec::new(),
                claimed_completion: false,
                is_error: r.is_error,
                error: r.error.clone(),
                session_id: r.session_id.clone(),
                tokens: r.tokens.clone(),
                cost_usd: cost.map(|c| c.0),
                cost_estimated: cost.is_some_and(|c| c.1),
                log: logs.join(format!("{stem}.log")).display().to_string(),
            };
            let said = match &v {
                audit::Verdict::Pass => "verdict: pass".to_string(),
                audit::Verdict::Fail(_) => "verdict: fail (the amendment follows)".to_string(),
                audit::Verdict::None => "no verdict".to_string(),
            };
            self.log_progress(&record, cost, Some(&said), &[], Some(auditor_profile))?;
            self.emit(Event::AuditEnded {
                ticket: id.clone(),
                iteration: n,
                attempt,
                auditor: auditor_profile.to_string(),
                verdict: match &v {
                    audit::Verdict::Pass => "pass",
                    audit::Verdict::Fail(_) => "fail",
                    audit::Verdict::None => "none",
                }
                .to_string(),
                amendment: match &v {
                    audit::Verdict::Fail(a) => Some(a.clone()),
                    _ => None,
                },
                ended: exit.ended.clone(),
                duration_ms: exit.duration_ms,
                cost_usd: cost.map(|c| c.0),
                log: logs.join(format!("{stem}.log")).display().to_string(),
            });
            match v {
                audit::Verdict::Pass => {
                    return self.integrate_audited(n, &auditor, self_judged);
                }
                audit::Verdict::Fail(amendment) => {
                    if !self_judged {
                        let failed =
                            crate::app::review::fail(&self.ws, &id, &auditor, &amendment, None)?;
                        if failed.value.escalated {
                            return Ok(Some(Finish::Escalated(format!(
                                "the audit failed again (max_attempts {}): {amendment}",
                                failed.value.max_attempts
                            ))));
                        }
                    } else if status == Some(Status::Escalated) {
                        return Ok(Some(Finish::Escalated(
                            "the auditor's `wt fail` escalated it".into(),
                        )));
                    }
                    self.outcome(format!(
                        "iteration {n}: the audit failed; the amendment is in the ticket"
                    ))?;
                    return self.reclaim();
                }
                audit::Verdict::None if attempt == 1 => continue,
                audit::Verdict::None => {
                    let reason = format!(
                        "the auditor ({auditor_profile}) gave no verdict twice ({})",
                        match exit.ended {
                            Ended::Exited if r.is_error =>
                                format!("it reported: {}", r.error.as_deref().unwrap_or("an error")),
                            Ended::Exited => "no <pass/> or <fail> block at the end".into(),
                            ref e => format!("ended: {}", ended_name(e)),
                        }
                    );
                    escalate(&self.ws, &id, &auditor, &token, &reason)?;
                    return Ok(Some(Finish::Escalated(reason)));
                }
            }
        }
        Ok(None)
    }

    /// A passed audit: merge, then record the pass (unless the auditor did with `wt pass`).
    fn integrate_audited(
        &mut self,
        n: u32,
        auditor: &str,
        already_passed: bool,
    ) -> Result<Option<Finish>> {
        let result = match self.merge_step(n) {
            MergeStep::Merged(c) => c,
            MergeStep::Back(reason) if !already_passed => {
                crate::app::review::fail(
                    &self.ws,
                    &self.state.id,
                    auditor,
                    &format!("The audit passed, but {reason}."),
                    None,
                )?;
                self.back(n, reason)?;
                return self.reclaim();
            }
            MergeStep::Back(reason) | MergeStep::Stop(reason) => {
                return Ok(Some(Finish::Stopped {
                    reason: format!("audited, but not merged: {reason}"),
                    release: false,
                }))
            }
        };
        self.integration_checks(n, result)?;
        let (status, closed) = if already_passed {
            ("done".to_string(), Vec::new())
        } else {
            let note = match result {
                Some(c) => format!("merged as {}", &c.to_string()[..12]),
                None => "no code change to merge".to_string(),
            };
            let p = crate::app::review::pass(&self.ws, &self.state.id, auditor, Some(&note), None)?;
            (
                p.value.ticket.status.as_str().to_string(),
                p.value.closed.iter().map(|c| c.ticket.id.clone()).collect(),
            )
        };
        self.merged(result, &status, closed);
        Ok(Some(Finish::Merged))
    }

    fn back(&mut self, n: u32, reason: String) -> Result<Option<Finish>> {
        self.emit(Event::MergeFailed {
            ticket: self.state.id.clone(),
            iteration: n,
            reason: reason.clone(),
        });
        self.state.verified = None;
        self.outcome(format!("iteration {n}: the work verified, but {reason}"))?;
        Ok(None)
    }

    fn escalate(&self, reason: &str) -> Result<()> {
        escalate(
            &self.ws,
            &self.state.id,
            &self.s.identity,
            &self.state.token,
            reason,
        )
    }

    /// The prompt: the ticket's context bundle, then how to work it under `wt run` and what
    /// the last iterations got wrong.
    fn prompt(&self, snap: &Snapshot, t: &Ticket, n: u32) -> Result<String> {
        let bundle = context::bundle(&self.ws, snap, t, &ContextOptions::default())?;
        let config = &snap.config;
        let mut p = bundle.text;
        if !p.ends_with('\n') {
            p.push('\n');
        }
        p.push_str(&format!(
            "\n---\n\n## Working this ticket (wt run, iteration {n} of {max})\n\n\
             Your working directory is a git worktree of this repository on branch `{branch}`. \
             Files there persist between iterations; your memory does not.\n\n\
             1. Do the work this ticket describes, and commit it on this branch (`git add` and \
             `git commit`): only committed work is judged.\n\
             2. Log each step: `wt progress {id} \"what you did\"`.\n\
             3. Tick each acceptance criterion once it holds: `wt tick {id} <N>` (`wt show {id}` \
             numbers them).\n",
            max = self.s.max_iterations,
            branch = self.state.branch,
            id = t.id,
        ));
        if config.ci.is_empty() {
            p.push_str("4. (No CI checks are configured.)\n");
        } else {
            p.push_str("4. These CI checks must pass on your last commit:\n");
            for (name, cmd) in &config.ci {
                p.push_str(&format!("   - {name}: `{cmd}`\n"));
            }
        }
        p.push_str(&format!(
            "5. When all of that holds, end your final message with this line, alone:\n\n{}\n\n\
             Never write that line otherwise. Without it, the next iteration starts over from \
             a fresh context.\n",
            self.s.signal
        ));
        if !self.state.outcomes.is_empty() {
            p.push_str("\n## Earlier iterations\n\n");
            for o in &self.state.outcomes {
                p.push_str(&format!("- {}\n", o.replace('\n', "\n  ")));
            }
        }
        Ok(p)
    }
}

/// The last `n` non-empty lines of `text`, if any.
fn last_lines(text: &str, n: usize) -> Option<String> {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(n);
    let tail = lines[start..].join("\n");
    (!tail.is_empty()).then_some(tail)
}

/// How a run of iterations ended.
enum Solo {
    /// The work verified at iteration n: the commit.
    Verified(u32, String),
    /// The loop is over (interrupted, the claim lost, …).
    Done(Finish),
    /// No iteration finished it (and more would not help): the reason to escalate with.
    Exhausted(String),
}

/// How a merge queue step ended.
enum MergeStep {
    /// On the integration branch (None: there was no code change).
    Merged(Option<Oid>),
    /// Back to the loop with this reason.
    Back(String),
    /// Not the agent's to fix.
    Stop(String),
}

fn stopped(reason: &str) -> Finish {
    Finish::Stopped {
        reason: reason.into(),
        release: true,
    }
}

fn ended_name(e: &Ended) -> &'static str {
    match e {
        Ended::Exited => "exited",
        Ended::Wall => "wall-clock timer",
        Ended::Idle => "idle timer",
        Ended::AfterResult => "after its final record",
        Ended::Cancelled => "cancelled",
        Ended::SpawnFailed => "could not start",
    }
}

/// `12s`, `4m`, `1h` for a timer.
pub fn secs(d: std::time::Duration) -> String {
    let ms = d.as_millis() as u64;
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 120_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else if ms < 7_200_000 {
        format!("{}m", ms / 60_000)
    } else {
        format!("{}h", ms / 3_600_000)
    }
}

/// Hand a ticket the run holds to a human: `escalated`, claim cleared, the reason in its
/// progress log.
pub fn escalate(ws: &Workspace, id: &str, agent: &str, token: &str, reason: &str) -> Result<()> {
    ws.write(Reads::Ticket(id), |snap| {
        let t = snap.resolve(id)?;
        lease::verify_holder(t, agent, Some(token), "escalate")?;
        let now = clock::timestamp();
        let (fields, ticket) = lease::release_as(t, Status::Escalated, &now);
        let text = crate::app::set_fields(&ws.read_text(snap, &t.path)?, &fields)?;
        let text = journal::append(
            &text,
            journal::PROGRESS,
            &journal::progress_entry(&now, agent, None, &format!("escalated: {reason}"), &[]),
        )?;
        let mut msg = Message::new("escalate", format!("{} {}", t.id, quoted(&t.title)))
            .ticket(&t.id)
            .agent(Some(agent))
            .trailer("Wt-Status", Status::Escalated.as_str());
        msg.body = Some(reason.to_string());
        Ok(Outcome::Commit {
            edits: vec![Edit::Write {
                path: t.path.clone(),
                content: text.into_bytes(),
            }],
            message: msg,
            value: ticket,
        })
    })?;
    Ok(())
}
