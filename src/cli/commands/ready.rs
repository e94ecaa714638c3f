use crate::app::ready::{ReadyMode, ReadyOptions, ReadyReport};
use crate::cli::{output, Ctx, Out};

/// List tickets that can be started now, best first.
///
/// Ready = open, unclaimed, every dependency done (a dependency on a phase-spec or job counts
/// only when it and everything under it is done), no ancestor blocked, no unapproved gate on
/// it, an ancestor or a dependency. An unknown dependency blocks. Order: priority, then the
/// longest chain of work waiting on it, then age.
///
/// --review lists jobs waiting for an audit instead. --parallel N lists up to N ready tickets
/// that can run together: their `files` overlap neither each other nor any claimed ticket's
/// (glob-aware: `src/auth/**` overlaps `src/auth/login.rs`; see the README for the rules).
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub kind: super::shared::KindOrAny,
    /// At most this many.
    #[arg(long)]
    pub limit: Option<usize>,
    /// List tickets in review that no one holds (for auditors).
    #[arg(long, conflicts_with = "parallel")]
    pub review: bool,
    /// With --review: leave out tickets this agent implemented.
    #[arg(long, requires = "review")]
    pub agent: Option<String>,
    /// Up to N ready tickets whose files do not overlap each other or claimed tickets.
    #[arg(long, value_name = "N")]
    pub parallel: Option<usize>,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let opts = ReadyOptions {
        kind: args.kind.kind(),
        limit: args.limit,
        review: args.review,
        agent: args.agent,
        parallel: args.parallel,
    };
    // Rendered here, in the one format this run prints: the plain list is kept in that
    // form, so an agent asking again on the same tree gets the printed bytes back.
    let (rendered, notes) = if ctx.json {
        crate::app::ready::ready_as(&ctx.workspace()?, &opts, "json", |r| {
            (
                serde_json::to_string_pretty(&r.report).unwrap_or_else(|_| "null".into()),
                output::note_lines(&r.notes),
            )
        })?
    } else {
        crate::app::ready::ready_as(&ctx.workspace()?, &opts, "text", |r| {
            (render_text(&r.report), output::note_lines(&r.notes))
        })?
    };
    Ok(Out::printed(rendered).notes(notes))
}

fn render_text(r: &ReadyReport) -> String {
    let what = r.kind.map(|k| k.as_str()).unwrap_or("any kind");
    let mut text = if r.tickets.is_empty() {
        if r.mode == ReadyMode::Review {
            format!("nothing waits for review ({what})")
        } else {
            format!("nothing ready ({what})")
        }
    } else {
        output::ticket_lines(&r.tickets)
    };
    for s in &r.skipped {
        text.push_str(&format!(
            "  (left out {}: {} overlaps {} of {})\n",
            s.id, s.entries.0, s.entries.1, s.conflicts_with
        ));
    }
    text
}
