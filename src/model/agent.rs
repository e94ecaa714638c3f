//! Agent profiles for `wt run`: how to start one coding-agent CLI unattended.
//!
//! A profile is an argv with placeholders, how the prompt reaches the agent (stdin, one
//! argument, or a file the argv names), which parser reads its output, extra environment, and
//! three timers. Profiles come from `.work/config.yaml` (`agents:`) or the built-ins below
//! (claude, codex, opencode, gemini, aider, amp, cursor, copilot). See docs/agents.md.
//!
//! Ticket text is hostile: it never becomes part of a shell string, and reaches the argv only
//! as the whole of one element (`{prompt}` with `prompt: arg`).

use std::time::Duration;

use indexmap::IndexMap;
use serde::{Deserialize, Deserializer, Serialize};

/// How the prompt reaches the agent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PromptVia {
    /// Written to the agent's stdin, which is then closed.
    #[default]
    Stdin,
    /// One argv element: `{prompt}` (appended last when the argv has none); stdin is closed.
    Arg,
    /// The agent reads the file `{prompt_file}` names; stdin is closed.
    File,
}

/// Which parser reads the agent's stdout (see [`crate::model::agent_output`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ParserKind {
    /// Final text = all of stdout.
    #[default]
    Text,
    Claude,
    Codex,
    Opencode,
    Gemini,
    Aider,
    Amp,
    Cursor,
    Copilot,
}

/// The three timers of one iteration. Zero turns a timer off.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct Timeouts {
    /// Wall clock from the start.
    #[serde(deserialize_with = "de_duration", serialize_with = "ser_duration")]
    pub wall: Duration,
    /// No byte on stdout or stderr for this long.
    #[serde(deserialize_with = "de_duration", serialize_with = "ser_duration")]
    pub idle: Duration,
    /// Grace after the final record (the parser's [`is_final_record`]) if the process lingers.
    ///
    /// [`is_final_record`]: crate::model::agent_output::is_final_record
    #[serde(deserialize_with = "de_duration", serialize_with = "ser_duration")]
    pub after_result: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            wall: Duration::from_secs(45 * 60),
            idle: Duration::from_secs(10 * 60),
            after_result: Duration::from_secs(15),
        }
    }
}

/// Keys a profile may have in `.work/config.yaml` (others are ignored; `wt check` may name them).
pub const PROFILE_KEYS: &[&str] = &[
    "cmd", "prompt", "parser", "env", "env_pass", "model", "timeouts", "price",
];
/// Keys of a profile's `timeouts:`.
pub const TIMEOUT_KEYS: &[&str] = &["wall", "idle", "after_result"];

/// One agent profile.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct AgentProfile {
    /// argv with placeholders `{prompt_file}` `{workdir}` `{ticket}` `{iteration}` `{model}`
    /// `{prompt}`; never run through a shell.
    pub cmd: Vec<String>,
    pub prompt: PromptVia,
    pub parser: ParserKind,
    /// Extra environment for the agent.
    pub env: IndexMap<String, String>,
    /// Provider secrets (`*_API_KEY`, `*_SECRET`, `*_SECRET_KEY`) are stripped from the
    /// agent's environment unless named here.
    pub env_pass: Vec<String>,
    /// Fills `{model}`; with none, `{model}` and the flag before it are dropped.
    pub model: Option<String>,
    pub timeouts: Timeouts,
    /// Dollars per million tokens, to estimate the cost of agents that report tokens only.
    pub price: Option<Price>,
}

/// Prices in dollars per million tokens, for estimating the cost of agents that report
/// tokens only. Cache prices default to the input price.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Price {
    pub input: f64,
    pub output: f64,
    #[serde(default)]
    pub cache_read: Option<f64>,
    #[serde(default)]
    pub cache_write: Option<f64>,
}

/// Names of the built-in profiles.
pub const BUILTIN_NAMES: &[&str] = &[
    "claude", "codex", "opencode", "gemini", "aider", "amp", "cursor", "copilot",
];

/// A prompt longer than this (bytes) is not put in the argv (Linux caps one argument at
/// 128 KiB); the argument asks the agent to read the prompt file instead.
pub const MAX_ARG_PROMPT: usize = 100_000;

