use serde_json::json;

use crate::app::sync::{SyncOptions, SyncReport};
use crate::cli::{Ctx, Out};
use crate::model::config::SyncMode;
use crate::workspace::{Workspace, Written};

/// Exchange the state branch with a git remote.
///
/// Fetches the remote's branch, replays local wt commits the remote lacks on top of it (each
/// ticket merged field by field: changes to different fields both land; where both sides
/// changed the same field the remote's value is kept and the conflict is reported), then
/// pushes; the remote accepts only if its branch has not moved since the fetch, otherwise
/// wt fetches and replays again. Fetch and push use the `git` command and its transports.
/// The remote is `sync.remote` in .work/config.yaml (default origin).
#[derive(clap::Args)]
pub struct Args {
    /// The git remote (default sync.remote).
    #[arg(long)]
    pub remote: Option<String>,
}

pub fn report_text(r: &SyncReport) -> String {
    let mut s = String::new();
    let tip = r
        .tip
        .as_deref()
        .map(|t| &t[..10.min(t.len())])
        .unwrap_or("none");
    s.push_str(&format!(
        "synced {} with {}: pulled {} commit(s), replayed {} local commit(s){}, {}; tip {tip}\n",
        r.branch,
        r.remote,
        r.pulled,
        r.replayed,
        if r.dropped > 0 {
            format!(" ({} dropped: nothing of them survived)", r.dropped)
        } else {
            String::new()
        },
        if r.pushed {
            "pushed"
        } else {
            "nothing to push"
        },
    ));
    for c in &r.conflicts {
        s.push_str(&format!(
            "conflict: {} {}: kept remote's `{}`, dropped local `{}` (from \"{}\")\n",
            c.ticket.as_deref().unwrap_or(&c.path),
            c.field,
            c.theirs,
            c.ours,
            c.commit
        ));
    }
    s
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let ws = ctx.workspace()?;
    let r = crate::app::sync::sync(
        &ws,
        &SyncOptions {
            remote: args.remote,
        },
    )?;
    let text = report_text(&r);
    let notes = r
        .warnings
        .iter()
        .map(|w| format!("warning: {w}"))
        .collect::<Vec<_>>();
    Ok(Out::new(text, json!(r)).notes(notes))
}

/// `sync: {mode: claim}` is set: the sync options to publish with.
pub fn claim_mode(ws: &Workspace) -> Result<Option<SyncOptions>, crate::Error> {
    let (mode, remote) = crate::app::sync::configured(ws)?;
    Ok((mode == SyncMode::Claim).then_some(SyncOptions {
        remote: Some(remote),
    }))
}

/// Run a write; in claim mode publish it through the remote and check with `survived` that it
/// is still in effect there. Returns the write and notes for stderr.
pub fn maybe_published<T>(
    ws: &Workspace,
    write: impl FnOnce() -> Result<Written<T>, crate::Error>,
    survived: impl FnOnce(&Workspace, &T) -> Result<(), crate::Error>,
) -> Result<(Written<T>, Vec<String>), crate::Error> {
    let Some(so) = claim_mode(ws)? else {
        return Ok((write()?, Vec::new()));
    };
    let (w, rep) = crate::app::sync::published(ws, &so, write, |_| false)?;
    survived(ws, &w.value)?;
    let notes = rep
        .conflicts
        .iter()
        .map(|c| {
            format!(
                "warning: sync conflict on {}: {} (kept remote)",
                c.path, c.field
            )
        })
        .collect();
    Ok((w, notes))
}
