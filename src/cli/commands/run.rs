use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::app::report::SchemaVersion;
use crate::app::run::events::{Event, Totals};
use crate::app::run::worker::secs;
use crate::app::run::{self, RunOptions};
use crate::cli::{Ctx, Out};
use crate::model::text::{escape_line, escape_text};

/// Work the ready tickets with agent CLIs until nothing is left: parallel Ralph loops.
///
/// Each ready ticket (of the default kind, or --kind) is claimed as this run's identity and
/// worked in a git worktree of its own on branch wt/<ID>, up to --max-parallel at once, never
/// two whose `files` overlap. An iteration starts the agent (--agent, or run.agent; a ticket's
/// own `agent:` field wins) with a fresh context: the ticket's bundle, how to work under wt
/// run, and what the last iterations got wrong. The agent commits, ticks criteria and ends
/// its final message with the completion signal (run.complete_signal, `<complete/>`). Then
/// wt verifies as `wt done` does (committed, criteria ticked, artifacts, CI green), merges
/// the work onto the integration branch as one commit through a queue that runs the CI
/// checks on the result first (the branch never gets a red commit), and finishes the
/// ticket; what it unblocked starts at once. After --max-iterations the ticket is escalated.
///
/// Kill it at any moment and start it again: it resumes its tickets at their next
/// iteration. Ctrl-C ends the agents and releases the claims (--keep-claims keeps them);
/// worktrees and logs stay. Logs: <git dir>/wt/run/logs/<ID>/<n>.{prompt.md,log,stderr}.
/// --json prints one event per line (docs/reference/json.md, "wt run events").
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    pub sub: Option<RunCommand>,
    /// The agent profile: a name under `agents:` in .work/config.yaml or a built-in
    /// (claude, codex, opencode, gemini, aider, amp, cursor, copilot); default run.agent.
    #[arg(long, value_name = "PROFILE")]
    pub agent: Option<String>,
    #[command(flatten)]
    pub kind: super::shared::KindOrAny,
    /// Tickets worked at once (default run.max_parallel, 3).
    #[arg(long, value_name = "N")]
    pub max_parallel: Option<usize>,
    /// Iterations per ticket before it is escalated (default run.max_iterations, 10).
    #[arg(long, value_name = "N")]
    pub max_iterations: Option<u32>,
    /// When nothing is left, keep looking for new work (every run.poll_seconds) until
    /// interrupted.
    #[arg(long)]
    pub watch: bool,
    /// On Ctrl-C, keep the claims instead of releasing them (a later `wt run` resumes them).
    #[arg(long)]
    pub keep_claims: bool,
    /// Stop starting iterations once the agents have reported this many dollars (default
    /// run.budget.usd); running iterations finish.
    #[arg(long, value_name = "USD")]
    pub budget_usd: Option<f64>,
    /// With `review: true`: the profile that audits each verified job before it is merged
    /// (default run.auditor); a different profile or model from the implementer's.
    #[arg(long, value_name = "PROFILE")]
    pub auditor: Option<String>,
    /// Keep the branches and worktrees of attempts that lost a vote (`vote: N`).
    #[arg(long)]
    pub keep_losers: bool,
}

#[derive(clap::Subcommand)]
pub enum RunCommand {
    Report(ReportArgs),
}

/// A run's account: per ticket its iterations, audits and verdicts, wall time, agent time,
/// tokens, cost and outcome; totals; the slowest and most expensive tickets; what was
/// escalated and why.
///
/// Read from the run's journal (<git dir>/wt/run/runs/<started>-<identity>.jsonl, written as
/// the run goes), so it works on a run that crashed, or one still running.
#[derive(clap::Args)]
pub struct ReportArgs {
    /// The run: its identity (wt-run-1-k3f9) or journal file name; default the latest run.
    pub run: Option<String>,
}

fn report(args: ReportArgs, ctx: &Ctx) -> Result<Out, crate::Error> {
    let ws = ctx.workspace()?;
    let path = crate::app::run::report::find(ws.store.common_dir(), args.run.as_deref())?;
    let r = crate::app::run::report::report(&path)?;
    Ok(Out::new(r, render_report))
}

