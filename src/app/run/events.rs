//! What `wt run` reports as it goes: one event per line with `--json` (documented in
//! docs/reference/json.md, "wt run events"), and the live view for a person.

use serde::Serialize;

use crate::model::agent_output::Tokens;

use super::process::Ended;

/// What a ticket's loop is doing now (the live view's middle column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Preparing,
    Agent,
    Verifying,
    Ci,
    Auditing,
    Merging,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Preparing => "preparing",
            Phase::Agent => "agent",
            Phase::Verifying => "verifying",
            Phase::Ci => "CI",
            Phase::Auditing => "auditing",
            Phase::Merging => "merging",
        }
    }
}

/// One iteration's account, as recorded on the ticket's progress log.
#[derive(Debug, Clone, Serialize)]
pub struct IterationRecord {
    /// With votes: which attempt (from 1) this iteration belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    pub iteration: u32,
    pub max_iterations: u32,
    /// How the agent process ended: exited, wall, idle, after_result, cancelled,
    /// spawn_failed.
    pub ended: Ended,
    pub exit_code: Option<i32>,
    pub duration_ms: u64,
    /// Commits the iteration added to the ticket's branch.
    pub commits: usize,
    /// Paths (outside `.work/`) the iteration's commits changed.
    pub files_changed: Vec<String>,
    /// Did the agent's final text end with the completion signal?
    pub claimed_completion: bool,
    /// The agent CLI reported an error (e.g. "Not logged in").
    pub is_error: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens: Option<Tokens>,
    /// Dollars: the agent's own figure, or an estimate from the profile's price table
    /// (`cost_estimated`); absent when neither exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    pub cost_estimated: bool,
    /// The stdout log of the iteration.
    pub log: String,
}

/// One attempt of a voted ticket.
#[derive(Debug, Clone, Serialize)]
pub struct VoteAttempt {
    pub attempt: u32,
    pub verified: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tree: Option<String>,
    pub iterations: u32,
    /// Lines added and removed by its diff (when verified).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff_lines: Option<usize>,
    /// What ended it (verified, or why not).
    pub outcome: String,
}

/// Totals of a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    pub merged: Vec<String>,
    pub escalated: Vec<String>,
    /// Tickets left claimed or released because the run was interrupted or lost them.
    pub unfinished: Vec<String>,
    pub iterations: u32,
    /// Wall time of the run.
    pub duration_ms: u64,
    /// Sum of the agents' wall times.
    pub agent_ms: u64,
    /// Set when the run's budget was spent: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget_reached: Option<String>,
    /// Sum of the costs the agents reported (absent when none did).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    pub tokens: Tokens,
}

/// One event of a run.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    RunStarted {
        run: String,
        agent: String,
        max_parallel: usize,
        max_iterations: u32,
        target: String,
        /// Tickets this run took back from a run of the same slot that ended abruptly.
        resumed: Vec<String>,
    },
    TicketClaimed {
        ticket: String,
        title: String,
        agent: String,
        branch: String,
        worktree: String,
        resumed: bool,
    },
    Phase {
        ticket: String,
        iteration: u32,
        phase: Phase,
    },
    IterationStarted {
        ticket: String,
        iteration: u32,
        max_iterations: u32,
        prompt_file: String,
    },
    IterationEnded {
        ticket: String,
        record: IterationRecord,
    },
    /// The agent claimed completion but the work did not verify; the reason goes into the
    /// next iteration's context.
    VerificationFailed {
        ticket: String,
        iteration: u32,
        reason: String,
    },
    /// Bringing the work onto the integration branch failed (a conflict, or red CI on the
    /// result); the ticket goes back for another iteration.
    MergeFailed {
        ticket: String,
        iteration: u32,
        reason: String,
    },
    /// The attempts of a voted ticket are in, and one was chosen.
    VoteDecided {
        ticket: String,
        /// Every attempt: `attempt`, `verified` (bool), `tree` (its code tree, when verified),
        /// `iterations`, `cost_usd`, `outcome`.
        attempts: Vec<VoteAttempt>,
        /// The attempt chosen (absent: none verified).
        #[serde(skip_serializing_if = "Option::is_none")]
        winner: Option<u32>,
        /// Why it won.
        why: String,
    },
    /// An auditor agent judged verified work.
    AuditEnded {
        ticket: String,
        iteration: u32,
        /// 1, or 2 when the first audit gave no verdict.
        attempt: u32,
        /// The auditor's profile.
        auditor: String,
        /// pass, fail or none.
        verdict: String,
        /// With fail: the amendment the next iteration reads.
        #[serde(skip_serializing_if = "Option::is_none")]
        amendment: Option<String>,
        ended: Ended,
        duration_ms: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        cost_usd: Option<f64>,
        log: String,
    },
    Merged {
        ticket: String,
        /// The commit on the integration branch (null when the branch had no code change).
        commit: Option<String>,
        /// The ticket's status after: done, or review.
        status: String,
        /// Containers that closed with it.
        closed: Vec<String>,
    },
    Escalated {
        ticket: String,
        reason: String,
    },
    /// A ticket this run stopped working on without finishing it.
    Stopped {
        ticket: String,
        reason: String,
        released: bool,
    },
    /// The last job of a phase-spec was merged and the integration checks ran on the
    /// integration branch; red: `job` is the new "Integration failure" job under the phase.
    IntegrationChecked {
        phase: String,
        green: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        job: Option<String>,
    },
    /// The run's budget is spent: no new iteration starts; running ones finish.
    BudgetReached {
        reason: String,
    },
    Warning {
        #[serde(skip_serializing_if = "Option::is_none")]
        ticket: Option<String>,
        message: String,
    },
    RunEnded {
        totals: Totals,
        interrupted: bool,
    },
}

impl Event {
    /// The ticket the event is about, if any.
    pub fn ticket(&self) -> Option<&str> {
        match self {
            Event::TicketClaimed { ticket, .. }
            | Event::Phase { ticket, .. }
            | Event::IterationStarted { ticket, .. }
            | Event::IterationEnded { ticket, .. }
            | Event::VerificationFailed { ticket, .. }
            | Event::MergeFailed { ticket, .. }
            | Event::Merged { ticket, .. }
            | Event::AuditEnded { ticket, .. }
            | Event::VoteDecided { ticket, .. }
            | Event::Escalated { ticket, .. }
            | Event::Stopped { ticket, .. } => Some(ticket),
            Event::Warning { ticket, .. } => ticket.as_deref(),
            Event::RunStarted { .. }
            | Event::RunEnded { .. }
            | Event::BudgetReached { .. }
            | Event::IntegrationChecked { .. } => None,
        }
    }
}

/// An event as one `--json` line: versioned and timestamped.
#[derive(Debug, Clone, Serialize)]
pub struct EventLine<'a> {
    pub schema_version: crate::app::report::SchemaVersion,
    /// When it happened (UTC, RFC 3339).
    pub at: String,
    /// Milliseconds since the run started (its own clock, never pinned).
    pub t_ms: u64,
    #[serde(flatten)]
    pub event: &'a Event,
}
