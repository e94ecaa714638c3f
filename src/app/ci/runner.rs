//! Running the checks: one `sh -c <command>` per check, from the repository root, in order,
//! stopping at the first failure unless told to keep going.
//!
//! Each check's stdout and stderr share one pipe (so their lines keep their order); wt copies
//! it to a log file, keeps the last lines for the failure report, and, when streaming, to its
//! own stderr. On a terminal a progress line shows the running check and its time; otherwise
//! plain lines. Each check runs in its own process group: on Ctrl-C / SIGTERM / SIGHUP /
//! SIGQUIT wt terminates that group and returns, so callers (the pre-commit hook) can restore
//! what they set aside before exiting.

use std::collections::VecDeque;
use std::fs::{self, File};
use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex, Once};
use std::thread;
use std::time::{Duration, Instant};

pub use super::record::RunOutcome;
use super::record::{secs, CheckResult, CheckStatus};
use super::Check;
use crate::error::{Error, Result};
use crate::model::clock;

/// Lines of output kept for a failure report.
pub const TAIL_LINES: usize = 30;
/// Longest line kept in the tail (characters).
const TAIL_WIDTH: usize = 400;
/// How long a check gets to exit after SIGTERM before SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(3);
/// How long wt waits for a check's output to end after the check exited (background
/// processes it started may keep the pipe open).
const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// Variables git sets for hooks that locate a repository; a check that runs git itself (a
/// test suite creating repositories) must not inherit them.
const GIT_LOCATION_VARS: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_PREFIX",
    "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_QUARANTINE_PATH",
];

#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Run every check even after one failed.
    pub keep_going: bool,
    /// Copy the checks' output to stderr as it comes (otherwise only progress and, on
    /// failure, the tail).
    pub stream: bool,
    /// Run even when a green result for the same tree exists.
    pub rerun: bool,
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static WATCH: Once = Once::new();

/// From now on, SIGINT, SIGTERM, SIGHUP and SIGQUIT (Ctrl-\\) set a flag instead of ending
/// wt at once; the runner notices it, stops the running check, and the caller cleans up and
/// exits.
pub fn watch_signals() {
    WATCH.call_once(|| {
        for sig in [
            signal_hook::consts::SIGINT,
            signal_hook::consts::SIGTERM,
            signal_hook::consts::SIGHUP,
            signal_hook::consts::SIGQUIT,
        ] {
            // Registration only fails for forbidden signals, which these are not.
            let _ = signal_hook::flag::register(sig, &INTERRUPTED);
        }
    });
}

/// Whether an interrupting signal arrived since [`watch_signals`].
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Run `checks` in `root`, writing each check's output to `<logs>/<name>.log`.
pub fn run(
    root: &Path,
    checks: &[Check],
    opts: &RunOptions,
    reporter: &Reporter,
    logs: &Path,
) -> Result<RunOutcome> {
    watch_signals();
    let started_at = clock::timestamp();
    let start = Instant::now();
    let _ = fs::remove_dir_all(logs);
    fs::create_dir_all(logs)?;
    let mut results = Vec::with_capacity(checks.len());
    let mut stop = false;
    for (i, check) in checks.iter().enumerate() {
        if stop || interrupted() {
            results.push(not_run(check, CheckStatus::Skipped));
            continue;
        }
        let log = logs.join(format!("{}.log", check.name));
        let r = run_one(root, check, i + 1, checks.len(), opts, reporter, &log)?;
        if r.status != CheckStatus::Pass && !opts.keep_going {
            stop = true;
        }
        if r.status == CheckStatus::Interrupted {
            stop = true;
        }
        results.push(r);
    }
    Ok(RunOutcome {
        interrupted: interrupted(),
        checks: results,
        started_at,
        finished_at: clock::timestamp(),
        duration_ms: start.elapsed().as_millis() as u64,
    })
}

fn not_run(check: &Check, status: CheckStatus) -> CheckResult {
    CheckResult {
        name: check.name.clone(),
        command: check.command.clone(),
        status,
        exit_code: None,
        signal: None,
        duration_ms: 0,
        tail: Vec::new(),
        log: None,
    }
}

