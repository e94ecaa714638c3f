//! The run journal and `wt run report`.
//!
//! Every event of a run is appended, as it happens, to
//! `<git common dir>/wt/run/runs/<started>-<identity>.jsonl` (one `--json` event line each,
//! flushed per line), so a run that crashed leaves its account up to the crash. The report
//! reads one journal back: per ticket its iterations, audits and verdicts, wall time, agent
//! time, tokens, cost and outcome; totals (the sums of the iteration records); the slowest
//! and the most expensive tickets; what was escalated and why.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::app::report::SchemaVersion;
use crate::error::{Error, Result};
use crate::model::agent_output::Tokens;

use super::events::{Event, EventLine};

/// Where the journals of runs live.
pub fn runs_dir(common_dir: &Path) -> PathBuf {
    super::state::root(common_dir).join("runs")
}

/// Appends a run's events to its journal.
pub struct Journal {
    file: Option<std::fs::File>,
    pub path: PathBuf,
    started: std::time::Instant,
}

impl Journal {
    /// A new journal for the run `identity` (if it cannot be created, events are only not
    /// journaled).
    pub fn create(common_dir: &Path, identity: &str) -> Journal {
        let dir = runs_dir(common_dir);
        let _ = std::fs::create_dir_all(&dir);
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        let path = dir.join(format!("{stamp}-{identity}.jsonl"));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .ok();
        Journal {
            file,
            path,
            started: std::time::Instant::now(),
        }
    }

    /// The line an event is written as (also what `--json` prints).
    pub fn line(&self, e: &Event) -> String {
        let line = EventLine {
            schema_version: SchemaVersion,
            at: crate::model::clock::timestamp(),
            t_ms: self.started.elapsed().as_millis() as u64,
            event: e,
        };
        serde_json::to_string(&line).unwrap_or_else(|_| "{}".into())
    }

    pub fn write(&mut self, line: &str) {
        if let Some(f) = &mut self.file {
            let _ = f.write_all(format!("{line}\n").as_bytes());
            let _ = f.flush();
        }
    }
}

/// One audit in a report.
#[derive(Debug, Clone, Serialize)]
pub struct AuditLine {
    pub iteration: u32,
    pub attempt: u32,
    pub auditor: String,
    pub verdict: String,
}

/// One ticket in a report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TicketLine {
    pub ticket: String,
    pub title: String,
    /// merged, escalated, stopped, or running (the journal ends while it was worked).
    pub outcome: String,
    /// Why it was escalated or stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub iterations: u32,
    pub audits: Vec<AuditLine>,
    /// From its claim to its last event, in the run's own clock.
    pub wall_ms: u64,
    /// Sum of its agents' wall times (iterations and audits).
    pub agent_ms: u64,
    pub tokens: Tokens,
    /// Dollars (reported or estimated); absent when no agent gave a figure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    #[serde(skip)]
    first_ms: u64,
}

/// Totals of a report: sums over the iteration (and audit) records.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReportTotals {
    pub tickets: usize,
    pub merged: usize,
    pub escalated: usize,
    pub iterations: u32,
    pub audits: u32,
    pub agent_ms: u64,
    pub tokens: Tokens,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// The run's wall time (to its last event).
    pub wall_ms: u64,
}

/// `wt run report`.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub schema_version: SchemaVersion,
    /// The run's identity.
    pub run: String,
    /// The journal read.
    pub journal: String,
    /// When it started (UTC).
    pub started_at: Option<String>,
    /// Whether the journal ends with `run_ended` (false: the run crashed or is running).
    pub ended: bool,
    pub interrupted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget_reached: Option<String>,
    pub tickets: Vec<TicketLine>,
    pub totals: ReportTotals,
    /// Up to 3 tickets, longest wall time first.
    pub slowest: Vec<String>,
    /// Up to 3 tickets, most dollars first (only tickets with a figure).
    pub most_expensive: Vec<String>,
}

fn add_tokens(a: &mut Tokens, b: &Tokens) {
    a.input += b.input;
    a.output += b.output;
    a.cache_read += b.cache_read;
    a.cache_write += b.cache_write;
    a.reasoning += b.reasoning;
}

