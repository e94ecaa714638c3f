//! `.work/config.yaml`: which branch holds the ticket state, and team settings.
//!
//! The file is read from the state branch's tip like every ticket. Unknown keys are kept by
//! the author and ignored here (later wt versions add sections), but `wt check` names them.

use indexmap::IndexMap;
use serde::Deserialize;

use crate::model::agent::AgentProfile;
use crate::model::ticket::{Kind, Problem};

/// Path of the config file in the repository.
pub const CONFIG_PATH: &str = ".work/config.yaml";
/// Folder of the team-editable ticket templates.
pub const TEMPLATES_DIR: &str = ".work/templates";
/// Root folder of all wt state.
pub const WORK_DIR: &str = ".work";

/// Top-level keys wt knows in config.yaml.
pub const KNOWN_KEYS: &[&str] = &[
    "version",
    "branch",
    "ready",
    "review",
    "max_attempts",
    "gates",
    "context",
    "ci",
    "claims",
    "sync",
    "agents",
    "run",
];

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Format version of this file.
    pub version: u32,
    /// The branch whose tip holds the ticket state.
    pub branch: Option<String>,
    pub ready: ReadyConfig,
    /// `wt done` on a job moves it to `review`; an auditor then runs `wt pass` or `wt fail`.
    pub review: bool,
    /// Failed audits after which a ticket is `escalated` to a human (0 = never).
    pub max_attempts: u32,
    pub gates: GatesConfig,
    pub context: ContextConfig,
    /// CI checks, name → shell command, run in the order written (see [`crate::app::ci`]).
    /// `ci:` with nothing under it means no checks.
    #[serde(deserialize_with = "null_as_empty")]
    pub ci: IndexMap<String, String>,
    /// Claim leases (see [`ClaimsConfig`]).
    pub claims: ClaimsConfig,
    /// Exchanging the state branch with a git remote (see [`SyncConfig`]).
    pub sync: SyncConfig,
    /// Agent profiles for `wt run`, by name (see [`crate::model::agent`]); the built-in
    /// profiles need no entry here.
    #[serde(deserialize_with = "null_as_empty_map")]
    pub agents: IndexMap<String, AgentProfile>,
    /// The executor's settings (see [`RunConfig`]).
    pub run: RunConfig,
}

/// How `wt run` brings a verified ticket's branch onto the integration branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MergeMode {
    /// One commit on the integration branch's tip with the branch's changes (the default).
    #[default]
    Squash,
    /// A merge commit with the ticket branch as second parent.
    Merge,
}

/// `run:` in config.yaml: the executor (`wt run`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct RunConfig {
    /// The agent profile (a name under `agents:` or a built-in); `--agent` overrides.
    pub agent: Option<String>,
    /// The auditor's profile (with `review: true`): a different profile or model from the
    /// implementer's; `--auditor` overrides.
    pub auditor: Option<String>,
    /// Tickets worked at once.
    pub max_parallel: usize,
    /// Iterations of one ticket before it is escalated.
    pub max_iterations: u32,
    /// The completion signal: the last line of the agent's final text.
    pub complete_signal: String,
    /// The integration branch (default: the state branch).
    pub target: Option<String>,
    /// squash (default) or merge.
    pub merge: MergeMode,
    /// Where ticket worktrees go (default: `<git common dir>/wt/worktrees`); relative paths
    /// are taken from the repository root.
    pub worktrees: Option<String>,
    /// Seconds between looks for new work with `--watch`.
    pub poll_seconds: u64,
    /// The run's budget: when spent, no new iteration starts.
    pub budget: Budget,
    /// Which tickets are attempted several times independently, the attempts voting.
    pub vote: VoteConfig,
    /// Integration checks (name → shell command), run on the integration branch when the
    /// last job of a phase-spec is merged; empty: the `ci` checks.
    #[serde(deserialize_with = "null_as_empty")]
    pub integration: IndexMap<String, String>,
}

/// `run.vote`: tickets with one of these labels or kinds are attempted `voters` times
/// independently (a ticket's own `vote: N` field wins).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct VoteConfig {
    pub voters: u32,
    pub labels: Vec<String>,
    pub kinds: Vec<Kind>,
}

impl Default for VoteConfig {
    fn default() -> Self {
        VoteConfig {
            voters: 3,
            labels: Vec::new(),
            kinds: Vec::new(),
        }
    }
}

