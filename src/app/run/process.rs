//! One agent iteration as a process: spawn the agent CLI in its own process group with a
//! closed stdin (or the prompt written then closed), stream its stdout and stderr into log
//! files as they arrive, watch three timers (wall clock, idle, grace after the final record),
//! and end the whole group (SIGTERM, then SIGKILL after [`TERM_GRACE`]) on expiry or cancel.
//! Whatever the agent left running in its group is ended when it exits, too.
//!
//! The environment is inherited minus provider secrets (`*_API_KEY`, `*_SECRET`,
//! `*_SECRET_KEY`): an inherited key would silently bill an API instead of the user's
//! subscription. A profile passes one on with `env_pass` ([`profile_env`] puts it back in
//! [`Launch::env`]). See docs/agents.md.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::model::agent::{is_secret_var, AgentProfile, ParserKind, Timeouts};
use crate::model::agent_output::{self, AgentResult};

/// How long the group gets between SIGTERM and SIGKILL.
pub const TERM_GRACE: Duration = Duration::from_secs(2);
/// How much of stdout is kept in memory for parsing (the tail; the log has all of it).
pub const STDOUT_KEEP: usize = 8 << 20;
/// How much of stderr's tail is kept for the report.
pub const STDERR_KEEP: usize = 4 << 10;
/// How long to wait for the output pipes to close after the group is gone (a process that
/// left the group may still hold them).
const DRAIN_GRACE: Duration = Duration::from_secs(2);
/// How often the child, the cancel flag and the timers are looked at.
const TICK: Duration = Duration::from_millis(20);

/// What to run for one iteration.
pub struct Launch {
    /// Program and arguments (already expanded; never run through a shell).
    pub argv: Vec<String>,
    pub cwd: PathBuf,
    /// Set in the agent's environment (after the secrets are stripped, so a key listed here
    /// reaches the agent).
    pub env: Vec<(String, String)>,
    /// Removed from the agent's environment.
    pub env_remove: Vec<String>,
    /// Written to stdin, which is then closed; None = /dev/null.
    pub stdin: Option<Vec<u8>>,
    /// Streamed as it arrives (appended).
    pub stdout_log: PathBuf,
    pub stderr_log: PathBuf,
    pub timeouts: Timeouts,
    pub parser: ParserKind,
    /// Set → end the group (TERM, then KILL after 2 s).
    pub cancel: Arc<AtomicBool>,
    /// Called with the child's pid (= its process group id) once it runs.
    pub on_start: Option<Box<dyn FnOnce(u32) + Send>>,
}

/// Why the iteration's process ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ended {
    /// It exited by itself.
    Exited,
    /// The wall-clock timer ran out.
    Wall,
    /// No output on stdout or stderr for the idle time.
    Idle,
    /// It lingered after its final record for the after_result grace.
    AfterResult,
    /// `cancel` was set.
    Cancelled,
    /// It could not be started (see `spawn_error`).
    SpawnFailed,
}

impl Ended {
    /// A short phrase for progress entries and events ("wall timeout 45m", ...).
    pub fn describe(&self, t: &Timeouts) -> String {
        use crate::model::agent::format_duration as f;
        match self {
            Ended::Exited => "exited".into(),
            Ended::Wall => format!("wall timeout ({})", f(t.wall)),
            Ended::Idle => format!("idle timeout (no output for {})", f(t.idle)),
            Ended::AfterResult => {
                format!("still running {} after its final result", f(t.after_result))
            }
            Ended::Cancelled => "cancelled".into(),
            Ended::SpawnFailed => "could not start".into(),
        }
    }
}

/// How the iteration's process ended, and what its stdout said.
#[derive(Debug, Clone)]
pub struct AgentExit {
    pub ended: Ended,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub duration_ms: u64,
    pub result: AgentResult,
    pub spawn_error: Option<String>,
    /// The last few KiB of stderr (lossy UTF-8), for a failure's reason.
    pub stderr_tail: String,
    /// Bytes the agent wrote to stdout (all of them, not just the kept tail).
    pub stdout_bytes: u64,
}

/// The environment a profile adds: its `env`, plus the current values of its `env_pass`
/// variables (provider keys are otherwise stripped).
pub fn profile_env(profile: &AgentProfile) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = profile
        .env
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for name in &profile.env_pass {
        if let Ok(v) = std::env::var(name) {
            if !out.iter().any(|(k, _)| k == name) {
                out.push((name.clone(), v));
            }
        }
    }
    out
}

enum Event {
    /// Bytes arrived on stdout or stderr.
    Activity,
    /// A stdout line was the parser's final record.
    Final,
    /// A pipe reached its end.
    Eof,
}