/// The journal named `run` (a file name, its stem, or a run identity; the newest match), or
/// the newest journal.
pub fn find(common_dir: &Path, run: Option<&str>) -> Result<PathBuf> {
    let dir = runs_dir(common_dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().and_then(|x| x.to_str()) == Some("jsonl"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let hit = match run {
        None => files.last().cloned(),
        Some(r) => files
            .iter()
            .rev()
            .find(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                let stem = name.trim_end_matches(".jsonl");
                name == r || stem == r || stem.ends_with(&format!("-{r}"))
            })
            .cloned(),
    };
    hit.ok_or_else(|| match run {
        Some(r) => Error::not_found(format!("no run journal named `{r}` in {}", dir.display()))
            .with_hint("`ls` that folder: one .jsonl file per run, named <started>-<identity>"),
        None => Error::not_found("no `wt run` has run in this repository yet")
            .with_hint("`wt run` writes a journal that `wt run report` reads"),
    })
}

/// Read a journal into a report. Unreadable lines are skipped.
pub fn report(path: &Path) -> Result<RunReport> {
    let text = std::fs::read_to_string(path)?;
    let mut r = RunReport {
        schema_version: SchemaVersion,
        run: String::new(),
        journal: path.display().to_string(),
        started_at: None,
        ended: false,
        interrupted: false,
        budget_reached: None,
        tickets: Vec::new(),
        totals: ReportTotals::default(),
        slowest: Vec::new(),
        most_expensive: Vec::new(),
    };
    let mut tickets: BTreeMap<String, TicketLine> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let t_ms = v["t_ms"].as_u64().unwrap_or(0);
        r.totals.wall_ms = r.totals.wall_ms.max(t_ms);
        let id = v["ticket"].as_str().unwrap_or("").to_string();
        let kind = v["event"].as_str().unwrap_or("");
        if !id.is_empty() && !tickets.contains_key(&id) {
            order.push(id.clone());
            tickets.insert(
                id.clone(),
                TicketLine {
                    ticket: id.clone(),
                    outcome: "running".into(),
                    first_ms: t_ms,
                    ..Default::default()
                },
            );
        }
        let tl = tickets.get_mut(&id);
        match (kind, tl) {
            ("run_started", _) => {
                r.run = v["run"].as_str().unwrap_or("").to_string();
                r.started_at = v["at"].as_str().map(str::to_string);
            }
            ("run_ended", _) => {
                r.ended = true;
                r.interrupted = v["interrupted"].as_bool().unwrap_or(false);
            }
            ("budget_reached", _) => {
                r.budget_reached = v["reason"].as_str().map(str::to_string);
            }
            ("ticket_claimed", Some(t)) => {
                t.title = v["title"].as_str().unwrap_or("").to_string();
            }
            ("iteration_ended", Some(t)) => {
                let rec = &v["record"];
                t.iterations += 1;
                t.agent_ms += rec["duration_ms"].as_u64().unwrap_or(0);
                if let Ok(tok) = serde_json::from_value::<TokensIn>(rec["tokens"].clone()) {
                    add_tokens(&mut t.tokens, &tok.into());
                }
                if let Some(c) = rec["cost_usd"].as_f64() {
                    *t.cost_usd.get_or_insert(0.0) += c;
                }
            }
            ("audit_ended", Some(t)) => {
                t.audits.push(AuditLine {
                    iteration: v["iteration"].as_u64().unwrap_or(0) as u32,
                    attempt: v["attempt"].as_u64().unwrap_or(0) as u32,
                    auditor: v["auditor"].as_str().unwrap_or("").to_string(),
                    verdict: v["verdict"].as_str().unwrap_or("").to_string(),
                });
                t.agent_ms += v["duration_ms"].as_u64().unwrap_or(0);
                if let Some(c) = v["cost_usd"].as_f64() {
                    *t.cost_usd.get_or_insert(0.0) += c;
                }
            }
            ("merged", Some(t)) => t.outcome = "merged".into(),
            ("escalated", Some(t)) => {
                t.outcome = "escalated".into();
                t.reason = v["reason"].as_str().map(str::to_string);
            }
            ("stopped", Some(t)) => {
                t.outcome = "stopped".into();
                t.reason = v["reason"].as_str().map(str::to_string);
            }
            _ => {}
        }
        if let Some(t) = tickets.get_mut(&id) {
            t.wall_ms = t_ms.saturating_sub(t.first_ms);
        }
    }
    for id in order {
        if let Some(t) = tickets.remove(&id) {
            let tot = &mut r.totals;
            tot.tickets += 1;
            tot.merged += usize::from(t.outcome == "merged");
            tot.escalated += usize::from(t.outcome == "escalated");
            tot.iterations += t.iterations;
            tot.audits += t.audits.len() as u32;
            tot.agent_ms += t.agent_ms;
            add_tokens(&mut tot.tokens, &t.tokens);
            if let Some(c) = t.cost_usd {
                *tot.cost_usd.get_or_insert(0.0) += c;
            }
            r.tickets.push(t);
        }
    }
    let mut by_wall: Vec<&TicketLine> = r.tickets.iter().collect();
    by_wall.sort_by(|a, b| b.wall_ms.cmp(&a.wall_ms).then(a.ticket.cmp(&b.ticket)));
    r.slowest = by_wall.iter().take(3).map(|t| t.ticket.clone()).collect();
    let mut by_cost: Vec<&TicketLine> = r.tickets.iter().filter(|t| t.cost_usd.is_some()).collect();
    by_cost.sort_by(|a, b| {
        b.cost_usd
            .unwrap_or(0.0)
            .total_cmp(&a.cost_usd.unwrap_or(0.0))
            .then(a.ticket.cmp(&b.ticket))
    });
    r.most_expensive = by_cost.iter().take(3).map(|t| t.ticket.clone()).collect();
    Ok(r)
}

/// Tokens as a journal line carries them.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct TokensIn {
    input: u64,
    output: u64,
    cache_read: u64,
    cache_write: u64,
    reasoning: u64,
}

impl From<TokensIn> for Tokens {
    fn from(t: TokensIn) -> Tokens {
        Tokens {
            input: t.input,
            output: t.output,
            cache_read: t.cache_read,
            cache_write: t.cache_write,
            reasoning: t.reasoning,
        }
    }
}
