//! Agent CLIs for `wt run`: the output parsers against recorded and documented output
//! (tests/it/fixtures/agents/, see its README), the completion signal, and one iteration's
//! process handling (process group, closed stdin, env hygiene, streamed logs, the three
//! timers, cancel) with tiny `sh` scripts as fake agents.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;
use wt::app::run::process::{self, end_group, run_agent, AgentExit, Ended, Launch};
use wt::model::agent::{self, ParserKind, Timeouts};
use wt::model::agent_output::{completed, is_final_record, parse, AgentResult, Tokens};

const SIGNAL: &str = "<complete/>";

fn fixture(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/fixtures/agents")
        .join(name);
    fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn tokens(input: u64, output: u64, cache_read: u64, cache_write: u64, reasoning: u64) -> Tokens {
    Tokens {
        input,
        output,
        cache_read,
        cache_write,
        reasoning,
    }
}

/// Every line the parser calls final in a fixture.
fn final_lines(kind: ParserKind, text: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| is_final_record(kind, l))
        .map(|(i, _)| i)
        .collect()
}

// ---------------------------------------------------------------------------------------
// Parsers: recorded output

#[test]
fn claude_not_logged_in_stream_is_an_error_with_its_message_despite_subtype_success() {
    let out = fixture("claude-not-logged-in.stream.jsonl");
    let r = parse(ParserKind::Claude, &out);
    assert!(r.result_seen);
    assert!(r.is_error, "is_error must win over subtype \"success\"");
    assert_eq!(
        r.error.as_deref(),
        Some("Not logged in · Please run /login")
    );
    assert_eq!(r.final_text, "Not logged in · Please run /login");
    assert_eq!(
        r.session_id.as_deref(),
        Some("7e5c6a38-0b83-4058-bf18-2ec6f67f2e4a")
    );
    assert_eq!(r.turns, Some(1));
    assert_eq!(r.cost_usd, Some(0.0));
    assert_eq!(r.tokens, Some(tokens(0, 0, 0, 0, 0)));
    assert!(!completed(&r.final_text, SIGNAL));
    // Three records; only the last is final.
    assert_eq!(final_lines(ParserKind::Claude, &out), vec![2]);
}

#[test]
fn claude_not_logged_in_json_document_parses_the_same() {
    let r = parse(ParserKind::Claude, &fixture("claude-not-logged-in.json"));
    assert!(r.result_seen && r.is_error);
    assert_eq!(
        r.error.as_deref(),
        Some("Not logged in · Please run /login")
    );
    assert_eq!(
        r.session_id.as_deref(),
        Some("fc39694c-54bb-4d02-8087-177939e988d2")
    );
}

#[test]
fn codex_offline_is_an_error_with_its_last_reconnect_message_and_no_result() {
    let out = fixture("codex-offline.jsonl");
    let r = parse(ParserKind::Codex, &out);
    assert!(!r.result_seen);
    assert!(r.is_error);
    assert_eq!(
        r.error.as_deref(),
        Some("Reconnecting... waiting for network (Connection failed: error sending request)")
    );
    assert_eq!(
        r.session_id.as_deref(),
        Some("01a235d1-b7d0-7130-aeb1-1e34f5a8f9a5")
    );
    assert_eq!(r.final_text, "");
    assert_eq!(r.tokens, None);
    assert!(final_lines(ParserKind::Codex, &out).is_empty());
}

// ---------------------------------------------------------------------------------------
// Parsers: output written from the documented formats

#[test]
fn claude_success_stream_gives_final_text_cost_tokens_turns_session() {
    let out = fixture("claude-success.stream.jsonl");
    let r = parse(ParserKind::Claude, &out);
    assert_eq!(
        r,
        AgentResult {
            final_text: "Added parse_duration and its tests; all green.\n<complete/>".into(),
            result_seen: true,
            is_error: false,
            error: None,
            session_id: Some("session_123".into()),
            turns: Some(2),
            // The result's usage, not the assistant records' (those are per message).
            tokens: Some(tokens(1200, 340, 9000, 500, 0)),
            cost_usd: Some(0.0123),
        }
    );
    assert!(completed(&r.final_text, SIGNAL));
    assert_eq!(final_lines(ParserKind::Claude, &out), vec![4]);
}