fn argv(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The built-in profile `name`, if there is one.
pub fn builtin(name: &str) -> Option<AgentProfile> {
    let (cmd, prompt, parser, env): (&[&str], PromptVia, ParserKind, &[(&str, &str)]) = match name {
        "claude" => (
            &[
                "claude",
                "-p",
                "--output-format",
                "stream-json",
                "--verbose",
                "--dangerously-skip-permissions",
                "--model",
                "{model}",
            ],
            PromptVia::Stdin,
            ParserKind::Claude,
            // Claude refuses --dangerously-skip-permissions as root without it.
            &[("IS_SANDBOX", "1")],
        ),
        "codex" => (
            &[
                "codex",
                "exec",
                "--json",
                "--sandbox",
                "workspace-write",
                "-m",
                "{model}",
                "-",
            ],
            PromptVia::Stdin,
            ParserKind::Codex,
            &[],
        ),
        "opencode" => (
            &[
                "opencode", "run", "--format", "json", "--auto", "-m", "{model}", "{prompt}",
            ],
            PromptVia::Arg,
            ParserKind::Opencode,
            &[],
        ),
        "gemini" => (
            &[
                "gemini",
                "--approval-mode=yolo",
                "--skip-trust",
                "-o",
                "stream-json",
                "-m",
                "{model}",
                "-p",
                "Follow the instructions above.",
            ],
            PromptVia::Stdin,
            ParserKind::Gemini,
            &[],
        ),
        "aider" => (
            &[
                "aider",
                "--message-file",
                "{prompt_file}",
                "--yes-always",
                "--no-pretty",
                "--no-stream",
                "--no-check-update",
                "--no-show-release-notes",
                "--analytics-disable",
                "--model",
                "{model}",
            ],
            PromptVia::File,
            ParserKind::Aider,
            &[],
        ),
        "amp" => (
            &["amp", "-x", "--stream-json", "--dangerously-allow-all"],
            PromptVia::Stdin,
            ParserKind::Amp,
            &[],
        ),
        "cursor" => (
            &[
                "agent",
                "-p",
                "--output-format",
                "stream-json",
                "--force",
                "--trust",
                "--model",
                "{model}",
            ],
            PromptVia::Stdin,
            ParserKind::Cursor,
            &[],
        ),
        "copilot" => (
            &[
                "copilot",
                "-p",
                "{prompt}",
                "--allow-all",
                "--output-format",
                "json",
                "--model",
                "{model}",
            ],
            PromptVia::Arg,
            ParserKind::Copilot,
            &[],
        ),
        _ => return None,
    };
    Some(AgentProfile {
        cmd: argv(cmd),
        prompt,
        parser,
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        env_pass: Vec::new(),
        model: None,
        timeouts: Timeouts::default(),
        price: None,
    })
}

/// Is `name` a valid profile name (`[A-Za-z0-9._-]+`)?
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Check a profile name; the error says what is allowed.
pub fn validate_name(name: &str) -> Result<(), String> {
    if valid_name(name) {
        Ok(())
    } else {
        Err(format!(
            "agent profile name {name:?} is not valid: use letters, digits, '.', '_' and '-'"
        ))
    }
}

/// The profile `name`: the configured one if `configured` has it, else the built-in.
///
/// A configured profile named like a built-in but without `cmd` adjusts the built-in: it
/// keeps the built-in's `cmd`, `prompt` and `parser`, adds its `env` over the built-in's, and
/// takes its own `env_pass`, `model`, `timeouts` and `price` (e.g. `codex: {timeouts: {wall: 20m}}`).
pub fn resolve(
    name: &str,
    configured: &IndexMap<String, AgentProfile>,
) -> Result<AgentProfile, String> {
    validate_name(name)?;
    if let Some(p) = configured.get(name) {
        let p = match builtin(name) {
            Some(base) if p.cmd.is_empty() => {
                let mut env = base.env;
                env.extend(p.env.iter().map(|(k, v)| (k.clone(), v.clone())));
                AgentProfile {
                    cmd: base.cmd,
                    prompt: base.prompt,
                    parser: base.parser,
                    env,
                    env_pass: p.env_pass.clone(),
                    model: p.model.clone(),
                    timeouts: p.timeouts.clone(),
                    price: p.price.clone(),
                }
            }
            _ => p.clone(),
        };
        check(name, &p)?;
        return Ok(p);
    }
    builtin(name).ok_or_else(|| {
        format!(
            "no agent profile named `{name}`: define it under `agents:` in .work/config.yaml, or use a built-in ({})",
            BUILTIN_NAMES.join(", ")
        )
    })
}

/// Static checks of a profile: a program to run, known placeholders only, `{prompt}` only
/// as a whole element of an `arg` profile and never the program. (`prompt: file` need not
/// name `{prompt_file}`: the agent also finds it in `$WT_PROMPT_FILE`.)
pub fn check(name: &str, p: &AgentProfile) -> Result<(), String> {
    validate_name(name)?;
    check_cmd(p).map_err(|e| format!("agent profile {name}: {e}"))
}

/// [`check`] without the name.
fn check_cmd(p: &AgentProfile) -> Result<(), String> {
    let Some(first) = p.cmd.first() else {
        return Err("`cmd` is empty".to_string());
    };
    if first.trim().is_empty() {
        return Err("`cmd` starts with an empty program".to_string());
    }
    for (i, el) in p.cmd.iter().enumerate() {
        for ph in placeholders_in(el) {
            if !KNOWN.contains(&ph) {
                return Err(format!(
                    "unknown placeholder {{{ph}}} in cmd (known: {})",
                    KNOWN
                        .iter()
                        .map(|k| format!("{{{k}}}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                ));
            }
            if ph == "prompt" {
                if p.prompt != PromptVia::Arg {
                    return Err(
                        "{prompt} needs `prompt: arg` (ticket text reaches the argv only then)"
                            .to_string(),
                    );
                }
                if el != "{prompt}" {
                    return Err(format!(
                        "{{prompt}} must be a whole cmd element, not part of {el:?}"
                    ));
                }
                if i == 0 {
                    return Err("{prompt} cannot be the program".to_string());
                }
            }
        }
    }
    for k in p.env.keys().chain(p.env_pass.iter()) {
        if k.is_empty() || k.contains('=') || k.contains('\0') {
            return Err(format!("bad environment variable name {k:?}"));
        }
    }
    Ok(())
}

const KNOWN: &[&str] = &[
    "prompt_file",
    "workdir",
    "ticket",
    "iteration",
    "model",
    "prompt",
];

/// `{name}` placeholders in one element (names of lowercase letters and `_`; other braces are
/// left alone, so JSON in an argument is fine).
fn placeholders_in(el: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = el;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close)
                if close > 0
                    && after[..close]
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b == b'_') =>
            {
                out.push(&after[..close]);
                rest = &after[close + 1..];
            }
            _ => rest = after,
        }
    }
    out
}

/// `el` with each placeholder replaced by `value(name)`, left to right in one pass.
fn fill<'v>(el: &str, value: impl Fn(&str) -> Result<&'v str, String>) -> Result<String, String> {
    let mut out = String::with_capacity(el.len());
    let mut rest = el;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close)
                if close > 0
                    && after[..close]
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b == b'_') =>
            {
                out.push_str(value(&after[..close])?);
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// The values for one iteration.
#[derive(Debug, Clone)]
pub struct Placeholders<'a> {
    pub prompt_file: &'a str,
    pub workdir: &'a str,
    pub ticket: &'a str,
    pub iteration: u32,
    /// Overrides the profile's model when given.
    pub model: Option<&'a str>,
    pub prompt: &'a str,
}