fn money(c: Option<f64>) -> String {
    c.map(|c| format!("${c:.4}")).unwrap_or_else(|| "-".into())
}

fn render_report(r: &crate::app::run::report::RunReport) -> String {
    let mut s = format!(
        "run {} ({}), started {}: {}\n\n",
        r.run,
        r.journal,
        r.started_at.as_deref().unwrap_or("?"),
        if !r.ended {
            "no end recorded: it crashed, or still runs"
        } else if r.interrupted {
            "interrupted"
        } else {
            "ended"
        }
    );
    s.push_str(&format!(
        "{:<12} {:<10} {:>5} {:>7} {:>9} {:>9} {:>10} {:>10}  title\n",
        "ticket", "outcome", "iter", "audits", "wall", "agents", "tokens", "cost"
    ));
    for t in &r.tickets {
        let audits: Vec<&str> = t.audits.iter().map(|a| a.verdict.as_str()).collect();
        s.push_str(&format!(
            "{:<12} {:<10} {:>5} {:>7} {:>9} {:>9} {:>10} {:>10}  {}\n",
            t.ticket,
            t.outcome,
            t.iterations,
            if audits.is_empty() {
                "-".to_string()
            } else {
                audits.join(",")
            },
            secs(Duration::from_millis(t.wall_ms)),
            secs(Duration::from_millis(t.agent_ms)),
            crate::app::run::cost::total_tokens(&t.tokens),
            money(t.cost_usd),
            escape_line(&t.title)
        ));
    }
    let tot = &r.totals;
    s.push_str(&format!(
        "\ntotal: {} tickets, {} merged, {} escalated; {}, {} audits; wall {}, agents {}; {} tokens; {}\n",
        tot.tickets,
        tot.merged,
        tot.escalated,
        crate::model::plural(tot.iterations as usize, "iteration"),
        tot.audits,
        secs(Duration::from_millis(tot.wall_ms)),
        secs(Duration::from_millis(tot.agent_ms)),
        crate::app::run::cost::total_tokens(&tot.tokens),
        money(tot.cost_usd)
    ));
    if let Some(b) = &r.budget_reached {
        s.push_str(&format!("budget reached: {b}\n"));
    }
    if !r.slowest.is_empty() {
        s.push_str(&format!("slowest: {}\n", r.slowest.join(", ")));
    }
    if !r.most_expensive.is_empty() {
        s.push_str(&format!(
            "most expensive: {}\n",
            r.most_expensive.join(", ")
        ));
    }
    for t in r.tickets.iter().filter(|t| t.outcome == "escalated") {
        s.push_str(&format!(
            "escalated {}: {}\n",
            t.ticket,
            t.reason.as_deref().unwrap_or("?")
        ));
    }
    s
}

/// The document `wt run` leaves when its events were already printed.
#[derive(serde::Serialize)]
struct Streamed {
    schema_version: SchemaVersion,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    if let Some(RunCommand::Report(a)) = args.sub {
        return report(a, ctx);
    }
    let ws = ctx.workspace()?;
    let opts = RunOptions {
        agent: args.agent.clone(),
        kind: args.kind.kind().flatten(),
        any_kind: args.kind.kind() == Some(None),
        max_parallel: args.max_parallel,
        max_iterations: args.max_iterations,
        watch: args.watch,
        keep_claims: args.keep_claims,
        budget_usd: args.budget_usd,
        auditor: args.auditor.clone(),
        keep_losers: args.keep_losers,
    };
    let totals = run_shown(&ws, &ctx.cwd, &opts, ctx.json)?;
    Ok(streamed(&totals))
}

/// Run the executor, showing its events as `--json` lines or in the live view.
fn run_shown(
    ws: &crate::workspace::Workspace,
    dir: &std::path::Path,
    opts: &RunOptions,
    json: bool,
) -> Result<Totals, crate::Error> {
    if json {
        return run::run(ws, dir, opts, &mut |_, line| print_json(line));
    }
    let mut view = View::new();
    let t = run::run(ws, dir, opts, &mut |e, _| view.show(e));
    view.finish();
    t
}

