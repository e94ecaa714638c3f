use clap::Subcommand;

use crate::app::dep::DepReport;
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
    #[command(flatten)]
    pub agent: super::shared::AgentArg,
}

pub fn run(cmd: DepCommand, ctx: &Ctx) -> Result<Out, crate::Error> {
    let ws = ctx.workspace()?;
    let (add, a) = match cmd {
        DepCommand::Add(a) => (true, a),
        DepCommand::Rm(a) => (false, a),
    };
    let agent = a.agent.name_if_known(&ws);
    let w = if add {
        crate::app::dep::add(&ws, &a.id, &a.dep, agent.as_deref())?
    } else {
        crate::app::dep::rm(&ws, &a.id, &a.dep, agent.as_deref())?
    };
    let dep = a.dep;
    Ok(
        Out::new(DepReport::new(&w), move |r| render_text(r, add, &dep))
            .notes(output::warning_notes(&w.warnings)),
    )
}

/// `dep` as the user gave it.
fn render_text(r: &DepReport, add: bool, dep: &str) -> String {
    let id = &r.ticket.id;
    match (add, r.changed) {
        (true, true) => format!("{id} now depends on {dep}"),
        (true, false) => format!("{id} already depends on {dep}"),
        (false, true) => format!("{id} no longer depends on {dep}"),
        (false, false) => format!("{id} did not depend on {dep}"),
    }
}
