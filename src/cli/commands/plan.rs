use std::path::PathBuf;

use serde_json::json;

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
/// Every line of the input ends up verbatim in some ticket's body; `wt plan export` puts
/// them back together. --dry-run shows the tree and commits nothing.
#[derive(clap::Args)]
pub struct ImportArgs {
    /// The plan: a markdown file or a plans/<feature> folder.
    pub path: String,
    /// Show the tree that would be created; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Who is acting (recorded in the commit).
    #[arg(long)]
    pub agent: Option<String>,
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

fn tree_text(
    p: &crate::plan::Plan,
    ids: Option<&std::collections::BTreeMap<String, String>>,
) -> String {
    fn walk(
        p: &crate::plan::Plan,
        ids: Option<&std::collections::BTreeMap<String, String>>,
        parent: Option<usize>,
        depth: usize,
        s: &mut String,
    ) {
        for (i, n) in p
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.parent == parent)
        {
            let id = ids
                .and_then(|m| m.get(&format!("n{i}")))
                .map(|id| format!("{id} "))
                .unwrap_or_default();
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
            walk(p, ids, Some(i), depth + 1, s);
        }
    }
    let mut s = String::new();
    walk(p, ids, None, 0, &mut s);
    s
}

fn import(a: ImportArgs, ctx: &Ctx) -> Result<Out, crate::Error> {
    let path = ctx.cwd.join(&a.path);
    let ws = ctx.workspace()?;
    let notes: Vec<String> = Vec::new();
    if a.dry_run {
        let snap = ws.snapshot()?;
        let (p, _) = crate::app::plan::prepare(&snap, &path, &a.path)?;
        let mut text = format!(
            "would import {} from {}:\n",
            crate::app::plan::summary(&p),
            a.path
        );
        text.push_str(&tree_text(&p, None));
        let ignored = ignored_notes(&p);
        return Ok(Out::new(
            text,
            json!({"dry_run": true, "nodes": p.nodes, "ignored": p.ignored}),
        )
        .notes(notes.into_iter().chain(ignored)));
    }
    let agent = crate::app::agent_name(&ws.store, a.agent.as_deref()).ok();
    let w = crate::app::plan::import(&ws, &path, &a.path, agent.as_deref())?;
    let (p, ids) = &w.value;
    let mut text = format!(
        "imported {} from {}:\n",
        crate::app::plan::summary(p),
        a.path
    );
    text.push_str(&tree_text(p, Some(ids)));
    let nodes: Vec<serde_json::Value> = p
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let mut v = json!(n);
            v["id"] = json!(ids.get(&format!("n{i}")));
            v
        })
        .collect();
    let j = json!({
        "nodes": nodes,
        "ignored": p.ignored,
        "commit": w.commit.map(|c| c.to_string()),
    });
    Ok(Out::new(text, j)
        .notes(output::warning_notes(&w.warnings))
        .notes(ignored_notes(p)))
}

fn ignored_notes(p: &crate::plan::Plan) -> Vec<String> {
    p.ignored
        .iter()
        .map(|f| format!("note: {f} is not part of the plan layout and was not imported"))
        .collect()
}

fn export(a: ExportArgs, ctx: &Ctx) -> Result<Out, crate::Error> {
    let ws = ctx.workspace()?;
    let snap = ws.snapshot()?;
    let text = crate::app::plan::export(&ws, &snap)?;
    match a.out {
        Some(p) => {
            let p = ctx.cwd.join(p);
            std::fs::write(&p, &text)?;
            Ok(Out::new(
                format!("wrote {} ({} bytes)", p.display(), text.len()),
                json!({"path": p.display().to_string(), "bytes": text.len()}),
            ))
        }
        None => {
            // Print the plan exactly (no added newline); --json wraps it.
            if !ctx.json {
                use std::io::Write;
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
            }
            Ok(Out::new(String::new(), json!({"plan": text})))
        }
    }
}