fn run_one(
    root: &Path,
    check: &Check,
    i: usize,
    n: usize,
    opts: &RunOptions,
    reporter: &Reporter,
    log_path: &Path,
) -> Result<CheckResult> {
    reporter.begin(i, n, check, opts.stream);
    let start = Instant::now();
    let tail = Arc::new(Mutex::new(VecDeque::with_capacity(TAIL_LINES)));
    let (reader, writer) = std::io::pipe()?;
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(&check.command)
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(writer.try_clone()?)
        .stderr(writer)
        .env("WT_CI", "1")
        .env("WT_CI_CHECK", &check.name);
    for v in GIT_LOCATION_VARS {
        cmd.env_remove(v);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    let spawned = cmd.spawn();
    // The parent's copies of the pipe's write end live in `cmd`: drop them so the reader
    // sees the end of the output when the check's processes are gone.
    drop(cmd);
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            let mut r = not_run(check, CheckStatus::Fail);
            r.tail = vec![format!("wt: cannot start `sh -c`: {e}")];
            reporter.end(i, n, &r);
            return Ok(r);
        }
    };
    let log = File::create(log_path).ok();
    let (done_tx, done_rx) = mpsc::channel();
    {
        let tail = Arc::clone(&tail);
        let reporter = reporter.clone();
        let stream = opts.stream;
        thread::spawn(move || {
            pump(reader, log, &tail, &reporter, stream);
            let _ = done_tx.send(());
        });
    }
    let ticker = reporter.start_ticker();
    let status = wait(&mut child);
    let _ = done_rx.recv_timeout(DRAIN_GRACE);
    drop(ticker);
    let status = status?;
    let duration_ms = start.elapsed().as_millis() as u64;
    let (exit_code, signal) = exit_parts(status.as_ref());
    let status = match status {
        None => CheckStatus::Interrupted,
        Some(s) if s.success() => CheckStatus::Pass,
        Some(_) => CheckStatus::Fail,
    };
    let tail: Vec<String> = if status == CheckStatus::Pass {
        Vec::new()
    } else {
        tail.lock()
            .map(|t| t.iter().cloned().collect())
            .unwrap_or_default()
    };
    let r = CheckResult {
        name: check.name.clone(),
        command: check.command.clone(),
        status,
        exit_code,
        signal,
        duration_ms,
        tail,
        log: Some(log_path.display().to_string()),
    };
    reporter.end(i, n, &r);
    Ok(r)
}

/// Wait for the check; on an interrupting signal, terminate its process group and return
/// None.
fn wait(child: &mut Child) -> Result<Option<ExitStatus>> {
    loop {
        if let Some(s) = child.try_wait()? {
            return Ok(Some(s));
        }
        if interrupted() {
            signal_group(child.id(), libc::SIGTERM);
            let deadline = Instant::now() + TERM_GRACE;
            while Instant::now() < deadline {
                if child.try_wait()?.is_some() {
                    return Ok(None);
                }
                thread::sleep(Duration::from_millis(20));
            }
            signal_group(child.id(), libc::SIGKILL);
            child.wait()?;
            return Ok(None);
        }
        thread::sleep(Duration::from_millis(15));
    }
}

fn signal_group(pid: u32, sig: i32) {
    #[cfg(unix)]
    {
        if let Ok(pid) = i32::try_from(pid) {
            #[allow(unsafe_code)]
            // SAFETY: kill(2) with a negative pid signals the process group the check leads
            // (it was spawned with process_group(0)); it has no memory-safety preconditions.
            unsafe {
                libc::kill(-pid, sig);
            }
        }
    }
}

fn exit_parts(status: Option<&ExitStatus>) -> (Option<i32>, Option<i32>) {
    let Some(s) = status else { return (None, None) };
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        (s.code(), s.signal())
    }
    #[cfg(not(unix))]
    {
        (s.code(), None)
    }
}

/// Copy a check's output to its log, the tail buffer and (when streaming) the reporter.
fn pump(
    mut reader: impl Read,
    mut log: Option<File>,
    tail: &Mutex<VecDeque<String>>,
    reporter: &Reporter,
    stream: bool,
) {
    let mut buf = [0u8; 8192];
    let mut line: Vec<u8> = Vec::new();
    let emit = |bytes: &[u8]| {
        let text = String::from_utf8_lossy(bytes);
        let text = text.trim_end_matches(['\n', '\r']);
        if stream {
            reporter.output(text);
        }
        if let Ok(mut t) = tail.lock() {
            if t.len() == TAIL_LINES {
                t.pop_front();
            }
            t.push_back(text.chars().take(TAIL_WIDTH).collect());
        }
    };
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        if let Some(f) = log.as_mut() {
            if f.write_all(&buf[..n]).is_err() {
                log = None;
            }
        }
        for &b in &buf[..n] {
            line.push(b);
            if b == b'\n' || line.len() >= 64 * 1024 {
                emit(&line);
                line.clear();
            }
        }
    }
    if !line.is_empty() {
        emit(&line);
    }
}