fn failed(start: Instant, msg: String) -> AgentExit {
    AgentExit {
        ended: Ended::SpawnFailed,
        exit_code: None,
        signal: None,
        duration_ms: start.elapsed().as_millis() as u64,
        result: AgentResult::default(),
        spawn_error: Some(msg),
        stderr_tail: String::new(),
        stdout_bytes: 0,
    }
}

fn open_log(path: &std::path::Path) -> std::io::Result<File> {
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() {
            fs::create_dir_all(dir)?;
        }
    }
    OpenOptions::new().create(true).append(true).open(path)
}

/// Run one agent iteration to its end. Never panics; a spawn failure is
/// [`Ended::SpawnFailed`] with the reason in `spawn_error`.
pub fn run_agent(l: Launch) -> AgentExit {
    let start = Instant::now();
    let Some(program) = l.argv.first() else {
        return failed(start, "the agent's command is empty".into());
    };
    if !l.cwd.is_dir() {
        return failed(
            start,
            format!("the working directory {} does not exist", l.cwd.display()),
        );
    }
    let out_log = match open_log(&l.stdout_log) {
        Ok(f) => f,
        Err(e) => {
            return failed(
                start,
                format!("cannot open {}: {e}", l.stdout_log.display()),
            )
        }
    };
    let err_log = match open_log(&l.stderr_log) {
        Ok(f) => f,
        Err(e) => {
            return failed(
                start,
                format!("cannot open {}: {e}", l.stderr_log.display()),
            )
        }
    };

    let mut cmd = Command::new(program);
    cmd.args(&l.argv[1..])
        .current_dir(&l.cwd)
        .stdin(if l.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(is_secret_var) {
            cmd.env_remove(&name);
        }
    }
    for name in &l.env_remove {
        cmd.env_remove(name);
    }
    for (k, v) in &l.env {
        cmd.env(k, v);
    }
    own_group_and_die_with_parent(&mut cmd);

    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return failed(start, format!("cannot start {program:?}: {e}")),
    };
    let pid = child.id();
    if let Some(f) = l.on_start {
        f(pid);
    }

    // The prompt: written by a thread (the agent may not read it all before producing
    // output), then closed by dropping the pipe.
    if let (Some(mut stdin), Some(bytes)) = (child.stdin.take(), l.stdin) {
        thread::spawn(move || {
            let _ = stdin.write_all(&bytes);
            drop(stdin);
        });
    }

    let (tx, rx) = mpsc::channel::<Event>();
    let kept = Arc::new(Mutex::new(Kept::default()));
    let err_tail = Arc::new(Mutex::new(Kept::default()));
    let mut pipes = 0;
    if let Some(out) = child.stdout.take() {
        pipes += 1;
        let tx = tx.clone();
        let kept = Arc::clone(&kept);
        let parser = l.parser;
        thread::spawn(move || pump(out, out_log, &kept, STDOUT_KEEP, Some(parser), &tx));
    }
    if let Some(err) = child.stderr.take() {
        pipes += 1;
        let tx = tx.clone();
        let tail = Arc::clone(&err_tail);
        thread::spawn(move || pump(err, err_log, &tail, STDERR_KEEP, None, &tx));
    }
    drop(tx);

    let t = &l.timeouts;
    let mut last_output = Instant::now();
    let mut final_at: Option<Instant> = None;
    let mut eofs = 0;
    let mut ended = Ended::Exited;
    let status: Option<ExitStatus> = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) => {}
            Err(_) => break end_child(&mut child, pid),
        }
        let now = Instant::now();
        let reason = if l.cancel.load(Ordering::SeqCst) {
            Some(Ended::Cancelled)
        } else if !t.wall.is_zero() && now.duration_since(start) >= t.wall {
            Some(Ended::Wall)
        } else if !t.idle.is_zero() && now.duration_since(last_output) >= t.idle {
            Some(Ended::Idle)
        } else if !t.after_result.is_zero()
            && final_at.is_some_and(|f| now.duration_since(f) >= t.after_result)
        {
            Some(Ended::AfterResult)
        } else {
            None
        };
        if let Some(r) = reason {
            ended = r;
            break end_child(&mut child, pid);
        }
        match rx.recv_timeout(TICK) {
            Ok(ev) => {
                // Take everything that is waiting, so the timers see the latest output.
                let mut next = Some(ev);
                while let Some(ev) = next {
                    match ev {
                        Event::Activity => last_output = Instant::now(),
                        Event::Final => {
                            last_output = Instant::now();
                            final_at.get_or_insert_with(Instant::now);
                        }
                        Event::Eof => eofs += 1,
                    }
                    next = rx.try_recv().ok();
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            // Both pipes closed: only the exit is left to wait for.
            Err(mpsc::RecvTimeoutError::Disconnected) => thread::sleep(TICK),
        }
    };
    // Whatever the agent left behind in its group (background shells, servers) ends with it.
    end_group(pid);
    // Let the readers finish the last bytes.
    let drain_until = Instant::now() + DRAIN_GRACE;
    while eofs < pipes {
        let left = drain_until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        match rx.recv_timeout(left) {
            Ok(Event::Eof) => eofs += 1,
            Ok(_) => {}
            Err(_) => break,
        }
    }

    let (stdout_text, stdout_bytes) = kept.lock().map(|k| (k.text(), k.total)).unwrap_or_default();
    let stderr_tail = err_tail.lock().map(|k| k.text()).unwrap_or_default();
    let (exit_code, signal) = exit_parts(status.as_ref());
    AgentExit {
        ended,
        exit_code,
        signal,
        duration_ms: start.elapsed().as_millis() as u64,
        result: agent_output::parse(l.parser, &stdout_text),
        spawn_error: None,
        stderr_tail,
        stdout_bytes,
    }
}