/// The (empty) document of a run whose events were printed, with its exit code: 0 when
/// every ticket it took was merged, 5 when one was escalated or left unfinished or the
/// budget stopped it, 130 when interrupted.
fn streamed(totals: &Totals) -> Out {
    let code = if crate::app::ci::runner::interrupted() {
        crate::cli::exit::INTERRUPTED
    } else if totals.escalated.is_empty()
        && totals.unfinished.is_empty()
        && totals.budget_reached.is_none()
    {
        crate::cli::exit::OK
    } else {
        crate::cli::exit::REFUSED
    };
    Out::new(
        Streamed {
            schema_version: SchemaVersion,
        },
        |_| String::new(),
    )
    .streamed()
    .code(code)
}

fn print_json(line: &str) {
    crate::cli::emit(&format!("{line}\n"));
}

/// Colors only on a terminal that takes them, and never with NO_COLOR set.
fn colors() -> bool {
    std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var("TERM").is_ok_and(|t| !t.is_empty() && t != "dumb")
}

struct Live {
    bar: ProgressBar,
    title: String,
    iteration: u32,
    max: u32,
    phase: &'static str,
    since: Instant,
}

/// What a person sees: one live line per running ticket on a terminal, events scrolling
/// above; plain lines otherwise.
struct View {
    multi: Option<MultiProgress>,
    live: BTreeMap<String, Live>,
    color: bool,
    max_iterations: u32,
}

