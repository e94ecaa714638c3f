//! Reading an agent CLI's stdout: its final text, whether it said the run failed, its session,
//! turns, tokens and cost, normalised across the CLIs `wt run` has built-in profiles for.
//!
//! Pure text in, data out. Every parser tolerates garbage: lines that are not JSON (Node
//! warnings, banners), truncated records, unknown record types and huge lines are skipped;
//! nothing here panics. Formats: docs/agents.md.

use std::collections::HashSet;

use serde::Serialize;
use serde_json::{Map, Value};

pub use crate::model::agent::ParserKind;

/// Tokens an agent reports for one iteration (summed over its turns where the CLI reports
/// them per turn).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Tokens {
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    pub cache_write: u64,
    pub reasoning: u64,
}

/// What one iteration's stdout says.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AgentResult {
    /// The agent's final message (text parser: all of stdout).
    pub final_text: String,
    /// A terminal/final record was parsed.
    pub result_seen: bool,
    /// The CLI said the run failed (claude `is_error`, codex `turn.failed`/`error`, ...).
    pub is_error: bool,
    /// Its message (e.g. "Not logged in · Please run /login").
    pub error: Option<String>,
    pub session_id: Option<String>,
    pub turns: Option<u32>,
    pub tokens: Option<Tokens>,
    /// Only when the CLI reports it.
    pub cost_usd: Option<f64>,
}

/// Parse an agent's whole stdout with the parser `kind`.
pub fn parse(kind: ParserKind, stdout: &str) -> AgentResult {
    match kind {
        ParserKind::Text => AgentResult {
            final_text: stdout.to_string(),
            ..AgentResult::default()
        },
        ParserKind::Claude | ParserKind::Amp | ParserKind::Cursor => claude_like(stdout),
        ParserKind::Codex => codex(stdout),
        ParserKind::Opencode => opencode(stdout),
        ParserKind::Gemini => gemini(stdout),
        ParserKind::Aider => aider(stdout),
        ParserKind::Copilot => copilot(stdout),
    }
}

/// Incremental: does this one stdout line end the agent's work (the final record)? Used for
/// the after_result timer. Text/aider: never.
pub fn is_final_record(kind: ParserKind, line: &str) -> bool {
    let finals: &[&str] = match kind {
        ParserKind::Text | ParserKind::Aider => return false,
        ParserKind::Claude
        | ParserKind::Amp
        | ParserKind::Cursor
        | ParserKind::Gemini
        | ParserKind::Copilot => &["result"],
        ParserKind::Codex => &["turn.completed", "turn.failed"],
        ParserKind::Opencode => &["done"],
    };
    // Cheap test first: most lines are not final records.
    if !finals.iter().any(|f| line.contains(f)) {
        return false;
    }
    match record(line) {
        Some(rec) => str_of(&rec, "type").is_some_and(|t| finals.contains(&t)),
        None => false,
    }
}

/// The completion signal: the last non-empty line of `final_text`, trimmed, equals `signal`.
pub fn completed(final_text: &str, signal: &str) -> bool {
    let signal = signal.trim();
    if signal.is_empty() {
        return false;
    }
    final_text
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .is_some_and(|l| l == signal)
}

// ---------------------------------------------------------------------------------------
// JSON helpers

/// One line as a JSON object, if it is one.
fn record(line: &str) -> Option<Map<String, Value>> {
    let t = line.trim();
    if !t.starts_with('{') {
        return None;
    }
    match serde_json::from_str::<Value>(t) {
        Ok(Value::Object(m)) => Some(m),
        _ => None,
    }
}