#[test]
fn claude_success_json_and_max_turns_error() {
    let r = parse(ParserKind::Claude, &fixture("claude-success.json"));
    assert!(r.result_seen && !r.is_error && r.error.is_none());
    assert!(completed(&r.final_text, SIGNAL));
    assert_eq!(r.cost_usd, Some(0.02));
    assert_eq!(r.tokens, Some(tokens(10, 5, 2, 1, 0)));

    let r = parse(ParserKind::Claude, &fixture("claude-max-turns.json"));
    assert!(r.is_error);
    assert_eq!(
        r.error.as_deref(),
        Some("Reached maximum number of turns (1)")
    );
    assert_eq!(r.session_id.as_deref(), Some("session_456"));
    assert_eq!(r.cost_usd, Some(0.01));
}

#[test]
fn codex_success_takes_the_last_agent_message_and_sums_usage() {
    let out = fixture("codex-success.jsonl");
    let r = parse(ParserKind::Codex, &out);
    assert_eq!(
        r,
        AgentResult {
            final_text: "Fixed the overflow in parse_duration; tests pass.\n<complete/>".into(),
            result_seen: true,
            is_error: false,
            error: None,
            session_id: Some("0199a213-81c0-7800-8aa1-bbab2a035a53".into()),
            turns: Some(1),
            tokens: Some(tokens(24763, 122, 24448, 0, 0)),
            cost_usd: None,
        }
    );
    assert!(completed(&r.final_text, SIGNAL));
    assert_eq!(final_lines(ParserKind::Codex, &out), vec![7]);
    // Two turns sum.
    let twice = format!("{out}{}", out.lines().last().unwrap());
    let r2 = parse(ParserKind::Codex, &twice);
    assert_eq!(r2.tokens, Some(tokens(2 * 24763, 2 * 122, 2 * 24448, 0, 0)));
    assert_eq!(r2.turns, Some(2));
}

#[test]
fn codex_turn_failed_is_an_error_with_its_message() {
    let r = parse(ParserKind::Codex, &fixture("codex-turn-failed.jsonl"));
    assert!(r.result_seen && r.is_error);
    assert_eq!(
        r.error.as_deref(),
        Some("stream error: unexpected status 401 Unauthorized")
    );
    assert_eq!(r.final_text, "Let me look.\n<complete/>");
}

#[test]
fn opencode_success_sums_steps_cost_and_tokens_and_keeps_the_last_steps_text() {
    let out = fixture("opencode-success.jsonl");
    let r = parse(ParserKind::Opencode, &out);
    assert_eq!(
        r.final_text,
        "Edited src/lib.rs; the tests pass.\n<complete/>"
    );
    assert!(completed(&r.final_text, SIGNAL));
    assert!(r.result_seen && !r.is_error);
    assert_eq!(r.session_id.as_deref(), Some("ses_A"));
    assert_eq!(r.tokens, Some(tokens(39880, 59, 19000, 100, 120)));
    let cost = r.cost_usd.unwrap();
    assert!((cost - 0.03).abs() < 1e-9, "{cost}");
    assert_eq!(final_lines(ParserKind::Opencode, &out), vec![7]);

    let r = parse(ParserKind::Opencode, &fixture("opencode-error.jsonl"));
    assert!(r.is_error);
    assert_eq!(r.error.as_deref(), Some("Rate limit exceeded"));
    assert_eq!(r.session_id.as_deref(), Some("ses_B"));
}

#[test]
fn gemini_stream_joins_deltas_after_the_last_tool_and_ignores_the_echoed_prompt() {
    let out = fixture("gemini-success.stream.jsonl");
    let r = parse(ParserKind::Gemini, &out);
    assert_eq!(r.final_text, "All done.\n<complete/>");
    assert!(completed(&r.final_text, SIGNAL));
    assert!(r.result_seen && !r.is_error);
    assert_eq!(r.session_id.as_deref(), Some("gem-session-1"));
    assert_eq!(r.tokens, Some(tokens(50, 50, 10, 0, 0)));
    assert_eq!(r.cost_usd, None);
    assert_eq!(final_lines(ParserKind::Gemini, &out), vec![7]);

    let r = parse(
        ParserKind::Gemini,
        &fixture("gemini-turn-limit.stream.jsonl"),
    );
    assert!(r.is_error);
    assert_eq!(
        r.error.as_deref(),
        Some("Reached max session turns for this session.")
    );
    assert!(!completed(&r.final_text, SIGNAL));
}