/// argv with placeholders filled; each placeholder fills exactly one argv element (never a
/// shell string); an element whose placeholder has no value (model None) is dropped together
/// with a preceding flag if the profile wrote it as `--model`,`{model}`. Unknown placeholder → Err.
///
/// With `prompt: arg` the prompt is one whole element (`{prompt}`, or appended last); a prompt
/// over [`MAX_ARG_PROMPT`] bytes is replaced by a request to read `{prompt_file}`, and one
/// starting with `-` gets a leading space so no CLI reads it as a flag.
pub fn expand(profile: &AgentProfile, p: &Placeholders) -> Result<Vec<String>, String> {
    check_cmd(profile)?;
    let model = p
        .model
        .or(profile.model.as_deref())
        .filter(|m| !m.is_empty());
    let prompt_arg = if profile.prompt == PromptVia::Arg {
        Some(arg_prompt(p.prompt, p.prompt_file))
    } else {
        None
    };
    let iteration = p.iteration.to_string();
    let mut out: Vec<String> = Vec::with_capacity(profile.cmd.len() + 1);
    let mut had_prompt = false;
    for el in &profile.cmd {
        if el == "{prompt}" {
            out.push(prompt_arg.clone().unwrap_or_default());
            had_prompt = true;
            continue;
        }
        let phs = placeholders_in(el);
        if phs.contains(&"model") && model.is_none() {
            // Drop the element, and the flag that introduced it (`--model`, `{model}`).
            if el == "{model}"
                && out
                    .last()
                    .is_some_and(|prev| prev.len() > 1 && prev.starts_with('-'))
            {
                out.pop();
            }
            continue;
        }
        // One pass, so a value that itself contains `{ticket}` is never expanded again.
        let s = fill(el, |ph| match ph {
            "prompt_file" => Ok(p.prompt_file),
            "workdir" => Ok(p.workdir),
            "ticket" => Ok(p.ticket),
            "iteration" => Ok(iteration.as_str()),
            "model" => Ok(model.unwrap_or_default()),
            other => Err(format!("unknown placeholder {{{other}}}")),
        })?;
        out.push(s);
    }
    if let Some(prompt) = prompt_arg {
        if !had_prompt {
            out.push(prompt);
        }
    }
    Ok(out)
}