/// The JSON objects of stdout: one per line (JSONL); if no line is one, the whole text as
/// one document (an object, or an array of objects).
fn records(stdout: &str) -> Vec<Map<String, Value>> {
    let out: Vec<_> = stdout.lines().filter_map(record).collect();
    if !out.is_empty() {
        return out;
    }
    match serde_json::from_str::<Value>(stdout.trim()) {
        Ok(Value::Object(m)) => vec![m],
        Ok(Value::Array(items)) => items
            .into_iter()
            .filter_map(|v| match v {
                Value::Object(m) => Some(m),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn str_of<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    m.get(key).and_then(Value::as_str)
}

fn obj<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a Map<String, Value>> {
    m.get(key).and_then(Value::as_object)
}

/// A non-negative count (integers, or floats as CLIs sometimes write them).
fn count(m: &Map<String, Value>, key: &str) -> Option<u64> {
    let v = m.get(key)?;
    v.as_u64().or_else(|| {
        v.as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0)
            .map(|f| f as u64)
    })
}

fn money(m: &Map<String, Value>, key: &str) -> Option<f64> {
    m.get(key)
        .and_then(Value::as_f64)
        .filter(|f| f.is_finite() && *f >= 0.0)
}

/// The text of a message's `content`: a string, or the `text` of its text blocks.
fn content_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(blocks)) => {
            let parts: Vec<&str> = blocks
                .iter()
                .filter_map(Value::as_object)
                .filter(|b| str_of(b, "type").is_none_or(|t| t == "text"))
                .filter_map(|b| str_of(b, "text"))
                .collect();
            parts.join("\n")
        }
        _ => String::new(),
    }
}

