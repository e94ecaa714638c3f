//! `wt plan import` and `wt plan export` (the format is described in [`crate::plan`]).

use std::path::Path;

use serde::Serialize;

use super::report::SchemaVersion;
use crate::error::{Error, Result};
use crate::model::frontmatter;
use crate::model::ticket::{Kind, Ticket};
use crate::plan::{self, Plan};
use crate::workspace::{Message, Snapshot, Workspace, Written};

/// Parse `path` and resolve its `Depends on:` names against the plan and the tickets at
/// `snap`; returns the plan and its import items.
pub fn prepare(
    snap: &Snapshot,
    path: &Path,
    display: &str,
) -> Result<(Plan, Vec<crate::app::import::Item>)> {
    if let Some(found) = speckit(path, display)? {
        return Ok(found);
    }
    let mut p = plan::parse_path(path, display)?;
    // Checklist items that become no ticket are named (they stay in the phase's text).
    for (phase, item) in plan::stray_items(&p) {
        p.ignored.push(format!(
            "{display}: `{}` in phase-spec \"{}\" (a checklist item outside every job: kept as text, not a task; put it under a `###` job)",
            crate::model::text::escape_line(&item),
            crate::model::text::escape_line(&phase)
        ));
    }
    let targets = plan::resolve(&p, &|name| snap.resolve(name).ok().map(|t| t.id.clone()))?;
    let mut items = plan::items(&p, &targets);
    // What a later import of the same plan finds each ticket by: the plan's name and the
    // node's path in it (see `plan::node_paths`).
    let paths = plan::node_paths(&p);
    let name = crate::app::import::source_name(display);
    for it in &mut items {
        let i: Option<usize> = it.key.strip_prefix('n').and_then(|n| n.parse().ok());
        if it.source.is_none() {
            it.source = i
                .and_then(|i| paths.get(i))
                .map(|path| format!("plan:{name}:{path}"));
        }
    }
    Ok((p, items))
}

/// A spec-kit `tasks.md` at `path` (see [`crate::plan::speckit`]): its plan and items, the
/// checklist lines outside every phase listed in `ignored`. None: not one.
fn speckit(path: &Path, display: &str) -> Result<Option<(Plan, Vec<crate::app::import::Item>)>> {
    if !path.is_file() {
        return Ok(None);
    }
    let bytes =
        std::fs::read(path).map_err(|e| Error::not_found(format!("cannot read {display}: {e}")))?;
    let Ok(text) = String::from_utf8(bytes) else {
        return Ok(None);
    };
    if !plan::speckit::detect(&text) {
        return Ok(None);
    }
    // The feature folder spec-kit keeps it in (`specs/001-photo-albums/tasks.md`).
    let feature = std::fs::canonicalize(path)
        .ok()
        .and_then(|p| {
            p.parent()
                .and_then(|d| d.file_name())
                .map(|n| n.to_string_lossy().into_owned())
        })
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| crate::app::import::source_name(display));
    let (mut p, items, skipped) = plan::speckit::parse(&text, display, &feature);
    if items.is_empty() {
        return Ok(None);
    }
    p.ignored.extend(skipped.into_iter().map(|s| {
        format!(
            "{display}:{}: `{}` (a checklist item outside every phase)",
            s.line,
            crate::model::text::escape_line(s.text.trim())
        )
    }));
    Ok(Some((p, items)))
}

/// `3 phase-specs, 8 jobs, 20 tasks`.
pub fn summary(p: &Plan) -> String {
    format!(
        "{}, {}, {}",
        crate::model::plural(p.count(Kind::PhaseSpec), "phase-spec"),
        crate::model::plural(p.count(Kind::Job), "job"),
        crate::model::plural(p.count(Kind::Task), "task")
    )
}

/// Import the plan at `path` in one commit; returns the plan and what the import made
/// (keys are `n<index>` in plan order). Nodes imported before (same plan name, same path in
/// it) are found again: unchanged ones are left alone, changed ones rewritten; when nothing
/// changed nothing is committed.
pub fn import(
    ws: &Workspace,
    path: &Path,
    source: &str,
    agent: Option<&str>,
) -> Result<Written<(Plan, crate::app::import::Imported)>> {
    let snap = ws.snapshot()?;
    let (p, items) = prepare(&snap, path, source)?;
    let fresh = format!("{} from {source}", summary(&p));
    let w = crate::app::import::import_with(ws, &items, &|c| {
        let subject = if c.updated == 0 && c.unchanged == 0 {
            fresh.clone()
        } else {
            c.subject(source)
        };
        Message::new("plan-import", subject).agent(agent)
    })?;
    Ok(Written {
        commit: w.commit,
        value: (p, w.value),
        warnings: w.warnings,
        retries: w.retries,
    })
}

/// The body of a ticket at `snap`.
pub fn body(ws: &Workspace, snap: &Snapshot, t: &Ticket) -> Result<String> {
    let text = ws.read_text(snap, &t.path)?;
    let split = frontmatter::split(&text)
        .map_err(|e| Error::invalid(format!("{}: {e}", t.path)).with_hint("run `wt check`"))?;
    Ok(split.body.to_string())
}

