use crate::app::graph::GraphReport;
use crate::cli::{Ctx, Out};

/// Show the remaining work as waves of parallel work, and its critical path.
///
/// Wave 1 is what nothing remaining waits on; wave k+1 waits only on earlier waves. A ticket
/// waits on another when it or an ancestor depends on that ticket or one of its ancestors
/// (so a dependency on a phase-spec waits for all of its jobs). The critical path is the
/// longest chain of waiting tickets, counted in tickets (wt knows no durations); edges are
/// shown transitively reduced. Done tickets are left out; tickets on a cycle are "stuck".
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub kind: super::shared::KindOrAny,
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
    let r = crate::app::graph::graph(&ctx.workspace()?, args.kind.kind())?;
    let format = args.format;
    Ok(Out::reported(r, move |r| render_text(r, format)))
}

fn render_text(r: &GraphReport, format: Format) -> String {
    match format {
        Format::Text => r.waves.to_text(),
        Format::Mermaid => r.waves.to_mermaid(),
        Format::Dot => r.waves.to_dot(),
    }
}