impl View {
    fn new() -> View {
        let tty = std::io::stdout().is_terminal()
            && std::env::var("TERM").is_ok_and(|t| !t.is_empty() && t != "dumb");
        View {
            multi: tty.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stdout())),
            live: BTreeMap::new(),
            color: colors(),
            max_iterations: 0,
        }
    }

    fn line(&self, s: &str) {
        let s = escape_text(s).into_owned();
        match &self.multi {
            Some(m) => {
                let _ = m.println(s);
            }
            None => {
                crate::cli::emit(&format!("{s}\n"));
            }
        }
    }

    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    fn refresh(&self, id: &str) {
        if let Some(l) = self.live.get(id) {
            l.bar.set_message(format!(
                "{id} {} · {}/{} · {}",
                escape_line(&l.title),
                l.iteration,
                l.max,
                l.phase
            ));
            let _ = l.since;
        }
    }

    fn show(&mut self, e: &Event) {
        match e {
            Event::RunStarted {
                run,
                agent,
                max_parallel,
                max_iterations,
                target,
                resumed,
            } => {
                self.max_iterations = *max_iterations;
                self.line(&format!(
                    "wt run {run}: agent {agent}, up to {max_parallel} at once, {max_iterations} iterations each, merging into {target}{}",
                    if resumed.is_empty() {
                        String::new()
                    } else {
                        format!("; resuming {}", resumed.join(", "))
                    }
                ));
            }
            Event::TicketClaimed {
                ticket,
                title,
                agent,
                branch,
                resumed,
                ..
            } => {
                self.line(&format!(
                    "{ticket} {}: {title} (agent {agent}, branch {branch})",
                    if *resumed { "resumed" } else { "claimed" },
                ));
                if let Some(m) = &self.multi {
                    let bar = m.add(ProgressBar::new_spinner());
                    bar.set_style(
                        ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    bar.enable_steady_tick(Duration::from_millis(200));
                    self.live.insert(
                        ticket.clone(),
                        Live {
                            bar,
                            title: title.clone(),
                            iteration: 0,
                            max: self.max_iterations,
                            phase: "preparing",
                            since: Instant::now(),
                        },
                    );
                    self.refresh(ticket);
                }
            }
            Event::Phase {
                ticket,
                iteration,
                phase,
            } => {
                if let Some(l) = self.live.get_mut(ticket) {
                    l.iteration = *iteration;
                    l.phase = phase.as_str();
                }
                self.refresh(ticket);
            }
            Event::IterationStarted {
                ticket,
                iteration,
                max_iterations,
                ..
            } => {
                if let Some(l) = self.live.get_mut(ticket) {
                    l.iteration = *iteration;
                    l.max = *max_iterations;
                    l.phase = "agent";
                    self.refresh(ticket);
                } else {
                    self.line(&format!(
                        "{ticket} iteration {iteration}/{max_iterations}: agent started"
                    ));
                }
            }
            Event::IterationEnded { ticket, record } => {
                let how = match (&record.ended, record.exit_code) {
                    (crate::app::run::process::Ended::Exited, Some(c)) => format!("exit {c}"),
                    (other, _) => serde_json::to_value(other)
                        .ok()
                        .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
                        .unwrap_or_else(|| "ended".into()),
                };
                let mut s = format!(
                    "{ticket} iteration {}/{}: {how} after {}, {}, {}",
                    record.iteration,
                    record.max_iterations,
                    secs(Duration::from_millis(record.duration_ms)),
                    crate::model::plural(record.commits, "commit"),
                    crate::model::plural(record.files_changed.len(), "file")
                );
                if let Some(c) = record.cost_usd {
                    s.push_str(&format!(", ${c:.4}"));
                }
                if record.claimed_completion {
                    s.push_str(", claims completion");
                } else if let Some(err) = &record.error {
                    s.push_str(&format!(": {err}"));
                }
                self.line(&s);
            }
            Event::VerificationFailed {
                ticket,
                iteration,
                reason,
            } => {
                let s = format!("{ticket} iteration {iteration}: not verified: {reason}");
                self.line(&self.paint("33", &s));
            }
            Event::MergeFailed {
                ticket,
                iteration,
                reason,
            } => {
                let s = format!("{ticket} iteration {iteration}: not merged: {reason}");
                self.line(&self.paint("33", &s));
            }
            Event::Merged {
                ticket,
                commit,
                status,
                closed,
            } => {
                self.drop_live(ticket);
                let mut s = match commit {
                    Some(c) => format!("{ticket} merged as {} ({status})", &c[..c.len().min(12)]),
                    None => format!("{ticket} finished with no code change ({status})"),
                };
                if !closed.is_empty() {
                    s.push_str(&format!("; closed {}", closed.join(", ")));
                }
                self.line(&self.paint("32", &s));
            }
            Event::Escalated { ticket, reason } => {
                self.drop_live(ticket);
                let s = format!("{ticket} escalated: {reason}");
                self.line(&self.paint("31", &s));
            }
            Event::Stopped {
                ticket,
                reason,
                released,
            } => {
                self.drop_live(ticket);
                self.line(&format!(
                    "{ticket} stopped: {reason}{}",
                    if *released {
                        " (claim released)"
                    } else {
                        " (claim kept; `wt run` resumes it)"
                    }
                ));
            }
            Event::AuditEnded {
                ticket,
                iteration,
                attempt,
                auditor,
                verdict,
                amendment,
                ..
            } => {
                let mut s = format!(
                    "{ticket} iteration {iteration}: audit{} by {auditor}: {verdict}",
                    if *attempt > 1 {
                        format!(" (try {attempt})")
                    } else {
                        String::new()
                    }
                );
                if let Some(a) = amendment {
                    s.push_str(&format!(" — {}", a.lines().next().unwrap_or("")));
                }
                let color = if verdict == "pass" { "32" } else { "33" };
                self.line(&self.paint(color, &s));
            }
            Event::VoteDecided {
                ticket,
                attempts,
                winner,
                why,
            } => {
                let ok = attempts.iter().filter(|a| a.verified).count();
                let s = match winner {
                    Some(w) => format!(
                        "{ticket} vote: {ok} of {} attempts verified; attempt {w} wins: {why}",
                        attempts.len()
                    ),
                    None => format!("{ticket} vote: {why}"),
                };
                self.line(&s);
            }
            Event::IntegrationChecked { phase, green, job } => {
                let s = match job {
                    Some(j) if !green => format!(
                        "{phase}: integration checks red after its last job: new job {j} keeps it open"
                    ),
                    _ => format!("{phase}: integration checks green after its last job"),
                };
                self.line(&self.paint(if *green { "32" } else { "31" }, &s));
            }
            Event::BudgetReached { reason } => {
                let s = format!("budget reached: {reason}; no new iteration starts");
                self.line(&self.paint("31", &s));
            }
            Event::Warning { ticket, message } => {
                let s = match ticket {
                    Some(t) => format!("warning: {t}: {message}"),
                    None => format!("warning: {message}"),
                };
                self.line(&s);
            }
            Event::RunEnded {
                totals,
                interrupted,
            } => {
                self.line(&summary(totals, *interrupted));
            }
        }
    }

    fn drop_live(&mut self, id: &str) {
        if let Some(l) = self.live.remove(id) {
            l.bar.finish_and_clear();
            if let Some(m) = &self.multi {
                m.remove(&l.bar);
            }
        }
    }

    fn finish(&mut self) {
        let ids: Vec<String> = self.live.keys().cloned().collect();
        for id in ids {
            self.drop_live(&id);
        }
    }
}