/// A readable message from an error value: a string, or its `message`/`data.message`/`name`.
fn error_message(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Object(m) => str_of(m, "message")
            .or_else(|| obj(m, "data").and_then(|d| str_of(d, "message")))
            .or_else(|| str_of(m, "name"))
            .or_else(|| str_of(m, "type"))
            .map(str::to_string)
            .or_else(|| Some(Value::Object(m.clone()).to_string())),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn add_tokens(acc: &mut Option<Tokens>, t: Tokens) {
    let a = acc.get_or_insert_with(Tokens::default);
    a.input = a.input.saturating_add(t.input);
    a.output = a.output.saturating_add(t.output);
    a.cache_read = a.cache_read.saturating_add(t.cache_read);
    a.cache_write = a.cache_write.saturating_add(t.cache_write);
    a.reasoning = a.reasoning.saturating_add(t.reasoning);
}

/// Anthropic-style usage: input_tokens, output_tokens, cache_read_input_tokens,
/// cache_creation_input_tokens.
fn anthropic_usage(u: &Map<String, Value>) -> Tokens {
    Tokens {
        input: count(u, "input_tokens").unwrap_or(0),
        output: count(u, "output_tokens").unwrap_or(0),
        cache_read: count(u, "cache_read_input_tokens").unwrap_or(0),
        cache_write: count(u, "cache_creation_input_tokens").unwrap_or(0),
        reasoning: obj(u, "output_tokens_details")
            .and_then(|d| count(d, "thinking_tokens"))
            .unwrap_or(0),
    }
}

// ---------------------------------------------------------------------------------------
// Parsers

/// Claude Code (`stream-json` or `json`), and the CLIs with its format: Amp (`--stream-json`)
/// and Cursor (`stream-json`/`json`). The `result` record carries the final text, `is_error`
/// (read it, not `subtype`: a failed API call arrives as subtype "success" with is_error
/// true), session, turns, usage and (Claude only) `total_cost_usd`. Amp reports usage only on
/// assistant records: those are summed (once per message id) when the result has none.
fn claude_like(stdout: &str) -> AgentResult {
    let mut r = AgentResult::default();
    let mut last_assistant = String::new();
    let mut assistant_usage: Option<Tokens> = None;
    let mut seen_messages: HashSet<String> = HashSet::new();
    let mut result_usage: Option<Tokens> = None;
    for rec in records(stdout) {
        match str_of(&rec, "type") {
            Some("system") | Some("user") if r.session_id.is_none() => {
                r.session_id = str_of(&rec, "session_id").map(str::to_string);
            }
            Some("assistant") => {
                if r.session_id.is_none() {
                    r.session_id = str_of(&rec, "session_id").map(str::to_string);
                }
                let Some(msg) = obj(&rec, "message") else {
                    continue;
                };
                let text = content_text(msg.get("content"));
                if !text.trim().is_empty() {
                    last_assistant = text;
                }
                if let Some(u) = obj(msg, "usage") {
                    let fresh = match str_of(msg, "id") {
                        Some(id) => seen_messages.insert(id.to_string()),
                        None => true,
                    };
                    if fresh {
                        add_tokens(&mut assistant_usage, anthropic_usage(u));
                    }
                }
            }
            Some("result") => {
                r.result_seen = true;
                r.final_text = str_of(&rec, "result")
                    .map(str::to_string)
                    .unwrap_or_else(|| last_assistant.clone());
                r.is_error = match rec.get("is_error").and_then(Value::as_bool) {
                    Some(b) => b,
                    None => str_of(&rec, "subtype").is_some_and(|s| s.starts_with("error")),
                };
                r.error = if r.is_error { claude_error(&rec) } else { None };
                if let Some(s) = str_of(&rec, "session_id") {
                    r.session_id = Some(s.to_string());
                }
                r.turns = count(&rec, "num_turns").map(|n| n.min(u64::from(u32::MAX)) as u32);
                r.cost_usd = money(&rec, "total_cost_usd");
                result_usage = obj(&rec, "usage").map(anthropic_usage);
            }
            _ => {}
        }
    }
    if !r.result_seen {
        r.final_text = last_assistant;
    }
    r.tokens = result_usage.or(assistant_usage);
    r
}

fn claude_error(rec: &Map<String, Value>) -> Option<String> {
    if let Some(t) = str_of(rec, "result").filter(|t| !t.trim().is_empty()) {
        return Some(t.to_string());
    }
    if let Some(errs) = rec.get("errors").and_then(Value::as_array) {
        let msgs: Vec<String> = errs.iter().filter_map(|e| error_message(Some(e))).collect();
        if !msgs.is_empty() {
            return Some(msgs.join("; "));
        }
    }
    Some(
        str_of(rec, "subtype")
            .or_else(|| str_of(rec, "terminal_reason"))
            .unwrap_or("the agent reported an error")
            .to_string(),
    )
}

/// Codex `exec --json`: final text = the last `agent_message` item; session = the
/// `thread.started` thread_id; tokens = Σ `turn.completed.usage`; `turn.failed` fails the
/// run, and so does a top-level `error` not followed by a completed turn (an offline Codex
/// prints "Reconnecting..." errors forever).
fn codex(stdout: &str) -> AgentResult {
    let mut r = AgentResult::default();
    let mut turns = 0u32;
    let mut failed: Option<String> = None;
    let mut pending: Option<String> = None;
    for rec in records(stdout) {
        match str_of(&rec, "type") {
            Some("thread.started") => {
                r.session_id = str_of(&rec, "thread_id").map(str::to_string);
            }
            Some("item.completed") => {
                if let Some(item) = obj(&rec, "item") {
                    if str_of(item, "type") == Some("agent_message") {
                        if let Some(t) = str_of(item, "text") {
                            r.final_text = t.to_string();
                        }
                    }
                }
            }
            Some("turn.completed") => {
                r.result_seen = true;
                turns = turns.saturating_add(1);
                pending = None;
                failed = None;
                if let Some(u) = obj(&rec, "usage") {
                    add_tokens(
                        &mut r.tokens,
                        Tokens {
                            input: count(u, "input_tokens").unwrap_or(0),
                            output: count(u, "output_tokens").unwrap_or(0),
                            cache_read: count(u, "cached_input_tokens").unwrap_or(0),
                            cache_write: 0,
                            reasoning: count(u, "reasoning_output_tokens").unwrap_or(0),
                        },
                    );
                }
            }
            Some("turn.failed") => {
                r.result_seen = true;
                turns = turns.saturating_add(1);
                failed = Some(
                    error_message(rec.get("error"))
                        .unwrap_or_else(|| "the turn failed".to_string()),
                );
            }
            Some("error") => {
                pending = Some(
                    error_message(rec.get("message"))
                        .unwrap_or_else(|| "codex reported an error".to_string()),
                );
            }
            _ => {}
        }
    }
    if turns > 0 {
        r.turns = Some(turns);
    }
    if let Some(e) = failed.or(pending) {
        r.is_error = true;
        r.error = Some(e);
    }
    r
}

/// opencode `run --format json`: final text = the text parts of the last step that had any;
/// session = `sessionID`; tokens and cost = Σ `step_finish.part`; `error` fails the run;
/// `done` (or a step finishing with reason "stop") is the final record.
fn opencode(stdout: &str) -> AgentResult {
    let mut r = AgentResult::default();
    let mut text = String::new();
    let mut stale = false;
    for rec in records(stdout) {
        if r.session_id.is_none() {
            r.session_id = str_of(&rec, "sessionID").map(str::to_string);
        }
        let part = obj(&rec, "part");
        match str_of(&rec, "type") {
            Some("step_start") => stale = true,
            Some("text") => {
                let Some(t) = part.and_then(|p| str_of(p, "text")) else {
                    continue;
                };
                if stale {
                    text.clear();
                    stale = false;
                }
                if !text.is_empty() && !text.ends_with('\n') {
                    text.push('\n');
                }
                text.push_str(t);
            }
            Some("step_finish") => {
                let Some(p) = part else { continue };
                if str_of(p, "reason") == Some("stop") {
                    r.result_seen = true;
                }
                if let Some(c) = money(p, "cost") {
                    *r.cost_usd.get_or_insert(0.0) += c;
                }
                if let Some(t) = obj(p, "tokens") {
                    let cache = obj(t, "cache");
                    add_tokens(
                        &mut r.tokens,
                        Tokens {
                            input: count(t, "input").unwrap_or(0),
                            output: count(t, "output").unwrap_or(0),
                            cache_read: cache.and_then(|c| count(c, "read")).unwrap_or(0),
                            cache_write: cache.and_then(|c| count(c, "write")).unwrap_or(0),
                            reasoning: count(t, "reasoning").unwrap_or(0),
                        },
                    );
                }
            }
            Some("error") => {
                r.is_error = true;
                r.error = Some(
                    error_message(rec.get("error"))
                        .unwrap_or_else(|| "opencode reported an error".to_string()),
                );
            }
            Some("done") => r.result_seen = true,
            _ => {}
        }
    }
    r.final_text = text;
    r
}

/// Gemini CLI `-o stream-json` (or `-o json`): final text = the assistant message content
/// after the last tool call (deltas concatenated; the user's echoed prompt is ignored);
/// session = `init.session_id`; tokens from `result.stats`; `result.status` "error" fails the
/// run. The json document (`response`, `stats`, `error`) is read too.
fn gemini(stdout: &str) -> AgentResult {
    let mut r = AgentResult::default();
    let mut text = String::new();
    let mut stale = false;
    let mut pending: Option<String> = None;
    for rec in records(stdout) {
        match str_of(&rec, "type") {
            Some("init") => r.session_id = str_of(&rec, "session_id").map(str::to_string),
            Some("message") => {
                if str_of(&rec, "role") != Some("assistant") {
                    continue;
                }
                let t = content_text(rec.get("content"));
                if stale {
                    text.clear();
                    stale = false;
                }
                if rec.get("delta").and_then(Value::as_bool) == Some(true) {
                    text.push_str(&t);
                } else {
                    text = t;
                }
            }
            Some("tool_use") | Some("tool_result") => stale = true,
            Some("error") if str_of(&rec, "severity") != Some("warning") => {
                pending = error_message(rec.get("message"));
            }
            Some("result") => {
                r.result_seen = true;
                if str_of(&rec, "status") == Some("error") {
                    r.is_error = true;
                    r.error = Some(
                        error_message(rec.get("error"))
                            .unwrap_or_else(|| "gemini reported an error".to_string()),
                    );
                } else {
                    pending = None;
                }
                if let Some(s) = obj(&rec, "stats") {
                    r.tokens = Some(Tokens {
                        input: count(s, "input_tokens")
                            .or_else(|| count(s, "input"))
                            .unwrap_or(0),
                        output: count(s, "output_tokens").unwrap_or(0),
                        cache_read: count(s, "cached").unwrap_or(0),
                        cache_write: 0,
                        reasoning: 0,
                    });
                }
            }
            None if rec.contains_key("response")
                || rec.contains_key("stats")
                || rec.contains_key("error") =>
            {
                gemini_document(&rec, &mut r, &mut text);
            }
            _ => {}
        }
    }
    if !r.is_error {
        if let Some(e) = pending {
            r.is_error = true;
            r.error = Some(e);
        }
    }
    r.final_text = text;
    r
}

/// `gemini -o json`: `{session_id, response, stats{models{<m>{tokens{...}}}}, error}`.
fn gemini_document(rec: &Map<String, Value>, r: &mut AgentResult, text: &mut String) {
    r.result_seen = true;
    if let Some(s) = str_of(rec, "session_id") {
        r.session_id = Some(s.to_string());
    }
    if let Some(t) = str_of(rec, "response") {
        *text = t.to_string();
    }
    if let Some(e) = error_message(rec.get("error")) {
        r.is_error = true;
        r.error = Some(e);
    }
    let models = obj(rec, "stats").and_then(|s| obj(s, "models"));
    for m in models.into_iter().flat_map(|m| m.values()) {
        let Some(t) = m.as_object().and_then(|m| obj(m, "tokens")) else {
            continue;
        };
        add_tokens(
            &mut r.tokens,
            Tokens {
                input: count(t, "prompt").unwrap_or(0),
                output: count(t, "candidates").unwrap_or(0),
                cache_read: count(t, "cached").unwrap_or(0),
                cache_write: 0,
                reasoning: count(t, "thoughts").unwrap_or(0),
            },
        );
    }
}

/// `Tokens: 12k sent, 1.2k cache write, 3k cache hit, 800 received. Cost: $0.02 message,
/// $0.05 session.` → (tokens, session cost).
fn aider_usage_line(t: &str) -> Option<(Tokens, Option<f64>)> {
    let rest = t.strip_prefix("Tokens: ")?;
    let (counts, cost) = match rest.split_once(". Cost: ") {
        Some((c, cost)) => (c, Some(cost)),
        None => (rest.trim_end_matches('.'), None),
    };
    let mut tk = Tokens::default();
    let mut any = false;
    for part in counts.split(',') {
        let Some((n, what)) = part.trim().split_once(' ') else {
            continue;
        };
        let Some(n) = aider_count(n) else { continue };
        any = true;
        match what.trim() {
            "sent" => tk.input = n,
            "received" => tk.output = n,
            "cache write" => tk.cache_write = n,
            "cache hit" => tk.cache_read = n,
            _ => {}
        }
    }
    if !any {
        return None;
    }
    // `$0.02 message, $0.05 session.`
    let session = cost.and_then(|c| {
        let (_, s) = c.split_once(" message, $")?;
        let s = s.trim_end_matches('.').strip_suffix(" session")?;
        s.trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite() && *f >= 0.0)
    });
    Some((tk, session))
}