fn arg_prompt(prompt: &str, prompt_file: &str) -> String {
    if prompt.len() > MAX_ARG_PROMPT {
        return format!(
            "Read the file {prompt_file} and follow the instructions in it; it is your whole task."
        );
    }
    if prompt.starts_with('-') {
        format!(" {prompt}")
    } else {
        prompt.to_string()
    }
}

impl AgentProfile {
    /// What to write to the agent's stdin: the prompt for `prompt: stdin`, else nothing
    /// (stdin is then `/dev/null`).
    pub fn stdin(&self, prompt: &str) -> Option<Vec<u8>> {
        (self.prompt == PromptVia::Stdin).then(|| prompt.as_bytes().to_vec())
    }
}

/// Is `name` a provider secret that is stripped from an agent's environment unless the
/// profile passes it (`*_API_KEY`, `*_SECRET`, `*_SECRET_KEY`, any case)?
pub fn is_secret_var(name: &str) -> bool {
    let up = name.to_ascii_uppercase();
    up.ends_with("_API_KEY") || up.ends_with("_SECRET") || up.ends_with("_SECRET_KEY")
}

/// Parse "45m", "10m", "15s", "1h", "500ms", "1h30m", "0" (off), or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let bad = || {
        format!(
            "bad duration {text:?}: write e.g. 500ms, 15s, 10m, 1h or 1h30m (0 turns a timer off)"
        )
    };
    if t.is_empty() {
        return Err(bad());
    }
    if let Ok(secs) = t.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let mut total = Duration::ZERO;
    let mut rest = t;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let d = match unit {
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n.checked_mul(60).ok_or_else(bad)?),
            "h" => Duration::from_secs(n.checked_mul(3600).ok_or_else(bad)?),
            _ => return Err(bad()),
        };
        total = total.checked_add(d).ok_or_else(bad)?;
    }
    Ok(total)
}

/// Write a duration the way [`parse_duration`] reads it (largest exact unit).
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        "0".into()
    } else if ms.is_multiple_of(3_600_000) {
        format!("{}h", ms / 3_600_000)
    } else if ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

fn de_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Secs(u64),
        Text(String),
    }
    match Raw::deserialize(d)? {
        Raw::Secs(s) => Ok(Duration::from_secs(s)),
        Raw::Text(t) => parse_duration(&t).map_err(serde::de::Error::custom),
    }
}

