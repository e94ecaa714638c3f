//! STAND-IN (replaced by the agents branch): running one agent iteration.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crate::model::agent::{ParserKind, Timeouts};
use crate::model::agent_output::{self, AgentResult};

pub struct Launch {
    pub argv: Vec<String>,
    pub cwd: PathBuf,
    pub env: Vec<(String, String)>,
    pub env_remove: Vec<String>,
    pub stdin: Option<Vec<u8>>,
    pub stdout_log: PathBuf,
    pub stderr_log: PathBuf,
    pub timeouts: Timeouts,
    pub parser: ParserKind,
    pub cancel: Arc<AtomicBool>,
    pub on_start: Option<Box<dyn FnOnce(u32) + Send>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ended {
    Exited,
    Wall,
    Idle,
    AfterResult,
    Cancelled,
    SpawnFailed,
}

#[derive(Debug, Clone)]
pub struct AgentExit {
    pub ended: Ended,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub duration_ms: u64,
    pub result: AgentResult,
    pub spawn_error: Option<String>,
}

pub fn run_agent(mut l: Launch) -> AgentExit {
    let start = Instant::now();
    let failed = |e: String| AgentExit {
        ended: Ended::SpawnFailed,
        exit_code: None,
        signal: None,
        duration_ms: 0,
        result: AgentResult::default(),
        spawn_error: Some(e),
    };
    let Some((prog, args)) = l.argv.split_first() else {
        return failed("empty command".into());
    };
    let mut cmd = Command::new(prog);
    cmd.args(args).current_dir(&l.cwd).process_group(0);
    for k in &l.env_remove {
        cmd.env_remove(k);
    }
    cmd.envs(l.env.iter().map(|(k, v)| (k, v)));
    cmd.stdin(if l.stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let Ok(err) = std::fs::File::create(&l.stderr_log) else {
        return failed("cannot create the stderr log".into());
    };
    cmd.stdout(Stdio::piped()).stderr(err);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return failed(e.to_string()),
    };
    if let Some(f) = l.on_start.take() {
        f(child.id());
    }
    if let (Some(data), Some(mut sin)) = (l.stdin.take(), child.stdin.take()) {
        let _ = sin.write_all(&data);
    }
    let mut out = String::new();
    if let Some(mut so) = child.stdout.take() {
        let mut buf = Vec::new();
        let _ = so.read_to_end(&mut buf);
        out = String::from_utf8_lossy(&buf).into_owned();
    }
    let _ = std::fs::write(&l.stdout_log, &out);
    let status = child.wait().ok();
    AgentExit {
        ended: Ended::Exited,
        exit_code: status.and_then(|s| s.code()),
        signal: None,
        duration_ms: start.elapsed().as_millis() as u64,
        result: agent_output::parse(l.parser, &out),
        spawn_error: None,
    }
}

pub fn end_group(_pgid: u32) {}