/// `run.budget`: limits on a whole `wt run` (any may be absent).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Budget {
    /// Dollars the agents reported (or that were estimated from a price table).
    pub usd: Option<f64>,
    /// Tokens (input, output and cache).
    pub tokens: Option<u64>,
    /// Wall-clock minutes of the run.
    pub minutes: Option<f64>,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            agent: None,
            auditor: None,
            max_parallel: 3,
            max_iterations: 10,
            complete_signal: "<complete/>".to_string(),
            target: None,
            merge: MergeMode::Squash,
            worktrees: None,
            poll_seconds: 10,
            budget: Budget::default(),
            integration: IndexMap::new(),
            vote: VoteConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ClaimsConfig {
    /// A claim's lease in minutes: a claim not renewed by `wt heartbeat` within this time is
    /// stale and may be taken over. 0 = claims never expire.
    pub lease_minutes: u32,
    /// Let `wt claim --next` take over stale claims (in scheduling order with ready tickets).
    pub steal_stale_on_next: bool,
}

impl Default for ClaimsConfig {
    fn default() -> Self {
        ClaimsConfig {
            lease_minutes: 30,
            steal_stale_on_next: false,
        }
    }
}

/// How claims are published to other clones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SyncMode {
    /// Only `wt sync` (and `wt claim --remote`) talk to the remote.
    #[default]
    Manual,
    /// Every claim is won only once the remote accepted it; heartbeat, release and done are
    /// published too.
    Claim,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SyncConfig {
    /// The git remote `wt sync` exchanges the state branch with.
    pub remote: String,
    pub mode: SyncMode,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            remote: "origin".into(),
            mode: SyncMode::Manual,
        }
    }
}

/// Human gates.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct GatesConfig {
    /// Kinds created with `gate: approval` (by `wt new`, `wt import`, `wt plan import`).
    pub approval: Vec<Kind>,
    /// Who may `wt approve` (names as wt knows agents: `--agent`, `WT_AGENT`, git
    /// `user.name`). Empty: anyone.
    pub approvers: Vec<String>,
}

/// `wt context` bundles.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ContextConfig {
    /// Default budget of a bundle, in estimated tokens (UTF-8 bytes / 4).
    #[serde(alias = "max_tokens")]
    pub max_tokens_per_task: usize,
    /// How many of the latest progress entries a bundle includes.
    pub progress_history: usize,
}

impl Default for ContextConfig {
    fn default() -> Self {
        ContextConfig {
            max_tokens_per_task: 8000,
            progress_history: 10,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ReadyConfig {
    /// Kind `wt ready` and `wt claim --next` look at when not told.
    pub default_kind: Kind,
}

impl Default for ReadyConfig {
    fn default() -> Self {
        ReadyConfig {
            default_kind: Kind::Job,
        }
    }
}

/// Read a map of profiles that may be written as `agents:` with nothing under it.
fn null_as_empty_map<'de, D>(d: D) -> Result<IndexMap<String, AgentProfile>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Ok(Option::<IndexMap<String, AgentProfile>>::deserialize(d)?.unwrap_or_default())
}

/// Read a map that may be written as `key:` with nothing under it (null → empty).
fn null_as_empty<'de, D>(d: D) -> Result<IndexMap<String, String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Ok(Option::<IndexMap<String, String>>::deserialize(d)?.unwrap_or_default())
}

impl Default for Config {
    fn default() -> Self {
        Config {
            version: 1,
            branch: None,
            ready: ReadyConfig::default(),
            review: true,
            max_attempts: 10,
            gates: GatesConfig::default(),
            context: ContextConfig::default(),
            ci: IndexMap::new(),
            claims: ClaimsConfig::default(),
            sync: SyncConfig::default(),
            agents: IndexMap::new(),
            run: RunConfig::default(),
        }
    }
}

impl Config {
    /// Does finishing a ticket of `kind` send it to an auditor (`review: true`, jobs only)?
    pub fn reviews(&self, kind: Kind) -> bool {
        self.review && kind == Kind::Job
    }

    /// Parse config text; errors name the line and column.
    pub fn parse(text: &str) -> Result<Config, Problem> {
        // One command reads the same config several times (finding the state branch, the
        // sync mode, the snapshot): parse each text once per process.
        static MEMO: std::sync::Mutex<Vec<(String, Result<Config, Problem>)>> =
            std::sync::Mutex::new(Vec::new());
        if let Ok(memo) = MEMO.lock() {
            if let Some((_, r)) = memo.iter().find(|(t, _)| t == text) {
                return r.clone();
            }
        }
        let r = Self::parse_uncached(text);
        if let Ok(mut memo) = MEMO.lock() {
            if memo.len() < 8 {
                memo.push((text.to_string(), r.clone()));
            }
        }
        r
    }

