//! `wt init`: set a repository up for wt with one commit of `.work/config.yaml` and the
//! ticket templates on the branch that will hold the ticket state; propose CI checks from the
//! project type and install the pre-commit hook.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::app::ci::detect::{self, Detected};
use crate::app::hooks::{self, InstallReport};
use crate::error::{Error, Result};
use crate::model::config::{Config, CONFIG_PATH};
use crate::model::templates;
use crate::model::ticket::Kind;
use crate::store::{Edit, Store};
use crate::workspace::{Message, Outcome, Reads, Workspace};

#[derive(Debug, Clone, Default)]
pub struct InitOptions {
    /// The branch to hold the state (default: the branch checked out now).
    pub branch: Option<String>,
    /// Install the pre-commit hook, calling this wt (see [`crate::app::hooks`]).
    pub hook: Option<HookRequest>,
}

/// Install the pre-commit hook; `wt` is the binary it calls (None: `wt` on PATH).
#[derive(Debug, Clone, Default)]
pub struct HookRequest {
    pub wt: Option<PathBuf>,
}

/// `wt init`: what was set up.
#[derive(Debug, Clone, Serialize)]
pub struct InitReport {
    pub schema_version: crate::app::report::SchemaVersion,
    pub branch: String,
    pub commit: Option<String>,
    pub created: Vec<String>,
    pub already: bool,
    pub warnings: Vec<String>,
    /// The CI checks proposed from the project type (when the config was created).
    pub ci: Option<Detected>,
    /// The pre-commit hook installation, when asked for and possible.
    pub hook: Option<InstallReport>,
}

pub fn init(cwd: &Path, opts: &InitOptions) -> Result<InitReport> {
    let store = Store::discover(cwd)?;
    let branch = match &opts.branch {
        Some(b) => b.clone(),
        // Already set up (perhaps on another branch than the one checked out): that branch.
        None => match existing_state_branch(&store) {
            Some(b) => b,
            None => store.head_branch()?.ok_or_else(|| {
                Error::setup("HEAD is detached, so there is no branch to keep tickets on")
                    .with_hint("check out a branch (`git switch -c main`) or pass --branch NAME")
            })?,
        },
    };
    if !crate::store::branch_name_is_valid(&branch) {
        return Err(Error::invalid(format!(
            "`{branch}` is not a valid branch name"
        )));
    }
    let ws = Workspace {
        store,
        branch: branch.clone(),
        notice: None,
    };
    let detected = ws.workdir().and_then(detect::detect);
    let written = ws.write(Reads::All, |snap| {
        if snap.blobs.contains_key(CONFIG_PATH) {
            return Ok(Outcome::NoOp(Vec::new()));
        }
        let config = Config::default_text(&branch) + &detect::config_section(detected.as_ref());
        let mut edits = vec![Edit::Write {
            path: CONFIG_PATH.to_string(),
            content: config.into_bytes(),
        }];
        for k in Kind::ALL {
            let p = templates::path(k);
            if !snap.blobs.contains_key(&p) {
                edits.push(Edit::Write {
                    path: p,
                    content: templates::builtin(k).as_bytes().to_vec(),
                });
            }
        }
        let created: Vec<String> = edits.iter().map(|e| e.path().to_string()).collect();
        Ok(Outcome::Commit {
            edits,
            message: Message::new("init", format!("ticket state on branch {branch}")),
            value: created,
        })
    })?;
    ws.store.set_config_string("wt.branch", &branch)?;
    let mut warnings = written.warnings;
    let hook = match (&opts.hook, ws.workdir()) {
        (Some(req), Some(root)) => match hooks::install(root, req.wt.as_deref()) {
            Ok(r) => Some(r),
            Err(e) => {
                warnings.push(format!("pre-commit hook not installed: {}", e.message));
                None
            }
        },
        (Some(_), None) => {
            warnings.push("pre-commit hook not installed: no working tree".into());
            None
        }
        (None, _) => None,
    };
    let already = written.commit.is_none();
    Ok(InitReport {
        schema_version: crate::app::report::SchemaVersion,
        branch,
        already,
        commit: written.commit.map(|c| c.to_string()),
        created: written.value,
        warnings,
        ci: if already { None } else { detected },
        hook,
    })
}

/// The state branch wt already uses here, if it exists and holds a config file. Running
/// `wt init` again from a branch that carries `.work/` from the state branch (a feature
/// branch) must not move the state there.
fn existing_state_branch(store: &Store) -> Option<String> {
    let (branch, _) = crate::workspace::find_state_branch(store).ok()?;
    let tip = store.branch_tip(&branch).ok()??;
    store.blob_at(tip, CONFIG_PATH).ok()?.map(|_| branch)
}