/// `12k` → 12000, `1.2k` → 1200, `800` → 800, `1.5M` → 1500000.
fn aider_count(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mult) = match s.chars().last()? {
        'k' | 'K' => (&s[..s.len() - 1], 1_000.0),
        'M' | 'm' => (&s[..s.len() - 1], 1_000_000.0),
        _ => (s, 1.0),
    };
    let n: f64 = num.trim().parse().ok()?;
    (n.is_finite() && n >= 0.0).then(|| (n * mult).round() as u64)
}

/// aider (text): tokens = Σ its `Tokens: … sent, … received.` lines; cost = the last
/// `Cost: $m message, $s session` line's session figure (one aider process is one session).
/// Final text = stdout without those lines and aider's own `Applied edit to …` / `Commit …`
/// lines, so a completion signal the model wrote last is still the last line.
fn aider(stdout: &str) -> AgentResult {
    let mut r = AgentResult::default();
    let mut kept: Vec<&str> = Vec::new();
    for line in stdout.lines() {
        let t = line.trim();
        if let Some((tk, session)) = aider_usage_line(t) {
            add_tokens(&mut r.tokens, tk);
            if session.is_some() {
                r.cost_usd = session;
            }
            continue;
        }
        if t.starts_with("Applied edit to ") || is_aider_commit_line(t) {
            continue;
        }
        kept.push(line);
    }
    r.final_text = kept.join("\n");
    r
}