/// The last line of a run.
pub fn summary(t: &Totals, interrupted: bool) -> String {
    let mut s = format!(
        "wt run {}: {} merged, {} escalated, {} unfinished; {} in {} (agents {})",
        if interrupted {
            "interrupted"
        } else {
            "finished"
        },
        t.merged.len(),
        t.escalated.len(),
        t.unfinished.len(),
        crate::model::plural(t.iterations as usize, "iteration"),
        secs(Duration::from_millis(t.duration_ms)),
        secs(Duration::from_millis(t.agent_ms)),
    );
    if let Some(c) = t.cost_usd {
        s.push_str(&format!(", ${c:.4}"));
    }
    if let Some(b) = &t.budget_reached {
        s.push_str(&format!("; stopped early: {b}"));
    }
    if t.tokens.input + t.tokens.output > 0 {
        s.push_str(&format!(
            ", {} in / {} out tokens",
            t.tokens.input, t.tokens.output
        ));
    }
    s
}

/// The plan `wt demo --run` works with the executor.
const RUN_PLAN: &str = include_str!("demo.run.plan.md");

/// `wt demo --run`: the executor on a small plan with the built-in fake agent.
pub fn demo(keep: bool, ctx: &Ctx) -> Result<Out, crate::Error> {
    let dir = tempfile::Builder::new().prefix("wt-demo-run-").tempdir()?;
    let root = dir.path().to_path_buf();
    let exe = std::env::current_exe()?;
    crate::app::run::fake::demo_repo(&root, &exe, RUN_PLAN, 300)?;
    let ws = crate::workspace::Workspace::open(&root)?;
    if !ctx.json {
        crate::cli::emit(&format!(
            "$ git init {}  (a throwaway repository)\n$ wt init; wt plan import plan.md   (3 phases, 5 jobs)\n\
             $ $EDITOR .work/config.yaml   (ci: test ! -f BROKEN; run.agent: wt's fake agent)\n$ wt run\n",
            root.display()
        ));
    }
    let totals = run_shown(&ws, &root, &RunOptions::default(), ctx.json)?;
    if !ctx.json {
        let log = crate::app::log::first_parent_subjects(&ws, &ws.branch, 500)?;
        // The code merges and the `wt: done` commits; claims, ticks and progress left out.
        let shown: Vec<&String> = log
            .iter()
            .filter(|l| {
                let subject = l.split_once(' ').map_or("", |x| x.1);
                !subject.starts_with("wt: ") || subject.starts_with("wt: done ")
            })
            .collect();
        let mut s = format!(
            "\n$ git log --first-parent --oneline main   (code merges and `wt: done` commits; {} other wt commits left out)\n",
            log.len() - shown.len()
        );
        for l in shown {
            s.push_str(&format!("  {l}\n"));
        }
        crate::cli::emit(&escape_text(&s));
        if keep {
            let p = dir.keep();
            crate::cli::emit(&format!("\nkept the demo repository: {}\n", p.display()));
        }
    }
    Ok(streamed(&totals))
}
