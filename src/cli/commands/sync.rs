use crate::app::report::SchemaVersion;
use crate::app::sync::{SyncCommandReport, SyncOptions, SyncReport};
use crate::cli::{output, Ctx, Out};

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
    let r = crate::app::sync::sync(
        &ctx.workspace()?,
        &SyncOptions {
            remote: args.remote,
        },
    )?;
    let notes = output::warning_notes(&r.warnings);
    let report = SyncCommandReport {
        schema_version: SchemaVersion,
        sync: r,
    };
    Ok(Out::new(report, |r| report_text(&r.sync)).notes(notes))
}
