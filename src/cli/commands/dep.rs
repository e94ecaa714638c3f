use clap::Subcommand;
use serde_json::json;

use crate::cli::{output, Ctx, Out};

/// Add or remove a dependency edge.
#[derive(Subcommand)]
pub enum DepCommand {
    /// Make ID depend on DEP. Refused (naming the cycle) if DEP already depends on ID.
    Add(EdgeArgs),
    /// Remove the edge ID -> DEP (a no-op if there is none).
    Rm(EdgeArgs),
}

#[derive(clap::Args)]
pub struct EdgeArgs {
    /// The ticket that waits.
    pub id: String,
    /// The ticket it waits on.
    pub dep: String,
    /// Who is acting (recorded in the commit).
    #[arg(long)]
    pub agent: Option<String>,
}

pub fn run(cmd: DepCommand, ctx: &Ctx) -> Result<Out, crate::Error> {
    let ws = ctx.workspace()?;
    let (add, a) = match cmd {
        DepCommand::Add(a) => (true, a),
        DepCommand::Rm(a) => (false, a),
    };
    let agent = crate::app::agent_name(&ws.store, a.agent.as_deref()).ok();
    let w = if add {
        crate::app::dep::add(&ws, &a.id, &a.dep, agent.as_deref())?
    } else {
        crate::app::dep::rm(&ws, &a.id, &a.dep, agent.as_deref())?
    };
    let t = &w.value;
    let mut j = output::ticket_json(t);
    j["changed"] = json!(w.commit.is_some());
    j["commit"] = json!(w.commit.map(|x| x.to_string()));
    let text = match (add, w.commit.is_some()) {
        (true, true) => format!("{} now depends on {}", t.id, a.dep),
        (true, false) => format!("{} already depends on {}", t.id, a.dep),
        (false, true) => format!("{} no longer depends on {}", t.id, a.dep),
        (false, false) => format!("{} did not depend on {}", t.id, a.dep),
    };
    Ok(Out::new(text, j).notes(output::warning_notes(&w.warnings)))
}