fn ser_duration<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_duration(*d))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ph<'a>(model: Option<&'a str>, prompt: &'a str) -> Placeholders<'a> {
        Placeholders {
            prompt_file: "/logs/T-1/1.prompt.md",
            workdir: "/wt/T-1",
            ticket: "T-1",
            iteration: 3,
            model,
            prompt,
        }
    }

    #[test]
    fn durations_parse_in_every_unit_and_reject_garbage() {
        assert_eq!(parse_duration("45m"), Ok(Duration::from_secs(2700)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("15s"), Ok(Duration::from_secs(15)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        for bad in [
            "",
            "m",
            "5x",
            "-5s",
            "5 s s",
            "1.5h",
            "99999999999999999999h",
            "s5",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} parsed");
        }
        for d in ["45m", "15s", "1h", "500ms", "0"] {
            assert_eq!(format_duration(parse_duration(d).unwrap()), d);
        }
    }

    #[test]
    fn profile_deserializes_from_yaml_with_defaults_and_durations() {
        let yaml = "cmd: [./tools/agent.sh, \"{prompt_file}\"]\nprompt: file\nparser: text\nenv: {SOME_VAR: \"1\"}\ntimeouts: {wall: 20s, idle: 500ms}\n";
        let p: AgentProfile = serde_saphyr::from_str(yaml).unwrap();
        assert_eq!(p.cmd, vec!["./tools/agent.sh", "{prompt_file}"]);
        assert_eq!(p.prompt, PromptVia::File);
        assert_eq!(p.parser, ParserKind::Text);
        assert_eq!(p.env.get("SOME_VAR").map(String::as_str), Some("1"));
        assert_eq!(p.timeouts.wall, Duration::from_secs(20));
        assert_eq!(p.timeouts.idle, Duration::from_millis(500));
        assert_eq!(p.timeouts.after_result, Duration::from_secs(15));
        let bad: Result<AgentProfile, _> = serde_saphyr::from_str("timeouts: {wall: soon}\n");
        assert!(bad.is_err());
        let none: AgentProfile = serde_saphyr::from_str("cmd: [x]\n").unwrap();
        assert_eq!(none.prompt, PromptVia::Stdin);
        assert_eq!(none.timeouts, Timeouts::default());
        assert_eq!(none.timeouts.wall, Duration::from_secs(45 * 60));
    }

    #[test]
    fn every_builtin_exists_passes_its_checks_and_others_do_not_exist() {
        for name in BUILTIN_NAMES {
            let p = builtin(name).unwrap();
            check(name, &p).unwrap();
            expand(&p, &ph(None, "do it")).unwrap();
        }
        assert!(builtin("nope").is_none());
    }

    #[test]
    fn claude_builtin_streams_json_skips_permissions_sets_sandbox_and_reads_stdin() {
        let p = builtin("claude").unwrap();
        let argv = expand(&p, &ph(None, "the ticket")).unwrap();
        assert_eq!(
            argv,
            vec![
                "claude",
                "-p",
                "--output-format",
                "stream-json",
                "--verbose",
                "--dangerously-skip-permissions"
            ]
        );
        assert_eq!(p.env.get("IS_SANDBOX").map(String::as_str), Some("1"));
        assert_eq!(p.stdin("the ticket"), Some(b"the ticket".to_vec()));
        let argv = expand(&p, &ph(Some("opus"), "x")).unwrap();
        assert_eq!(&argv[argv.len() - 2..], ["--model", "opus"]);
    }

    #[test]
    fn codex_builtin_uses_workspace_write_sandbox_and_stdin_never_full_auto() {
        let p = builtin("codex").unwrap();
        let argv = expand(&p, &ph(None, "x")).unwrap();
        assert_eq!(
            argv,
            vec![
                "codex",
                "exec",
                "--json",
                "--sandbox",
                "workspace-write",
                "-"
            ]
        );
        assert!(!argv.iter().any(|a| a == "--full-auto"));
        let argv = expand(&p, &ph(Some("gpt-5"), "x")).unwrap();
        assert_eq!(
            argv,
            vec![
                "codex",
                "exec",
                "--json",
                "--sandbox",
                "workspace-write",
                "-m",
                "gpt-5",
                "-"
            ]
        );
        assert_eq!(p.prompt, PromptVia::Stdin);
    }

    #[test]
    fn hostile_prompt_is_exactly_one_argv_element_and_only_in_arg_mode() {
        let hostile = "x\"; rm -rf / ; echo $(id) `id` {model} {ticket}\n--model evil";
        let p = builtin("copilot").unwrap();
        let argv = expand(&p, &ph(None, hostile)).unwrap();
        assert_eq!(argv.iter().filter(|a| a.as_str() == hostile).count(), 1);
        assert_eq!(
            argv,
            vec![
                "copilot",
                "-p",
                hostile,
                "--allow-all",
                "--output-format",
                "json"
            ]
        );
        // A stdin profile never puts the prompt in the argv.
        let claude = builtin("claude").unwrap();
        let argv = expand(&claude, &ph(None, hostile)).unwrap();
        assert!(!argv.iter().any(|a| a.contains("rm -rf")));
        // A prompt starting with '-' cannot pass for a flag.
        let argv = expand(&p, &ph(None, "--help")).unwrap();
        assert_eq!(argv[2], " --help");
        // A huge prompt goes through the file instead.
        let big = "a".repeat(MAX_ARG_PROMPT + 1);
        let argv = expand(&p, &ph(None, &big)).unwrap();
        assert!(argv[2].contains("/logs/T-1/1.prompt.md"), "{}", argv[2]);
        assert!(argv.iter().all(|a| a.len() < 1000));
    }

    #[test]
    fn arg_profile_without_prompt_placeholder_appends_the_prompt_last() {
        let p = AgentProfile {
            cmd: vec!["tool".into(), "--go".into()],
            prompt: PromptVia::Arg,
            ..AgentProfile::default()
        };
        assert_eq!(
            expand(&p, &ph(None, "do")).unwrap(),
            vec!["tool", "--go", "do"]
        );
        assert_eq!(p.stdin("do"), None);
    }

    #[test]
    fn placeholders_fill_one_element_each_including_embedded_ones() {
        let p = AgentProfile {
            cmd: vec![
                "{workdir}/agent.sh".into(),
                "--file={prompt_file}".into(),
                "{ticket}".into(),
                "{iteration}".into(),
                "--model={model}".into(),
                "{\"json\": 1}".into(),
            ],
            prompt: PromptVia::File,
            ..AgentProfile::default()
        };
        let argv = expand(&p, &ph(Some("m 1"), "ignored")).unwrap();
        assert_eq!(
            argv,
            vec![
                "/wt/T-1/agent.sh",
                "--file=/logs/T-1/1.prompt.md",
                "T-1",
                "3",
                "--model=m 1",
                "{\"json\": 1}"
            ]
        );
        // Without a model the embedded element goes, the one before stays.
        let argv = expand(&p, &ph(None, "ignored")).unwrap();
        assert_eq!(argv.len(), 5);
        assert_eq!(argv[3], "3");
        // The profile's own model fills it when the iteration gives none.
        let p2 = AgentProfile {
            model: Some("sonnet".into()),
            ..builtin("claude").unwrap()
        };
        assert!(expand(&p2, &ph(None, "x"))
            .unwrap()
            .ends_with(&["--model".to_string(), "sonnet".to_string()]));
    }

    #[test]
    fn a_value_containing_a_placeholder_is_not_expanded_again() {
        let p = AgentProfile {
            cmd: vec!["a".into(), "{workdir}:{ticket}".into()],
            ..AgentProfile::default()
        };
        let mut v = ph(None, "x");
        v.workdir = "/w/{ticket}";
        assert_eq!(expand(&p, &v).unwrap(), vec!["a", "/w/{ticket}:T-1"]);
    }

    #[test]
    fn bad_profiles_are_refused_with_a_reason() {
        let mk = |cmd: &[&str], prompt: PromptVia| AgentProfile {
            cmd: argv(cmd),
            prompt,
            ..AgentProfile::default()
        };
        let e = expand(&mk(&["a", "{nope}"], PromptVia::Stdin), &ph(None, "x")).unwrap_err();
        assert!(e.contains("unknown placeholder {nope}"), "{e}");
        let e = expand(&mk(&["a", "{prompt}"], PromptVia::Stdin), &ph(None, "x")).unwrap_err();
        assert!(e.contains("prompt: arg"), "{e}");
        let e = expand(&mk(&["a", "-p={prompt}"], PromptVia::Arg), &ph(None, "x")).unwrap_err();
        assert!(e.contains("whole cmd element"), "{e}");
        let e = expand(&mk(&["{prompt}"], PromptVia::Arg), &ph(None, "x")).unwrap_err();
        assert!(e.contains("cannot be the program"), "{e}");
        let e = expand(&mk(&[], PromptVia::Stdin), &ph(None, "x")).unwrap_err();
        assert!(e.contains("empty"), "{e}");
        // `prompt: file` may leave the path to $WT_PROMPT_FILE.
        assert_eq!(
            expand(&mk(&["a"], PromptVia::File), &ph(None, "x")).unwrap(),
            vec!["a"]
        );
    }

    #[test]
    fn names_are_validated_and_resolved_configured_first() {
        for ok in ["claude", "my-agent", "a.b_c-1"] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", "a b", "a/b", "../x", "é", "a;b"] {
            assert!(!valid_name(bad), "{bad}");
            assert!(resolve(bad, &IndexMap::new()).is_err());
        }
        let mut configured = IndexMap::new();
        configured.insert(
            "claude".to_string(),
            AgentProfile {
                cmd: vec!["./fake-claude".into()],
                parser: ParserKind::Claude,
                ..AgentProfile::default()
            },
        );
        assert_eq!(
            resolve("claude", &configured).unwrap().cmd,
            vec!["./fake-claude"]
        );
        assert_eq!(resolve("codex", &configured).unwrap().cmd[0], "codex");
        // A built-in's name without `cmd`: the built-in, adjusted.
        let tweak: AgentProfile = serde_saphyr::from_str(
            "model: o3\nenv: {EXTRA: \"1\"}\nenv_pass: [OPENAI_API_KEY]\nprice: {input: 1.25, output: 10}\ntimeouts: {wall: 20s}\n",
        )
        .unwrap();
        configured.insert("codex".to_string(), tweak.clone());
        let codex = resolve("codex", &configured).unwrap();
        assert_eq!(codex.cmd, builtin("codex").unwrap().cmd);
        assert_eq!(codex.parser, ParserKind::Codex);
        assert_eq!(codex.model.as_deref(), Some("o3"));
        assert_eq!(codex.env_pass, vec!["OPENAI_API_KEY"]);
        assert_eq!(codex.timeouts.wall, Duration::from_secs(20));
        assert_eq!(
            codex.price,
            Some(Price {
                input: 1.25,
                output: 10.0,
                cache_read: None,
                cache_write: None
            })
        );
        assert_eq!(codex.env.get("EXTRA").map(String::as_str), Some("1"));
        configured.insert("claude-fast".to_string(), tweak);
        let claude = {
            let mut c = configured.clone();
            c.insert(
                "claude".into(),
                serde_saphyr::from_str("env: {X: y}\n").unwrap(),
            );
            resolve("claude", &c).unwrap()
        };
        assert_eq!(claude.env.get("IS_SANDBOX").map(String::as_str), Some("1"));
        assert_eq!(claude.env.get("X").map(String::as_str), Some("y"));
        // Not a built-in's name: a profile without cmd is refused.
        assert!(resolve("claude-fast", &configured)
            .unwrap_err()
            .contains("empty"));
        let e = resolve("nobody", &configured).unwrap_err();
        assert!(e.contains("claude, codex"), "{e}");
    }

    #[test]
    fn provider_secrets_are_recognised() {
        for s in [
            "ANTHROPIC_API_KEY",
            "OPENAI_API_KEY",
            "AWS_SECRET",
            "AWS_SECRET_KEY",
            "x_api_key",
        ] {
            assert!(is_secret_var(s), "{s}");
        }
        for s in ["PATH", "HOME", "IS_SANDBOX", "API_KEYS", "SECRETARY"] {
            assert!(!is_secret_var(s), "{s}");
        }
    }
}
