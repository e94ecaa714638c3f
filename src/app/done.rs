//! `wt done`: finish a claimed ticket once its evidence holds.
//!
//! Evidence is the repository, not a report: every acceptance-criteria checkbox ticked and
//! every `artifacts` path present and non-empty in the working tree — and the CI checks green
//! on the working tree (see [`crate::app::ci::gate`]).

use std::path::Path;

use super::report::{Reported, TicketChange};
use crate::app::ci::gate::DoneGate;
use crate::app::ci::Reporter;
use crate::error::{Error, Result};
use crate::model::clock;
use crate::model::frontmatter::{self, Value};
use crate::model::markdown;
use crate::model::ticket::{Status, Ticket};
use crate::workspace::{quoted, Message, Outcome, Reads, Snapshot, Workspace, Written};

/// The acceptance-criteria heading whose checklist must be fully ticked.
pub use crate::model::ticket::CRITERIA_HEADING;

/// Options for `wt done`.
#[derive(Debug, Clone, Default)]
pub struct DoneOptions {
    /// Finish even if not the claimant / evidence is missing; the reason is recorded.
    pub force_reason: Option<String>,
    /// The claim token the agent carries (see [`crate::model::lease::verify_holder`]).
    pub token: Option<String>,
    /// Finish without running the CI checks; the reason is recorded.
    pub no_ci_reason: Option<String>,
}

/// Unchecked acceptance-criteria items of a ticket file, as `line: text` (file line numbers):
/// the items under every heading named Acceptance Criteria, so that a second such heading (in
/// a description, say) can never hide the real ones.
pub fn unchecked_criteria(text: &str) -> Vec<(usize, String)> {
    let Ok(split) = frontmatter::split(text) else {
        return Vec::new();
    };
    markdown::task_items_under_all(split.body, CRITERIA_HEADING)
        .into_iter()
        .filter(|i| !i.checked)
        .map(|i| (split.body_first_line + i.line - 1, i.text))
        .collect()
}

/// Artifacts that do not count as evidence in the work tree at `root`, each with why: missing
/// or empty, or not a path inside the work tree (absolute, `..`, through a symbolic link to
/// outside — such a path is never looked at).
pub fn missing_artifacts(t: &Ticket, root: &Path) -> Vec<(String, String)> {
    t.artifacts
        .iter()
        .filter_map(|a| {
            let why = match super::paths::file_inside(root, a) {
                Ok(Some(real)) => match std::fs::metadata(real) {
                    Ok(m) if m.len() > 0 => return None,
                    _ => format!("is missing or empty in {}", root.display()),
                },
                Ok(None) => format!("is missing or empty in {}", root.display()),
                Err(why) => format!("does not count: the path {why}"),
            };
            Some((a.clone(), why))
        })
        .collect()
}

/// Everything that stands between a ticket and done (empty when it may finish).
pub fn evidence_problems(ws: &Workspace, snap: &Snapshot, t: &Ticket) -> Result<Vec<String>> {
    let text = ws.read_text(snap, &t.path)?;
    let mut out: Vec<String> = unchecked_criteria(&text)
        .into_iter()
        .map(|(line, item)| format!("{}:{line}: unchecked acceptance criterion: {item}", t.path))
        .collect();
    match ws.workdir() {
        Some(root) => {
            for (a, why) in missing_artifacts(t, root) {
                out.push(format!("artifact {a} {why}"));
            }
        }
        None if !t.artifacts.is_empty() => {
            out.push("artifacts cannot be checked in a bare repository".into())
        }
        None => {}
    }
    Ok(out)
}

/// Append a `## Progress` entry to a ticket file's text.
fn with_progress(text: &str, entry: &str) -> Result<String> {
    let split = frontmatter::split(text).map_err(|e| Error::invalid(e.to_string()))?;
    let body = markdown::append_to_wt_section(split.body, crate::model::journal::PROGRESS, entry);
    Ok(format!("{}{}", &text[..split.body_offset], body))
}

pub fn done(
    ws: &Workspace,
    query: &str,
    agent: &str,
    opts: &DoneOptions,
) -> Result<Written<Ticket>> {
    let mut ci = DoneGate::new(opts.no_ci_reason.as_deref(), Reporter::stderr("wt done"))?;
    loop {
        let written = write_done(ws, query, agent, opts, &mut ci)?;
        if !ci.wanted() {
            return Ok(written);
        }
        // The ticket may be finished but the CI checks have no verdict yet: run them with no
        // lock held, then write again (re-validating on the tip of that moment).
        ci.run(ws)?;
    }
}

