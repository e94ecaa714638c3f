//! `.work/config.yaml`: which branch holds the ticket state, and team settings.
//!
//! The file is read from the state branch's tip like every ticket. Unknown keys are kept by
//! the author and ignored here (later wt versions add sections), but `wt check` names them.

use serde::Deserialize;

use crate::ticket::{Kind, Problem};

/// Path of the config file in the repository.
pub const CONFIG_PATH: &str = ".work/config.yaml";
/// Folder of the team-editable ticket templates.
pub const TEMPLATES_DIR: &str = ".work/templates";
/// Root folder of all wt state.
pub const WORK_DIR: &str = ".work";

/// Top-level keys wt knows in config.yaml.
pub const KNOWN_KEYS: &[&str] = &["version", "branch", "ready"];

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Format version of this file.
    pub version: u32,
    /// The branch whose tip holds the ticket state.
    pub branch: Option<String>,
    pub ready: ReadyConfig,
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

impl Default for Config {
    fn default() -> Self {
        Config {
            version: 1,
            branch: None,
            ready: ReadyConfig::default(),
        }
    }
}

impl Config {
    /// Parse config text; errors name the line and column.
    pub fn parse(text: &str) -> Result<Config, Problem> {
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
                hint: Some("compare with the documented defaults in the README".into()),
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
             \x20 default_kind: job\n"
        )
    }
}
