use crate::app::new::NewSpec;
use crate::app::report::TicketChange;
use crate::cli::{output, Ctx, Out};
use crate::model::ticket::Kind;

/// Create a ticket from the team's template and print its ID.
///
/// The ticket and its dependency edges are written in one commit, so it is never briefly
/// ready before its dependencies are recorded. Under a done container (`--parent`), the done
/// containers above it reopen in the same commit (said on stderr).
#[derive(clap::Args)]
pub struct Args {
    /// phase-spec, job or task.
    pub kind: Kind,
    /// The title (also the file name's slug).
    pub title: String,
    /// Parent ticket: a phase-spec for a job, a job for a task.
    #[arg(long)]
    pub parent: Option<String>,
    /// A ticket this one depends on (repeatable).
    #[arg(long = "dep", value_name = "ID")]
    pub deps: Vec<String>,
    /// 0 (most urgent) to 4; default: the template's, else 2.
    #[arg(long, short = 'p')]
    pub priority: Option<u8>,
    /// A path the work is expected to touch (repeatable).
    #[arg(long = "file", value_name = "PATH")]
    pub files: Vec<String>,
    /// A path that must exist and be non-empty before `wt done` (repeatable).
    #[arg(long = "artifact", value_name = "PATH")]
    pub artifacts: Vec<String>,
    /// A label (repeatable).
    #[arg(long = "label", value_name = "LABEL")]
    pub labels: Vec<String>,
    /// Text for the Description section.
    #[arg(long, short = 'd')]
    pub description: Option<String>,
    #[command(flatten)]
    pub agent: super::shared::AgentArg,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let ws = ctx.workspace()?;
    let agent = args.agent.name_if_known(&ws);
    let spec = NewSpec {
        kind: Some(args.kind),
        title: args.title,
        parent: args.parent,
        depends_on: args.deps,
        priority: args.priority,
        files: (!args.files.is_empty()).then_some(args.files),
        artifacts: (!args.artifacts.is_empty()).then_some(args.artifacts),
        labels: (!args.labels.is_empty()).then_some(args.labels),
        status: None,
        body: None,
        description: args.description,
        order: None,
    };
    let w = crate::app::new::run(&ws, &spec, agent.as_deref())?;
    let mut notes = output::warning_notes(&w.warnings);
    // stdout stays the ID alone (`id=$(wt new …)`); what reopened goes to stderr.
    notes.extend(output::reopened_lines(&w.value.reopened));
    Ok(Out::new(
        TicketChange::new(&w.value.ticket, w.commit).reopening(&w.value),
        render_text,
    )
    .notes(notes))
}

fn render_text(r: &TicketChange) -> String {
    r.ticket.id.clone()
}
