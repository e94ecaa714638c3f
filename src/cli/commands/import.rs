use crate::app::import::ImportReport;
use crate::cli::{output, Ctx, Out};

/// Create many tickets in one commit from a JSON array.
///
/// Each object: {key, kind, title, status?, priority?, parent?: key, depends_on?: [key],
/// files?, artifacts?, labels?, body?, description?}. `parent` and `depends_on` name keys in
/// the file or existing ticket IDs. Prints the key -> ID map. `-` reads standard input.
#[derive(clap::Args)]
pub struct Args {
    /// The JSON file (or - for stdin).
    pub file: String,
    #[command(flatten)]
    pub agent: super::shared::AgentArg,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let text = super::read_input(ctx, &args.file)?;
    let items = crate::app::import::parse_items(&text, &args.file)?;
    let ws = ctx.workspace()?;
    let agent = args.agent.name_if_known(&ws);
    let w = crate::app::import::import(&ws, &items, &args.file, agent.as_deref())?;
    Ok(Out::new(ImportReport::new(&w), render_text).notes(output::warning_notes(&w.warnings)))
}

fn render_text(r: &ImportReport) -> String {
    let mut s = format!("imported {}\n", crate::model::plural(r.ids.len(), "ticket"));
    for (k, id) in &r.ids {
        s.push_str(&format!("  {k} -> {id}\n"));
    }
    s
}
