use std::path::PathBuf;

use crate::app::plan::{PlanExportReport, PlanImportNode, PlanImportReport, PlanWrittenReport};
use crate::app::report::SchemaVersion;
use crate::cli::{output, Ctx, Out};

/// Import a markdown plan as phase-specs, jobs and tasks, or export the tree as one.
#[derive(clap::Subcommand)]
pub enum PlanCommand {
    Import(ImportArgs),
    Export(ExportArgs),
}

/// Create a phase-spec → job → task tree in one commit from a markdown plan.
///
/// One file: `## Heading` starts a phase-spec, `### Heading` a job of it, each top-level
/// `- [ ] item` in a job is a task (not those under an `Acceptance Criteria` heading). Lines
/// `Depends on: <title>, …`, `Files: a, b/**`, `Artifacts: …`, `Priority: 1` and
/// `Gate: approval` in a phase or job set those fields; `Depends on` names a phase-spec or
/// job by title (or by the part of its title before `:`) or an existing ticket ID.
///
/// A folder: `<DIR>/phase-specs/*.md` are the phase-specs and
/// `<DIR>/phase-implementation/<phase>/<job>.md` the jobs (DIR is plans/<feature>).
///
/// A spec-kit tasks.md (`- [ ] T001 [P] [US1] …` under `## Phase N` headings): each phase a
/// phase-spec after the one before, each task a job in spec-kit's order ([P] tasks together).
///
/// Every line of the input ends up verbatim in some ticket's body; `wt plan export` puts
/// them back together. Importing the same plan again changes nothing; an edited one updates
/// the tickets of what changed and adds the new nodes, in one commit. --dry-run shows the
/// tree and commits nothing.
#[derive(clap::Args)]
pub struct ImportArgs {
    /// The plan: a markdown file or a plans/<feature> folder.
    pub path: String,
    /// Show the tree that would be created; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub agent: super::shared::AgentArg,
}

/// Write the ticket tree as one markdown plan (stdout, or --out FILE).
///
/// Imported tickets give back their stored text, task items in place with their checkboxes
/// following the tasks' status, so an import followed by an export returns the input byte
/// for byte. Tickets made with `wt new` are written as a heading and their Description.
#[derive(clap::Args)]
pub struct ExportArgs {
    /// Write the plan to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

pub fn run(cmd: PlanCommand, ctx: &Ctx) -> Result<Out, crate::Error> {
    match cmd {
        PlanCommand::Import(a) => import(a, ctx),
        PlanCommand::Export(a) => export(a, ctx),
    }
}

/// The plan's tree, one node a line, with the new IDs once imported.
fn tree_text(nodes: &[PlanImportNode]) -> String {
    fn walk(nodes: &[PlanImportNode], parent: Option<usize>, depth: usize, s: &mut String) {
        for (i, n) in nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.node.parent == parent)
        {
            let id = n.id.as_ref().map(|id| format!("{id} ")).unwrap_or_default();
            let n = &n.node;
            let mut extra = Vec::new();
            if n.gate {
                extra.push("gate: approval".to_string());
            }
            if n.done {
                extra.push("done".to_string());
            }
            if let Some(pr) = n.priority {
                extra.push(format!("P{pr}"));
            }
            if !n.depends_on.is_empty() {
                let names: Vec<&str> = n.depends_on.iter().map(|(d, _)| d.as_str()).collect();
                extra.push(format!("depends on {}", names.join(", ")));
            }
            if !n.files.is_empty() {
                extra.push(format!("files {}", n.files.join(", ")));
            }
            s.push_str(&format!(
                "{}{} {id}{}  ({}:{}){}\n",
                "  ".repeat(depth),
                n.kind,
                n.title,
                n.source,
                n.line,
                if extra.is_empty() {
                    String::new()
                } else {
                    format!("  [{}]", extra.join("; "))
                }
            ));
            walk(nodes, Some(i), depth + 1, s);
        }
    }
    let mut s = String::new();
    walk(nodes, None, 0, &mut s);
    s
}

fn import(a: ImportArgs, ctx: &Ctx) -> Result<Out, crate::Error> {
    let path = ctx.cwd.join(&a.path);
    let ws = ctx.workspace()?;
    let (report, warnings) = if a.dry_run {
        (
            crate::app::plan::import_dry_run(&ws, &path, &a.path)?,
            Vec::new(),
        )
    } else {
        let agent = a.agent.name_if_known(&ws);
        let w = crate::app::plan::import(&ws, &path, &a.path, agent.as_deref())?;
        let warnings = output::warning_notes(&w.warnings);
        (PlanImportReport::imported(w), warnings)
    };
    let ignored = ignored_notes(&report.ignored);
    let source = a.path;
    Ok(Out::new(report, move |r| render_import(r, &source))
        .notes(warnings)
        .notes(ignored))
}

/// `source`: the plan's path as the user gave it.
fn render_import(r: &PlanImportReport, source: &str) -> String {
    let verb = if r.dry_run {
        "would import"
    } else {
        "imported"
    };
    let mut text = format!("{verb} {} from {source}", r.summary());
    if !r.dry_run && (r.updated > 0 || r.unchanged > 0) {
        text.push_str(&format!(
            " ({} new, {} updated, {} unchanged{})",
            r.created,
            r.updated,
            r.unchanged,
            if r.commit.is_none() {
                ": nothing to commit"
            } else {
                ""
            }
        ));
    }
    text.push_str(":\n");
    text.push_str(&tree_text(&r.nodes));
    for l in output::reopened_lines_of(&r.reopened) {
        text.push_str(&l);
        text.push('\n');
    }
    text
}

fn ignored_notes(ignored: &[String]) -> Vec<String> {
    ignored
        .iter()
        .map(|f| format!("note: {f} is not part of the plan layout and was not imported"))
        .collect()
}

fn export(a: ExportArgs, ctx: &Ctx) -> Result<Out, crate::Error> {
    let r = crate::app::plan::export_plan(&ctx.workspace()?)?;
    match a.out {
        Some(p) => {
            let p = ctx.cwd.join(p);
            std::fs::write(&p, &r.plan)?;
            let written = PlanWrittenReport {
                schema_version: SchemaVersion,
                path: p.display().to_string(),
                bytes: r.plan.len(),
            };
            Ok(Out::new(written, |w| {
                format!(
                    "wrote {} ({})",
                    w.path,
                    crate::model::plural(w.bytes, "byte")
                )
            }))
        }
        // The plan exactly (no added newline).
        None => Ok(Out::new(r, |r: &PlanExportReport| r.plan.clone()).exact()),
    }
}
