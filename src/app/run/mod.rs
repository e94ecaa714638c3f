//! `wt run`: the ticket executor. Parallel Ralph loops of agent CLIs, each ticket in its own
//! worktree, verified like `wt done`, integrated through a merge queue that keeps the
//! integration branch green. See docs/run.md.
//!
//! The run itself ([`run`]) is a scheduler on one thread: it claims ready tickets whose
//! files are free (up to `max_parallel`), starts one loop per ticket on a thread of its own
//! ([`worker`]), renews the claims' leases, forwards the loops' events, and starts whatever a
//! merge unblocked. State that must survive a crash lives in [`state`].

pub mod audit;
pub mod cost;
pub mod events;
pub mod fake;
pub mod merge;
pub mod orphans;
pub mod process;
pub mod report;
pub mod state;
pub mod worker;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use events::{Event, Totals};
use state::TicketState;
use worker::{Finish, Job, Msg, Settings};

use crate::app::ci::runner;
use crate::app::claim::{self, ClaimOptions};
use crate::error::{Error, ErrorKind, Result};
use crate::model::agent::{self, AgentProfile};
use crate::model::config::{Budget, Config};
use crate::model::ticket::{Kind, Status, Ticket};
use crate::workspace::{Snapshot, Workspace};

/// What `wt run` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The agent profile (default `run.agent`).
    pub agent: Option<String>,
    /// Kind of tickets to work; None: `ready.default_kind`.
    pub kind: Option<Kind>,
    /// Work every kind.
    pub any_kind: bool,
    pub max_parallel: Option<usize>,
    pub max_iterations: Option<u32>,
    /// Keep polling for new work when nothing is left.
    pub watch: bool,
    /// On Ctrl-C, keep the claims (default: release them).
    pub keep_claims: bool,
    /// The run's budget in dollars (default `run.budget.usd`).
    pub budget_usd: Option<f64>,
    /// The auditor's profile (default `run.auditor`).
    pub auditor: Option<String>,
    /// Keep the branches of attempts that lost a vote.
    pub keep_losers: bool,
}

/// Why the run's time budget is spent, if it is (dollars and tokens are checked by the
/// loops as they add them: [`worker::Spend`]).
fn minutes_reached(b: &Budget, elapsed: Duration) -> Option<String> {
    let max = b.minutes?;
    let m = elapsed.as_secs_f64() / 60.0;
    (m >= max).then(|| format!("{m:.1} minutes spent of the run's budget of {max}"))
}

/// The profile named `name`: `agents.<name>` in config (one named like a built-in without
/// a `cmd` adjusts that built-in), else a built-in.
pub fn profile(config: &Config, name: &str) -> Result<AgentProfile> {
    agent::resolve(name, &config.agents)
        .map_err(|e| Error::invalid(e).with_hint("agent profiles: docs/agents.md"))
}

/// The profile a ticket asks for with its own `agent:` field, if any.
fn ticket_agent(ws: &Workspace, snap: &Snapshot, t: &Ticket) -> Option<String> {
    let text = ws.read_text(snap, &t.path).ok()?;
    cost::run_fields(&text)
        .agent
        .filter(|a| !a.trim().is_empty())
}