/// The tail of a stream, capped.
#[derive(Default)]
struct Kept {
    bytes: Vec<u8>,
    total: u64,
    /// Bytes were dropped from the front.
    cut: bool,
    cap: usize,
}

impl Kept {
    fn push(&mut self, b: &[u8], cap: usize) {
        self.cap = cap;
        self.total = self.total.saturating_add(b.len() as u64);
        self.bytes.extend_from_slice(b);
        // Drop the front in big steps, so each byte is moved O(1) times.
        if self.bytes.len() > cap.saturating_mul(2) {
            let excess = self.bytes.len() - cap;
            self.bytes.drain(..excess);
            self.cut = true;
        }
    }

    fn text(&self) -> String {
        let mut b: &[u8] = &self.bytes;
        if self.cut || b.len() > self.cap {
            if b.len() > self.cap {
                b = &b[b.len() - self.cap..];
            }
            // Start at a line boundary: a record cut in half is of no use.
            if let Some(nl) = b.iter().position(|&c| c == b'\n') {
                b = &b[nl + 1..];
            }
        }
        String::from_utf8_lossy(b).into_owned()
    }
}

/// Copy a pipe to its log (each chunk written as it arrives), keep its tail, and tell the
/// waiting loop about activity and, for stdout, final records.
fn pump(
    mut pipe: impl Read,
    mut log: File,
    kept: &Mutex<Kept>,
    cap: usize,
    parser: Option<ParserKind>,
    tx: &mpsc::Sender<Event>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut line: Vec<u8> = Vec::new();
    let mut log_ok = true;
    loop {
        let n = match pipe.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let chunk = &buf[..n];
        if log_ok {
            log_ok = log.write_all(chunk).and_then(|()| log.flush()).is_ok();
        }
        if let Ok(mut k) = kept.lock() {
            k.push(chunk, cap);
        }
        let _ = tx.send(Event::Activity);
        if let Some(kind) = parser {
            for &b in chunk {
                if b == b'\n' {
                    let text = String::from_utf8_lossy(&line);
                    if agent_output::is_final_record(kind, &text) {
                        let _ = tx.send(Event::Final);
                    }
                    line.clear();
                } else if line.len() < STDOUT_KEEP {
                    line.push(b);
                }
            }
        }
    }
    // A final record without a trailing newline still counts.
    if let Some(kind) = parser {
        if !line.is_empty() && agent_output::is_final_record(kind, &String::from_utf8_lossy(&line))
        {
            let _ = tx.send(Event::Final);
        }
    }
    let _ = tx.send(Event::Eof);
}

/// TERM the child's group, KILL it after [`TERM_GRACE`], and reap the child.
fn end_child(child: &mut Child, pgid: u32) -> Option<ExitStatus> {
    signal_group(pgid, libc::SIGTERM);
    let deadline = Instant::now() + TERM_GRACE;
    while Instant::now() < deadline {
        match child.try_wait() {
            Ok(Some(s)) => {
                // The leader is gone; the rest of the group gets the same treatment.
                end_group(pgid);
                return Some(s);
            }
            Ok(None) => thread::sleep(TICK),
            Err(_) => break,
        }
    }
    signal_group(pgid, libc::SIGKILL);
    child.wait().ok()
}