    fn parse_uncached(text: &str) -> Result<Config, Problem> {
        if text.trim().is_empty() {
            return Ok(Config::default());
        }
        serde_saphyr::from_str(text).map_err(|e| {
            let (line, col) = e
                .location()
                .map(|l| (l.line() as usize, Some(l.column() as usize)))
                .unwrap_or((1, None));
            let msg = e.to_string();
            Problem {
                path: CONFIG_PATH.to_string(),
                line,
                column: col,
                message: format!(
                    "invalid config: {}",
                    msg.lines().next().unwrap_or("invalid YAML")
                ),
                hint: Some("compare with the documented defaults in docs/configuration.md".into()),
            }
        })
    }

    /// The documented default config file `wt init` writes.
    pub fn default_text(branch: &str) -> String {
        format!(
            "# wt configuration. Lives on the state branch; edit and commit like any file.\n\
             # Format version of this file.\n\
             version: 1\n\
             \n\
             # The branch whose tip holds the ticket state. Every wt read comes from its tip and\n\
             # every wt write is one commit on it, whatever branch or worktree you run wt from.\n\
             branch: {branch}\n\
             \n\
             ready:\n\
             \x20 # Kind that `wt ready` and `wt claim --next` consider when no --kind is given\n\
             \x20 # (phase-spec, job or task).\n\
             \x20 default_kind: job\n\
             \n\
             # Audit loop: `wt done` on a job moves it to `review`; a different agent then runs\n\
             # `wt pass` or `wt fail` (which writes an amendment and makes the job ready again).\n\
             review: true\n\
             # Failed audits after which a job is `escalated` to a human (`wt reopen`); 0 = never.\n\
             max_attempts: 10\n\
             \n\
             gates:\n\
             \x20 # Kinds created with `gate: approval`: nothing under or depending on such a\n\
             \x20 # ticket is ready until a human runs `wt approve <ID>`. E.g. [phase-spec].\n\
             \x20 approval: []\n\
             \x20 # Who may run `wt approve` (as --agent, WT_AGENT or git user.name name them),\n\
             \x20 # e.g. [alice, bob]. Empty: anyone.\n\
             \x20 approvers: []\n\
             \n\
             context:\n\
             \x20 # Budget of `wt context` bundles in estimated tokens (UTF-8 bytes / 4).\n\
             \x20 max_tokens_per_task: 8000\n\
             \x20 # Latest progress entries a bundle includes.\n\
             \x20 progress_history: 10\n\
             \n\
             claims:\n\
             \x20 # Minutes a claim lasts unless `wt heartbeat` renews it; then it is stale and\n\
             \x20 # `wt claim ID --steal-stale` may take it over. 0 = claims never expire.\n\
             \x20 lease_minutes: 30\n\
             \x20 # Let `wt claim --next` take over stale claims too.\n\
             \x20 steal_stale_on_next: false\n\
             \n\
             sync:\n\
             \x20 # The git remote `wt sync` exchanges this branch with.\n\
             \x20 remote: origin\n\
             \x20 # manual: only `wt sync` and `wt claim --remote` talk to it. claim: a claim is\n\
             \x20 # won only once the remote accepted it (heartbeat/release/done are pushed too).\n\
             \x20 mode: manual\n"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_checks_keep_the_order_they_are_written_in() {
        let c = Config::parse("ci:\n  zeta: z\n  alpha: a\n  mid: m\n").expect("parses");
        let names: Vec<&str> = c.ci.keys().map(String::as_str).collect();
        assert_eq!(names, ["zeta", "alpha", "mid"]);
        assert_eq!(c.ci["alpha"], "a");
    }

    #[test]
    fn empty_or_absent_ci_means_no_checks() {
        assert!(Config::parse("ci:\n").expect("parses").ci.is_empty());
        assert!(Config::parse("ci: {}\n").expect("parses").ci.is_empty());
        assert!(Config::parse("version: 1\n").expect("parses").ci.is_empty());
    }

    #[test]
    fn duplicate_check_names_are_rejected_with_a_line() {
        let p = Config::parse("ci:\n  test: a\n  test: b\n").expect_err("duplicate");
        assert_eq!(p.line, 3, "{p}");
    }
}
