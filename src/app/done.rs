//! `wt done`: finish a claimed ticket once its evidence holds.
//!
//! Evidence is committed work, not a report and not the working tree: `done` judges one
//! commit — `--rev`, default `HEAD` of the worktree it runs in. Every acceptance-criteria
//! checkbox must be ticked (`wt tick`), every `artifacts` path must be a non-empty file in
//! that commit's tree, and the CI checks must be green on its code (see
//! [`crate::app::ci::gate`]). Uncommitted and untracked changes do not count; `done` says how
//! many there are. The done commit names the commit judged (`Wt-Checked-Commit`).
//!
//! A container (a ticket with tickets under it) is refused while any of them is not done;
//! finishing the last open ticket under one closes it (see [`super::containers`]).

use super::containers::{self, Closed, Closing};
use super::report::{Reported, TicketChange};
use crate::app::ci::gate::DoneGate;
use crate::app::ci::{tree, Reporter, RunIn};
use crate::error::{Error, Result};
use crate::model::clock;
use crate::model::criteria;
use crate::model::frontmatter::{self, Value};
use crate::model::markdown;
use crate::model::ticket::{Status, Ticket};
use crate::store::{Oid, Store};
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
    /// The commit whose work is judged (a commit-ish); None: `HEAD`.
    pub rev: Option<String>,
    /// Print nothing about the CI checks (the caller reports, e.g. `wt run`).
    pub quiet: bool,
}

/// What `wt done` finished.
#[derive(Debug, Clone)]
pub struct Finished {
    /// The ticket after the commit (`done`, or `review`).
    pub ticket: Ticket,
    /// The containers above it that closed with it, nearest first.
    pub closed: Vec<Closed>,
    /// The commit whose work was judged.
    pub checked_commit: Oid,
    /// How many paths outside `.work/` differ between HEAD and the working tree (untracked
    /// files included): work that was not judged.
    pub uncommitted: usize,
}

/// The commit `done` judges and how the working tree relates to it.
#[derive(Debug, Clone, Copy)]
pub struct Judged {
    pub commit: Oid,
    /// Paths outside `.work/` that differ between HEAD and the working tree.
    pub uncommitted: usize,
    /// Where its CI checks run.
    pub run_in: RunIn,
}

/// Find the commit `rev` (default `HEAD`) names in the worktree of `ws`, and compare the
/// working tree with HEAD.
pub fn judged(ws: &Workspace, rev: Option<&str>) -> Result<Judged> {
    let store = &ws.store;
    let head = store.head_commit();
    // HEAD (the default) as the commit HEAD's ref names, when it is one (it was resolved
    // just now); else resolved like any other rev (a tag HEAD's ref names, say).
    let commit = match rev {
        None => head
            .filter(|&h| store.commit_tree(h).is_ok())
            .or_else(|| store.resolve_commit("HEAD")),
        Some(r) => store.resolve_commit(r),
    };
    let commit = commit.ok_or_else(|| match rev {
        Some(r) => Error::not_found(format!("no commit `{r}`"))
            .with_hint("--rev takes a commit, branch or tag (e.g. HEAD, HEAD~1, feature/x)"),
        None => Error::refused("HEAD has no commit: there is no committed work to judge")
            .with_hint("commit your work first; `wt done` judges the commit HEAD names"),
    })?;
    let code = tree::code_tree(store, store.commit_tree(commit)?)?;
    let Some(_) = ws.workdir() else {
        return Ok(Judged {
            commit,
            uncommitted: 0,
            run_in: RunIn::CleanCheckout,
        });
    };
    let head_code = match head {
        // The commit judged is HEAD's (the default): its code tree is known.
        Some(h) if h == commit => Some(code),
        Some(h) => Some(tree::code_tree(store, store.commit_tree(h)?)?),
        None => None,
    };
    let on_disk = tree::worktree_code_tree_given_head(store, head_code)?;
    let uncommitted = match head_code {
        Some(h) if h != on_disk => store.tree_changed_paths(h, on_disk, usize::MAX)?.len(),
        _ => 0,
    };
    let run_in = if head == Some(commit) && on_disk == code {
        RunIn::WorkingTree
    } else {
        RunIn::CleanCheckout
    };
    Ok(Judged {
        commit,
        uncommitted,
        run_in,
    })
}

/// Artifacts that are not a non-empty regular file in `commit`'s tree. A path that is not
/// repository-relative (absolute, `..`, into `.git`) never counts, and neither does a
/// symbolic link: nothing outside the repository is evidence.
pub fn missing_artifacts(store: &Store, t: &Ticket, commit: Oid) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for a in &t.artifacts {
        if crate::model::ticket::path_problem(a).is_some() {
            out.push(a.clone());
            continue;
        }
        let path = a.trim().trim_start_matches("./");
        let present = match store.blob_at(commit, path) {
            Ok(Some(blob)) => !store.read_blob(blob)?.is_empty(),
            _ => false,
        };
        if !present {
            out.push(a.clone());
        }
    }
    Ok(out)
}

/// What stands between a ticket and done, and the hint that says what to do.
struct Evidence {
    problems: Vec<String>,
    hints: Vec<String>,
}

