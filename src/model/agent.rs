//! STAND-IN (replaced by the agents branch): agent profiles for `wt run`.

use std::time::Duration;

use indexmap::IndexMap;
use serde::{Deserialize, Deserializer, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PromptVia {
    #[default]
    Stdin,
    Arg,
    File,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ParserKind {
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

fn dur<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let s = String::deserialize(d)?;
    parse_duration(&s).ok_or_else(|| serde::de::Error::custom(format!("bad duration `{s}`")))
}

/// "45m", "10s", "1h", "500ms".
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: u64 = n.parse().ok()?;
    Some(match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        _ => return None,
    })
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default)]
pub struct Timeouts {
    #[serde(deserialize_with = "dur")]
    pub wall: Duration,
    #[serde(deserialize_with = "dur")]
    pub idle: Duration,
    #[serde(deserialize_with = "dur")]
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

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct AgentProfile {
    pub cmd: Vec<String>,
    pub prompt: PromptVia,
    pub parser: ParserKind,
    pub env: IndexMap<String, String>,
    pub env_pass: Vec<String>,
    pub model: Option<String>,
    pub timeouts: Timeouts,
    pub price: Option<Price>,
}

/// Prices in dollars per million tokens, for estimating the cost of agents that report
/// tokens only. Cache prices default to the input price.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Price {
    pub input: f64,
    pub output: f64,
    #[serde(default)]
    pub cache_read: Option<f64>,
    #[serde(default)]
    pub cache_write: Option<f64>,
}

pub const BUILTIN_NAMES: &[&str] = &[];

pub fn builtin(_name: &str) -> Option<AgentProfile> {
    None
}

pub struct Placeholders<'a> {
    pub prompt_file: &'a str,
    pub workdir: &'a str,
    pub ticket: &'a str,
    pub iteration: u32,
    pub model: Option<&'a str>,
    pub prompt: &'a str,
}

pub fn expand(profile: &AgentProfile, p: &Placeholders) -> Result<Vec<String>, String> {
    let it = p.iteration.to_string();
    Ok(profile
        .cmd
        .iter()
        .map(|a| {
            a.replace("{prompt_file}", p.prompt_file)
                .replace("{workdir}", p.workdir)
                .replace("{ticket}", p.ticket)
                .replace("{iteration}", &it)
        })
        .collect())
}