/// End a process group: SIGTERM, then SIGKILL after [`TERM_GRACE`] if any member is left.
/// For a group a crashed run left behind (pid recorded by `on_start`), and for what an agent
/// leaves running after it exits. Does nothing for a group that no longer exists, or for
/// pgid 0, 1 or wt's own group.
pub fn end_group(pgid: u32) {
    if !group_exists(pgid) {
        return;
    }
    signal_group(pgid, libc::SIGTERM);
    let deadline = Instant::now() + TERM_GRACE;
    while Instant::now() < deadline {
        if !group_has_live_member(pgid) {
            return;
        }
        thread::sleep(TICK);
    }
    signal_group(pgid, libc::SIGKILL);
}

/// The pgid as a pid_t if it may be signalled: never 0, init, or wt's own group.
fn signallable(pgid: u32) -> Option<i32> {
    let p = i32::try_from(pgid).ok()?;
    #[allow(unsafe_code)]
    // SAFETY: getpgrp(2) has no preconditions and touches no memory.
    let own = unsafe { libc::getpgrp() };
    (p > 1 && p != own).then_some(p)
}

/// Does any process (zombies included) have process group `pgid`?
pub fn group_exists(pgid: u32) -> bool {
    let Some(p) = signallable(pgid) else {
        return false;
    };
    #[allow(unsafe_code)]
    // SAFETY: kill(2) with signal 0 only checks that the group exists and may be signalled.
    let r = unsafe { libc::kill(-p, 0) };
    r == 0
}

/// Is a member of group `pgid` still running (not a zombie)? On Linux from /proc; elsewhere
/// any member counts.
fn group_has_live_member(pgid: u32) -> bool {
    if !group_exists(pgid) {
        return false;
    }
    match live_members(pgid) {
        Some(m) => !m.is_empty(),
        None => true,
    }
}

/// The pids of group `pgid`'s live (not zombie) members, from /proc; None where there is no
/// /proc to read.
fn live_members(pgid: u32) -> Option<Vec<u32>> {
    let dir = fs::read_dir("/proc").ok()?;
    let mut out = Vec::new();
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // `pid (comm) state ppid pgrp ...`; comm may contain spaces and parentheses.
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        let mut f = rest.split_whitespace();
        let state = f.next();
        let pgrp = f.nth(1).and_then(|s| s.parse::<u32>().ok());
        if pgrp == Some(pgid) && state != Some("Z") && state != Some("X") {
            out.push(pid);
        }
    }
    Some(out)
}

/// End group `pgid` only if one of its live members was started with `key=value` in its
/// environment (e.g. `WT_RUN=<run id>`, which `wt run` gives its agents). For groups recorded
/// by a run that crashed long ago: the number may since belong to someone else's processes.
/// Returns whether the group was ended. Where /proc cannot be read (not Linux) nothing is
/// proven, so nothing is ended.
pub fn end_group_if_env(pgid: u32, key: &str, value: &str) -> bool {
    if !group_exists(pgid) {
        return false;
    }
    let want = format!("{key}={value}");
    let ours = live_members(pgid).unwrap_or_default().iter().any(|pid| {
        fs::read(format!("/proc/{pid}/environ"))
            .map(|env| env.split(|&b| b == 0).any(|kv| kv == want.as_bytes()))
            .unwrap_or(false)
    });
    if ours {
        end_group(pgid);
    }
    ours
}

fn signal_group(pgid: u32, sig: i32) {
    if let Some(p) = signallable(pgid) {
        #[allow(unsafe_code)]
        // SAFETY: kill(2) with a negative pid signals the process group the agent leads (it
        // was spawned with process_group(0)); it has no memory-safety preconditions.
        unsafe {
            libc::kill(-p, sig);
        }
    }
}

/// The child leads its own process group (so the whole group can be ended) and, on Linux,
/// is killed when the thread that started it dies (so a `kill -9` of wt leaves no agent
/// behind; what the agent started itself is ended by the group kill on resume).
fn own_group_and_die_with_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    cmd.process_group(0);
    #[cfg(target_os = "linux")]
    {
        #[allow(unsafe_code)]
        let parent = unsafe {
            // SAFETY: getpid(2) has no preconditions.
            libc::getpid()
        };
        #[allow(unsafe_code)]
        // SAFETY: the closure runs in the forked child before exec; it calls only prctl(2)
        // and getppid(2), which are async-signal-safe, and allocates nothing.
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The parent died before prctl: nobody is left to watch this agent.
                if libc::getppid() != parent {
                    return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
                }
                Ok(())
            });
        }
    }
}

fn exit_parts(status: Option<&ExitStatus>) -> (Option<i32>, Option<i32>) {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Some(s) => (s.code(), s.signal()),
        None => (None, None),
    }
}