fn safe_id(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

/// The folder ticket worktrees go in.
pub fn worktrees_dir(ws: &Workspace, config: &Config) -> PathBuf {
    match (&config.run.worktrees, ws.workdir()) {
        (Some(p), Some(root)) => root.join(p),
        (Some(p), None) => PathBuf::from(p),
        (None, _) => state::root(ws.store.common_dir()).join("worktrees"),
    }
}

struct Running {
    cancel: Arc<AtomicBool>,
    handle: std::thread::JoinHandle<()>,
    token: String,
}

/// Run the executor until nothing it may do remains (or, with `watch`, until interrupted).
/// `outer` sees every event as it happens, with its `--json` line (also appended to the run's
/// journal, see [`report`]). `start_dir` is where agents' worktrees are opened
/// from (the directory wt was started in).
pub fn run(
    ws: &Workspace,
    start_dir: &Path,
    opts: &RunOptions,
    outer: &mut dyn FnMut(&Event, &str),
) -> Result<Totals> {
    runner::watch_signals();
    let started = Instant::now();
    let config = ws.config()?;
    let default_agent = opts
        .agent
        .clone()
        .or_else(|| config.run.agent.clone())
        .ok_or_else(|| {
            Error::setup("which agent? no `run.agent` in .work/config.yaml and no --agent")
                .with_hint(format!(
                    "pass --agent NAME (built-ins: {}) or set run.agent; `wt demo --run` shows it with fake agents",
                    agent::BUILTIN_NAMES.join(", ")
                ))
        })?;
    let implementer = profile(&config, &default_agent)?;
    let auditor = match opts.auditor.clone().or_else(|| config.run.auditor.clone()) {
        Some(name) => {
            let p = profile(&config, &name)?;
            if name == default_agent && p.model == implementer.model {
                return Err(Error::invalid(format!(
                    "the auditor `{name}` is the implementer's profile and model"
                ))
                .with_hint("an audit is by a different agent: name another profile, or the same CLI with another `model`"));
            }
            Some((name, p))
        }
        None => None,
    };
    let max_parallel = opts.max_parallel.unwrap_or(config.run.max_parallel).max(1);
    let max_iterations = opts
        .max_iterations
        .unwrap_or(config.run.max_iterations)
        .max(1);
    let kind = if opts.any_kind {
        None
    } else {
        Some(opts.kind.unwrap_or(config.ready.default_kind))
    };
    let target = config
        .run
        .target
        .clone()
        .unwrap_or_else(|| ws.branch.clone());
    if ws.store.branch_tip(&target)?.is_none() {
        return Err(
            Error::setup(format!("the integration branch `{target}` does not exist"))
                .with_hint("set run.target in .work/config.yaml to an existing branch"),
        );
    }
    let common = ws.store.common_dir().to_path_buf();
    let slot = state::take_slot(&common)?;
    let mut journal = report::Journal::create(&common, &slot.identity);
    let mut sink_fn = |e: &Event| {
        let line = journal.line(e);
        journal.write(&line);
        outer(e, &line);
    };
    let sink: &mut dyn FnMut(&Event) = &mut sink_fn;
    let settings = Settings {
        repo: start_dir.to_path_buf(),
        common_dir: common.clone(),
        identity: slot.identity.clone(),
        max_iterations,
        signal: config.run.complete_signal.clone(),
        target: target.clone(),
        merge: config.run.merge,
        worktrees: worktrees_dir(ws, &config),
        wt_dir: std::env::current_exe()
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf)),
        auditor,
        keep_losers: opts.keep_losers,
    };
    let mut totals = Totals::default();
    let mut budget = config.run.budget.clone();
    if opts.budget_usd.is_some() {
        budget.usd = opts.budget_usd;
    }
    let spend = Arc::new(worker::Spend::new(budget.clone()));
    let (tx, rx) = mpsc::channel::<Msg>();
    let merge_lock = Arc::new(Mutex::new(()));
    let mut running: HashMap<String, Running> = HashMap::new();
    let mut skip: BTreeSet<String> = BTreeSet::new();

    // Resume what a run of this slot left.
    let mut resumed_jobs = Vec::new();
    let (kept, unreadable) = slot.tickets();
    let snap = ws.snapshot()?;
    for st in kept {
        if let Some(pg) = st.pgid {
            // Only if it is still this run's agent: the number may have been reused.
            process::end_group_if_env(pg, "WT_RUN", &slot.identity);
        }
        match snap.get(&st.id) {
            Some(t)
                if t.claimed_by.as_deref() == Some(slot.identity.as_str())
                    && t.claim_token.as_deref() == Some(st.token.as_str()) =>
            {
                resumed_jobs.push((st, t.title.clone()));
            }
            Some(t) if matches!(t.status, Status::Done | Status::Review) => {
                let _ = ws
                    .store
                    .remove_ticket_worktree(&st.worktree, &st.branch, true);
                slot.forget(&st.id);
            }
            _ => slot.forget(&st.id),
        }
    }
    sink(&Event::RunStarted {
        run: slot.identity.clone(),
        agent: default_agent.clone(),
        max_parallel,
        max_iterations,
        target: target.clone(),
        resumed: resumed_jobs.iter().map(|(s, _)| s.id.clone()).collect(),
    });
    for p in unreadable {
        sink(&Event::Warning {
            ticket: None,
            message: format!("unreadable run state {p} (ignored)"),
        });
    }

    let start_job = |st: TicketState,
                     title: String,
                     prof: AgentProfile,
                     resumed: bool,
                     sink: &mut dyn FnMut(&Event)|
     -> Running {
        sink(&Event::TicketClaimed {
            ticket: st.id.clone(),
            title: title.clone(),
            agent: st.agent.clone(),
            branch: st.branch.clone(),
            worktree: st.worktree.display().to_string(),
            resumed,
        });
        let cancel = Arc::new(AtomicBool::new(false));
        let token = st.token.clone();
        let s = settings.clone();
        let dir = slot.dir.clone();
        let tx = tx.clone();
        let lock = Arc::clone(&merge_lock);
        let c = Arc::clone(&cancel);
        let spend = Arc::clone(&spend);
        let handle = std::thread::spawn(move || {
            let id = st.id.clone();
            let finish = worker::work(
                &s,
                &dir,
                Job {
                    state: st,
                    title,
                    profile: prof,
                    spend,
                },
                c,
                &lock,
                &tx,
            );
            let _ = tx.send(Msg::Finished { ticket: id, finish });
        });
        Running {
            cancel,
            handle,
            token,
        }
    };

    for (st, title) in resumed_jobs {
        let prof = match profile(&config, &st.agent) {
            Ok(p) => p,
            Err(e) => {
                sink(&Event::Warning {
                    ticket: Some(st.id.clone()),
                    message: e.to_string(),
                });
                skip.insert(st.id.clone());
                continue;
            }
        };
        let id = st.id.clone();
        let r = start_job(st, title, prof, true, sink);
        running.insert(id, r);
    }

    let lease = config.claims.lease_minutes;
    let renew_every = (lease > 0).then(|| Duration::from_secs((u64::from(lease) * 20).max(10)));
    let mut last_renewal = Instant::now();
    let poll = Duration::from_secs(config.run.poll_seconds.max(1));
    let mut last_look: Option<Instant> = None;
    let mut interrupted = false;
    let mut nothing_left = false;
    loop {
        if runner::interrupted() && !interrupted {
            interrupted = true;
            for r in running.values() {
                r.cancel.store(true, Ordering::SeqCst);
            }
        }
        // Start work while there is room.
        if totals.budget_reached.is_none() {
            spend.reach(minutes_reached(&budget, started.elapsed()));
            if spend.spent.load(Ordering::SeqCst) {
                let why = spend
                    .why
                    .lock()
                    .ok()
                    .and_then(|w| w.clone())
                    .unwrap_or_else(|| "the run's budget is spent".into());
                sink(&Event::BudgetReached {
                    reason: why.clone(),
                });
                totals.budget_reached = Some(why);
            }
        }
        let may_look = !interrupted
            && totals.budget_reached.is_none()
            && running.len() < max_parallel
            && (!nothing_left || last_look.is_none_or(|t| t.elapsed() >= poll));
        if may_look {
            last_look = Some(Instant::now());
            let mut started_any = false;
            while running.len() < max_parallel {
                let Some((st, title, prof)) = next_ticket(
                    ws,
                    &settings,
                    &config,
                    kind,
                    &default_agent,
                    &running,
                    &mut skip,
                    sink,
                )?
                else {
                    break;
                };
                started_any = true;
                let _ = slot.save(&st);
                let id = st.id.clone();
                let r = start_job(st, title, prof, false, sink);
                running.insert(id, r);
            }
            nothing_left = !started_any && running.len() < max_parallel;
        }
        if running.is_empty()
            && (interrupted || totals.budget_reached.is_some() || (nothing_left && !opts.watch))
        {
            break;
        }
        // Renew the leases of what we hold.
        if let Some(every) = renew_every {
            if last_renewal.elapsed() >= every {
                last_renewal = Instant::now();
                for (id, r) in &running {
                    if let Err(e) =
                        claim::heartbeat(ws, id, &settings.identity, Some(&r.token), None)
                    {
                        sink(&Event::Warning {
                            ticket: Some(id.clone()),
                            message: format!("could not renew the lease: {e}"),
                        });
                    }
                }
            }
        }
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(Msg::Event(e)) => {
                if let Event::IterationEnded { record, .. } = &e {
                    totals.iterations += 1;
                    totals.agent_ms += record.duration_ms;
                    if let Some(c) = record.cost_usd {
                        *totals.cost_usd.get_or_insert(0.0) += c;
                    }
                    if let Some(t) = &record.tokens {
                        totals.tokens.input += t.input;
                        totals.tokens.output += t.output;
                        totals.tokens.cache_read += t.cache_read;
                        totals.tokens.cache_write += t.cache_write;
                        totals.tokens.reasoning += t.reasoning;
                    }
                }
                sink(&e);
            }
            Ok(Msg::Finished { ticket, finish }) => {
                let r = running.remove(&ticket);
                if let Some(r) = &r {
                    // The thread has sent its last message; it ends at once.
                    let _ = &r.handle;
                }
                if let Some(r) = r {
                    let _ = r.handle.join();
                }
                finished(
                    ws,
                    &settings,
                    &slot,
                    &ticket,
                    finish,
                    opts,
                    &mut totals,
                    &mut skip,
                    sink,
                );
                // A merge may have unblocked work: look again at once.
                nothing_left = false;
                last_look = None;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    totals.duration_ms = started.elapsed().as_millis() as u64;
    sink(&Event::RunEnded {
        totals: totals.clone(),
        interrupted,
    });
    Ok(totals)
}

#[allow(clippy::too_many_arguments)]
fn finished(
    ws: &Workspace,
    settings: &Settings,
    slot: &state::Slot,
    id: &str,
    finish: Finish,
    opts: &RunOptions,
    totals: &mut Totals,
    skip: &mut BTreeSet<String>,
    sink: &mut dyn FnMut(&Event),
) {
    match finish {
        Finish::Merged => {
            totals.merged.push(id.to_string());
            slot.forget(id);
        }
        Finish::Escalated(reason) => {
            totals.escalated.push(id.to_string());
            skip.insert(id.to_string());
            slot.forget(id);
            sink(&Event::Escalated {
                ticket: id.to_string(),
                reason,
            });
        }
        Finish::Stopped { reason, release } => {
            totals.unfinished.push(id.to_string());
            skip.insert(id.to_string());
            let interrupted = runner::interrupted();
            let give_back = release && !(interrupted && opts.keep_claims);
            let mut released = false;
            if give_back {
                let token = std::fs::read(slot.ticket_file(id))
                    .ok()
                    .and_then(|b| serde_json::from_slice::<TicketState>(&b).ok())
                    .map(|s| s.token);
                released = claim::release_with(ws, id, &settings.identity, token.as_deref(), false)
                    .is_ok();
                if released {
                    slot.forget(id);
                }
            }
            sink(&Event::Stopped {
                ticket: id.to_string(),
                reason,
                released,
            });
        }
    }
}

/// Claim the next ticket this run may work: ready, of the kind asked, files free, not one
/// this run already gave up on. None when there is none.
#[allow(clippy::too_many_arguments)]
fn next_ticket(
    ws: &Workspace,
    settings: &Settings,
    config: &Config,
    kind: Option<Kind>,
    default_agent: &str,
    running: &HashMap<String, Running>,
    skip: &mut BTreeSet<String>,
    sink: &mut dyn FnMut(&Event),
) -> Result<Option<(TicketState, String, AgentProfile)>> {
    let snap = ws.snapshot()?;
    let steal = config.claims.steal_stale_on_next;
    let cands = claim::next_candidates(&snap, kind, steal)?;
    let (cands, _) = claim::free_of_held(&snap, cands)?;
    for i in cands {
        let t = &snap.tickets[i];
        if skip.contains(&t.id) || running.contains_key(&t.id) {
            continue;
        }
        if !safe_id(&t.id) {
            skip.insert(t.id.clone());
            sink(&Event::Warning {
                ticket: Some(t.id.clone()),
                message: "its ID cannot name a branch and a folder; skipped".into(),
            });
            continue;
        }
        let agent_name = ticket_agent(ws, &snap, t).unwrap_or_else(|| default_agent.to_string());
        let prof = match profile(config, &agent_name) {
            Ok(p) => p,
            Err(e) => {
                skip.insert(t.id.clone());
                sink(&Event::Warning {
                    ticket: Some(t.id.clone()),
                    message: e.to_string(),
                });
                continue;
            }
        };
        let opts = ClaimOptions {
            steal_stale: steal,
            ..Default::default()
        };
        match claim::claim_if_free(ws, &t.id, &settings.identity, &opts) {
            Ok(w) => {
                let c = w.value.ticket;
                let Some(token) = c.claim_token.clone() else {
                    skip.insert(t.id.clone());
                    continue;
                };
                let st = TicketState {
                    id: c.id.clone(),
                    token,
                    branch: format!("wt/{}", c.id),
                    worktree: settings.worktrees.join(&c.id),
                    agent: agent_name,
                    ..Default::default()
                };
                return Ok(Some((st, c.title.clone(), prof)));
            }
            Err(e) if matches!(e.kind, ErrorKind::AlreadyClaimed | ErrorKind::Refused) => {
                // Someone else was faster, or it stopped being ready: try the next.
                continue;
            }
            Err(e) => {
                skip.insert(t.id.clone());
                sink(&Event::Warning {
                    ticket: Some(t.id.clone()),
                    message: format!("could not claim it: {e}"),
                });
            }
        }
    }
    Ok(None)
}
