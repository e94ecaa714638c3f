use serde_json::json;

use crate::cli::{output, Ctx, Out};

/// Show the remaining work as waves of parallel work, and its critical path.
///
/// Wave 1 is what nothing remaining waits on; wave k+1 waits only on earlier waves. A ticket
/// waits on another when it or an ancestor depends on that ticket or one of its ancestors
/// (so a dependency on a phase-spec waits for all of its jobs). The critical path is the
/// longest chain of waiting tickets, counted in tickets (wt knows no durations); edges are
/// shown transitively reduced. Done tickets are left out; tickets on a cycle are "stuck".
#[derive(clap::Args)]
pub struct Args {
    /// job (default from config), task, phase-spec or any.
    #[arg(long, value_parser = super::parse_kind_or_any)]
    pub kind: Option<super::KindFilter>,
    /// text (default), mermaid (a flowchart) or dot (Graphviz).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Text,
    Mermaid,
    Dot,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let ws = ctx.workspace()?;
    let snap = ws.snapshot()?;
    let kind = args
        .kind
        .map(|k| k.0)
        .unwrap_or(Some(snap.config.ready.default_kind));
    let w = crate::schedule::waves::waves(&snap.tickets, kind);
    let text = match args.format {
        Format::Text => w.to_text(),
        Format::Mermaid => w.to_mermaid(),
        Format::Dot => w.to_dot(),
    };
    Ok(Out::new(text, json!(w)).notes(output::skipped_notes(&snap.problems)))
}