/// Finish a ticket as `wt done` does: published through the remote in claim mode (and
/// refused if the remote's ticket did not end up done).
pub fn done_as_configured(
    ws: &Workspace,
    query: &str,
    agent: &str,
    opts: &DoneOptions,
) -> Result<Reported<TicketChange>> {
    let (w, sync_warnings) =
        super::sync::maybe_published(ws, || done(ws, query, agent, opts), super::sync::check_done)?;
    Ok(Reported::new(TicketChange::new(&w.value, w.commit))
        .warning(w.warnings)
        .warning(sync_warnings))
}

fn write_done(
    ws: &Workspace,
    query: &str,
    agent: &str,
    opts: &DoneOptions,
    ci: &mut DoneGate,
) -> Result<Written<Ticket>> {
    ws.write(Reads::Ticket(query), |snap| {
        let t = snap.resolve(query)?;
        if t.status == Status::Done {
            return Ok(Outcome::NoOp(t.clone()));
        }
        if t.status == Status::Review {
            return Err(Error::refused(format!("{} is in review", t.id))
                .with_hint("the auditor finishes it: `wt pass` or `wt fail`"));
        }
        let forced = opts.force_reason.as_deref();
        if let Some(r) = forced {
            if r.trim().is_empty() {
                return Err(Error::invalid("--force needs a --reason"));
            }
        }
        if forced.is_none() {
            crate::model::lease::verify_holder(t, agent, opts.token.as_deref(), "finish").map_err(
                |e| {
                    let hint = e.hint.clone().unwrap_or_default();
                    e.with_hint(format!(
                        "{hint} (--force --reason TEXT overrides; the reason is recorded)"
                    ))
                },
            )?;
        }
        let problems = evidence_problems(ws, snap, t)?;
        if !problems.is_empty() && forced.is_none() {
            return Err(Error::refused(format!(
                "{} cannot be done yet:\n  {}",
                t.id,
                problems.join("\n  ")
            ))
            .with_hint("tick the criteria and produce the artifacts, then retry"));
        }
        if ci.must_run(snap, &t.id)? {
            return Ok(Outcome::NoOp(t.clone()));
        }
        let now = clock::timestamp();
        // With `review: true` a job goes to an auditor instead of straight to done.
        let status = super::review::status_after_done(&snap.config, t);
        let mut fields = vec![
            ("status", Value::Str(status.as_str().into())),
            ("claimed_by", Value::Null),
            ("claimed_at", Value::Null),
            ("updated", Value::Str(now.clone())),
        ];
        let for_review = if status == Status::Review {
            fields.push(("implemented_by", Value::Str(agent.to_string())));
            " for review"
        } else {
            ""
        };
        let mut text = super::set_fields(&ws.read_text(snap, &t.path)?, &fields)?;
        text = crate::model::lease::clear_lease_fields(&text)?;
        let mut message =
            Message::new("done", format!("{} {}{for_review}", t.id, quoted(&t.title)))
                .ticket(&t.id)
                .agent(Some(agent))
                .trailer("Wt-Status", status.as_str());
        if let Some(reason) = forced {
            message = message.trailer("Wt-Forced", reason);
            if !problems.is_empty() {
                message.body = Some(format!("Forced past:\n- {}", problems.join("\n- ")));
            }
            let entry = format!(
                "- {now} {agent}: done by force: {}",
                reason.replace('\n', " ")
            );
            text = with_progress(&text, &entry)?;
        }
        for (k, v) in ci.trailers() {
            message = message.trailer(&k, v);
        }
        if let Some(reason) = ci.skipped() {
            text = with_progress(
                &text,
                &format!("- {now} {agent}: done without CI: {reason}"),
            )?;
        }
        let mut ticket = t.clone();
        ticket.status = status;
        if status == Status::Review {
            ticket.implemented_by = Some(agent.to_string());
        }
        crate::model::lease::clear_lease(&mut ticket);
        ticket.updated = Some(now);
        Ok(Outcome::Commit {
            edits: vec![crate::store::Edit::Write {
                path: t.path.clone(),
                content: text.into_bytes(),
            }],
            message,
            value: ticket,
        })
    })
}
