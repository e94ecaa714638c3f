use std::fmt::Write as _;

use crate::app::import::ImportReport;
use crate::app::import_from::{ForeignImportReport, ImportedTicket, Options};
use crate::cli::{output, Ctx, Out};
use crate::model::import_from::Tool;

/// Create many tickets in one commit from a JSON array, or import another tracker's items.
///
/// JSON: each object is {key, kind, title, status?, priority?, parent?: key, depends_on?:
/// [key], files?, artifacts?, labels?, body?, description?}. `parent` and `depends_on` name
/// keys in the file or existing ticket IDs. Prints the key -> ID map. `-` reads standard
/// input. Each ticket records its item as `source: json:<file name>:<key>`: importing the
/// same file again changes nothing, and a changed file updates the tickets of the items that
/// changed and adds the new ones, in one commit (`--source NAME` names the input instead of
/// its file name).
///
/// --from beads|backlog|taskmaster|tk PATH: read the tracker's own files under PATH
/// (`.beads/issues.jsonl`, `backlog/`, `.taskmaster/tasks/tasks.json`, `.tickets/`) and
/// make a ticket of each item, in one commit. Each ticket keeps the item's ID as an alias
/// (`wt show bd-a3f8`); importing the same source again changes only the tickets whose item
/// changed and adds the new ones. What did not carry over as it was is listed at the end.
/// See docs/importing.md.
#[derive(clap::Args)]
pub struct Args {
    /// The JSON file (or - for stdin); with --from, the tracker's folder or file.
    pub file: String,
    /// Read another tracker's files: beads, backlog (Backlog.md), taskmaster (Task Master)
    /// or tk (ticket).
    #[arg(long, value_name = "TRACKER", value_parser = parse_tool)]
    pub from: Option<Tool>,
    /// With --from: show what the import would change; commit nothing.
    #[arg(long, requires = "from")]
    pub dry_run: bool,
    /// JSON: the name the items' `source` is recorded under (default: the file's name,
    /// `stdin` for -). The same name finds the same tickets again.
    #[arg(long, value_name = "NAME", conflicts_with = "from")]
    pub source: Option<String>,
    #[command(flatten)]
    pub agent: super::shared::AgentArg,
}

fn parse_tool(s: &str) -> Result<Tool, String> {
    s.parse()
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    if let Some(tool) = args.from {
        return run_from(tool, args, ctx);
    }
    let text = super::read_input(ctx, &args.file)?;
    let items = crate::app::import::parse_items(&text, &args.file)?;
    let ws = ctx.workspace()?;
    let agent = args.agent.name_if_known(&ws);
    let name = args
        .source
        .clone()
        .unwrap_or_else(|| crate::app::import::source_name(&args.file));
    let w = crate::app::import::import(&ws, &items, &args.file, &name, agent.as_deref())?;
    Ok(Out::new(ImportReport::new(&w), render_text).notes(output::warning_notes(&w.warnings)))
}

fn render_text(r: &ImportReport) -> String {
    let mut s = if r.updated.is_empty() && r.unchanged == 0 {
        format!(
            "imported {}\n",
            crate::model::plural(r.created.len(), "ticket")
        )
    } else {
        format!(
            "imported {} new, {} updated, {} unchanged{}\n",
            r.created.len(),
            r.updated.len(),
            r.unchanged,
            if r.commit.is_none() {
                " (nothing to commit)"
            } else {
                ""
            }
        )
    };
    for (k, id) in &r.ids {
        s.push_str(&format!("  {k} -> {id}\n"));
    }
    for l in output::reopened_lines_of(&r.reopened) {
        s.push_str(&l);
        s.push('\n');
    }
    s
}

fn run_from(tool: Tool, args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let ws = ctx.workspace()?;
    let agent = args.agent.name_if_known(&ws);
    let opts = Options {
        tool,
        path: ctx.cwd.join(&args.file),
        display: args.file.clone(),
        dry_run: args.dry_run,
        agent,
    };
    let w = crate::app::import_from::import(&ws, &opts)?;
    let source = args.file;
    Ok(Out::new(w.value, move |r| render_from(r, &source))
        .notes(output::warning_notes(&w.warnings)))
}

/// How many tickets of each list the text shows (`--json` has them all).
const SHOWN: usize = 20;

fn render_from(r: &ForeignImportReport, source: &str) -> String {
    let verb = if r.dry_run {
        "would import"
    } else {
        "imported"
    };
    let mut s = format!(
        "{verb} {} items from {} ({}): {} new, {} updated, {} unchanged",
        r.items,
        r.from.display_name(),
        crate::model::import_from::text::line(source),
        r.created.len(),
        r.updated.len(),
        r.unchanged
    );
    match &r.commit {
        Some(c) => {
            let _ = writeln!(s, " (commit {})", &c[..c.len().min(10)]);
        }
        None if r.dry_run => s.push_str(" (dry run: nothing committed)\n"),
        None => s.push_str(" (nothing to commit)\n"),
    }
    let list = |s: &mut String, what: &str, ts: &[ImportedTicket]| {
        for t in ts.iter().take(SHOWN) {
            let _ = writeln!(
                s,
                "  {what:<7}  {:<10}  {:<12}  {:<11}  {}",
                t.id,
                t.source_id,
                t.status.as_str(),
                t.title
            );
        }
        if ts.len() > SHOWN {
            let _ = writeln!(
                s,
                "  … and {} more {what} (--json lists all)",
                ts.len() - SHOWN
            );
        }
    };
    list(&mut s, "new", &r.created);
    list(&mut s, "updated", &r.updated);
    if !r.moved.is_empty() {
        let _ = writeln!(
            s,
            "moved with their parent: {}",
            r.moved
                .iter()
                .take(SHOWN)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if !r.kept_in_body.is_empty() {
        let kept: Vec<String> = r
            .kept_in_body
            .iter()
            .map(|(k, n)| format!("{k} ({n})"))
            .collect();
        let _ = writeln!(
            s,
            "kept in the ticket body's Source section (no ticket field): {}",
            kept.join(", ")
        );
    }
    if !r.notes.is_empty() {
        let counts: Vec<String> = r
            .note_counts
            .iter()
            .map(|(k, n)| format!("{} {n}", k.as_str()))
            .collect();
        let _ = writeln!(
            s,
            "not carried over as it was: {} ({})",
            r.notes.len(),
            counts.join(", ")
        );
        for n in &r.notes {
            let _ = writeln!(s, "  {}: {}", n.key, n.message);
        }
    }
    s
}
