use serde_json::json;

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
    /// Who is acting (recorded in the commit).
    #[arg(long)]
    pub agent: Option<String>,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let text = if args.file == "-" {
        std::io::read_to_string(std::io::stdin())?
    } else {
        let p = ctx.cwd.join(&args.file);
        std::fs::read_to_string(&p)
            .map_err(|e| crate::Error::not_found(format!("cannot read {}: {e}", p.display())))?
    };
    let items = crate::app::import::parse_items(&text, &args.file)?;
    let ws = ctx.workspace()?;
    let agent = crate::app::agent_name(&ws.store, args.agent.as_deref()).ok();
    let w = crate::app::import::import(&ws, &items, &args.file, agent.as_deref())?;
    let mut s = format!("imported {} tickets\n", w.value.len());
    for (k, id) in &w.value {
        s.push_str(&format!("  {k} -> {id}\n"));
    }
    Ok(Out::new(s, json!(w.value)).notes(output::warning_notes(&w.warnings)))
}