/// Shows the checks as they run, on stderr: a progress line on a terminal, plain lines
/// otherwise. Cloning shares the same line.
#[derive(Clone)]
pub struct Reporter {
    label: String,
    tty: bool,
    /// Print nothing (the caller reports on its own, e.g. `wt run`).
    quiet: bool,
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    /// `[2/3] test` while a check runs.
    current: Option<(String, Instant)>,
    /// Whether the progress line is on screen now.
    drawn: bool,
}

/// Stops the progress ticker when dropped.
pub struct Ticker {
    stop: Arc<AtomicBool>,
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Whether to draw the live "running 3s" line (carriage return and erase-line escapes):
/// only on a terminal, and not one that says it cannot take escapes (`TERM=dumb`, or no
/// `TERM` at all).
pub fn live_status(stderr_is_tty: bool, term: Option<&str>) -> bool {
    stderr_is_tty && term.is_some_and(|t| !t.is_empty() && t != "dumb")
}

impl Reporter {
    /// A reporter on stderr whose lines start with `label:` (e.g. `wt ci`).
    pub fn stderr(label: &str) -> Reporter {
        Reporter {
            label: label.to_string(),
            tty: live_status(
                std::io::stderr().is_terminal(),
                std::env::var("TERM").ok().as_deref(),
            ),
            quiet: false,
            state: Arc::new(Mutex::new(State::default())),
        }
    }

    /// A reporter that prints nothing.
    pub fn silent() -> Reporter {
        Reporter {
            label: String::new(),
            tty: false,
            quiet: true,
            state: Arc::new(Mutex::new(State::default())),
        }
    }

    fn print(&self, st: &mut State, line: &str) {
        if self.quiet {
            return;
        }
        let mut err = std::io::stderr().lock();
        if st.drawn {
            let _ = err.write_all(b"\r\x1b[2K");
            st.drawn = false;
        }
        let _ = writeln!(err, "{line}");
        if self.tty {
            if let Some((what, since)) = &st.current {
                let _ = write!(
                    err,
                    "{}: {what} running {}",
                    self.label,
                    secs(since.elapsed().as_millis() as u64)
                );
                st.drawn = true;
            }
        }
        let _ = err.flush();
    }

    /// A line of its own: `wt ci: <msg>`.
    pub fn note(&self, msg: &str) {
        if let Ok(mut st) = self.state.lock() {
            let line = format!("{}: {msg}", self.label);
            self.print(&mut st, &line);
        }
    }

    fn begin(&self, i: usize, n: usize, check: &Check, stream: bool) {
        let Ok(mut st) = self.state.lock() else {
            return;
        };
        let what = format!("[{i}/{n}] {}", check.name);
        let header = format!("{}: {what}: {}", self.label, check.command);
        st.current = Some((what, Instant::now()));
        if !self.tty || stream {
            self.print(&mut st, &header);
        } else {
            self.redraw(&mut st);
        }
    }

    fn output(&self, line: &str) {
        if let Ok(mut st) = self.state.lock() {
            self.print(&mut st, line);
        }
    }

    fn redraw(&self, st: &mut State) {
        if !self.tty {
            return;
        }
        if let Some((what, since)) = &st.current {
            let mut err = std::io::stderr().lock();
            let _ = write!(
                err,
                "\r\x1b[2K{}: {what} running {}",
                self.label,
                secs(since.elapsed().as_millis() as u64)
            );
            let _ = err.flush();
            st.drawn = true;
        }
    }

    fn end(&self, i: usize, n: usize, r: &CheckResult) {
        let Ok(mut st) = self.state.lock() else {
            return;
        };
        st.current = None;
        let verdict = match r.status {
            CheckStatus::Pass => format!("passed in {}", secs(r.duration_ms)),
            CheckStatus::Fail => format!(
                "FAILED in {} ({})",
                secs(r.duration_ms),
                r.exit_description()
            ),
            CheckStatus::Interrupted => format!("interrupted after {}", secs(r.duration_ms)),
            CheckStatus::Skipped => "skipped".into(),
        };
        let line = format!("{}: [{i}/{n}] {} {verdict}", self.label, r.name);
        self.print(&mut st, &line);
    }

    /// On a terminal, redraw the progress line every 200 ms until the ticker is dropped.
    fn start_ticker(&self) -> Option<Ticker> {
        if !self.tty {
            return None;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let me = self.clone();
        let flag = Arc::clone(&stop);
        thread::spawn(move || {
            while !flag.load(Ordering::SeqCst) {
                thread::sleep(Duration::from_millis(200));
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(mut st) = me.state.lock() {
                    me.redraw(&mut st);
                }
            }
        });
        Some(Ticker { stop })
    }
}

/// An error for a run cut short by a signal.
pub fn interrupted_error() -> Error {
    Error::internal("interrupted: the CI checks did not finish")
        .with_hint("nothing was recorded or committed; run it again")
}