/// `Commit 1a2b3c4 feat: ...` as aider prints after auto-committing.
fn is_aider_commit_line(t: &str) -> bool {
    let Some(rest) = t.strip_prefix("Commit ") else {
        return false;
    };
    let hash: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
    hash.len() >= 7 && hash.chars().all(|c| c.is_ascii_hexdigit())
}

/// GitHub Copilot CLI `--output-format json` (JSONL): final text = the last
/// `assistant.message` content (or the concatenated deltas if no full message came);
/// `result` is the final record (non-zero `exitCode` fails the run; `sessionId` when present);
/// turns = `assistant.turn_end` count. No tokens or cost.
fn copilot(stdout: &str) -> AgentResult {
    let mut r = AgentResult::default();
    let mut last_message = String::new();
    let mut deltas = String::new();
    let mut turns = 0u32;
    for rec in records(stdout) {
        let data = obj(&rec, "data");
        match str_of(&rec, "type") {
            Some("assistant.message") => {
                let t = content_text(data.and_then(|d| d.get("content")));
                if !t.trim().is_empty() {
                    last_message = t;
                }
                deltas.clear();
            }
            Some("assistant.message_delta") => {
                if let Some(t) = data.and_then(|d| str_of(d, "deltaContent")) {
                    deltas.push_str(t);
                }
            }
            Some("assistant.turn_end") => turns = turns.saturating_add(1),
            Some("error") | Some("session.error") => {
                r.is_error = true;
                r.error = error_message(data.and_then(|d| d.get("message")))
                    .or_else(|| error_message(rec.get("message")))
                    .or_else(|| Some("copilot reported an error".to_string()));
            }
            Some("result") => {
                r.result_seen = true;
                let field = |k: &str| rec.get(k).or_else(|| data.and_then(|d| d.get(k)));
                if let Some(code) = field("exitCode").and_then(Value::as_i64) {
                    if code != 0 {
                        r.is_error = true;
                        if r.error.is_none() {
                            r.error = Some(format!("copilot ended with exit code {code}"));
                        }
                    }
                }
                if let Some(s) = field("sessionId").and_then(Value::as_str) {
                    r.session_id = Some(s.to_string());
                }
            }
            _ => {}
        }
    }
    if turns > 0 {
        r.turns = Some(turns);
    }
    r.final_text = if last_message.is_empty() {
        deltas
    } else {
        last_message
    };
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [ParserKind; 9] = [
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

    #[test]
    fn completion_is_the_last_non_empty_line_only() {
        assert!(completed("did it\n<complete/>\n\n", "<complete/>"));
        assert!(completed("  <complete/>  ", "<complete/>"));
        assert!(!completed("<complete/>\nbut then more", "<complete/>"));
        assert!(!completed(
            "I will print <complete/> when done",
            "<complete/>"
        ));
        assert!(!completed("", "<complete/>"));
        assert!(!completed("anything", ""));
    }

    #[test]
    fn claude_result_record_gives_text_error_cost_tokens_and_session() {
        let out = "{\"type\":\"system\",\"subtype\":\"init\",\"session_id\":\"s1\"}\nnot json\n{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":true,\"result\":\"Not logged in\",\"session_id\":\"s1\",\"num_turns\":1,\"total_cost_usd\":0.25,\"usage\":{\"input_tokens\":3,\"output_tokens\":4,\"cache_read_input_tokens\":5,\"cache_creation_input_tokens\":6}}\n";
        let r = parse(ParserKind::Claude, out);
        assert!(r.result_seen && r.is_error);
        assert_eq!(r.error.as_deref(), Some("Not logged in"));
        assert_eq!(r.final_text, "Not logged in");
        assert_eq!(r.session_id.as_deref(), Some("s1"));
        assert_eq!(r.turns, Some(1));
        assert_eq!(r.cost_usd, Some(0.25));
        assert_eq!(
            r.tokens,
            Some(Tokens {
                input: 3,
                output: 4,
                cache_read: 5,
                cache_write: 6,
                reasoning: 0
            })
        );
    }

    #[test]
    fn claude_error_subtype_without_is_error_and_errors_list() {
        let out = r#"{"type":"result","subtype":"error_max_turns","errors":["Reached maximum number of turns (1)"]}"#;
        let r = parse(ParserKind::Claude, out);
        assert!(r.is_error);
        assert_eq!(
            r.error.as_deref(),
            Some("Reached maximum number of turns (1)")
        );
    }

    #[test]
    fn codex_transient_error_then_completed_turn_is_not_an_error() {
        let out = concat!(
            r#"{"type":"error","message":"Reconnecting... 1/5"}"#,
            "\n",
            r#"{"type":"item.completed","item":{"id":"i","type":"agent_message","text":"ok\n<complete/>"}}"#,
            "\n",
            r#"{"type":"turn.completed","usage":{"input_tokens":10,"cached_input_tokens":4,"output_tokens":2}}"#,
            "\n",
        );
        let r = parse(ParserKind::Codex, out);
        assert!(!r.is_error, "{r:?}");
        assert!(completed(&r.final_text, "<complete/>"));
        assert_eq!(r.tokens.as_ref().map(|t| t.cache_read), Some(4));
    }

    #[test]
    fn final_records_are_recognised_per_kind_and_nothing_else() {
        assert!(is_final_record(
            ParserKind::Claude,
            r#"{"type":"result","is_error":false}"#
        ));
        assert!(!is_final_record(
            ParserKind::Claude,
            r#"{"type":"assistant","text":"result"}"#
        ));
        assert!(!is_final_record(ParserKind::Claude, r#"{"type":"result""#));
        assert!(is_final_record(
            ParserKind::Codex,
            r#"{"type":"turn.completed"}"#
        ));
        assert!(is_final_record(
            ParserKind::Codex,
            r#"{"type":"turn.failed","error":{}}"#
        ));
        assert!(!is_final_record(
            ParserKind::Codex,
            r#"{"type":"turn.started"}"#
        ));
        assert!(is_final_record(
            ParserKind::Opencode,
            r#"{"type":"done","reason":"idle"}"#
        ));
        assert!(is_final_record(
            ParserKind::Gemini,
            r#"{"type":"result","status":"success"}"#
        ));
        assert!(is_final_record(
            ParserKind::Copilot,
            r#"{"type":"result","exitCode":0}"#
        ));
        assert!(!is_final_record(ParserKind::Text, r#"{"type":"result"}"#));
        assert!(!is_final_record(
            ParserKind::Aider,
            "Tokens: 1 sent, 1 received."
        ));
    }

    #[test]
    fn aider_counts_tokens_and_session_cost_and_drops_its_own_lines() {
        let out = "Working on it.\n<complete/>\nApplied edit to src/a.rs\nCommit 1a2b3c4 fix: a\nTokens: 12k sent, 1.2k cache write, 3k cache hit, 800 received. Cost: $0.02 message, $0.05 session.\n";
        let r = parse(ParserKind::Aider, out);
        assert_eq!(
            r.tokens,
            Some(Tokens {
                input: 12_000,
                output: 800,
                cache_read: 3_000,
                cache_write: 1_200,
                reasoning: 0
            })
        );
        assert_eq!(r.cost_usd, Some(0.05));
        assert!(
            completed(&r.final_text, "<complete/>"),
            "{:?}",
            r.final_text
        );
        assert!(!r.result_seen);
    }

    /// A small deterministic generator (no dependency on proptest in lib tests).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }
    }

    #[test]
    fn parsers_never_panic_on_garbage_truncation_or_huge_lines() {
        let pieces = [
            "{",
            "}",
            "[",
            "]",
            "\"type\":",
            "\"result\"",
            "\"assistant\"",
            "\"message\"",
            "\"turn.completed\"",
            "\"step_finish\"",
            "\"usage\":",
            "{\"input_tokens\":",
            "-1",
            "1e400",
            "null",
            "true",
            ",",
            ":",
            "\n",
            "\"text\"",
            "\"part\":",
            "\"content\":",
            "Tokens: ",
            "k sent",
            "Cost: $",
            "é",
            "\u{0}",
            "\\u0000",
            "\"\\ud800\"",
            "9999999999999999999999",
            "\"data\":",
            "\"exitCode\":",
            "\"error\":",
            "\"cost\":",
            "NaN",
            "\"delta\":true",
        ];
        let mut g = Lcg(42);
        for _ in 0..3000 {
            let n = (g.next() % 40) as usize;
            let mut s = String::new();
            for _ in 0..n {
                s.push_str(pieces[(g.next() as usize) % pieces.len()]);
            }
            for kind in ALL {
                let r = parse(kind, &s);
                let _ = completed(&r.final_text, "<complete/>");
                for line in s.lines() {
                    let _ = is_final_record(kind, line);
                }
            }
        }
        // Every real record, cut at every byte boundary.
        let real = "{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false,\"result\":\"héllo\",\"usage\":{\"input_tokens\":1},\"total_cost_usd\":0.1,\"num_turns\":99999999999}";
        for cut in 0..=real.len() {
            if let Some(prefix) = real.get(..cut) {
                for kind in ALL {
                    let _ = parse(kind, prefix);
                    let _ = is_final_record(kind, prefix);
                }
            }
        }
        // A huge line and deep nesting.
        let huge = format!(
            "{{\"type\":\"result\",\"result\":\"{}\"}}",
            "x".repeat(4 << 20)
        );
        assert_eq!(parse(ParserKind::Claude, &huge).final_text.len(), 4 << 20);
        let deep = "[".repeat(100_000);
        for kind in ALL {
            let _ = parse(kind, &deep);
            let _ = parse(kind, &format!("{{\"type\":\"result\",\"x\":{deep}"));
        }
    }
}