#[test]
fn an_echoed_prompt_ending_with_the_signal_is_never_completion() {
    // Gemini and Cursor without the agent's own signal: only the echo has it.
    let gemini: String = fixture("gemini-success.stream.jsonl")
        .lines()
        .filter(|l| !l.contains("All done") && !l.contains("\"content\":\"<complete/>\""))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(
        gemini.contains("\\n<complete/>\""),
        "the echo is still there"
    );
    let r = parse(ParserKind::Gemini, &gemini);
    assert_eq!(r.final_text, "Let me read the file.");
    assert!(!completed(&r.final_text, SIGNAL));

    let cursor = fixture("cursor-success.stream.jsonl")
        .replace("Done: added the test.\\n<complete/>", "Could not finish.");
    let r = parse(ParserKind::Cursor, &cursor);
    assert_eq!(r.final_text, "Could not finish.");
    assert!(!completed(&r.final_text, SIGNAL));
}

#[test]
fn aider_sums_token_lines_takes_session_cost_and_sees_the_signal_before_its_trailer() {
    let out = fixture("aider-success.txt");
    let r = parse(ParserKind::Aider, &out);
    assert_eq!(r.tokens, Some(tokens(14_500, 900, 3_000, 1_200, 0)));
    assert_eq!(r.cost_usd, Some(0.03));
    assert!(completed(&r.final_text, SIGNAL), "{:?}", r.final_text);
    assert!(!r.result_seen && !r.is_error);
    assert!(final_lines(ParserKind::Aider, &out).is_empty());
}

#[test]
fn amp_result_without_the_signal_is_not_completion_even_though_the_prompt_echo_ends_with_it() {
    let out = fixture("amp-success.stream.jsonl");
    // The raw output's echoed prompt has the signal on a line of its own...
    assert!(out.contains("\\n<complete/>\""));
    let r = parse(ParserKind::Amp, &out);
    // ...but the final text is the result's.
    assert_eq!(r.final_text, "2 + 2 equals 4.");
    assert!(!completed(&r.final_text, SIGNAL));
    assert!(r.result_seen && !r.is_error);
    assert_eq!(
        r.session_id.as_deref(),
        Some("T-2775dc92-90ed-4f85-8b73-8f9a9b2a1f11")
    );
    assert_eq!(r.turns, Some(1));
    // Usage only on assistant lines: summed.
    assert_eq!(r.tokens, Some(tokens(12883, 20, 12466, 367, 0)));
    assert_eq!(r.cost_usd, None);
    assert_eq!(final_lines(ParserKind::Amp, &out), vec![4]);
}

#[test]
fn cursor_result_gives_text_and_session_and_no_tokens() {
    let out = fixture("cursor-success.stream.jsonl");
    let r = parse(ParserKind::Cursor, &out);
    assert_eq!(r.final_text, "Done: added the test.\n<complete/>");
    assert!(completed(&r.final_text, SIGNAL));
    assert_eq!(
        r.session_id.as_deref(),
        Some("c6b62c6f-7ead-4fd6-9922-e952131177ff")
    );
    assert_eq!(r.tokens, None);
    assert_eq!(r.cost_usd, None);
    assert_eq!(final_lines(ParserKind::Cursor, &out), vec![3]);
}

#[test]
fn copilot_takes_the_last_assistant_message_and_counts_turns() {
    let out = fixture("copilot-success.jsonl");
    let r = parse(ParserKind::Copilot, &out);
    assert_eq!(r.final_text, "Tests pass; the ticket is done.\n<complete/>");
    assert!(completed(&r.final_text, SIGNAL));
    assert!(r.result_seen && !r.is_error);
    assert_eq!(r.session_id.as_deref(), Some("copilot-session-9"));
    assert_eq!(r.turns, Some(2));
    assert_eq!(r.tokens, None);
    assert_eq!(final_lines(ParserKind::Copilot, &out), vec![11]);
    let failed = out.replace("\"exitCode\":0", "\"exitCode\":3");
    let r = parse(ParserKind::Copilot, &failed);
    assert!(r.is_error);
    assert_eq!(r.error.as_deref(), Some("copilot ended with exit code 3"));
}

#[test]
fn text_parser_final_text_is_all_of_stdout() {
    let r = parse(ParserKind::Text, "working\nstill\n<complete/>\n");
    assert_eq!(r.final_text, "working\nstill\n<complete/>\n");
    assert!(completed(&r.final_text, SIGNAL));
    assert!(!r.result_seen);
}