fn evidence(ws: &Workspace, snap: &Snapshot, t: &Ticket, judged: &Judged) -> Result<Evidence> {
    let text = ws.read_text(snap, &t.path)?;
    let unticked = criteria::unticked(&text);
    let mut problems: Vec<String> = unticked
        .iter()
        .map(|c| {
            format!(
                "criterion {} is not ticked: {} ({}:{})",
                c.number, c.text, t.path, c.line
            )
        })
        .collect();
    let mut hints = Vec::new();
    if !unticked.is_empty() {
        let numbers: Vec<String> = unticked.iter().map(|c| c.number.to_string()).collect();
        hints.push(format!(
            "tick the criteria that hold: `wt tick {} {}`",
            t.id,
            numbers.join(" ")
        ));
    }
    let sha = judged.commit.to_string();
    let short = &sha[..sha.len().min(12)];
    let missing = missing_artifacts(&ws.store, t, judged.commit)?;
    for a in &missing {
        problems.push(format!(
            "artifact {a} is missing or empty in commit {short}"
        ));
    }
    if !missing.is_empty() {
        hints.push(format!(
            "commit the artifacts: done judges commit {short}, not the working tree"
        ));
    }
    Ok(Evidence { problems, hints })
}

/// Unchecked acceptance-criteria items of a ticket file, as `line: text` (file line numbers):
/// the items under every heading named Acceptance Criteria, so that a second such heading (in
/// a description, say) can never hide the real ones.
pub fn unchecked_criteria(text: &str) -> Vec<(usize, String)> {
    criteria::unticked(text)
        .into_iter()
        .map(|c| (c.line, c.text))
        .collect()
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
) -> Result<Written<Finished>> {
    let judged = judged(ws, opts.rev.as_deref())?;
    let mut ci = DoneGate::new(
        opts.no_ci_reason.as_deref(),
        if opts.quiet {
            Reporter::silent()
        } else {
            Reporter::stderr("wt done")
        },
        judged.commit,
        judged.run_in,
    )?;
    loop {
        let written = write_done(ws, query, agent, opts, &judged, &mut ci)?;
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
    let (w, sync_warnings) = super::sync::maybe_published(
        ws,
        || done(ws, query, agent, opts),
        |ws, f| super::sync::check_done(ws, &f.ticket),
    )?;
    let f = &w.value;
    let mut notes = Vec::new();
    if f.uncommitted > 0 && w.commit.is_some() {
        let sha = f.checked_commit.to_string();
        notes.push(format!(
            "{} not checked: done judged commit {} ({})",
            match f.uncommitted {
                1 => "1 uncommitted change was".to_string(),
                n => format!("{n} uncommitted changes were"),
            },
            &sha[..sha.len().min(12)],
            opts.rev.as_deref().unwrap_or("HEAD")
        ));
    }
    let mut report = TicketChange::new(&f.ticket, w.commit).closing(&f.closed);
    if w.commit.is_some() {
        report.checked_commit = Some(f.checked_commit.to_string());
    }
    Ok(Reported::new(report)
        .warning(notes)
        .warning(w.warnings.iter().cloned())
        .warning(sync_warnings))
}

fn write_done(
    ws: &Workspace,
    query: &str,
    agent: &str,
    opts: &DoneOptions,
    judged: &Judged,
    ci: &mut DoneGate,
) -> Result<Written<Finished>> {
    let unchanged = |t: &Ticket| Finished {
        ticket: t.clone(),
        closed: Vec::new(),
        checked_commit: judged.commit,
        uncommitted: judged.uncommitted,
    };
    ws.write(Reads::TicketAndAbove(query), |snap| {
        let t = snap.resolve(query)?;
        if t.status == Status::Done {
            return Ok(Outcome::NoOp(unchanged(t)));
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
        // Not even by force: a container is done only once everything under it is.
        containers::refuse_open_children(snap, t, "done")?;
        let Evidence { problems, hints } = evidence(ws, snap, t, judged)?;
        if !problems.is_empty() && forced.is_none() {
            return Err(Error::refused(format!(
                "{} cannot be done yet:\n  {}",
                t.id,
                problems.join("\n  ")
            ))
            .with_hint(format!("{}; then retry", hints.join("; "))));
        }
        if ci.must_run(snap, &t.id)? {
            return Ok(Outcome::NoOp(unchanged(t)));
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
                .trailer("Wt-Status", status.as_str())
                .trailer("Wt-Checked-Commit", judged.commit.to_string());
        if judged.uncommitted > 0 {
            message = message.trailer("Wt-Uncommitted-Not-Checked", judged.uncommitted.to_string());
        }
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
        ticket.updated = Some(now.clone());
        let closing: Closing = containers::close_finished(ws, snap, &ticket, agent, &now)?;
        let mut edits = vec![crate::store::Edit::Write {
            path: t.path.clone(),
            content: text.into_bytes(),
        }];
        edits.extend(closing.edits.iter().cloned());
        let message = closing.annotate(message);
        Ok(Outcome::Commit {
            edits,
            message,
            value: Finished {
                ticket,
                closed: closing.closed,
                checked_commit: judged.commit,
                uncommitted: judged.uncommitted,
            },
        })
    })
}
