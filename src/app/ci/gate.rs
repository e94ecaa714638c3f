//! `wt done`'s CI gate: the checks must be green on the code of the commit `done` judges (a
//! green result for the identical tree is reused) before a ticket may be finished; `--no-ci`
//! needs a reason, which is recorded. See [`super::check_commit`] for where they run.
//!
//! The checks never run under the writer lock: `done` first validates the ticket as usual,
//! stops when the gate has no verdict yet ([`DoneGate::must_run`]), runs the checks with no
//! lock held ([`DoneGate::run`]), then writes — re-validating on the tip of that moment.

use super::{check_commit, checks_from, Check, CiRun, Reporter, RunIn, RunOptions};
use crate::error::{Error, Result};
use crate::store::Oid;
use crate::workspace::{Snapshot, Workspace};

pub struct DoneGate {
    skip_reason: Option<String>,
    ran: Option<CiRun>,
    pending: Option<(Vec<Check>, String)>,
    reporter: Reporter,
    commit: Oid,
    run_in: RunIn,
}

impl DoneGate {
    /// The gate for the code of `commit` (run where `run_in` says). `no_ci_reason`: skip the
    /// checks, recording why (must not be blank).
    pub fn new(
        no_ci_reason: Option<&str>,
        reporter: Reporter,
        commit: Oid,
        run_in: RunIn,
    ) -> Result<DoneGate> {
        if let Some(r) = no_ci_reason {
            if r.trim().is_empty() {
                return Err(Error::invalid("--no-ci needs a --reason"));
            }
        }
        Ok(DoneGate {
            skip_reason: no_ci_reason.map(|r| r.replace(['\n', '\r'], " ")),
            ran: None,
            pending: None,
            reporter,
            commit,
            run_in,
        })
    }

    /// Inside the write: true when the checks configured at `snap` have no verdict yet, so
    /// the write must stop and [`DoneGate::run`] them first.
    pub fn must_run(&mut self, snap: &Snapshot, ticket_id: &str) -> Result<bool> {
        if self.skip_reason.is_some() {
            return Ok(false);
        }
        let checks = checks_from(&snap.config)?;
        if let Some(run) = &self.ran {
            if run.record.ran(&checks) {
                return Ok(false);
            }
        }
        self.pending = Some((checks, ticket_id.to_string()));
        Ok(true)
    }

    /// Whether the last write stopped for the checks.
    pub fn wanted(&self) -> bool {
        self.pending.is_some()
    }

    /// Run the pending checks (or reuse a green result). Red refuses, naming the failing
    /// check with the tail of its output.
    pub fn run(&mut self, ws: &Workspace) -> Result<()> {
        let Some((checks, id)) = self.pending.take() else {
            return Ok(());
        };
        let run = check_commit(
            ws,
            self.commit,
            self.run_in,
            &checks,
            &RunOptions::default(),
            &self.reporter,
        )?;
        if run.interrupted {
            return Err(super::runner::interrupted_error());
        }
        if !run.green() {
            let failed = run.failed().map(|f| f.name.clone());
            let hint = match &failed {
                Some(name) => format!(
                    "fix `{name}` and retry; `wt ci` runs the checks alone (the commands are under ci: in .work/config.yaml)"
                ),
                None => "retry once the checks can run undisturbed".to_string(),
            };
            return Err(
                Error::refused(format!("{id} cannot be done: {}", run.red_summary()))
                    .with_hint(hint)
                    .with_detail(super::CiRefused { ci: &run }),
            );
        }
        if !run.reused && !run.record.checks.is_empty() {
            self.reporter.note(&format!(
                "CI green on tree {}",
                super::short_id(&run.record.tree)
            ));
        }
        self.ran = Some(run);
        Ok(())
    }

    /// Trailers for the done commit: which checks passed on which tree, or why none ran.
    pub fn trailers(&self) -> Vec<(String, String)> {
        match (&self.skip_reason, &self.ran) {
            (Some(reason), _) => vec![("Wt-No-CI".into(), reason.clone())],
            (None, Some(run)) => run.trailers(),
            (None, None) => Vec::new(),
        }
    }

    /// The reason the checks were skipped, if they were.
    pub fn skipped(&self) -> Option<&str> {
        self.skip_reason.as_deref()
    }
}