#[test]
fn completion_needs_the_signal_alone_on_the_last_non_empty_line() {
    assert!(completed("done\n<complete/>", SIGNAL));
    assert!(completed("done\n   <complete/>  \n\n  \n", SIGNAL));
    assert!(!completed("<complete/>\nand one more thing", SIGNAL));
    assert!(!completed("done <complete/>", SIGNAL));
    assert!(!completed("done\n<complete/> maybe", SIGNAL));
    assert!(!completed("", SIGNAL));
    // A prompt echoed into the final text with the signal inside it is not completion.
    let echo = "Instructions: when complete, print <complete/> alone on the last line.\nI could not finish.";
    assert!(!completed(echo, SIGNAL));
    // Another signal.
    assert!(completed("ok\nLOOP_COMPLETE", "LOOP_COMPLETE"));
}

#[test]
fn every_builtin_parser_survives_every_fixture_and_garbage_lines() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/fixtures/agents");
    let kinds = [
        ParserKind::Text,
        ParserKind::Claude,
        ParserKind::Codex,
        ParserKind::Opencode,
        ParserKind::Gemini,
        ParserKind::Aider,
        ParserKind::Amp,
        ParserKind::Cursor,
        ParserKind::Copilot,
    ];
    for e in fs::read_dir(&dir).unwrap() {
        let text = fs::read_to_string(e.unwrap().path()).unwrap();
        let noisy = format!("(node:1) Warning: x\n{text}\n{{\"type\":\"result\"\n\u{1b}[31m\n");
        for k in kinds {
            let _ = parse(k, &text);
            let _ = parse(k, &noisy);
            for cut in (0..text.len()).step_by(7) {
                if let Some(p) = text.get(..cut) {
                    let _ = parse(k, p);
                }
            }
        }
    }
}

/// Real and documented output, mangled: lines cut, bytes spliced in, lines repeated. No
/// parser may panic (fixed seed in the suite; `WT_FUZZ_CASES=N` for a longer, random run).
#[test]
fn parsers_never_panic_on_mangled_agent_output() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/fixtures/agents");
    let mut fixtures: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    fixtures.sort();
    let cases = std::env::var("WT_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok());
    let config = Config {
        cases: cases.unwrap_or(300),
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = match cases {
        Some(_) => TestRunner::new(config),
        None => TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha)),
    };
    let kinds = [
        ParserKind::Text,
        ParserKind::Claude,
        ParserKind::Codex,
        ParserKind::Opencode,
        ParserKind::Gemini,
        ParserKind::Aider,
        ParserKind::Amp,
        ParserKind::Cursor,
        ParserKind::Copilot,
    ];
    let splice = prop_oneof![
        "\\PC{0,8}",
        "[{}\\[\\]\":,0-9eE.+-]{0,6}",
        Just("\"type\":\"result\"".to_string()),
        Just("\"usage\":{\"input_tokens\":1e999}".to_string()),
        Just("\n".to_string()),
    ];
    let strategy = (
        0..fixtures.len(),
        proptest::collection::vec((any::<usize>(), any::<usize>(), splice), 0..12),
    );
    runner
        .run(&strategy, |(fi, ops)| {
            let mut lines: Vec<String> = fixtures[fi].lines().map(String::from).collect();
            for (a, b, s) in ops {
                if lines.is_empty() {
                    lines.push(String::new());
                }
                let i = a % lines.len();
                let line = &mut lines[i];
                let mut cut = b % (line.len() + 1);
                while !line.is_char_boundary(cut) {
                    cut -= 1;
                }
                match b % 3 {
                    0 => line.truncate(cut),
                    1 => line.insert_str(cut, &s),
                    _ => {
                        let dup = line.clone();
                        lines.insert(i, dup);
                    }
                }
            }
            let text = lines.join("\n");
            for k in kinds {
                let r = parse(k, &text);
                let _ = completed(&r.final_text, SIGNAL);
                for line in text.lines() {
                    let _ = is_final_record(k, line);
                }
            }
            Ok(())
        })
        .unwrap();
}

// ---------------------------------------------------------------------------------------
// Process handling

fn short(wall_ms: u64, idle_ms: u64, after_ms: u64) -> Timeouts {
    Timeouts {
        wall: Duration::from_millis(wall_ms),
        idle: Duration::from_millis(idle_ms),
        after_result: Duration::from_millis(after_ms),
    }
}

struct Fake {
    dir: TempDir,
}