/// The tree at `snap` as one markdown plan (which `wt plan import` turns back into the same
/// tree; see [`crate::plan::export`]).
pub fn export(ws: &Workspace, snap: &Snapshot) -> Result<String> {
    let mut defaults = std::collections::HashMap::new();
    for kind in Kind::ALL {
        let template = crate::app::new::template_text(ws, snap, kind)?;
        let t = crate::model::templates::defaults(&template, kind)?;
        defaults.insert(
            kind,
            plan::export::Defaults {
                priority: t.priority,
                status: t.status,
                files: t.files,
                artifacts: t.artifacts,
                labels: t.labels,
                gate: t.gate.is_some() || snap.config.gates.approval.contains(&kind),
            },
        );
    }
    let custom = |t: &Ticket| -> Result<Vec<(String, String)>> {
        let text = ws.read_text(snap, &t.path)?;
        let fields = frontmatter::raw_fields(&text)
            .map_err(|e| Error::invalid(format!("{}: {e}", t.path)).with_hint("run `wt check`"))?;
        Ok(fields
            .into_iter()
            .filter(|(k, _)| !crate::model::ticket::KNOWN_FIELDS.contains(&k.as_str()))
            .collect())
    };
    plan::export::export(&snap.tickets, &|t| body(ws, snap, t), &custom, &|k| {
        defaults.get(&k).cloned().unwrap_or_default()
    })
}

/// `wt plan import`: the tree read from the plan, and the tickets made of it.
#[derive(Debug, Clone, Serialize)]
pub struct PlanImportReport {
    pub schema_version: SchemaVersion,
    /// Nothing was committed (`--dry-run`).
    pub dry_run: bool,
    /// Phase-specs, jobs and tasks in plan order; `parent` is an index into this list.
    pub nodes: Vec<PlanImportNode>,
    /// Files in a plan folder that are not part of the layout (not imported).
    pub ignored: Vec<String>,
    /// Nodes that became new tickets (null with `--dry-run`: see `nodes[].id`).
    pub created: usize,
    /// Nodes imported before whose ticket was rewritten because the node changed.
    pub updated: usize,
    /// Nodes imported before and unchanged: their tickets were left as they are.
    pub unchanged: usize,
    /// Done containers of the tree that reopened because a new ticket is open under them.
    pub reopened: Vec<crate::app::containers::ClosedView>,
    /// The commit on the state branch; null with `--dry-run` or when nothing changed.
    pub commit: Option<String>,
}

/// A node of the plan and the ticket made of it.
#[derive(Debug, Clone, Serialize)]
pub struct PlanImportNode {
    #[serde(flatten)]
    pub node: plan::Node,
    /// The new ticket's ID; null with `--dry-run`.
    pub id: Option<String>,
}

impl PlanImportReport {
    /// What importing `p` would make.
    pub fn dry_run(p: Plan) -> PlanImportReport {
        PlanImportReport {
            schema_version: SchemaVersion,
            dry_run: true,
            nodes: p
                .nodes
                .into_iter()
                .map(|node| PlanImportNode { node, id: None })
                .collect(),
            ignored: p.ignored,
            created: 0,
            updated: 0,
            unchanged: 0,
            reopened: Vec::new(),
            commit: None,
        }
    }

    /// What [`import`] made.
    pub fn imported(w: Written<(Plan, crate::app::import::Imported)>) -> PlanImportReport {
        let (p, imported) = w.value;
        let ids = imported.ids;
        PlanImportReport {
            schema_version: SchemaVersion,
            dry_run: false,
            nodes: p
                .nodes
                .into_iter()
                .enumerate()
                .map(|(i, node)| PlanImportNode {
                    node,
                    id: ids.get(&format!("n{i}")).cloned(),
                })
                .collect(),
            ignored: p.ignored,
            created: imported.created.len(),
            updated: imported.updated.len(),
            unchanged: imported.unchanged,
            reopened: imported
                .reopened
                .iter()
                .map(crate::app::containers::ClosedView::reopened)
                .collect(),
            commit: w.commit.map(|c| c.to_string()),
        }
    }

    /// `3 phase-specs, 8 jobs, 20 tasks`.
    pub fn summary(&self) -> String {
        let count = |k: Kind| {
            self.nodes
                .iter()
                .filter(|n| n.node.kind == k && !n.node.not_a_ticket)
                .count()
        };
        format!(
            "{}, {}, {}",
            crate::model::plural(count(Kind::PhaseSpec), "phase-spec"),
            crate::model::plural(count(Kind::Job), "job"),
            crate::model::plural(count(Kind::Task), "task")
        )
    }
}

/// What importing the plan at `path` would make, committing nothing.
pub fn import_dry_run(ws: &Workspace, path: &Path, source: &str) -> Result<PlanImportReport> {
    let snap = ws.snapshot()?;
    let (p, _) = prepare(&snap, path, source)?;
    Ok(PlanImportReport::dry_run(p))
}

/// `wt plan export`: the plan, as markdown.
#[derive(Debug, Clone, Serialize)]
pub struct PlanExportReport {
    pub schema_version: SchemaVersion,
    /// The whole plan.
    pub plan: String,
}

/// `wt plan export --out FILE`: where the plan was written.
#[derive(Debug, Clone, Serialize)]
pub struct PlanWrittenReport {
    pub schema_version: SchemaVersion,
    /// The file written.
    pub path: String,
    /// Its size in bytes.
    pub bytes: usize,
}

/// The ticket tree at the state branch's tip as one markdown plan.
pub fn export_plan(ws: &Workspace) -> Result<PlanExportReport> {
    let snap = ws.snapshot()?;
    Ok(PlanExportReport {
        schema_version: SchemaVersion,
        plan: export(ws, &snap)?,
    })
}
