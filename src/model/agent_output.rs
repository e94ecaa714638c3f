//! STAND-IN (replaced by the agents branch): parsing an agent's output.

use serde::Serialize;

use crate::model::agent::ParserKind;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Tokens {
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    pub cache_write: u64,
    pub reasoning: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AgentResult {
    pub final_text: String,
    pub result_seen: bool,
    pub is_error: bool,
    pub error: Option<String>,
    pub session_id: Option<String>,
    pub turns: Option<u32>,
    pub tokens: Option<Tokens>,
    pub cost_usd: Option<f64>,
}

pub fn parse(_kind: ParserKind, stdout: &str) -> AgentResult {
    AgentResult {
        final_text: stdout.to_string(),
        ..Default::default()
    }
}

pub fn is_final_record(_kind: ParserKind, _line: &str) -> bool {
    false
}

pub fn completed(final_text: &str, signal: &str) -> bool {
    final_text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .is_some_and(|l| l.trim() == signal)
}