impl Fake {
    fn new() -> Fake {
        Fake {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    /// A launch of `sh -c script` in the temp dir, logs under `logs/`.
    fn launch(&self, script: &str, timeouts: Timeouts) -> Launch {
        Launch {
            argv: vec!["sh".into(), "-c".into(), script.into()],
            cwd: self.dir.path().to_path_buf(),
            env: Vec::new(),
            env_remove: Vec::new(),
            stdin: None,
            stdout_log: self.path("logs/1.log"),
            stderr_log: self.path("logs/1.stderr"),
            timeouts,
            parser: ParserKind::Text,
            cancel: Arc::new(AtomicBool::new(false)),
            on_start: None,
        }
    }
    fn log(&self) -> String {
        fs::read_to_string(self.path("logs/1.log")).unwrap_or_default()
    }
    fn stderr_log(&self) -> String {
        fs::read_to_string(self.path("logs/1.stderr")).unwrap_or_default()
    }
    /// Wait until the script wrote `name` (a pid), and return it.
    fn pid_file(&self, name: &str) -> u32 {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Ok(t) = fs::read_to_string(self.path(name)) {
                if let Ok(p) = t.trim().parse() {
                    return p;
                }
            }
            assert!(Instant::now() < deadline, "{name} never written");
            thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Is `pid` a live process (a zombie waiting to be reaped by init does not count)?
fn alive(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat
                .rfind(')')
                .and_then(|i| stat[i + 1..].split_whitespace().next())
                .unwrap_or("");
            state != "Z" && state != "X"
        }
        Err(_) => false,
    }
}

/// Wait (briefly) for a process to be gone: a killed process takes a moment to disappear.
fn gone_soon(pid: u32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        if !alive(pid) {
            return true;
        }
        thread::sleep(Duration::from_millis(10));
    }
    false
}

fn ms(x: &AgentExit) -> u64 {
    x.duration_ms
}

#[test]
fn wall_timeout_ends_a_sleeping_agent_and_its_grandchild() {
    let f = Fake::new();
    let l = f.launch(
        "sleep 100 & echo $! > grandchild.pid; echo started; sleep 100",
        short(400, 0, 0),
    );
    let x = run_agent(l);
    assert_eq!(x.ended, Ended::Wall);
    assert!(ms(&x) >= 400 && ms(&x) < 4000, "{} ms", ms(&x));
    // sh died of SIGTERM.
    assert_eq!(x.signal, Some(15));
    let gc = f.pid_file("grandchild.pid");
    assert!(gone_soon(gc), "grandchild {gc} outlived the agent");
    assert_eq!(f.log(), "started\n");
}

#[test]
fn an_agent_ignoring_sigterm_is_killed_after_the_grace() {
    let f = Fake::new();
    let l = f.launch(
        "trap '' TERM; echo $$ > agent.pid; sleep 100",
        short(200, 0, 0),
    );
    let x = run_agent(l);
    assert_eq!(x.ended, Ended::Wall);
    assert_eq!(x.signal, Some(9));
    let d = ms(&x);
    assert!(
        d >= 200 + process::TERM_GRACE.as_millis() as u64 && d < 6000,
        "{d} ms"
    );
    assert!(gone_soon(f.pid_file("agent.pid")));
}

#[test]
fn idle_timeout_ends_an_agent_that_stops_printing_but_not_one_that_keeps_printing() {
    let f = Fake::new();
    let x = run_agent(f.launch("echo hi; sleep 100", short(20_000, 400, 0)));
    assert_eq!(x.ended, Ended::Idle);
    assert!(ms(&x) >= 400 && ms(&x) < 4000, "{} ms", ms(&x));

    // Output every 100 ms (half of it on stderr) for ~1.2 s with a 400 ms idle timer.
    let f = Fake::new();
    let x = run_agent(f.launch(
        "for i in 1 2 3 4 5 6; do echo out $i; sleep 0.1; echo err $i >&2; sleep 0.1; done",
        short(20_000, 400, 0),
    ));
    assert_eq!(x.ended, Ended::Exited, "{x:?}");
    assert_eq!(x.exit_code, Some(0));
    assert!(f.stderr_log().contains("err 6"));
}

#[test]
fn after_result_grace_ends_an_agent_lingering_after_its_final_record() {
    let f = Fake::new();
    let mut l = f.launch(
        r#"echo '{"type":"system","subtype":"init","session_id":"s"}'
printf '%s\n' '{"type":"result","subtype":"success","is_error":false,"result":"done\n<complete/>","session_id":"s","total_cost_usd":0.5}'
sleep 100"#,
        short(8_000, 8_000, 300),
    );
    l.parser = ParserKind::Claude;
    let x = run_agent(l);
    assert_eq!(x.ended, Ended::AfterResult);
    assert!(ms(&x) >= 300 && ms(&x) < 4000, "{} ms", ms(&x));
    assert!(x.result.result_seen);
    assert!(completed(&x.result.final_text, SIGNAL));
    assert_eq!(x.result.cost_usd, Some(0.5));
    assert_eq!(x.result.session_id.as_deref(), Some("s"));

    // after_result 0 turns the timer off: the wall timer ends it.
    let f = Fake::new();
    let mut l = f.launch(
        r#"printf '%s\n' '{"type":"result","is_error":false,"result":"x"}'; sleep 100"#,
        short(1000, 0, 0),
    );
    l.parser = ParserKind::Claude;
    assert_eq!(run_agent(l).ended, Ended::Wall);

    // Without a final record the same script is not ended by that timer.
    let f = Fake::new();
    let mut l = f.launch(
        r#"echo '{"type":"system","subtype":"init","session_id":"s"}'; sleep 100"#,
        short(1500, 20_000, 300),
    );
    l.parser = ParserKind::Claude;
    assert_eq!(run_agent(l).ended, Ended::Wall);
}

#[test]
fn cancel_ends_the_agent_group_promptly() {
    let f = Fake::new();
    let l = f.launch(
        "sleep 100 & echo $! > grandchild.pid; sleep 100",
        short(0, 0, 0),
    );
    let cancel = Arc::clone(&l.cancel);
    let setter = thread::spawn(move || {
        thread::sleep(Duration::from_millis(300));
        cancel.store(true, Ordering::SeqCst);
    });
    let x = run_agent(l);
    setter.join().unwrap();
    assert_eq!(x.ended, Ended::Cancelled);
    assert!(ms(&x) >= 300 && ms(&x) < 4000, "{} ms", ms(&x));
    assert!(gone_soon(f.pid_file("grandchild.pid")));
}

#[test]
fn stdin_is_closed_so_an_agent_reading_it_ends() {
    let f = Fake::new();
    let x = run_agent(f.launch("cat; echo read-all", short(10_000, 0, 0)));
    assert_eq!(x.ended, Ended::Exited);
    assert_eq!(x.result.final_text, "read-all\n");
    assert!(ms(&x) < 3000, "{} ms", ms(&x));
}

#[test]
fn prompt_on_stdin_is_delivered_whole_then_closed() {
    let f = Fake::new();
    let mut l = f.launch("cat", short(10_000, 0, 0));
    l.stdin = Some(b"do the ticket\n<complete/>\n".to_vec());
    let x = run_agent(l);
    assert_eq!(x.ended, Ended::Exited);
    assert_eq!(x.result.final_text, "do the ticket\n<complete/>\n");
    assert!(completed(&x.result.final_text, SIGNAL));

    // Bigger than any pipe buffer, while the agent writes to stdout too.
    let f = Fake::new();
    let big: Vec<u8> = (0..3_000_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let mut l = f.launch("wc -c", short(10_000, 0, 0));
    l.stdin = Some(big);
    let x = run_agent(l);
    assert_eq!(x.result.final_text.trim(), "3000000");
}

#[test]
fn env_is_set_provider_secrets_stripped_unless_passed_and_removals_applied() {
    // Names unique to this test, so parallel tests do not see them.
    std::env::set_var("WT_AGENTS_TEST_API_KEY", "leak1");
    std::env::set_var("WT_AGENTS_TEST_SECRET", "leak2");
    std::env::set_var("WT_AGENTS_TEST_SECRET_KEY", "leak3");
    std::env::set_var("WT_AGENTS_TEST_PASS_API_KEY", "passed");
    std::env::set_var("WT_AGENTS_TEST_PLAIN", "plain");
    std::env::set_var("WT_AGENTS_TEST_REMOVED", "removed");
    let profile = agent::AgentProfile {
        env: [("IS_SANDBOX".to_string(), "1".to_string())]
            .into_iter()
            .collect(),
        env_pass: vec!["WT_AGENTS_TEST_PASS_API_KEY".into()],
        ..agent::builtin("claude").unwrap()
    };
    let f = Fake::new();
    let mut l = f.launch("env", short(10_000, 0, 0));
    l.env = process::profile_env(&profile);
    l.env.push(("WT_TICKET".into(), "T-7".into()));
    l.env.push(("WT_ITERATION".into(), "2".into()));
    l.env_remove = vec!["WT_AGENTS_TEST_REMOVED".into()];
    let x = run_agent(l);
    let env: Vec<&str> = x.result.final_text.lines().collect();
    for want in [
        "IS_SANDBOX=1",
        "WT_TICKET=T-7",
        "WT_ITERATION=2",
        "WT_AGENTS_TEST_PASS_API_KEY=passed",
        "WT_AGENTS_TEST_PLAIN=plain",
    ] {
        assert!(env.contains(&want), "{want} missing");
    }
    for gone in ["leak1", "leak2", "leak3", "removed"] {
        assert!(
            !x.result.final_text.contains(gone),
            "{gone} reached the agent"
        );
    }
}

#[test]
fn logs_are_written_as_the_agent_streams_not_at_the_end() {
    let f = Arc::new(Fake::new());
    let l = f.launch(
        "echo first; echo to-stderr >&2; sleep 3; echo second",
        short(10_000, 0, 0),
    );
    let runner = thread::spawn(move || run_agent(l));
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut seen = String::new();
    while Instant::now() < deadline {
        seen = f.log();
        if seen.contains("first") && f.stderr_log().contains("to-stderr") {
            break;
        }
        thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        seen, "first\n",
        "the log did not have the first line while running"
    );
    assert!(f.stderr_log().contains("to-stderr"));
    let x = runner.join().unwrap();
    assert_eq!(x.ended, Ended::Exited);
    assert_eq!(f.log(), "first\nsecond\n");
    assert_eq!(x.stderr_tail, "to-stderr\n");
}

#[test]
fn the_agent_leads_its_own_process_group_reported_by_on_start() {
    let f = Fake::new();
    let mut l = f.launch("echo $$; cut -d' ' -f5 /proc/$$/stat", short(10_000, 0, 0));
    let got = Arc::new(Mutex::new(None));
    let g = Arc::clone(&got);
    l.on_start = Some(Box::new(move |pid| {
        *g.lock().unwrap() = Some(pid);
    }));
    let x = run_agent(l);
    let pid = got.lock().unwrap().expect("on_start not called");
    let lines: Vec<&str> = x.result.final_text.lines().collect();
    assert_eq!(lines, vec![pid.to_string(), pid.to_string()]);
}

#[test]
fn background_processes_an_agent_leaves_are_ended_when_it_exits() {
    let f = Fake::new();
    let x = run_agent(f.launch(
        "sleep 100 & echo $! > grandchild.pid; echo bye",
        short(20_000, 0, 0),
    ));
    assert_eq!(x.ended, Ended::Exited);
    assert_eq!(x.exit_code, Some(0));
    assert!(ms(&x) < 4000, "{} ms", ms(&x));
    assert!(gone_soon(f.pid_file("grandchild.pid")));
}

#[test]
fn exit_code_is_reported_and_is_not_completion() {
    let f = Fake::new();
    let x = run_agent(f.launch("echo nope; exit 3", short(10_000, 0, 0)));
    assert_eq!(x.ended, Ended::Exited);
    assert_eq!(x.exit_code, Some(3));
    assert_eq!(x.signal, None);
    assert!(!completed(&x.result.final_text, SIGNAL));
}

#[test]
fn a_missing_program_is_a_spawn_failure_not_a_panic() {
    let f = Fake::new();
    let mut l = f.launch("", short(1000, 0, 0));
    l.argv = vec!["/nonexistent/agent-binary".into()];
    let x = run_agent(l);
    assert_eq!(x.ended, Ended::SpawnFailed);
    assert!(
        x.spawn_error.as_deref().unwrap().contains("agent-binary"),
        "{:?}",
        x.spawn_error
    );
    let mut l = f.launch("", short(1000, 0, 0));
    l.argv.clear();
    assert_eq!(run_agent(l).ended, Ended::SpawnFailed);
    let mut l = f.launch("true", short(1000, 0, 0));
    l.cwd = f.path("no-such-worktree");
    let x = run_agent(l);
    assert_eq!(x.ended, Ended::SpawnFailed);
    assert!(x.spawn_error.unwrap().contains("no-such-worktree"));
}

#[test]
fn huge_output_is_logged_whole_and_parsed_from_a_capped_tail() {
    let f = Fake::new();
    let x = run_agent(f.launch(
        "head -c 20000000 /dev/zero | tr '\\0' 'a'; echo; echo '<complete/>'",
        short(30_000, 0, 0),
    ));
    assert_eq!(x.ended, Ended::Exited);
    assert_eq!(x.stdout_bytes, 20_000_000 + 1 + 12);
    assert_eq!(
        fs::metadata(f.path("logs/1.log")).unwrap().len(),
        20_000_013
    );
    assert!(x.result.final_text.len() <= process::STDOUT_KEEP);
    assert!(completed(&x.result.final_text, SIGNAL));
}

#[test]
fn end_group_ends_a_group_a_crashed_run_left_behind() {
    use std::os::unix::process::CommandExt;
    let f = Fake::new();
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg("sleep 100 & echo $! > grandchild.pid; sleep 100")
        .current_dir(f.dir.path())
        .process_group(0)
        .spawn()
        .unwrap();
    let gc = f.pid_file("grandchild.pid");
    let pgid = child.id();
    end_group(pgid);
    let _ = child.wait();
    assert!(gone_soon(gc));
    assert!(!process::group_exists(pgid) || !alive(gc));
    // Nothing happens for a group that is gone, or ones never to be touched.
    end_group(pgid);
    end_group(0);
    end_group(1);
}

/// Run by [`an_agent_dies_with_a_wt_killed_by_sigkill`] in a child copy of this test binary:
/// starts an agent and waits on it, writing its pid to `$WT_AGENTS_PDEATH_DIR/agent.pid`.
#[test]
#[ignore = "helper: run as a subprocess by an_agent_dies_with_a_wt_killed_by_sigkill"]
fn pdeath_helper_runs_an_agent_until_killed() {
    let Ok(dir) = std::env::var("WT_AGENTS_PDEATH_DIR") else {
        return;
    };
    let dir = PathBuf::from(dir);
    let pid_file = dir.join("agent.pid");
    let l = Launch {
        argv: vec!["sleep".into(), "100".into()],
        cwd: dir.clone(),
        env: Vec::new(),
        env_remove: Vec::new(),
        stdin: None,
        stdout_log: dir.join("1.log"),
        stderr_log: dir.join("1.stderr"),
        timeouts: short(60_000, 0, 0),
        parser: ParserKind::Text,
        cancel: Arc::new(AtomicBool::new(false)),
        on_start: Some(Box::new(move |pid| {
            fs::write(&pid_file, pid.to_string()).unwrap();
        })),
    };
    run_agent(l);
}

#[test]
fn an_agent_dies_with_a_wt_killed_by_sigkill() {
    let f = Fake::new();
    let mut helper = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "agents::pdeath_helper_runs_an_agent_until_killed",
            "--ignored",
            "--test-threads=1",
        ])
        .env("WT_AGENTS_PDEATH_DIR", f.dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let agent = f.pid_file("agent.pid");
    assert!(alive(agent));
    helper.kill().unwrap(); // SIGKILL: no cleanup code of the helper runs.
    let _ = helper.wait();
    let gone = gone_soon(agent);
    if !gone {
        let _ = std::process::Command::new("kill")
            .args(["-9", &agent.to_string()])
            .status();
    }
    assert!(gone, "agent {agent} outlived its killed parent");
}

#[test]
fn end_group_if_env_ends_only_a_group_started_with_that_variable() {
    use std::os::unix::process::CommandExt;
    let f = Fake::new();
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg("sleep 100 & echo $! > grandchild.pid; sleep 100")
        .current_dir(f.dir.path())
        .env("WT_RUN", "run-abc")
        .process_group(0)
        .spawn()
        .unwrap();
    let gc = f.pid_file("grandchild.pid");
    let pgid = child.id();
    // Another run's id (or the group number now being someone else's): left alone.
    assert!(!process::end_group_if_env(pgid, "WT_RUN", "run-xyz"));
    assert!(!process::end_group_if_env(pgid, "WT_RUN", "run-ab"));
    assert!(alive(gc) && alive(pgid));
    assert!(process::end_group_if_env(pgid, "WT_RUN", "run-abc"));
    let _ = child.wait();
    assert!(gone_soon(gc));
    assert!(!process::end_group_if_env(pgid, "WT_RUN", "run-abc"));
}
